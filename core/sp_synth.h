/*
 * sp_synth.h: long-dependency tasks that seqpipe generates itself, for
 * the vanishing-gradient lesson ([data] format = synthetic).
 *
 *   recall   T symbols: the first is a key, an upper-case letter from
 *            the first `classes` of A, B, C, ...; the other T-1 are noise,
 *            lower-case letters from a..h drawn uniformly.  The label is
 *            the key ("C" for "Cbdhaag...").  With last-state pooling the
 *            answer must be carried, and its gradient must travel, T-1
 *            steps back.  With distractors, the noise is drawn from the
 *            keys as well as a..h, so the first key must be held while
 *            the same symbols come again (no state can simply latch on
 *            "a key was seen").
 *
 * Generation is deterministic: example i of a split depends only on the
 * seed, the split and i (its own generator, not the ctx RNG, so the
 * data do not move when the model's initialisation draws more numbers).
 * Splits use different streams, so train, dev and test differ.
 *
 * Host-only (not installed).
 */
#ifndef SP_SYNTH_H
#define SP_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_kv.h"

typedef enum sp_synth_task {
	SP_SYNTH_RECALL = 1
} sp_synth_task;

typedef enum sp_synth_split {
	SP_SYNTH_TRAIN = 0,
	SP_SYNTH_DEV = 1,
	SP_SYNTH_TEST = 2
} sp_synth_split;

#define SP_SYNTH_MAX_CLASSES 26
#define SP_SYNTH_NOISE 8            /* noise symbols a..h */
#define SP_SYNTH_MAX_LENGTH 100000

typedef struct sp_synth_spec {
	sp_synth_task task;
	size_t length;    /* T, symbols per example (>= 1) */
	size_t classes;   /* keys, 2 .. SP_SYNTH_MAX_CLASSES */
	uint64_t seed;
	int distractors;  /* noise from the keys as well as a..h */
} sp_synth_spec;

/* "recall" -> task; anything else is SP_EINVAL naming the choices. */
int sp_synth_task_parse(sp_synth_task *out, sp_ctx *ctx, const char *name);
/* Checks the ranges of spec (SP_EINVAL with what was expected). */
int sp_synth_check(const sp_synth_spec *spec, sp_ctx *ctx);

/* Example i of `split`: writes spec->length symbols to text[] (no NUL)
 * and the label, NUL-terminated, to label[0..1]. */
void sp_synth_example(const sp_synth_spec *spec, sp_synth_split split,
		      size_t i, char *text, char label[2]);

/* n examples of `split` as a tsv corpus (caller owns *out). */
int sp_synth_corpus(sp_corpus **out, sp_ctx *ctx, const sp_synth_spec *spec,
		    sp_synth_split split, size_t n);

/* Checks the synthetic keys of a [data] section (task, length, classes,
 * n_train >= 1, n_dev, n_test); errors name the key's place. */
int sp_synth_check_kv(const sp_kv *kv, sp_ctx *ctx);
/* Whether split `key` ("train", "dev", "test") has examples (n_KEY > 0). */
int sp_synth_has_split(const sp_kv *kv, const char *key);

/* The [data] section's split `key` ("train", "dev", "test"): reads task,
 * length, classes and n_KEY from kv (validated there, errors name the
 * key's place) and generates n_KEY examples from `seed`; *out = NULL
 * when n_KEY is 0. */
int sp_synth_read(sp_corpus **out, sp_ctx *ctx, const sp_kv *kv,
		  uint64_t seed, const char *key);

#endif /* SP_SYNTH_H */
