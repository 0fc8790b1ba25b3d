/*
 * sp_cell_trace.c: the recurrent engine seen from outside: the course's
 * step-by-step trace, read-only views of the cache and gate statistics
 * (the instruments).
 */
#include "sp_cell_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Trace and instruments                                               */
/* ------------------------------------------------------------------ */

/* Layer 0's forward weights in the course's orientation, W·x with x a
 * column vector: the stored (in,GH) and (H,GH) matrices transposed. */
static int trace_params_(sp_rnn *r, sp_ctx *ctx, sp_trace_fn emit,
			 void *payload)
{
	static const char *const names[][4] = {
		/* rnn */ {"Wxh", "Whh", "b", NULL},
		/* lstm */ {"Wx = [Wxi; Wxf; Wxg; Wxo]", "Wh = [Whi; Whf; Whg; Who]",
			    "b = [bi; bf; bg; bo]", NULL},
		/* gru */ {"Wx = [Wxr; Wxz; Wxn]", "Wh = [Whr; Whz; Whn]",
			   "bx = [bxr; bxz; bxn]", "bh = [bhr; bhz; bhn]"},
		/* a custom cell, with and without its own h side */
		{"Wx", "Wh", "bx", "bh"}, {"Wx", "Wh", "b", NULL}};
	const cell_ *c = &r->cells[0];
	size_t H = r->H, GH = r->G * H, in = c->in;
	size_t n = GH * (in > H ? in : H);
	int k = r->cfg.cell == SP_CELL_LSTM ? 1 : r->cfg.cell == SP_CELL_GRU ? 2 : 0;
	if (r->ops)
		k = r->split ? 3 : 4;
	float *buf;
	int rc;
	if (!c->Wx)
		return sp_err(ctx, SP_EINVAL, "%s: trace before bind", r->name);
	buf = malloc(n * sizeof(*buf));
	if (!buf)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", r->name);
	for (size_t i = 0; i < in; i++)
		for (size_t j = 0; j < GH; j++)
			buf[j * in + i] = c->Wx[i * GH + j];
	rc = emit(payload, SP_TRACE_PARAMS, names[k][0], buf, GH, in);
	if (!rc) {
		for (size_t i = 0; i < H; i++)
			for (size_t j = 0; j < GH; j++)
				buf[j * H + i] = c->Wh[i * GH + j];
		rc = emit(payload, SP_TRACE_PARAMS, names[k][1], buf, GH, H);
	}
	if (!rc)
		rc = emit(payload, SP_TRACE_PARAMS, names[k][2], c->b, GH, 1);
	if (!rc && names[k][3])
		rc = emit(payload, SP_TRACE_PARAMS, names[k][3], c->bh, GH, 1);
	free(buf);
	return rc;
}

/* A custom cell's step: each cached block by its name (or "gate g"),
 * then c(t) and h(t). */
static int trace_custom_(const sp_rnn *r, size_t t, const float *a,
			 const float *cc, const float *hc, sp_trace_fn emit,
			 void *payload)
{
	char label[48];
	int rc = SP_OK;
	for (size_t g = 0; g < r->G && !rc; g++) {
		if (r->ops->gate_names && r->ops->gate_names[g])
			snprintf(label, sizeof(label), "%s(t)",
				 r->ops->gate_names[g]);
		else
			snprintf(label, sizeof(label), "gate %zu(t)", g);
		rc = emit(payload, t, label, a + g * r->H, r->H, 1);
	}
	if (!rc && cc)
		rc = emit(payload, t, "c(t)", cc, r->H, 1);
	if (!rc)
		rc = emit(payload, t, "h(t)", hc, r->H, 1);
	return rc;
}

/* The rnn's step: its two products are recomputed from the weights into
 * wx, wh (GH each), since the cache holds only h. */
