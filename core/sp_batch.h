/*
 * sp_batch.h: minibatches as the stages read them: examples laid out
 * time-major and right-padded, or windows of a language model's training
 * texts joined into one stream (truncated BPTT), in buffers sized for
 * the largest batch seen.
 *
 * Host-only (not installed).
 */
#ifndef SP_BATCH_H
#define SP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_plugin.h"
#include "sp_splits.h"

/* A batch: the model's input and the head's targets (views of the
 * buffers of an sp_batchbuf). */
typedef struct sp_batch {
	sp_seq x;
	sp_labels y;
	sp_chars c;              /* each token's characters (c.cp NULL when
				    the split has none recorded) */
} sp_batch;

typedef struct sp_batchbuf {
	size_t V;                /* input vocabulary size (x.D) */
	size_t D;                /* the model's output size (dh) */
	int one_target;          /* one target per sequence (classifiers) */
	int seq_target;          /* targets are a sequence of their own
				    length (translation): T' = the longest */
	size_t cap_tb, cap_dh, cap_b;
	int32_t *b_ids, *b_len, *b_tgt;
	uint8_t *b_mask, *b_tmask;
	float *dh;               /* (T,B,D) gradient into the model */
	int32_t *stream;         /* bptt: the training texts as one sequence */
	size_t n_stream;
	int32_t *b_cp, *b_nc;    /* (T,B,C) code points, (T,B) counts */
	size_t cap_cp, cap_nc;
} sp_batchbuf;

void sp_batchbuf_fini(sp_batchbuf *buf);
/* The sizes every batch has: set once the model exists. */
void sp_batchbuf_shape(sp_batchbuf *buf, size_t V, size_t D, int one_target);
/* Lays out examples idx[0..B) of d time-major and right-padded. */
int sp_batch_make(sp_batchbuf *buf, sp_ctx *ctx, const sp_dataset *d,
		  const size_t *idx, size_t B, sp_batch *b);
/* Joins the examples of d into one sequence (caller frees *out): each
 * example's input and its last target, so the texts follow each other
 * as they were read. */
int sp_batch_stream(int32_t **out, size_t *n_out, sp_ctx *ctx,
		    const sp_dataset *d);
/* Window [t0, t0+T) of every row of stream (B rows of L + 1 positions);
 * the first `skip` positions have no target (context). */
int sp_batch_window(sp_batchbuf *buf, sp_ctx *ctx, const int32_t *stream,
		    size_t t0, size_t T, size_t skip, size_t B, size_t L,
		    sp_batch *b);
/* The epoch's next training batch: the next window of buf->stream (k2 =
 * bptt steps every k1, B rows; *pos is where it starts) or, with k2 = 0,
 * the batcher's next bucket of train.  1 with a batch in b, 0 at the end
 * of the epoch, or a negative code. */
int sp_batch_next_train(sp_batchbuf *buf, sp_ctx *ctx, const sp_dataset *train,
			sp_batcher *batcher, size_t B, size_t k1, size_t k2,
			size_t *pos, sp_batch *b);

#endif /* SP_BATCH_H */
