/*
 * t_grad_cell.c: the recurrent engine (core/sp_cell.c) and the rnn plugin
 * (plugins/rnn.c): gradient checks, contracts and the plugin's face.
 *
 * Gradient checks: L = Σ y⊙R with a fixed random R (so dy = R, nonzero
 * at padded steps too, which must be ignored), summed in double; central
 * differences on every weight, on dx (dense input) and on the initial
 * state (h0, c0; the carry path), relative error < 1e-2 (entries under
 * FLOOR compared absolutely, see there).  Tiny shapes:
 * T=4, B=3, I=5, H=4.  Dropout is checked by restoring the RNG state
 * before every forward, so that every evaluation draws the same masks.
 *
 * Contracts: one backward per forward, and gradients accumulate over
 * forward + backward pairs; forward twice gives
 * the same output; a sequence's output and gradient do not depend on
 * what it was batched with; train=0 uses no dropout and no randomness;
 * identical seeds give bit-identical runs; the cache does not grow for a
 * batch that fits; carrying the state across two chunks equals one pass
 * over the whole sequence, and carry_at(k) carries what a forward over
 * the first k steps would have, bit for bit; the forward pass matches a
 * naive double precision recomputation of the equations; trace emits the
 * course's quantities.  The plugin is driven through its descriptor as the host
 * does.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "sp_cell.h"
#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "tap.h"

const sp_plugin *rnn_LTX_sp_plugin_entry(void);

enum { MAXW = 64 };
static const double TOL = 1e-2;
/* Entries below this size are compared in absolute terms: the float
 * forward pass leaves about 1e-5 of noise in a central difference with
 * eps = 1e-2 (measured), so an entry of 1e-4 cannot be checked to 1%. */
static const double FLOOR = 5e-3;
static double worst_overall;

/* ------------------------------------------------------------------ */
/* A test network: engine + host-side arenas + one batch               */
/* ------------------------------------------------------------------ */
typedef struct net {
	sp_ctx *ctx;
	sp_rnn *rnn;
	sp_rnn_config cfg;
	const sp_weight *w;
	size_t n_w, wn[MAXW], total;
	float *val[MAXW], *grad[MAXW];
	float *vblock, *gblock;
	size_t T, B, D, out, nstate;
	float *x;           /* (T,B,D) dense input, or NULL */
	int32_t *ids;       /* (T,B) ids input, or NULL */
	uint8_t *mask;      /* (T,B) or NULL */
	int32_t *len;
	float *R;           /* (T,B,out) */
	float *h0, *c0;     /* (layers*ND,B,H) or NULL */
	int train;
	uint64_t rs[4];     /* RNG state restored before each forward */
} net;

static size_t numel_(const sp_weight *w)
{
	size_t n = 1;
	for (int i = 0; i < w->ndim; i++)
		n *= w->dim[i];
	return n;
}

static void fill_(sp_ctx *ctx, float *v, size_t n, float lo, float hi)
{
	sp_fill_uniform(ctx, v, n, lo, hi);
}

/* Builds engine + batch.  ids_in: input ids in [0, cfg->in_dim).
 * lens: B lengths (NULL = no mask).  with_h0: random initial states. */
static int net_new_(net *n, const sp_rnn_config *cfg, size_t T, size_t B,
		    int ids_in, const int32_t *lens, int with_h0,
		    uint64_t seed)
{
	size_t off = 0, ND = cfg->bidirectional ? 2 : 1;
	memset(n, 0, sizeof(*n));
	if (sp_ctx_new(&n->ctx, seed) || sp_rnn_new(&n->rnn, n->ctx, cfg))
		return -1;
	n->cfg = *cfg;
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
	sp_rnn_bind(n->rnn, n->val, n->grad);
	if (sp_rnn_init(n->rnn, n->ctx))
		return -1;
	n->T = T;
	n->B = B;
	n->D = cfg->in_dim;
	n->out = sp_rnn_out_dim(n->rnn);
	if (ids_in) {
		n->ids = calloc(T * B, sizeof(*n->ids));
		for (size_t i = 0; i < T * B; i++)
			n->ids[i] = (int32_t)sp_rng_below(n->ctx, n->D);
	} else {
		n->x = calloc(T * B * n->D, sizeof(float));
		fill_(n->ctx, n->x, T * B * n->D, -1, 1);
	}
	if (lens) {
		n->mask = calloc(T * B, 1);
		n->len = calloc(B, sizeof(*n->len));
		for (size_t b = 0; b < B; b++) {
			n->len[b] = lens[b];
			for (size_t t = 0; t < T; t++) {
				n->mask[t * B + b] = (int32_t)t < lens[b];
				/* padding holds junk the engine must ignore */
				if (t >= (size_t)lens[b] && n->ids)
					n->ids[t * B + b] = -7;
			}
		}
	}
	n->R = calloc(T * B * n->out, sizeof(float));
	fill_(n->ctx, n->R, T * B * n->out, -1, 1);
	n->nstate = cfg->layers * ND * B * cfg->hidden;
	if (with_h0) {
		n->h0 = calloc(n->nstate, sizeof(float));
		fill_(n->ctx, n->h0, n->nstate, -0.8f, 0.8f);
		if (cfg->cell == SP_CELL_LSTM) {
			n->c0 = calloc(n->nstate, sizeof(float));
			fill_(n->ctx, n->c0, n->nstate, -1, 1);
		}
	}
	n->train = 1;
	sp_rng_get_state(n->ctx, n->rs);
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
	free(n->len);
	free(n->R);
	free(n->h0);
	free(n->c0);
}

static sp_seq input_(const net *n)
{
	sp_seq s = {n->T, n->B, n->D, n->x, n->ids, n->mask, n->len};
	return s;
}

/* Forward from the saved RNG state; y borrowed from the engine. */
static int fwd_(net *n, sp_seq *y)
{
	sp_seq x = input_(n);
	sp_rng_set_state(n->ctx, n->rs);
	return sp_rnn_forward_ex(n->rnn, n->ctx, &x, y, n->train, n->h0,
				 n->c0);
}

static double loss_(void *payload)
{
	net *n = payload;
	sp_seq y;
	double L = 0;
	if (fwd_(n, &y))
		return NAN;
	for (size_t i = 0; i < n->T * n->B * n->out; i++)
		L += (double)y.x[i] * n->R[i];
	return L;
}

/* Zeroes the grads, runs forward + backward (dy = R); copies dx, dh0,
 * dc0 into the caller's buffers when given. */
static int grads_(net *n, float *dx, float *dh0, float *dc0)
{
	sp_seq y, dy, dxs;
	int rc;
	memset(n->gblock, 0, n->total * sizeof(float));
	if ((rc = fwd_(n, &y)))
		return rc;
	dy = y;
	dy.x = n->R;
	if ((rc = sp_rnn_backward_ex(n->rnn, n->ctx, &dy, &dxs, dh0, dc0)))
		return rc;
	if (dx && dxs.x)
		memcpy(dx, dxs.x, n->T * n->B * n->D * sizeof(float));
	return 0;
}

static void report_(const char *label, const char *what, gc_result r)
{
	if (r.max_rel > worst_overall)
		worst_overall = r.max_rel;
	if (!ok(r.max_rel < TOL, "%s %s max_rel=%.1e (%zu checked)", label,
		what, r.max_rel, r.checked))
		diag("worst at %zu: analytic %.6g numeric %.6g", r.worst,
		     r.analytic, r.numeric);
}

