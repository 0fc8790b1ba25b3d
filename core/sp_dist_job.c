/*
 * sp_dist_job.c: see sp_dist_job.h.
 */
#include "config.h"

#include "sp_dist_job.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_evalrec.h"
#include "sp_job.h"

int sp_dist_job_many(const sp_job *j)
{
	return sp_dist_size(j->dist) > 1;
}

int sp_dist_job_check(sp_job *j)
{
	const sp_head_ops *h = sp_head_of(&j->st);
	if (!j->dist)
		return SP_OK;
	if (!SP_HAS_OP(sp_head_ops, h, metric_state))
		return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' cannot combine its metrics across %d ranks (no metric_state), expected a head that can, or one process",
			      sp_kv_section_where(j->st.head.kv), j->st.head.comp->name,
			      sp_dist_size(j->dist));
	return SP_OK;
}

/* Rows [first, first+count) of the stream's B rows, window at *pos. */
static int next_window(sp_job *j, size_t B, size_t k1, size_t k2, size_t *pos,
		       sp_shard *sh, int32_t *lens, sp_batch *b)
{
	size_t L = (j->buf.n_stream - 1) / B, t = *pos, T;
	int rc;
	/* where the last window ended: counted up to there (as sp_batch.c) */
	size_t done = t ? t - k1 + k2 : 0;
	if (done >= L)
		return 0;
	*pos += k1;
	T = L - t < k2 ? L - t : k2;
	sp_dist_part(j->dist, B, &sh->first, &sh->count);
	for (size_t r = 0; r < B; r++)
		lens[r] = (int32_t)T;
	sh->B = B;
	sh->T = T;
	sh->len = lens;
	if (!sh->count) {
		memset(b, 0, sizeof(*b));
		return 1;
	}
	rc = sp_batch_window(&j->buf, j->ctx, j->buf.stream + sh->first * L, t, T, done - t,
			     sh->count, L, b);
	return rc < 0 ? rc : 1;
}

int sp_dist_job_next(sp_job *j, sp_batcher *batcher, size_t B, size_t k1, size_t k2,
		     size_t *pos, sp_shard *sh, int32_t *lens, sp_batch *b)
{
	const size_t *idx;
	size_t n, T = 0;
	int rc;
	if (k2)
		return next_window(j, B, k1, k2, pos, sh, lens, b);
	if (!sp_batcher_next(&idx, &n, batcher))
		return 0;
	for (size_t k = 0; k < n; k++) {
		lens[k] = j->data.train.in_len[idx[k]];
		if ((size_t)lens[k] > T)
			T = (size_t)lens[k];
	}
	sp_dist_part(j->dist, n, &sh->first, &sh->count);
	sh->B = n;
	sh->T = T;
	sh->len = lens;
	if (!sh->count) {
		memset(b, 0, sizeof(*b));
		return 1;
	}
	rc = sp_batch_make(&j->buf, j->ctx, &j->data.train, idx + sh->first, sh->count, b);
	return rc < 0 ? rc : 1;
}

int sp_dist_job_step(sp_job *j, int rc, int stop, double *loss, size_t *n_loss)
{
	/* loss, count, failed, stop: one small sum */
	double v[4] = {rc < 0 ? 0 : *loss, rc < 0 ? 0 : (double)*n_loss, rc < 0, stop};
	int rc2;
	if (!j->dist)
		return rc;
	if ((rc2 = sp_dist_sum_double(j->dist, j->ctx, v, 4)) < 0)
		return rc2;
	if (v[2] > 0)
		return sp_dist_agree(j->dist, j->ctx, rc);
	if (v[3] > 0) /* every rank stops at the same step */
		return sp_dist_agree(j->dist, j->ctx, sp_err(j->ctx, SP_EINTR, "interrupted"));
	*loss = v[0];
	*n_loss = (size_t)v[1];
	return SP_OK;
}

