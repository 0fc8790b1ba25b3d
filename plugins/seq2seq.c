/*
 * seq2seq.c: the `decoder` head, the decoder half of an encoder-decoder
 * with attention (translation).  The host's model stage is the encoder:
 * the head receives its states E (S,B,He) over the source and the target
 * sequence (sp_labels, T' steps: tokens then <eos>), runs its own
 * recurrent decoder over the target (seq2seq_cell.c) with attention over
 * E (core sp_attn), and passes ∂L/∂E back to the encoder.  The equations
 * are in seq2seq_impl.h.
 *
 * Teacher forcing: in training the input of step t is the gold token
 * y(t-1) with probability tf (per row and step), else the model's own
 * most likely token of step t-1 (scheduled sampling, Bengio et al. 2015;
 * no gradient flows through that choice).  tf goes from tf_ratio at the
 * first epoch to tf_ratio_end at the last (tf_schedule = linear).  On dev
 * and test the head reports both the teacher-forced loss (`loss`) and the
 * free-running one (`loss_free`: every input its own previous guess),
 * whose gap is the exposure bias.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seq2seq_impl.h"
#include "sp_act.h"
#include "sp_blas.h"
#include "sp_vocab.h"

/* ---- weights ------------------------------------------------------- */

static void add_w(s2s *d, const char *name, int ndim, size_t d0, size_t d1)
{
	sp_weight *w = &d->w[d->n_w++];
	w->name = name;
	w->ndim = ndim;
	w->dim[0] = d0;
	w->dim[1] = d1;
}

static void declare(s2s *d)
{
	size_t GH = d->cell.G * d->H;
	d->n_w = 0;
	add_w(d, "emb", 2, d->V, d->E);
	add_w(d, "init.W", 2, d->He, d->H);
	add_w(d, "init.b", 1, d->H, 0);
	add_w(d, "dec.Wx", 2, d->I, GH);
	add_w(d, "dec.Wh", 2, d->H, GH);
	if (d->cell.kind == S2S_GRU) {
		add_w(d, "dec.bx", 1, GH, 0);
		add_w(d, "dec.bh", 1, GH, 0);
	} else {
		add_w(d, "dec.b", 1, GH, 0);
	}
	if (d->n_attn)
		add_w(d, "attn", 1, d->n_attn, 0);
	add_w(d, "out.Wc", 2, d->H + d->He, d->H);
	add_w(d, "out.bc", 1, d->H, 0);
	add_w(d, "out.W", 2, d->H, d->V);
	add_w(d, "out.b", 1, d->V, 0);
}

static int s2s_weights(const void *self, const sp_weight **out, size_t *n_out)
{
	const s2s *d = self;
	*out = d->w;
	*n_out = d->n_w;
	return SP_OK;
}

static int s2s_bind(void *self, float *const *v, float *const *g)
{
	s2s *d = self;
	size_t k = 0;
	d->emb = v[k], d->demb = g[k++];
	d->Wi = v[k], d->dWi = g[k++];
	d->bi = v[k], d->dbi = g[k++];
	d->cell.Wx = v[k], d->cell.dWx = g[k++];
	d->cell.Wh = v[k], d->cell.dWh = g[k++];
	d->cell.b = v[k], d->cell.db = g[k++];
	if (d->cell.kind == S2S_GRU)
		d->cell.bh = v[k], d->cell.dbh = g[k++];
	if (d->n_attn) {
		d->pa = v[k], d->dpa = g[k++];
		sp_attn_bind(d->attn, d->pa, d->dpa);
	}
	d->Wc = v[k], d->dWc = g[k++];
	d->bc = v[k], d->dbc = g[k++];
	d->Wo = v[k], d->dWo = g[k++];
	d->bo = v[k], d->dbo = g[k++];
	return SP_OK;
}

static void xavier(sp_ctx *ctx, float *w, size_t fan_in, size_t fan_out)
{
	float r = (float)sqrt(6.0 / (double)(fan_in + fan_out));
	sp_fill_uniform(ctx, w, fan_in * fan_out, -r, r);
}