static int trace_rnn_(const sp_rnn *r, size_t t, size_t row, const float *hp,
		      const float *hc, float *wx, float *wh, sp_trace_fn emit,
		      void *payload)
{
	const cell_ *c = &r->cells[0];
	const size_t H = r->H, GH = r->G * H;
	int rc;
	if (r->ids_in && !r->cfg.embed) {
		memcpy(wx, c->Wx + (size_t)r->ids[row] * GH,
		       GH * sizeof(float));
	} else {
		const float *xr = r->x0 + row * r->in0;
		memset(wx, 0, GH * sizeof(float));
		for (size_t i = 0; i < r->in0; i++)
			for (size_t k = 0; k < GH; k++)
				wx[k] += xr[i] * c->Wx[i * GH + k];
	}
	memcpy(wh, c->b, GH * sizeof(float));
	for (size_t j = 0; j < H; j++)
		for (size_t k = 0; k < GH; k++)
			wh[k] += hp[j] * c->Wh[j * GH + k];
	rc = emit(payload, t,
		  r->cfg.embed ? "Wxh·e(t)" : "Wxh·x(t)", wx, H, 1);
	if (!rc)
		rc = emit(payload, t, "Whh·h(t-1) + b", wh, H, 1);
	if (!rc)
		rc = emit(payload, t,
			  r->cfg.cell == SP_CELL_RNN_RELU
				  ? "h(t) = relu(...)"
				  : "h(t) = tanh(...)",
			  hc, H, 1);
	return rc;
}

/* Refuses a step the last forward cannot show. */
static int trace_check_(const sp_rnn *r, sp_ctx *ctx, size_t t, size_t b)
{
	if (!r->have_fwd)
		return sp_err(ctx, SP_EINVAL, "%s: trace before forward",
			      r->name);
	if (r->have_bwd)
		return sp_err(ctx, SP_EINVAL, "%s: trace after a backward, "
			      "which wrote gradients over the activations; "
			      "expected a forward first", r->name);
	if (t >= r->T || b >= r->B)
		return sp_err(ctx, SP_EINVAL,
			      "%s: trace of step %zu row %zu, the batch is "
			      "T=%zu B=%zu", r->name, t, b, r->T, r->B);
	return SP_OK;
}

/* x(t): the one-hot vector for ids (built in xv, V floats), else what
 * entered layer 0; then e(t) when the ids are embedded. */
static int trace_input_(const sp_rnn *r, size_t t, size_t row, float *xv,
			sp_trace_fn emit, void *payload)
{
	int rc;
	if (!r->ids_in)
		return emit(payload, t, "x(t)", r->x0 + row * r->in0, r->in0, 1);
	memset(xv, 0, r->cfg.in_dim * sizeof(float));
	xv[r->ids[row]] = 1.0f;
	rc = emit(payload, t, "x(t)", xv, r->cfg.in_dim, 1);
	if (!rc && r->cfg.embed)
		rc = emit(payload, t, "e(t) = embed·x(t)",
			  r->x0 + row * r->in0, r->in0, 1);
	return rc;
}

/* The gates of a built-in LSTM or GRU (a: the step's activations), the
 * cell state cc (LSTM) and h(t), in the order of the equations. */
static int trace_gated_(const sp_rnn *r, size_t t, const float *a,
			const float *cc, const float *hc, sp_trace_fn emit,
			void *payload)
{
	const size_t H = r->H;
	int rc;
	if (r->cfg.cell == SP_CELL_LSTM) {
		rc = emit(payload, t, "i(t)", a, H, 1);
		if (!rc)
			rc = emit(payload, t, "f(t)", a + H, H, 1);
		if (!rc)
			rc = emit(payload, t, "g(t)", a + 2 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "o(t)", a + 3 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "c(t)", cc, H, 1);
	} else {
		rc = emit(payload, t, "z(t)", a + H, H, 1);
		if (!rc)
			rc = emit(payload, t, "r(t)", a, H, 1);
		if (!rc)
			rc = emit(payload, t, "n(t)", a + 2 * H, H, 1);
	}
	if (!rc)
		rc = emit(payload, t, "h(t)", hc, H, 1);
	return rc;
}

