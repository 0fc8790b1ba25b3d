/*
 * sp_cell.c: the recurrent engine (RNN, LSTM, GRU; stacked, bidirectional,
 * masked), forward and backward through time.
 *
 * The cells, with row vectors x (1,I), h (1,H) and σ the logistic sigmoid
 * (see sp_cell.h for the weight layout):
 *
 *   rnn   h(t) = φ(x(t)·Wx + h(t-1)·Wh + b)                φ = tanh | relu
 *
 *   lstm  [i|f|g|o] = x(t)·Wx + h(t-1)·Wh + b
 *         i, f, o = σ(.), g = tanh(.)
 *         c(t) = f⊙c(t-1) + i⊙g,   h(t) = o⊙tanh(c(t))
 *         (Hochreiter & Schmidhuber 1997; Gers et al. 2000 forget gate)
 *
 *   gru   [xr|xz|xn] = x(t)·Wx + bx,  [hr|hz|hn] = h(t-1)·Wh + bh
 *         r = σ(xr + hr),  z = σ(xz + hz),  n = tanh(xn + r⊙hn)
 *         h(t) = (1-z)⊙n + z⊙h(t-1)
 *         (Cho et al. 2014, in PyTorch's torch.nn.GRU form: r multiplies
 *         hn AFTER the product, so Wh stays one (H,3H) GEMM per step)
 *
 *   a cell of one's own (cfg.ops, sp_cell_ops in sp_cell.h): G blocks of
 *         a = x(t)·Wx + b [+ h(t-1)·Wh], or with SP_CELL_SPLIT a and
 *         ah = h(t-1)·Wh + bh apart (as the gru's), and its own gate
 *         math per row.  The drivers treat it as the built-in cells, with
 *         the descriptor's row functions in place of theirs: the built-in
 *         cells keep their own row functions (the same bits as before).
 *
 * Where the time goes (T steps, batch B, M = T*B rows):
 *
 *   forward   gates = X·Wx + b              ONE product (M, G*H, I)
 *             for each t: gates(t) += h(t-1)·Wh   one product (B, G*H, H)
 *                         fused element-wise gate math, row by row
 *   backward  for each t (reversed):
 *                 ∂L/∂h(t) = [direct part] + dG(t+1)·Whᵀ + ∂L/∂y(t)
 *                                           one product (B, H, G*H)
 *                 then dG(t) (and ∂L/∂c(t-1)) from it, row by row
 *             then over all steps at once, with the stored h and dG:
 *             dWh += Hprevᵀ·dG,  dWx += Xᵀ·dG,  db += Σ dG,
 *             dX = dG·Wxᵀ                   three products (M rows each)
 *
 * Kernels.  The portable path does the products with sp_gemm (the BLAS)
 * and the gate math in scalar code.  On a CPU with AVX-512F (asked by
 * sp_rnn_new; cfg.reference forces the portable path, the tests' oracle)
 * every product above runs on the one micro-kernel of this file (mk_)
 * and the gate math 16 units at a time.  The kernel streams weights packed
 * once per pass into panels (pack_cols_, pack_rows_) and keeps a tile of
 * 4-8 rows by 32-64 columns in registers for the whole sum.  Why not the
 * BLAS: the per-step products have only B rows and the BLAS re-packs Wh
 * at every step; and OpenBLAS 0.3.21 runs this machine (AMD family 26,
 * where zmm FMAs go at twice the ymm rate: 268 vs 133 GFLOP/s a core)
 * on its AVX2 Haswell kernels.  Measured, (B=32)·(256,1024) on one
 * core: OpenBLAS 100 GFLOP/s, the kernel 245.
 *
 * Threads (cfg.threads = n > 1: a pool of n-1 workers and the caller,
 * started by sp_rnn_new).  A bidirectional layer on the kernels splits
 * the pool into two teams, one per direction, which run side by side
 * (team_); otherwise the team is the whole pool.  Each step's hidden
 * units are shared among a team: thread p owns whole 16- or 32-unit
 * blocks of every gate (share_), computes its columns of the step's
 * product and their gate math, and the team meets at a barrier before
 * the next step, which needs all of h(t).  On the kernel path the input
 * projection and the weight gradients are shared the same way (each
 * thread touches only its own columns; the weight gradients meet twice
 * per chunk of rows around a shared copy), then dX by rows after one
 * more barrier; on the portable path they stay on the calling thread,
 * where the BLAS's own threads (train.threads) apply.  On the kernels
 * each output is computed by the same operations in the same order
 * whatever n is, so results are bit-identical for every n (the tests
 * check 1-4); only the dh_norm instrument, summed from per-thread parts,
 * may differ in its last bits.  The portable path gives each thread a
 * slice of the columns of the per-step sgemm, and OpenBLAS may round a
 * narrow slice differently from the whole: bit-identical across n when
 * the slices are multiples of 8 columns (H = 16, 24, 32, 40, 48 checked;
 * the tests use 40), within round-off otherwise; always bit-identical
 * for a fixed n.  The kernel path and the portable path agree to float
 * round-off (the tests allow 1e-4 relative; measured 6e-7).
 *
 * One-hot input (ids) into Wx: x(t)·Wx is row ids[t] of Wx, a row copy,
 * and dWx gets dG(t) added to that row (scatter-add).  The embedding table
 * works the same way one level down.
 *
 * Masks: at a padded step of row b the state is carried unchanged, the
 * output is 0, and in backward dG = 0 there while ∂L/∂h passes through
 * unchanged; so padding contributes nothing to any gradient.  Running the
 * reverse direction from t = T-1 down over right padding therefore starts
 * each sequence from zero state at its own last real step.
 *
 * Memory: every cache buffer, the packed weights included, is carved
 * from one block following sp_rnn_sizes_of (the only sizing function).
 * The block is allocated on the first forward and replaced only when a
 * batch needs more; forward and backward themselves never allocate.
 * Backward reuses what it has read for the last time: dG(t) is written
 * over the activations of step t, gru's h(t-1)·Wh_n waits in the slot of
 * dgates_h that its gradient takes later, tanh(c(t)) is computed again
 * rather than kept, and ∂L/∂x of layer 0 goes over x once dWx has read
 * it.  So one backward per forward, and the activations are gone after
 * it (sp_rnn_view).  Not here: losses, optimizers, the plugin's
 * key = value parameters (sp_cell_model.c, plugins/rnn.c).
 *
 * Files (sp_cell_impl.h holds what they share): this one, the
 * configuration, the cache, life cycle and the stack of layers;
 * sp_cell_pool.c the threads; sp_cell_kern.c the built-in gate math and
 * the micro-kernel; sp_cell_drive.c one layer in one direction through
 * time; sp_cell_weights.c the weights' names, binding and initial values;
 * sp_cell_trace.c trace, views, instruments; sp_cell_model.c the
 * model-plugin face.
 */