static int s2s_init(void *self, sp_ctx *ctx)
{
	s2s *d = self;
	size_t GH = d->cell.G * d->H;
	float u = (float)(1.0 / sqrt((double)d->H));
	sp_fill_uniform(ctx, d->emb, d->V * d->E, -0.1f, 0.1f);
	xavier(ctx, d->Wi, d->He, d->H);
	memset(d->bi, 0, d->H * sizeof(float));
	/* the engine's default: U(-1/sqrt(H), 1/sqrt(H)) (PyTorch) */
	sp_fill_uniform(ctx, d->cell.Wx, d->I * GH, -u, u);
	sp_fill_uniform(ctx, d->cell.Wh, d->H * GH, -u, u);
	sp_fill_uniform(ctx, d->cell.b, GH, -u, u);
	if (d->cell.kind == S2S_GRU)
		sp_fill_uniform(ctx, d->cell.bh, GH, -u, u);
	if (d->n_attn)
		sp_attn_init_params(d->attn, ctx);
	xavier(ctx, d->Wc, d->H + d->He, d->H);
	memset(d->bc, 0, d->H * sizeof(float));
	xavier(ctx, d->Wo, d->H, d->V);
	memset(d->bo, 0, d->V * sizeof(float));
	return SP_OK;
}

/* ---- buffers --------------------------------------------------------- */

static void bufs_free(s2s *d)
{
	float **f[] = {&d->mean, &d->X, &d->Sst, &d->Cst, &d->A, &d->AHn, &d->Ctx, &d->U,
		       &d->Fv, &d->P, &d->tmp, &d->dF, &d->dS, &d->dC, &d->dX, &d->dU,
		       &d->dZ, &d->dL, &d->da, &d->dah, &d->dSp, &d->dEs, &d->wts,
		       &d->Me, &d->Mf, &d->Fd};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
	free(d->in_id);
	d->in_id = NULL;
	d->cap_T = d->cap_B = d->cap_S = 0;
}

/* Buffers for T target steps, B rows, S source steps; grow only. */
static int reserve(s2s *d, sp_ctx *ctx, size_t T, size_t B, size_t S)
{
	size_t H = d->H, He = d->He, GH = d->cell.G * H, cT, cB, cS;
	if (T <= d->cap_T && B <= d->cap_B && S <= d->cap_S)
		return SP_OK;
	cT = T > d->cap_T ? T : d->cap_T;
	cB = B > d->cap_B ? B : d->cap_B;
	cS = S > d->cap_S ? S : d->cap_S;
	bufs_free(d);
#define ALLOC(p, n) ((p) = malloc(((n) + 1) * sizeof(*(p))))
	if (!ALLOC(d->in_id, cT * cB) || !ALLOC(d->mean, cB * He) ||
	    !ALLOC(d->X, cT * cB * d->I) || !ALLOC(d->Sst, (cT + 1) * cB * H) ||
	    !ALLOC(d->Cst, (cT + 1) * cB * H) || !ALLOC(d->A, cT * cB * GH) ||
	    !ALLOC(d->AHn, cT * cB * H) || !ALLOC(d->Ctx, cT * cB * He) ||
	    !ALLOC(d->U, cT * cB * (H + He)) || !ALLOC(d->Fv, cT * cB * H) ||
	    !ALLOC(d->P, cT * cB * d->V) || !ALLOC(d->tmp, cB * GH) || !ALLOC(d->dF, cB * H) ||
	    !ALLOC(d->dS, cB * H) || !ALLOC(d->dC, cB * H) || !ALLOC(d->dX, cB * d->I) ||
	    !ALLOC(d->dU, cB * (H + He)) || !ALLOC(d->dZ, cB * H) || !ALLOC(d->dL, cB * d->V) ||
	    !ALLOC(d->da, cB * GH) || !ALLOC(d->dah, cB * GH) || !ALLOC(d->dSp, cB * H) ||
	    !ALLOC(d->dEs, cB * He) || !ALLOC(d->wts, cS * cB) ||
	    !ALLOC(d->Me, cT * cB * d->E) || !ALLOC(d->Mf, cT * cB * H) || !ALLOC(d->Fd, cB * H)) {
		bufs_free(d);
		return sp_err(ctx, SP_ENOMEM, "decoder: out of memory for a batch of %zu x %zu", T, B);
	}
#undef ALLOC
	d->cap_T = cT;
	d->cap_B = cB;
	d->cap_S = cS;
	return SP_OK;
}

/* The cache of step t (0-based) of the last forward. */
static void step_at(const s2s *d, size_t t, s2s_step *st)
{
	size_t B = d->B, H = d->H;
	st->x = d->X + t * B * d->I;
	st->sp = d->Sst + t * B * H;
	st->s = d->Sst + (t + 1) * B * H;
	st->cp = d->cell.kind == S2S_LSTM ? d->Cst + t * B * H : NULL;
	st->c = d->cell.kind == S2S_LSTM ? d->Cst + (t + 1) * B * H : NULL;
	st->a = d->A + t * B * d->cell.G * H;
	st->ahn = d->AHn + t * B * H;
}

/* ---- one step -------------------------------------------------------- */

