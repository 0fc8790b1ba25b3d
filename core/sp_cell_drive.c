/*
 * sp_cell_drive.c: one layer of the recurrent engine in one direction
 * through all steps, forward and backward: the input projection, the
 * per-step recurrent product and gate math shared among a team of
 * threads, the weight gradients and dX.  What the drivers do is in the
 * comment at the top of sp_cell.c; the gate math they call is in
 * sp_cell_kern.c.
 */
#include "sp_cell_impl.h"

#include <math.h>
#include <string.h>

#include "sp_blas.h"

/* ------------------------------------------------------------------ */
/* One layer, one direction, all steps                                 */
/* ------------------------------------------------------------------ */


/* Thread p's hidden units [*u0, *u1) in blocks of U, and the width it
 * works on at a time: a kernel block, or the whole share at once. */
static size_t units_of_(const sp_rnn *r, const team_ *tm, size_t U,
			size_t p, size_t *u0, size_t *u1)
{
	size_t j0, j1;
	spc_share((r->H + U - 1) / U, tm->n, p - tm->p0, &j0, &j1);
	*u0 = j0 * U < r->H ? j0 * U : r->H;
	*u1 = j1 * U < r->H ? j1 * U : r->H;
	return r->simd ? U : *u1 > *u0 ? *u1 - *u0 : 1;
}

/* Where the h side of step t goes in a cell that keeps it apart: gru's
 * scratch (its row function keeps hn), or the step's rows of dgates_h
 * (a custom cell's ah, which backward reads there). */
static float *hside_(const sp_rnn *r, const cell_ *c, size_t t, size_t B)
{
	return r->ops ? c->dgates_h + t * B * r->G * r->H : c->s_hg;
}

/*
 * gates(t) (B,GH) += h(t-1)·Wh for hidden units [u0, u1) of every gate
 * (gru and SP_CELL_SPLIT: hg (B,GH) = h(t-1)·Wh + bh there).  With the kernels [u0, u1) is
 * one column block; else one sgemm, or one per gate for a share.
 */
static void fwd_product_(const sp_rnn *r, const cell_ *c, size_t B,
			 const float *hp, float *a, float *hg, size_t u0,
			 size_t u1)
{
	const size_t H = r->H, G = r->G, GH = G * H, n = u1 - u0;
	const int gru = r->split;
	float *C = gru ? hg : a;
#if SIMD_
	if (r->simd) {
		size_t U = spc_fwd_units(G), j = u0 / U;
		kblock_ kb;
		kb.K = H;
		kb.NV = spc_block_vecs(G, H, U / VL_, j, kb.off, kb.m);
		kb.P = c->whp + j * H * kb.NV * VL_;
		spc_kprod(&kb, B, hp, H, 1, gru ? c->bh : C, gru ? 0 : GH, C, GH);
		return;
	}
#endif
	if (gru)
		for (size_t b = 0; b < B; b++)
			for (size_t g = 0; g < G; g++)
				memcpy(hg + b * GH + g * H + u0, c->bh + g * H + u0,
				       n * sizeof(float));
	if (n == H) {
		sp_gemm(0, 0, B, GH, H, 1.0f, hp, H, c->Wh, GH, 1.0f, C, GH);
		return;
	}
	for (size_t g = 0; g < G; g++)
		sp_gemm(0, 0, B, n, H, 1.0f, hp, H, c->Wh + g * H + u0, GH,
			1.0f, C + g * H + u0, GH);
}

/* A custom cell's forward of row b at step t, hidden units [u0, u1):
 * its gate math on the engine's buffers, then h into the output. */
static void custom_fwd_(const recur_ *job, size_t t, size_t b, size_t u0,
			size_t u1)
{
	const sp_rnn *r = job->r;
	const cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, row = t * B + b;
	const size_t prev = c->reverse ? t + 1 : t, cur = c->reverse ? t : t + 1;
	float *yr = job->y + row * job->ldy;
	sp_cell_row w = {
		.H = H, .u0 = u0, .u1 = u1, .a = c->gates + row * GH,
		.ah = r->split ? c->dgates_h + row * GH : NULL,
		.hp = c->h + (prev * B + b) * H, .h = c->h + (cur * B + b) * H,
		.param = r->ops->param};
	if (r->has_c) {
		w.cp = c->c + (prev * B + b) * H;
		w.c = c->c + (cur * B + b) * H;
	}
	r->ops->forward(&w);
	if (yr != w.h) /* the top layer's output may be h itself */
		memcpy(yr + u0, w.h + u0, (u1 - u0) * sizeof(float));
}

