/*
 * t_grad_attn.c: attention (dot, general, additive) against central
 * differences: gradients of L = sum(context * R) with respect to the
 * encoder states, the decoder state and the parameters, with a mask that
 * hides part of two columns.  Also: weights sum to 1 over the real
 * positions and are 0 on padding, padding gets no gradient, a column
 * without real positions gives a zero context, backward twice doubles the
 * gradients, forward twice gives the same output.  Additive with a pinned
 * source (its E·Ueᵀ made once for two decoder steps, the gradient through
 * it summed and flushed by sp_attn_pin_backward): the same context as
 * unpinned, and the same central-difference checks over both steps.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "sp_attn.h"
#include "tap.h"

enum { S = 4, B = 3, HE = 4, A = 5 };
/* As t_grad_cell: a central difference of the float forward pass with a
 * step of 1e-2 carries about 1e-5 of noise, so entries below FLOOR are
 * compared in absolute terms. */
static const float EPS = 1e-2f;
static const double FLOOR = 5e-3;

typedef struct fixture {
	sp_attn *at;
	sp_ctx *ctx;
	size_t hd;
	float enc[S * B * HE], h[B * HE], r[B * HE], ctxv[B * HE], w[S * B];
	float denc[S * B * HE], dh[B * HE];
	float *p, *dp;
	size_t np;
	uint8_t mask[S * B];
} fixture;

static double loss(void *payload)
{
	fixture *f = payload;
	double l = 0.0;
	sp_attn_forward(f->at, f->ctx, S, B, f->enc, f->mask, f->h, f->ctxv, NULL);
	for (size_t i = 0; i < B * HE; i++)
		l += (double)f->ctxv[i] * f->r[i];
	return l;
}

static void fill(sp_ctx *ctx, float *x, size_t n)
{
	sp_fill_uniform(ctx, x, n, -1.0f, 1.0f);
}

