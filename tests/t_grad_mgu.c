/*
 * t_grad_mgu.c: a cell of one's own through the engine: the example
 * plugin doc/example-plugin/mgu.c (the minimal gated unit, written as
 * gate math with sp_cell_ops), built from the same source as the
 * out-of-tree example.
 *
 * Gradient checks as t_grad_cell.c: L = Σ y⊙R, central differences on
 * every weight, on dx and on h0, relative error < 1e-2 (entries under
 * FLOOR compared absolutely), T=4, B=3, I=5, H=4: one layer, a masked
 * batch, two stacked bidirectional layers masked (with h0), ids through
 * an embedding.  Then: the forward matches a naive double precision
 * recomputation of the MGU's equations; the kernel path agrees with the
 * portable one (1e-4) and gives the same bits with 1, 2 and 3 threads;
 * the plugin's face (keys, weight names, instruments, trace); and what
 * the engine refuses: a bad descriptor, a bad sp_rnn_config size.
 *
 * The built-in LSTM and GRU written the same way (SP_CELL_STATE_C and
 * SP_CELL_SPLIT) give the built-in cells' outputs and gradients on the
 * same weights (to round-off: their activations are other code), which
 * shows that the descriptor expresses them; the LSTM's is gradient-
 * checked too (the path of a second state c).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "sp_cell.h"
#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "tap.h"

#include "../doc/example-plugin/mgu.c"

enum { MAXW = 32, T_ = 4, B_ = 3 };
static const double TOL = 1e-2, FLOOR = 5e-3;

typedef struct net {
	sp_ctx *ctx;
	sp_rnn *rnn;
	const sp_weight *w;
	size_t n_w, wn[MAXW], total, D, out, nstate;
	float *val[MAXW], *grad[MAXW], *vblock, *gblock;
	float *x, *R, *h0;
	int32_t *ids;
	uint8_t *mask;
	int32_t len[B_];
} net;

static sp_rnn_config cfg_(size_t layers, int bidir, size_t embed)
{
	sp_rnn_config c;
	sp_rnn_config_init(&c);
	c.name = "mgu";
	c.ops = &mgu_cell;
	c.in_dim = 5;
	c.hidden = 4;
	c.layers = layers;
	c.bidirectional = bidir;
	c.embed = embed;
	return c;
}

static size_t numel_(const sp_weight *w)
{
	size_t n = 1;
	for (int i = 0; i < w->ndim; i++)
		n *= w->dim[i];
	return n;
}

/* Engine, arenas and one batch; lens NULL: no mask. */
static int net_new_(net *n, const sp_rnn_config *cfg, const int32_t *lens,
		    int ids, int with_h0)
{
	size_t off = 0, ND = cfg->bidirectional ? 2 : 1, M = T_ * B_;
	memset(n, 0, sizeof(*n));
	if (sp_ctx_new(&n->ctx, 11) || sp_rnn_new(&n->rnn, n->ctx, cfg))
		return -1;
	sp_rnn_weights(n->rnn, &n->w, &n->n_w);
	for (size_t i = 0; i < n->n_w; i++)
		n->total += (n->wn[i] = numel_(&n->w[i]));
	n->vblock = calloc(n->total, sizeof(float));
	n->gblock = calloc(n->total, sizeof(float));
	for (size_t i = 0; i < n->n_w; i++) {
		n->val[i] = n->vblock + off;
		n->grad[i] = n->gblock + off;
		off += n->wn[i];
	}
	if (sp_rnn_bind(n->rnn, n->val, n->grad) || sp_rnn_init(n->rnn, n->ctx))
		return -1;
	n->D = cfg->in_dim;
	n->out = sp_rnn_out_dim(n->rnn);
	if (ids) {
		n->ids = calloc(M, sizeof(*n->ids));
		for (size_t i = 0; i < M; i++)
			n->ids[i] = (int32_t)sp_rng_below(n->ctx, n->D);
	} else {
		n->x = calloc(M * n->D, sizeof(float));
		sp_fill_uniform(n->ctx, n->x, M * n->D, -1, 1);
	}
	if (lens) {
		n->mask = calloc(M, 1);
		for (size_t b = 0; b < B_; b++) {
			n->len[b] = lens[b];
			for (size_t t = 0; t < T_; t++)
				n->mask[t * B_ + b] = (int32_t)t < lens[b];
		}
	}
	n->R = calloc(M * n->out, sizeof(float));
	sp_fill_uniform(n->ctx, n->R, M * n->out, -1, 1);
	n->nstate = cfg->layers * ND * B_ * cfg->hidden;
	if (with_h0) {
		n->h0 = calloc(n->nstate, sizeof(float));
		sp_fill_uniform(n->ctx, n->h0, n->nstate, -0.8f, 0.8f);
	}
	return 0;
}

