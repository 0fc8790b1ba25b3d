/*
 * t_bpe.c: byte-pair encoding.  The merges of Sennrich et al.'s example
 * corpus, worked by hand (with the ▁ marking and byte-order tie-breaking of
 * sp_bpe.h); encoding with them; save/load; learning that does not depend
 * on the order of the texts; text -> pieces -> text is the identity on the
 * Tatoeba dev split and on awkward spacing; errors.  The learner (which
 * keeps pair counts up to date across merges) against a plain one written
 * here (every pair recounted after each merge, ties by byte order) on
 * random corpora full of ties and of runs such as "aaaa".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bpe.h"
#include "sp_parallel.h"
#include "tap.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define M SP_BPE_MARK

static const char *encode(sp_bpe *b, sp_ctx *ctx, const char *text, sp_buf *buf)
{
	sp_buf_clear(buf);
	if (sp_bpe_encode(b, ctx, text, strlen(text), buf) < 0)
		return NULL;
	return buf->p;
}

static void test_hand_worked(sp_ctx *ctx)
{
	/* low x5, lower x2, newest x6, widest x3 */
	const char *texts[] = {"low low low low low lower lower",
			       "newest newest newest newest newest newest", "widest widest widest"};
	size_t lens[3];
	/* Worked by hand: first counts es 9, st 9 -> (e,s) by byte order;
	 * then (es,t) 9; then ▁l, lo, ow all 7 -> (l,o) ('l' < 'o' < ▁);
	 * (lo,w) 7 ("lo" < ▁); (▁,low) 7; then four pairs at 6 -> (e,w). */
	static const char *const want[][2] = {{"e", "s"},  {"es", "t"},  {"l", "o"},
					      {"lo", "w"}, {M, "low"}, {"e", "w"}};
	sp_bpe_opts o;
	sp_bpe *b = NULL, *c = NULL;
	sp_buf buf = {0}, saved = {0}, saved2 = {0};
	int same = 1;
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(texts[i]);
	sp_bpe_opts_init(&o);
	o.merges = 6;
	if (sp_bpe_learn(&b, ctx, texts, lens, 3, &o) < 0) {
		ok(0, "learn: %s", sp_errmsg(ctx));
		return;
	}
	ok(sp_bpe_n_merges(b) == 6, "6 merges learned");
	for (size_t r = 0; r < 6 && r < sp_bpe_n_merges(b); r++) {
		const char *l, *rr;
		sp_bpe_merge(b, r, &l, &rr);
		if (strcmp(l, want[r][0]) || strcmp(rr, want[r][1])) {
			diag("merge %zu: got '%s' '%s', want '%s' '%s'", r, l, rr, want[r][0],
			     want[r][1]);
			same = 0;
		}
	}
	ok(same, "merges match the hand-worked example: es, est, lo, low, ▁low, ew");
	ok_str(encode(b, ctx, "lowest", &buf), M "low est", "'lowest' -> ▁low est");
	ok_str(encode(b, ctx, "newer", &buf), M " n ew e r", "'newer' -> ▁ n ew e r");
	ok_str(encode(b, ctx, "low  zz", &buf), M "low " M " " M " z z",
	       "two spaces and unseen letters");
	ok(sp_bpe_save(b, ctx, &saved) == 0 &&
		   strcmp(saved.p, "#seqpipe-bpe 1 marker=U+2581 merges=6\ne s\nes t\nl o\nlo w\n" M
				   " low\ne w\n") == 0,
	   "the saved form: a header, then one merge per line");
	ok(sp_bpe_load(&c, ctx, saved.p, saved.len, "codes.bpe") == 0 &&
		   sp_bpe_save(c, ctx, &saved2) == 0 && strcmp(saved.p, saved2.p) == 0,
	   "load(save(x)) saves the same");
	ok_str(c ? encode(c, ctx, "lowest newest", &buf) : NULL, M "low est " M " n ew est",
	       "the loaded merges encode as the learned ones");
	/* the minimum count stops learning: only es/est/lo/low/▁low reach 7 */
	sp_bpe_free(c);
	o.merges = 100;
	o.min_count = 7;
	c = NULL;
	same = sp_bpe_learn(&c, ctx, texts, lens, 3, &o) == 0;
	ok(same && sp_bpe_n_merges(c) == 5, "min_count = 7 stops after 5 merges (%zu)",
	   c ? sp_bpe_n_merges(c) : 0);
	sp_bpe_free(c);
	sp_bpe_free(b);
	sp_buf_free(&buf);
	sp_buf_free(&saved);
	sp_buf_free(&saved2);
}