static void check_kind(sp_ctx *ctx, sp_attn_kind kind, const char *name)
{
	fixture f;
	gc_result g;
	int rc;
	double sum_ok = 1, pad_ok = 1;
	float ctx2[B * HE];

	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	f.hd = kind == SP_ATTN_DOT ? HE : 3;
	if (sp_attn_new(&f.at, ctx, kind, HE, f.hd, A) < 0) {
		ok(0, "%s: new: %s", name, sp_errmsg(ctx));
		return;
	}
	f.np = sp_attn_n_params(f.at);
	f.p = calloc(f.np + 1, sizeof(float));
	f.dp = calloc(f.np + 1, sizeof(float));
	sp_attn_bind(f.at, f.p, f.dp);
	sp_attn_init_params(f.at, ctx);
	fill(ctx, f.enc, S * B * HE);
	fill(ctx, f.h, B * f.hd);
	fill(ctx, f.r, B * HE);
	/* column 0: all real; column 1: last two padded; column 2: first padded */
	for (size_t s = 0; s < S; s++) {
		f.mask[s * B + 0] = 1;
		f.mask[s * B + 1] = s < 2;
		f.mask[s * B + 2] = s > 0;
	}
	rc = sp_attn_forward(f.at, ctx, S, B, f.enc, f.mask, f.h, f.ctxv, f.w);
	ok(rc == 0, "%s: forward", name);
	for (size_t b = 0; b < B; b++) {
		double sum = 0.0;
		for (size_t s = 0; s < S; s++) {
			sum += f.w[s * B + b];
			if (!f.mask[s * B + b] && f.w[s * B + b] != 0.0f)
				pad_ok = 0;
		}
		if (fabs(sum - 1.0) > 1e-6)
			sum_ok = 0;
	}
	ok(sum_ok && pad_ok, "%s: weights sum to 1 per column and are 0 on padding", name);
	rc = sp_attn_backward(f.at, ctx, f.r, f.denc, f.dh);
	ok(rc == 0, "%s: backward", name);
	pad_ok = 1;
	for (size_t s = 2; s < S; s++)
		for (size_t j = 0; j < HE; j++)
			pad_ok = pad_ok && f.denc[(s * B + 1) * HE + j] == 0.0f;
	ok(pad_ok, "%s: padded encoder states get no gradient", name);

	g = gc_check(loss, &f, f.enc, f.denc, S * B * HE, EPS, 0, FLOOR);
	ok(g.max_rel < 1e-2, "%s dE max_rel=%.2g (%zu checked; at %zu: %g vs %g)", name,
	   g.max_rel, g.checked, g.worst, g.analytic, g.numeric);
	g = gc_check(loss, &f, f.h, f.dh, B * f.hd, EPS, 0, FLOOR);
	ok(g.max_rel < 1e-2, "%s dh max_rel=%.2g (%zu checked)", name, g.max_rel, g.checked);
	if (f.np) {
		g = gc_check(loss, &f, f.p, f.dp, f.np, EPS, 0, FLOOR);
		ok(g.max_rel < 1e-2, "%s dW max_rel=%.2g (%zu parameters)", name, g.max_rel,
		   g.checked);
	}

	/* contracts: backward accumulates; forward is a function */
	{
		float *dp1 = malloc((f.np + 1) * sizeof(float)), dh1[B * HE];
		int doubled = 1;
		memcpy(dp1, f.dp, f.np * sizeof(float));
		memcpy(dh1, f.dh, sizeof(dh1));
		loss(&f);
		sp_attn_backward(f.at, ctx, f.r, NULL, f.dh);
		for (size_t i = 0; i < B * f.hd; i++)
			doubled = doubled && fabsf(f.dh[i] - 2 * dh1[i]) <= 1e-5f * (1 + fabsf(dh1[i]));
		for (size_t i = 0; i < f.np; i++)
			doubled = doubled && fabsf(f.dp[i] - 2 * dp1[i]) <= 1e-5f * (1 + fabsf(dp1[i]));
		ok(doubled, "%s: backward twice doubles dh and dW", name);
		free(dp1);
	}
	sp_attn_forward(f.at, ctx, S, B, f.enc, f.mask, f.h, f.ctxv, NULL);
	sp_attn_forward(f.at, ctx, S, B, f.enc, f.mask, f.h, ctx2, NULL);
	ok(memcmp(ctx2, f.ctxv, sizeof(ctx2)) == 0, "%s: forward twice, same context", name);

	/* a column with no real position */
	for (size_t s = 0; s < S; s++)
		f.mask[s * B + 2] = 0;
	sp_attn_forward(f.at, ctx, S, B, f.enc, f.mask, f.h, f.ctxv, f.w);
	{
		int zero = 1;
		for (size_t j = 0; j < HE; j++)
			zero = zero && f.ctxv[2 * HE + j] == 0.0f;
		ok(zero, "%s: an all-padding column gives a zero context", name);
	}
	free(f.p);
	free(f.dp);
	sp_attn_free(f.at);
}

/* ---- additive, pinned: two decoder steps over one source ------------- */

typedef struct pinfix {
	sp_attn *at;
	sp_ctx *ctx;
	float enc[S * B * HE], h[2][B * 3], r[2][B * HE], ctxv[B * HE];
	float denc[S * B * HE], dh[2][B * 3];
	float *p, *dp;
	size_t np;
	uint8_t mask[S * B];
} pinfix;

static double pin_loss(void *payload)
{
	pinfix *f = payload;
	double l = 0.0;
	sp_attn_pin(f->at, f->ctx, S, B, f->enc);
	for (int t = 0; t < 2; t++) {
		sp_attn_forward(f->at, f->ctx, S, B, f->enc, f->mask, f->h[t], f->ctxv, NULL);
		for (size_t i = 0; i < B * HE; i++)
			l += (double)f->ctxv[i] * f->r[t][i];
	}
	return l;
}