/* The gate math of step t for hidden units [u0, u1) of every row. */
static void fwd_rows_(const recur_ *job, size_t t, size_t u0, size_t u1)
{
	const sp_rnn *r = job->r;
	const cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, n = u1 - u0;
	const sp_cell_kind kind = r->cfg.cell;
	const size_t prev = c->reverse ? t + 1 : t, cur = c->reverse ? t : t + 1;
	const float *hp = c->h + prev * B * H;
	float *hc = c->h + cur * B * H, *a = c->gates + t * B * GH;

	for (size_t b = 0; b < B; b++) {
		size_t row = t * B + b;
		float *ab = a + b * GH, *hb = hc + b * H;
		float *yr = job->y + row * job->ldy;
		if (!job->mask[row]) {
			/* padding: carry the state, output 0 */
			memcpy(hb + u0, hp + b * H + u0, n * sizeof(float));
			if (r->has_c) {
				memcpy(c->c + cur * B * H + b * H + u0,
				       c->c + prev * B * H + b * H + u0,
				       n * sizeof(float));
			}
			if (kind == SP_CELL_GRU)
				memset(c->hn + row * GH + u0, 0,
				       n * sizeof(float));
			for (size_t g = 0; g < r->G; g++)
				memset(ab + g * H + u0, 0, n * sizeof(float));
			memset(yr + u0, 0, n * sizeof(float));
			continue;
		}
		if (r->ops) {
			custom_fwd_(job, t, b, u0, u1);
			continue;
		}
		switch (kind) {
		case SP_CELL_RNN_TANH:
		case SP_CELL_RNN_RELU:
			r->rows.rnn_fwd(ab, hb, yr, u0, u1,
					kind == SP_CELL_RNN_RELU);
			break;
		case SP_CELL_LSTM:
			r->rows.lstm_fwd(ab, c->c + prev * B * H + b * H,
					 c->c + cur * B * H + b * H, hb, yr, H,
					 u0, u1);
			break;
		case SP_CELL_GRU:
			r->rows.gru_fwd(ab, c->s_hg + b * GH, hp + b * H,
					c->hn + row * GH, hb, yr, H, u0, u1);
			break;
		}
	}
}

/* gates (M,GH) = b + row ids[i] of Wx (padded rows: b) over hidden units
 * [u0, u1) of every gate: one-hot x(t)·Wx is a row copy. */
static void gather_(const sp_rnn *r, cell_ *c, size_t M, const int32_t *ids,
		    const uint8_t *mask, size_t u0, size_t u1)
{
	const size_t H = r->H, GH = r->G * H;
	for (size_t i = 0; i < M; i++) {
		const float *w = c->Wx + (size_t)ids[i] * GH;
		float *g = c->gates + i * GH;
		for (size_t q = 0; q < r->G; q++) {
			for (size_t k = q * H + u0; k < q * H + u1; k++)
				g[k] = mask[i] ? c->b[k] + w[k] : c->b[k];
		}
	}
}

/* out (GH) += Σ over the M rows of A (M,GH), hidden units [u0, u1) of
 * every gate, in row order (so however the units are shared). */
static void colsum_(const float *A, size_t M, size_t G, size_t H, size_t u0,
		    size_t u1, float *out)
{
	for (size_t i = 0; i < M; i++)
		for (size_t q = 0; q < G; q++)
			for (size_t k = q * H + u0; k < q * H + u1; k++)
				out[k] += A[i * G * H + k];
}

/* The one-hot input's dWx: dG(t) scatter-added into row ids[t], hidden
 * units [u0, u1) of every gate. */
static void scatter_(const sp_rnn *r, cell_ *c, size_t M, const int32_t *ids,
		     const uint8_t *mask, size_t u0, size_t u1)
{
	const size_t H = r->H, GH = r->G * H;
	for (size_t i = 0; i < M; i++) {
		const float *g = c->dgates + i * GH;
		float *dw = c->dWx + (size_t)ids[i] * GH;
		if (!mask[i])
			continue;
		for (size_t q = 0; q < r->G; q++)
			for (size_t k = q * H + u0; k < q * H + u1; k++)
				dw[k] += g[k];
	}
}

