/*
 * sp_attn.c: dot, general and additive attention (equations in sp_attn.h).
 *
 * Backward, per column b, from dc_b:
 *   da[s]   = dc_b . E[s]                 dE[s] += a[s] dc_b
 *   de[s]   = a[s] (da[s] - sum_s' a[s'] da[s'])          (softmax)
 *   dot:      dh_b += sum_s de[s] E[s];   dE[s] += de[s] h_b
 *   general:  q_b = W^T h_b;  dq = sum_s de[s] E[s];  dE[s] += de[s] q_b;
 *             dW += h_b dq^T;  dh_b += W dq
 *   additive: u[s] = tanh(z[s]);  dv += de[s] u[s];  dz = de[s] v (1 - u^2);
 *             dUe += dz E[s]^T;  dE[s] += Ue^T dz;  dUd += dz h_b^T;  dh_b += Ud^T dz
 * Sums run in double and are stored in float.
 */
#include "sp_attn.h"

#include "sp_blas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sp_attn {
	sp_attn_kind kind;
	size_t He, Hd, A;
	float *w, *dw;     /* bound parameter block and its gradient */
	/* the forward pass being differentiated (borrowed) */
	const float *enc, *h;
	const uint8_t *mask;
	size_t S, B;
	/* cache, sized for cap_sb = S*B columns */
	float *a;          /* (S,B) weights */
	float *u;          /* (S,B,A) tanh units (additive) */
	float *q;          /* (B,He) W^T h (general) */
	float *dq;         /* (B,He) ∂L/∂q (general, backward) */
	float *da;         /* (S) scratch */
	float *zh;         /* (A) Ud h_b (additive) */
	size_t cap_sb, cap_b, cap_s;
};

int sp_attn_kind_parse(sp_attn_kind *out, sp_ctx *ctx, const char *name)
{
	if (!strcmp(name, "dot"))
		*out = SP_ATTN_DOT;
	else if (!strcmp(name, "general"))
		*out = SP_ATTN_GENERAL;
	else if (!strcmp(name, "additive") || !strcmp(name, "bahdanau"))
		*out = SP_ATTN_ADDITIVE;
	else
		return sp_err(ctx, SP_EINVAL, "attention '%s': expected dot, general or additive",
			      name);
	return SP_OK;
}

int sp_attn_new(sp_attn **out, sp_ctx *ctx, sp_attn_kind kind, size_t enc_dim,
		size_t dec_dim, size_t attn_dim)
{
	sp_attn *a;
	*out = NULL;
	if ((unsigned)kind > SP_ATTN_ADDITIVE)
		return sp_err(ctx, SP_EINVAL, "attention: unknown kind %d", (int)kind);
	if (!enc_dim || !dec_dim || (kind == SP_ATTN_ADDITIVE && !attn_dim))
		return sp_err(ctx, SP_EINVAL, "attention: sizes must be > 0 (He=%zu Hd=%zu A=%zu)",
			      enc_dim, dec_dim, attn_dim);
	if (kind == SP_ATTN_DOT && enc_dim != dec_dim)
		return sp_err(ctx, SP_EINVAL,
			      "attention dot: encoder size %zu must equal decoder size %zu "
			      "(use general or additive)", enc_dim, dec_dim);
	if (!(a = calloc(1, sizeof(*a))))
		return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
	a->kind = kind;
	a->He = enc_dim;
	a->Hd = dec_dim;
	a->A = kind == SP_ATTN_ADDITIVE ? attn_dim : 0;
	*out = a;
	return SP_OK;
}

void sp_attn_free(sp_attn *a)
{
	if (!a)
		return;
	free(a->a);
	free(a->u);
	free(a->q);
	free(a->dq);
	free(a->da);
	free(a->zh);
	free(a);
}

size_t sp_attn_n_params(const sp_attn *a)
{
	switch (a->kind) {
	case SP_ATTN_GENERAL:
		return a->Hd * a->He;
	case SP_ATTN_ADDITIVE:
		return a->A * a->He + a->A * a->Hd + a->A;
	default:
		return 0;
	}
}

void sp_attn_bind(sp_attn *a, float *w, float *dw)
{
	a->w = w;
	a->dw = dw;
}

