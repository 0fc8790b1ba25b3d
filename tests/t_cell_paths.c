/*
 * t_cell_paths.c: the recurrent engine (core/sp_cell.c) gives the same
 * numbers through every kernel and thread count: one forward + backward
 * compared against the reference path.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cellnet.h"
#include "tap.h"

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


int main(void)
{
	test_paths_();
	return tap_done();
}