static int round_trip(sp_bpe *b, sp_ctx *ctx, const char *text, size_t len, sp_buf *p, sp_buf *t)
{
	sp_buf_clear(p);
	sp_buf_clear(t);
	if (sp_bpe_encode(b, ctx, text, len, p) < 0 || sp_bpe_decode(ctx, p->p, p->len, t) < 0)
		return 0;
	return t->len == len && memcmp(t->p, text, len) == 0;
}

static void test_tatoeba(sp_ctx *ctx)
{
	char path[800];
	sp_parallel_opts po;
	sp_parallel *train = NULL, *dev = NULL;
	sp_bpe_opts o;
	sp_bpe *b = NULL, *r = NULL;
	sp_buf p = {0}, t = {0}, s1 = {0}, s2 = {0};
	const char **texts, **rev;
	size_t *lens, *rlens, n, bad = 0, pieces = 0, chars = 0;
	int same;
	static const char *const awkward[] = {" leading", "trailing ", "a  b   c", "tab\there",
					      "", " ", "   ", "caf\xc3\xa9 \xf0\x9f\x98\x80!",
					      "Qu'est-ce que c'est\xe2\x80\xaf?"};

	sp_parallel_opts_init(&po);
	snprintf(path, sizeof(path), "%.600s/data/translation/tatoeba_eng_fra_5k/train.tsv", SRCDIR);
	if (sp_parallel_read_tsv(&train, ctx, path, &po) < 0) {
		ok(0, "%s", sp_errmsg(ctx));
		return;
	}
	snprintf(path, sizeof(path), "%.600s/data/translation/tatoeba_eng_fra_5k/dev.tsv", SRCDIR);
	if (sp_parallel_read_tsv(&dev, ctx, path, &po) < 0) {
		ok(0, "%s", sp_errmsg(ctx));
		sp_parallel_free(train);
		return;
	}
	n = sp_parallel_count(train);
	/* a joint English + French model, as for a shared vocabulary */
	texts = malloc(2 * n * sizeof(*texts));
	rev = malloc(2 * n * sizeof(*rev));
	lens = malloc(2 * n * sizeof(*lens));
	rlens = malloc(2 * n * sizeof(*rlens));
	for (size_t i = 0; texts && rev && lens && rlens && i < n; i++) {
		texts[2 * i] = sp_parallel_src(train, i, &lens[2 * i]);
		texts[2 * i + 1] = sp_parallel_tgt(train, i, &lens[2 * i + 1]);
	}
	for (size_t i = 0; rev && rlens && i < 2 * n; i++) {
		rev[i] = texts[2 * n - 1 - i];
		rlens[i] = lens[2 * n - 1 - i];
	}
	sp_bpe_opts_init(&o);
	o.merges = 1000;
	if (sp_bpe_learn(&b, ctx, texts, lens, 2 * n, &o) < 0 ||
	    sp_bpe_learn(&r, ctx, rev, rlens, 2 * n, &o) < 0)
		diag("%s", sp_errmsg(ctx));
	ok(b && r && sp_bpe_n_merges(b) == 1000,
	   "1000 merges learned on the Tatoeba train split, forwards and backwards (%zu)",
	   b ? sp_bpe_n_merges(b) : 0);
	if (!b || !r)
		goto done;
	ok(sp_bpe_save(b, ctx, &s1) == 0 && sp_bpe_save(r, ctx, &s2) == 0 &&
		   strcmp(s1.p, s2.p) == 0,
	   "the merges do not depend on the order of the texts");
	for (size_t i = 0; i < sp_parallel_count(dev); i++) {
		for (int side = 0; side < 2; side++) {
			size_t len;
			const char *s = side ? sp_parallel_tgt(dev, i, &len) : sp_parallel_src(dev, i, &len);
			if (!round_trip(b, ctx, s, len, &p, &t)) {
				if (bad++ < 3)
					diag("'%s' -> '%s' -> '%s'", s, p.p ? p.p : "", t.p ? t.p : "");
			}
			chars += len;
			for (size_t k = 0; k < p.len; k++)
				pieces += p.p[k] == ' ';
			pieces++;
		}
	}
	ok(bad == 0, "dev split: text -> pieces -> text is the identity for all %zu sentences",
	   2 * sp_parallel_count(dev));
	diag("dev: %zu bytes in %zu pieces with 1000 merges", chars, pieces);
	bad = 0;
	for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); i++)
		if (!round_trip(b, ctx, awkward[i], strlen(awkward[i]), &p, &t)) {
			diag("'%s' -> '%s' -> '%s'", awkward[i], p.p, t.p);
			bad++;
		}
	ok(bad == 0, "identity on leading, trailing and repeated spaces, tabs, emoji, empty");
	sp_buf_clear(&p);
	same = sp_bpe_encode(b, ctx, "x" M "y", 5, &p);
	ok(same == SP_EINPUT && strstr(sp_errmsg(ctx), "byte 2"),
	   "text holding the marker U+2581 is refused: %s", sp_errmsg(ctx));
	ok(sp_bpe_encode(b, ctx, "x\xc3", 2, &p) == SP_EINPUT, "invalid UTF-8 is refused: %s",
	   sp_errmsg(ctx));