#if SIMD_
/* The kernels' part of forward before the steps, on thread p's hidden
 * units [ua, ub) (whole column blocks): Wh (and Wx) packed, then
 * gates = b + X·Wx (or the one-hot row copy) for every step. */
static void fwd_prepare_(const recur_ *job, size_t ua, size_t ub)
{
	const sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t H = r->H, G = r->G, GH = G * H, M = job->T * job->B;
	const size_t U = spc_fwd_units(G), j0 = ua / U, j1 = (ub + U - 1) / U;

	spc_pack_cols(c->Wh, H, G, H, U / VL_, j0, j1, c->whp + j0 * H * G * U);
	if (!job->xin) {
		gather_(r, c, M, job->ids, job->mask, ua, ub);
		return;
	}
	spc_pack_cols(c->Wx, c->in, G, H, U / VL_, j0, j1,
		   c->wxp + j0 * c->in * G * U);
	for (size_t j = j0; j < j1; j++) {
		kblock_ kb;
		kb.K = c->in;
		kb.NV = spc_block_vecs(G, H, U / VL_, j, kb.off, kb.m);
		kb.P = c->wxp + j * c->in * G * U;
		spc_kprod(&kb, M, job->xin, c->in, 1, c->b, 0, c->gates, GH);
	}
}

static void bwd_dx_(const recur_ *job, team_ *tm, size_t p);

/*
 * The kernels' part of backward after the steps, on thread p of its team:
 * for its column blocks, dWh += Hprevᵀ·dGh and dWx += Xᵀ·dG, db += 1ᵀ·dG
 * (dbh += 1ᵀ·dGh: an FMA by 1 is an exact add, so these are the sums in
 * row order); then dX = dG·Wxᵀ (bwd_dx_) unless the layer defers it.
 *
 * The M = T*B rows are taken KC_ at a time.  The team first copies the
 * chunk of Hprev and X transposed into c->at (each thread a share of its
 * rows), so that the kernel reads every row of Aᵀ as a sequential stream;
 * read in place, Aᵀ's rows are columns of A, one cache line per k at a
 * stride of H floats, which the prefetchers follow badly: the products
 * ran at 115-130 GFLOP/s that way, 190 with the copy (H = 512, one core).
 * Chunks outside, column blocks inside, so the copy is read by every
 * block while it is in cache.  Each dW element is still one FMA chain in
 * row order, chunk after chunk: the result is the same as without copy
 * and for every split among threads.
 */
static void bwd_weights_(const recur_ *job, size_t p)
{
	sp_rnn *r = job->r;
	cell_ *c = job->c;
	team_ *tm = job->tm;
	const size_t H = r->H, G = r->G, GH = G * H, M = job->T * job->B;
	const size_t U = spc_fwd_units(G), in = job->xin ? c->in : 0;
	const float *hprev = c->h + (c->reverse ? job->B * H : 0);
	const float *at_x = c->at + H * AT_LD_;
	static const float one_ = 1.0f;
	float *dgp = r->dgp + p * KC_ * 4 * VL_;
	size_t ua, ub, i0, i1;

	units_of_(r, tm, U, p, &ua, &ub);
	spc_share(H + in, tm->n, p - tm->p0, &i0, &i1);
	for (size_t k0 = 0; k0 < M; k0 += KC_) {
		const size_t K = M - k0 < KC_ ? M - k0 : KC_;
		/* at (H + in, K) = [Hprev | X] rows k0.. transposed; this
		 * thread's rows i0..i1 of it */
		for (size_t k = 0; k < K; k++) {
			const float *hk = hprev + (k0 + k) * H;
			const float *xk = in ? job->xin + (k0 + k) * in : NULL;
			size_t ih = i1 < H ? i1 : H;
			for (size_t i = i0; i < ih; i++)
				c->at[i * AT_LD_ + k] = hk[i];
			for (size_t i = i0 > H ? i0 : H; i < i1; i++)
				c->at[i * AT_LD_ + k] = xk[i - H];
		}
		spc_team_barrier(tm);
		for (size_t j = ua / U; j < (ub + U - 1) / U; j++) {
			kblock_ kb;
			kb.NV = spc_block_vecs(G, H, U / VL_, j, kb.off, kb.m);
			kb.P = dgp;
			kb.K = K;
			spc_pack_cols(c->dgates_h + k0 * GH, K, G, H, U / VL_, j,
				   j + 1, dgp);
			spc_kprod(&kb, H, c->at, AT_LD_, 1, c->dWh, GH, c->dWh,
			       GH);
			if (c->dgates_h != c->dgates) {
				spc_kprod(&kb, 1, &one_, 0, 0, c->dbh, 0, c->dbh, 0);
				spc_pack_cols(c->dgates + k0 * GH, K, G, H, U / VL_,
					   j, j + 1, dgp);
			}
			spc_kprod(&kb, 1, &one_, 0, 0, c->db, 0, c->db, 0);
			if (in)
				spc_kprod(&kb, in, at_x, AT_LD_, 1, c->dWx, GH,
				       c->dWx, GH);
		}
		/* the next chunk's copy overwrites this one */
		spc_team_barrier(tm);
	}
	if (!job->xin)
		scatter_(r, c, M, job->ids, job->mask, ua, ub);
	if (job->dxin && !job->defer_dx)
		bwd_dx_(job, job->tm, p);
}

