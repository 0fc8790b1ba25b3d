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
 * Dot and general sums run in double and are stored in float.  Additive
 * runs as products over all (s, b) at once: P = E·Ueᵀ (S·B, A), one GEMM,
 * made once per source when the source is pinned (sp_attn_pin), else at
 * every forward; Ud h for the batch is one GEMM, e = tanh(P + Ud h)·v one
 * GEMV; backward mirrors it (dz summed over s for Ud; dUe and dE from dz
 * by two GEMMs, per backward or, pinned, once in sp_attn_pin_backward).
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
	float *zh;         /* (B,A) h·Udᵀ (additive) */
	float *pe;         /* (S,B,A) E·Ueᵀ (additive) */
	float *dz;         /* (S,B,A) ∂L/∂z of one backward (additive) */
	float *de;         /* (S,B) ∂L/∂e of one backward */
	size_t cap_sb, cap_b, cap_s;
	/* the pinned source (additive): pe holds its E·Ueᵀ, dpe sums ∂L/∂P */
	const float *pin_enc;
	size_t pin_S, pin_B, cap_pe, cap_dpe;
	float *dpe;
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
	free(a->pe);
	free(a->dz);
	free(a->de);
	free(a->dpe);
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

static int grow(float **p, sp_ctx *ctx, size_t n)
{
	float *x = realloc(*p, (n ? n : 1) * sizeof(*x));
	if (!x)
		return sp_err(ctx, SP_ENOMEM, "attention: out of memory");
	*p = x;
	return SP_OK;
}

/* Grows the cache for (S, B); the only allocation of forward. */
static int reserve(sp_attn *a, sp_ctx *ctx, size_t S, size_t B)
{
	size_t sb = S * B;
	int rc;
	if (sb > a->cap_sb || !a->a) {
		if ((rc = grow(&a->a, ctx, sb)) < 0 || (rc = grow(&a->de, ctx, sb)) < 0)
			return rc;
		if (a->A && ((rc = grow(&a->u, ctx, sb * a->A)) < 0 ||
			     (rc = grow(&a->dz, ctx, sb * a->A)) < 0))
			return rc;
		a->cap_sb = sb;
	}
	if (B > a->cap_b || !a->q) {
		if ((rc = grow(&a->q, ctx, B * a->He)) < 0 || (rc = grow(&a->dq, ctx, B * a->He)) < 0 ||
		    (rc = grow(&a->zh, ctx, B * (a->A ? a->A : 1))) < 0)
			return rc;
		a->cap_b = B;
	}
	if (S > a->cap_s || !a->da) {
		if ((rc = grow(&a->da, ctx, S)) < 0)
			return rc;
		a->cap_s = S;
	}
	return SP_OK;
}

/* pe (S·B, A) = enc (S·B, He) · Ueᵀ; pe sized for it by the caller */
static void project_source(sp_attn *a, size_t S, size_t B, const float *enc)
{
	sp_gemm(0, 1, S * B, a->A, a->He, 1.0f, enc, a->He, a->w, a->He, 0.0f, a->pe, a->A);
}

static int reserve_pe(sp_attn *a, sp_ctx *ctx, size_t sb)
{
	int rc;
	if (sb <= a->cap_pe)
		return SP_OK;
	if ((rc = grow(&a->pe, ctx, sb * a->A)) < 0)
		return rc;
	a->cap_pe = sb;
	return SP_OK;
}

static int pinned(const sp_attn *a, size_t S, size_t B, const float *enc)
{
	return a->pin_enc && a->pin_enc == enc && a->pin_S == S && a->pin_B == B;
}

