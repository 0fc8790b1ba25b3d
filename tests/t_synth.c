/*
 * t_synth.c: tests of core/sp_synth.c, the generated recall task: the
 * same seed gives the same examples, other seeds and splits give others,
 * every label is the first symbol, the rest is noise from a..h, keys and
 * noise are spread over their alphabets, and bad settings are refused.
 */
#include "sp_synth.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static sp_synth_spec spec_(size_t length, size_t classes, uint64_t seed)
{
	sp_synth_spec s;
	memset(&s, 0, sizeof(s));
	s.task = SP_SYNTH_RECALL;
	s.length = length;
	s.classes = classes;
	s.seed = seed;
	return s;
}

/* Same text and label for every example of two corpora. */
static int same_(const sp_corpus *a, const sp_corpus *b)
{
	if (sp_corpus_count(a) != sp_corpus_count(b))
		return 0;
	for (size_t i = 0; i < sp_corpus_count(a); i++) {
		size_t la, lb;
		const char *ta = sp_corpus_text(a, i, &la), *tb = sp_corpus_text(b, i, &lb);
		if (la != lb || memcmp(ta, tb, la) ||
		    strcmp(sp_corpus_label(a, i), sp_corpus_label(b, i)))
			return 0;
	}
	return 1;
}

static void test_determinism(sp_ctx *ctx)
{
	sp_synth_spec s = spec_(30, 4, 7), s2 = spec_(30, 4, 8);
	sp_corpus *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	ok(sp_synth_corpus(&a, ctx, &s, SP_SYNTH_TRAIN, 500) == SP_OK &&
		   sp_synth_corpus(&b, ctx, &s, SP_SYNTH_TRAIN, 500) == SP_OK &&
		   sp_synth_corpus(&c, ctx, &s2, SP_SYNTH_TRAIN, 500) == SP_OK &&
		   sp_synth_corpus(&d, ctx, &s, SP_SYNTH_DEV, 500) == SP_OK,
	   "four corpora of 500 generated");
	ok(sp_corpus_count(a) == 500 && sp_corpus_format(a) == SP_DATA_TSV,
	   "500 examples, read as tsv");
	ok(same_(a, b), "the same seed and split give the same examples");
	ok(!same_(a, c), "another seed gives other examples");
	ok(!same_(a, d), "the dev split differs from the training split");
	/* the random draws advance per example: the first 100 of 500 are the
	 * 100 of a corpus of 100 */
	{
		sp_corpus *e = NULL;
		int pre = sp_synth_corpus(&e, ctx, &s, SP_SYNTH_TRAIN, 100) == SP_OK;
		for (size_t i = 0; pre && i < 100; i++) {
			size_t l1, l2;
			const char *t1 = sp_corpus_text(a, i, &l1), *t2 = sp_corpus_text(e, i, &l2);
			pre = l1 == l2 && !memcmp(t1, t2, l1);
		}
		ok(pre, "example i does not depend on how many are generated");
		sp_corpus_free(e);
	}
	sp_corpus_free(a);
	sp_corpus_free(b);
	sp_corpus_free(c);
	sp_corpus_free(d);
}

