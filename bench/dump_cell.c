/*
 * dump_cell.c: writes what the recurrent engine computes on small fixed
 * cases, for bench/crosscheck.py to compare against torch.nn.RNN / LSTM /
 * GRU.
 *
 * What this is: for every case (rnn tanh, lstm, gru; unidirectional and
 * bidirectional; 1 and 2 layers; a masked variable-length batch; ids
 * through an embedding and ids straight into Wx; given initial states;
 * H = 70 so that the AVX-512 kernels run full blocks and a tail; 2 and 3
 * engine threads; the portable reference path)
 * it builds an sp_rnn with a fixed seed, fills every weight with
 * U(±1.5/√H) (so LSTM forget biases and GRU's two biases are generic,
 * not their init values), runs one training forward and one backward with
 * a fixed random dy (nonzero at padded steps too: the engine must ignore
 * them), and writes the weights, the input, y, dy and every gradient.
 * What it is not: a test by itself (the comparison lives in the Python
 * script, which has the reference), nor installed; `make crosscheck`
 * builds and runs it.
 *
 * Output (text, one file, `-` for stdout):
 *   case <name> <cell> T B I H layers ND embed ids masked h0 threads
 *        reference
 *   tensor <key> <n>
 *   <n values, %.9g>
 *   ...
 *   end
 * Keys: x (T,B,I) or ids (T,B); len (B); y, dy (T,B,ND*H); dx (T,B,I);
 * h0, c0, dh0, dc0 (layers*ND,B,H); weights "W:<role>:<layer>:<dir>" and
 * their gradients "G:<role>:<layer>:<dir>", role one of embed (V,E),
 * Wx (in,G*H), Wh (H,G*H), b, bx, bh (G*H), in sp_cell.h's layout.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cell.h"
#include "sp_ctx.h"

enum { V_ = 7, E_ = 5, MAXB = 8, MAXW = 32 };

/* Lengths of a masked batch of B rows: lens_[B][b], unsorted, one full
 * (T = the largest), one of a single step. */
static const int32_t lens3_[3] = {3, 5, 1};
static const int32_t lens5_[5] = {4, 7, 1, 6, 3};

typedef struct dump_case {
	const char *suffix;
	size_t T, B, I, H;
	int bidir;
	size_t layers;
	int ids;       /* input is ids (I is then ignored: V_) */
	size_t embed;  /* with ids: 0 = one-hot into Wx */
	int masked;
	int h0;        /* given initial states (h0, c0) and their gradients */
	size_t threads;
	int reference; /* the engine's portable path instead of its kernels */
} dump_case;

/* Small shapes for the semantics (H = 6 is all tail for the AVX-512
 * kernels); H = 70 = 64 + 6 and I = 33 also run their full blocks; the
 * threaded cases split the hidden units among 2 and 3 threads. */
static const dump_case cases_[] = {
	{"uni_1L", 5, 3, 4, 6, 0, 1, 0, 0, 0, 0, 1, 0},
	{"bi_1L", 5, 3, 4, 6, 1, 1, 0, 0, 0, 0, 1, 0},
	{"uni_2L", 5, 3, 4, 6, 0, 2, 0, 0, 0, 0, 1, 0},
	{"bi_2L", 5, 3, 4, 6, 1, 2, 0, 0, 0, 0, 1, 0},
	{"uni_1L_masked", 5, 3, 4, 6, 0, 1, 0, 0, 1, 0, 1, 0},
	{"bi_2L_masked", 5, 3, 4, 6, 1, 2, 0, 0, 1, 0, 1, 0},
	{"bi_1L_embed_masked", 5, 3, 4, 6, 1, 1, 1, E_, 1, 0, 1, 0},
	{"uni_1L_onehot_masked", 5, 3, 4, 6, 0, 1, 1, 0, 1, 0, 1, 0},
	{"uni_2L_h0", 5, 3, 4, 6, 0, 2, 0, 0, 0, 1, 1, 0},
	{"bi_2L_h0_masked", 5, 3, 4, 6, 1, 2, 0, 0, 1, 1, 1, 0},
	{"bi_2L_masked_reference", 5, 3, 4, 6, 1, 2, 0, 0, 1, 0, 1, 1},
	{"uni_1L_H70", 7, 5, 33, 70, 0, 1, 0, 0, 0, 0, 1, 0},
	{"bi_2L_H70_masked", 7, 5, 33, 70, 1, 2, 0, 0, 1, 0, 1, 0},
	{"bi_2L_H70_masked_threads2", 7, 5, 33, 70, 1, 2, 0, 0, 1, 0, 2, 0},
	{"bi_2L_H70_h0_masked_threads3", 7, 5, 33, 70, 1, 2, 0, 0, 1, 1, 3,
	 0},
	{"uni_1L_H70_reference", 7, 5, 33, 70, 0, 1, 0, 0, 0, 0, 1, 1},
};