void s2s_init_state(s2s *d, size_t Bn, size_t S, const float *enc, const uint8_t *mask,
		    float *mean, float *s)
{
	size_t He = d->He, H = d->H;
	for (size_t b = 0; b < Bn; b++) {
		float *m = mean + b * He;
		size_t n = 0;
		memset(m, 0, He * sizeof(float));
		for (size_t t = 0; t < S; t++) {
			if (mask && !mask[t * Bn + b])
				continue;
			for (size_t k = 0; k < He; k++)
				m[k] += enc[(t * Bn + b) * He + k];
			n++;
		}
		for (size_t k = 0; k < He && n; k++)
			m[k] /= (float)n;
		memcpy(s + b * H, d->bi, H * sizeof(float));
	}
	sp_gemm(0, 0, Bn, H, He, 1.0f, mean, He, d->Wi, H, 1.0f, s, H);
	for (size_t i = 0; i < Bn * H; i++)
		s[i] = tanhf(s[i]);
}

void s2s_make_input(const s2s *d, size_t Bn, const int32_t *id, const float *fprev, float *x)
{
	for (size_t b = 0; b < Bn; b++) {
		float *xr = x + b * d->I;
		memcpy(xr, d->emb + (size_t)id[b] * d->E, d->E * sizeof(float));
		if (d->feed) {
			if (fprev)
				memcpy(xr + d->E, fprev + b * d->H, d->H * sizeof(float));
			else
				memset(xr + d->E, 0, d->H * sizeof(float));
		}
	}
}

int s2s_step_forward(s2s *d, sp_ctx *ctx, size_t Bn, size_t S, const float *enc,
		     const uint8_t *mask, const s2s_step *st, float *ctxv, float *u,
		     float *f, float *p, float *weights, float *tmp, const float *fmask)
{
	const float *fo = f;
	size_t H = d->H, He = d->He, V = d->V;
	int rc;
	s2s_cell_forward(&d->cell, Bn, st, tmp);
	rc = sp_attn_forward(d->attn, ctx, S, Bn, enc, mask, st->s, ctxv, weights);
	if (rc < 0)
		return rc;
	for (size_t b = 0; b < Bn; b++) {
		memcpy(u + b * (H + He), st->s + b * H, H * sizeof(float));
		memcpy(u + b * (H + He) + H, ctxv + b * He, He * sizeof(float));
		memcpy(f + b * H, d->bc, H * sizeof(float));
		memcpy(p + b * V, d->bo, V * sizeof(float));
	}
	sp_gemm(0, 0, Bn, H, H + He, 1.0f, u, H + He, d->Wc, H, 1.0f, f, H);
	for (size_t i = 0; i < Bn * H; i++)
		f[i] = tanhf(f[i]);
	if (fmask) { /* output dropout: only on the way to the logits */
		for (size_t i = 0; i < Bn * H; i++)
			d->Fd[i] = f[i] * fmask[i];
		fo = d->Fd;
	}
	sp_gemm(0, 0, Bn, V, H, 1.0f, fo, H, d->Wo, V, 1.0f, p, V);
	for (size_t b = 0; b < Bn; b++)
		sp_softmaxf(p + b * V, V);
	return SP_OK;
}

static int32_t argmax(const float *p, size_t n)
{
	size_t best = 0;
	for (size_t k = 1; k < n; k++)
		if (p[k] > p[best])
			best = k;
	return (int32_t)best;
}

/* The input token of step t, row b: <bos> first, then the gold token
 * with probability `ratio`, else the previous step's guess. */
static int32_t input_token(s2s *d, sp_ctx *ctx, size_t t, size_t b, double ratio)
{
	int32_t gold, guess;
	if (t == 0)
		return d->bos;
	gold = d->y[(t - 1) * d->B + b];
	guess = argmax(d->P + ((t - 1) * d->B + b) * d->V, d->V);
	if (gold < 0)
		gold = d->eos; /* past the target's end: no loss reads it */
	if (ratio >= 1.0)
		return gold;
	if (ratio <= 0.0)
		return guess;
	return sp_rng_uniform(ctx) < ratio ? gold : guess;
}

/* Inverted dropout scales: 0 with probability rate, else 1/(1-rate). */
static void drop_mask(sp_ctx *ctx, float *m, size_t n, double rate)
{
	const float keep = (float)(1.0 / (1.0 - rate));
	for (size_t i = 0; i < n; i++)
		m[i] = sp_rng_uniform(ctx) < rate ? 0.0f : keep;
}

/* The decoder over all T target steps with the given teacher-forcing
 * ratio; the summed loss, its count and correct guesses. */