#include "sp_cell.h"

#include "sp_cell.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_blas.h"
#include "sp_cell_impl.h"
#include "sp_shard.h"

size_t sp_cell_gates(sp_cell_kind kind)
{
	switch (kind) {
	case SP_CELL_RNN_TANH:
	case SP_CELL_RNN_RELU: return 1;
	case SP_CELL_LSTM: return 4;
	case SP_CELL_GRU: return 3;
	}
	return 0;
}

void sp_rnn_config_init(sp_rnn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static const char *cfg_name_(const sp_rnn_config *cfg)
{
	return cfg->name ? cfg->name : "rnn";
}

/*
 * *out = the caller's *in as this version's layout: the fields its size
 * covers, the rest zero (size 0: the first layout, SP_RNN_CONFIG_SIZE_V1).
 * A size that is no layout's (larger than ours, or inside the first one,
 * as an old caller's `name` pointer read as size) is refused.
 */
static int cfg_read_(sp_ctx *ctx, const sp_rnn_config *in,
		     sp_rnn_config *out)
{
	size_t n = in->size ? in->size : SP_RNN_CONFIG_SIZE_V1;
	if (n < SP_RNN_CONFIG_SIZE_V1 || n > sizeof(*out))
		return sp_err(ctx, SP_EINVAL,
			      "sp_rnn_config: size=%zu is not a layout this "
			      "library knows (%zu is); set it with "
			      "sp_rnn_config_init", in->size, sizeof(*out));
	memset(out, 0, sizeof(*out));
	memcpy(out, in, n);
	out->size = sizeof(*out);
	return SP_OK;
}

/* A custom cell's descriptor: complete, and what the kernels can run
 * (a block of every gate is held in registers: G <= 4). */
static int check_ops_(sp_ctx *ctx, const sp_rnn_config *cfg)
{
	const sp_cell_ops *o = cfg->ops;
	const char *nm = cfg_name_(cfg);
	if (!o)
		return sp_err(ctx, SP_EINVAL,
			      "%s: no cell kind and no ops", nm);
	if (o->size < offsetof(sp_cell_ops, gate_names))
		return sp_err(ctx, SP_EINVAL,
			      "%s: sp_cell_ops.size=%zu is too small (want "
			      "sizeof(sp_cell_ops) = %zu)", nm, o->size,
			      sizeof(sp_cell_ops));
	if (o->gates < 1 || o->gates > 4)
		return sp_err(ctx, SP_EINVAL,
			      "%s: cell %s has %zu gate blocks, must be 1..4",
			      nm, o->name ? o->name : "?", o->gates);
	if (!o->forward || !o->backward)
		return sp_err(ctx, SP_EINVAL,
			      "%s: cell %s needs forward and backward", nm,
			      o->name ? o->name : "?");
	if (o->flags & ~(SP_CELL_SPLIT | SP_CELL_STATE_C))
		return sp_err(ctx, SP_EINVAL, "%s: unknown cell flags %#x",
			      nm, o->flags);
	return SP_OK;
}

/* cfg is already read through cfg_read_. */
static int check_config_(sp_ctx *ctx, const sp_rnn_config *cfg)
{
	const char *nm = cfg_name_(cfg);
	if (cfg->ops && cfg->cell != 0)
		return sp_err(ctx, SP_EINVAL,
			      "%s: a cell of one's own (ops) wants cell = 0, "
			      "not %d", nm, (int)cfg->cell);
	if (cfg->ops || cfg->cell == 0) {
		int rc = check_ops_(ctx, cfg);
		if (rc)
			return rc;
	} else if (sp_cell_gates(cfg->cell) == 0) {
		return sp_err(ctx, SP_EINVAL, "%s: unknown cell kind %d", nm,
			      (int)cfg->cell);
	}
	if (cfg->hidden == 0)
		return sp_err(ctx, SP_EINVAL, "%s: hidden must be > 0", nm);
	if (cfg->layers == 0)
		return sp_err(ctx, SP_EINVAL, "%s: layers must be >= 1", nm);
	if (cfg->in_dim == 0)
		return sp_err(ctx, SP_EINVAL, "%s: input dimension is 0", nm);
	if (!(cfg->dropout >= 0 && cfg->dropout < 1))
		return sp_err(ctx, SP_EINVAL,
			      "%s: dropout=%g must be in [0, 1)", nm,
			      (double)cfg->dropout);
	if (!(cfg->embed_dropout >= 0 && cfg->embed_dropout < 1))
		return sp_err(ctx, SP_EINVAL,
			      "%s: embed_dropout=%g must be in [0, 1)", nm,
			      (double)cfg->embed_dropout);
	if (!(cfg->word_dropout >= 0 && cfg->word_dropout < 1))
		return sp_err(ctx, SP_EINVAL,
			      "%s: word_dropout=%g must be in [0, 1)", nm,
			      (double)cfg->word_dropout);
	if (!isfinite(cfg->forget_bias))
		return sp_err(ctx, SP_EINVAL, "%s: forget_bias is not finite",
			      nm);
	if (!isfinite(cfg->update_bias))
		return sp_err(ctx, SP_EINVAL, "%s: update_bias is not finite",
			      nm);
	if (cfg->init != SP_CELL_INIT_UNIFORM &&
	    cfg->init != SP_CELL_INIT_XAVIER &&
	    cfg->init != SP_CELL_INIT_ORTHOGONAL)
		return sp_err(ctx, SP_EINVAL, "%s: unknown init %d", nm,
			      (int)cfg->init);
	if (cfg->threads > THREADS_MAX_)
		return sp_err(ctx, SP_EINVAL, "%s: threads=%zu must be <= %d",
			      nm, cfg->threads, THREADS_MAX_);
	if (cfg->prefix && strlen(cfg->prefix) >= 32)
		return sp_err(ctx, SP_EINVAL, "%s: weight name prefix too long",
			      nm);
	return SP_OK;
}

/* a*b, or SIZE_MAX on overflow (which then fails the size check). */
static size_t mul_(size_t a, size_t b)
{
	if (a && b > SIZE_MAX / a)
		return SIZE_MAX;
	return a * b;
}

/* Whether cfg runs on the AVX-512 kernels: the CPU has them and cfg does
 * not ask for the reference path. */
static int simd_for_(const sp_rnn_config *cfg)
{
#if SIMD_
	__builtin_cpu_init();
	return !cfg->reference && __builtin_cpu_supports("avx512f");
#else
	(void)cfg;
	return 0;
#endif
}

/*
 * Whether the two directions of a layer run side by side, a team of
 * threads each (team_): on the kernel path with at least 2 threads.  (The
 * portable path calls the BLAS inside the steps; it keeps one direction
 * at a time.)  Every output is the same either way: a team computes each
 * value with the same operations in the same order as the whole pool.
 * sp_rnn_sizes_of's dx0 and the layer drivers both follow it.
 */
static int paired_for_(const sp_rnn_config *cfg)
{
	return cfg->bidirectional && cfg->threads >= 2 && simd_for_(cfg);
}

/* Floats of the panels of W for the kernels: W (K, G*H) in column blocks
 * (spc_pack_cols), or W (N, G*H) in row blocks (spc_pack_rows), whichever is
 * larger. */
static size_t pack_size_(size_t K, size_t G, size_t H)
{
	size_t U = spc_fwd_units(G);
	size_t cols = mul_(mul_((H + U - 1) / U * U, G), K);
	size_t rows = mul_((K + BWD_UNITS_ - 1) / BWD_UNITS_ * BWD_UNITS_,
			   G * H);
	return cols > rows ? cols : rows;
}

/* ------------------------------------------------------------------ */
/* Sizing and carving: the one place that knows every buffer's size    */
/* ------------------------------------------------------------------ */

/* sp_rnn_sizes_of for a cfg read and checked. */
static int sizes_of_(sp_ctx *ctx, const sp_rnn_config *cfg, size_t T,
		     size_t B, int ids, sp_rnn_sizes *out)
{
	size_t G, H, GH, ND, M, in0;
	memset(out, 0, sizeof(*out));
	G = spc_cfg_gates(cfg);
	H = cfg->hidden;
	GH = G * H;
	ND = cfg->bidirectional ? 2 : 1;
	M = mul_(T, B);
	in0 = ids ? cfg->embed : cfg->in_dim;
	out->gates = mul_(M, GH);
	/* dG(t) overwrites the activations of step t, which backward reads
	 * for the last time right before (the row functions read a unit's
	 * every gate before writing any); only gru's h side needs its own */
	out->dgates = 0;
	out->dgates_h = spc_cfg_split(cfg) ? out->gates : 0;
	out->h = mul_(mul_(T + 1, B), H);
	out->c = spc_cfg_has_c(cfg) ? out->h : 0;
	out->hn = 0; /* in dgates_h, unused until backward */
	out->dh_norm = T;
	out->y = mul_(M, ND * H);
	out->dy = cfg->layers > 1 ? out->y : 0;
	out->drop = (cfg->layers > 1 && cfg->dropout > 0) ? out->y : 0;
	out->x0 = mul_(M, in0);
	/* ∂L/∂x0 overwrites x0 when layer 0's every reader of x0 (dWx) is
	 * done before dX starts: one direction, or two run as teams with
	 * dX after both */
	out->dx0 = ND == 1 || paired_for_(cfg) ? 0 : out->x0;
	out->drop0 = cfg->embed_dropout > 0 || cfg->word_dropout > 0 ? out->x0
								     : 0;
	out->step = mul_(mul_(B, GH), ND);
	out->ids = ids ? M : 0;
	out->mask = M;
	out->len = B;
	if (simd_for_(cfg)) {
		/* Wx's widest input: layer 0's unless ids go straight in */
		size_t in = ids && !cfg->embed ? 0 : in0;
		if (cfg->layers > 1 && ND * H > in)
			in = ND * H;
		out->wh_pack = pack_size_(H, G, H);
		out->wx_pack = in ? pack_size_(in, G, H) : 0;
		out->dg_pack = mul_(cfg->threads > 1 ? cfg->threads : 1,
				    KC_ * 4 * VL_);
		out->at_pack = mul_(mul_(H + in, AT_LD_), ND);
	}
	out->part = mul_(mul_(cfg->threads > 1 ? cfg->threads : 1, T), ND);
	/* The byte total walks the buffers exactly as carve_() does. */
	{
		size_t n = 0, L = cfg->layers, f = sizeof(float);
		size_t per_cell[] = {out->gates, out->dgates, out->dgates_h,
				     out->h, out->c, out->hn,
				     out->dh_norm, out->wh_pack, out->wx_pack};
		size_t per_layer[] = {out->y, out->dy, out->drop};
		size_t last[] = {out->x0 * f, out->dx0 * f, out->drop0 * f,
				 out->step * f, out->step * f, out->step * f,
				 out->step * f, out->part * sizeof(double),
				 out->dg_pack * f, out->ids * 4, out->mask,
				 out->len * 4, out->at_pack * f};
		for (size_t l = 0; l < L * ND; l++)
			for (size_t i = 0; i < sizeof(per_cell) / sizeof(*per_cell); i++)
				n += (mul_(per_cell[i], f) + ALIGN_ - 1) /
				     ALIGN_ * ALIGN_;
		for (size_t l = 0; l < L; l++)
			for (size_t i = 0; i < (l + 1 < L ? 3u : 1u); i++)
				n += (mul_(per_layer[i], f) + ALIGN_ - 1) /
				     ALIGN_ * ALIGN_;
		for (size_t i = 0; i < sizeof(last) / sizeof(*last); i++)
			n += (last[i] + ALIGN_ - 1) / ALIGN_ * ALIGN_;
		out->bytes = n;
	}
	if (out->gates == SIZE_MAX || out->h == SIZE_MAX ||
	    out->y == SIZE_MAX || out->x0 == SIZE_MAX ||
	    out->bytes > SIZE_MAX / 4)
		return sp_err(ctx, SP_EINVAL, "%s: batch T=%zu B=%zu too large",
			      cfg_name_(cfg), T, B);
	return SP_OK;
}

int sp_rnn_sizes_of(sp_ctx *ctx, const sp_rnn_config *cfg, size_t T,
		    size_t B, int ids, sp_rnn_sizes *out)
{
	sp_rnn_config c;
	int rc = cfg_read_(ctx, cfg, &c);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = check_config_(ctx, &c);
	return rc ? rc : sizes_of_(ctx, &c, T, B, ids, out);
}

/* Next n bytes of the block at *off, 64-byte aligned; NULL when n == 0. */
static void *take_(char *base, size_t *off, size_t n)
{
	void *p = n ? base + *off : NULL;
	*off += (n + ALIGN_ - 1) / ALIGN_ * ALIGN_;
	return p;
}

/* Points every cache view into the block, in sp_rnn_sizes_of's order;
 * returns the bytes taken, which must equal s->bytes. */
static size_t carve_(sp_rnn *r, const sp_rnn_sizes *s)
{
	char *base = r->block;
	size_t off = 0, f = sizeof(float);
	for (size_t i = 0; i < r->L * r->ND; i++) {
		cell_ *c = &r->cells[i];
		c->gates = take_(base, &off, s->gates * f);
		c->dgates = take_(base, &off, s->dgates * f);
		if (!c->dgates)
			c->dgates = c->gates;
		c->dgates_h = take_(base, &off, s->dgates_h * f);
		if (!c->dgates_h)
			c->dgates_h = c->dgates;
		c->h = take_(base, &off, s->h * f);
		c->c = take_(base, &off, s->c * f);
		c->hn = take_(base, &off, s->hn * f);
		if (!c->hn && c->dgates_h != c->dgates)
			c->hn = c->dgates_h + 2 * r->H;
		c->dh_norm = take_(base, &off, s->dh_norm * f);
		c->whp = take_(base, &off, s->wh_pack * f);
		c->wxp = take_(base, &off, s->wx_pack * f);
	}
	for (size_t l = 0; l < r->L; l++) {
		r->y[l] = take_(base, &off, s->y * f);
		if (l + 1 == r->L)
			break; /* the top layer's dy is the caller's */
		r->dy[l] = take_(base, &off, s->dy * f);
		r->drop[l] = take_(base, &off, s->drop * f);
	}
	r->x0 = take_(base, &off, s->x0 * f);
	r->dx0 = take_(base, &off, s->dx0 * f);
	if (!r->dx0)
		r->dx0 = r->x0;
	r->drop0 = take_(base, &off, s->drop0 * f);
	r->s_dh = take_(base, &off, s->step * f);
	r->s_dhp = take_(base, &off, s->step * f);
	r->s_dc = take_(base, &off, s->step * f);
	r->s_hg = take_(base, &off, s->step * f);
	r->part = take_(base, &off, s->part * sizeof(double));
	r->dgp = take_(base, &off, s->dg_pack * f);
	for (size_t i = 0; i < r->L * r->ND; i++) {
		cell_ *c = &r->cells[i];
		size_t d = i % r->ND, one = s->step / r->ND;
		c->s_dh = r->s_dh + d * one;
		c->s_dhp = r->s_dhp + d * one;
		c->s_dc = r->s_dc + d * one;
		c->s_hg = r->s_hg + d * one;
		c->part = r->part + d * (s->part / r->ND);
	}
	r->ids = take_(base, &off, s->ids * 4);
	r->mask = take_(base, &off, s->mask);
	r->len = take_(base, &off, s->len * 4);
	r->at = take_(base, &off, s->at_pack * f);
	for (size_t i = 0; r->at && i < r->L * r->ND; i++)
		r->cells[i].at = r->at + i % r->ND * (s->at_pack / r->ND);
	return off;
}

/* Makes the cache fit (T,B) (reallocating only to grow) and carves it. */
static int ensure_cache_(sp_rnn *r, sp_ctx *ctx, size_t T, size_t B,
			 int ids)
{
	sp_rnn_sizes s;
	int rc = sizes_of_(ctx, &r->cfg, T, B, ids, &s);
	if (rc)
		return rc;
	if (s.bytes > r->block_bytes) {
		free(r->block);
		r->block = aligned_alloc(ALIGN_, s.bytes);
		r->block_bytes = r->block ? s.bytes : 0;
		if (!r->block)
			return sp_err(ctx, SP_ENOMEM,
				      "%s: out of memory for a T=%zu B=%zu "
				      "cache (%zu bytes)",
				      r->name, T, B, s.bytes);
	}
	if (carve_(r, &s) != s.bytes)
		return sp_err(ctx, SP_ERROR,
			      "%s: internal error: cache layout and sizes "
			      "disagree", r->name);
	return SP_OK;
}

size_t sp_rnn_cache_bytes(const sp_rnn *rnn)
{
	return rnn ? rnn->block_bytes : 0;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

/* The engine's shape and threads from its (read, checked) cfg. */
static int setup_(sp_rnn *r, sp_ctx *ctx)
{
	const sp_rnn_config *cfg = &r->cfg;
	int rc;
	if (cfg->ops) {
		size_t n = cfg->ops->size < sizeof(r->ops_copy)
				   ? cfg->ops->size : sizeof(r->ops_copy);
		memcpy(&r->ops_copy, cfg->ops, n);
		r->ops = r->cfg.ops = &r->ops_copy;
	}
	r->split = spc_cfg_split(cfg);
	r->has_c = spc_cfg_has_c(cfg);
	r->G = spc_cfg_gates(cfg);
	r->H = cfg->hidden;
	r->L = cfg->layers;
	r->ND = cfg->bidirectional ? 2 : 1;
	r->in0 = cfg->embed ? cfg->embed : cfg->in_dim;
	r->simd = simd_for_(cfg);
	r->paired = paired_for_(cfg);
	spc_pick_rows(&r->rows, r->simd);
	rc = spc_pool_start(&r->pool, ctx, r->name, cfg->threads);
	if (rc)
		return rc;
	spc_team_init(&r->whole, 0, r->pool.n);
	spc_team_init(&r->pair[0], 0, r->pool.n / 2);
	spc_team_init(&r->pair[1], r->pool.n / 2, r->pool.n - r->pool.n / 2);
	return SP_OK;
}

int sp_rnn_new(sp_rnn **out, sp_ctx *ctx, const sp_rnn_config *cfg)
{
	sp_rnn *r;
	size_t nw;
	int rc;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory",
			      cfg_name_(cfg));
	if ((rc = cfg_read_(ctx, cfg, &r->cfg)) ||
	    (rc = check_config_(ctx, &r->cfg))) {
		free(r);
		return rc;
	}
	snprintf(r->name, sizeof(r->name), "%s", cfg_name_(cfg));
	snprintf(r->prefix, sizeof(r->prefix), "%s",
		 cfg->prefix ? cfg->prefix : "");
	r->cfg.name = r->name;
	r->cfg.prefix = r->prefix;
	if ((rc = setup_(r, ctx)))
		goto fail;
	nw = (r->cfg.embed ? 1 : 0) + r->L * r->ND * (r->split ? 4 : 3);
	r->w = calloc(nw, sizeof(*r->w));
	r->names = calloc(nw, NAME_MAX_);
	r->cells = calloc(r->L * r->ND, sizeof(*r->cells));
	r->y = calloc(r->L, sizeof(*r->y));
	r->dy = calloc(r->L, sizeof(*r->dy));
	r->drop = calloc(r->L, sizeof(*r->drop));
	if (!r->w || !r->names || !r->cells || !r->y || !r->dy || !r->drop) {
		rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", r->name);
		goto fail;
	}
	spc_declare_weights(r);
	*out = r;
	return SP_OK;
fail:
	sp_rnn_free(r);
	return rc;
}

void sp_rnn_free(sp_rnn *rnn)
{
	if (!rnn)
		return;
	spc_pool_stop(&rnn->pool);
	free(rnn->block);
	free(rnn->carry_h);
	free(rnn->carry_c);
	free(rnn->trace_buf);
	free(rnn->w);
	free(rnn->names);
	free(rnn->cells);
	free(rnn->y);
	free(rnn->dy);
	free(rnn->drop);
	free(rnn);
}

size_t sp_rnn_out_dim(const sp_rnn *rnn)
{
	return rnn->ND * rnn->H;
}

/* ------------------------------------------------------------------ */
/* The stack                                                           */
/* ------------------------------------------------------------------ */

/* Inverted dropout in place on v (T,B,width): v *= m, m = 0 with
 * probability p, else 1/(1-p), so that the expected value is unchanged.
 * The masks are the whole batch's even when this process computes a
 * shard of it (sp_rng_mask_steps). */
static void dropout_(sp_ctx *ctx, float *v, float *m, size_t T, size_t B,
		     size_t width, float p)
{
	float keep = 1.0f / (1.0f - p);
	sp_rng_mask_steps(ctx, m, T, B, width, p, 0.0f, keep);
	for (size_t i = 0; i < T * B * width; i++)
		v[i] *= m[i];
}

static void mul_inplace_(float *v, const float *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] *= m[i];
}

