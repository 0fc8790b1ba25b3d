/*
 * sp_synth.c: the generated long-dependency tasks (see sp_synth.h).
 */
#include "config.h"

#include "sp_synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_data_mem.h"

/* splitmix64: a small, well-mixed generator; one stream per example. */
static uint64_t mix_(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias (n small). */
static unsigned below_(uint64_t *s, unsigned n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, r;
	do
		r = mix_(s);
	while (r >= lim);
	return (unsigned)(r % n);
}

int sp_synth_task_parse(sp_synth_task *out, sp_ctx *ctx, const char *name)
{
	if (name && !strcmp(name, "recall")) {
		*out = SP_SYNTH_RECALL;
		return SP_OK;
	}
	return sp_err(ctx, SP_EINVAL, "synthetic: unknown task '%s', expected recall",
		      name ? name : "");
}

int sp_synth_check(const sp_synth_spec *spec, sp_ctx *ctx)
{
	if (spec->task != SP_SYNTH_RECALL)
		return sp_err(ctx, SP_EINVAL, "synthetic: unknown task %d, expected recall",
			      (int)spec->task);
	if (spec->length < 1 || spec->length > SP_SYNTH_MAX_LENGTH)
		return sp_err(ctx, SP_EINVAL, "synthetic: length = %zu, expected 1 to %d",
			      spec->length, SP_SYNTH_MAX_LENGTH);
	if (spec->classes < 2 || spec->classes > SP_SYNTH_MAX_CLASSES)
		return sp_err(ctx, SP_EINVAL, "synthetic: classes = %zu, expected 2 to %d",
			      spec->classes, SP_SYNTH_MAX_CLASSES);
	return SP_OK;
}

void sp_synth_example(const sp_synth_spec *spec, sp_synth_split split,
		      size_t i, char *text, char label[2])
{
	/* the stream of one example: seed, split and index mixed together */
	uint64_t s = spec->seed ^ ((uint64_t)split << 56);
	uint64_t h = mix_(&s) ^ ((uint64_t)i * 0xD1B54A32D192ED03ull);
	unsigned key;
	key = below_(&h, (unsigned)spec->classes);
	text[0] = (char)('A' + key);
	for (size_t t = 1; t < spec->length; t++) {
		unsigned n = below_(&h, SP_SYNTH_NOISE +
				    (spec->distractors ? (unsigned)spec->classes : 0));
		text[t] = (char)(n < SP_SYNTH_NOISE ? 'a' + n : 'A' + n - SP_SYNTH_NOISE);
	}
	label[0] = (char)('A' + key);
	label[1] = '\0';
}

int sp_synth_corpus(sp_corpus **out, sp_ctx *ctx, const sp_synth_spec *spec,
		    sp_synth_split split, size_t n)
{
	sp_corpus *c = NULL;
	char *text, label[2];
	int rc;
	*out = NULL;
	if ((rc = sp_synth_check(spec, ctx)) < 0)
		return rc;
	if (!(text = malloc(spec->length)))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	rc = sp_corpus_new_tsv(&c, ctx);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		sp_synth_example(spec, split, i, text, label);
		rc = sp_corpus_add_tsv(c, ctx, text, spec->length, label);
	}
	free(text);
	if (rc < 0) {
		sp_corpus_free(c);
		return rc;
	}
	*out = c;
	return SP_OK;
}

/* A count key n_train, n_dev or n_test: 0 .. 10^8. */
static int count_ok_(const sp_kv *kv, sp_ctx *ctx, const char *nkey)
{
	long n = sp_kv_int(kv, nkey);
	if (n < 0 || n > 100000000L)
		return sp_err(ctx, SP_EINVAL, "%s: data.%s = %ld, expected 0 to 100000000",
			      sp_kv_where(kv, nkey), nkey, n);
	return SP_OK;
}

int sp_synth_check_kv(const sp_kv *kv, sp_ctx *ctx)
{
	sp_synth_task task;
	long len = sp_kv_int(kv, "length"), classes = sp_kv_int(kv, "classes");
	int rc;
	if ((rc = sp_synth_task_parse(&task, ctx, sp_kv_str(kv, "task"))) < 0)
		return sp_err_prefix(ctx, rc, "%s", sp_kv_where(kv, "task"));
	if (len < 1 || len > SP_SYNTH_MAX_LENGTH)
		return sp_err(ctx, SP_EINVAL, "%s: data.length = %ld, expected 1 to %d",
			      sp_kv_where(kv, "length"), len, SP_SYNTH_MAX_LENGTH);
	if (classes < 2 || classes > SP_SYNTH_MAX_CLASSES)
		return sp_err(ctx, SP_EINVAL, "%s: data.classes = %ld, expected 2 to %d",
			      sp_kv_where(kv, "classes"), classes, SP_SYNTH_MAX_CLASSES);
	if ((rc = count_ok_(kv, ctx, "n_train")) < 0 ||
	    (rc = count_ok_(kv, ctx, "n_dev")) < 0 ||
	    (rc = count_ok_(kv, ctx, "n_test")) < 0)
		return rc;
	if (sp_kv_int(kv, "n_train") < 1)
		return sp_err(ctx, SP_EINVAL, "%s: data.n_train = 0, expected at least 1 training example",
			      sp_kv_where(kv, "n_train"));
	return SP_OK;
}

int sp_synth_has_split(const sp_kv *kv, const char *key)
{
	char nkey[16];
	snprintf(nkey, sizeof(nkey), "n_%s", key);
	return sp_kv_int(kv, nkey) > 0;
}

int sp_synth_read(sp_corpus **out, sp_ctx *ctx, const sp_kv *kv,
		  uint64_t seed, const char *key)
{
	static const char *const keys[] = {"train", "dev", "test"};
	sp_synth_spec spec;
	char nkey[16];
	int split = -1, rc;
	*out = NULL;
	for (int k = 0; k < 3; k++)
		if (!strcmp(key, keys[k]))
			split = k;
	if (split < 0)
		return sp_err(ctx, SP_EINVAL, "synthetic: unknown split '%s', expected train, dev or test", key);
	if ((rc = sp_synth_check_kv(kv, ctx)) < 0)
		return rc;
	snprintf(nkey, sizeof(nkey), "n_%s", key);
	if (!sp_synth_has_split(kv, key))
		return SP_OK;
	spec.task = SP_SYNTH_RECALL;
	spec.length = (size_t)sp_kv_int(kv, "length");
	spec.classes = (size_t)sp_kv_int(kv, "classes");
	spec.seed = seed;
	spec.distractors = sp_kv_bool(kv, "distractors");
	return sp_synth_corpus(out, ctx, &spec, (sp_synth_split)split,
			       (size_t)sp_kv_int(kv, nkey));
}