static int run_steps(s2s *d, sp_ctx *ctx, double ratio, double *loss, size_t *n, size_t *ok)
{
	size_t B = d->B, H = d->H, He = d->He, V = d->V;
	double sum = 0;
	size_t cnt = 0, good = 0;
	int rc = sp_attn_pin(d->attn, ctx, d->S, B, d->enc);
	if (rc < 0)
		return rc;
	s2s_init_state(d, B, d->S, d->enc, d->mask, d->mean, d->Sst);
	if (d->cell.kind == S2S_LSTM)
		memset(d->Cst, 0, B * H * sizeof(float));
	for (size_t t = 0; t < d->T; t++) {
		s2s_step st;
		int32_t *ids = d->in_id + t * B;
		float *p = d->P + t * B * V, *mf = NULL;
		step_at(d, t, &st);
		for (size_t b = 0; b < B; b++)
			ids[b] = input_token(d, ctx, t, b, ratio);
		s2s_make_input(d, B, ids, t ? d->Fv + (t - 1) * B * H : NULL, st.x);
		if (d->drop && d->drop_emb > 0) {
			float *me = d->Me + t * B * d->E;
			drop_mask(ctx, me, B * d->E, d->drop_emb);
			for (size_t b = 0; b < B; b++)
				for (size_t k = 0; k < d->E; k++)
					st.x[b * d->I + k] *= me[b * d->E + k];
		}
		if (d->drop && d->drop_out > 0)
			drop_mask(ctx, mf = d->Mf + t * B * H, B * H, d->drop_out);
		rc = s2s_step_forward(d, ctx, B, d->S, d->enc, d->mask, &st, d->Ctx + t * B * He,
				      d->U + t * B * (H + He), d->Fv + t * B * H, p, NULL, d->tmp, mf);
		if (rc < 0)
			return rc;
		for (size_t b = 0; b < B; b++) {
			int32_t y = d->y[t * B + b];
			if (y < 0)
				continue;
			sum -= log(fmax((double)p[b * V + (size_t)y], 1e-30));
			cnt++;
			good += argmax(p + b * V, V) == y;
		}
	}
	*loss = sum;
	*n = cnt;
	*ok = good;
	return SP_OK;
}

static int s2s_forward(void *self, sp_ctx *ctx, const sp_seq *h, const sp_labels *y,
		       double *loss, size_t *n_loss, int train)
{
	s2s *d = self;
	double l = 0;
	size_t n = 0, ok = 0;
	int rc;
	if (h->D != d->He)
		return sp_err(ctx, SP_EINVAL, "decoder: input width %zu, expected %zu", h->D, d->He);
	d->train = 0;
	d->has_y = y != NULL;
	if (!y) { /* no target: nothing to run (generate decodes) */
		if (loss)
			*loss = 0;
		if (n_loss)
			*n_loss = 0;
		return SP_OK;
	}
	if (y->B != h->B)
		return sp_err(ctx, SP_EINVAL, "decoder: %zu target rows for %zu sources", y->B, h->B);
	if ((rc = reserve(d, ctx, y->T, h->B, h->T)) < 0)
		return rc;
	d->T = y->T;
	d->S = h->T;
	d->B = h->B;
	d->enc = h->x;
	d->mask = h->mask;
	d->len = h->len;
	d->y = y->id;
	for (size_t i = 0; i < y->T * y->B; i++)
		if (y->id[i] >= (int32_t)d->V)
			return sp_err(ctx, SP_EINPUT, "decoder: target id %d outside the vocabulary of %zu",
				      (int)y->id[i], d->V);
	d->drop = train;
	if (!train) { /* the free-running loss first; the cache ends teacher-forced */
		if ((rc = run_steps(d, ctx, 0.0, &l, &n, &ok)) < 0)
			return rc;
		d->m_free += l;
		d->m_nfree += n;
		d->m_okfree += ok;
	}
	if ((rc = run_steps(d, ctx, train ? d->tf : 1.0, &l, &n, &ok)) < 0)
		return rc;
	if (!isfinite(l))
		return sp_err(ctx, SP_ENUMERIC, "decoder: loss is not finite");
	d->m_loss += l;
	d->m_n += n;
	d->m_ok += ok;
	d->train = train;
	if (loss)
		*loss = l;
	if (n_loss)
		*n_loss = n;
	return SP_OK;
}

/* ---- backward through time ---------------------------------------- */

/* Step t's output layers backward: from the loss (dL = (p - onehot)/scale)
 * and the fed-back dF, to dS (from f and the attention) and into denc. */
