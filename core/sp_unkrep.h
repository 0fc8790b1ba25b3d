/*
 * sp_unkrep.h: rare training words read as unknown words, a fresh draw
 * each epoch ("word dropout" of singletons, Lample et al. 2016).
 *
 * A word seen once in training keeps its own vector, yet the unknown
 * classes (<unk>, or onehot's shape classes) are what the model meets for
 * every new word at test time, and they learn only from what training
 * gives them.  The encoder names, for each training token, the id it
 * reads as when unknown and the chance of that (sp_encoder_ops.unknown);
 * before each epoch the host sets every such token to one or the other.
 * The draw is a hash of the seed, the epoch and the token's place, so it
 * is the same on every rank and after a resume.
 *
 * Host-only (not installed).
 */
#ifndef SP_UNKREP_H
#define SP_UNKREP_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

typedef struct sp_unkrep {
	size_t n, cap;
	size_t *at;          /* the token's place in the split's ids */
	int32_t *word, *unk; /* its id as itself, and as an unknown word */
	float *p;            /* the chance it reads as unknown in an epoch */
} sp_unkrep;

/* Notes that ids[at] may read as unk with chance p (0 < p <= 1). */
int sp_unkrep_add(sp_unkrep *r, sp_ctx *ctx, size_t at, int32_t word, int32_t unk, float p);

/* Draws epoch's reading of every noted token into ids; returns how many
 * read as unknown. */
size_t sp_unkrep_epoch(const sp_unkrep *r, int32_t *ids, uint64_t seed, size_t epoch);

/* Every noted token as itself again. */
void sp_unkrep_restore(const sp_unkrep *r, int32_t *ids);

void sp_unkrep_fini(sp_unkrep *r);

#endif
