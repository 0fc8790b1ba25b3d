/*
 * sp_dist.h: the processes of a data-parallel run (the ranks of an
 * `mpirun -np N pipeline run X.pipe` launch) and the few collective
 * operations training needs.  The one place that speaks MPI: sp_dist_mpi.c
 * when configured --with-mpi, else sp_dist_none.c, a group of one, so the
 * training loop calls these and never MPI itself.
 *
 * Every rank reads the same data and builds the same global batches in the
 * same order; each computes its part of every batch (sp_dist_part), and the
 * gradients are summed across ranks (sp_dist_sum_float).  A NULL sp_dist is
 * a group of one (sp_dist_rank 0, sp_dist_size 1): commands other than
 * `run` have none.
 *
 * Failures: a collective reports a failure of any rank to every rank only
 * where the callers exchange it (sp_dist_agree, or a flag in the buffer they
 * sum); a rank that fails anywhere else cannot tell the others, which then
 * wait for it forever, so it ends the launch with sp_dist_abort.
 *
 * Host-only (not installed).
 */
#ifndef SP_DIST_H
#define SP_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

typedef struct sp_dist sp_dist;

/* Joins the ranks when this process was started by mpirun (MPI is
 * initialised here unless it is already); otherwise, and when built
 * without MPI, *out is NULL: a group of one. */
int sp_dist_open(sp_dist **out, sp_ctx *ctx);
/* Leaves the group (finalising MPI when sp_dist_open initialised it). */
void sp_dist_close(sp_dist *d);

int sp_dist_rank(const sp_dist *d);
int sp_dist_size(const sp_dist *d);
/* Rank 0: the one that writes (run log, vocabulary store, model files). */
int sp_dist_writer(const sp_dist *d);
/* This rank's part [*first, *first + *count) of n items: contiguous,
 * as even as possible, the larger parts on the lower ranks. */
void sp_dist_part(const sp_dist *d, size_t n, size_t *first, size_t *count);

/* buf summed element-wise across the ranks, in place; every rank gets
 * the same sums. */
int sp_dist_sum_float(sp_dist *d, sp_ctx *ctx, float *buf, size_t n);
int sp_dist_sum_double(sp_dist *d, sp_ctx *ctx, double *buf, size_t n);
int sp_dist_sum_i64(sp_dist *d, sp_ctx *ctx, int64_t *buf, size_t n);
/* sp_dist_sum_float in a fixed order: with a power-of-two rank count the
 * balanced binary tree over the ranks (rank r's buf its r-th leaf), the
 * same bits on every rank and the same as adding the leaves in that tree
 * in one process; other rank counts, MPI_Allreduce's order. */
int sp_dist_sum_float_tree(sp_dist *d, sp_ctx *ctx, float *buf, size_t n);
/* Does sp_dist_sum_float_tree add in its fixed tree? */
int sp_dist_tree_exact(const sp_dist *d);
/* The element-wise largest of buf across the ranks, in place. */
int sp_dist_max_u64(sp_dist *d, sp_ctx *ctx, unsigned long long *buf, size_t n);
/* Rank 0's bytes buf[0..size) to every rank. */
int sp_dist_bcast(sp_dist *d, sp_ctx *ctx, void *buf, size_t size);

/* Every rank says how it is doing (rc, this rank's result) and learns
 * whether all are well: SP_OK when every rc was >= 0, else the code of
 * the lowest failing rank with its message, "rank R: ...", on every rank
 * (SP_EINTR when it was stopped).  A failure agreed here needs no abort. */
int sp_dist_agree(sp_dist *d, sp_ctx *ctx, int rc);
/* Whether the failure in ctx was reported to every rank (sp_dist_agree). */
int sp_dist_agreed(const sp_dist *d);
/* Ends every rank of the launch (MPI_Abort) after printing this rank's
 * error to stderr: for a failure the others cannot learn of.  Returns
 * only for a group of one. */
void sp_dist_abort(sp_dist *d, sp_ctx *ctx, int rc);

#endif /* SP_DIST_H */