static int output_backward(s2s *d, sp_ctx *ctx, size_t t, float g, float *denc)
{
	size_t B = d->B, H = d->H, He = d->He, V = d->V;
	const float *p = d->P + t * B * V, *f = d->Fv + t * B * H, *u = d->U + t * B * (H + He);
	s2s_step st;
	int rc;
	for (size_t b = 0; b < B; b++) {
		int32_t y = d->y[t * B + b];
		float *dl = d->dL + b * V;
		if (y < 0) {
			memset(dl, 0, V * sizeof(float));
			continue;
		}
		for (size_t k = 0; k < V; k++)
			dl[k] = g * p[b * V + k];
		dl[y] -= g;
	}
	/* logits = (f ⊙ m)·Wo + bo, m the output dropout's scales (or 1) */
	if (d->drop && d->drop_out > 0) {
		const float *mf = d->Mf + t * B * H;
		for (size_t i = 0; i < B * H; i++)
			d->Fd[i] = f[i] * mf[i];
		sp_gemm(1, 0, H, V, B, 1.0f, d->Fd, H, d->dL, V, 1.0f, d->dWo, V);
		sp_gemm(0, 1, B, H, V, 1.0f, d->dL, V, d->Wo, V, 0.0f, d->Fd, H);
		for (size_t i = 0; i < B * H; i++)
			d->dF[i] += d->Fd[i] * mf[i];
	} else {
		sp_gemm(1, 0, H, V, B, 1.0f, f, H, d->dL, V, 1.0f, d->dWo, V);
		sp_gemm(0, 1, B, H, V, 1.0f, d->dL, V, d->Wo, V, 1.0f, d->dF, H);
	}
	for (size_t b = 0; b < B; b++)
		for (size_t k = 0; k < V; k++)
			d->dbo[k] += d->dL[b * V + k];
	/* f = tanh(u·Wc + bc) */
	for (size_t i = 0; i < B * H; i++)
		d->dZ[i] = d->dF[i] * (1.0f - f[i] * f[i]);
	sp_gemm(1, 0, H + He, H, B, 1.0f, u, H + He, d->dZ, H, 1.0f, d->dWc, H);
	for (size_t b = 0; b < B; b++)
		for (size_t k = 0; k < H; k++)
			d->dbc[k] += d->dZ[b * H + k];
	sp_gemm(0, 1, B, H + He, H, 1.0f, d->dZ, H, d->Wc, H, 0.0f, d->dU, H + He);
	/* u = [s ; context]: the context's part through the attention, whose
	 * cache is rebuilt for step t (it keeps one step) */
	step_at(d, t, &st);
	for (size_t b = 0; b < B; b++) {
		for (size_t k = 0; k < H; k++)
			d->dS[b * H + k] += d->dU[b * (H + He) + k];
		memcpy(d->dEs + b * He, d->dU + b * (H + He) + H, He * sizeof(float));
	}
	rc = sp_attn_forward(d->attn, ctx, d->S, B, d->enc, d->mask, st.s, d->Ctx + t * B * He, NULL);
	if (rc < 0)
		return rc;
	return sp_attn_backward(d->attn, ctx, d->dEs, denc, d->dS);
}

