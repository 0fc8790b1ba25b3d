/*
 * sp_cell_impl.h: what the files of the recurrent engine share (private;
 * not installed).  sp_cell.h is the engine's public face; this header
 * holds its insides, split by responsibility:
 *
 *   sp_cell.c        configuration, sizing and carving the cache, life
 *                    cycle, the stack of layers (forward, backward, carry)
 *   sp_cell_pool.c   the threads: pool, teams, barriers
 *   sp_cell_kern.c   the built-in cells' gate math (portable and AVX-512),
 *                    the packed weights and the micro-kernel
 *   sp_cell_drive.c  one layer in one direction through all steps
 *   sp_cell_weights.c  the weights: names, binding, initial values
 *   sp_cell_trace.c  trace, views and instruments
 *   sp_cell_model.c  the model-plugin face (keys, ops) for any cell
 */
#ifndef SP_CELL_IMPL_H
#define SP_CELL_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sp_cell.h"

/* The AVX-512 kernels: compiled for x86-64 with GCC or Clang whatever the
 * build's -march, used only when the CPU has AVX-512F (sp_rnn_new asks). */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SIMD_ 1
#define AVX512_ __attribute__((target("avx512f,fma")))
#else
#define SIMD_ 0
#define AVX512_
#endif

/* Functions shared by the engine's files, not exported by the library. */
#if defined(__GNUC__)
#define SPC_HIDDEN_ __attribute__((visibility("hidden")))
#else
#define SPC_HIDDEN_
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
	const sp_cell_ops *ops; /* a cell of one's own: &ops_copy, else NULL */
	sp_cell_ops ops_copy;   /* the caller's descriptor, zero past its
				   size (fields appended later read as 0) */
	int split;          /* h side kept apart with its bias bh (gru, or
			       SP_CELL_SPLIT): dgates_h is its own buffer */
	int has_c;          /* a second state c (lstm, or SP_CELL_STATE_C) */
	int simd;           /* the AVX-512 kernels (else the portable path) */
	int paired;         /* bidirectional layers run in two teams */
	rowfns_ rows;       /* the gate math that goes with it */
	pool_ pool;
	team_ whole;        /* every thread on one cell */
	team_ pair[2];      /* a team per direction (paired) */
};

/* Hidden units per column block of the kernels' h(t-1)·Wh: 16 of every
 * gate (G vectors a row), or 32 for the rnn's one gate (2 vectors).  For
 * dG(t)·Whᵀ, 32 output units (2 vectors). */
static inline size_t spc_fwd_units(size_t G)
{
	return G == 1 ? 2 * VL_ : VL_;
}
#define BWD_UNITS_ (2 * VL_)
#define KC_ 128            /* steps*rows of dG per chunk of dW += Xᵀ·dG */
#define AT_LD_ (KC_ + VL_) /* row stride of a transposed chunk: not a
			      power of two, so its rows spread over the
			      cache's sets */


/* One column block of a product C = Cin + A·P with a few rows. */
typedef struct kblock_ {
	const float *P;     /* (K, NV*16) panel */
	size_t K, NV;       /* NV <= 4 vectors per row */
	size_t off[4];      /* where vector v starts in a row of C */
	uint16_t m[4];      /* its lanes that exist */
} kblock_;

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

/* What cfg (read through its size, see sp_cell.c) asks of the layout:
 * G, an h side of its own, a state c.  A cell of one's own's cfg->ops is
 * checked before these are asked. */
static inline size_t spc_cfg_gates(const sp_rnn_config *cfg)
{
	if (cfg->ops)
		return cfg->ops->gates;
	return sp_cell_gates(cfg->cell);
}

static inline int spc_cfg_split(const sp_rnn_config *cfg)
{
	return cfg->cell == SP_CELL_GRU ||
	       (cfg->ops && (cfg->ops->flags & SP_CELL_SPLIT));
}

static inline int spc_cfg_has_c(const sp_rnn_config *cfg)
{
	return cfg->cell == SP_CELL_LSTM ||
	       (cfg->ops && (cfg->ops->flags & SP_CELL_STATE_C));
}

/* ---- sp_cell_pool.c ---- */
SPC_HIDDEN_ int spc_pool_start(pool_ *pl, sp_ctx *ctx, const char *name,
			       size_t n);
SPC_HIDDEN_ void spc_pool_stop(pool_ *pl);
/* Runs fn(arg, p) on every thread p = 0..n-1 (0 is the caller) and
 * returns when all are done. */
SPC_HIDDEN_ void spc_run(pool_ *pl, job_fn_ fn, void *arg);
SPC_HIDDEN_ void spc_team_init(team_ *tm, size_t p0, size_t n);
SPC_HIDDEN_ void spc_team_barrier(team_ *tm);
/* Thread p's share [*j0, *j1) of nb blocks among n threads. */
SPC_HIDDEN_ void spc_share(size_t nb, size_t n, size_t p, size_t *j0,
			   size_t *j1);

/* ---- sp_cell_kern.c ---- */
SPC_HIDDEN_ void spc_pick_rows(rowfns_ *out, int simd);
SPC_HIDDEN_ void spc_pack_cols(const float *W, size_t K, size_t G, size_t H,
			       size_t UV, size_t j0, size_t j1, float *P);
SPC_HIDDEN_ void spc_pack_rows(const float *W, size_t N, size_t K,
			       size_t j0, size_t j1, float *P);
SPC_HIDDEN_ size_t spc_block_vecs(size_t G, size_t H, size_t UV, size_t j,
				  size_t *off, uint16_t *m);
#if SIMD_
SPC_HIDDEN_ AVX512_ void spc_kprod(const kblock_ *kb, size_t rows,
				   const float *A, size_t sa, size_t sk,
				   const float *Cin, size_t ldin, float *Cout,
				   size_t ldout);
#endif

/* ---- sp_cell_weights.c ---- */
/* The weights of every layer and direction, in sp_rnn_weights' order,
 * and each cell's input width and direction. */
SPC_HIDDEN_ void spc_declare_weights(sp_rnn *r);

/* ---- sp_cell_drive.c ---- */
SPC_HIDDEN_ void spc_fwd_begin(sp_rnn *r, const recur_ *job,
			       const float *h0, const float *c0);
SPC_HIDDEN_ void spc_layer_forward(sp_rnn *r, recur_ *jobs);
SPC_HIDDEN_ void spc_layer_backward(sp_rnn *r, recur_ *jobs);

#endif /* SP_CELL_IMPL_H */
