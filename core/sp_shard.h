/*
 * sp_shard.h: which part of a batch this process computes, when the
 * examples of every batch are split across processes (data-parallel
 * training, sp_dist.h).  Set on the context for the forward pass of a
 * training step, it lets the dropout masks (sp_rng_mask_*) come out as the
 * whole batch's in a one-process run.
 *
 * Host-only (not installed).
 */
#ifndef SP_SHARD_H
#define SP_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

typedef struct sp_shard {
	size_t B;            /* sequences in the whole batch */
	size_t T;            /* its steps (the longest sequence's) */
	const int32_t *len;  /* (B) real steps of each sequence */
	size_t first, count; /* this process's sequences [first, first+count) */
} sp_shard;

/* Borrowed until cleared with NULL (the whole batch is this process's). */
void sp_ctx_set_shard(sp_ctx *ctx, const sp_shard *shard);

/* Word dropout on the rows of v (T,B,w), in place: each (t, b) row is
 * zeroed with probability thr, else scaled by keep; m, its scale, is set
 * to it (fresh) or multiplied by it.  One draw per position of the whole
 * batch in (t, b) order, as sp_rng_mask_steps with width 1, so a shard
 * gets the one-process run's rows. */
void sp_rng_drop_rows(sp_ctx *ctx, float *v, float *m, size_t T, size_t B, size_t w,
		      double thr, float keep, int fresh);

#endif /* SP_SHARD_H */