static int s2s_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh)
{
	s2s *d = self;
	size_t B = d->B, H = d->H, He = d->He, E = d->E;
	const float g = (float)(1.0 / scale);
	int rc;
	if (!d->train || !d->has_y)
		return sp_err(ctx, SP_EINVAL, "decoder: backward without a training forward");
	if (dh->T != d->S || dh->B != B || dh->D != He)
		return sp_err(ctx, SP_EINVAL, "decoder: dh is %zux%zux%zu, expected %zux%zux%zu",
			      dh->T, dh->B, dh->D, d->S, B, He);
	memset(d->dF, 0, B * H * sizeof(float));
	memset(d->dS, 0, B * H * sizeof(float));
	memset(d->dC, 0, B * H * sizeof(float));
	for (size_t t = d->T; t-- > 0;) {
		s2s_step st;
		if ((rc = output_backward(d, ctx, t, g, dh->x)) < 0)
			return rc;
		step_at(d, t, &st);
		s2s_cell_backward(&d->cell, B, &st, d->dS, d->cell.kind == S2S_LSTM ? d->dC : NULL,
				  d->dX, d->dSp, d->da, d->dah);
		/* x = [emb(id) ; f(t-1)] */
		for (size_t b = 0; b < B; b++) {
			float *de = d->demb + (size_t)d->in_id[t * B + b] * E;
			const float *me = d->drop && d->drop_emb > 0 ? d->Me + (t * B + b) * E : NULL;
			for (size_t k = 0; k < E; k++)
				de[k] += me ? d->dX[b * d->I + k] * me[k] : d->dX[b * d->I + k];
			if (d->feed)
				memcpy(d->dF + b * H, d->dX + b * d->I + E, H * sizeof(float));
		}
		if (!d->feed)
			memset(d->dF, 0, B * H * sizeof(float));
		memcpy(d->dS, d->dSp, B * H * sizeof(float));
	}
	/* the attention's summed gradient through Ue·E (additive) */
	if ((rc = sp_attn_pin_backward(d->attn, ctx, dh->x)) < 0)
		return rc;
	sp_attn_unpin(d->attn);
	/* s(-1) = tanh(mean·Wi + bi); mean = Σ_s E[s] / n over the real s */
	{
		const float *s0 = d->Sst;
		float *dm = d->dU; /* (B,He) fits in (B,H+He) */
		for (size_t i = 0; i < B * H; i++)
			d->dZ[i] = d->dS[i] * (1.0f - s0[i] * s0[i]);
		sp_gemm(1, 0, He, H, B, 1.0f, d->mean, He, d->dZ, H, 1.0f, d->dWi, H);
		for (size_t b = 0; b < B; b++)
			for (size_t k = 0; k < H; k++)
				d->dbi[k] += d->dZ[b * H + k];
		sp_gemm(0, 1, B, He, H, 1.0f, d->dZ, H, d->Wi, H, 0.0f, dm, He);
		for (size_t b = 0; b < B; b++) {
			size_t n = 0;
			for (size_t s = 0; s < d->S; s++)
				n += !d->mask || d->mask[s * B + b];
			for (size_t s = 0; s < d->S && n; s++) {
				if (d->mask && !d->mask[s * B + b])
					continue;
				for (size_t k = 0; k < He; k++)
					dh->x[(s * B + b) * He + k] += dm[b * He + k] / (float)n;
			}
		}
	}
	d->train = 0; /* once per training forward */
	return SP_OK;
}

/* ---- metrics, predictions, schedule ---------------------------------- */

static int s2s_metrics_reset(void *self)
{
	s2s *d = self;
	d->m_loss = d->m_free = 0;
	d->m_n = d->m_nfree = d->m_ok = d->m_okfree = 0;
	return SP_OK;
}

static int s2s_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit, void *payload)
{
	s2s *d = self;
	int rc;
	(void)ctx;
	if (!d->m_n)
		return SP_OK;
	if ((rc = emit(payload, "loss", d->m_loss / (double)d->m_n)) < 0 ||
	    (rc = emit(payload, "perplexity", exp(d->m_loss / (double)d->m_n))) < 0 ||
	    (rc = emit(payload, "accuracy", (double)d->m_ok / (double)d->m_n)) < 0)
		return rc;
	if (d->m_nfree &&
	    ((rc = emit(payload, "loss_free", d->m_free / (double)d->m_nfree)) < 0 ||
	     (rc = emit(payload, "accuracy_free", (double)d->m_okfree / (double)d->m_nfree)) < 0))
		return rc;
	return SP_OK;
}

/* The k most likely tokens of every real target step of the last
 * (teacher-forced) forward. */
static int s2s_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit, void *payload)
{
	s2s *d = self;
	(void)ctx;
	if (!d->has_y)
		return SP_OK;
	for (size_t t = 0; t < d->T; t++)
		for (size_t b = 0; b < d->B; b++) {
			const float *p = d->P + (t * d->B + b) * d->V;
			int32_t prev = -1;
			if (d->y[t * d->B + b] < 0)
				continue;
			for (size_t r = 0; r < k && r < d->V; r++) {
				int32_t best = -1;
				for (size_t v = 0; v < d->V; v++)
					if ((prev < 0 || p[v] < p[prev] || (p[v] == p[prev] && (int32_t)v > prev)) &&
					    (best < 0 || p[v] > p[best]))
						best = (int32_t)v;
				int rc = emit(payload, t, b, r, best, p[best]);
				if (rc < 0)
					return rc;
				prev = best;
			}
		}
	return SP_OK;
}

static int s2s_sample(void *self, sp_ctx *ctx, size_t t, size_t b, double temperature,
		      int32_t *out_id)
{
	s2s *d = self;
	const float *p;
	double sum = 0, u, acc = 0;
	if (!d->has_y || t >= d->T || b >= d->B)
		return sp_err(ctx, SP_EINVAL, "decoder: no step %zu of row %zu to sample", t, b);
	p = d->P + (t * d->B + b) * d->V;
	for (size_t v = 0; v < d->V; v++)
		sum += pow(fmax(p[v], 1e-30), 1.0 / temperature);
	u = sp_rng_uniform(ctx) * sum;
	for (size_t v = 0; v < d->V; v++) {
		acc += pow(fmax(p[v], 1e-30), 1.0 / temperature);
		if (acc >= u) {
			*out_id = (int32_t)v;
			return SP_OK;
		}
	}
	*out_id = (int32_t)d->V - 1;
	return SP_OK;
}