/* Copies x's mask, lengths and ids into the cache, checking ids. */
static int take_batch_(sp_rnn *r, sp_ctx *ctx, const sp_seq *x)
{
	size_t T = x->T, B = x->B, M = T * B;
	r->has_mask = x->mask != NULL;
	if (x->mask) {
		memcpy(r->mask, x->mask, M);
		for (size_t b = 0; b < B; b++) {
			int32_t n = 0;
			if (x->len) {
				n = x->len[b];
			} else {
				for (size_t t = 0; t < T; t++)
					n += x->mask[t * B + b] != 0;
			}
			r->len[b] = n;
		}
	} else {
		memset(r->mask, 1, M);
		for (size_t b = 0; b < B; b++)
			r->len[b] = (int32_t)T;
	}
	if (!x->ids)
		return SP_OK;
	for (size_t i = 0; i < M; i++) {
		int32_t id = x->ids[i];
		if (!r->mask[i]) {
			r->ids[i] = 0;
			continue;
		}
		if (id < 0 || (size_t)id >= r->cfg.in_dim)
			return sp_err(ctx, SP_EINPUT,
				      "%s: id %ld at step %zu of sequence %zu "
				      "is outside the vocabulary (V=%zu)",
				      r->name, (long)id, i / B, i % B,
				      r->cfg.in_dim);
		r->ids[i] = id;
	}
	return SP_OK;
}