/* dX = dG·Wxᵀ on thread p of team tm: Wx packed by rows, each thread its
 * share, then once all are there, each thread its share of the rows.
 * The rows a thread gets depend only on the team's size and its place
 * in it, so the two directions' products (the second adding to the
 * first) meet in the same thread for a row and need no barrier between
 * them. */
static void bwd_dx_(const recur_ *job, team_ *tm, size_t p)
{
	const sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t GH = r->G * r->H, M = job->T * job->B, in = c->in;
	size_t j0, j1, m0, m1;

	spc_share((in + BWD_UNITS_ - 1) / BWD_UNITS_, tm->n, p - tm->p0, &j0, &j1);
	spc_pack_rows(c->Wx, in, GH, j0, j1, c->wxp + j0 * GH * BWD_UNITS_);
	spc_team_barrier(tm);
	spc_share(M, tm->n, p - tm->p0, &m0, &m1);
	for (size_t j = 0; j * BWD_UNITS_ < in && m0 < m1; j++) {
		kblock_ kb;
		kb.K = GH;
		kb.NV = spc_block_vecs(1, in, BWD_UNITS_ / VL_, j, kb.off, kb.m);
		kb.P = c->wxp + j * GH * BWD_UNITS_;
		spc_kprod(&kb, m1 - m0, c->dgates + m0 * GH, GH, 1,
		       job->beta != 0.0f ? job->dxin + m0 * in : NULL, in,
		       job->dxin + m0 * in, in);
	}
}
#endif /* SIMD_ */

/* Forward through time on thread p: its share of the hidden units at
 * every step, then the barrier (step t+1 needs all of h(t)). */
static void recur_fwd_(void *arg, size_t p)
{
	const recur_ *job = arg;
	sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t H = r->H, G = r->G, GH = G * H, T = job->T, B = job->B;
	const size_t U = spc_fwd_units(G);
	size_t ua, ub, width = units_of_(r, job->tm, U, p, &ua, &ub);

#if SIMD_
	if (r->simd && ua < ub)
		fwd_prepare_(job, ua, ub);
#endif
	for (size_t s = 0; s < T; s++) {
		size_t t = c->reverse ? T - 1 - s : s;
		size_t prev = c->reverse ? t + 1 : t;
		for (size_t u0 = ua; u0 < ub; u0 += width) {
			size_t u1 = u0 + width < ub ? u0 + width : ub;
			fwd_product_(r, c, B, c->h + prev * B * H,
				     c->gates + t * B * GH, hside_(r, c, t, B),
				     u0, u1);
			fwd_rows_(job, t, u0, u1);
		}
		spc_team_barrier(job->tm);
	}
}

/*
 * dh (B,H) = dhp + dA·Whᵀ for hidden units [u0, u1): ∂L/∂h(t) but for the
 * output's part, from the direct part dhp and dA = dGh(t+1) (B,GH); just
 * dhp when dA is NULL (the first step back).
 */
