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
 * key = value parameters (plugins/rnn.c).
 */
#include "sp_cell.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_blas.h"

/* The AVX-512 kernels: compiled for x86-64 with GCC or Clang whatever the
 * build's -march, used only when the CPU has AVX-512F (sp_rnn_new asks). */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SIMD_ 1
#define AVX512_ __attribute__((target("avx512f,fma")))
#else
#define SIMD_ 0
#endif

#define ALIGN_ 64          /* bytes; cache-line and AVX-512 friendly */
#define NAME_MAX_ 80       /* longest weight name: prefix (< 32) + 40 */
#define VL_ 16             /* floats per AVX-512 vector */
#define THREADS_MAX_ 256

/* One layer in one direction: its bound weights and its cache views. */
typedef struct cell_ {
	size_t in;          /* input width of this layer */
	int reverse;        /* processes t = T-1 .. 0 */
	float *Wx, *Wh, *b, *bh;     /* (in,GH) (H,GH) (GH) (GH, gru only) */
	float *dWx, *dWh, *db, *dbh; /* their gradients (accumulated) */
	float *gates;    /* (T,B,GH) */
	float *dgates;   /* (T,B,GH) */
	float *dgates_h; /* (T,B,GH) gru; else == dgates */
	float *h;        /* (T+1,B,H) */
	float *c;        /* (T+1,B,H) lstm */
	float *hn;       /* gru: h(t-1)·Wh_n + bh_n of row (t,b) at
			    hn + (t*B+b)*GH: the n slot of dgates_h, which
			    backward reads right before writing there */
	float *dh_norm;  /* (T) */
	/* the kernels' copies, packed for the pass at hand: forward
	 * pack_cols_, backward pack_rows_ */
	float *whp;      /* Wh */
	float *wxp;      /* Wx (NULL for ids straight into Wx) */
	/* per-step scratch and ||∂L/∂h||² parts of this direction: the two
	 * directions of a layer may run at the same time (teams below) */
	float *s_dh, *s_dhp, *s_dc, *s_hg; /* (B,GH) each */
	double *part;    /* (threads, T) */
	float *at;       /* (H + in, AT_LD_): a chunk of [Hprev | X], transposed */
} cell_;

/* The gate math of one row, portable or AVX-512 (the same signatures;
 * see the row functions). */
typedef struct rowfns_ {
	void (*rnn_fwd)(float *, float *, float *, size_t, size_t, int);
	void (*rnn_bwd)(const float *, const float *, float *, size_t, size_t,
			int);
	void (*lstm_fwd)(float *, const float *, float *, float *,
			 float *, size_t, size_t, size_t);
	void (*lstm_bwd)(const float *, const float *, const float *,
			 const float *, float *, float *, size_t, size_t,
			 size_t);
	void (*gru_fwd)(float *, const float *, const float *, float *,
			float *, float *, size_t, size_t, size_t);
	void (*gru_bwd)(const float *, const float *, const float *,
			const float *, float *, float *, float *, size_t, size_t,
			size_t);
	float (*dh_add)(float *, const float *, size_t, size_t);
} rowfns_;

/* The engine's threads: n-1 workers and the caller, who run one job at a
 * time together and meet at a barrier after every step. */
typedef void (*job_fn_)(void *arg, size_t p);
typedef struct worker_ {
	struct pool_ *pool;
	size_t p;               /* 1 .. n-1 */
} worker_;
typedef struct pool_ {
	size_t n;               /* threads, the caller's included */
	size_t started;         /* workers running */
	pthread_t *tid;         /* (n-1) */
	worker_ *wk;            /* (n-1) */
	pthread_mutex_t mu;     /* guards job, fn, arg, stop */
	pthread_cond_t cv;
	unsigned long job;      /* generation of the job fn(arg) */
	job_fn_ fn;
	void *arg;
	int stop;
	atomic_uint arrived;    /* the barrier: threads arrived so far */
	atomic_uint phase;      /* the barrier: times it opened */
} pool_;

/*
 * The threads that work on one cell (layer, direction) during a job: all
 * of the pool, or, for the two directions of a bidirectional layer, half
 * of it each.  The directions are independent until dX, so two teams
 * run them side by side and each team meets only its own members at the
 * per-step barrier: with 2 threads a direction needs no barrier at all,
 * which is what makes small layers (H = 128) scale.
 */
typedef struct team_ {
	size_t n;               /* threads in the team */
	size_t p0;              /* pool index of its first thread */
	atomic_uint arrived;
	atomic_uint phase;
} team_;

struct sp_rnn {
	sp_rnn_config cfg;  /* name/prefix point at the copies below */
	char name[32];
	char prefix[32];
	size_t G, H, L, ND, in0; /* in0: width of layer 0's input */
	/* declared weights */
	sp_weight *w;
	size_t n_w;
	char *names;        /* n_w * NAME_MAX_ */
	float *E, *dE;      /* (V,E) embedding table, when cfg.embed > 0 */
	cell_ *cells;       /* L*ND, cell (l,d) at l*ND + d */
	/* cache views, carved for (T,B) */
	float **y, **dy, **drop; /* per layer */
	float *y_top;       /* the last forward's output: y[L-1], or h */
	float *x0, *dx0, *drop0;
	float *s_dh, *s_dhp, *s_dc, *s_hg; /* (ND,B,GH): per direction */
	double *part;       /* (ND, threads, T) */
	float *dgp;         /* (threads, KC_, 64) */
	float *at;          /* (ND, H + in, AT_LD_): see cell_.at */
	int32_t *ids;
	uint8_t *mask;
	int32_t *len;
	void *block;
	size_t block_bytes;
	/* what the last forward was */
	size_t T, B;
	int ids_in, has_mask, have_fwd, trained, dropped, dropped0, have_bwd;
	int bound;
	/* carried state (forward direction, per layer (B,H)) */
	int carry_on, carry_valid;
	size_t carry_B, carry_cap;
	size_t carry_step;  /* keep h[carry_step] (0 = h[T]): sp_rnn_carry_at */
	float *carry_h, *carry_c;
	float *trace_buf;   /* lazily sized by trace (not a hot path) */
	int simd;           /* the AVX-512 kernels (else the portable path) */
	int paired;         /* bidirectional layers run in two teams */
	rowfns_ rows;       /* the gate math that goes with it */
	pool_ pool;
	team_ whole;        /* every thread on one cell */
	team_ pair[2];      /* a team per direction (paired) */
};

static void pick_rows_(rowfns_ *out, int simd);

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

static const char *cfg_name_(const sp_rnn_config *cfg)
{
	return cfg->name ? cfg->name : "rnn";
}

