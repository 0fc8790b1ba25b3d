/*
 * sp_dist_mpi.c: sp_dist.h over MPI (configure --with-mpi).  Only
 * MPI_COMM_WORLD; MPI's default error handler stays (an MPI error ends
 * the launch with MPI's message).
 */
#include "config.h"

#include "sp_dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sp_dist {
	int rank, size;
	int inited;        /* MPI_Init was ours: finalise it */
	int agreed;        /* the last failure went to every rank */
	float *peer;       /* sp_dist_sum_float_tree: the partner's sums */
	size_t n_peer;
};

/* Started by mpirun (Open MPI; PMI/PMIx for other launchers)? */
static int launched_(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int sp_dist_open(sp_dist **out, sp_ctx *ctx)
{
	sp_dist *d;
	int up = 0;
	*out = NULL;
	if (!launched_())
		return SP_OK;
	d = calloc(1, sizeof(*d));
	if (!d)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	MPI_Initialized(&up);
	if (!up) {
		if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
			free(d);
			return sp_err(ctx, SP_EIO, "MPI_Init failed: is this an mpirun launch?");
		}
		d->inited = 1;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d->size);
	*out = d;
	return SP_OK;
}

void sp_dist_close(sp_dist *d)
{
	if (!d)
		return;
	if (d->inited)
		MPI_Finalize();
	free(d->peer);
	free(d);
}

int sp_dist_rank(const sp_dist *d)
{
	return d ? d->rank : 0;
}

int sp_dist_size(const sp_dist *d)
{
	return d ? d->size : 1;
}

int sp_dist_writer(const sp_dist *d)
{
	return !d || d->rank == 0;
}

void sp_dist_part(const sp_dist *d, size_t n, size_t *first, size_t *count)
{
	size_t r = (size_t)sp_dist_rank(d), p = (size_t)sp_dist_size(d);
	size_t q = n / p, extra = n % p;
	*first = r * q + (r < extra ? r : extra);
	*count = q + (r < extra);
}

/* MPI counts are int: large buffers go in pieces. */
#define CHUNK_ ((size_t)1 << 30)

static int reduce_(sp_dist *d, sp_ctx *ctx, void *buf, size_t n, size_t size,
		   MPI_Datatype type, MPI_Op op)
{
	for (size_t at = 0; at < n; at += CHUNK_) {
		size_t k = n - at < CHUNK_ ? n - at : CHUNK_;
		if (MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * size, (int)k, type, op,
				  MPI_COMM_WORLD) != MPI_SUCCESS)
			return sp_err(ctx, SP_EIO, "MPI_Allreduce of %zu values failed", n);
	}
	return SP_OK;
}

int sp_dist_sum_float(sp_dist *d, sp_ctx *ctx, float *buf, size_t n)
{
	return d ? reduce_(d, ctx, buf, n, sizeof(*buf), MPI_FLOAT, MPI_SUM) : SP_OK;
}

int sp_dist_sum_double(sp_dist *d, sp_ctx *ctx, double *buf, size_t n)
{
	return d ? reduce_(d, ctx, buf, n, sizeof(*buf), MPI_DOUBLE, MPI_SUM) : SP_OK;
}

int sp_dist_sum_i64(sp_dist *d, sp_ctx *ctx, int64_t *buf, size_t n)
{
	return d ? reduce_(d, ctx, buf, n, sizeof(*buf), MPI_INT64_T, MPI_SUM) : SP_OK;
}

int sp_dist_tree_exact(const sp_dist *d)
{
	return !d || !(d->size & (d->size - 1));
}

/* Recursive doubling: at level l rank r and r ^ 2^l swap their sums of
 * 2^l ranks and both add them, which builds the balanced tree level by
 * level (a + b == b + a, so both partners hold the same bits).  Sends
 * log2(size) whole buffers where a ring allreduce sends 2 (size-1)/size:
 * the same for 2 ranks. */