void sp_attn_init_params(sp_attn *a, sp_ctx *ctx)
{
	if (a->kind == SP_ATTN_GENERAL) {
		float r = (float)sqrt(6.0 / (double)(a->Hd + a->He));
		sp_fill_uniform(ctx, a->w, a->Hd * a->He, -r, r);
	} else if (a->kind == SP_ATTN_ADDITIVE) {
		float re = (float)sqrt(6.0 / (double)(a->A + a->He));
		float rd = (float)sqrt(6.0 / (double)(a->A + a->Hd));
		float rv = (float)sqrt(6.0 / (double)(a->A + 1));
		sp_fill_uniform(ctx, a->w, a->A * a->He, -re, re);
		sp_fill_uniform(ctx, a->w + a->A * a->He, a->A * a->Hd, -rd, rd);
		sp_fill_uniform(ctx, a->w + a->A * (a->He + a->Hd), a->A, -rv, rv);
	}
}

/* Grows the cache for (S, B); the only allocation of forward. */
static int reserve(sp_attn *a, sp_ctx *ctx, size_t S, size_t B)
{
	size_t sb = S * B;
	if (sb > a->cap_sb) {
		float *x = realloc(a->a, sb * sizeof(*x));
		if (!x)
			return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
		a->a = x;
		if (a->A) {
			if (!(x = realloc(a->u, sb * a->A * sizeof(*x))))
				return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
			a->u = x;
		}
		a->cap_sb = sb;
	}
	if (B > a->cap_b) {
		float *x = realloc(a->q, B * a->He * sizeof(*x));
		if (!x)
			return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
		a->q = x;
		if (!(x = realloc(a->dq, B * a->He * sizeof(*x))))
			return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
		a->dq = x;
		a->cap_b = B;
	}
	if (S > a->cap_s || !a->zh) {
		float *x = realloc(a->da, (S ? S : 1) * sizeof(*x));
		if (!x)
			return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
		a->da = x;
		if (!(x = realloc(a->zh, (a->A ? a->A : 1) * sizeof(*x))))
			return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
		a->zh = x;
		a->cap_s = S;
	}
	return SP_OK;
}

static double dotf(const float *x, const float *y, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * y[i];
	return s;
}

/* e[s] of column b into a[s*B+b] (then softmax) */
static void scores(sp_attn *a, size_t b)
{
	size_t S = a->S, B = a->B, He = a->He, Hd = a->Hd, A = a->A;
	const float *hb = a->h + b * Hd;
	/* general: q = h·W of every column is one product (forward) */
	if (a->kind == SP_ATTN_ADDITIVE) {
		const float *Ud = a->w + A * He;
		for (size_t k = 0; k < A; k++)
			a->zh[k] = (float)dotf(Ud + k * Hd, hb, Hd);
	}
	for (size_t s = 0; s < S; s++) {
		const float *es = a->enc + (s * B + b) * He;
		double e;
		if (a->kind == SP_ATTN_DOT) {
			e = dotf(hb, es, He);
		} else if (a->kind == SP_ATTN_GENERAL) {
			e = dotf(a->q + b * He, es, He);
		} else {
			const float *Ue = a->w, *v = a->w + A * (He + Hd);
			float *u = a->u + (s * B + b) * A;
			e = 0.0;
			for (size_t k = 0; k < A; k++) {
				u[k] = tanhf((float)(dotf(Ue + k * He, es, He) + a->zh[k]));
				e += (double)v[k] * u[k];
			}
		}
		a->a[s * B + b] = (float)e;
	}
}

static void softmax_masked(sp_attn *a, size_t b)
{
	size_t S = a->S, B = a->B;
	double mx = -INFINITY, sum = 0.0;
	for (size_t s = 0; s < S; s++)
		if (!a->mask || a->mask[s * B + b])
			mx = fmax(mx, a->a[s * B + b]);
	for (size_t s = 0; s < S; s++) {
		double p = 0.0;
		if (!a->mask || a->mask[s * B + b])
			p = exp(a->a[s * B + b] - mx);
		a->a[s * B + b] = (float)p;
		sum += p;
	}
	for (size_t s = 0; s < S; s++)
		a->a[s * B + b] = sum > 0 ? (float)(a->a[s * B + b] / sum) : 0.0f;
}

int sp_attn_forward(sp_attn *a, sp_ctx *ctx, size_t S, size_t B, const float *enc,
		    const uint8_t *mask, const float *h, float *context, float *weights)
{
	size_t He = a->He;
	int rc;
	if (a->kind != SP_ATTN_DOT && !a->w)
		return sp_err(ctx, SP_EINVAL, "attention: parameters not bound");
	if ((rc = reserve(a, ctx, S, B)) < 0)
		return rc;
	a->enc = enc;
	a->mask = mask;
	a->h = h;
	a->S = S;
	a->B = B;
	if (a->kind == SP_ATTN_GENERAL) /* q (B,He) = h (B,Hd) · W (Hd,He) */
		sp_gemm(0, 0, B, He, a->Hd, 1.0f, h, a->Hd, a->w, He, 0.0f, a->q, He);
	for (size_t b = 0; b < B; b++) {
		float *cb = context + b * He;
		scores(a, b);
		softmax_masked(a, b);
		for (size_t j = 0; j < He; j++) {
			double c = 0.0;
			for (size_t s = 0; s < S; s++)
				c += (double)a->a[s * B + b] * enc[(s * B + b) * He + j];
			cb[j] = (float)c;
		}
	}
	if (weights)
		memcpy(weights, a->a, S * B * sizeof(*weights));
	return SP_OK;
}

