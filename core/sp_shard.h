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

#endif /* SP_SHARD_H */