static void check_pinned(sp_ctx *ctx)
{
	pinfix *f = calloc(1, sizeof(*f));
	float un[B * HE];
	gc_result g;
	int rc = 0, same = 1;
	f->ctx = ctx;
	if (sp_attn_new(&f->at, ctx, SP_ATTN_ADDITIVE, HE, 3, A) < 0) {
		ok(0, "pinned: new: %s", sp_errmsg(ctx));
		free(f);
		return;
	}
	f->np = sp_attn_n_params(f->at);
	f->p = calloc(f->np, sizeof(float));
	f->dp = calloc(f->np, sizeof(float));
	sp_attn_bind(f->at, f->p, f->dp);
	sp_attn_init_params(f->at, ctx);
	fill(ctx, f->enc, S * B * HE);
	fill(ctx, f->h[0], 2 * B * 3);
	fill(ctx, f->r[0], 2 * B * HE);
	for (size_t s = 0; s < S; s++)
		for (size_t b = 0; b < B; b++)
			f->mask[s * B + b] = b != 1 || s < 2;
	sp_attn_unpin(f->at);
	sp_attn_forward(f->at, ctx, S, B, f->enc, f->mask, f->h[1], un, NULL);
	pin_loss(f);
	for (size_t i = 0; i < B * HE; i++)
		same &= fabsf(un[i] - f->ctxv[i]) <= 1e-6f * (1 + fabsf(un[i]));
	ok(same, "pinned: the same context as unpinned");
	/* backward: each step's cache is rebuilt by a forward, as a decoder does */
	for (int t = 1; t >= 0 && rc == 0; t--) {
		rc = sp_attn_forward(f->at, ctx, S, B, f->enc, f->mask, f->h[t], f->ctxv, NULL);
		if (rc == 0)
			rc = sp_attn_backward(f->at, ctx, f->r[t], f->denc, f->dh[t]);
	}
	if (rc == 0)
		rc = sp_attn_pin_backward(f->at, ctx, f->denc);
	ok(rc == 0, "pinned: two backwards and the pinned source's backward");
	g = gc_check(pin_loss, f, f->enc, f->denc, S * B * HE, EPS, 0, FLOOR);
	ok(g.max_rel < 1e-2, "pinned additive dE max_rel=%.2g (%zu checked)", g.max_rel, g.checked);
	g = gc_check(pin_loss, f, f->h[0], f->dh[0], 2 * B * 3, EPS, 0, FLOOR);
	ok(g.max_rel < 1e-2, "pinned additive dh (both steps) max_rel=%.2g", g.max_rel);
	g = gc_check(pin_loss, f, f->p, f->dp, f->np, EPS, 0, FLOOR);
	ok(g.max_rel < 1e-2, "pinned additive dW max_rel=%.2g (%zu parameters)", g.max_rel,
	   g.checked);
	sp_attn_unpin(f->at);
	ok(sp_attn_pin_backward(f->at, ctx, NULL) == SP_EINVAL, "pin_backward unpinned is refused");
	free(f->p);
	free(f->dp);
	sp_attn_free(f->at);
	free(f);
}

int main(void)
{
	sp_ctx *ctx;
	sp_attn *a;
	sp_attn_kind k;
	int rc;
	if (sp_ctx_new(&ctx, 42) < 0)
		return 1;
	check_kind(ctx, SP_ATTN_DOT, "dot");
	check_kind(ctx, SP_ATTN_GENERAL, "general");
	check_kind(ctx, SP_ATTN_ADDITIVE, "additive");
	check_pinned(ctx);
	rc = sp_attn_new(&a, ctx, SP_ATTN_DOT, 4, 3, 0);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "must equal"),
	   "dot with He != Hd is refused: %s", sp_errmsg(ctx));
	ok(sp_attn_kind_parse(&k, ctx, "bahdanau") == 0 && k == SP_ATTN_ADDITIVE,
	   "'bahdanau' names additive attention");
	ok(sp_attn_kind_parse(&k, ctx, "luong") == SP_EINVAL, "unknown kind refused: %s",
	   sp_errmsg(ctx));
	sp_attn_free(NULL);
	sp_ctx_free(ctx);
	return tap_done();
}
