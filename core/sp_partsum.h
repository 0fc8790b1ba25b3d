/*
 * sp_partsum.h: the gradient of a batch computed in fixed parts, each
 * part's gradient on its own, and the parts added in one fixed binary
 * tree (part k's gradient a leaf in part order, each node the sum of its
 * two subtrees).  A data-parallel run (sp_dist.h) gives each rank an
 * aligned block of the parts: the rank's sum is a subtree, and the ranks'
 * sums are added as the tree's top levels (sp_dist_sum_float_tree), so an
 * N-rank run adds exactly what one process adds, in the same order: the
 * same bits, as float addition is commutative (a + b == b + a) though not
 * associative.
 *
 * Host-only (not installed).
 */
#ifndef SP_PARTSUM_H
#define SP_PARTSUM_H

#include <stddef.h>

#include "sp_ctx.h"

typedef struct sp_partsum sp_partsum;

/* For up to `parts` parts of n floats (caller owns; sp_partsum_free). */
int sp_partsum_new(sp_partsum **out, sp_ctx *ctx, size_t n, size_t parts);
void sp_partsum_free(sp_partsum *s);

/* A new sum of m parts (m <= parts). */
void sp_partsum_begin(sp_partsum *s, size_t m);
/* The next part's gradient g[0..n) and loss: merged with the finished
 * subtrees to its left.  g then holds the running subtree (scratch, or
 * the whole sum after the m-th part). */
void sp_partsum_add(sp_partsum *s, float *g, double loss);
/* After the m-th part: g holds the sum of the m parts (as the tree adds
 * them), and the losses' sum in the same tree. */
double sp_partsum_end(sp_partsum *s, float *g);

#endif /* SP_PARTSUM_H */