static void net_free_(net *n)
{
	sp_rnn_free(n->rnn);
	sp_ctx_free(n->ctx);
	free(n->vblock);
	free(n->gblock);
	free(n->x);
	free(n->ids);
	free(n->mask);
	free(n->R);
	free(n->h0);
}

static int fwd_(net *n, sp_seq *y, int train)
{
	sp_seq x = {T_, B_, n->D, n->x, n->ids, n->mask,
		    n->mask ? n->len : NULL};
	return sp_rnn_forward_ex(n->rnn, n->ctx, &x, y, train, n->h0, NULL);
}

static double loss_(void *payload)
{
	net *n = payload;
	sp_seq y;
	double L = 0;
	if (fwd_(n, &y, 1))
		return NAN;
	for (size_t i = 0; i < T_ * B_ * n->out; i++)
		L += (double)y.x[i] * n->R[i];
	return L;
}

/* Zeroed grads, forward + backward (dy = R); dx, dh0 copied out. */
static int grads_(net *n, float *dx, float *dh0)
{
	sp_seq y, dy, dxs;
	int rc;
	memset(n->gblock, 0, n->total * sizeof(float));
	if ((rc = fwd_(n, &y, 1)))
		return rc;
	dy = y;
	dy.x = n->R;
	if ((rc = sp_rnn_backward_ex(n->rnn, n->ctx, &dy, &dxs, dh0, NULL)))
		return rc;
	if (dx && dxs.x)
		memcpy(dx, dxs.x, T_ * B_ * n->D * sizeof(float));
	return 0;
}

static void report_(const char *label, const char *what, gc_result r)
{
	if (!ok(r.max_rel < TOL, "%s %s max_rel=%.1e (%zu checked)", label,
		what, r.max_rel, r.checked))
		diag("worst at %zu: analytic %.6g numeric %.6g", r.worst,
		     r.analytic, r.numeric);
}

static void check_case_(const char *label, const sp_rnn_config *cfg,
			const int32_t *lens, int ids, int with_h0)
{
	net n;
	float *dx = NULL, *dh0 = NULL;
	if (net_new_(&n, cfg, lens, ids, with_h0)) {
		ok(0, "%s: setup: %s", label, sp_errmsg(n.ctx));
		net_free_(&n);
		return;
	}
	dx = ids ? NULL : calloc(T_ * B_ * n.D, sizeof(float));
	dh0 = with_h0 ? calloc(n.nstate, sizeof(float)) : NULL;
	if (!ok(grads_(&n, dx, dh0) == 0, "%s: forward + backward", label))
		diag("%s", sp_errmsg(n.ctx));
	for (size_t i = 0; i < n.n_w; i++)
		report_(label, n.w[i].name,
			gc_check(loss_, &n, n.val[i], n.grad[i], n.wn[i],
				 1e-2f, 0, FLOOR));
	if (dx)
		report_(label, "dx", gc_check(loss_, &n, n.x, dx,
					      T_ * B_ * n.D, 1e-2f, 0, FLOOR));
	if (dh0)
		report_(label, "dh0", gc_check(loss_, &n, n.h0, dh0, n.nstate,
					       1e-2f, 0, FLOOR));
	free(dx);
	free(dh0);
	net_free_(&n);
}