static int s2s_epoch(void *self, sp_ctx *ctx, size_t epoch, size_t epochs)
{
	s2s *d = self;
	(void)ctx;
	d->tf = d->tf0;
	if (d->tf_linear && epochs > 1)
		d->tf = d->tf0 + (d->tf1 - d->tf0) * (double)epoch / (double)(epochs - 1);
	return SP_OK;
}

/* ---- create ---------------------------------------------------------- */

static void s2s_destroy(void *self)
{
	s2s *d = self;
	if (!d)
		return;
	bufs_free(d);
	sp_attn_free(d->attn);
	free(d);
}

static int read_cell(s2s *d, sp_ctx *ctx, const sp_kv *args)
{
	const char *c = sp_kv_str(args, "cell");
	const char *sched = sp_kv_str(args, "tf_schedule");
	d->cell.kind = !strcmp(c, "lstm") ? S2S_LSTM : !strcmp(c, "rnn") ? S2S_RNN : S2S_GRU;
	d->cell.G = d->cell.kind == S2S_LSTM ? 4 : d->cell.kind == S2S_GRU ? 3 : 1;
	d->tf0 = sp_kv_float(args, "tf_ratio");
	d->tf1 = sp_kv_float(args, "tf_ratio_end");
	if (d->tf1 < 0)
		d->tf1 = d->tf0;
	d->tf = d->tf0;
	d->tf_linear = !strcmp(sched, "linear");
	if (!(d->tf0 >= 0 && d->tf0 <= 1) || !(d->tf1 >= 0 && d->tf1 <= 1))
		return sp_err(ctx, SP_EINVAL, "%s: decoder: tf_ratio and tf_ratio_end must lie in 0..1",
			      sp_kv_where(args, "tf_ratio"));
	d->drop_emb = sp_kv_float(args, "embed_dropout");
	d->drop_out = sp_kv_float(args, "dropout");
	if (!(d->drop_emb >= 0 && d->drop_emb < 1) || !(d->drop_out >= 0 && d->drop_out < 1))
		return sp_err(ctx, SP_EINVAL, "%s: decoder: dropout and embed_dropout must lie in [0, 1)",
			      sp_kv_where(args, "dropout"));
	d->beam = (size_t)sp_kv_int(args, "beam");
	d->max_ratio = sp_kv_float(args, "max_ratio");
	d->len_alpha = sp_kv_float(args, "len_alpha");
	if (d->beam < 1 || !(d->max_ratio > 0))
		return sp_err(ctx, SP_EINVAL, "%s: decoder: beam must be >= 1 and max_ratio > 0",
			      sp_kv_where(args, "beam"));
	return SP_OK;
}

static int s2s_create(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim,
		      const sp_head_env *env)
{
	s2s *d = calloc(1, sizeof(*d));
	int64_t hid = sp_kv_int(args, "hidden"), emb = sp_kv_int(args, "embed");
	int64_t ad = sp_kv_int(args, "attn_dim");
	int rc;
	*out = NULL;
	if (!d)
		return sp_err(ctx, SP_ENOMEM, "decoder: out of memory");
	if (!env || env->size < sizeof(sp_head_env) || !env->labels) {
		rc = sp_err(ctx, SP_EINVAL, "decoder: no target vocabulary");
		goto fail;
	}
	if (hid < 1 || emb < 1 || ad < 0) {
		rc = sp_err(ctx, SP_EINVAL, "%s: decoder: hidden and embed must be >= 1, attn_dim >= 0",
			    sp_kv_where(args, "hidden"));
		goto fail;
	}
	d->He = in_dim;
	d->H = (size_t)hid;
	d->E = (size_t)emb;
	d->V = sp_vocab_size(env->labels);
	d->bos = sp_vocab_special(env->labels, SP_SPECIAL_BOS);
	d->eos = sp_vocab_special(env->labels, SP_SPECIAL_EOS);
	if (d->bos < 0 || d->eos < 0) {
		rc = sp_err(ctx, SP_EINVAL, "decoder: the target vocabulary needs <bos> and <eos>");
		goto fail;
	}
	d->feed = sp_kv_bool(args, "input_feed");
	d->I = d->E + (d->feed ? d->H : 0);
	d->cell.I = d->I;
	d->cell.H = d->H;
	if ((rc = read_cell(d, ctx, args)) < 0 ||
	    (rc = sp_attn_kind_parse(&d->attn_kind, ctx, sp_kv_str(args, "attention"))) < 0)
		goto fail;
	if (d->attn_kind == SP_ATTN_DOT && d->He != d->H) {
		rc = sp_err(ctx, SP_EINVAL, "%s: decoder: dot attention needs the encoder's width (%zu) = hidden (%zu), expected attention = general or additive",
			    sp_kv_where(args, "attention"), d->He, d->H);
		goto fail;
	}
	d->attn_dim = ad ? (size_t)ad : d->H;
	if ((rc = sp_attn_new(&d->attn, ctx, d->attn_kind, d->He, d->H, d->attn_dim)) < 0)
		goto fail;
	d->n_attn = sp_attn_n_params(d->attn);
	declare(d);
	*out = d;
	return SP_OK;
fail:
	s2s_destroy(d);
	return rc;
}

