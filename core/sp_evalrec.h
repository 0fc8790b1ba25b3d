/*
 * sp_evalrec.h: what a final evaluation records besides the head's
 * metrics: the confusion matrix of a classifier or a tagger (gold label
 * by predicted label, counted over every real position) and a few sample
 * predictions, both taken from the head's predict op after each batch,
 * so that no head has to compute them.  The report draws them (the run
 * log's tables confusion and samples, doc/schema.md).
 *
 * Host-only (not installed).
 */
#ifndef SP_EVALREC_H
#define SP_EVALREC_H

#include <stddef.h>
#include <stdint.h>

#include "sp_batch.h"
#include "sp_observer.h"
#include "sp_splits.h"
#include "sp_task.h"

typedef struct sp_evalrec sp_evalrec;

/*
 * A recorder for one split (caller owns; sp_evalrec_free).  *out stays
 * NULL (and SP_OK) when there is nothing to record: a task without one
 * label per sequence or per token, or no labels vocabulary.  n_samples
 * sequences (the first ones evaluated) are kept as samples.
 */
int sp_evalrec_new(sp_evalrec **out, sp_ctx *ctx, const sp_task *task,
		   const sp_vocab *vocab, const sp_vocab *labels,
		   size_t n_samples);
/* After the head's forward of batch b, made of examples idx[0..b.B) of
 * d: asks the head for its best label at every position and counts it
 * against the gold one. */
int sp_evalrec_batch(sp_evalrec *r, sp_ctx *ctx, const sp_head_ops *h,
		     void *head, const sp_dataset *d, const size_t *idx,
		     const sp_batch *b);
/* Reports the nonzero cells and the samples to o under epoch (< 0: the
 * final evaluation) and split. */
int sp_evalrec_emit(const sp_evalrec *r, sp_ctx *ctx, const sp_observer_ref *o,
		    int64_t epoch, const char *split);
/* The count of (gold, pred) so far, for tests; 0 out of range. */
int64_t sp_evalrec_count(const sp_evalrec *r, int32_t gold, int32_t pred);
/* The (K, K) counts so far, *n = K * K, followed by one spare cell the
 * caller may use (a data-parallel run sums them across its ranks, with a
 * failure flag in the spare one). */
int64_t *sp_evalrec_cells(sp_evalrec *r, size_t *n);
/* Accepts NULL. */
void sp_evalrec_free(sp_evalrec *r);

#endif /* SP_EVALREC_H */