/* Step t, row b of the last forward (layer 0, forward direction). */
static int trace_step_(sp_rnn *rnn, sp_ctx *ctx, size_t t, size_t b,
		       sp_trace_fn emit, void *payload)
{
	sp_rnn *r = rnn;
	const cell_ *c = &r->cells[0];
	size_t B = r->B, H = r->H, GH = r->G * H, row = t * B + b;
	size_t V = r->cfg.in_dim, need = V + 2 * GH;
	const float *hp, *hc, *cc, *a;
	float *xv, *wx, *wh;
	int rc;

	if ((rc = trace_check_(r, ctx, t, b)))
		return rc;
	if (!r->mask[row])
		return SP_OK;
	if (!r->trace_buf) {
		/* sized once for this stage (trace is not a hot path) */
		r->trace_buf = malloc(need * sizeof(float));
		if (!r->trace_buf)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory",
				      r->name);
	}
	xv = r->trace_buf;
	wx = xv + V;
	wh = wx + GH;
	hp = c->h + t * B * H + b * H;       /* layer 0 runs forward */
	hc = c->h + (t + 1) * B * H + b * H;
	cc = r->has_c ? c->c + (t + 1) * B * H + b * H : NULL;
	a = c->gates + row * GH;

	if ((rc = trace_input_(r, t, row, xv, emit, payload)))
		return rc;
	if (r->ops)
		return trace_custom_(r, t, a, cc, hc, emit, payload);
	switch (r->cfg.cell) {
	case SP_CELL_RNN_TANH:
	case SP_CELL_RNN_RELU:
		return trace_rnn_(r, t, row, hp, hc, wx, wh, emit, payload);
	case SP_CELL_LSTM:
	case SP_CELL_GRU:
		return trace_gated_(r, t, a, cc, hc, emit, payload);
	}
	return SP_OK;
}

int sp_rnn_trace(sp_rnn *rnn, sp_ctx *ctx, size_t t, size_t b,
		 sp_trace_fn emit, void *payload)
{
	if (t == SP_TRACE_PARAMS)
		return trace_params_(rnn, ctx, emit, payload);
	return trace_step_(rnn, ctx, t, b, emit, payload);
}

int sp_rnn_view(const sp_rnn *rnn, sp_ctx *ctx, size_t layer, int dir,
		sp_cell_view *out)
{
	const cell_ *c;
	memset(out, 0, sizeof(*out));
	if (!rnn->have_fwd)
		return sp_err(ctx, SP_EINVAL, "%s: no forward to view",
			      rnn->name);
	if (layer >= rnn->L || dir < 0 || (size_t)dir >= rnn->ND)
		return sp_err(ctx, SP_EINVAL,
			      "%s: no layer %zu direction %d", rnn->name,
			      layer, dir);
	c = &rnn->cells[layer * rnn->ND + (size_t)dir];
	out->cell = rnn->cfg.cell;
	out->T = rnn->T;
	out->B = rnn->B;
	out->H = rnn->H;
	out->G = rnn->G;
	out->reverse = c->reverse;
	/* a backward has turned the activations into gradients */
	out->gates = rnn->have_bwd ? NULL : c->gates;
	out->h = c->h;
	out->c = rnn->has_c ? c->c : NULL;
	out->dh_norm = rnn->have_bwd ? c->dh_norm : NULL;
	out->mask = rnn->mask;
	return SP_OK;
}

int sp_cell_gate_stats(const sp_cell_view *v, size_t gate, double *mean,
		       double *saturated)
{
	size_t H = v->H, GH = v->G * H, n = 0, nsat = 0;
	double sum = 0;
	/* tanh-like blocks: lstm g, gru n, the tanh rnn; relu: rnn relu */
	int tanh_like = (v->cell == SP_CELL_LSTM && gate == 2) ||
			(v->cell == SP_CELL_GRU && gate == 2) ||
			v->cell == SP_CELL_RNN_TANH;
	*mean = *saturated = 0;
	if (gate >= v->G || !v->gates)
		return SP_EINVAL;
	for (size_t row = 0; row < v->T * v->B; row++) {
		const float *g = v->gates + row * GH + gate * H;
		if (!v->mask[row])
			continue;
		for (size_t k = 0; k < H; k++) {
			float a = g[k];
			int sat;
			if (v->cell == SP_CELL_RNN_RELU)
				sat = a == 0.0f;
			else if (tanh_like)
				sat = fabsf(a) > 0.95f;
			else
				sat = a < 0.05f || a > 0.95f;
			sum += a;
			nsat += sat;
			n++;
		}
	}
	if (n) {
		*mean = sum / (double)n;
		*saturated = (double)nsat / (double)n;
	}
	return SP_OK;
}

const sp_rnn_config *sp_rnn_config_of(const sp_rnn *rnn)
{
	return &rnn->cfg;
}