int sp_rnn_forward(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x, sp_seq *y,
		   int train)
{
	return sp_rnn_forward_ex(rnn, ctx, x, y, train, NULL, NULL);
}

/* Layer 0's input: the embedded ids, a copy of x, or (ids straight into
 * Wx) nothing, NULL: the drivers gather rows of Wx.  Dropped out when
 * training with embed_dropout. */
static const float *layer0_input_(sp_rnn *r, sp_ctx *ctx, const sp_seq *x,
				  int train)
{
	const size_t M = r->T * r->B, in = r->in0;
	const float *xin = NULL;
	if (r->ids_in && r->cfg.embed) {
		size_t E = r->cfg.embed;
		for (size_t i = 0; i < M; i++) {
			if (r->mask[i])
				memcpy(r->x0 + i * E,
				       r->E + (size_t)r->ids[i] * E,
				       E * sizeof(float));
			else
				memset(r->x0 + i * E, 0, E * sizeof(float));
		}
		xin = r->x0;
	} else if (!r->ids_in) {
		memcpy(r->x0, x->x, M * in * sizeof(float));
		xin = r->x0;
	}
	r->dropped0 = xin && train &&
		      (r->cfg.embed_dropout > 0 || r->cfg.word_dropout > 0);
	if (r->dropped0 && r->cfg.embed_dropout > 0)
		dropout_(ctx, r->x0, r->drop0, r->T, r->B, in,
			 r->cfg.embed_dropout);
	/* whole rows after the elements: drop0 is their product */
	if (r->dropped0 && r->cfg.word_dropout > 0)
		/* each row of the whole batch its own draw (sp_shard.h) */
		sp_rng_drop_rows(ctx, r->x0, r->drop0, r->T, r->B, in, r->cfg.word_dropout,
				 1.0f / (1.0f - r->cfg.word_dropout), r->cfg.embed_dropout <= 0);
	return xin;
}