static void test_gradients_(void)
{
	static const int32_t lens[B_] = {4, 2, 1};
	sp_rnn_config c = cfg_(1, 0, 0);
	check_case_("mgu", &c, NULL, 0, 0);
	check_case_("mgu masked(4,2,1)", &c, lens, 0, 1);
	c = cfg_(2, 1, 0);
	check_case_("mgu 2-layer bidir masked h0", &c, lens, 0, 1);
	c = cfg_(1, 1, 3);
	check_case_("mgu ids embed=3 bidir masked", &c, lens, 1, 0);
}

static double sig_(double v)
{
	return 1.0 / (1.0 + exp(-v));
}

/* The MGU's equations in double over the engine's weights (one layer,
 * forward, no mask, zero h0): the largest |y - naive|. */
static double naive_diff_(const net *n, const float *y)
{
	const size_t H = 4, I = n->D, GH = 2 * H;
	const float *Wx = n->val[0], *Wh = n->val[1], *bx = n->val[2],
		    *bh = n->val[3];
	double h[B_][4] = {{0}}, worst = 0;
	for (size_t t = 0; t < T_; t++) {
		for (size_t b = 0; b < B_; b++) {
			const float *x = n->x + (t * B_ + b) * I;
			double hn[4];
			for (size_t k = 0; k < H; k++) {
				double af = bx[k] + bh[k], xn = bx[H + k];
				double hh = bh[H + k], f, nn;
				for (size_t i = 0; i < I; i++) {
					af += x[i] * Wx[i * GH + k];
					xn += x[i] * Wx[i * GH + H + k];
				}
				for (size_t j = 0; j < H; j++) {
					af += h[b][j] * Wh[j * GH + k];
					hh += h[b][j] * Wh[j * GH + H + k];
				}
				f = sig_(af);
				nn = tanh(xn + f * hh);
				hn[k] = (1 - f) * h[b][k] + f * nn;
				worst = fmax(worst, fabs(hn[k] -
					y[(t * B_ + b) * H + k]));
			}
			memcpy(h[b], hn, sizeof(hn));
		}
	}
	return worst;
}

static void test_naive_(void)
{
	sp_rnn_config c = cfg_(1, 0, 0);
	net n;
	sp_seq y;
	if (net_new_(&n, &c, NULL, 0, 0) || fwd_(&n, &y, 0)) {
		ok(0, "naive: setup");
	} else {
		double d = naive_diff_(&n, y.x);
		ok(d < 1e-5, "forward = the MGU's equations in double "
		   "(max |diff| %.1e)", d);
	}
	net_free_(&n);
}

/* The LSTM as gate math: a = [i|f|g|o], c(t) = f⊙c(t-1) + i⊙g,
 * h(t) = o⊙tanh(c(t)). */
static void lstm_fwd_(const sp_cell_row *r)
{
	float *a = r->a;
	const size_t H = r->H, u0 = r->u0, m = r->u1 - r->u0;
	sp_cell_sigmoid(a + u0, m);
	sp_cell_sigmoid(a + H + u0, m);
	sp_cell_tanh(a + 2 * H + u0, m);
	sp_cell_sigmoid(a + 3 * H + u0, m);
	for (size_t k = u0; k < r->u1; k++)
		r->h[k] = r->c[k] = a[H + k] * r->cp[k] + a[k] * a[2 * H + k];
	sp_cell_tanh(r->h + u0, m);
	for (size_t k = u0; k < r->u1; k++)
		r->h[k] *= a[3 * H + k];
}

static void lstm_bwd_(const sp_cell_row *r)
{
	const size_t H = r->H;
	for (size_t k = r->u0; k < r->u1; k++) {
		float i = r->a[k], f = r->a[H + k], g = r->a[2 * H + k];
		float o = r->a[3 * H + k], tc = tanhf(r->c[k]);
		float dct = r->dc[k] + r->dh[k] * o * (1.0f - tc * tc);
		r->da[k] = dct * g * i * (1.0f - i);
		r->da[H + k] = dct * r->cp[k] * f * (1.0f - f);
		r->da[2 * H + k] = dct * i * (1.0f - g * g);
		r->da[3 * H + k] = r->dh[k] * tc * o * (1.0f - o);
		r->dc[k] = dct * f;
	}
}