static void bwd_product_(const sp_rnn *r, const cell_ *c, size_t B,
			 const float *dA, const float *dhp, float *dh,
			 size_t u0, size_t u1)
{
	const size_t H = r->H, GH = r->G * H, n = u1 - u0;
#if SIMD_
	if (r->simd && dA) {
		size_t j = u0 / BWD_UNITS_;
		kblock_ kb;
		kb.K = GH;
		kb.NV = spc_block_vecs(1, H, BWD_UNITS_ / VL_, j, kb.off, kb.m);
		kb.P = c->whp + j * GH * BWD_UNITS_;
		spc_kprod(&kb, B, dA, GH, 1, dhp, H, dh, H);
		return;
	}
#endif
	for (size_t b = 0; b < B; b++)
		memcpy(dh + b * H + u0, dhp + b * H + u0, n * sizeof(float));
	if (dA)
		sp_gemm(0, 1, B, n, GH, 1.0f, dA, GH, c->Wh + u0 * GH, GH, 1.0f,
			dh + u0, H);
}

/* A custom cell's backward of row b at step t, hidden units [u0, u1):
 * dh (H) = ∂L/∂h(t) in, the gradients over the cached activations (and
 * the h side), ∂L/∂c(t-1) over ∂L/∂c(t), the direct part of ∂L/∂h(t-1)
 * into dhp (H). */
static void custom_bwd_(const recur_ *job, size_t t, size_t b,
			const float *dh, float *dhp, size_t u0, size_t u1)
{
	const sp_rnn *r = job->r;
	const cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, row = t * B + b;
	const size_t prev = c->reverse ? t + 1 : t, cur = c->reverse ? t : t + 1;
	sp_cell_row w = {
		.H = H, .u0 = u0, .u1 = u1, .a = c->gates + row * GH,
		.ah = r->split ? c->dgates_h + row * GH : NULL,
		.hp = c->h + (prev * B + b) * H, .h = c->h + (cur * B + b) * H,
		.dh = dh, .da = c->dgates + row * GH,
		.dah = r->split ? c->dgates_h + row * GH : NULL, .dhp = dhp,
		.param = r->ops->param};
	if (r->has_c) {
		w.cp = c->c + (prev * B + b) * H;
		w.c = c->c + (cur * B + b) * H;
		w.dc = c->s_dc + b * H;
	}
	memset(dhp + u0, 0, (u1 - u0) * sizeof(float));
	r->ops->backward(&w);
}

/*
 * Step t back for hidden units [u0, u1) of every row: adds ∂L/∂y(t) to dh,
 * then the gate gradients dG(t) (and dc := ∂L/∂c(t-1)) from it, and the
 * direct part of ∂L/∂h(t-1) into dhp.  Returns Σ ||∂L/∂h(t)||² over the
 * real rows, these units.
 */
static double bwd_rows_(const recur_ *job, size_t t, float *dh, float *dhp,
			size_t u0, size_t u1)
{
	const sp_rnn *r = job->r;
	const cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, n = u1 - u0;
	const sp_cell_kind kind = r->cfg.cell;
	const size_t prev = c->reverse ? t + 1 : t, cur = c->reverse ? t : t + 1;
	const float *hp = c->h + prev * B * H, *a = c->gates + t * B * GH;
	float *dA = c->dgates + t * B * GH, *dAh = c->dgates_h + t * B * GH;
	double ss = 0;

	for (size_t b = 0; b < B; b++) {
		size_t row = t * B + b;
		float *dhb = dh + b * H, *dhpb = dhp + b * H;
		if (!job->mask[row]) {
			/* padding: no gate gradient, ∂L/∂h passes */
			for (size_t g = 0; g < r->G; g++) {
				memset(dA + b * GH + g * H + u0, 0,
				       n * sizeof(float));
				if (dAh != dA)
					memset(dAh + b * GH + g * H + u0, 0,
					       n * sizeof(float));
			}
			memcpy(dhpb + u0, dhb + u0, n * sizeof(float));
			continue;
		}
		/* ∂L/∂h(t) = from the output + from step t+1 */
		ss += r->rows.dh_add(dhb, job->dy + row * job->ldy, u0, u1);
		if (r->ops) {
			custom_bwd_(job, t, b, dhb, dhpb, u0, u1);
			continue;
		}
		switch (kind) {
		case SP_CELL_RNN_TANH:
		case SP_CELL_RNN_RELU:
			r->rows.rnn_bwd(a + b * GH, dhb, dA + b * GH, u0, u1,
					kind == SP_CELL_RNN_RELU);
			memset(dhpb + u0, 0, n * sizeof(float));
			break;
		case SP_CELL_LSTM:
			r->rows.lstm_bwd(a + b * GH, c->c + prev * B * H + b * H,
					 c->c + cur * B * H + b * H, dhb,
					 c->s_dc + b * H,
					 dA + b * GH, H, u0, u1);
			memset(dhpb + u0, 0, n * sizeof(float));
			break;
		case SP_CELL_GRU:
			r->rows.gru_bwd(a + b * GH, hp + b * H, c->hn + row * GH,
					dhb, dA + b * GH, dAh + b * GH, dhpb, H,
					u0, u1);
			break;
		}
	}
	return ss;
}