/* Every layer's forward, bottom up, from layer 0's input xin; h0, c0 as
 * sp_rnn_forward_ex, else the carried state. */
static void forward_layers_(sp_rnn *r, sp_ctx *ctx, const float *xin,
			    int train, const float *h0, const float *c0)
{
	const size_t T = r->T, B = r->B, M = T * B, H = r->H, ND = r->ND;
	/* With one direction and no padded step, the top layer's output is
	 * its states h(1..T) themselves: it is written there, which leaves
	 * the (T,B,H) output buffer untouched (and out of the resident
	 * memory) for batches without padding. */
	r->y_top = ND == 1 && !memchr(r->mask, 0, M)
			   ? r->cells[(r->L - 1) * ND].h + B * H
			   : r->y[r->L - 1];
	r->dropped = train && r->cfg.dropout > 0 && r->L > 1;
	for (size_t l = 0; l < r->L; l++) {
		float *yl = l + 1 == r->L ? r->y_top : r->y[l];
		recur_ jobs[2];
		for (size_t d = 0; d < ND; d++) {
			const float *hi = NULL, *ci = NULL;
			if (h0) {
				hi = h0 + (l * ND + d) * B * H;
				ci = c0 ? c0 + (l * ND + d) * B * H : NULL;
			} else if (d == 0 && r->carry_on && r->carry_valid) {
				hi = r->carry_h + l * B * H;
				ci = r->carry_c ? r->carry_c + l * B * H : NULL;
			}
			jobs[d] = (recur_){
				.r = r, .c = &r->cells[l * ND + d], .T = T,
				.B = B, .mask = r->mask, .y = yl + d * H,
				.ldy = ND * H, .xin = xin, .ids = r->ids,
				.tm = r->paired ? &r->pair[d] : &r->whole};
			spc_fwd_begin(r, &jobs[d], hi, ci);
		}
		spc_layer_forward(r, jobs);
		if (r->dropped && l + 1 < r->L)
			dropout_(ctx, r->y[l], r->drop[l], T, B, ND * H,
				 r->cfg.dropout);
		xin = r->y[l];
	}
}