/* The GRU (PyTorch's form) as gate math: a = [xr|xz|xn], ah = [hr|hz|hn]. */
static void gru_fwd_(const sp_cell_row *r)
{
	float *a = r->a;
	const float *ah = r->ah;
	const size_t H = r->H, u0 = r->u0, m = r->u1 - r->u0;
	for (size_t k = u0; k < r->u1; k++) {
		a[k] += ah[k];
		a[H + k] += ah[H + k];
	}
	sp_cell_sigmoid(a + u0, m);
	sp_cell_sigmoid(a + H + u0, m);
	for (size_t k = u0; k < r->u1; k++)
		a[2 * H + k] += a[k] * ah[2 * H + k];
	sp_cell_tanh(a + 2 * H + u0, m);
	for (size_t k = u0; k < r->u1; k++)
		r->h[k] = (1.0f - a[H + k]) * a[2 * H + k] + a[H + k] * r->hp[k];
}

static void gru_bwd_(const sp_cell_row *r)
{
	const size_t H = r->H;
	for (size_t k = r->u0; k < r->u1; k++) {
		float rr = r->a[k], z = r->a[H + k], n = r->a[2 * H + k];
		float hn = r->ah[2 * H + k], dh = r->dh[k];
		float dan = dh * (1.0f - z) * (1.0f - n * n);
		float dar = dan * hn * rr * (1.0f - rr);
		float daz = dh * (r->hp[k] - n) * z * (1.0f - z);
		r->da[k] = r->dah[k] = dar;
		r->da[H + k] = r->dah[H + k] = daz;
		r->da[2 * H + k] = dan;
		r->dah[2 * H + k] = dan * rr;
		r->dhp[k] += dh * z;
	}
}

static const sp_cell_ops lstm_cell = {
	.size = sizeof(sp_cell_ops), .name = "lstm-as-ops", .gates = 4,
	.flags = SP_CELL_STATE_C, .forward = lstm_fwd_,
	.backward = lstm_bwd_};
static const sp_cell_ops gru_cell = {
	.size = sizeof(sp_cell_ops), .name = "gru-as-ops", .gates = 3,
	.flags = SP_CELL_SPLIT, .forward = gru_fwd_, .backward = gru_bwd_};

/* Output and gradients of one run of the 2-layer bidirectional masked
 * case with cfg's path and threads (caller frees *out). */
static int run_(const sp_rnn_config *cfg, float **out, size_t *n_out)
{
	static const int32_t lens[B_] = {4, 3, 2};
	net n;
	sp_seq y;
	size_t ny;
	int rc = net_new_(&n, cfg, lens, 0, 1);
	if (!rc)
		rc = grads_(&n, NULL, NULL);
	if (!rc)
		rc = fwd_(&n, &y, 0);
	if (!rc) {
		ny = T_ * B_ * n.out;
		*n_out = ny + n.total;
		*out = malloc(*n_out * sizeof(float));
		memcpy(*out, y.x, ny * sizeof(float));
		memcpy(*out + ny, n.gblock, n.total * sizeof(float));
	}
	net_free_(&n);
	return rc;
}

/* The kernels against the portable path, and 1, 2, 3 threads. */
static void test_paths_(void)
{
	sp_rnn_config c = cfg_(2, 1, 0);
	float *ref = NULL, *k1 = NULL, *kn = NULL;
	size_t n0 = 0, n1 = 0, nn = 0;
	double worst = 0, scale = 1e-3;
	c.reference = 1;
	c.hidden = 40; /* more than one block of the kernels */
	ok(run_(&c, &ref, &n0) == 0, "reference path runs");
	c.reference = 0;
	ok(run_(&c, &k1, &n1) == 0 && n1 == n0, "default path runs");
	/* as t_grad_cell.c: the largest difference over the largest value */
	for (size_t i = 0; k1 && ref && i < n0; i++) {
		worst = fmax(worst, fabs((double)k1[i] - ref[i]));
		scale = fmax(scale, fabs(ref[i]));
	}
	ok(k1 && worst / scale < 1e-4,
	   "kernel and portable paths agree (%.1e)", worst / scale);
	for (size_t th = 2; th <= 3; th++) {
		c.threads = th;
		ok(run_(&c, &kn, &nn) == 0 && nn == n1 && k1 &&
			   memcmp(kn, k1, n1 * sizeof(float)) == 0,
		   "threads=%zu gives the bits of threads=1", th);
		free(kn);
		kn = NULL;
	}
	free(ref);
	free(k1);
}