static void test_labels(sp_ctx *ctx)
{
	sp_synth_spec s = spec_(50, 5, 42);
	sp_corpus *a = NULL;
	size_t keys[26] = {0}, noise[26] = {0}, bad_label = 0, bad_noise = 0, bad_len = 0;
	size_t n = 2000;
	int rc = sp_synth_corpus(&a, ctx, &s, SP_SYNTH_TEST, n);
	ok(rc == SP_OK, "2000 test examples generated");
	for (size_t i = 0; rc == SP_OK && i < n; i++) {
		size_t len;
		const char *t = sp_corpus_text(a, i, &len);
		const char *l = sp_corpus_label(a, i);
		bad_len += len != 50;
		if (strlen(l) != 1 || l[0] != t[0] || l[0] < 'A' || l[0] >= 'A' + 5)
			bad_label++;
		else
			keys[l[0] - 'A']++;
		for (size_t k = 1; k < len; k++) {
			if (t[k] < 'a' || t[k] >= 'a' + SP_SYNTH_NOISE)
				bad_noise++;
			else
				noise[t[k] - 'a']++;
		}
	}
	ok(bad_len == 0, "every text has T = 50 symbols (%zu do not)", bad_len);
	ok(bad_label == 0, "every label is the first symbol, a key A..E (%zu are not)", bad_label);
	ok(bad_noise == 0, "symbols 2..T are noise a..h (%zu are not)", bad_noise);
	{
		/* 2000 keys over 5: 400 each, sd 18; 98000 noise over 8 */
		int spread = 1;
		for (int k = 0; k < 5; k++)
			spread &= keys[k] > 300 && keys[k] < 500;
		for (int k = 0; k < SP_SYNTH_NOISE; k++)
			spread &= noise[k] > 11500 && noise[k] < 13000;
		ok(spread, "keys and noise are spread evenly (A: %zu, a: %zu)", keys[0], noise[0]);
	}
	sp_corpus_free(a);
	{
		char text[1], label[2];
		sp_synth_spec one = spec_(1, 2, 3);
		sp_synth_example(&one, SP_SYNTH_TRAIN, 0, text, label);
		ok((text[0] == 'A' || text[0] == 'B') && label[0] == text[0] && !label[1],
		   "T = 1: the key alone");
	}
}

/* With distractors the noise holds the keys too; without, the data are
 * those of before the option (the draws are the same). */
static void test_distractors(sp_ctx *ctx)
{
	sp_synth_spec s = spec_(40, 4, 9), d = spec_(40, 4, 9);
	char t1[40], t2[40], l1[2], l2[2];
	size_t upper = 0, other = 0, same_key = 0;
	d.distractors = 1;
	for (size_t i = 0; i < 500; i++) {
		sp_synth_example(&s, SP_SYNTH_TRAIN, i, t1, l1);
		sp_synth_example(&d, SP_SYNTH_TRAIN, i, t2, l2);
		same_key += l1[0] == l2[0] && t2[0] == l2[0];
		for (size_t k = 1; k < 40; k++) {
			upper += t2[k] >= 'A' && t2[k] < 'A' + 4;
			other += !((t2[k] >= 'A' && t2[k] < 'A' + 4) ||
				   (t2[k] >= 'a' && t2[k] < 'a' + SP_SYNTH_NOISE));
		}
	}
	ok(same_key == 500, "distractors keep the key and the label (%zu/500)",
	   same_key);
	/* 4 of 12 symbols are keys: about a third of 500 * 39 */
	ok(upper > 5500 && upper < 7500 && other == 0,
	   "distractors: %zu of 19500 noise symbols are keys, none outside "
	   "the alphabet", upper);
}

static void test_errors(sp_ctx *ctx)
{
	sp_synth_spec s = spec_(0, 4, 1);
	sp_synth_task t;
	sp_corpus *a = NULL;
	ok(sp_synth_corpus(&a, ctx, &s, SP_SYNTH_TRAIN, 10) == SP_EINVAL && !a, "length 0 is refused");
	ok_str(sp_errmsg(ctx), "synthetic: length = 0, expected 1 to 100000", "its message");
	s = spec_(5, 27, 1);
	ok(sp_synth_corpus(&a, ctx, &s, SP_SYNTH_TRAIN, 10) == SP_EINVAL && !a, "27 classes are refused");
	s = spec_(5, 1, 1);
	ok(sp_synth_corpus(&a, ctx, &s, SP_SYNTH_TRAIN, 10) == SP_EINVAL && !a, "1 class is refused");
	ok(sp_synth_task_parse(&t, ctx, "recall") == SP_OK && t == SP_SYNTH_RECALL, "task recall");
	ok(sp_synth_task_parse(&t, ctx, "adding") == SP_EINVAL, "an unknown task is refused");
	ok_str(sp_errmsg(ctx), "synthetic: unknown task 'adding', expected recall", "its message");
}

int main(void)
{
	sp_ctx *ctx = NULL;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	test_determinism(ctx);
	test_labels(ctx);
	test_distractors(ctx);
	test_errors(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