/* The gradient check of one configuration. */
static void check_case_(const char *label, const sp_rnn_config *cfg,
			int ids_in, const int32_t *lens, int with_h0,
			float eps, double floor)
{
	enum { T = 4, B = 3 };
	net n;
	float *dx = NULL, *dh0 = NULL, *dc0 = NULL;
	if (net_new_(&n, cfg, T, B, ids_in, lens, with_h0, 7)) {
		ok(0, "%s: setup: %s", label, sp_errmsg(n.ctx));
		net_free_(&n);
		return;
	}
	if (!ids_in)
		dx = calloc(T * B * n.D, sizeof(float));
	if (with_h0) {
		dh0 = calloc(n.nstate, sizeof(float));
		dc0 = calloc(n.nstate, sizeof(float));
	}
	if (!ok(grads_(&n, dx, dh0, n.c0 ? dc0 : NULL) == 0,
		"%s: forward + backward", label))
		diag("%s", sp_errmsg(n.ctx));
	for (size_t i = 0; i < n.n_w; i++)
		report_(label, n.w[i].name,
			gc_check(loss_, &n, n.val[i], n.grad[i], n.wn[i], eps,
				 0, floor));
	if (dx)
		report_(label, "dx",
			gc_check(loss_, &n, n.x, dx, T * B * n.D, eps, 0,
				 floor));
	if (with_h0)
		report_(label, "dh0",
			gc_check(loss_, &n, n.h0, dh0, n.nstate, eps, 0,
				 floor));
	if (with_h0 && n.c0)
		report_(label, "dc0",
			gc_check(loss_, &n, n.c0, dc0, n.nstate, eps, 0,
				 floor));
	free(dx);
	free(dh0);
	free(dc0);
	net_free_(&n);
}

static sp_rnn_config cfg_(sp_cell_kind kind, size_t I, size_t H)
{
	sp_rnn_config c;
	memset(&c, 0, sizeof(c));
	c.name = "test";
	c.cell = kind;
	c.in_dim = I;
	c.hidden = H;
	c.layers = 1;
	c.forget_bias = 1.0f;
	return c;
}

static void test_gradients_(void)
{
	static const int32_t lens[3] = {4, 2, 1};
	sp_rnn_config c;
	const sp_cell_kind kinds[4] = {SP_CELL_RNN_TANH, SP_CELL_RNN_RELU,
				       SP_CELL_LSTM, SP_CELL_GRU};
	const char *names[4] = {"rnn-tanh", "rnn-relu", "lstm", "gru"};
	char label[64];

	for (int k = 0; k < 4; k++) {
		/* relu has kinks: a smaller step keeps clear of them, at the
		 * price of more float noise in the difference (about 1e-4
		 * absolute), hence a larger floor for tiny entries */
		int relu = kinds[k] == SP_CELL_RNN_RELU;
		float eps = relu ? 1e-3f : 1e-2f;
		double fl = relu ? 2e-2 : FLOOR;
		c = cfg_(kinds[k], 5, 4);
		check_case_(names[k], &c, 0, NULL, 0, eps, fl);

		snprintf(label, sizeof(label), "%s masked(4,2,1)", names[k]);
		check_case_(label, &c, 0, lens, 0, eps, fl);

		snprintf(label, sizeof(label), "%s 2-layer bidir masked",
			 names[k]);
		c.layers = 2;
		c.bidirectional = 1;
		check_case_(label, &c, 0, lens, 0, eps, fl);

		snprintf(label, sizeof(label), "%s ids(V=6) masked", names[k]);
		c = cfg_(kinds[k], 6, 4);
		check_case_(label, &c, 1, lens, 0, eps, fl);

		snprintf(label, sizeof(label), "%s h0 (carry path)", names[k]);
		c = cfg_(kinds[k], 5, 4);
		c.layers = 2;
		check_case_(label, &c, 0, lens, 1, eps, fl);
	}

	/* embedding, dropout between layers and on the embedding */
	c = cfg_(SP_CELL_LSTM, 7, 4);
	c.embed = 3;
	c.layers = 2;
	c.dropout = 0.3f;
	c.embed_dropout = 0.2f;
	check_case_("lstm embed+dropout", &c, 1, lens, 0, 1e-2f, FLOOR);
	c.word_dropout = 0.4f;
	check_case_("lstm embed+dropout+word dropout", &c, 1, lens, 0, 1e-2f,
		    FLOOR);
	c.embed_dropout = 0;
	c.word_dropout = 0.5f;
	check_case_("lstm embed+word dropout", &c, 1, lens, 0, 1e-2f, FLOOR);
	c = cfg_(SP_CELL_GRU, 7, 4);
	c.embed = 3;
	c.bidirectional = 1;
	check_case_("gru embed bidir", &c, 1, lens, 0, 1e-2f, FLOOR);
	c = cfg_(SP_CELL_RNN_TANH, 5, 4);
	c.layers = 3;
	c.dropout = 0.5f;
	c.embed_dropout = 0.5f;
	check_case_("rnn 3-layer dropout (dense input dropout)", &c, 0, lens,
		    0, 1e-2f, FLOOR);
	c.word_dropout = 0.3f;
	check_case_("rnn 3-layer dropout + word dropout (dense input)", &c, 0,
		    lens, 0, 1e-2f, FLOOR);
	c = cfg_(SP_CELL_LSTM, 5, 4);
	c.init = SP_CELL_INIT_ORTHOGONAL;
	c.bidirectional = 1;
	check_case_("lstm orthogonal bidir h0", &c, 0, NULL, 1, 1e-2f, FLOOR);

	/* H=20: a full block and a tail, shared among threads */
	c = cfg_(SP_CELL_LSTM, 5, 20);
	c.threads = 2;
	check_case_("lstm H=20 threads=2 masked h0", &c, 0, lens, 1, 1e-2f,
		    FLOOR);
	c = cfg_(SP_CELL_GRU, 5, 20);
	c.threads = 3;
	c.bidirectional = 1;
	check_case_("gru H=20 threads=3 bidir masked", &c, 0, lens, 0, 1e-2f,
		    FLOOR);
	c = cfg_(SP_CELL_RNN_TANH, 5, 20);
	c.threads = 2;
	c.layers = 2;
	check_case_("rnn H=20 threads=2 2-layer masked", &c, 0, lens, 0,
		    1e-2f, FLOOR);
}

/* ------------------------------------------------------------------ */
/* A naive double-precision forward of one unidirectional layer        */
/* ------------------------------------------------------------------ */
static double sig_(double v)
{
	return 1.0 / (1.0 + exp(-v));
}