int sp_attn_pin(sp_attn *a, sp_ctx *ctx, size_t S, size_t B, const float *enc)
{
	int rc;
	a->pin_enc = NULL;
	if (a->kind != SP_ATTN_ADDITIVE)
		return SP_OK;
	if (!a->w)
		return sp_err(ctx, SP_EINVAL, "attention: parameters not bound");
	if ((rc = reserve_pe(a, ctx, S * B)) < 0)
		return rc;
	if (S * B > a->cap_dpe) {
		if ((rc = grow(&a->dpe, ctx, S * B * a->A)) < 0)
			return rc;
		a->cap_dpe = S * B;
	}
	project_source(a, S, B, enc);
	memset(a->dpe, 0, S * B * a->A * sizeof(*a->dpe));
	a->pin_enc = enc;
	a->pin_S = S;
	a->pin_B = B;
	return SP_OK;
}

int sp_attn_pin_backward(sp_attn *a, sp_ctx *ctx, float *denc)
{
	size_t SB = a->pin_S * a->pin_B, He = a->He, A = a->A;
	if (a->kind != SP_ATTN_ADDITIVE)
		return SP_OK;
	if (!a->pin_enc)
		return sp_err(ctx, SP_EINVAL, "attention: pin_backward without a pinned source");
	if (!a->dw)
		return sp_err(ctx, SP_EINVAL, "attention: gradients not bound");
	/* P = E·Ueᵀ: dUe += dPᵀ·E, dE += dP·Ue */
	sp_gemm(1, 0, A, He, SB, 1.0f, a->dpe, A, a->pin_enc, He, 1.0f, a->dw, He);
	if (denc)
		sp_gemm(0, 0, SB, He, A, 1.0f, a->dpe, A, a->w, He, 1.0f, denc, He);
	memset(a->dpe, 0, SB * A * sizeof(*a->dpe));
	return SP_OK;
}

void sp_attn_unpin(sp_attn *a) { a->pin_enc = NULL; }

/* additive: e (S,B) into a->a from u = tanh(P + h·Udᵀ) */
static int additive_scores(sp_attn *a, sp_ctx *ctx)
{
	size_t S = a->S, B = a->B, He = a->He, Hd = a->Hd, A = a->A;
	const float *Ud = a->w + A * He, *v = a->w + A * (He + Hd);
	const float *pe;
	int rc;
	if (pinned(a, S, B, a->enc)) {
		pe = a->pe;
	} else {
		if ((rc = reserve_pe(a, ctx, S * B)) < 0)
			return rc;
		project_source(a, S, B, a->enc);
		pe = a->pe;
		a->pin_enc = NULL;
	}
	sp_gemm(0, 1, B, A, Hd, 1.0f, a->h, Hd, Ud, Hd, 0.0f, a->zh, A);
	for (size_t s = 0; s < S; s++)
		for (size_t b = 0; b < B; b++) {
			const float *p = pe + (s * B + b) * A, *z = a->zh + b * A;
			float *u = a->u + (s * B + b) * A;
			for (size_t k = 0; k < A; k++)
				u[k] = tanhf(p[k] + z[k]);
		}
	sp_gemm(0, 0, S * B, 1, A, 1.0f, a->u, A, v, 1, 0.0f, a->a, 1);
	return SP_OK;
}

static double dotf(const float *x, const float *y, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * y[i];
	return s;
}