/* de (in a->da) of column b -> gradients of the score function */
static void score_backward(sp_attn *a, size_t b, float *denc, float *dh)
{
	size_t S = a->S, B = a->B, He = a->He, Hd = a->Hd, A = a->A;
	const float *hb = a->h + b * Hd;
	for (size_t s = 0; s < S; s++) {
		const float *es = a->enc + (s * B + b) * He;
		float *des = denc ? denc + (s * B + b) * He : NULL;
		double de = a->da[s];
		if (de == 0.0)
			continue;
		if (a->kind == SP_ATTN_DOT) {
			for (size_t j = 0; j < He; j++) {
				if (dh)
					dh[b * Hd + j] += (float)(de * es[j]);
				if (des)
					des[j] += (float)(de * hb[j]);
			}
		} else if (a->kind == SP_ATTN_GENERAL) {
			/* dq_b = Σ_s de_s E[s,b]; dW and dh from dq after the
			 * loop over columns (two products) */
			const float *qb = a->q + b * He;
			float *dqb = a->dq + b * He;
			for (size_t j = 0; j < He; j++) {
				dqb[j] += (float)(de * es[j]);
				if (des)
					des[j] += (float)(de * qb[j]);
			}
		} else {
			const float *Ue = a->w, *Ud = a->w + A * He, *v = a->w + A * (He + Hd);
			float *dUe = a->dw, *dUd = a->dw + A * He, *dv = a->dw + A * (He + Hd);
			const float *u = a->u + (s * B + b) * A;
			for (size_t k = 0; k < A; k++) {
				double dz = de * v[k] * (1.0 - (double)u[k] * u[k]);
				dv[k] += (float)(de * u[k]);
				for (size_t j = 0; j < He; j++) {
					dUe[k * He + j] += (float)(dz * es[j]);
					if (des)
						des[j] += (float)(dz * Ue[k * He + j]);
				}
				for (size_t i = 0; i < Hd; i++) {
					dUd[k * Hd + i] += (float)(dz * hb[i]);
					if (dh)
						dh[b * Hd + i] += (float)(dz * Ud[k * Hd + i]);
				}
			}
		}
	}
}

int sp_attn_backward(sp_attn *a, sp_ctx *ctx, const float *dcontext, float *denc, float *dh)
{
	size_t S = a->S, B = a->B, He = a->He;
	if (!a->enc)
		return sp_err(ctx, SP_EINVAL, "attention: backward without a forward");
	if (a->kind != SP_ATTN_DOT && !a->dw)
		return sp_err(ctx, SP_EINVAL, "attention: gradients not bound");
	if (a->kind == SP_ATTN_GENERAL)
		memset(a->dq, 0, B * He * sizeof(*a->dq));
	for (size_t b = 0; b < B; b++) {
		const float *dc = dcontext + b * He;
		double dot = 0.0;
		for (size_t s = 0; s < S; s++) {
			const float *es = a->enc + (s * B + b) * He;
			float as = a->a[s * B + b];
			a->da[s] = (float)dotf(dc, es, He);
			dot += (double)as * a->da[s];
			if (denc)
				for (size_t j = 0; j < He; j++)
					denc[(s * B + b) * He + j] += as * dc[j];
		}
		for (size_t s = 0; s < S; s++)
			a->da[s] = (float)(a->a[s * B + b] * (a->da[s] - dot)); /* now de[s] */
		score_backward(a, b, denc, dh);
	}
	if (a->kind == SP_ATTN_GENERAL) { /* q = h·W: dW += hᵀ·dq, dh += dq·Wᵀ */
		size_t Hd = a->Hd;
		sp_gemm(1, 0, Hd, He, B, 1.0f, a->h, Hd, a->dq, He, 1.0f, a->dw, He);
		if (dh)
			sp_gemm(0, 1, B, Hd, He, 1.0f, a->dq, He, a->w, He, 1.0f, dh, Hd);
	}
	return SP_OK;
}