/* y (T,B,H) from the equations in sp_cell.c's header, straight loops. */
static void naive_forward_(const net *n, double *y)
{
	size_t T = n->T, B = n->B, I = n->D, H = n->cfg.hidden;
	size_t G = sp_cell_gates(n->cfg.cell), GH = G * H;
	const float *Wx = n->val[0], *Wh = n->val[1], *bx = n->val[2];
	const float *bh = n->cfg.cell == SP_CELL_GRU ? n->val[3] : NULL;
	/* B <= 8, H <= 64 */
	double h[8][64] = {{0}}, c[8][64] = {{0}}, ax[256], ah[256];
	for (size_t t = 0; t < T; t++) {
		for (size_t b = 0; b < B; b++) {
			double *hb = h[b], *cb = c[b], hn[64];
			if (n->mask && !n->mask[t * B + b]) {
				for (size_t k = 0; k < H; k++)
					y[(t * B + b) * H + k] = 0;
				continue;
			}
			for (size_t j = 0; j < GH; j++) {
				ax[j] = bx[j];
				ah[j] = bh ? bh[j] : 0;
				for (size_t i = 0; i < I; i++)
					ax[j] += (double)n->x[(t * B + b) * I + i] *
						 Wx[i * GH + j];
				for (size_t i = 0; i < H; i++)
					ah[j] += hb[i] * Wh[i * GH + j];
			}
			for (size_t k = 0; k < H; k++) {
				double a = ax[k] + ah[k];
				switch (n->cfg.cell) {
				case SP_CELL_RNN_TANH: hn[k] = tanh(a); break;
				case SP_CELL_RNN_RELU: hn[k] = a > 0 ? a : 0; break;
				case SP_CELL_LSTM: {
					double ig = sig_(a);
					double fg = sig_(ax[H + k] + ah[H + k]);
					double gg = tanh(ax[2 * H + k] + ah[2 * H + k]);
					double og = sig_(ax[3 * H + k] + ah[3 * H + k]);
					cb[k] = fg * cb[k] + ig * gg;
					hn[k] = og * tanh(cb[k]);
					break;
				}
				case SP_CELL_GRU: {
					double r = sig_(a);
					double z = sig_(ax[H + k] + ah[H + k]);
					double nn = tanh(ax[2 * H + k] +
							 r * ah[2 * H + k]);
					hn[k] = (1 - z) * nn + z * hb[k];
					break;
				}
				}
			}
			for (size_t k = 0; k < H; k++)
				y[(t * B + b) * H + k] = hb[k] = hn[k];
		}
	}
}

/* The forward pass against naive_forward_, tiny (H=4, B=3), and with
 * H=40, B=5 on 1..3 threads: on the AVX-512 kernels, two full 16-unit
 * blocks and a tail of 8, a 4-row tile and a single row, uneven and
 * empty shares. */