static int count_(void *payload, const char *name, double v)
{
	(void)name;
	(void)v;
	++*(int *)payload;
	return 0;
}

static int labels_(void *payload, size_t t, const char *label,
		   const float *v, size_t rows, size_t cols)
{
	(void)t;
	(void)v;
	(void)rows;
	(void)cols;
	strncat(payload, label, 200 - strlen(payload) - 2);
	strcat(payload, ";");
	return 0;
}

/* The component as the host drives it: keys, weights, instruments. */
static void test_plugin_(void)
{
	const sp_plugin *pl = mgu_LTX_sp_plugin_entry();
	sp_ctx *ctx;
	sp_kv *kv = NULL;
	void *self = NULL;
	const sp_weight *w;
	size_t nw = 0;
	sp_ctx_new(&ctx, 5);
	ok(pl->abi == SP_ABI_VERSION && pl->components[0] == &mgu_ops.base,
	   "descriptor: abi %d, component %s", pl->abi,
	   pl->components[0]->name);
	sp_kv_new(&kv, "mgu");
	sp_kv_set(kv, ctx, "hidden", "6", 0, "test");
	sp_kv_set(kv, ctx, "layers", "2", 0, "test");
	ok(sp_kv_validate(kv, ctx, mgu_ops.base.params, ".") == 0 &&
		   mgu_ops.create(&self, ctx, kv, 7) == 0,
	   "created from keys hidden=6 layers=2");
	if (self)
		mgu_ops.weights(self, &w, &nw);
	ok(nw == 8 && !strcmp(w[0].name, "l0.Wx") && w[0].dim[1] == 12 &&
		   !strcmp(w[3].name, "l0.bh") && !strcmp(w[5].name, "l1.Wh"),
	   "weights l0.Wx (7,12) l0.Wh l0.bx l0.bh, then l1 (%zu)", nw);
	ok(mgu_ops.out_dim(self) == 6 && !mgu_ops.sees_future(self),
	   "out_dim 6, does not see the future");
	mgu_ops.destroy(self);
	sp_kv_free(kv);
	sp_ctx_free(ctx);
}

/* Instruments name the gate f only (n is tanh-like); the trace names the
 * blocks. */
static void test_instruments_(void)
{
	sp_rnn_config c = cfg_(1, 0, 0);
	net n;
	sp_seq y;
	int k = 0;
	char labels[200] = "";
	if (net_new_(&n, &c, NULL, 0, 0) || fwd_(&n, &y, 1)) {
		ok(0, "instruments: setup");
		net_free_(&n);
		return;
	}
	sp_rnn_model_instruments(n.rnn, n.ctx, count_, &k);
	ok(k == 2, "after forward: gate.l0.f.mean and .sat (%d values)", k);
	ok(sp_rnn_trace(n.rnn, n.ctx, 1, 0, labels_, labels) == 0 &&
		   strcmp(labels, "x(t);f(t);n(t);h(t);") == 0,
	   "trace: %s", labels);
	net_free_(&n);
}

static void bad_(const char *what, const sp_rnn_config *c)
{
	sp_ctx *ctx;
	sp_rnn *r = NULL;
	int rc;
	sp_ctx_new(&ctx, 1);
	rc = sp_rnn_new(&r, ctx, c);
	ok(rc == SP_EINVAL && !r, "refused: %s (%s)", what, sp_errmsg(ctx));
	sp_rnn_free(r);
	sp_ctx_free(ctx);
}