static const sp_param_spec s2s_params[] = {
	{"cell", SP_T_STRING, "gru", "the decoder's recurrent cell", "gru|lstm|rnn"},
	{"hidden", SP_T_INT, "256", "decoder hidden size (and of the attentional vector)", NULL},
	{"embed", SP_T_INT, "128", "target embedding size", NULL},
	/* additive by default: general's unscaled scores saturated the
	 * softmax within an epoch and stayed there (doc/translation.md) */
	{"attention", SP_T_STRING, "additive", "score: Bahdanau additive, Luong dot or general",
	 "dot|general|additive|bahdanau"},
	{"attn_dim", SP_T_INT, "0", "additive: size of the score's hidden layer (0 = hidden)", NULL},
	{"input_feed", SP_T_BOOL, "true", "feed the last attentional vector into the next step (Luong)", NULL},
	{"tf_ratio", SP_T_FLOAT, "1", "teacher forcing: probability that a step's input is the gold token (else the model's previous guess), at the first epoch", NULL},
	{"tf_ratio_end", SP_T_FLOAT, "-1", "teacher forcing at the last epoch (-1 = tf_ratio)", NULL},
	{"tf_schedule", SP_T_STRING, "constant", "how the ratio goes from tf_ratio to tf_ratio_end over the epochs", "constant|linear"},
	{"dropout", SP_T_FLOAT, "0", "training: dropout on the attentional vector where it enters the output layer", NULL},
	{"embed_dropout", SP_T_FLOAT, "0", "training: dropout on the target embeddings", NULL},
	{"beam", SP_T_INT, "5", "translate/eval: beam size (1 = greedy)", NULL},
	{"max_ratio", SP_T_FLOAT, "2", "translate/eval: at most ceil(max_ratio * source length) + 1 target tokens", NULL},
	{"len_alpha", SP_T_FLOAT, "1", "beam: rank finished hypotheses by log-probability / length^len_alpha", NULL},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_metric_decl s2s_metrics_decl[] = {
	{"loss", 0, "teacher-forced cross-entropy per target token (nats)"},
	{"perplexity", 0, "exp(loss)"},
	{"accuracy", 1, "teacher-forced top-1 accuracy per target token"},
	{"loss_free", 0, "free-running cross-entropy: every input the previous guess (dev, test)"},
	{"accuracy_free", 1, "free-running top-1 accuracy per target token"},
	{NULL, 0, NULL}};
static const sp_head_task s2s_task = {sizeof(sp_head_task), SP_LABELS_SEQUENCE,
				      s2s_metrics_decl, "loss"};

static const sp_head_ops s2s_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "decoder",
		 "encoder-decoder translation: a gru/lstm/rnn decoder with attention over the "
		 "model's states, teacher forcing, greedy and beam search",
		 s2s_params},
	.target = SP_TARGET_SEQUENCE,
	.create = s2s_create,
	.destroy = s2s_destroy,
	.weights = s2s_weights,
	.bind = s2s_bind,
	.init = s2s_init,
	.forward = s2s_forward,
	.backward = s2s_backward,
	.metrics_reset = s2s_metrics_reset,
	.metrics = s2s_metrics,
	.predict = s2s_predict,
	.sample = s2s_sample,
	.task = &s2s_task,
	.epoch = s2s_epoch,
	.generate = s2s_generate};

SP_PLUGIN_DEFINE(seq2seq, PACKAGE_VERSION,
		 "translation: an attention decoder head for an encoder model stage",
		 &s2s_ops.base)