static int check_config_(sp_ctx *ctx, const sp_rnn_config *cfg)
{
	const char *nm = cfg_name_(cfg);
	if (sp_cell_gates(cfg->cell) == 0)
		return sp_err(ctx, SP_EINVAL, "%s: unknown cell kind %d", nm,
			      (int)cfg->cell);
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
	if (!isfinite(cfg->forget_bias))
		return sp_err(ctx, SP_EINVAL, "%s: forget_bias is not finite",
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

/* Hidden units per column block of the kernels' h(t-1)·Wh: 16 of every
 * gate (G vectors a row), or 32 for the rnn's one gate (2 vectors).  For
 * dG(t)·Whᵀ, 32 output units (2 vectors). */
static size_t fwd_units_(size_t G)
{
	return G == 1 ? 2 * VL_ : VL_;
}
#define BWD_UNITS_ (2 * VL_)
#define KC_ 128            /* steps*rows of dG per chunk of dW += Xᵀ·dG */
#define AT_LD_ (KC_ + VL_) /* row stride of a transposed chunk: not a
			      power of two, so its rows spread over the
			      cache's sets */

/* Floats of the panels of W for the kernels: W (K, G*H) in column blocks
 * (pack_cols_), or W (N, G*H) in row blocks (pack_rows_), whichever is
 * larger. */
static size_t pack_size_(size_t K, size_t G, size_t H)
{
	size_t U = fwd_units_(G);
	size_t cols = mul_(mul_((H + U - 1) / U * U, G), K);
	size_t rows = mul_((K + BWD_UNITS_ - 1) / BWD_UNITS_ * BWD_UNITS_,
			   G * H);
	return cols > rows ? cols : rows;
}

/* ------------------------------------------------------------------ */
/* Sizing and carving: the one place that knows every buffer's size    */
/* ------------------------------------------------------------------ */

int sp_rnn_sizes_of(sp_ctx *ctx, const sp_rnn_config *cfg, size_t T,
		    size_t B, int ids, sp_rnn_sizes *out)
{
	int rc = check_config_(ctx, cfg);
	size_t G, H, GH, ND, M, in0;
	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	G = sp_cell_gates(cfg->cell);
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
	out->dgates_h = cfg->cell == SP_CELL_GRU ? out->gates : 0;
	out->h = mul_(mul_(T + 1, B), H);
	out->c = cfg->cell == SP_CELL_LSTM ? out->h : 0;
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
	out->drop0 = cfg->embed_dropout > 0 ? out->x0 : 0;
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
	int rc = sp_rnn_sizes_of(ctx, &r->cfg, T, B, ids, &s);
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
/* Threads: the engine's pool and the per-step barrier                 */
/* ------------------------------------------------------------------ */

static void cpu_relax_(void)
{
#if SIMD_
	_mm_pause();
#endif
}

/* All n threads wait here until the last one arrives.  What a thread
 * wrote before the barrier is visible to all after it (the arrival is
 * acq_rel, the opening a release, the waiting an acquire).  A step lasts
 * microseconds, so waiters spin, then yield (the machine may be shared). */
static void meet_(atomic_uint *arrived, atomic_uint *phase, size_t n)
{
	unsigned ph;
	if (n < 2)
		return;
	ph = atomic_load_explicit(phase, memory_order_acquire);
	if (atomic_fetch_add_explicit(arrived, 1, memory_order_acq_rel) + 1 ==
	    n) {
		atomic_store_explicit(arrived, 0, memory_order_relaxed);
		atomic_fetch_add_explicit(phase, 1, memory_order_release);
		return;
	}
	for (unsigned spin = 0;
	     atomic_load_explicit(phase, memory_order_acquire) == ph;
	     spin++) {
		if (spin < 256)
			cpu_relax_();
		else
			sched_yield();
	}
}

static void barrier_(pool_ *pl)
{
	meet_(&pl->arrived, &pl->phase, pl->n);
}

static void team_barrier_(team_ *tm)
{
	meet_(&tm->arrived, &tm->phase, tm->n);
}

static void team_init_(team_ *tm, size_t p0, size_t n)
{
	tm->p0 = p0;
	tm->n = n;
	atomic_init(&tm->arrived, 0);
	atomic_init(&tm->phase, 0);
}

/* A worker: sleeps until a new job, runs its part, meets the others. */
static void *worker_main_(void *arg)
{
	worker_ *w = arg;
	pool_ *pl = w->pool;
	unsigned long seen = 0;
	for (;;) {
		job_fn_ fn;
		void *job;
		pthread_mutex_lock(&pl->mu);
		while (pl->job == seen && !pl->stop)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->stop) {
			pthread_mutex_unlock(&pl->mu);
			return NULL;
		}
		seen = pl->job;
		fn = pl->fn;
		job = pl->arg;
		pthread_mutex_unlock(&pl->mu);
		fn(job, w->p);
		barrier_(pl);
	}
}

/* Runs fn(arg, p) on every thread p = 0..n-1 (0 is the caller) and
 * returns when all are done. */
static void run_(pool_ *pl, job_fn_ fn, void *arg)
{
	if (pl->n < 2) {
		fn(arg, 0);
		return;
	}
	pthread_mutex_lock(&pl->mu);
	pl->fn = fn;
	pl->arg = arg;
	pl->job++;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	fn(arg, 0);
	barrier_(pl);
}

static void pool_stop_(pool_ *pl)
{
	if (pl->n < 2)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	for (size_t i = 0; i < pl->started; i++)
		pthread_join(pl->tid[i], NULL);
	pthread_cond_destroy(&pl->cv);
	pthread_mutex_destroy(&pl->mu);
	free(pl->tid);
	free(pl->wk);
	pl->n = 1;
}

/* Starts n-1 workers (n <= 1: none).  They block every signal, so that
 * the host's handlers (Ctrl-C) run on its own threads. */
static int pool_start_(pool_ *pl, sp_ctx *ctx, const char *name, size_t n)
{
	sigset_t all, old;
	int rc = SP_OK;
	memset(pl, 0, sizeof(*pl));
	pl->n = 1;
	if (n < 2)
		return SP_OK;
	pl->tid = calloc(n - 1, sizeof(*pl->tid));
	pl->wk = calloc(n - 1, sizeof(*pl->wk));
	if (!pl->tid || !pl->wk || pthread_mutex_init(&pl->mu, NULL) != 0) {
		free(pl->tid);
		free(pl->wk);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory for threads",
			      name);
	}
	if (pthread_cond_init(&pl->cv, NULL) != 0) {
		pthread_mutex_destroy(&pl->mu);
		free(pl->tid);
		free(pl->wk);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory for threads",
			      name);
	}
	atomic_init(&pl->arrived, 0);
	atomic_init(&pl->phase, 0);
	pl->n = n;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; pl->started < n - 1; pl->started++) {
		worker_ *w = &pl->wk[pl->started];
		w->pool = pl;
		w->p = pl->started + 1;
		if (pthread_create(&pl->tid[pl->started], NULL, worker_main_,
				   w) != 0) {
			rc = SP_ERROR;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pool_stop_(pl);
		return sp_err(ctx, rc, "%s: cannot start %zu threads", name, n);
	}
	return SP_OK;
}

/* Thread p's share [*j0, *j1) of nb blocks among n threads. */
static void share_(size_t nb, size_t n, size_t p, size_t *j0, size_t *j1)
{
	*j0 = nb * p / n;
	*j1 = nb * (p + 1) / n;
}

/* ------------------------------------------------------------------ */
/* Life cycle, weights                                                 */
/* ------------------------------------------------------------------ */

static void add_weight_(sp_rnn *r, const char *nm, size_t d0, size_t d1)
{
	char *dst = r->names + r->n_w * NAME_MAX_;
	sp_weight *w = &r->w[r->n_w++];
	snprintf(dst, NAME_MAX_, "%s%s", r->prefix, nm);
	w->name = dst;
	w->ndim = d1 ? 2 : 1;
	w->dim[0] = d0;
	w->dim[1] = d1;
	w->dim[2] = w->dim[3] = 0;
}

int sp_rnn_new(sp_rnn **out, sp_ctx *ctx, const sp_rnn_config *cfg)
{
	sp_rnn *r;
	size_t nw;
	int rc = check_config_(ctx, cfg);
	*out = NULL;
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory",
			      cfg_name_(cfg));
	r->cfg = *cfg;
	snprintf(r->name, sizeof(r->name), "%s", cfg_name_(cfg));
	snprintf(r->prefix, sizeof(r->prefix), "%s",
		 cfg->prefix ? cfg->prefix : "");
	r->cfg.name = r->name;
	r->cfg.prefix = r->prefix;
	r->G = sp_cell_gates(cfg->cell);
	r->H = cfg->hidden;
	r->L = cfg->layers;
	r->ND = cfg->bidirectional ? 2 : 1;
	r->in0 = cfg->embed ? cfg->embed : cfg->in_dim;
	r->simd = simd_for_(cfg);
	r->paired = paired_for_(cfg);
	pick_rows_(&r->rows, r->simd);
	rc = pool_start_(&r->pool, ctx, r->name, cfg->threads);
	if (rc)
		goto fail;
	team_init_(&r->whole, 0, r->pool.n);
	team_init_(&r->pair[0], 0, r->pool.n / 2);
	team_init_(&r->pair[1], r->pool.n / 2, r->pool.n - r->pool.n / 2);

	nw = (cfg->embed ? 1 : 0) +
	     r->L * r->ND * (cfg->cell == SP_CELL_GRU ? 4 : 3);
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

	if (cfg->embed)
		add_weight_(r, "embed", cfg->in_dim, cfg->embed);
	{
		/* The course's vanilla RNN keeps the course's names. */
		int course = (cfg->cell == SP_CELL_RNN_TANH ||
			      cfg->cell == SP_CELL_RNN_RELU) &&
			     r->L == 1 && r->ND == 1 && !cfg->embed;
		size_t GH = r->G * r->H;
		for (size_t l = 0; l < r->L; l++) {
			for (size_t d = 0; d < r->ND; d++) {
				cell_ *c = &r->cells[l * r->ND + d];
				char p[24], nm[40];
				c->in = l == 0 ? r->in0 : r->ND * r->H;
				c->reverse = d == 1;
				snprintf(p, sizeof(p), "l%zu%s.", l,
					 d ? "r" : "");
				if (course) {
					add_weight_(r, "Wxh", c->in, GH);
					add_weight_(r, "Whh", r->H, GH);
					add_weight_(r, "b", GH, 0);
					continue;
				}
				snprintf(nm, sizeof(nm), "%sWx", p);
				add_weight_(r, nm, c->in, GH);
				snprintf(nm, sizeof(nm), "%sWh", p);
				add_weight_(r, nm, r->H, GH);
				if (cfg->cell == SP_CELL_GRU) {
					snprintf(nm, sizeof(nm), "%sbx", p);
					add_weight_(r, nm, GH, 0);
					snprintf(nm, sizeof(nm), "%sbh", p);
					add_weight_(r, nm, GH, 0);
				} else {
					snprintf(nm, sizeof(nm), "%sb", p);
					add_weight_(r, nm, GH, 0);
				}
			}
		}
	}
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
	pool_stop_(&rnn->pool);
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

int sp_rnn_weights(const sp_rnn *rnn, const sp_weight **out, size_t *n_out)
{
	*out = rnn->w;
	*n_out = rnn->n_w;
	return SP_OK;
}

int sp_rnn_bind(sp_rnn *rnn, float *const *value, float *const *grad)
{
	size_t k = 0;
	if (rnn->cfg.embed) {
		rnn->E = value[k];
		rnn->dE = grad[k++];
	}
	for (size_t i = 0; i < rnn->L * rnn->ND; i++) {
		cell_ *c = &rnn->cells[i];
		c->Wx = value[k];
		c->dWx = grad[k++];
		c->Wh = value[k];
		c->dWh = grad[k++];
		c->b = value[k];
		c->db = grad[k++];
		if (rnn->cfg.cell == SP_CELL_GRU) {
			c->bh = value[k];
			c->dbh = grad[k++];
		}
	}
	rnn->bound = 1;
	return SP_OK;
}

/* Each (rows, H) gate block of a (rows, G*H) matrix: U(±√(6/(fan_in+H))),
 * or orthogonal when `orth` (rows == H). */
static int init_blocks_(sp_ctx *ctx, float *W, size_t rows, size_t G,
			size_t H, int orth)
{
	float bound = (float)sqrt(6.0 / (double)(rows + H));
	float *q;
	if (!orth) {
		sp_fill_uniform(ctx, W, rows * G * H, -bound, bound);
		return SP_OK;
	}
	q = malloc(H * H * sizeof(*q));
	if (!q)
		return sp_err(ctx, SP_ENOMEM, "orthogonal init: out of memory");
	for (size_t g = 0; g < G; g++) {
		int rc = sp_fill_orthogonal(ctx, q, H, H);
		if (rc) {
			free(q);
			return rc;
		}
		for (size_t j = 0; j < H; j++)
			memcpy(W + j * G * H + g * H, q + j * H,
			       H * sizeof(*q));
	}
	free(q);
	return SP_OK;
}

