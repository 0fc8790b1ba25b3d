/*
 * t_grad_cell.c: gradient checks of the recurrent engine (core/sp_cell.c)
 * and its forward pass against a naive recomputation.  The engine's
 * contracts are t_cell_contracts.c, its kernels and threads
 * t_cell_paths.c, the rnn plugin's face t_cell_plugin.c.
 *
 * Gradient checks: L = Σ y⊙R with a fixed random R (so dy = R, nonzero
 * at padded steps too, which must be ignored), summed in double; central
 * differences on every weight, on dx (dense input) and on the initial
 * state (h0, c0; the carry path), relative error < 1e-2 (entries under
 * FLOOR compared absolutely, see there).  Tiny shapes:
 * T=4, B=3, I=5, H=4.  Dropout is checked by restoring the RNG state
 * before every forward, so that every evaluation draws the same masks.
 * The forward pass matches a naive double precision recomputation of the
 * equations.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cellnet.h"
#include "gradcheck.h"
#include "tap.h"

static const double TOL = 1e-2;
/* Entries below this size are compared in absolute terms: the float
 * forward pass leaves about 1e-5 of noise in a central difference with
 * eps = 1e-2 (measured), so an entry of 1e-4 cannot be checked to 1%. */
static const double FLOOR = 5e-3;
static double worst_overall;

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

	/* initial gate biases move the operating point (z, f near 1: the
	 * carry path dominates), not the equations */
	c = cfg_(SP_CELL_GRU, 5, 4);
	c.update_bias = 2.0f;
	check_case_("gru update_bias=2 masked h0", &c, 0, lens, 1, 1e-2f,
		    FLOOR);
	c = cfg_(SP_CELL_LSTM, 5, 4);
	c.forget_bias = 3.0f;
	check_case_("lstm forget_bias=3 masked h0", &c, 0, lens, 1, 1e-2f,
		    FLOOR);

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


int main(void)
{
	test_gradients_();
	diag("worst relative error over all gradient checks: %.2e",
	     worst_overall);
	test_naive_();
	return tap_done();
}
