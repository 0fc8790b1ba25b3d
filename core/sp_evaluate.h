/*
 * sp_evaluate.h: forward passes without training: the head's metrics on
 * a split (text by text, or as a stream the way a truncated-BPTT
 * language model was trained), every split at the end of a run or in
 * `pipeline eval`, and the model on one input text (predict, trace).
 *
 * Host-only (not installed).
 */
#ifndef SP_EVALUATE_H
#define SP_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_batch.h"
#include "sp_observer.h"
#include "sp_splits.h"

typedef struct sp_job sp_job;

/* Where the head's metrics go: the observer (under epoch and split), one
 * printable line, and the value of the metric that picks the best epoch. */
typedef struct sp_metric_sink {
	const sp_observer_ref *obs;
	sp_ctx *ctx;
	int64_t epoch;
	const char *split;
	char line[512];
	size_t used;
	int exact;          /* print every digit (pipeline eval) */
	const char *want;   /* metric that picks the best epoch */
	double wanted;      /* its value */
	int found;
} sp_metric_sink;

/* An empty sink for j's observer. */
void sp_metric_sink_init(sp_metric_sink *s, sp_job *j, int64_t epoch,
			 const char *split);
/* sp_metric_fn that records into the sp_metric_sink payload. */
int sp_metric_sink_emit(void *payload, const char *name, double value);

/* Forward pass over all of d without training; reports the head's
 * metrics to sink. */
int sp_evaluate(sp_job *j, const sp_dataset *d, sp_metric_sink *sink);
/* Every split with data, as final metrics (observed); exact prints all
 * digits.  One line per split on the output, after prefix. */
int sp_evaluate_splits(sp_job *j, int exact, const char *prefix);
/* The model and head on one input sequence ids[0..n) (batch of one, no
 * targets), t its tokens (their characters, for a model that reads them;
 * NULL: none); b is left describing it. */
int sp_evaluate_input(sp_job *j, const int32_t *ids, size_t n,
		      const sp_toklist *t, sp_batch *b);

/* Language models (predict --generate): draws opts->generate tokens after
 * the last forward of an input of n ids, feeding each one back alone
 * (the model's state carried), and prints them. */
int sp_evaluate_generate(sp_job *j, sp_batch *b, size_t n);

#endif /* SP_EVALUATE_H */