int sp_rnn_init(sp_rnn *rnn, sp_ctx *ctx)
{
	size_t H = rnn->H, G = rnn->G, GH = G * H;
	float k = 1.0f / sqrtf((float)H);
	int rc;
	if (!rnn->bound)
		return sp_err(ctx, SP_EINVAL, "%s: init before bind",
			      rnn->name);
	if (rnn->cfg.embed)
		sp_fill_normal(ctx, rnn->E, rnn->cfg.in_dim * rnn->cfg.embed,
			       1.0f);
	for (size_t i = 0; i < rnn->L * rnn->ND; i++) {
		cell_ *c = &rnn->cells[i];
		if (rnn->cfg.init == SP_CELL_INIT_UNIFORM) {
			sp_fill_uniform(ctx, c->Wx, c->in * GH, -k, k);
			sp_fill_uniform(ctx, c->Wh, H * GH, -k, k);
			sp_fill_uniform(ctx, c->b, GH, -k, k);
			if (c->bh)
				sp_fill_uniform(ctx, c->bh, GH, -k, k);
		} else {
			int orth = rnn->cfg.init == SP_CELL_INIT_ORTHOGONAL;
			rc = init_blocks_(ctx, c->Wx, c->in, G, H, 0);
			if (!rc)
				rc = init_blocks_(ctx, c->Wh, H, G, H, orth);
			if (rc)
				return rc;
			sp_fill_const(c->b, GH, 0.0f);
			if (c->bh)
				sp_fill_const(c->bh, GH, 0.0f);
		}
		/* lstm: start with the forget gate open (Gers et al. 2000) */
		if (rnn->cfg.cell == SP_CELL_LSTM)
			sp_fill_const(c->b + H, H, rnn->cfg.forget_bias);
	}
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Element-wise gate math, one batch row at a time                     */
/* ------------------------------------------------------------------ */

/*
 * tanh for the gate loops.  glibc's tanhf goes through expm1f and took
 * about 30% of an LSTM training step; this one costs one expf (3x faster)
 * and stays within 2.6 ulp of the exact tanh over all floats:
 *   |x| < 0.25   the odd Taylor series to x⁹ (truncation < 3e-9 relative)
 *   otherwise    tanh|x| = (1 - e)/(1 + e), e = exp(-2|x|) <= 0.61, so
 *                1 - e does not cancel.
 * (A candidate for sp_act.h.)
 */
static inline float tanh_(float x)
{
	float ax = fabsf(x);
	if (ax < 0.25f) {
		float x2 = x * x;
		float p = -17.0f / 315 + x2 * (62.0f / 2835);
		return x + x * x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * p));
	} else {
		float e = expf(-2.0f * ax);
		return copysignf((1.0f - e) / (1.0f + e), x);
	}
}

/*
 * σ(x) = 1/(1 + e^-x) without a branch.  sp_sigmoidf splits by sign so
 * that expf never overflows; on gate pre-activations the sign is a coin
 * toss, and the mispredicted branch made it 4x slower (7 ns vs 1.7 ns).
 * Overflow is harmless here: e^-x = inf gives exactly 0 (the true value
 * is below 2e-38 there).  Max abs error 8e-8.  (A candidate for
 * sp_act.h, as is tanh_.)
 */
static inline float sigmoid_(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/*
 * The row functions below work on hidden units [u0, u1) of one batch row
 * (a thread's share); vectors are indexed by unit k, gate blocks of a
 * (GH) row are H apart.
 */

/* rnn forward: a (H) pre-activation -> h = φ(a), also stored back in a
 * and in the output row y. */
static void rnn_fwd_row_(float *a, float *h, float *y, size_t u0, size_t u1,
			 int relu)
{
	for (size_t k = u0; k < u1; k++) {
		if (relu)
			a[k] = a[k] > 0.0f ? a[k] : 0.0f;
		else
			a[k] = tanh_(a[k]);
		h[k] = y[k] = a[k];
	}
}

/* rnn backward: dA = ∂L/∂h ⊙ φ'(a), with φ' from h: 1-h² or [h > 0]. */
static void rnn_bwd_row_(const float *h, const float *dh, float *dA,
			 size_t u0, size_t u1, int relu)
{
	if (relu)
		for (size_t k = u0; k < u1; k++)
			dA[k] = h[k] > 0.0f ? dh[k] : 0.0f;
	else
		for (size_t k = u0; k < u1; k++)
			dA[k] = dh[k] * (1.0f - h[k] * h[k]);
}

/* lstm forward: a (4H) = [i|f|g|o] pre-activations, activated in place;
 * c = f⊙cp + i⊙g, h = o⊙tanh(c) (also into y).  tanh(c) is not kept:
 * backward computes it again from c, the same function of the same
 * value, which costs less than storing (T,B,H) more floats. */
static void lstm_fwd_row_(float *a, const float *cp, float *c, float *h,
			  float *y, size_t H, size_t u0, size_t u1)
{
	float *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
	for (size_t k = u0; k < u1; k++) {
		i[k] = sigmoid_(i[k]);
		f[k] = sigmoid_(f[k]);
		g[k] = tanh_(g[k]);
		o[k] = sigmoid_(o[k]);
		c[k] = f[k] * cp[k] + i[k] * g[k];
		h[k] = y[k] = o[k] * tanh_(c[k]);
	}
}

/*
 * lstm backward for one row.  In: activations a = [i|f|g|o], c(t-1) cp,
 * c(t) cc (tc = tanh(c(t))), dh = ∂L/∂h(t), dc = ∂L/∂c(t) from step t+1.
 * Out: dA (4H) = ∂L/∂[pre-activations], dc := ∂L/∂c(t-1).
 *   dc(t)  = dc + dh⊙o⊙(1 - tc²)
 *   di = dc(t)⊙g    df = dc(t)⊙c(t-1)    dg = dc(t)⊙i    do = dh⊙tc
 *   dc(t-1) = dc(t)⊙f;  then through σ' = s(1-s) and tanh' = 1-g².
 */
static void lstm_bwd_row_(const float *a, const float *cp, const float *cc,
			  const float *dh, float *dc, float *dA, size_t H,
			  size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k++) {
		/* all of a read before dA is written: dA may be a itself */
		float i = a[k], f = a[H + k], g = a[2 * H + k],
		      o = a[3 * H + k], tc = tanh_(cc[k]);
		float dct = dc[k] + dh[k] * o * (1.0f - tc * tc);
		dA[k] = dct * g * i * (1.0f - i);
		dA[H + k] = dct * cp[k] * f * (1.0f - f);
		dA[2 * H + k] = dct * i * (1.0f - g * g);
		dA[3 * H + k] = dh[k] * tc * o * (1.0f - o);
		dc[k] = dct * f;
	}
}

/* gru forward: a (3H) = [xr|xz|xn] (x side with bx), hg (3H) = [hr|hz|hn]
 * (h side with bh).  a becomes [r|z|n]; hn is kept for backward; h also
 * goes into y. */
static void gru_fwd_row_(float *a, const float *hg, const float *hp,
			 float *hn, float *h, float *y, size_t H, size_t u0,
			 size_t u1)
{
	float *r = a, *z = a + H, *n = a + 2 * H;
	for (size_t k = u0; k < u1; k++) {
		r[k] = sigmoid_(r[k] + hg[k]);
		z[k] = sigmoid_(z[k] + hg[H + k]);
		hn[k] = hg[2 * H + k];
		n[k] = tanh_(n[k] + r[k] * hn[k]);
		h[k] = y[k] = (1.0f - z[k]) * n[k] + z[k] * hp[k];
	}
}

/*
 * gru backward for one row.  In: a = [r|z|n], h(t-1) hp, hn, dh.
 *   dn = dh⊙(1-z)   dz = dh⊙(h(t-1) - n)   dan = dn⊙(1-n²)   dr = dan⊙hn
 * Out: dA (3H) x side [dr·σ' | dz·σ' | dan], dAh (3H) h side, the same
 * but dan⊙r for n, and dhp := the direct part of ∂L/∂h(t-1), dh⊙z (the
 * caller adds dAh·Whᵀ).
 */
static void gru_bwd_row_(const float *a, const float *hp, const float *hn,
			 const float *dh, float *dA, float *dAh, float *dhp,
			 size_t H, size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k++) {
		/* a and hn read before dA and dAh are written: they may be
		 * the same memory (see sp_rnn_sizes_of) */
		float r = a[k], z = a[H + k], n = a[2 * H + k];
		float dn = dh[k] * (1.0f - z);
		float dz = dh[k] * (hp[k] - n);
		float dan = dn * (1.0f - n * n);
		float dar = dan * hn[k] * r * (1.0f - r);
		float daz = dz * z * (1.0f - z);
		dA[k] = dAh[k] = dar;
		dA[H + k] = dAh[H + k] = daz;
		dA[2 * H + k] = dan;
		dAh[2 * H + k] = dan * r;
		dhp[k] = dh[k] * z;
	}
}

/* dh += dy over [u0, u1); returns Σ dh² there. */
static float dh_add_row_(float *dh, const float *dy, size_t u0, size_t u1)
{
	float sq = 0;
	for (size_t k = u0; k < u1; k++)
		dh[k] += dy[k];
	for (size_t k = u0; k < u1; k++)
		sq += dh[k] * dh[k];
	return sq;
}

#if SIMD_
/* ------------------------------------------------------------------ */
/* The same gate math, 16 units at a time (AVX-512)                    */
/* ------------------------------------------------------------------ */