int sp_dist_job_grads(sp_job *j, int rc)
{
	float *g = j->par.grad;
	int rc2;
	if (!j->dist || !j->par.n_params)
		return rc;
	if (rc < 0)
		g[0] = NAN;
	if ((rc2 = sp_dist_sum_float_tree(j->dist, j->ctx, g, j->par.n_params)) < 0)
		return rc2;
	/* NaN: some rank failed (or the gradient itself is NaN, which the
	 * agreement passes and the optimizer's check catches) */
	return isnan(g[0]) ? sp_dist_agree(j->dist, j->ctx, rc) : SP_OK;
}

int sp_dist_job_metrics(sp_job *j, int rc)
{
	const sp_head_ops *h = sp_head_of(&j->st);
	size_t n = 0;
	double *buf;
	int rc2;
	if (!j->dist)
		return rc;
	/* sp_dist_job_check made sure the head has metric_state */
	h->metric_state(j->st.head.self, NULL, &n, 0);
	buf = calloc(n + 1, sizeof(*buf));
	if (!buf) /* the others wait in the sum: nothing to agree with */
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	if (rc >= 0)
		h->metric_state(j->st.head.self, buf, &n, 0);
	buf[n] = rc < 0;
	if ((rc2 = sp_dist_sum_double(j->dist, j->ctx, buf, n + 1)) >= 0) {
		if (buf[n] > 0)
			rc2 = sp_dist_agree(j->dist, j->ctx, rc);
		else
			rc2 = h->metric_state(j->st.head.self, buf, &n, 1);
	}
	free(buf);
	return rc2;
}

int sp_dist_job_evalrec(sp_job *j, sp_evalrec *rec, int rc)
{
	int64_t *cells;
	size_t n = 0;
	int rc2;
	if (!j->dist || !rec)
		return rc;
	cells = sp_evalrec_cells(rec, &n);
	/* the last cell: whether some rank failed */
	cells[n] = rc < 0;
	if ((rc2 = sp_dist_sum_i64(j->dist, j->ctx, cells, n + 1)) < 0)
		return rc2;
	if (cells[n] > 0)
		return sp_dist_agree(j->dist, j->ctx, rc);
	return SP_OK;
}

int sp_dist_job_mine(const sp_job *j, size_t k)
{
	return k % (size_t)sp_dist_size(j->dist) == (size_t)sp_dist_rank(j->dist);
}

int sp_dist_job_share_rng(sp_job *j, int every_rank_drew)
{
	uint64_t rng[4];
	int rc;
	if (!sp_dist_job_many(j) || every_rank_drew)
		return SP_OK;
	sp_rng_get_state(j->ctx, rng);
	if ((rc = sp_dist_bcast(j->dist, j->ctx, rng, sizeof(rng))) < 0)
		return rc;
	sp_rng_set_state(j->ctx, rng);
	return SP_OK;
}

int sp_dist_job_share_weights(sp_job *j, int rc)
{
	if (!j->dist)
		return rc;
	if ((rc = sp_dist_agree(j->dist, j->ctx, rc)) < 0)
		return rc;
	return sp_dist_bcast(j->dist, j->ctx, j->par.value, j->par.n_params * sizeof(float));
}

int sp_dist_job_same_weights(sp_job *j, size_t epoch)
{
	const unsigned char *p = (const unsigned char *)j->par.value;
	unsigned long long h = 14695981039346656037ULL, v[2];
	int rc;
	if (!sp_dist_job_many(j))
		return SP_OK;
	uint64_t rng[4];
	for (size_t i = 0; i < j->par.n_params * sizeof(float); i++)
		h = (h ^ p[i]) * 1099511628211ULL; /* FNV-1a */
	/* and the random generators, which must stay in step too */
	sp_rng_get_state(j->ctx, rng);
	p = (const unsigned char *)rng;
	for (size_t i = 0; i < sizeof(rng); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	v[0] = h;
	v[1] = ~h; /* max of ~h = ~(min of h) */
	if ((rc = sp_dist_max_u64(j->dist, j->ctx, v, 2)) < 0)
		return rc;
	if (v[0] != ~v[1])
		return sp_err(j->ctx, SP_ERROR, "after epoch %zu the %d ranks hold different weights or random generator states, expected the same on all",
			      epoch + 1, sp_dist_size(j->dist));
	return SP_OK;
}