static void test_naive_(void)
{
	static const int32_t lens[5] = {4, 3, 2, 6, 1};
	const sp_cell_kind kinds[4] = {SP_CELL_RNN_TANH, SP_CELL_RNN_RELU,
				       SP_CELL_LSTM, SP_CELL_GRU};
	const struct { size_t T, B, I, H, threads; } shape[3] = {
		{4, 3, 5, 4, 1}, {6, 5, 7, 40, 2}, {6, 5, 7, 40, 3}};
	for (int sh = 0; sh < 3; sh++) {
		for (int k = 0; k < 4; k++) {
			sp_rnn_config c = cfg_(kinds[k], shape[sh].I,
					       shape[sh].H);
			size_t ny = shape[sh].T * shape[sh].B * shape[sh].H;
			net n;
			sp_seq y;
			double *ref = calloc(ny, sizeof(double)), err = 0;
			c.threads = shape[sh].threads;
			net_new_(&n, &c, shape[sh].T, shape[sh].B, 0, lens, 0,
				 11);
			n.train = 0;
			fwd_(&n, &y);
			naive_forward_(&n, ref);
			for (size_t i = 0; i < ny; i++)
				err = fmax(err, fabs(y.x[i] - ref[i]));
			ok(err < 1e-5, "cell %d H=%zu threads=%zu forward = "
			   "naive double recomputation (max abs err %.1e)",
			   (int)kinds[k], shape[sh].H, shape[sh].threads, err);
			free(ref);
			net_free_(&n);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Kernels and threads: the same numbers every way                     */
/* ------------------------------------------------------------------ */

/* Everything one forward + backward computes. */
typedef struct outs {
	size_t ny, ng, ndx, ns, nn;
	float *y, *g, *dx, *dh0, *dc0, *dhn; /* dhn: every cell's dh_norm */
} outs;

static void outs_free_(outs *o)
{
	free(o->y);
	free(o->g);
	free(o->dx);
	free(o->dh0);
	free(o->dc0);
	free(o->dhn);
}

/* One training forward + backward (dy = R) of cfg with `reference` and
 * `threads` on the batch of seed 23: T=6, B=5, lengths 6 4 1 6 3,
 * random initial states. */
static int run_(const sp_rnn_config *cfg0, int ids_in, int reference,
		size_t threads, outs *o)
{
	static const int32_t lens[5] = {6, 4, 1, 6, 3};
	sp_rnn_config cfg = *cfg0;
	size_t ND = cfg.bidirectional ? 2 : 1;
	net n;
	sp_seq y;
	int rc;
	memset(o, 0, sizeof(*o));
	cfg.reference = reference;
	cfg.threads = threads;
	if (net_new_(&n, &cfg, 6, 5, ids_in, lens, 1, 23)) {
		diag("setup: %s", sp_errmsg(n.ctx));
		net_free_(&n);
		return -1;
	}
	o->ny = 6 * 5 * n.out;
	o->ng = n.total;
	o->ndx = ids_in ? 0 : 6 * 5 * n.D;
	o->ns = n.nstate;
	o->nn = cfg.layers * ND * 6;
	o->y = calloc(o->ny, sizeof(float));
	o->dx = calloc(o->ndx + 1, sizeof(float));
	o->dh0 = calloc(o->ns, sizeof(float));
	o->dc0 = calloc(o->ns, sizeof(float));
	o->g = calloc(o->ng, sizeof(float));
	o->dhn = calloc(o->nn, sizeof(float));
	rc = fwd_(&n, &y);
	if (!rc)
		memcpy(o->y, y.x, o->ny * sizeof(float));
	if (!rc)
		rc = grads_(&n, ids_in ? NULL : o->dx, o->dh0,
			    n.c0 ? o->dc0 : NULL);
	if (!rc)
		memcpy(o->g, n.gblock, o->ng * sizeof(float));
	for (size_t l = 0; !rc && l < cfg.layers; l++) {
		for (size_t d = 0; d < ND; d++) {
			sp_cell_view v;
			rc = sp_rnn_view(n.rnn, n.ctx, l, (int)d, &v);
			if (!rc)
				memcpy(o->dhn + (l * ND + d) * 6, v.dh_norm,
				       6 * sizeof(float));
		}
	}
	if (rc)
		diag("run: %s", sp_errmsg(n.ctx));
	net_free_(&n);
	return rc;
}

/* max |a - b| / max(max |a|, 1e-3) */
static double reldiff_(const float *a, const float *b, size_t n)
{
	double d = 0, m = 1e-3;
	for (size_t i = 0; i < n; i++) {
		d = fmax(d, fabs((double)a[i] - b[i]));
		m = fmax(m, fabs(a[i]));
	}
	return d / m;
}

static double outs_diff_(const outs *a, const outs *b)
{
	double d = reldiff_(a->y, b->y, a->ny);
	d = fmax(d, reldiff_(a->g, b->g, a->ng));
	d = fmax(d, reldiff_(a->dx, b->dx, a->ndx));
	d = fmax(d, reldiff_(a->dh0, b->dh0, a->ns));
	d = fmax(d, reldiff_(a->dc0, b->dc0, a->ns));
	return fmax(d, reldiff_(a->dhn, b->dhn, a->nn));
}

/* Bit-identical but for dh_norm (its sums run per thread). */
static int outs_same_(const outs *a, const outs *b)
{
	return memcmp(a->y, b->y, a->ny * sizeof(float)) == 0 &&
	       memcmp(a->g, b->g, a->ng * sizeof(float)) == 0 &&
	       memcmp(a->dx, b->dx, a->ndx * sizeof(float)) == 0 &&
	       memcmp(a->dh0, b->dh0, a->ns * sizeof(float)) == 0 &&
	       memcmp(a->dc0, b->dc0, a->ns * sizeof(float)) == 0 &&
	       reldiff_(a->dhn, b->dhn, a->nn) < 1e-6;
}

/*
 * H=40 (16-unit blocks 16 16 8, 32-unit blocks 32 8), 2 layers, both
 * directions, padding, initial states: the AVX-512 kernels against the
 * portable path (sp_gemm and the scalar gate math) within float
 * round-off, and each path on 2, 3 and 4 threads (bidirectional on the
 * kernels: a team of 1+1, 1+2, 2+2 threads) bit-identical to 1 thread
 * (dh_norm to round-off).  Without AVX-512 both paths are the portable
 * one.
 */
static void test_paths_(void)
{
	const sp_cell_kind kinds[4] = {SP_CELL_RNN_TANH, SP_CELL_RNN_RELU,
				       SP_CELL_LSTM, SP_CELL_GRU};
	const char *names[4] = {"rnn-tanh", "rnn-relu", "lstm", "gru"};
	for (int k = 0; k < 6; k++) {
		sp_rnn_config c = cfg_(kinds[k < 4 ? k : k - 2], 7, 40);
		int ids_in = k >= 4;
		char label[64];
		outs ref, ker, o;
		c.layers = 2;
		c.bidirectional = 1;
		if (k == 4) {
			/* ids through an embedding, dropout */
			c.in_dim = 30;
			c.embed = 20;
			c.dropout = 0.3f;
			c.embed_dropout = 0.1f;
		} else if (k == 5) {
			/* ids straight into Wx (row copy, scatter-add) */
			c.in_dim = 30;
		}
		snprintf(label, sizeof(label), "%s%s", names[k < 4 ? k : k - 2],
			 k == 4 ? " embed+dropout" : k == 5 ? " ids" : "");
		if (run_(&c, ids_in, 1, 1, &ref) || run_(&c, ids_in, 0, 1, &ker)) {
			ok(0, "%s: runs", label);
			outs_free_(&ref);
			outs_free_(&ker);
			continue;
		}
		{
			double d = outs_diff_(&ref, &ker);
			ok(d < 1e-4, "%s H=40: kernels = portable path (max rel "
			   "diff %.1e)", label, d);
		}
		for (int path = 0; path < 2; path++) {
			for (size_t th = 2; th <= 4; th++) {
				const char *pn = path ? "portable path" : "kernels";
				if (run_(&c, ids_in, path, th, &o) == 0)
					ok(outs_same_(path ? &ref : &ker, &o),
					   "%s: %s on %zu threads = on 1, bit "
					   "for bit", label, pn, th);
				else
					ok(0, "%s: %s on %zu threads runs", label,
					   pn, th);
				outs_free_(&o);
			}
		}
		outs_free_(&ref);
		outs_free_(&ker);
	}
}

/* ------------------------------------------------------------------ */
/* Contracts                                                           */
/* ------------------------------------------------------------------ */

static void test_twice_(void)
{
	static const int32_t lens[3] = {4, 2, 1};
	sp_rnn_config c = cfg_(SP_CELL_LSTM, 5, 4);
	net n;
	sp_seq y, dy, dx;
	float *g1, *y1;
	double err = 0;
	size_t ny;
	c.layers = 2;
	c.bidirectional = 1;
	net_new_(&n, &c, 4, 3, 0, lens, 0, 3);
	ny = 4 * 3 * n.out;
	g1 = malloc(n.total * sizeof(float));
	y1 = malloc(ny * sizeof(float));
	grads_(&n, NULL, NULL, NULL);
	memcpy(g1, n.gblock, n.total * sizeof(float));
	dy.T = 4, dy.B = 3, dy.D = n.out, dy.x = n.R, dy.ids = NULL;
	dy.mask = n.mask, dy.len = n.len;
	ok(sp_rnn_backward(n.rnn, n.ctx, &dy, &dx) == SP_EINVAL &&
	   strstr(sp_errmsg(n.ctx), "new forward"),
	   "a second backward on one forward is refused (%s)",
	   sp_errmsg(n.ctx));
	ok(memcmp(g1, n.gblock, n.total * sizeof(float)) == 0,
	   "and leaves the gradients as they were");
	/* gradients accumulate over forward + backward pairs */
	fwd_(&n, &y);
	ok(sp_rnn_backward(n.rnn, n.ctx, &dy, &dx) == 0,
	   "backward after a new forward");
	for (size_t i = 0; i < n.total; i++)
		err = fmax(err, fabs(n.gblock[i] - 2 * g1[i]) /
					fmax(1e-6, fabs(2 * g1[i])));
	ok(err < 1e-5, "two forward + backward pairs double the gradients "
	   "(max rel %.1e)", err);

	fwd_(&n, &y);
	memcpy(y1, y.x, ny * sizeof(float));
	fwd_(&n, &y);
	ok(memcmp(y1, y.x, ny * sizeof(float)) == 0,
	   "forward twice gives the same output");
	{
		int padded_zero = 1;
		for (size_t t = 0; t < 4; t++)
			for (size_t b = 0; b < 3; b++)
				for (size_t k = 0; k < n.out; k++)
					if (!n.mask[t * 3 + b] &&
					    y.x[(t * 3 + b) * n.out + k] != 0)
						padded_zero = 0;
		ok(padded_zero, "padded steps output 0");
	}
	free(g1);
	free(y1);
	net_free_(&n);
}

/* Each sequence alone (B=1, its own length, no mask) vs. in a padded
 * batch: outputs at real steps and summed weight gradients agree. */
static void test_batch_independence_(sp_cell_kind kind, const char *name)
{
	enum { T = 4, B = 3 };
	static const int32_t lens[B] = {4, 2, 1};
	sp_rnn_config c = cfg_(kind, 5, 4);
	net n, s;
	sp_seq y;
	float *ybatch, *gsum;
	double ey = 0, eg = 0;
	size_t out;
	c.layers = 2;
	c.bidirectional = 1;
	net_new_(&n, &c, T, B, 0, lens, 0, 5);
	out = n.out;
	ybatch = malloc(T * B * out * sizeof(float));
	gsum = calloc(n.total, sizeof(float));
	grads_(&n, NULL, NULL, NULL);
	fwd_(&n, &y);
	memcpy(ybatch, y.x, T * B * out * sizeof(float));

	for (size_t b = 0; b < B; b++) {
		size_t L = (size_t)lens[b];
		net_new_(&s, &c, L, 1, 0, NULL, 0, 5);
		memcpy(s.vblock, n.vblock, n.total * sizeof(float));
		for (size_t t = 0; t < L; t++) {
			memcpy(s.x + t * s.D, n.x + (t * B + b) * n.D,
			       n.D * sizeof(float));
			memcpy(s.R + t * out, n.R + (t * B + b) * out,
			       out * sizeof(float));
		}
		grads_(&s, NULL, NULL, NULL);
		for (size_t i = 0; i < n.total; i++)
			gsum[i] += s.gblock[i];
		fwd_(&s, &y);
		for (size_t t = 0; t < L; t++)
			for (size_t k = 0; k < out; k++)
				ey = fmax(ey, fabs(y.x[t * out + k] -
						   ybatch[(t * B + b) * out + k]));
		net_free_(&s);
	}
	for (size_t i = 0; i < n.total; i++)
		eg = fmax(eg, fabs(gsum[i] - n.gblock[i]) /
				      fmax(1e-3, fabs(n.gblock[i])));
	ok(ey <= 1e-6, "%s: output alone = output in a padded batch "
	   "(2-layer bidir, max abs diff %.1e)", name, ey);
	ok(eg < 1e-4, "%s: batch gradient = sum of per-sequence gradients "
	   "(max rel diff %.1e)", name, eg);
	free(ybatch);
	free(gsum);
	net_free_(&n);
}

static void test_dropout_and_seeds_(void)
{
	sp_rnn_config c = cfg_(SP_CELL_GRU, 5, 4), c0;
	net a, b, z;
	sp_seq y;
	uint64_t before[4], after[4];
	float *ya, *yb;
	size_t ny;
	c.layers = 2;
	c.dropout = 0.5f;
	c.embed_dropout = 0.5f;
	c0 = c;
	c0.dropout = 0;
	c0.embed_dropout = 0;
	net_new_(&a, &c, 4, 3, 0, NULL, 0, 42);
	net_new_(&z, &c0, 4, 3, 0, NULL, 0, 42);
	ny = 4 * 3 * a.out;
	ya = malloc(ny * sizeof(float));
	yb = malloc(ny * sizeof(float));
	memcpy(z.vblock, a.vblock, a.total * sizeof(float));

	a.train = 0;
	sp_rng_get_state(a.ctx, before);
	{
		sp_seq x = input_(&a);
		sp_rnn_forward(a.rnn, a.ctx, &x, &y, 0);
	}
	sp_rng_get_state(a.ctx, after);
	ok(memcmp(before, after, sizeof(before)) == 0,
	   "train=0 draws nothing from the RNG");
	memcpy(ya, y.x, ny * sizeof(float));
	z.train = 0;
	fwd_(&z, &y);
	ok(memcmp(ya, y.x, ny * sizeof(float)) == 0,
	   "train=0 output = output of the same weights without dropout");
	a.train = 1;
	fwd_(&a, &y);
	ok(memcmp(ya, y.x, ny * sizeof(float)) != 0,
	   "train=1 applies dropout");

	/* two runs from the same seed: bit-identical init, masks, grads */
	net_new_(&b, &c, 4, 3, 0, NULL, 0, 42);
	ok(memcmp(a.vblock, b.vblock, a.total * sizeof(float)) == 0,
	   "same seed, same initial weights");
	grads_(&a, NULL, NULL, NULL);
	grads_(&b, NULL, NULL, NULL);
	ok(memcmp(a.gblock, b.gblock, a.total * sizeof(float)) == 0,
	   "same seed, bit-identical gradients with dropout");
	fwd_(&a, &y);
	memcpy(ya, y.x, ny * sizeof(float));
	fwd_(&b, &y);
	memcpy(yb, y.x, ny * sizeof(float));
	ok(memcmp(ya, yb, ny * sizeof(float)) == 0,
	   "same seed, bit-identical training outputs");
	free(ya);
	free(yb);
	net_free_(&a);
	net_free_(&b);
	net_free_(&z);
}

/* The cache is sized by sp_rnn_sizes_of once and only grows. */
static void test_no_regrowth_(void)
{
	sp_rnn_config c = cfg_(SP_CELL_LSTM, 5, 4);
	sp_rnn_sizes sz;
	net n;
	size_t cap;
	sp_seq y, dy, dx;
	c.layers = 2;
	c.bidirectional = 1;
	c.dropout = 0.2f;
	net_new_(&n, &c, 4, 3, 0, NULL, 0, 9);
	grads_(&n, NULL, NULL, NULL);
	cap = sp_rnn_cache_bytes(n.rnn);
	sp_rnn_sizes_of(n.ctx, &c, 4, 3, 0, &sz);
	ok(cap == sz.bytes && cap > 0,
	   "cache = sp_rnn_sizes_of(T=4,B=3).bytes = %zu", sz.bytes);
	ok(sz.gates == 4 * 3 * 16 && sz.h == 5 * 3 * 4 && sz.c == sz.h &&
	   sz.hn == 0 && sz.dgates_h == 0,
	   "sizes: gates (T,B,4H), h and c (T+1,B,H)");
	ok(sz.dgates == 0 && sz.tc == 0,
	   "sizes: dG in place of the activations, tanh(c) not stored");
	for (int i = 0; i < 3; i++)
		grads_(&n, NULL, NULL, NULL);
	/* a smaller batch fits in the same block */
	n.T = 2;
	n.B = 2;
	{
		sp_seq x = {2, 2, 5, n.x, NULL, NULL, NULL};
		sp_rnn_forward(n.rnn, n.ctx, &x, &y, 1);
		dy = y;
		dy.x = n.R;
		sp_rnn_backward(n.rnn, n.ctx, &dy, &dx);
	}
	ok(sp_rnn_cache_bytes(n.rnn) == cap,
	   "no reallocation across forwards/backwards that fit");
	n.T = 4;
	n.B = 3;
	net_free_(&n);
}

/* Carry: two chunks with the state carried = one pass over the whole. */
static void test_carry_(sp_cell_kind kind, const char *name)
{
	enum { T = 6, B = 2, C = 3 };
	sp_rnn_config c = cfg_(kind, 5, 4);
	net n;
	sp_seq y, x;
	float *yfull;
	double err = 0;
	size_t out;
	c.layers = 2;
	net_new_(&n, &c, T, B, 0, NULL, 0, 13);
	out = n.out;
	yfull = malloc(T * B * out * sizeof(float));
	n.train = 0;
	fwd_(&n, &y);
	memcpy(yfull, y.x, T * B * out * sizeof(float));

	sp_rnn_carry(n.rnn, n.ctx, 1, 1);
	x = input_(&n);
	x.T = C;
	sp_rnn_forward(n.rnn, n.ctx, &x, &y, 1);
	x.x = n.x + C * B * n.D;
	sp_rnn_forward(n.rnn, n.ctx, &x, &y, 1);
	for (size_t i = 0; i < C * B * out; i++)
		err = fmax(err, fabs(y.x[i] - yfull[C * B * out + i]));
	ok(err < 1e-6, "%s carry: chunk 2 after chunk 1 = steps 3..5 of one "
	   "pass (max abs diff %.1e)", name, err);
	{
		/* backward after a carried forward: no gradient into the
		 * carried state, so the weight grads equal those of a forward
		 * from the same state given as h0 */
		sp_seq dy = y, dx;
		float *g = malloc(n.total * sizeof(float));
		float h0[2 * B * 4], c0[2 * B * 4];
		sp_cell_view v0, v1;
		double e = 0;
		sp_rnn_view(n.rnn, n.ctx, 0, 0, &v0);
		sp_rnn_view(n.rnn, n.ctx, 1, 0, &v1);
		memcpy(h0, v0.h, B * 4 * sizeof(float));
		memcpy(h0 + B * 4, v1.h, B * 4 * sizeof(float));
		if (v0.c) {
			memcpy(c0, v0.c, B * 4 * sizeof(float));
			memcpy(c0 + B * 4, v1.c, B * 4 * sizeof(float));
		}
		memset(n.gblock, 0, n.total * sizeof(float));
		dy.x = n.R;
		sp_rnn_backward(n.rnn, n.ctx, &dy, &dx);
		memcpy(g, n.gblock, n.total * sizeof(float));
		sp_rnn_carry(n.rnn, n.ctx, 0, 1);
		memset(n.gblock, 0, n.total * sizeof(float));
		sp_rnn_forward_ex(n.rnn, n.ctx, &x, &y, 1, h0,
				  v0.c ? c0 : NULL);
		sp_rnn_backward(n.rnn, n.ctx, &dy, &dx);
		for (size_t i = 0; i < n.total; i++)
			e = fmax(e, fabs(g[i] - n.gblock[i]));
		ok(e == 0, "%s carry: backward is truncated at the carried "
		   "state (grads = forward_ex from it)", name);
		free(g);
	}
	{
		/* reset: the next chunk starts from zero again */
		sp_seq y2;
		sp_rnn_carry(n.rnn, n.ctx, 1, 1);
		x.x = n.x;
		sp_rnn_forward(n.rnn, n.ctx, &x, &y2, 0);
		err = 0;
		for (size_t i = 0; i < C * B * out; i++)
			err = fmax(err, fabs(y2.x[i] - yfull[i]));
		ok(err < 1e-6, "%s carry reset starts from zero", name);
	}
	free(yfull);
	net_free_(&n);
}

/* Carry, then forward over all of x: the outputs (T,B,out) of that
 * forward, copied to y_out, after a first forward over steps [0, first)
 * of x with carry_at(at).  0, or -1 when the engine fails. */
static int carried_next_(net *n, size_t first, size_t at, float *y_out)
{
	sp_seq x = input_(n), y;
	int32_t len[8];
	int rc;
	sp_rnn_carry(n->rnn, n->ctx, 1, 1);
	sp_rnn_carry_at(n->rnn, n->ctx, at);
	x.T = first;
	if (x.len) { /* the first steps of each row, padded as in x */
		for (size_t b = 0; b < n->B && b < 8; b++)
			len[b] = n->len[b] < (int32_t)first ? n->len[b] :
							      (int32_t)first;
		x.len = len;
	}
	rc = sp_rnn_forward(n->rnn, n->ctx, &x, &y, 1);
	x = input_(n);
	if (!rc)
		rc = sp_rnn_forward(n->rnn, n->ctx, &x, &y, 1);
	if (!rc)
		memcpy(y_out, y.x, n->T * n->B * n->out * sizeof(float));
	sp_rnn_carry_at(n->rnn, n->ctx, 0);
	sp_rnn_carry(n->rnn, n->ctx, 0, 1);
	return rc ? -1 : 0;
}

/* carry_at(k): a forward over T steps carries the state after step k,
 * the state a forward over only the first k steps would have carried
 * (what the next window of TBPTT(k1, k2) starts from).  Compared through
 * the next forward's outputs, bit for bit; with padding, a row shorter
 * than k carries its last real step. */
static void test_carry_at_(sp_cell_kind kind, const char *name)
{
	enum { T = 6, B = 2 };
	static const int32_t lens[B] = {2, T};
	static const size_t ks[] = {1, 3, T - 1};
	sp_rnn_config c = cfg_(kind, 5, 4);
	for (int padded = 0; padded < 2; padded++) {
		net n;
		float *ya, *yb;
		size_t ny;
		int same = 1, rc = 0;
		c.layers = 2;
		net_new_(&n, &c, T, B, 0, padded ? lens : NULL, 0, 17);
		ny = T * B * n.out;
		ya = malloc(ny * sizeof(float));
		yb = malloc(ny * sizeof(float));
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			rc |= carried_next_(&n, T, ks[i], ya);
			rc |= carried_next_(&n, ks[i], 0, yb);
			same &= memcmp(ya, yb, ny * sizeof(float)) == 0;
		}
		ok(!rc && same, "%s carry_at(k)%s: a forward over %d steps "
		   "carries the state of a forward over its first k (k = 1, "
		   "3, 5), bit for bit", name, padded ? ", padded rows" : "",
		   (int)T);
		rc = carried_next_(&n, T, T + 3, ya);
		rc |= carried_next_(&n, T, 0, yb);
		ok(!rc && memcmp(ya, yb, ny * sizeof(float)) == 0,
		   "%s carry_at(k > T)%s keeps the last step, as carry_at(0)",
		   name, padded ? ", padded rows" : "");
		rc = carried_next_(&n, T, 3, ya);
		ok(!rc && memcmp(ya, yb, ny * sizeof(float)) != 0,
		   "%s carry_at(3)%s carries another state than the last "
		   "step's", name, padded ? ", padded rows" : "");
		free(ya);
		free(yb);
		net_free_(&n);
	}
}

static void test_instruments_(void)
{
	static const int32_t lens[3] = {4, 2, 1};
	sp_rnn_config c = cfg_(SP_CELL_LSTM, 5, 4);
	net n;
	sp_cell_view v;
	double mean, sat;
	int good = 1;
	sp_seq y;
	net_new_(&n, &c, 4, 3, 0, lens, 0, 17);
	fwd_(&n, &y);
	ok(sp_rnn_view(n.rnn, n.ctx, 0, 0, &v) == 0 && v.gates &&
	   !v.dh_norm, "view after forward: activations, no dh norms");
	mean = sat = -1;
	ok(sp_cell_gate_stats(&v, 1, &mean, &sat) == 0 && mean > 0.5 &&
	   mean < 1 && sat >= 0 && sat <= 1,
	   "forget gate mean %.3f (bias 1 opens it), saturated %.3f", mean,
	   sat);
	grads_(&n, NULL, NULL, NULL);
	ok(sp_rnn_view(n.rnn, n.ctx, 0, 0, &v) == 0 && v.dh_norm != NULL,
	   "view after backward has per-step ||dL/dh(t)||");
	for (size_t t = 0; t < 4; t++)
		good &= v.dh_norm[t] > 0 && isfinite(v.dh_norm[t]);
	ok(good, "dh norms positive: %.3g %.3g %.3g %.3g", v.dh_norm[0],
	   v.dh_norm[1], v.dh_norm[2], v.dh_norm[3]);
	ok(!v.gates && sp_cell_gate_stats(&v, 1, &mean, &sat) == SP_EINVAL,
	   "after backward the activations are gone (dG took their place)");
	ok(sp_rnn_view(n.rnn, n.ctx, 1, 0, &v) == SP_EINVAL,
	   "view of a missing layer is SP_EINVAL");
	net_free_(&n);
}

static void test_init_(void)
{
	sp_rnn_config c = cfg_(SP_CELL_LSTM, 5, 4);
	net n;
	float k = 0.5f; /* 1/sqrt(H) */
	int inside = 1, fb = 1;
	double dev = 0;
	c.forget_bias = 2.0f;
	net_new_(&n, &c, 1, 1, 0, NULL, 0, 1);
	for (size_t i = 0; i < n.total; i++)
		inside &= fabsf(n.vblock[i]) <= k ||
			  (n.vblock[i] == 2.0f);
	for (size_t j = 4; j < 8; j++)
		fb &= n.val[2][j] == 2.0f;
	ok(inside && fb, "uniform init within 1/sqrt(H); forget bias %g",
	   (double)c.forget_bias);
	net_free_(&n);

	c.init = SP_CELL_INIT_ORTHOGONAL;
	net_new_(&n, &c, 1, 1, 0, NULL, 0, 1);
	/* each gate block of Wh (H, 4H) is an orthogonal (H,H) matrix */
	for (size_t g = 0; g < 4; g++)
		for (size_t a = 0; a < 4; a++)
			for (size_t b2 = 0; b2 < 4; b2++) {
				double d = 0;
				for (size_t j = 0; j < 4; j++)
					d += (double)n.val[1][j * 16 + g * 4 + a] *
					     n.val[1][j * 16 + g * 4 + b2];
				dev = fmax(dev, fabs(d - (a == b2)));
			}
	ok(dev < 1e-5 && n.val[2][0] == 0 && n.val[2][4] == 2.0f,
	   "orthogonal init: Wh gate blocks orthonormal (dev %.1e), "
	   "biases 0 but the forget gate's", dev);
	net_free_(&n);
}

static void test_errors_(void)
{
	sp_rnn_config c = cfg_(SP_CELL_RNN_TANH, 4, 3);
	net n;
	sp_seq y, x;
	int32_t bad[2] = {1, 9};
	net_new_(&n, &c, 2, 1, 1, NULL, 0, 1);
	x = input_(&n);
	x.ids = bad;
	ok(sp_rnn_forward(n.rnn, n.ctx, &x, &y, 1) == SP_EINPUT,
	   "id outside the vocabulary is SP_EINPUT: %s", sp_errmsg(n.ctx));
	{
		sp_seq dy = {2, 1, 3, n.R, NULL, NULL, NULL}, dx;
		ok(sp_rnn_backward(n.rnn, n.ctx, &dy, &dx) == SP_EINVAL,
		   "backward after a failed forward is SP_EINVAL");
	}
	x.T = 0;
	{
		sp_seq dy = {0, 1, 3, NULL, NULL, NULL, NULL}, dx;
		ok(sp_rnn_forward(n.rnn, n.ctx, &x, &y, 1) == 0 && y.T == 0 &&
		   y.D == 3 && sp_rnn_backward(n.rnn, n.ctx, &dy, &dx) == 0,
		   "an empty batch (T=0) goes through");
	}
	x.T = 2;
	x.D = 5;
	ok(sp_rnn_forward(n.rnn, n.ctx, &x, &y, 1) == SP_EINVAL,
	   "wrong input width is SP_EINVAL: %s", sp_errmsg(n.ctx));
	net_free_(&n);
	c.hidden = 0;
	{
		sp_rnn *r = NULL;
		sp_ctx *ctx;
		sp_ctx_new(&ctx, 1);
		ok(sp_rnn_new(&r, ctx, &c) == SP_EINVAL && r == NULL,
		   "hidden=0 is SP_EINVAL: %s", sp_errmsg(ctx));
		sp_ctx_free(ctx);
	}
}

/* ------------------------------------------------------------------ */
/* Trace                                                               */
/* ------------------------------------------------------------------ */
typedef struct trace_log {
	size_t n;
	char label[16][32];
	size_t rows[16], cols[16];
	float v[16][16];
} trace_log;

static int collect_(void *payload, size_t t, const char *label,
		    const float *v, size_t rows, size_t cols)
{
	trace_log *lg = payload;
	if (lg->n >= 16)
		return SP_ERROR;
	snprintf(lg->label[lg->n], 32, "%s", label);
	lg->rows[lg->n] = rows;
	lg->cols[lg->n] = cols;
	for (size_t i = 0; i < rows * cols && i < 16; i++)
		lg->v[lg->n][i] = v[i];
	lg->n++;
	return 0;
}

static void test_trace_(void)
{
	/* the course's "hello": V = 4 (h e l o), H = 3 */
	sp_rnn_config c = cfg_(SP_CELL_RNN_TANH, 4, 3);
	static const int32_t lens[2] = {4, 2};
	net n;
	sp_seq y;
	trace_log lg;
	double err = 0;
	int rc;
	net_new_(&n, &c, 4, 2, 1, lens, 0, 21);
	ok(strcmp(n.w[0].name, "Wxh") == 0 && strcmp(n.w[1].name, "Whh") == 0 &&
	   strcmp(n.w[2].name, "b") == 0,
	   "course names Wxh Whh b for the single-layer rnn");
	fwd_(&n, &y);
	memset(&lg, 0, sizeof(lg));
	ok(sp_rnn_trace(n.rnn, n.ctx, 1, 0, collect_, &lg) == 0 && lg.n == 4,
	   "rnn trace emits 4 quantities");
	ok(strcmp(lg.label[0], "x(t)") == 0 && lg.rows[0] == 4 &&
	   lg.cols[0] == 1 && lg.v[0][n.ids[1 * 2 + 0]] == 1.0f,
	   "x(t) is the V x 1 one-hot");
	ok(strcmp(lg.label[1], "Wxh·x(t)") == 0 &&
	   strcmp(lg.label[2], "Whh·h(t-1) + b") == 0 &&
	   strcmp(lg.label[3], "h(t) = tanh(...)") == 0 && lg.rows[3] == 3,
	   "labels in the course's notation");
	for (size_t k = 0; k < 3; k++)
		err = fmax(err, fabs(tanh(lg.v[1][k] + lg.v[2][k]) -
				     lg.v[3][k]));
	ok(err < 1e-6, "h(t) = tanh(Wxh·x(t) + Whh·h(t-1) + b) from the "
	   "emitted values (err %.1e)", err);
	memset(&lg, 0, sizeof(lg));
	ok(sp_rnn_trace(n.rnn, n.ctx, 3, 1, collect_, &lg) == 0 && lg.n == 0,
	   "a padded step emits nothing");
	net_free_(&n);

	c = cfg_(SP_CELL_LSTM, 5, 3);
	net_new_(&n, &c, 2, 1, 0, NULL, 0, 21);
	fwd_(&n, &y);
	memset(&lg, 0, sizeof(lg));
	sp_rnn_trace(n.rnn, n.ctx, 1, 0, collect_, &lg);
	ok(lg.n == 7 && strcmp(lg.label[1], "i(t)") == 0 &&
	   strcmp(lg.label[5], "c(t)") == 0 && strcmp(lg.label[6], "h(t)") == 0,
	   "lstm trace: x i f g o c h");
	grads_(&n, NULL, NULL, NULL);
	memset(&lg, 0, sizeof(lg));
	rc = sp_rnn_trace(n.rnn, n.ctx, 1, 0, collect_, &lg);
	ok(rc == SP_EINVAL && lg.n == 0 &&
	   strstr(sp_errmsg(n.ctx), "after a backward"),
	   "trace after a backward is refused, not fed gradients (%s)",
	   sp_errmsg(n.ctx));
	net_free_(&n);
	c = cfg_(SP_CELL_GRU, 5, 3);
	net_new_(&n, &c, 2, 1, 0, NULL, 0, 21);
	fwd_(&n, &y);
	memset(&lg, 0, sizeof(lg));
	sp_rnn_trace(n.rnn, n.ctx, 0, 0, collect_, &lg);
	ok(lg.n == 5 && strcmp(lg.label[1], "z(t)") == 0 &&
	   strcmp(lg.label[4], "h(t)") == 0, "gru trace: x z r n h");
	net_free_(&n);
}

/* ------------------------------------------------------------------ */
/* The plugin, through its descriptor                                  */
/* ------------------------------------------------------------------ */
static const sp_model_ops *find_(const char *name)
{
	const sp_plugin *pl = rnn_LTX_sp_plugin_entry();
	for (size_t i = 0; pl->components[i]; i++)
		if (strcmp(pl->components[i]->name, name) == 0)
			return (const sp_model_ops *)pl->components[i];
	return NULL;
}

/* Creates component `name` with key=value pairs (NULL-terminated). */
static int make_(sp_ctx *ctx, const sp_model_ops *ops, const char *const *kvs,
		 size_t in_dim, void **self)
{
	sp_kv *kv = NULL;
	int rc;
	*self = NULL;
	if ((rc = sp_kv_new(&kv, ops->base.name)) < 0)
		return rc;
	for (size_t i = 0; kvs[i]; i += 2)
		if ((rc = sp_kv_set(kv, ctx, kvs[i], kvs[i + 1], 0, "test")) <
		    0)
			goto out;
	if ((rc = sp_kv_validate(kv, ctx, ops->base.params, ".")) < 0)
		goto out;
	rc = ops->create(self, ctx, kv, in_dim);
out:
	sp_kv_free(kv);
	return rc;
}

static int has_weight_(const sp_weight *w, size_t n, const char *name,
		       size_t d0, size_t d1)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].name, name) == 0)
			return w[i].dim[0] == d0 && w[i].dim[1] == d1;
	return 0;
}