/* The first n (<= 16) lanes. */
static inline __mmask16 lanes_(size_t n)
{
	return n >= VL_ ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

static inline AVX512_ __m512 ld_(const float *p, __mmask16 m)
{
	return _mm512_maskz_loadu_ps(m, p);
}

static inline AVX512_ void st_(float *p, __mmask16 m, __m512 v)
{
	_mm512_mask_storeu_ps(p, m, v);
}

static inline AVX512_ __m512 splat_(float v)
{
	return _mm512_set1_ps(v);
}

/*
 * e^x = 2^n · e^r, n = round(x·log2 e), r = x - n·ln 2 (in two parts,
 * Cody & Waite), e^r by Cephes' expf polynomial (about 1 ulp); scalef
 * takes 2^n to inf or 0 on its own.  x is clamped to ±100 first (NaN
 * stays NaN) so that r never becomes inf - inf.
 */
static inline AVX512_ __m512 exp_v_(__m512 x)
{
	__m512 n, r, p;
	x = _mm512_min_ps(splat_(100.0f), _mm512_max_ps(splat_(-100.0f), x));
	n = _mm512_roundscale_ps(x * 1.44269504088896341f,
				 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm512_fnmadd_ps(n, splat_(0.693359375f), x);
	r = _mm512_fnmadd_ps(n, splat_(-2.12194440e-4f), r);
	p = _mm512_fmadd_ps(splat_(1.9875691500e-4f), r,
			    splat_(1.3981999507e-3f));
	p = _mm512_fmadd_ps(p, r, splat_(8.3334519073e-3f));
	p = _mm512_fmadd_ps(p, r, splat_(4.1665795894e-2f));
	p = _mm512_fmadd_ps(p, r, splat_(1.6666665459e-1f));
	p = _mm512_fmadd_ps(p, r, splat_(5.0000001201e-1f));
	p = _mm512_fmadd_ps(p, r * r, r + 1.0f);
	return _mm512_scalef_ps(p, n);
}

/* As sigmoid_. */
static inline AVX512_ __m512 sigmoid_v_(__m512 x)
{
	return 1.0f / (1.0f + exp_v_(-x));
}

/* As tanh_: the Taylor series below 0.25, (1-e)/(1+e) above. */
static inline AVX512_ __m512 tanh_v_(__m512 x)
{
	__m512 ax = _mm512_abs_ps(x), x2 = x * x, e, big, small;
	__m512 p = -17.0f / 315 + x2 * (62.0f / 2835);
	small = x + x * x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * p));
	e = exp_v_(-2.0f * ax);
	big = (1.0f - e) / (1.0f + e);
	big = _mm512_castsi512_ps(_mm512_or_si512(
		_mm512_castps_si512(big),
		_mm512_and_si512(_mm512_castps_si512(x),
				 _mm512_set1_epi32((int)0x80000000u))));
	return _mm512_mask_blend_ps(
		_mm512_cmp_ps_mask(ax, splat_(0.25f), _CMP_LT_OQ), big, small);
}

static AVX512_ void rnn_fwd_row_v_(float *a, float *h, float *y, size_t u0,
				   size_t u1, int relu)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 v = ld_(a + k, m);
		v = relu ? _mm512_max_ps(v, _mm512_setzero_ps()) : tanh_v_(v);
		st_(a + k, m, v);
		st_(h + k, m, v);
		st_(y + k, m, v);
	}
}

static AVX512_ void rnn_bwd_row_v_(const float *h, const float *dh,
				   float *dA, size_t u0, size_t u1, int relu)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 hv = ld_(h + k, m), d = ld_(dh + k, m);
		if (relu)
			d = _mm512_maskz_mov_ps(
				_mm512_cmp_ps_mask(hv, _mm512_setzero_ps(),
						   _CMP_GT_OQ), d);
		else
			d = d * (1.0f - hv * hv);
		st_(dA + k, m, d);
	}
}

static AVX512_ void lstm_fwd_row_v_(float *a, const float *cp, float *c,
				    float *h, float *y, size_t H, size_t u0,
				    size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 i = sigmoid_v_(ld_(a + k, m));
		__m512 f = sigmoid_v_(ld_(a + H + k, m));
		__m512 g = tanh_v_(ld_(a + 2 * H + k, m));
		__m512 o = sigmoid_v_(ld_(a + 3 * H + k, m));
		__m512 cv = f * ld_(cp + k, m) + i * g;
		__m512 t = tanh_v_(cv);
		st_(a + k, m, i);
		st_(a + H + k, m, f);
		st_(a + 2 * H + k, m, g);
		st_(a + 3 * H + k, m, o);
		st_(c + k, m, cv);
		st_(h + k, m, o * t);
		st_(y + k, m, o * t);
	}
}

static AVX512_ void lstm_bwd_row_v_(const float *a, const float *cp,
				    const float *cc, const float *dh,
				    float *dc, float *dA, size_t H, size_t u0,
				    size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 i = ld_(a + k, m), f = ld_(a + H + k, m);
		__m512 g = ld_(a + 2 * H + k, m), o = ld_(a + 3 * H + k, m);
		__m512 t = tanh_v_(ld_(cc + k, m)), d = ld_(dh + k, m);
		__m512 dct = ld_(dc + k, m) + d * o * (1.0f - t * t);
		st_(dA + k, m, dct * g * i * (1.0f - i));
		st_(dA + H + k, m, dct * ld_(cp + k, m) * f * (1.0f - f));
		st_(dA + 2 * H + k, m, dct * i * (1.0f - g * g));
		st_(dA + 3 * H + k, m, d * t * o * (1.0f - o));
		st_(dc + k, m, dct * f);
	}
}

static AVX512_ void gru_fwd_row_v_(float *a, const float *hg,
				   const float *hp, float *hn, float *h,
				   float *y, size_t H, size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 r = sigmoid_v_(ld_(a + k, m) + ld_(hg + k, m));
		__m512 z = sigmoid_v_(ld_(a + H + k, m) + ld_(hg + H + k, m));
		__m512 hnv = ld_(hg + 2 * H + k, m);
		__m512 n = tanh_v_(ld_(a + 2 * H + k, m) + r * hnv);
		st_(a + k, m, r);
		st_(a + H + k, m, z);
		st_(a + 2 * H + k, m, n);
		__m512 hv = (1.0f - z) * n + z * ld_(hp + k, m);
		st_(hn + k, m, hnv);
		st_(h + k, m, hv);
		st_(y + k, m, hv);
	}
}

static AVX512_ void gru_bwd_row_v_(const float *a, const float *hp,
				   const float *hn, const float *dh,
				   float *dA, float *dAh, float *dhp,
				   size_t H, size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 r = ld_(a + k, m), z = ld_(a + H + k, m);
		__m512 n = ld_(a + 2 * H + k, m), d = ld_(dh + k, m);
		__m512 dn = d * (1.0f - z);
		__m512 dz = d * (ld_(hp + k, m) - n);
		__m512 dan = dn * (1.0f - n * n);
		__m512 dar = dan * ld_(hn + k, m) * r * (1.0f - r);
		__m512 daz = dz * z * (1.0f - z);
		st_(dA + k, m, dar);
		st_(dAh + k, m, dar);
		st_(dA + H + k, m, daz);
		st_(dAh + H + k, m, daz);
		st_(dA + 2 * H + k, m, dan);
		st_(dAh + 2 * H + k, m, dan * r);
		st_(dhp + k, m, d * z);
	}
}

static AVX512_ float dh_add_row_v_(float *dh, const float *dy, size_t u0,
				   size_t u1)
{
	__m512 sq = _mm512_setzero_ps();
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 d = ld_(dh + k, m) + ld_(dy + k, m);
		st_(dh + k, m, d);
		sq = _mm512_fmadd_ps(d, d, sq);
	}
	return _mm512_reduce_add_ps(sq);
}
#endif /* SIMD_ */

static void pick_rows_(rowfns_ *out, int simd)
{
	static const rowfns_ portable = {
		rnn_fwd_row_,  rnn_bwd_row_, lstm_fwd_row_, lstm_bwd_row_,
		gru_fwd_row_,  gru_bwd_row_, dh_add_row_};
#if SIMD_
	static const rowfns_ avx512 = {
		rnn_fwd_row_v_, rnn_bwd_row_v_, lstm_fwd_row_v_,
		lstm_bwd_row_v_, gru_fwd_row_v_, gru_bwd_row_v_,
		dh_add_row_v_};
	*out = simd ? avx512 : portable;
#else
	(void)simd;
	*out = portable;
#endif
}


/* ------------------------------------------------------------------ */
/* The recurrent products: packed weights and the AVX-512 micro-kernel */
/* ------------------------------------------------------------------ */

/*
 * Column panels of W (K, G*H) for C += A·W, blocks j0..j1-1 (P starts
 * with block j0).  Block j covers hidden units [j*U, j*U + U) of every
 * gate, U = UV*16, and holds for each k its G*UV vectors in a row:
 *   P[j][k][g*UV + v][l] = W[k][g*H + j*U + v*16 + l]   (0 past H)
 * so that the kernel reads one contiguous stream per block.
 */
static void pack_cols_(const float *W, size_t K, size_t G, size_t H,
		       size_t UV, size_t j0, size_t j1, float *P)
{
	size_t U = UV * VL_, NV = G * UV;
	for (size_t j = j0; j < j1; j++) {
		float *pj = P + (j - j0) * K * NV * VL_;
		for (size_t k = 0; k < K; k++) {
			for (size_t g = 0; g < G; g++) {
				for (size_t v = 0; v < UV; v++) {
					float *dst = pj + (k * NV + g * UV + v) * VL_;
					size_t u = j * U + v * VL_;
					size_t n = u >= H ? 0 : H - u < VL_ ? H - u : VL_;
					const float *src = W + k * G * H + g * H + u;
					if (n == VL_) { /* the usual case: inlined */
						memcpy(dst, src, VL_ * sizeof(float));
						continue;
					}
					if (n)
						memcpy(dst, src, n * sizeof(float));
					memset(dst + n, 0, (VL_ - n) * sizeof(float));
				}
			}
		}
	}
}

