/*
 * sp_extras.h: named float arrays a job keeps in its model file beside
 * the weights: what a part of the pipeline learns from the training data
 * by counting, not by gradients (the gene decoder's sensors,
 * dna/sp_genesig.h).  The optimiser never sees them; a checkpoint writes
 * them as 1-D tensors named "extra.NAME", and loading a model reads every
 * such tensor back.
 *
 * Host-only (not installed).
 */
#ifndef SP_EXTRAS_H
#define SP_EXTRAS_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_modelfile.h"

typedef struct sp_extra {
	char *name;
	float *v;
	size_t n;
} sp_extra;

typedef struct sp_extras {
	sp_extra *e; /* owned, with each name and array */
	size_t n;
} sp_extras;

/* Stores a copy of v[0..n) under name (at most SP_EXTRA_NAME_MAX bytes),
 * replacing one of that name. */
#define SP_EXTRA_NAME_MAX 200
int sp_extras_set(sp_extras *x, sp_ctx *ctx, const char *name, const float *v, size_t n);
/* The array under name (borrowed, valid until the next set or fini) and
 * its length in *n, or NULL. */
const float *sp_extras_get(const sp_extras *x, const char *name, size_t *n);
void sp_extras_fini(sp_extras *x);

/* Every array as a tensor "extra.NAME" of w. */
int sp_extras_write(const sp_extras *x, sp_modelfile_writer *w);
/* Every tensor "extra.NAME" of m into x (1-D or not, as its floats). */
int sp_extras_read(sp_extras *x, sp_ctx *ctx, const sp_modelfile *m);

#endif