/* Backward through time on thread p, its share of the hidden units at
 * every step, then the barrier (step t-1 needs all of dGh(t)). */
static void recur_bwd_(void *arg, size_t p)
{
	const recur_ *job = arg;
	sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, T = job->T, B = job->B;
	float *dh = c->s_dh, *dhp = c->s_dhp;
	const float *dA = NULL; /* dGh of the step before (t+1) */
	size_t ua, ub, width = units_of_(r, job->tm, BWD_UNITS_, p, &ua, &ub);

	if (r->simd && ua < ub)
		spc_pack_rows(c->Wh, H, GH, ua / BWD_UNITS_,
			   (ub + BWD_UNITS_ - 1) / BWD_UNITS_,
			   c->whp + ua * GH);
	/* ∂L/∂h and ∂L/∂c flowing back from beyond the last step: none */
	for (size_t b = 0; b < B; b++) {
		memset(dhp + b * H + ua, 0, (ub - ua) * sizeof(float));
		memset(c->s_dc + b * H + ua, 0, (ub - ua) * sizeof(float));
	}
	for (size_t s = 0; s < T; s++) {
		size_t t = c->reverse ? s : T - 1 - s;
		double ss = 0;
		for (size_t u0 = ua; u0 < ub; u0 += width) {
			size_t u1 = u0 + width < ub ? u0 + width : ub;
			bwd_product_(r, c, B, dA, dhp, dh, u0, u1);
			ss += bwd_rows_(job, t, dh, dhp, u0, u1);
		}
		c->part[p * T + t] = ss;
		dA = c->dgates_h + t * B * GH;
		spc_team_barrier(job->tm);
	}
	for (size_t u0 = ua; u0 < ub && job->dh0; u0 += width)
		bwd_product_(r, c, B, dA, dhp, job->dh0, u0,
			     u0 + width < ub ? u0 + width : ub);
	for (size_t b = 0; b < B && job->dc0; b++)
		memcpy(job->dc0 + b * H + ua, c->s_dc + b * H + ua,
		       (ub - ua) * sizeof(float));
#if SIMD_
	if (r->simd)
		bwd_weights_(job, p);
#endif
}

/*
 * Forward, before the steps.  The job names the cell, the batch and the
 * layer input: xin (T*B, in), or NULL with ids (T*B) when the input is
 * one-hot; y (T*B, ldy) receives h in columns [0,H) of each row; h0, c0
 * (B,H) are the initial state or NULL for zero.
 */
void spc_fwd_begin(sp_rnn *r, const recur_ *job, const float *h0,
		       const float *c0)
{
	cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, M = job->T * B;
	float *hinit = c->h + (c->reverse ? M * H : 0);

	/* 1. The input projection of every step in one product:
	 *    gates (M,GH) = xin (M,in) · Wx (in,GH) + b, or the one-hot row
	 *    copy.  (The kernels do this in the job, each thread its own
	 *    columns.) */
	if (!r->simd && job->xin) {
		for (size_t i = 0; i < M; i++)
			memcpy(c->gates + i * GH, c->b, GH * sizeof(float));
		sp_gemm(0, 0, M, GH, c->in, 1.0f, job->xin, c->in, c->Wx, GH,
			1.0f, c->gates, GH);
	} else if (!r->simd) {
		gather_(r, c, M, job->ids, job->mask, 0, H);
	}

	/* 2. The initial state: h[0] forward, h[T] reverse. */
	if (h0)
		memcpy(hinit, h0, B * H * sizeof(float));
	else
		memset(hinit, 0, B * H * sizeof(float));
	if (r->has_c) {
		float *cinit = c->c + (c->reverse ? M * H : 0);
		if (c0)
			memcpy(cinit, c0, B * H * sizeof(float));
		else
			memset(cinit, 0, B * H * sizeof(float));
	}
}