/* dot, general: e[s] of column b into a[s*B+b] (then softmax) */
static void scores(sp_attn *a, size_t b)
{
	size_t S = a->S, B = a->B, He = a->He, Hd = a->Hd;
	const float *hb = a->h + b * Hd;
	/* general: q = h·W of every column is one product (forward) */
	for (size_t s = 0; s < S; s++) {
		const float *es = a->enc + (s * B + b) * He;
		a->a[s * B + b] =
			(float)(a->kind == SP_ATTN_DOT ? dotf(hb, es, He) : dotf(a->q + b * He, es, He));
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
	if (a->kind == SP_ATTN_ADDITIVE && (rc = additive_scores(a, ctx)) < 0)
		return rc;
	for (size_t b = 0; b < B; b++) {
		float *cb = context + b * He;
		if (a->kind != SP_ATTN_ADDITIVE)
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

/* dot, general: de (S,B) of column b -> gradients of the score function */
static void score_backward(sp_attn *a, size_t b, float *denc, float *dh)
{
	size_t S = a->S, B = a->B, He = a->He, Hd = a->Hd;
	const float *hb = a->h + b * Hd;
	for (size_t s = 0; s < S; s++) {
		const float *es = a->enc + (s * B + b) * He;
		float *des = denc ? denc + (s * B + b) * He : NULL;
		double de = a->de[s * B + b];
		if (de == 0.0)
			continue;
		if (a->kind == SP_ATTN_DOT) {
			for (size_t j = 0; j < He; j++) {
				if (dh)
					dh[b * Hd + j] += (float)(de * es[j]);
				if (des)
					des[j] += (float)(de * hb[j]);
			}
		} else {
			/* dq_b = Σ_s de_s E[s,b]; dW and dh from dq after the
			 * loop over columns (two products) */
			const float *qb = a->q + b * He;
			float *dqb = a->dq + b * He;
			for (size_t j = 0; j < He; j++) {
				dqb[j] += (float)(de * es[j]);
				if (des)
					des[j] += (float)(de * qb[j]);
			}
		}
	}
}

/* additive: de (S,B) -> dv, dUd, dh; dUe and denc now, or into the
 * pinned source's dP */
static void additive_backward(sp_attn *a, float *denc, float *dh)
{
	size_t S = a->S, B = a->B, He = a->He, Hd = a->Hd, A = a->A, SB = S * B;
	const float *Ud = a->w + A * He, *v = a->w + A * (He + Hd);
	float *dUd = a->dw + A * He, *dv = a->dw + A * (He + Hd);
	float *dzh = a->zh; /* (B,A): h·Udᵀ is not needed any more */
	int pin = pinned(a, S, B, a->enc);
	/* e = u·v: dv += uᵀ·de */
	sp_gemm(1, 0, A, 1, SB, 1.0f, a->u, A, a->de, 1, 1.0f, dv, 1);
	memset(dzh, 0, B * A * sizeof(*dzh));
	for (size_t s = 0; s < S; s++)
		for (size_t b = 0; b < B; b++) {
			const float *u = a->u + (s * B + b) * A;
			float *dz = a->dz + (s * B + b) * A, *dp = pin ? a->dpe + (s * B + b) * A : NULL;
			float de = a->de[s * B + b];
			for (size_t k = 0; k < A; k++) {
				dz[k] = de * v[k] * (1.0f - u[k] * u[k]);
				dzh[b * A + k] += dz[k];
			}
			if (dp)
				for (size_t k = 0; k < A; k++)
					dp[k] += dz[k];
		}
	/* z = P + h·Udᵀ: dUd += dzhᵀ·h, dh += dzh·Ud */
	sp_gemm(1, 0, A, Hd, B, 1.0f, dzh, A, a->h, Hd, 1.0f, dUd, Hd);
	if (dh)
		sp_gemm(0, 0, B, Hd, A, 1.0f, dzh, A, Ud, Hd, 1.0f, dh, Hd);
	if (!pin) { /* P = E·Ueᵀ */
		sp_gemm(1, 0, A, He, SB, 1.0f, a->dz, A, a->enc, He, 1.0f, a->dw, He);
		if (denc)
			sp_gemm(0, 0, SB, He, A, 1.0f, a->dz, A, a->w, He, 1.0f, denc, He);
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
			a->de[s * B + b] = (float)(a->a[s * B + b] * (a->da[s] - dot));
		if (a->kind != SP_ATTN_ADDITIVE)
			score_backward(a, b, denc, dh);
	}
	if (a->kind == SP_ATTN_ADDITIVE)
		additive_backward(a, denc, dh);
	if (a->kind == SP_ATTN_GENERAL) { /* q = h·W: dW += hᵀ·dq, dh += dq·Wᵀ */
		size_t Hd = a->Hd;
		sp_gemm(1, 0, Hd, He, B, 1.0f, a->h, Hd, a->dq, He, 1.0f, a->dw, He);
		if (dh)
			sp_gemm(0, 1, B, Hd, He, 1.0f, a->dq, He, a->w, He, 1.0f, dh, Hd);
	}
	return SP_OK;
}
