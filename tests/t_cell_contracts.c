/*
 * t_cell_contracts.c: the recurrent engine's (core/sp_cell.c) contracts:
 * one backward per forward, and gradients accumulate over forward +
 * backward pairs; forward twice gives the same output; a sequence's
 * output and gradient do not depend on what it was batched with; train=0
 * uses no dropout and no randomness; identical seeds give bit-identical
 * runs; the cache does not grow for a batch that fits; carrying the state
 * across two chunks equals one pass over the whole sequence, and
 * carry_at(k) carries what a forward over the first k steps would have,
 * bit for bit; trace emits the course's quantities.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cellnet.h"
#include "tap.h"

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

/* gru update_bias: the same draws as without it, bx's z block shifted by
 * exactly update_bias, everything else bit for bit the same. */
static void test_update_bias_(void)
{
	sp_rnn_config c = cfg_(SP_CELL_GRU, 5, 4);
	net a, b;
	int same = 1, shifted = 1;
	net_new_(&a, &c, 1, 1, 0, NULL, 0, 1);
	c.update_bias = 2.0f;
	net_new_(&b, &c, 1, 1, 0, NULL, 0, 1);
	/* weights: Wx Wh bx bh; bx = [r|z|n], H = 4 */
	for (size_t i = 0; i < a.n_w; i++)
		for (size_t j = 0; j < a.wn[i]; j++) {
			int z = i == 2 && j >= 4 && j < 8;
			if (z)
				shifted &= b.val[i][j] == a.val[i][j] + 2.0f;
			else
				same &= b.val[i][j] == a.val[i][j];
		}
	ok(a.n_w == 4 && same && shifted,
	   "gru update_bias=2: bx's z block shifted by 2, every other "
	   "value as without it");
	net_free_(&a);
	net_free_(&b);
	c.update_bias = NAN;
	{
		sp_ctx *ctx = NULL;
		sp_rnn *rnn = NULL;
		int rc = sp_ctx_new(&ctx, 1) ? -1 : sp_rnn_new(&rnn, ctx, &c);
		ok(rc == SP_EINVAL && !rnn &&
		   strstr(sp_errmsg(ctx), "update_bias") != NULL,
		   "update_bias NaN refused: %s", sp_errmsg(ctx));
		sp_rnn_free(rnn);
		sp_ctx_free(ctx);
	}
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


int main(void)
{
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
	test_update_bias_();
	test_errors_();
	test_trace_();
	return tap_done();
}