static const struct {
	const char *name;
	sp_cell_kind kind;
} cells_[] = {
	{"rnn", SP_CELL_RNN_TANH},
	{"lstm", SP_CELL_LSTM},
	{"gru", SP_CELL_GRU},
};

static void put_(FILE *f, const char *key, const float *v, size_t n)
{
	fprintf(f, "tensor %s %zu\n", key, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.9g%c", (double)v[i], i + 1 < n ? ' ' : '\n');
	if (n == 0)
		fputc('\n', f);
}

static void put_int_(FILE *f, const char *key, const int32_t *v, size_t n)
{
	fprintf(f, "tensor %s %zu\n", key, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%d%c", (int)v[i], i + 1 < n ? ' ' : '\n');
}

static size_t numel_(const sp_weight *w)
{
	size_t n = 1;
	for (int i = 0; i < w->ndim; i++)
		n *= w->dim[i];
	return n;
}

/* One case: build, run, write.  0, or an SP_E* code with ctx's message. */
static int run_case_(FILE *f, const char *cell_name, sp_cell_kind kind,
		     const dump_case *dc, uint64_t seed)
{
	const size_t T = dc->T, B = dc->B, ND = dc->bidir ? 2 : 1, H = dc->H;
	const size_t D = dc->ids ? V_ : dc->I, out = ND * H;
	const int32_t *lens = B == 3 ? lens3_ : lens5_;
	const size_t nstate = dc->layers * ND * B * H;
	sp_ctx *ctx = NULL;
	sp_rnn *rnn = NULL;
	sp_rnn_config cfg;
	const sp_weight *w;
	size_t nw = 0, total = 0, off = 0;
	float *val[MAXW], *grad[MAXW];
	float *vb = NULL, *gb = NULL, *x = NULL, *dy = NULL;
	float *h0 = NULL, *c0 = NULL, *dh0 = NULL, *dc0 = NULL;
	int32_t *ids = NULL, len[MAXB];
	uint8_t *mask = NULL;
	sp_seq xs, ys, dys, dxs;
	char name[96];
	int rc;

	snprintf(name, sizeof(name), "%s_%s", cell_name, dc->suffix);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = name;
	cfg.cell = kind;
	cfg.in_dim = D;
	cfg.hidden = H;
	cfg.layers = dc->layers;
	cfg.bidirectional = dc->bidir;
	cfg.embed = dc->embed;
	cfg.threads = dc->threads;
	cfg.reference = dc->reference;
	if ((rc = sp_ctx_new(&ctx, seed)) ||
	    (rc = sp_rnn_new(&rnn, ctx, &cfg)))
		goto fail;
	sp_rnn_weights(rnn, &w, &nw);
	if (nw > MAXW) {
		rc = sp_err(ctx, SP_EINVAL, "%s: %zu weights", name, nw);
		goto fail;
	}
	for (size_t i = 0; i < nw; i++)
		total += numel_(&w[i]);
	vb = calloc(total, sizeof(float));
	gb = calloc(total, sizeof(float));
	dy = calloc(T * B * out, sizeof(float));
	h0 = calloc(nstate, sizeof(float));
	c0 = calloc(nstate, sizeof(float));
	dh0 = calloc(nstate, sizeof(float));
	dc0 = calloc(nstate, sizeof(float));
	x = calloc(T * B * D, sizeof(float));
	ids = calloc(T * B, sizeof(int32_t));
	mask = calloc(T * B, 1);
	if (!vb || !gb || !dy || !h0 || !c0 || !dh0 || !dc0 || !x || !ids ||
	    !mask) {
		rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", name);
		goto fail;
	}
	for (size_t i = 0; i < nw; i++) {
		val[i] = vb + off;
		grad[i] = gb + off;
		off += numel_(&w[i]);
	}
	if ((rc = sp_rnn_bind(rnn, val, grad)))
		goto fail;
	/* generic values everywhere, rather than the init's special ones;
	 * ±1.5/√H keeps the gain of a step the same at every H (±0.6 at
	 * H = 6), so that a larger H does not turn a case chaotic and
	 * amplify round-off */
	sp_fill_uniform(ctx, vb, total, -1.5f / sqrtf((float)H),
			1.5f / sqrtf((float)H));

	for (size_t b = 0; b < B; b++)
		len[b] = dc->masked ? lens[b] : (int32_t)T;
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++)
			mask[t * B + b] = (int32_t)t < len[b];
	sp_fill_uniform(ctx, x, T * B * D, -1.0f, 1.0f);
	for (size_t i = 0; i < T * B; i++)
		/* padding holds junk the engine must not read */
		ids[i] = mask[i] ? (int32_t)sp_rng_below(ctx, D) : -7;
	sp_fill_uniform(ctx, dy, T * B * out, -1.0f, 1.0f);
	if (dc->h0) {
		sp_fill_uniform(ctx, h0, nstate, -0.8f, 0.8f);
		sp_fill_uniform(ctx, c0, nstate, -1.0f, 1.0f);
	}

	xs.T = T;
	xs.B = B;
	xs.D = D;
	xs.x = dc->ids ? NULL : x;
	xs.ids = dc->ids ? ids : NULL;
	xs.mask = dc->masked ? mask : NULL;
	xs.len = dc->masked ? len : NULL;
	rc = sp_rnn_forward_ex(rnn, ctx, &xs, &ys, 1, dc->h0 ? h0 : NULL,
			       dc->h0 && kind == SP_CELL_LSTM ? c0 : NULL);
	if (rc)
		goto fail;
	dys = ys;
	dys.x = dy;
	rc = sp_rnn_backward_ex(rnn, ctx, &dys, &dxs, dc->h0 ? dh0 : NULL,
				dc->h0 && kind == SP_CELL_LSTM ? dc0 : NULL);
	if (rc)
		goto fail;

	fprintf(f, "case %s %s %zu %zu %zu %zu %zu %zu %zu %d %d %d %zu %d\n",
		name, cell_name, T, B, D, H, dc->layers, ND, dc->embed, dc->ids,
		dc->masked, dc->h0, dc->threads, dc->reference);
	if (dc->ids)
		put_int_(f, "ids", ids, T * B);
	else
		put_(f, "x", x, T * B * D);
	put_int_(f, "len", len, B);
	put_(f, "y", ys.x, T * B * out);
	put_(f, "dy", dy, T * B * out);
	if (dxs.x)
		put_(f, "dx", dxs.x, T * B * D);
	if (dc->h0) {
		put_(f, "h0", h0, nstate);
		put_(f, "dh0", dh0, nstate);
		if (kind == SP_CELL_LSTM) {
			put_(f, "c0", c0, nstate);
			put_(f, "dc0", dc0, nstate);
		}
	}
	/* Roles follow sp_rnn_weights' order: [embed], then per layer and
	 * direction Wx, Wh, b (gru: bx, bh). */
	{
		size_t k = 0;
		if (dc->embed) {
			put_(f, "W:embed:0:0", val[k], numel_(&w[k]));
			put_(f, "G:embed:0:0", grad[k], numel_(&w[k]));
			k++;
		}
		for (size_t l = 0; l < dc->layers; l++) {
			for (size_t d = 0; d < ND; d++) {
				static const char *plain[] = {"Wx", "Wh", "b"};
				static const char *gru[] = {"Wx", "Wh", "bx",
							    "bh"};
				const char *const *roles =
					kind == SP_CELL_GRU ? gru : plain;
				size_t nr = kind == SP_CELL_GRU ? 4 : 3;
				for (size_t r = 0; r < nr; r++, k++) {
					char key[48];
					snprintf(key, sizeof(key), "W:%s:%zu:%zu",
						 roles[r], l, d);
					put_(f, key, val[k], numel_(&w[k]));
					key[0] = 'G';
					put_(f, key, grad[k], numel_(&w[k]));
				}
			}
		}
	}
	fprintf(f, "end\n");
fail:
	if (rc)
		fprintf(stderr, "dump_cell: %s: %s\n", name,
			ctx ? sp_errmsg(ctx) : sp_strerror(rc));
	sp_rnn_free(rnn);
	sp_ctx_free(ctx);
	free(vb);
	free(gb);
	free(x);
	free(ids);
	free(mask);
	free(dy);
	free(h0);
	free(c0);
	free(dh0);
	free(dc0);
	return rc;
}

int main(int argc, char **argv)
{
	FILE *f = stdout;
	uint64_t seed = 1234;
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: dump_cell OUTFILE|-\n");
		return 2;
	}
	if (strcmp(argv[1], "-") && !(f = fopen(argv[1], "w"))) {
		perror(argv[1]);
		return 1;
	}
	for (size_t c = 0; c < sizeof(cells_) / sizeof(*cells_); c++)
		for (size_t i = 0; i < sizeof(cases_) / sizeof(*cases_); i++)
			if (run_case_(f, cells_[c].name, cells_[c].kind,
				      &cases_[i], seed++))
				failed = 1;
	if (f != stdout && fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	return failed;
}