static void test_errors_(void)
{
	sp_cell_ops o = mgu_cell;
	sp_rnn_config c = cfg_(1, 0, 0);
	sp_ctx *ctx;
	sp_rnn *r = NULL;
	c.ops = &o;
	o.gates = 5;
	bad_("5 gate blocks", &c);
	o = mgu_cell;
	o.backward = NULL;
	bad_("no backward", &c);
	o = mgu_cell;
	o.size = 8;
	bad_("ops size 8", &c);
	c = cfg_(1, 0, 0);
	c.cell = SP_CELL_GRU;
	bad_("ops with a built-in cell kind", &c);
	c = cfg_(1, 0, 0);
	c.size = sizeof(c) + 8;
	bad_("sp_rnn_config size from the future", &c);
	c.ops = NULL;
	c.size = 0;
	c.cell = SP_CELL_GRU;
	sp_ctx_new(&ctx, 1);
	ok(sp_rnn_new(&r, ctx, &c) == 0,
	   "size 0 reads the first layout (a zeroed struct of an old caller)");
	sp_rnn_free(r);
	sp_ctx_free(ctx);
}

/* Output and gradients of the built-in `kind` and of `ops` on the same
 * weights and batch: the largest difference over the largest value. */
static double vs_builtin_(sp_cell_kind kind, const sp_cell_ops *ops,
			  int reference)
{
	static const int32_t lens[B_] = {4, 3, 1};
	sp_rnn_config cb = cfg_(2, 1, 0), co = cb;
	net a, b;
	sp_seq ya, yb;
	double d = 0, m = 1e-3;
	cb.ops = NULL;
	cb.cell = kind;
	cb.hidden = co.hidden = 20;
	co.ops = ops;
	cb.reference = co.reference = reference;
	if (net_new_(&a, &cb, lens, 0, 1) || net_new_(&b, &co, lens, 0, 1) ||
	    a.total != b.total) {
		net_free_(&a);
		net_free_(&b);
		return INFINITY;
	}
	memcpy(b.vblock, a.vblock, a.total * sizeof(float));
	memcpy(b.x, a.x, T_ * B_ * a.D * sizeof(float));
	memcpy(b.R, a.R, T_ * B_ * a.out * sizeof(float));
	memcpy(b.h0, a.h0, a.nstate * sizeof(float));
	if (grads_(&a, NULL, NULL) || grads_(&b, NULL, NULL) ||
	    fwd_(&a, &ya, 0) || fwd_(&b, &yb, 0))
		d = INFINITY;
	for (size_t i = 0; d < INFINITY && i < T_ * B_ * a.out; i++) {
		d = fmax(d, fabs((double)ya.x[i] - yb.x[i]));
		m = fmax(m, fabs(ya.x[i]));
	}
	for (size_t i = 0; d < INFINITY && i < a.total; i++) {
		d = fmax(d, fabs((double)a.gblock[i] - b.gblock[i]));
		m = fmax(m, fabs(a.gblock[i]));
	}
	net_free_(&a);
	net_free_(&b);
	return d / m;
}

static void test_builtins_as_ops_(void)
{
	static const int32_t lens[B_] = {4, 2, 1};
	sp_rnn_config c = cfg_(2, 1, 0);
	for (int ref = 1; ref >= 0; ref--) {
		double dl = vs_builtin_(SP_CELL_LSTM, &lstm_cell, ref);
		double dg = vs_builtin_(SP_CELL_GRU, &gru_cell, ref);
		ok(dl < 1e-5, "the LSTM as gate math = the built-in LSTM "
		   "(%s path, %.1e)", ref ? "portable" : "default", dl);
		ok(dg < 1e-5, "the GRU as gate math = the built-in GRU "
		   "(%s path, %.1e)", ref ? "portable" : "default", dg);
	}
	c.ops = &lstm_cell;
	check_case_("lstm-as-ops 2-layer bidir masked h0", &c, lens, 0, 1);
}

int main(void)
{
	test_gradients_();
	test_naive_();
	test_paths_();
	test_plugin_();
	test_instruments_();
	test_errors_();
	test_builtins_as_ops_();
	return tap_done();
}