/*
 * Row panels of W (N, K) for C += A·Wᵀ, blocks j0..j1-1 (P starts with
 * block j0).  Block j covers rows [j*32, j*32 + 32) of W (columns of C):
 *   P[j][k][l] = W[j*32 + l][k]   (0 past N)
 */
static void pack_rows_(const float *W, size_t N, size_t K, size_t j0,
		       size_t j1, float *P)
{
	for (size_t j = j0; j < j1; j++) {
		float *pj = P + (j - j0) * K * BWD_UNITS_;
		for (size_t l = 0; l < BWD_UNITS_; l++) {
			size_t u = j * BWD_UNITS_ + l;
			for (size_t k = 0; k < K; k++)
				pj[k * BWD_UNITS_ + l] = u < N ? W[u * K + k] : 0.0f;
		}
	}
}

/* One column block of a product C = Cin + A·P with a few rows. */
typedef struct kblock_ {
	const float *P;     /* (K, NV*16) panel */
	size_t K, NV;       /* NV <= 4 vectors per row */
	size_t off[4];      /* where vector v starts in a row of C */
	uint16_t m[4];      /* its lanes that exist */
} kblock_;

/* The NV = G*UV vectors of block j of a row of C (G gates of H units,
 * U = UV*16 units a block): their offsets and lanes. */
static size_t block_vecs_(size_t G, size_t H, size_t UV, size_t j,
			  size_t *off, uint16_t *m)
{
	for (size_t g = 0; g < G; g++) {
		for (size_t v = 0; v < UV; v++) {
			size_t u = (j * UV + v) * VL_, i = g * UV + v;
			size_t n = u >= H ? 0 : H - u < VL_ ? H - u : VL_;
			off[i] = n ? g * H + u : 0;
			m[i] = (uint16_t)((1u << n) - 1);
		}
	}
	return G * UV;
}

#if SIMD_
/*
 * The micro-kernel: rows 0..MR-1 of the block, C = Cin + A(MR, K)·P with
 * A(i,k) = A[i*sa + k*sk] (sk = 1 for A, sa = 1 for a transposed one).
 * The MR*NV accumulators stay in registers over all of K, so each output
 * is one FMA chain in k order: the result does not depend on how rows
 * and blocks are shared among threads.  Cin NULL starts from 0; ldin 0
 * reads the same row (a bias) for every row.  MR and NV are constants
 * at every call, so the loops unroll into straight register code.
 */
static inline __attribute__((always_inline)) AVX512_ void
mk_(const int MR, const int NV, const kblock_ *kb, const float *A,
    size_t sa, size_t sk, const float *Cin, size_t ldin, float *Cout,
    size_t ldout)
{
	__m512 acc[8][4], w[4];
	const float *P = kb->P;
	_Pragma("GCC unroll 8")
	for (int i = 0; i < MR; i++) {
		_Pragma("GCC unroll 4")
		for (int v = 0; v < NV; v++)
			acc[i][v] = Cin ? ld_(Cin + i * ldin + kb->off[v], kb->m[v])
					: _mm512_setzero_ps();
	}
	for (size_t k = 0; k < kb->K; k++, P += NV * VL_, A += sk) {
		_Pragma("GCC unroll 4")
		for (int v = 0; v < NV; v++)
			w[v] = _mm512_load_ps(P + v * VL_);
		_Pragma("GCC unroll 8")
		for (int i = 0; i < MR; i++) {
			__m512 x = _mm512_set1_ps(A[i * sa]);
			_Pragma("GCC unroll 4")
			for (int v = 0; v < NV; v++)
				acc[i][v] = _mm512_fmadd_ps(x, w[v], acc[i][v]);
		}
	}
	_Pragma("GCC unroll 8")
	for (int i = 0; i < MR; i++) {
		_Pragma("GCC unroll 4")
		for (int v = 0; v < NV; v++)
			st_(Cout + i * ldout + kb->off[v], kb->m[v], acc[i][v]);
	}
}

/* C (rows, block) = Cin + A (rows, K)·P, A(i,k) = A[i*sa + k*sk]: tiles
 * of 4 rows (NV = 4) or 8 (NV = 3 or 2), then single rows. */
static AVX512_ void kprod_(const kblock_ *kb, size_t rows, const float *A,
			   size_t sa, size_t sk, const float *Cin, size_t ldin,
			   float *Cout, size_t ldout)
{
	size_t i = 0;
#define MK_(MR, NV) mk_(MR, NV, kb, A + i * sa, sa, sk, \
			Cin ? Cin + i * ldin : NULL, ldin, Cout + i * ldout, ldout)
	switch (kb->NV) {
	case 4:
		for (; i + 4 <= rows; i += 4)
			MK_(4, 4);
		for (; i < rows; i++)
			MK_(1, 4);
		break;
	case 3:
		for (; i + 8 <= rows; i += 8)
			MK_(8, 3);
		for (; i < rows; i++)
			MK_(1, 3);
		break;
	default: /* 2: the rnn's blocks, and all of backward's */
		for (; i + 8 <= rows; i += 8)
			MK_(8, 2);
		for (; i < rows; i++)
			MK_(1, 2);
		break;
	}
#undef MK_
}
#endif /* SIMD_ */

/* ------------------------------------------------------------------ */
/* One layer, one direction, all steps                                 */
/* ------------------------------------------------------------------ */

/* What the threads running one recurrence share. */
typedef struct recur_ {
	sp_rnn *r;
	cell_ *c;
	size_t T, B;
	const uint8_t *mask;   /* (T,B) */
	float *y;              /* forward: (T*B, ldy), h in columns [0,H) */
	const float *dy;       /* backward: (T*B, ldy) ∂L/∂y */
	size_t ldy;
	float *dh0, *dc0;      /* backward: (B,H) ∂L/∂(initial state), or NULL */
	const float *xin;      /* (T*B, in) the layer's input, or NULL: ids */
	const int32_t *ids;    /* (T*B) */
	float *dxin;           /* backward: (T*B, in) dG·Wxᵀ, or NULL */
	float beta;            /* 0: dxin written, 1: added */
	team_ *tm;             /* the threads on this cell */
	int defer_dx;          /* dxin after both directions (paired) */
} recur_;

/* Thread p's hidden units [*u0, *u1) in blocks of U, and the width it
 * works on at a time: a kernel block, or the whole share at once. */
static size_t units_of_(const sp_rnn *r, const team_ *tm, size_t U,
			size_t p, size_t *u0, size_t *u1)
{
	size_t j0, j1;
	share_((r->H + U - 1) / U, tm->n, p - tm->p0, &j0, &j1);
	*u0 = j0 * U < r->H ? j0 * U : r->H;
	*u1 = j1 * U < r->H ? j1 * U : r->H;
	return r->simd ? U : *u1 > *u0 ? *u1 - *u0 : 1;
}

/*
 * gates(t) (B,GH) += h(t-1)·Wh for hidden units [u0, u1) of every gate
 * (gru: hg (B,GH) = h(t-1)·Wh + bh there).  With the kernels [u0, u1) is
 * one column block; else one sgemm, or one per gate for a share.
 */
static void fwd_product_(const sp_rnn *r, const cell_ *c, size_t B,
			 const float *hp, float *a, float *hg, size_t u0,
			 size_t u1)
{
	const size_t H = r->H, G = r->G, GH = G * H, n = u1 - u0;
	const int gru = r->cfg.cell == SP_CELL_GRU;
	float *C = gru ? hg : a;
#if SIMD_
	if (r->simd) {
		size_t U = fwd_units_(G), j = u0 / U;
		kblock_ kb;
		kb.K = H;
		kb.NV = block_vecs_(G, H, U / VL_, j, kb.off, kb.m);
		kb.P = c->whp + j * H * kb.NV * VL_;
		kprod_(&kb, B, hp, H, 1, gru ? c->bh : C, gru ? 0 : GH, C, GH);
		return;
	}
#endif
	if (gru)
		for (size_t b = 0; b < B; b++)
			for (size_t g = 0; g < G; g++)
				memcpy(hg + b * GH + g * H + u0, c->bh + g * H + u0,
				       n * sizeof(float));
	if (n == H) {
		sp_gemm(0, 0, B, GH, H, 1.0f, hp, H, c->Wh, GH, 1.0f, C, GH);
		return;
	}
	for (size_t g = 0; g < G; g++)
		sp_gemm(0, 0, B, n, H, 1.0f, hp, H, c->Wh + g * H + u0, GH,
			1.0f, C + g * H + u0, GH);
}

/* The gate math of step t for hidden units [u0, u1) of every row. */
static void fwd_rows_(const recur_ *job, size_t t, size_t u0, size_t u1)
{
	const sp_rnn *r = job->r;
	const cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, n = u1 - u0;
	const sp_cell_kind kind = r->cfg.cell;
	const size_t prev = c->reverse ? t + 1 : t, cur = c->reverse ? t : t + 1;
	const float *hp = c->h + prev * B * H;
	float *hc = c->h + cur * B * H, *a = c->gates + t * B * GH;

	for (size_t b = 0; b < B; b++) {
		size_t row = t * B + b;
		float *ab = a + b * GH, *hb = hc + b * H;
		float *yr = job->y + row * job->ldy;
		if (!job->mask[row]) {
			/* padding: carry the state, output 0 */
			memcpy(hb + u0, hp + b * H + u0, n * sizeof(float));
			if (kind == SP_CELL_LSTM) {
				memcpy(c->c + cur * B * H + b * H + u0,
				       c->c + prev * B * H + b * H + u0,
				       n * sizeof(float));
			}
			if (kind == SP_CELL_GRU)
				memset(c->hn + row * GH + u0, 0,
				       n * sizeof(float));
			for (size_t g = 0; g < r->G; g++)
				memset(ab + g * H + u0, 0, n * sizeof(float));
			memset(yr + u0, 0, n * sizeof(float));
			continue;
		}
		switch (kind) {
		case SP_CELL_RNN_TANH:
		case SP_CELL_RNN_RELU:
			r->rows.rnn_fwd(ab, hb, yr, u0, u1,
					kind == SP_CELL_RNN_RELU);
			break;
		case SP_CELL_LSTM:
			r->rows.lstm_fwd(ab, c->c + prev * B * H + b * H,
					 c->c + cur * B * H + b * H, hb, yr, H,
					 u0, u1);
			break;
		case SP_CELL_GRU:
			r->rows.gru_fwd(ab, c->s_hg + b * GH, hp + b * H,
					c->hn + row * GH, hb, yr, H, u0, u1);
			break;
		}
	}
}