/* Keeps the final forward state of every row (its last real step:
 * padding carried it to h[T]) for the next forward. */
static int keep_carry_(sp_rnn *r, sp_ctx *ctx)
{
	const size_t T = r->T, B = r->B, H = r->H, ND = r->ND;
	size_t need = r->L * B * H;
	/* h, c are (T+1,B,H), row s the state after s steps; s < T
	 * when asked for (sp_rnn_carry_at) */
	size_t s = r->carry_step && r->carry_step < T ?
			   r->carry_step : T;
	if (need > r->carry_cap) {
		float *nh = realloc(r->carry_h, need * sizeof(float));
		if (nh)
			r->carry_h = nh;
		if (nh && r->has_c) {
			float *nc = realloc(r->carry_c,
					    need * sizeof(float));
			if (nc)
				r->carry_c = nc;
			else
				nh = NULL;
		}
		if (!nh) {
			r->carry_valid = 0;
			return sp_err(ctx, SP_ENOMEM,
				      "%s: out of memory for the "
				      "carried state", r->name);
		}
		r->carry_cap = need;
	}
	for (size_t l = 0; l < r->L; l++) {
		const cell_ *c = &r->cells[l * ND];
		memcpy(r->carry_h + l * B * H, c->h + s * B * H,
		       B * H * sizeof(float));
		if (r->has_c)
			memcpy(r->carry_c + l * B * H, c->c + s * B * H,
			       B * H * sizeof(float));
	}
	r->carry_valid = 1;
	r->carry_B = B;
	return SP_OK;
}