done:
	sp_bpe_free(b);
	sp_bpe_free(r);
	free(texts);
	free(rev);
	free(lens);
	free(rlens);
	sp_buf_free(&p);
	sp_buf_free(&t);
	sp_buf_free(&s1);
	sp_buf_free(&s2);
	sp_parallel_free(train);
	sp_parallel_free(dev);
}

static void test_load_errors(sp_ctx *ctx)
{
	sp_bpe *b = NULL;
	const char *bad1 = "#seqpipe-bpe 1 marker=U+2581 merges=2\ne s\nes  t\n";
	const char *bad2 = "e s\n";
	int rc = sp_bpe_load(&b, ctx, bad1, strlen(bad1), "codes.bpe");
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "codes.bpe:3: expected two symbols"),
	   "a malformed merge line names FILE:LINE: %s", sp_errmsg(ctx));
	rc = sp_bpe_load(&b, ctx, bad2, strlen(bad2), "codes.bpe");
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "codes.bpe:1: expected '#seqpipe-bpe"),
	   "a missing header: %s", sp_errmsg(ctx));
}

/* ---- the plain learner: every pair recounted after each merge --------- */

enum { MAXW = 64, MAXS = 16, MAXM = 64 };

typedef struct plain {
	char sym[MAXW][MAXS][64]; /* the symbols of each distinct word */
	size_t len[MAXW];
	long count[MAXW];
	size_t n;
} plain;

/* The words of a text of single-spaced words: "▁word" each (as marking
 * gives: the dummy ▁ at the start, then a ▁ for every space). */
static void plain_add(plain *c, const char *text)
{
	for (const char *p = text; *p;) {
		size_t k = strcspn(p, " "), id;
		for (id = 0; id < c->n; id++) {
			size_t j = 1;
			while (j < c->len[id] && j - 1 < k && c->sym[id][j][0] == p[j - 1])
				j++;
			if (c->len[id] == k + 1 && j == k + 1)
				break;
		}
		if (id == c->n) {
			strcpy(c->sym[id][0], M);
			for (size_t q = 0; q < k; q++) {
				c->sym[id][q + 1][0] = p[q];
				c->sym[id][q + 1][1] = '\0';
			}
			c->len[id] = k + 1;
			c->n++;
		}
		c->count[id]++;
		p += k;
		p += *p == ' ';
	}
}