/* gates (M,GH) = b + row ids[i] of Wx (padded rows: b) over hidden units
 * [u0, u1) of every gate: one-hot x(t)·Wx is a row copy. */
static void gather_(const sp_rnn *r, cell_ *c, size_t M, const int32_t *ids,
		    const uint8_t *mask, size_t u0, size_t u1)
{
	const size_t H = r->H, GH = r->G * H;
	for (size_t i = 0; i < M; i++) {
		const float *w = c->Wx + (size_t)ids[i] * GH;
		float *g = c->gates + i * GH;
		for (size_t q = 0; q < r->G; q++) {
			for (size_t k = q * H + u0; k < q * H + u1; k++)
				g[k] = mask[i] ? c->b[k] + w[k] : c->b[k];
		}
	}
}

/* out (GH) += Σ over the M rows of A (M,GH), hidden units [u0, u1) of
 * every gate, in row order (so however the units are shared). */
static void colsum_(const float *A, size_t M, size_t G, size_t H, size_t u0,
		    size_t u1, float *out)
{
	for (size_t i = 0; i < M; i++)
		for (size_t q = 0; q < G; q++)
			for (size_t k = q * H + u0; k < q * H + u1; k++)
				out[k] += A[i * G * H + k];
}

/* The one-hot input's dWx: dG(t) scatter-added into row ids[t], hidden
 * units [u0, u1) of every gate. */
static void scatter_(const sp_rnn *r, cell_ *c, size_t M, const int32_t *ids,
		     const uint8_t *mask, size_t u0, size_t u1)
{
	const size_t H = r->H, GH = r->G * H;
	for (size_t i = 0; i < M; i++) {
		const float *g = c->dgates + i * GH;
		float *dw = c->dWx + (size_t)ids[i] * GH;
		if (!mask[i])
			continue;
		for (size_t q = 0; q < r->G; q++)
			for (size_t k = q * H + u0; k < q * H + u1; k++)
				dw[k] += g[k];
	}
}

#if SIMD_
/* The kernels' part of forward before the steps, on thread p's hidden
 * units [ua, ub) (whole column blocks): Wh (and Wx) packed, then
 * gates = b + X·Wx (or the one-hot row copy) for every step. */
static void fwd_prepare_(const recur_ *job, size_t ua, size_t ub)
{
	const sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t H = r->H, G = r->G, GH = G * H, M = job->T * job->B;
	const size_t U = fwd_units_(G), j0 = ua / U, j1 = (ub + U - 1) / U;

	pack_cols_(c->Wh, H, G, H, U / VL_, j0, j1, c->whp + j0 * H * G * U);
	if (!job->xin) {
		gather_(r, c, M, job->ids, job->mask, ua, ub);
		return;
	}
	pack_cols_(c->Wx, c->in, G, H, U / VL_, j0, j1,
		   c->wxp + j0 * c->in * G * U);
	for (size_t j = j0; j < j1; j++) {
		kblock_ kb;
		kb.K = c->in;
		kb.NV = block_vecs_(G, H, U / VL_, j, kb.off, kb.m);
		kb.P = c->wxp + j * c->in * G * U;
		kprod_(&kb, M, job->xin, c->in, 1, c->b, 0, c->gates, GH);
	}
}

static void bwd_dx_(const recur_ *job, team_ *tm, size_t p);

/*
 * The kernels' part of backward after the steps, on thread p of its team:
 * for its column blocks, dWh += Hprevᵀ·dGh and dWx += Xᵀ·dG, db += 1ᵀ·dG
 * (dbh += 1ᵀ·dGh: an FMA by 1 is an exact add, so these are the sums in
 * row order); then dX = dG·Wxᵀ (bwd_dx_) unless the layer defers it.
 *
 * The M = T*B rows are taken KC_ at a time.  The team first copies the
 * chunk of Hprev and X transposed into c->at (each thread a share of its
 * rows), so that the kernel reads every row of Aᵀ as a sequential stream;
 * read in place, Aᵀ's rows are columns of A, one cache line per k at a
 * stride of H floats, which the prefetchers follow badly: the products
 * ran at 115-130 GFLOP/s that way, 190 with the copy (H = 512, one core).
 * Chunks outside, column blocks inside, so the copy is read by every
 * block while it is in cache.  Each dW element is still one FMA chain in
 * row order, chunk after chunk: the result is the same as without copy
 * and for every split among threads.
 */
static void bwd_weights_(const recur_ *job, size_t p)
{
	sp_rnn *r = job->r;
	cell_ *c = job->c;
	team_ *tm = job->tm;
	const size_t H = r->H, G = r->G, GH = G * H, M = job->T * job->B;
	const size_t U = fwd_units_(G), in = job->xin ? c->in : 0;
	const float *hprev = c->h + (c->reverse ? job->B * H : 0);
	const float *at_x = c->at + H * AT_LD_;
	static const float one_ = 1.0f;
	float *dgp = r->dgp + p * KC_ * 4 * VL_;
	size_t ua, ub, i0, i1;

	units_of_(r, tm, U, p, &ua, &ub);
	share_(H + in, tm->n, p - tm->p0, &i0, &i1);
	for (size_t k0 = 0; k0 < M; k0 += KC_) {
		const size_t K = M - k0 < KC_ ? M - k0 : KC_;
		/* at (H + in, K) = [Hprev | X] rows k0.. transposed; this
		 * thread's rows i0..i1 of it */
		for (size_t k = 0; k < K; k++) {
			const float *hk = hprev + (k0 + k) * H;
			const float *xk = in ? job->xin + (k0 + k) * in : NULL;
			size_t ih = i1 < H ? i1 : H;
			for (size_t i = i0; i < ih; i++)
				c->at[i * AT_LD_ + k] = hk[i];
			for (size_t i = i0 > H ? i0 : H; i < i1; i++)
				c->at[i * AT_LD_ + k] = xk[i - H];
		}
		team_barrier_(tm);
		for (size_t j = ua / U; j < (ub + U - 1) / U; j++) {
			kblock_ kb;
			kb.NV = block_vecs_(G, H, U / VL_, j, kb.off, kb.m);
			kb.P = dgp;
			kb.K = K;
			pack_cols_(c->dgates_h + k0 * GH, K, G, H, U / VL_, j,
				   j + 1, dgp);
			kprod_(&kb, H, c->at, AT_LD_, 1, c->dWh, GH, c->dWh,
			       GH);
			if (c->dgates_h != c->dgates) {
				kprod_(&kb, 1, &one_, 0, 0, c->dbh, 0, c->dbh, 0);
				pack_cols_(c->dgates + k0 * GH, K, G, H, U / VL_,
					   j, j + 1, dgp);
			}
			kprod_(&kb, 1, &one_, 0, 0, c->db, 0, c->db, 0);
			if (in)
				kprod_(&kb, in, at_x, AT_LD_, 1, c->dWx, GH,
				       c->dWx, GH);
		}
		/* the next chunk's copy overwrites this one */
		team_barrier_(tm);
	}
	if (!job->xin)
		scatter_(r, c, M, job->ids, job->mask, ua, ub);
	if (job->dxin && !job->defer_dx)
		bwd_dx_(job, job->tm, p);
}

/* dX = dG·Wxᵀ on thread p of team tm: Wx packed by rows, each thread its
 * share, then once all are there, each thread its share of the rows.
 * The rows a thread gets depend only on the team's size and its place
 * in it, so the two directions' products (the second adding to the
 * first) meet in the same thread for a row and need no barrier between
 * them. */
static void bwd_dx_(const recur_ *job, team_ *tm, size_t p)
{
	const sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t GH = r->G * r->H, M = job->T * job->B, in = c->in;
	size_t j0, j1, m0, m1;

	share_((in + BWD_UNITS_ - 1) / BWD_UNITS_, tm->n, p - tm->p0, &j0, &j1);
	pack_rows_(c->Wx, in, GH, j0, j1, c->wxp + j0 * GH * BWD_UNITS_);
	team_barrier_(tm);
	share_(M, tm->n, p - tm->p0, &m0, &m1);
	for (size_t j = 0; j * BWD_UNITS_ < in && m0 < m1; j++) {
		kblock_ kb;
		kb.K = GH;
		kb.NV = block_vecs_(1, in, BWD_UNITS_ / VL_, j, kb.off, kb.m);
		kb.P = c->wxp + j * GH * BWD_UNITS_;
		kprod_(&kb, m1 - m0, c->dgates + m0 * GH, GH, 1,
		       job->beta != 0.0f ? job->dxin + m0 * in : NULL, in,
		       job->dxin + m0 * in, in);
	}
}
#endif /* SIMD_ */

/* Forward through time on thread p: its share of the hidden units at
 * every step, then the barrier (step t+1 needs all of h(t)). */
