/*
 * sp_dist_none.c: sp_dist.h without MPI (the default build): every
 * process is a group of one, and nothing here needs MPI.
 */
#include "config.h"

#include "sp_dist.h"

int sp_dist_open(sp_dist **out, sp_ctx *ctx)
{
	(void)ctx;
	*out = NULL;
	return SP_OK;
}

void sp_dist_close(sp_dist *d)
{
	(void)d;
}

int sp_dist_rank(const sp_dist *d)
{
	(void)d;
	return 0;
}

int sp_dist_size(const sp_dist *d)
{
	(void)d;
	return 1;
}

int sp_dist_writer(const sp_dist *d)
{
	(void)d;
	return 1;
}

void sp_dist_part(const sp_dist *d, size_t n, size_t *first, size_t *count)
{
	(void)d;
	*first = 0;
	*count = n;
}

int sp_dist_sum_float(sp_dist *d, sp_ctx *ctx, float *buf, size_t n)
{
	(void)d, (void)ctx, (void)buf, (void)n;
	return SP_OK;
}

int sp_dist_sum_double(sp_dist *d, sp_ctx *ctx, double *buf, size_t n)
{
	(void)d, (void)ctx, (void)buf, (void)n;
	return SP_OK;
}

int sp_dist_sum_i64(sp_dist *d, sp_ctx *ctx, int64_t *buf, size_t n)
{
	(void)d, (void)ctx, (void)buf, (void)n;
	return SP_OK;
}

int sp_dist_sum_float_tree(sp_dist *d, sp_ctx *ctx, float *buf, size_t n)
{
	(void)d, (void)ctx, (void)buf, (void)n;
	return SP_OK;
}

int sp_dist_tree_exact(const sp_dist *d)
{
	(void)d;
	return 1;
}

int sp_dist_max_u64(sp_dist *d, sp_ctx *ctx, unsigned long long *buf, size_t n)
{
	(void)d, (void)ctx, (void)buf, (void)n;
	return SP_OK;
}

int sp_dist_bcast(sp_dist *d, sp_ctx *ctx, void *buf, size_t size)
{
	(void)d, (void)ctx, (void)buf, (void)size;
	return SP_OK;
}

int sp_dist_agree(sp_dist *d, sp_ctx *ctx, int rc)
{
	(void)d, (void)ctx;
	return rc < 0 ? rc : SP_OK;
}

int sp_dist_agreed(const sp_dist *d)
{
	(void)d;
	return 1;
}

void sp_dist_abort(sp_dist *d, sp_ctx *ctx, int rc)
{
	(void)d, (void)ctx, (void)rc;
}