int sp_dist_sum_float_tree(sp_dist *d, sp_ctx *ctx, float *buf, size_t n)
{
	if (!d || d->size == 1)
		return SP_OK;
	if (!sp_dist_tree_exact(d))
		return sp_dist_sum_float(d, ctx, buf, n);
	if (n > d->n_peer) {
		float *p = realloc(d->peer, n * sizeof(*p));
		if (!p) /* the partner waits: nothing to agree with */
			return sp_err(ctx, SP_ENOMEM, "out of memory: %zu floats", n);
		d->peer = p;
		d->n_peer = n;
	}
	for (int bit = 1; bit < d->size; bit <<= 1) {
		int peer = d->rank ^ bit;
		for (size_t at = 0; at < n; at += CHUNK_) {
			size_t k = n - at < CHUNK_ ? n - at : CHUNK_;
			if (MPI_Sendrecv(buf + at, (int)k, MPI_FLOAT, peer, 7, d->peer + at, (int)k,
					 MPI_FLOAT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
				return sp_err(ctx, SP_EIO, "MPI_Sendrecv of %zu floats failed", n);
		}
		/* the lower rank's subtree on the left, as one process adds */
		if (d->rank < peer)
			for (size_t i = 0; i < n; i++)
				buf[i] = buf[i] + d->peer[i];
		else
			for (size_t i = 0; i < n; i++)
				buf[i] = d->peer[i] + buf[i];
	}
	return SP_OK;
}

int sp_dist_max_u64(sp_dist *d, sp_ctx *ctx, unsigned long long *buf, size_t n)
{
	return d ? reduce_(d, ctx, buf, n, sizeof(*buf), MPI_UNSIGNED_LONG_LONG, MPI_MAX) : SP_OK;
}

int sp_dist_bcast(sp_dist *d, sp_ctx *ctx, void *buf, size_t size)
{
	if (!d)
		return SP_OK;
	for (size_t at = 0; at < size; at += CHUNK_) {
		size_t k = size - at < CHUNK_ ? size - at : CHUNK_;
		if (MPI_Bcast((char *)buf + at, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
			return sp_err(ctx, SP_EIO, "MPI_Bcast of %zu bytes failed", size);
	}
	return SP_OK;
}

int sp_dist_agree(sp_dist *d, sp_ctx *ctx, int rc)
{
	int mine, first;
	struct {
		int code;
		char msg[1000];
	} why;
	if (!d || d->size == 1)
		return rc < 0 ? rc : SP_OK;
	mine = rc < 0 ? d->rank : d->size;
	if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
		return sp_err(ctx, SP_EIO, "MPI_Allreduce failed");
	if (first == d->size)
		return SP_OK;
	/* the first failing rank's code and message, to everyone */
	memset(&why, 0, sizeof(why));
	if (d->rank == first) {
		why.code = rc;
		snprintf(why.msg, sizeof(why.msg), "%s", sp_errmsg(ctx));
	}
	if (MPI_Bcast(&why, (int)sizeof(why), MPI_BYTE, first, MPI_COMM_WORLD) != MPI_SUCCESS)
		return sp_err(ctx, SP_EIO, "MPI_Bcast failed");
	d->agreed = 1;
	/* a message already naming its rank is not prefixed twice */
	if (!strncmp(why.msg, "rank ", 5))
		return sp_err(ctx, why.code, "%s", why.msg);
	return sp_err(ctx, why.code, "rank %d: %s", first, why.msg);
}

int sp_dist_agreed(const sp_dist *d)
{
	return !d || d->size == 1 || d->agreed;
}

void sp_dist_abort(sp_dist *d, sp_ctx *ctx, int rc)
{
	if (!d || d->size == 1)
		return;
	fprintf(stderr, "pipeline: error: rank %d: %s: stopping all %d ranks\n", d->rank,
		sp_errmsg(ctx), d->size);
	fflush(NULL);
	MPI_Abort(MPI_COMM_WORLD, rc < 0 ? -rc : 1);
}