static void recur_fwd_(void *arg, size_t p)
{
	const recur_ *job = arg;
	sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t H = r->H, G = r->G, GH = G * H, T = job->T, B = job->B;
	const size_t U = fwd_units_(G);
	size_t ua, ub, width = units_of_(r, job->tm, U, p, &ua, &ub);

#if SIMD_
	if (r->simd && ua < ub)
		fwd_prepare_(job, ua, ub);
#endif
	for (size_t s = 0; s < T; s++) {
		size_t t = c->reverse ? T - 1 - s : s;
		size_t prev = c->reverse ? t + 1 : t;
		for (size_t u0 = ua; u0 < ub; u0 += width) {
			size_t u1 = u0 + width < ub ? u0 + width : ub;
			fwd_product_(r, c, B, c->h + prev * B * H,
				     c->gates + t * B * GH, c->s_hg, u0, u1);
			fwd_rows_(job, t, u0, u1);
		}
		team_barrier_(job->tm);
	}
}

/*
 * dh (B,H) = dhp + dA·Whᵀ for hidden units [u0, u1): ∂L/∂h(t) but for the
 * output's part, from the direct part dhp and dA = dGh(t+1) (B,GH); just
 * dhp when dA is NULL (the first step back).
 */
static void bwd_product_(const sp_rnn *r, const cell_ *c, size_t B,
			 const float *dA, const float *dhp, float *dh,
			 size_t u0, size_t u1)
{
	const size_t H = r->H, GH = r->G * H, n = u1 - u0;
#if SIMD_
	if (r->simd && dA) {
		size_t j = u0 / BWD_UNITS_;
		kblock_ kb;
		kb.K = GH;
		kb.NV = block_vecs_(1, H, BWD_UNITS_ / VL_, j, kb.off, kb.m);
		kb.P = c->whp + j * GH * BWD_UNITS_;
		kprod_(&kb, B, dA, GH, 1, dhp, H, dh, H);
		return;
	}
#endif
	for (size_t b = 0; b < B; b++)
		memcpy(dh + b * H + u0, dhp + b * H + u0, n * sizeof(float));
	if (dA)
		sp_gemm(0, 1, B, n, GH, 1.0f, dA, GH, c->Wh + u0 * GH, GH, 1.0f,
			dh + u0, H);
}

/*
 * Step t back for hidden units [u0, u1) of every row: adds ∂L/∂y(t) to dh,
 * then the gate gradients dG(t) (and dc := ∂L/∂c(t-1)) from it, and the
 * direct part of ∂L/∂h(t-1) into dhp.  Returns Σ ||∂L/∂h(t)||² over the
 * real rows, these units.
 */
static double bwd_rows_(const recur_ *job, size_t t, float *dh, float *dhp,
			size_t u0, size_t u1)
{
	const sp_rnn *r = job->r;
	const cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, n = u1 - u0;
	const sp_cell_kind kind = r->cfg.cell;
	const size_t prev = c->reverse ? t + 1 : t, cur = c->reverse ? t : t + 1;
	const float *hp = c->h + prev * B * H, *a = c->gates + t * B * GH;
	float *dA = c->dgates + t * B * GH, *dAh = c->dgates_h + t * B * GH;
	double ss = 0;

	for (size_t b = 0; b < B; b++) {
		size_t row = t * B + b;
		float *dhb = dh + b * H, *dhpb = dhp + b * H;
		if (!job->mask[row]) {
			/* padding: no gate gradient, ∂L/∂h passes */
			for (size_t g = 0; g < r->G; g++) {
				memset(dA + b * GH + g * H + u0, 0,
				       n * sizeof(float));
				if (dAh != dA)
					memset(dAh + b * GH + g * H + u0, 0,
					       n * sizeof(float));
			}
			memcpy(dhpb + u0, dhb + u0, n * sizeof(float));
			continue;
		}
		/* ∂L/∂h(t) = from the output + from step t+1 */
		ss += r->rows.dh_add(dhb, job->dy + row * job->ldy, u0, u1);
		switch (kind) {
		case SP_CELL_RNN_TANH:
		case SP_CELL_RNN_RELU:
			r->rows.rnn_bwd(a + b * GH, dhb, dA + b * GH, u0, u1,
					kind == SP_CELL_RNN_RELU);
			memset(dhpb + u0, 0, n * sizeof(float));
			break;
		case SP_CELL_LSTM:
			r->rows.lstm_bwd(a + b * GH, c->c + prev * B * H + b * H,
					 c->c + cur * B * H + b * H, dhb,
					 c->s_dc + b * H,
					 dA + b * GH, H, u0, u1);
			memset(dhpb + u0, 0, n * sizeof(float));
			break;
		case SP_CELL_GRU:
			r->rows.gru_bwd(a + b * GH, hp + b * H, c->hn + row * GH,
					dhb, dA + b * GH, dAh + b * GH, dhpb, H,
					u0, u1);
			break;
		}
	}
	return ss;
}

/* Backward through time on thread p, its share of the hidden units at
 * every step, then the barrier (step t-1 needs all of dGh(t)). */
static void recur_bwd_(void *arg, size_t p)
{
	const recur_ *job = arg;
	sp_rnn *r = job->r;
	cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, T = job->T, B = job->B;
	float *dh = c->s_dh, *dhp = c->s_dhp;
	const float *dA = NULL; /* dGh of the step before (t+1) */
	size_t ua, ub, width = units_of_(r, job->tm, BWD_UNITS_, p, &ua, &ub);

	if (r->simd && ua < ub)
		pack_rows_(c->Wh, H, GH, ua / BWD_UNITS_,
			   (ub + BWD_UNITS_ - 1) / BWD_UNITS_,
			   c->whp + ua * GH);
	/* ∂L/∂h and ∂L/∂c flowing back from beyond the last step: none */
	for (size_t b = 0; b < B; b++) {
		memset(dhp + b * H + ua, 0, (ub - ua) * sizeof(float));
		memset(c->s_dc + b * H + ua, 0, (ub - ua) * sizeof(float));
	}
	for (size_t s = 0; s < T; s++) {
		size_t t = c->reverse ? s : T - 1 - s;
		double ss = 0;
		for (size_t u0 = ua; u0 < ub; u0 += width) {
			size_t u1 = u0 + width < ub ? u0 + width : ub;
			bwd_product_(r, c, B, dA, dhp, dh, u0, u1);
			ss += bwd_rows_(job, t, dh, dhp, u0, u1);
		}
		c->part[p * T + t] = ss;
		dA = c->dgates_h + t * B * GH;
		team_barrier_(job->tm);
	}
	for (size_t u0 = ua; u0 < ub && job->dh0; u0 += width)
		bwd_product_(r, c, B, dA, dhp, job->dh0, u0,
			     u0 + width < ub ? u0 + width : ub);
	for (size_t b = 0; b < B && job->dc0; b++)
		memcpy(job->dc0 + b * H + ua, c->s_dc + b * H + ua,
		       (ub - ua) * sizeof(float));
#if SIMD_
	if (r->simd)
		bwd_weights_(job, p);
#endif
}

/*
 * Forward, before the steps.  The job names the cell, the batch and the
 * layer input: xin (T*B, in), or NULL with ids (T*B) when the input is
 * one-hot; y (T*B, ldy) receives h in columns [0,H) of each row; h0, c0
 * (B,H) are the initial state or NULL for zero.
 */
static void fwd_begin_(sp_rnn *r, const recur_ *job, const float *h0,
		       const float *c0)
{
	cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, B = job->B, M = job->T * B;
	float *hinit = c->h + (c->reverse ? M * H : 0);

	/* 1. The input projection of every step in one product:
	 *    gates (M,GH) = xin (M,in) · Wx (in,GH) + b, or the one-hot row
	 *    copy.  (The kernels do this in the job, each thread its own
	 *    columns.) */
	if (!r->simd && job->xin) {
		for (size_t i = 0; i < M; i++)
			memcpy(c->gates + i * GH, c->b, GH * sizeof(float));
		sp_gemm(0, 0, M, GH, c->in, 1.0f, job->xin, c->in, c->Wx, GH,
			1.0f, c->gates, GH);
	} else if (!r->simd) {
		gather_(r, c, M, job->ids, job->mask, 0, H);
	}

	/* 2. The initial state: h[0] forward, h[T] reverse. */
	if (h0)
		memcpy(hinit, h0, B * H * sizeof(float));
	else
		memset(hinit, 0, B * H * sizeof(float));
	if (r->cfg.cell == SP_CELL_LSTM) {
		float *cinit = c->c + (c->reverse ? M * H : 0);
		if (c0)
			memcpy(cinit, c0, B * H * sizeof(float));
		else
			memset(cinit, 0, B * H * sizeof(float));
	}
}

/* The jobs of a paired layer: thread p works on the direction whose
 * team it is in. */
static void pair_fwd_(void *arg, size_t p)
{
	recur_ *jobs = arg;
	recur_fwd_(&jobs[p >= jobs[1].tm->p0], p);
}

static void pair_bwd_(void *arg, size_t p)
{
	recur_ *jobs = arg;
	recur_bwd_(&jobs[p >= jobs[1].tm->p0], p);
}

#if SIMD_
/* dX of a paired layer, once both directions are done: the forward
 * direction's product written, the reverse one's added, by all threads. */
static void pair_dx_(void *arg, size_t p)
{
	recur_ *jobs = arg;
	for (size_t d = 0; d < 2; d++)
		bwd_dx_(&jobs[d], &jobs[0].r->whole, p);
}
#endif

/* The layer's forward: 3. the recurrence, one product per step, then the
 * gate math, the hidden units shared among the threads (or the teams). */
static void layer_forward_(sp_rnn *r, recur_ *jobs)
{
	if (r->paired) {
		run_(&r->pool, pair_fwd_, jobs);
		return;
	}
	for (size_t d = 0; d < r->ND; d++)
		run_(&r->pool, recur_fwd_, &jobs[d]);
}

/*
 * Backward, after the steps: ||∂L/∂h(t)|| from the team's parts, and on
 * the portable path the weight gradients and dX.  dy (T*B, ldy): ∂L/∂y in
 * columns [0,H); xin/ids as in forward.  Accumulates dWx, dWh, db (dbh);
 * dxin (T*B, in) = dG·Wxᵀ, written (beta 0) or added (beta 1), when not
 * NULL.
 */
