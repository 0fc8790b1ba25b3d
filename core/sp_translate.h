/*
 * sp_translate.h: a trained encoder-decoder on text: sources encoded,
 * read by the model stage, decoded by the head's generate (greedy or
 * beam), detokenized; `pipeline translate`, and the BLEU and chrF of a
 * split for `pipeline eval` (sacreBLEU's definitions, sp_bleu.h).
 *
 * Host-only (not installed).
 */
#ifndef SP_TRANSLATE_H
#define SP_TRANSLATE_H

#include <stdio.h>

#include "sp_ctx.h"
#include "sp_plugin.h"
#include "sp_registry.h"
#include "sp_runner.h"

typedef struct sp_job sp_job;

/* Decoding options from the command line (0 = the head's defaults). */
typedef struct sp_translate_opts {
	size_t beam;
	double max_ratio;
	const char *attention;  /* write each sentence's attention here */
} sp_translate_opts;

/* One translated text: i (0-based), its detokenized output. */
typedef int (*sp_translate_fn)(void *payload, size_t i, const char *out, size_t len);

/* Translates texts[0..n) in batches of train.batch; calls out for each,
 * in order.  att (may be NULL) gets every sentence's attention matrix. */
int sp_translate_texts(sp_job *j, const char *const *texts, size_t n,
		       const sp_translate_opts *o, FILE *att, sp_translate_fn out,
		       void *payload);

/* pipeline translate: opts->input, or every line of opts->input_file
 * ("-" = standard input), one output line each. */
int sp_runner_translate(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
			const sp_runner_opts *opts, const sp_translate_opts *to);

/* pipeline eval of a translation model: for the dev and test splits,
 * corpus BLEU (sacreBLEU's: 13a, exp smoothing) with its signature,
 * chrF2, and the tokenized lowercased BLEU, labelled, of the decoded
 * sources against the raw references. */
int sp_translate_score_splits(sp_job *j, const sp_translate_opts *o);

#endif /* SP_TRANSLATE_H */