int sp_rnn_forward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x,
		      sp_seq *y, int train, const float *h0, const float *c0)
{
	sp_rnn *r = rnn;
	size_t T, B, M, H = r->H, ND = r->ND;
	const float *xin;
	int rc;

	r->have_fwd = r->trained = r->have_bwd = 0;
	if (!r->bound)
		return sp_err(ctx, SP_EINVAL, "%s: forward before bind",
			      r->name);
	if (x->D != r->cfg.in_dim)
		return sp_err(ctx, SP_EINVAL,
			      "%s: input has D=%zu, the stage expects %zu",
			      r->name, x->D, r->cfg.in_dim);
	T = x->T;
	B = x->B;
	M = T * B;
	if (M && !x->ids && !x->x)
		return sp_err(ctx, SP_EINVAL, "%s: input without data",
			      r->name);
	if (r->cfg.embed && !x->ids)
		return sp_err(ctx, SP_EINVAL,
			      "%s: embed=%zu needs ids (one-hot) input",
			      r->name, r->cfg.embed);
	if (M == 0) {
		/* an empty batch: nothing to compute, the carry is kept */
		memset(y, 0, sizeof(*y));
		y->T = T;
		y->B = B;
		y->D = ND * H;
		r->T = T;
		r->B = B;
		r->has_mask = 0;
		r->have_fwd = 1;
		r->trained = train != 0;
		return SP_OK;
	}
	rc = ensure_cache_(r, ctx, T, B, x->ids != NULL);
	if (rc)
		return rc;
	r->T = T;
	r->B = B;
	r->ids_in = x->ids != NULL;
	rc = take_batch_(r, ctx, x);
	if (rc)
		return rc;

	/* A carried state only fits a batch of the same size. */
	if (r->carry_valid && r->carry_B != B)
		r->carry_valid = 0;

	xin = layer0_input_(r, ctx, x, train);
	forward_layers_(r, ctx, xin, train, h0, c0);
	if (r->carry_on && (rc = keep_carry_(r, ctx)))
		return rc;

	y->T = T;
	y->B = B;
	y->D = ND * H;
	y->x = r->y_top;
	y->ids = NULL;
	y->mask = r->has_mask ? r->mask : NULL;
	y->len = r->has_mask ? r->len : NULL;
	r->have_fwd = 1;
	r->trained = train != 0;
	return SP_OK;
}