static void bwd_end_(sp_rnn *r, const recur_ *job)
{
	cell_ *c = job->c;
	const size_t H = r->H, GH = r->G * H, T = job->T, M = T * job->B;
	const team_ *tm = job->tm;

	for (size_t t = 0; t < T; t++) {
		double ss = 0;
		for (size_t p = tm->p0; p < tm->p0 + tm->n; p++)
			ss += c->part[p * T + t];
		c->dh_norm[t] = (float)sqrt(ss);
	}

	/* Weight gradients of all steps at once (the kernels did them in
	 * the job).  The states h(t-1) of the steps t = 0..T-1 are rows
	 * [0,T) of h forward, [1,T+1) reverse:
	 *   dWh (H,GH) += Hprevᵀ (H,M) · dGh (M,GH) */
	if (r->simd)
		return;
	sp_gemm(1, 0, H, GH, M, 1.0f, c->h + (c->reverse ? job->B * H : 0),
		H, c->dgates_h, GH, 1.0f, c->dWh, GH);
	if (job->xin)
		/* dWx (in,GH) += Xᵀ (in,M) · dG (M,GH) */
		sp_gemm(1, 0, c->in, GH, M, 1.0f, job->xin, c->in, c->dgates,
			GH, 1.0f, c->dWx, GH);
	else
		scatter_(r, c, M, job->ids, job->mask, 0, H);
	colsum_(c->dgates, M, r->G, H, 0, H, c->db);
	if (r->cfg.cell == SP_CELL_GRU)
		colsum_(c->dgates_h, M, r->G, H, 0, H, c->dbh);
	if (job->dxin)
		/* dX (M,in) = dG (M,GH) · Wxᵀ (GH,in) */
		sp_gemm(0, 1, M, c->in, GH, 1.0f, c->dgates, GH, c->Wx, GH,
			job->beta, job->dxin, c->in);
}

/* The layer's backward: the recurrence, ∂L/∂h(t) = [direct part] +
 * dGh(t+1)·Whᵀ + ∂L/∂y(t), then dG(t), shared among the threads (or the
 * teams, with dX after both directions). */
static void layer_backward_(sp_rnn *r, recur_ *jobs)
{
	if (r->paired) {
		run_(&r->pool, pair_bwd_, jobs);
#if SIMD_
		if (jobs[0].dxin)
			run_(&r->pool, pair_dx_, jobs);
#endif
	} else {
		for (size_t d = 0; d < r->ND; d++)
			run_(&r->pool, recur_bwd_, &jobs[d]);
	}
	for (size_t d = 0; d < r->ND; d++)
		bwd_end_(r, &jobs[d]);
}

/* ------------------------------------------------------------------ */
/* The stack                                                           */
/* ------------------------------------------------------------------ */

/* Inverted dropout in place: v *= m, m = 0 with probability p, else
 * 1/(1-p), so that the expected value is unchanged. */
static void dropout_(sp_ctx *ctx, float *v, float *m, size_t n, float p)
{
	float keep = 1.0f / (1.0f - p);
	for (size_t i = 0; i < n; i++) {
		m[i] = sp_rng_uniform(ctx) < p ? 0.0f : keep;
		v[i] *= m[i];
	}
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

int sp_rnn_forward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x,
		      sp_seq *y, int train, const float *h0, const float *c0)
{
	sp_rnn *r = rnn;
	size_t T, B, M, H = r->H, ND = r->ND, in;
	const float *xin = NULL;
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

	/* Layer 0's input: the embedded ids, a copy of x, or (ids straight
	 * into Wx) nothing: cell_forward_ gathers rows of Wx. */
	in = r->in0;
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
	r->dropped0 = xin && train && r->cfg.embed_dropout > 0;
	if (r->dropped0)
		dropout_(ctx, r->x0, r->drop0, M * in, r->cfg.embed_dropout);

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
			fwd_begin_(r, &jobs[d], hi, ci);
		}
		layer_forward_(r, jobs);
		if (r->dropped && l + 1 < r->L)
			dropout_(ctx, r->y[l], r->drop[l], M * ND * H,
				 r->cfg.dropout);
		xin = r->y[l];
	}

	/* Keep the final forward state of every row for the next forward
	 * (its last real step: padding carried it to h[T]). */
	if (r->carry_on) {
		size_t need = r->L * B * H;
		/* h, c are (T+1,B,H), row s the state after s steps; s < T
		 * when asked for (sp_rnn_carry_at) */
		size_t s = r->carry_step && r->carry_step < T ?
				   r->carry_step : T;
		if (need > r->carry_cap) {
			float *nh = realloc(r->carry_h, need * sizeof(float));
			if (nh)
				r->carry_h = nh;
			if (nh && r->cfg.cell == SP_CELL_LSTM) {
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
			if (r->cfg.cell == SP_CELL_LSTM)
				memcpy(r->carry_c + l * B * H, c->c + s * B * H,
				       B * H * sizeof(float));
		}
		r->carry_valid = 1;
		r->carry_B = B;
	}

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

	for (size_t l = r->L; l-- > 0;) {
		const float *dyl = l + 1 == r->L ? dy->x : r->dy[l];
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
				.dc0 = dc0 && r->cfg.cell == SP_CELL_LSTM
					       ? dc0 + (l * ND + d) * B * H
					       : NULL,
				.xin = xin, .ids = r->ids, .dxin = dxin,
				.beta = d ? 1.0f : 0.0f,
				.tm = r->paired ? &r->pair[d] : &r->whole,
				.defer_dx = r->paired};
		layer_backward_(r, jobs);
		/* through the dropout between layer l-1 and l */
		if (l > 0 && r->dropped)
			mul_inplace_(r->dy[l - 1], r->drop[l - 1],
				     M * ND * H);
	}

	dx->T = T;
	dx->B = B;
	dx->D = r->cfg.in_dim;
	dx->x = NULL;
	dx->ids = NULL;
	dx->mask = r->has_mask ? r->mask : NULL;
	dx->len = r->has_mask ? r->len : NULL;
	if (r->dropped0)
		mul_inplace_(r->dx0, r->drop0, M * r->in0);
	if (r->ids_in && r->cfg.embed) {
		/* embedding: scatter-add ∂L/∂e(t) into row ids[t] of dE */
		size_t E = r->cfg.embed;
		for (size_t i = 0; i < M; i++) {
			float *de = r->dE + (size_t)r->ids[i] * E;
			const float *g = r->dx0 + i * E;
			if (!r->mask[i])
				continue;
			for (size_t k = 0; k < E; k++)
				de[k] += g[k];
		}
	} else if (!r->ids_in) {
		dx->x = r->dx0;
	}
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
			   "bx = [bxr; bxz; bxn]", "bh = [bhr; bhz; bhn]"}};
	const cell_ *c = &r->cells[0];
	size_t H = r->H, GH = r->G * H, in = c->in;
	size_t n = GH * (in > H ? in : H);
	int k = r->cfg.cell == SP_CELL_LSTM ? 1 : r->cfg.cell == SP_CELL_GRU ? 2 : 0;
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

/* Step t, row b of the last forward (layer 0, forward direction). */
static int trace_step_(sp_rnn *rnn, sp_ctx *ctx, size_t t, size_t b,
		       sp_trace_fn emit, void *payload)
{
	sp_rnn *r = rnn;
	const cell_ *c = &r->cells[0];
	size_t T = r->T, B = r->B, H = r->H, GH = r->G * H, row = t * B + b;
	size_t V = r->cfg.in_dim, need = V + 2 * GH;
	const float *hp, *hc, *a;
	float *xv, *wx, *wh;
	int rc;

	if (!r->have_fwd)
		return sp_err(ctx, SP_EINVAL, "%s: trace before forward",
			      r->name);
	if (r->have_bwd)
		return sp_err(ctx, SP_EINVAL, "%s: trace after a backward, "
			      "which wrote gradients over the activations; "
			      "expected a forward first", r->name);
	if (t >= T || b >= B)
		return sp_err(ctx, SP_EINVAL,
			      "%s: trace of step %zu row %zu, the batch is "
			      "T=%zu B=%zu", r->name, t, b, T, B);
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
	a = c->gates + row * GH;

	/* x(t): the one-hot vector for ids, else what entered layer 0 */
	if (r->ids_in) {
		memset(xv, 0, V * sizeof(float));
		xv[r->ids[row]] = 1.0f;
		rc = emit(payload, t, "x(t)", xv, V, 1);
		if (!rc && r->cfg.embed)
			rc = emit(payload, t, "e(t) = embed·x(t)",
				  r->x0 + row * r->in0, r->in0, 1);
	} else {
		rc = emit(payload, t, "x(t)", r->x0 + row * r->in0, r->in0, 1);
	}
	if (rc)
		return rc;

	switch (r->cfg.cell) {
	case SP_CELL_RNN_TANH:
	case SP_CELL_RNN_RELU:
		/* recomputed from the weights: the cache holds only h */
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
	case SP_CELL_LSTM:
		rc = emit(payload, t, "i(t)", a, H, 1);
		if (!rc)
			rc = emit(payload, t, "f(t)", a + H, H, 1);
		if (!rc)
			rc = emit(payload, t, "g(t)", a + 2 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "o(t)", a + 3 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "c(t)",
				  c->c + (t + 1) * B * H + b * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "h(t)", hc, H, 1);
		return rc;
	case SP_CELL_GRU:
		rc = emit(payload, t, "z(t)", a + H, H, 1);
		if (!rc)
			rc = emit(payload, t, "r(t)", a, H, 1);
		if (!rc)
			rc = emit(payload, t, "n(t)", a + 2 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "h(t)", hc, H, 1);
		return rc;
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
	out->c = rnn->cfg.cell == SP_CELL_LSTM ? c->c : NULL;
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