/* Merges learned the plain way into ml/mr (at most `merges`); how many. */
static size_t plain_learn(plain *c, size_t merges, long min_count, char ml[][64], char mr[][64])
{
	size_t m = 0;
	for (; m < merges; m++) {
		const char *bl = NULL, *br = NULL;
		long best = 0;
		for (size_t w = 0; w < c->n; w++)
			for (size_t j = 0; j + 1 < c->len[w]; j++) {
				const char *l = c->sym[w][j], *r = c->sym[w][j + 1];
				long n = 0;
				for (size_t v = 0; v < c->n; v++)
					for (size_t k = 0; k + 1 < c->len[v]; k++)
						n += c->count[v] * (!strcmp(c->sym[v][k], l) &&
								    !strcmp(c->sym[v][k + 1], r));
				if (n > best || (n == best && (strcmp(l, bl) < 0 ||
							       (!strcmp(l, bl) && strcmp(r, br) < 0)))) {
					best = n;
					bl = l;
					br = r;
				}
			}
		if (best < min_count)
			break;
		strcpy(ml[m], bl);
		strcpy(mr[m], br);
		for (size_t w = 0; w < c->n; w++) {
			size_t j = 0, k = 0;
			while (j < c->len[w]) {
				if (j + 1 < c->len[w] && !strcmp(c->sym[w][j], ml[m]) &&
				    !strcmp(c->sym[w][j + 1], mr[m])) {
					char joined[64];
					snprintf(joined, sizeof(joined), "%s%s", ml[m], mr[m]);
					strcpy(c->sym[w][k++], joined);
					j += 2;
				} else {
					if (k != j)
						strcpy(c->sym[w][k], c->sym[w][j]);
					k++;
					j++;
				}
			}
			c->len[w] = k;
		}
	}
	return m;
}

static void test_against_plain(sp_ctx *ctx)
{
	int bad = 0;
	size_t total = 0;
	for (int trial = 0; trial < 40; trial++) {
		static plain c;
		static char ml[MAXM][64], mr[MAXM][64];
		char texts[12][40];
		const char *tp[12];
		size_t lens[12], n_plain;
		sp_bpe_opts o;
		sp_bpe *b = NULL;
		memset(&c, 0, sizeof(c));
		for (int t = 0; t < 12; t++) { /* 1-3 words of 1-6 letters from a..c */
			size_t k = 0, words = 1 + (size_t)(sp_rng_uniform(ctx) * 3);
			for (size_t w = 0; w < words; w++) {
				size_t letters = 1 + (size_t)(sp_rng_uniform(ctx) * 6);
				if (w)
					texts[t][k++] = ' ';
				for (size_t q = 0; q < letters; q++)
					texts[t][k++] = (char)('a' + (int)(sp_rng_uniform(ctx) * 3));
			}
			texts[t][k] = '\0';
			tp[t] = texts[t];
			lens[t] = k;
			plain_add(&c, texts[t]);
		}
		sp_bpe_opts_init(&o);
		o.merges = 40;
		o.min_count = trial % 2 ? 2 : 1;
		n_plain = plain_learn(&c, o.merges, o.min_count, ml, mr);
		if (sp_bpe_learn(&b, ctx, tp, lens, 12, &o) < 0) {
			diag("trial %d: %s", trial, sp_errmsg(ctx));
			bad++;
			continue;
		}
		if (sp_bpe_n_merges(b) != n_plain) {
			if (bad++ < 3)
				diag("trial %d: %zu merges, the plain learner %zu", trial,
				     sp_bpe_n_merges(b), n_plain);
		} else {
			for (size_t r = 0; r < n_plain; r++) {
				const char *l, *rr;
				sp_bpe_merge(b, r, &l, &rr);
				if (strcmp(l, ml[r]) || strcmp(rr, mr[r])) {
					if (bad++ < 3)
						diag("trial %d merge %zu: '%s' '%s', the plain learner '%s' '%s'",
						     trial, r, l, rr, ml[r], mr[r]);
					break;
				}
			}
		}
		total += n_plain;
		sp_bpe_free(b);
	}
	ok(bad == 0, "40 random corpora: the same %zu merges as recounting every pair each time",
	   total);
}

int main(void)
{
	sp_ctx *ctx;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	test_hand_worked(ctx);
	test_tatoeba(ctx);
	test_load_errors(ctx);
	test_against_plain(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