static void test_plugin_(void)
{
	const sp_plugin *pl = rnn_LTX_sp_plugin_entry();
	const sp_model_ops *rnn = find_("rnn"), *lstm = find_("lstm"),
			   *gru = find_("gru");
	sp_ctx *ctx;
	void *self;
	const sp_weight *w;
	size_t nw;
	sp_ctx_new(&ctx, 3);
	ok(pl->abi == SP_ABI_VERSION && strcmp(pl->name, "rnn") == 0,
	   "descriptor: abi %d, name %s, version %s", pl->abi, pl->name,
	   pl->version);
	ok(rnn && lstm && gru && !pl->components[3],
	   "components rnn, lstm, gru");
	for (size_t i = 0; pl->components[i]; i++) {
		const sp_component *cp = pl->components[i];
		size_t k = 0;
		int documented = 1;
		for (; cp->params[k].key; k++)
			documented &= cp->params[k].doc && cp->params[k].doc[0];
		ok(cp->size == sizeof(sp_model_ops) &&
		   cp->kind == SP_KIND_MODEL && documented && k >= 7,
		   "%s: model ops, %zu documented keys", cp->name, k);
	}
	ok(rnn && lstm && gru && SP_HAS_OP(sp_model_ops, rnn, carry_at) &&
	   SP_HAS_OP(sp_model_ops, lstm, carry_at) &&
	   SP_HAS_OP(sp_model_ops, gru, carry_at),
	   "rnn, lstm, gru have the optional carry_at op (TBPTT(k1, k2))");

	{
		const char *kv[] = {"hidden", "3", NULL};
		ok(make_(ctx, rnn, kv, 4, &self) == 0, "rnn hidden=3: %s",
		   sp_errmsg(ctx));
		rnn->weights(self, &w, &nw);
		ok(nw == 3 && has_weight_(w, nw, "Wxh", 4, 3) &&
		   has_weight_(w, nw, "Whh", 3, 3) && has_weight_(w, nw, "b", 3, 0),
		   "rnn: Wxh (V,H) stored input-major, Whh (H,H), b (H)");
		ok(rnn->out_dim(self) == 3, "rnn out_dim 3");
		rnn->destroy(self);
	}
	{
		const char *kv[] = {"hidden", "4", "layers", "2",
				    "bidirectional", "true", "embed", "6",
				    NULL};
		ok(make_(ctx, lstm, kv, 10, &self) == 0,
		   "lstm layers=2 bidirectional embed=6: %s", sp_errmsg(ctx));
		lstm->weights(self, &w, &nw);
		ok(nw == 13 && has_weight_(w, nw, "embed", 10, 6) &&
		   has_weight_(w, nw, "l0.Wx", 6, 16) &&
		   has_weight_(w, nw, "l0r.Wh", 4, 16) &&
		   has_weight_(w, nw, "l1.Wx", 8, 16) &&
		   has_weight_(w, nw, "l1r.b", 16, 0),
		   "lstm names: embed l0.Wx l0r.Wh l1.Wx(2H,4H) l1r.b");
		ok(lstm->out_dim(self) == 8, "bidirectional out_dim 2H");
		{
			/* one training step through the ops table */
			size_t tot = 0, off = 0;
			float *vb, *gb, *vp[16], *gp[16];
			int32_t ids[6] = {1, 2, 3, 4, 5, 0};
			sp_seq x = {3, 2, 10, NULL, ids, NULL, NULL}, y, dx,
			       dxd;
			for (size_t i = 0; i < nw; i++)
				tot += numel_(&w[i]);
			vb = calloc(tot, sizeof(float));
			gb = calloc(tot, sizeof(float));
			for (size_t i = 0; i < nw; i++) {
				vp[i] = vb + off;
				gp[i] = gb + off;
				off += numel_(&w[i]);
			}
			lstm->bind(self, vp, gp);
			lstm->init(self, ctx);
			ok(lstm->forward(self, ctx, &x, &y, 1) == 0 &&
			   y.D == 8 && y.T == 3 && y.B == 2,
			   "lstm forward through the ops table");
			dxd = y;
			ok(lstm->backward(self, ctx, &dxd, &dx) == 0 &&
			   dx.x == NULL && dx.D == 10,
			   "lstm backward: no dx for ids input");
			{
				double s = 0;
				for (size_t i = 0; i < 10 * 6; i++)
					s += fabs(gp[0][i]);
				ok(s > 0, "embedding gradient scattered");
			}
			x.x = vb;
			x.ids = NULL;
			ok(lstm->forward(self, ctx, &x, &y, 1) == SP_EINVAL,
			   "embed with dense input is SP_EINVAL: %s",
			   sp_errmsg(ctx));
			free(vb);
			free(gb);
		}
		lstm->destroy(self);
	}
	{
		const char *kv[] = {"hidden", "5", NULL};
		ok(make_(ctx, gru, kv, 4, &self) == 0, "gru hidden=5");
		gru->weights(self, &w, &nw);
		ok(nw == 4 && has_weight_(w, nw, "l0.bx", 15, 0) &&
		   has_weight_(w, nw, "l0.bh", 15, 0) &&
		   has_weight_(w, nw, "l0.Wh", 5, 15),
		   "gru: l0.Wx l0.Wh l0.bx l0.bh (two biases, as PyTorch)");
		gru->destroy(self);
	}
	{
		const char *kv[] = {"hidden", "0", NULL};
		ok(make_(ctx, gru, kv, 4, &self) == SP_EINVAL && !self,
		   "hidden=0 refused: %s", sp_errmsg(ctx));
		gru->destroy(NULL);
	}
	{
		const char *kv[] = {"hidden", "3", "dropout", "1.5", NULL};
		ok(make_(ctx, rnn, kv, 4, &self) == SP_EINVAL && !self,
		   "dropout=1.5 refused: %s", sp_errmsg(ctx));
	}
	{
		const char *kv[] = {"hidden", "3", "nonlinearity", "relu",
				    "init", "orthogonal", NULL};
		ok(make_(ctx, rnn, kv, 4, &self) == 0,
		   "rnn nonlinearity=relu init=orthogonal");
		rnn->destroy(self);
	}
	sp_ctx_free(ctx);
}

int main(void)
{
	test_gradients_();
	diag("worst relative error over all gradient checks: %.2e",
	     worst_overall);
	test_naive_();
	test_paths_();
	test_twice_();
	test_batch_independence_(SP_CELL_RNN_TANH, "rnn");
	test_batch_independence_(SP_CELL_LSTM, "lstm");
	test_batch_independence_(SP_CELL_GRU, "gru");
	test_dropout_and_seeds_();
	test_no_regrowth_();
	test_carry_(SP_CELL_LSTM, "lstm");
	test_carry_(SP_CELL_GRU, "gru");
	test_carry_at_(SP_CELL_RNN_TANH, "rnn");
	test_carry_at_(SP_CELL_LSTM, "lstm");
	test_carry_at_(SP_CELL_GRU, "gru");
	test_instruments_();
	test_init_();
	test_errors_();
	test_trace_();
	test_plugin_();
	return tap_done();
}