/* The jobs of a paired layer: thread p works on the direction whose
 * team it is in. */
static void pair_fwd_(void *arg, size_t p)
{
	recur_ *jobs = arg;
	recur_fwd_(&jobs[p >= jobs[1].tm->p0], p);
}

static void pair_bwd_(void *arg, size_t p)
{
	recur_ *jobs = arg;
	recur_bwd_(&jobs[p >= jobs[1].tm->p0], p);
}

#if SIMD_
/* dX of a paired layer, once both directions are done: the forward
 * direction's product written, the reverse one's added, by all threads. */
static void pair_dx_(void *arg, size_t p)
{
	recur_ *jobs = arg;
	for (size_t d = 0; d < 2; d++)
		bwd_dx_(&jobs[d], &jobs[0].r->whole, p);
}
#endif

/* The layer's forward: 3. the recurrence, one product per step, then the
 * gate math, the hidden units shared among the threads (or the teams). */
void spc_layer_forward(sp_rnn *r, recur_ *jobs)
{
	if (r->paired) {
		spc_run(&r->pool, pair_fwd_, jobs);
		return;
	}
	for (size_t d = 0; d < r->ND; d++)
		spc_run(&r->pool, recur_fwd_, &jobs[d]);
}

/*
 * Backward, after the steps: ||∂L/∂h(t)|| from the team's parts, and on
 * the portable path the weight gradients and dX.  dy (T*B, ldy): ∂L/∂y in
 * columns [0,H); xin/ids as in forward.  Accumulates dWx, dWh, db (dbh);
 * dxin (T*B, in) = dG·Wxᵀ, written (beta 0) or added (beta 1), when not
 * NULL.
 */
static void bwd_end_(sp_rnn *r, const recur_ *job)
{
	cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, T = job->T, M = T * job->B;
	const team_ *tm = job->tm;

	for (size_t t = 0; t < T; t++) {
		double ss = 0;
		for (size_t p = tm->p0; p < tm->p0 + tm->n; p++)
			ss += c->part[p * T + t];
		c->dh_norm[t] = (float)sqrt(ss);
	}

	/* Weight gradients of all steps at once (the kernels did them in
	 * the job).  The states h(t-1) of the steps t = 0..T-1 are rows
	 * [0,T) of h forward, [1,T+1) reverse:
	 *   dWh (H,GH) += Hprevᵀ (H,M) · dGh (M,GH) */
	if (r->simd)
		return;
	sp_gemm(1, 0, H, GH, M, 1.0f, c->h + (c->reverse ? job->B * H : 0),
		H, c->dgates_h, GH, 1.0f, c->dWh, GH);
	if (job->xin)
		/* dWx (in,GH) += Xᵀ (in,M) · dG (M,GH) */
		sp_gemm(1, 0, c->in, GH, M, 1.0f, job->xin, c->in, c->dgates,
			GH, 1.0f, c->dWx, GH);
	else
		scatter_(r, c, M, job->ids, job->mask, 0, H);
	colsum_(c->dgates, M, r->G, H, 0, H, c->db);
	if (r->split)
		colsum_(c->dgates_h, M, r->G, H, 0, H, c->dbh);
	if (job->dxin)
		/* dX (M,in) = dG (M,GH) · Wxᵀ (GH,in) */
		sp_gemm(0, 1, M, c->in, GH, 1.0f, c->dgates, GH, c->Wx, GH,
			job->beta, job->dxin, c->in);
}

/* The layer's backward: the recurrence, ∂L/∂h(t) = [direct part] +
 * dGh(t+1)·Whᵀ + ∂L/∂y(t), then dG(t), shared among the threads (or the
 * teams, with dX after both directions). */
void spc_layer_backward(sp_rnn *r, recur_ *jobs)
{
	if (r->paired) {
		spc_run(&r->pool, pair_bwd_, jobs);
#if SIMD_
		if (jobs[0].dxin)
			spc_run(&r->pool, pair_dx_, jobs);
#endif
	} else {
		for (size_t d = 0; d < r->ND; d++)
			spc_run(&r->pool, recur_bwd_, &jobs[d]);
	}
	for (size_t d = 0; d < r->ND; d++)
		bwd_end_(r, &jobs[d]);
}