int sp_rnn_backward(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx)
{
	return sp_rnn_backward_ex(rnn, ctx, dy, dx, NULL, NULL);
}

/* Every layer's backward, top down, from dy (T*B, ND*H) of the top
 * layer; dh0, dc0 as sp_rnn_backward_ex. */
static void backward_layers_(sp_rnn *r, const float *dy, float *dh0,
			     float *dc0)
{
	const size_t T = r->T, B = r->B, M = T * B, H = r->H, ND = r->ND;
	for (size_t l = r->L; l-- > 0;) {
		const float *dyl = l + 1 == r->L ? dy : r->dy[l];
		const float *xin;
		float *dxin;
		if (l > 0) {
			xin = r->y[l - 1];
			dxin = r->dy[l - 1];
		} else {
			int gather = r->ids_in && !r->cfg.embed;
			xin = gather ? NULL : r->x0;
			dxin = gather ? NULL : r->dx0;
		}
		recur_ jobs[2];
		for (size_t d = 0; d < ND; d++)
			jobs[d] = (recur_){
				.r = r, .c = &r->cells[l * ND + d], .T = T,
				.B = B, .mask = r->mask, .dy = dyl + d * H,
				.ldy = ND * H,
				.dh0 = dh0 ? dh0 + (l * ND + d) * B * H : NULL,
				.dc0 = dc0 && r->has_c
					       ? dc0 + (l * ND + d) * B * H
					       : NULL,
				.xin = xin, .ids = r->ids, .dxin = dxin,
				.beta = d ? 1.0f : 0.0f,
				.tm = r->paired ? &r->pair[d] : &r->whole,
				.defer_dx = r->paired};
		spc_layer_backward(r, jobs);
		/* through the dropout between layer l-1 and l */
		if (l > 0 && r->dropped)
			mul_inplace_(r->dy[l - 1], r->drop[l - 1],
				     M * ND * H);
	}
}

/* The embedding's gradient: ∂L/∂e(t) scatter-added into row ids[t] of
 * dE. */
static void embed_backward_(sp_rnn *r)
{
	const size_t M = r->T * r->B, E = r->cfg.embed;
	for (size_t i = 0; i < M; i++) {
		float *de = r->dE + (size_t)r->ids[i] * E;
		const float *g = r->dx0 + i * E;
		if (!r->mask[i])
			continue;
		for (size_t k = 0; k < E; k++)
			de[k] += g[k];
	}
}

int sp_rnn_backward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *dy,
		       sp_seq *dx, float *dh0, float *dc0)
{
	sp_rnn *r = rnn;
	size_t T = r->T, B = r->B, M = T * B, H = r->H, ND = r->ND;
	if (!r->have_fwd || !r->trained)
		return sp_err(ctx, SP_EINVAL,
			      "%s: backward without a training forward",
			      r->name);
	if (r->have_bwd)
		return sp_err(ctx, SP_EINVAL,
			      "%s: a second backward needs a new forward (the "
			      "first one used up the forward's activations)",
			      r->name);
	if (dy->T != T || dy->B != B || dy->D != ND * H)
		return sp_err(ctx, SP_EINVAL,
			      "%s: dy is (%zu,%zu,%zu), the forward gave "
			      "(%zu,%zu,%zu)",
			      r->name, dy->T, dy->B, dy->D, T, B, ND * H);
	if (M && !dy->x)
		return sp_err(ctx, SP_EINVAL, "%s: dy without data", r->name);
	if (M == 0) {
		memset(dx, 0, sizeof(*dx));
		dx->T = T;
		dx->B = B;
		dx->D = r->cfg.in_dim;
		return SP_OK;
	}

	backward_layers_(r, dy->x, dh0, dc0);
	dx->T = T;
	dx->B = B;
	dx->D = r->cfg.in_dim;
	dx->x = NULL;
	dx->ids = NULL;
	dx->mask = r->has_mask ? r->mask : NULL;
	dx->len = r->has_mask ? r->len : NULL;
	if (r->dropped0)
		mul_inplace_(r->dx0, r->drop0, M * r->in0);
	if (r->ids_in && r->cfg.embed)
		embed_backward_(r);
	else if (!r->ids_in)
		dx->x = r->dx0;
	r->have_bwd = 1;
	return SP_OK;
}

int sp_rnn_carry(sp_rnn *rnn, sp_ctx *ctx, int on, int reset)
{
	rnn->carry_on = on != 0;
	if (reset || !on)
		rnn->carry_valid = 0;
	return SP_OK;
}

int sp_rnn_carry_at(sp_rnn *rnn, sp_ctx *ctx, size_t step)
{
	rnn->carry_step = step;
	return SP_OK;
}
