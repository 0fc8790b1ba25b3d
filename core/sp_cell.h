/*
 * sp_cell.h: the recurrent engine: stacked, optionally bidirectional
 * RNN (tanh | relu), LSTM and GRU layers over time-major batches, with
 * masks, dropout, an optional embedding and carried state.
 *
 * What this is: the numeric core that the `rnn` model plugin
 * (plugins/rnn.c) wraps, kept in libseqpipe so that heads which own a
 * recurrent decoder (seq2seq) reuse the same cells, and so that
 * instruments can look into the per-step cache.  What it is not: an
 * optimizer, a loss, or a parameter store; the host owns the weights and
 * their gradients (sp_rnn_bind) and zeroes the gradients.
 *
 * Shapes: T steps, B sequences, I inputs, H hidden units, G gates per
 * cell (1 rnn, 4 lstm, 3 gru, or sp_cell_ops.gates of a cell of one's
 * own: see "A cell of one's own" below), V vocabulary size, E embedding size,
 * ND directions (1, or 2 when bidirectional).  Activations are time-major
 * row vectors: step t of sequence b is row t*B + b.
 *
 * Weight layout ("input-major", the transpose of PyTorch's and of the
 * course's column-vector notation).  Every matrix maps a row vector on its
 * left, v·W, so that
 *   Wx (in, G*H)   row i = what input unit i adds to every gate; a one-hot
 *                  input id is therefore ONE contiguous row copy, and its
 *                  gradient is one row add (scatter-add).
 *   Wh (H, G*H)    the recurrent weights, h(t-1)·Wh.
 *   b  (G*H)       one bias per gate unit (rnn, lstm);
 *   bx, bh (G*H)   GRU only, PyTorch's two biases (bh sits inside r⊙(...)).
 * Gate blocks along G*H are in PyTorch's order: lstm [i|f|g|o], gru
 * [r|z|n].  To compare with PyTorch: Wx = weight_ih_lᵀ, Wh = weight_hh_lᵀ,
 * b = bias_ih + bias_hh (rnn, lstm).  The course writes
 * h(t) = tanh(Wxh·x(t) + Whh·h(t-1) + b) with Wxh (H,V); our "Wxh" is the
 * same matrix stored transposed, (V,H).
 *
 * Weight names (checkpoint keys, prefixed by sp_rnn_config.prefix):
 *   single-layer, unidirectional rnn without embedding: "Wxh" "Whh" "b";
 *   otherwise "embed" (V,E) when embed > 0, then per layer l and direction
 *   "l<l>.Wx" "l<l>.Wh" "l<l>.b" (gru: "l<l>.bx" "l<l>.bh"), the reverse
 *   direction with an "r": "l0r.Wx".
 */
#ifndef SP_CELL_H
#define SP_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_cell_kind {
	SP_CELL_RNN_TANH = 1, /* h = tanh(x·Wx + h(t-1)·Wh + b) */
	SP_CELL_RNN_RELU = 2, /* h = max(0, ...) */
	SP_CELL_LSTM = 3,     /* Hochreiter & Schmidhuber 1997, gates i f g o */
	SP_CELL_GRU = 4       /* Cho et al. 2014, PyTorch's form, gates r z n */
	/* 0 with sp_rnn_config.ops set: a cell of one's own */
} sp_cell_kind;

typedef enum sp_cell_init {
	SP_CELL_INIT_UNIFORM = 0,   /* every weight and bias U(-1/√H, 1/√H)
				       (PyTorch's default) */
	SP_CELL_INIT_XAVIER = 1,    /* per gate block U(±√(6/(fan_in+H))),
				       biases 0 */
	SP_CELL_INIT_ORTHOGONAL = 2 /* as xavier, but each (H,H) gate block
				       of Wh orthogonal */
} sp_cell_init;

/* G, the number of gate blocks of a cell: 1, 4 or 3 (0 if unknown). */
size_t sp_cell_gates(sp_cell_kind kind);

typedef struct sp_rnn sp_rnn;

typedef struct sp_cell_ops sp_cell_ops;

/*
 * The configuration of an engine.  Start from sp_rnn_config_init (or
 * SP_RNN_CONFIG_INIT), which sets `size`; the engine reads only the
 * fields that `size` covers, so a caller built against an older header
 * keeps working.  size = 0 (a struct zeroed by a caller that predates the
 * field) is read as the first layout: every field up to `reference`.
 */
typedef struct sp_rnn_config {
	size_t size;         /* sizeof(sp_rnn_config) of the caller's header */
	const char *name;    /* for messages: "lstm" */
	const char *prefix;  /* prepended to weight names ("dec."), or NULL */
	sp_cell_kind cell;
	size_t in_dim;       /* I, or V when the input is ids */
	size_t hidden;       /* H > 0 */
	size_t layers;       /* >= 1 */
	int bidirectional;   /* output [forward | reverse], 2H wide */
	size_t embed;        /* E > 0: ids go through a trainable table
				embed (V,E); 0: the one-hot goes straight
				into layer 0's Wx (a row gather) */
	float dropout;       /* on each layer's output but the last */
	float embed_dropout; /* on layer 0's input when it is materialised
				(the embedding, or a dense x) */
	float forget_bias;   /* lstm: initial value of the f-gate bias */
	sp_cell_init init;
	size_t threads;      /* 0 or 1: everything on the calling thread;
				n > 1: sp_rnn_new starts n-1 workers (joined
				by sp_rnn_free) and each step's hidden units
				are split among n threads.  Results do not
				depend on n except for the round-off of
				dh_norm (see "Kernels and threads" in
				sp_cell.c) */
	int reference;       /* nonzero: never use the AVX-512 kernels, but
				sp_gemm and scalar gate math (the oracle the
				tests compare the kernels with) */
	/* --- appended with `size`; read only when size covers them --- */
	const sp_cell_ops *ops; /* a cell of one's own, with cell = 0: its
				   gate math (borrowed; must outlive the
				   engine); NULL for the built-in cells */
	float word_dropout;  /* on layer 0's input when it is materialised:
				each step's whole vector (a token's
				embedding) is zeroed with this probability,
				the kept ones scaled by 1/(1-p); training
				only.  Word dropout (Iyyer et al. 2015): the
				model learns to tag a word from its context
				too, as it must for the unseen ones */
	float update_bias;   /* gru: added to the z-gate bias bx_z after
				init (0 leaves it as drawn).  z near 1 keeps
				h(t-1): at init's z ≈ 0.5 the state halves
				every step; 2 starts z at σ(2) ≈ 0.88 */
} sp_rnn_config;

/* The layout read when size is 0: the fields before `ops`. */
#define SP_RNN_CONFIG_SIZE_V1 offsetof(sp_rnn_config, ops)
#define SP_RNN_CONFIG_INIT {sizeof(sp_rnn_config)}

/* Zeroes *cfg and sets cfg->size. */
void sp_rnn_config_init(sp_rnn_config *cfg);

/*
 * Every cache buffer of an sp_rnn run at (T,B), in elements.  The ONE
 * sizing function: the cache is carved from one block following these
 * numbers, and the tests read them.  Per layer and direction (L*ND each):
 */
typedef struct sp_rnn_sizes {
	size_t gates;    /* (T,B,G*H) gate activations (rnn: h itself) */
	size_t dgates;   /* 0: ∂L/∂(gate pre-activations), x side, takes the
			    place of the activations in backward */
	size_t dgates_h; /* (T,B,G*H) the h side if it differs (gru), else 0 */
	size_t h;        /* (T+1,B,H) states incl. the initial one */
	size_t c;        /* (T+1,B,H) lstm cell states, else 0 */
	size_t tc;       /* 0: tanh(c(t)) is recomputed in backward */
	size_t hn;       /* 0: gru's h(t-1)·Wh_n + bh_n is kept in dgates_h */
	size_t dh_norm;  /* (T) ||∂L/∂h(t)|| over the batch */
	/* per layer (L each; the last layer's y is the stage output) */
	size_t y;        /* (T,B,ND*H) output, dropped out in place */
	size_t dy;       /* (T,B,ND*H) gradient from the layer above (all
			    layers but the top one; 0 when L == 1) */
	size_t drop;     /* (T,B,ND*H) dropout scale (0 or 1/(1-p)), all
			    layers but the top one, when dropout > 0 */
	/* layer 0's input */
	size_t x0;       /* (T,B,in0) copy of x, or the embedded ids; 0 for
			    ids straight into Wx */
	size_t dx0;      /* (T,B,in0) its gradient, or 0 when it takes x0's
			    place (one direction, or two in teams) */
	size_t drop0;    /* (T,B,in0) embed_dropout scale, or 0 */
	/* per step scratch (4 of them: dh, dh(t-1), dc, gru's h-side gates) */
	size_t step;     /* ND*B*G*H: one set per direction */
	/* copies of the batch's ids, mask and lengths */
	size_t ids;      /* T*B int32 (0 for dense input) */
	size_t mask;     /* T*B bytes */
	size_t len;      /* B int32 */
	size_t bytes;    /* the whole block, each buffer 64-byte aligned */
	/* (added later, hence after bytes; counted in it) */
	/* the AVX-512 kernels' packed operands (0 on the portable path) */
	size_t wh_pack;  /* per layer and direction: Wh in panels for the
			    pass at hand */
	size_t wx_pack;  /* per layer and direction: Wx likewise (0 when
			    ids go straight into Wx) */
	size_t dg_pack;  /* (threads, 128, 64): each thread's chunk of dG
			    for the weight gradients */
	size_t part;     /* (ND, threads, T) doubles: per-thread partial sums
			    of ||∂L/∂h(t)||² */
	size_t at_pack;  /* (ND, H + in, 144): a chunk of 128 rows of
			    [h(t-1) | x(t)] transposed, for the weight
			    gradients (0 on the portable path) */
} sp_rnn_sizes;

/* Fills *out for cfg at (T,B); `ids` says whether the input is ids.
 * SP_EINVAL (message in ctx) for an invalid configuration. */
int sp_rnn_sizes_of(sp_ctx *ctx, const sp_rnn_config *cfg, size_t T,
		    size_t B, int ids, sp_rnn_sizes *out);

/* New engine for cfg (caller owns; free with sp_rnn_free).  Validates cfg
 * (messages name cfg->name).  Allocates no cache yet: the first forward
 * does, and later ones only when the batch needs more. */
int sp_rnn_new(sp_rnn **out, sp_ctx *ctx, const sp_rnn_config *cfg);
void sp_rnn_free(sp_rnn *rnn);

/* ND*H. */
size_t sp_rnn_out_dim(const sp_rnn *rnn);
/* The weights, in a fixed order (borrowed; valid while rnn lives). */
int sp_rnn_weights(const sp_rnn *rnn, const sp_weight **out, size_t *n_out);
/* Points the engine at the host's weight and gradient tensors, in the
 * order of sp_rnn_weights (borrowed; must outlive rnn's use). */
int sp_rnn_bind(sp_rnn *rnn, float *const *value, float *const *grad);
/* Initial values from ctx's RNG (cfg->init; lstm forget gate bias set to
 * cfg->forget_bias; gru update gate bias shifted by cfg->update_bias;
 * embedding N(0,1)). */
int sp_rnn_init(sp_rnn *rnn, sp_ctx *ctx);

/*
 * x:(T,B,in) -> y:(T,B,ND*H).  y->x is the engine's buffer (borrowed,
 * read-only: with one direction and no padding it is the top layer's
 * states, which backward reads; valid until the next forward),
 * y->mask/len copies of x's.  At a padded
 * step the state is carried (h(t) = h(t-1), c(t) = c(t-1)) and the output
 * is 0, so a sequence's result does not depend on its batch.  train != 0
 * draws dropout masks from ctx's RNG and allows backward; the cache is
 * kept either way (trace and instruments work after inference too).
 * Ids outside [0,V) at a real step are SP_EINPUT.
 */
int sp_rnn_forward(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x, sp_seq *y,
		   int train);
/* As sp_rnn_forward, with the initial states of every layer and
 * direction given: h0, c0 (layers*ND, B, H) as PyTorch's h_0 (c0 lstm
 * only; NULL = zero).  They take precedence over a carried state. */
int sp_rnn_forward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x,
		      sp_seq *y, int train, const float *h0, const float *c0);

/*
 * dy:(T,B,ND*H) of the last training forward.  ACCUMULATES the weight
 * gradients; writes dx (T,B,in) into the engine's buffer (dx->x NULL when
 * the input was ids; valid until the next forward).  No gradient flows from padded steps, nor into a
 * carried state.  Once per training forward: backward writes the
 * gradients over the forward's cached activations (which halves the
 * cache), so a second call is SP_EINVAL and changes nothing.
 */
int sp_rnn_backward(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx);
/* As sp_rnn_backward, also WRITING ∂L/∂h0, ∂L/∂c0 (layers*ND, B, H) when
 * not NULL (what a decoder passes back to its encoder). */
int sp_rnn_backward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *dy,
		       sp_seq *dx, float *dh0, float *dc0);

/* on != 0: each forward starts where the last one ended (the state of
 * each row at its last real step, forward direction only; the reverse
 * direction of a bidirectional layer always starts from zero).  A batch
 * of another size starts from zero.  reset != 0 drops the carried state.
 * Backward never flows into it (truncated BPTT). */
int sp_rnn_carry(sp_rnn *rnn, sp_ctx *ctx, int on, int reset);
/* When carrying, keep the state after `step` steps of the next forwards
 * (0 = after the last step, the default; a forward of T < step steps
 * keeps its last step): what the next window of truncated BPTT with
 * overlapping windows starts from.  A padded row keeps its state at its
 * last real step up to `step`.  Stays until changed; sp_rnn_carry does
 * not change it. */
int sp_rnn_carry_at(sp_rnn *rnn, sp_ctx *ctx, size_t step);

/* The course's quantities of step t, row b of the last forward (layer 0,
 * forward direction): "x(t)" (one-hot V×1 for ids), then rnn: "Wxh·x(t)",
 * "Whh·h(t-1) + b", "h(t) = tanh(...)"; lstm: i f g o c h; gru: r z n h.
 * A padded step emits nothing.  SP_EINVAL after a backward (it wrote the
 * gradients over the activations). */
int sp_rnn_trace(sp_rnn *rnn, sp_ctx *ctx, size_t t, size_t b,
		 sp_trace_fn emit, void *payload);

/* ---- instruments: a read-only view of one layer-direction's cache ---- */
typedef struct sp_cell_view {
	sp_cell_kind cell;     /* 0 for a cell of one's own (cfg.ops) */
	size_t T, B, H, G;
	int reverse;           /* 1: processed t = T-1 .. 0 */
	const float *gates;    /* (T,B,G*H) activations: lstm [i|f|g|o],
				  gru [r|z|n], rnn h; NULL after a backward,
				  which writes the gradients in their place */
	const float *h;        /* (T+1,B,H): h(t) is h[t+1] forward, h[t]
				  reverse; the initial state the other end */
	const float *c;        /* lstm (T+1,B,H) as h, else NULL */
	const float *dh_norm;  /* (T) ||∂L/∂h(t)||₂ over the real rows of
				  the batch after a backward, else NULL */
	const uint8_t *mask;   /* (T,B) 1 = real step */
} sp_cell_view;

/* View of layer `layer`, direction `dir` (0 forward, 1 reverse) of the
 * last forward (borrowed; valid until the next forward). */
int sp_rnn_view(const sp_rnn *rnn, sp_ctx *ctx, size_t layer, int dir,
		sp_cell_view *out);

/* Statistics of gate block `gate` (0..G-1) over the real steps of a view:
 * mean activation and the fraction saturated (σ < 0.05 or > 0.95; tanh
 * and relu |a| > 0.95 resp. a == 0).  For the rnn, gate 0 is h; a cell
 * of one's own (view.cell 0) is read with the σ rule.
 * SP_EINVAL for a view without gates (taken after a backward). */
int sp_cell_gate_stats(const sp_cell_view *v, size_t gate, double *mean,
		       double *saturated);

/* Cache capacity in bytes (grows only when a batch needs more). */
size_t sp_rnn_cache_bytes(const sp_rnn *rnn);

/* The configuration the layer was made with (borrowed). */
const sp_rnn_config *sp_rnn_config_of(const sp_rnn *rnn);

/* ------------------------------------------------------------------ */
/* A cell of one's own: its gate math; the engine does the rest        */
/* ------------------------------------------------------------------ */

/*
 * A new recurrent cell is an sp_cell_ops descriptor: how many gate blocks
 * it has, and the element-wise forward and backward of one step.  With
 * cfg.ops pointing at it (and cfg.cell = 0), the engine does
 * everything else as for its own cells: the input products of all steps
 * at once, the recurrent product of each step, the time loop, masks and
 * variable lengths, carried and initial states, stacked and bidirectional
 * layers, threads, the AVX-512 kernels, the weight gradients, dX, trace
 * and instruments.
 *
 * Each step the engine computes, for every batch row, the gate
 * pre-activations of G blocks of H units,
 *   a  (G*H) = x(t)·Wx + b  [+ h(t-1)·Wh]
 *   ah (G*H) = h(t-1)·Wh + bh                (SP_CELL_SPLIT only)
 * and calls forward, which makes h(t) (and c(t)) from them; backward gets
 * ∂L/∂h(t) (and ∂L/∂c(t)) and gives the gradients of a (and ah) and the
 * part of ∂L/∂h(t-1) that does not pass through Wh.  The weights are
 * those of the built-in cells: Wx (in,G*H), Wh (H,G*H), b (G*H), or with
 * SP_CELL_SPLIT bx and bh (G*H) as the GRU's ("l0.Wx" "l0.Wh" "l0.b" or
 * "l0.bx" "l0.bh").  SP_CELL_SPLIT is how a gate multiplies a block of the
 * recurrent product (the GRU's r⊙(h(t-1)·Whn + bhn)) while Wh stays one
 * product per step.
 *
 * The functions see one batch row and the hidden units [u0, u1) of each
 * gate block (a thread's share: other threads run the other units at the
 * same time, so touch nothing outside them).  They run on the engine's
 * threads, must not allocate, and keep no state between calls (the cache
 * is the engine's).  doc/example-plugin/mgu.c is a complete example.
 */
#define SP_CELL_SPLIT 1u   /* keep h(t-1)·Wh + bh apart in ah, with its
			      own bias bh; else a has it summed in */
#define SP_CELL_STATE_C 2u /* a second state c, as the LSTM's: carried,
			      kept at padding, with c0/dc0 */

/* One batch row of one step.  Unit k of gate block g of a (G*H) vector
 * is at g*H + k. */
typedef struct sp_cell_row {
	size_t H;           /* hidden units */
	size_t u0, u1;      /* compute units [u0, u1) only */
	float *a;           /* (G*H) forward: in, the pre-activations; out,
			       what backward needs (the activations: they
			       are also what the instruments show) */
	float *ah;          /* (G*H) SP_CELL_SPLIT: h(t-1)·Wh + bh, kept
			       as it is for backward; else NULL */
	const float *hp;    /* (H) h(t-1) */
	float *h;           /* (H) h(t): forward writes it, backward reads */
	const float *cp;    /* (H) c(t-1) (SP_CELL_STATE_C), else NULL */
	float *c;           /* (H) c(t): forward writes it, backward reads
			       (SP_CELL_STATE_C), else NULL */
	/* backward only (NULL in forward) */
	const float *dh;    /* (H) ∂L/∂h(t), all of it */
	float *dc;          /* (H) SP_CELL_STATE_C: in ∂L/∂c(t), out
			       ∂L/∂c(t-1); else NULL */
	float *da;          /* (G*H) out ∂L/∂a: the same memory as a, so
			       read all of unit k's values before writing
			       its gradients */
	float *dah;         /* (G*H) SP_CELL_SPLIT: out ∂L/∂ah, the same
			       memory as ah (the same rule); else NULL (a
			       holds both sides, da is the gradient of
			       both) */
	float *dhp;         /* (H) ADD the part of ∂L/∂h(t-1) that does not
			       pass through Wh (the engine zeroed it) */
	const void *param;  /* sp_cell_ops.param */
} sp_cell_row;

struct sp_cell_ops {
	size_t size;        /* sizeof(sp_cell_ops) */
	const char *name;   /* for messages and the trace: "mgu" */
	size_t gates;       /* G, 1..4 gate blocks of H units */
	unsigned flags;     /* SP_CELL_SPLIT | SP_CELL_STATE_C */
	void (*forward)(const sp_cell_row *row);
	void (*backward)(const sp_cell_row *row);
	/* optional (NULL): the G blocks' names for trace and instruments */
	const char *const *gate_names;
	/* bit g set: block g's cached value is tanh-like (saturated when
	 * |a| > 0.95), else a gate in (0,1) (saturated < 0.05 or > 0.95) */
	unsigned tanh_gates;
	const void *param;  /* handed to forward/backward as row->param */
};

/* v[0..n) = σ(v) and tanh(v) in place, on the engine's vector code (16
 * lanes on AVX-512; about 1 and 3 ulp): what a cell's forward calls on a
 * block of units. */
void sp_cell_sigmoid(float *v, size_t n);
void sp_cell_tanh(float *v, size_t n);

/* ------------------------------------------------------------------ */
/* A model plugin around the engine                                    */
/* ------------------------------------------------------------------ */

/* The keys every recurrent model component reads (sp_rnn_config_from_kv):
 * the first entries of its sp_param_spec list, which ends with
 * {NULL, 0, NULL, NULL, NULL}. */
#define SP_RNN_PARAMS                                                       \
	{"hidden", SP_T_INT, NULL,                                          \
	 "hidden size H (units per direction)", NULL},                      \
	{"layers", SP_T_INT, "1", "number of stacked layers", NULL},        \
	{"bidirectional", SP_T_BOOL, "false",                               \
	 "add a reverse direction; the output [forward | reverse] is 2H "   \
	 "wide", NULL},                                                     \
	{"dropout", SP_T_FLOAT, "0",                                        \
	 "inverted dropout on each layer's output but the last "            \
	 "(training only)", NULL},                                          \
	{"embed", SP_T_INT, "0",                                            \
	 "embedding size E for ids input; 0 feeds the one-hot straight "    \
	 "into Wx", NULL},                                                  \
	{"embed_dropout", SP_T_FLOAT, "0",                                  \
	 "dropout on layer 0's input: the embedding, or a dense input "     \
	 "(training only)", NULL},                                          \
	{"word_dropout", SP_T_FLOAT, "0",                                   \
	 "probability of dropping a token's whole embedding (or a step's "  \
	 "dense input) in training; the kept ones are scaled by 1/(1-p)",   \
	 NULL},                                                             \
	{"init", SP_T_STRING, "uniform",                                    \
	 "initial weights: uniform U(-1/sqrt(H), 1/sqrt(H)) as PyTorch, "   \
	 "xavier, or orthogonal recurrent weights",                         \
	 "uniform|xavier|orthogonal"},                                      \
	{"threads", SP_T_INT, "1",                                          \
	 "threads that share each step's hidden units (the result does "    \
	 "not depend on it; train.threads is the BLAS's)", NULL}

/* Fills *cfg (sp_rnn_config_init first) from the validated keys of
 * SP_RNN_PARAMS; name = comp, in_dim as given, cell = SP_CELL_RNN_TANH
 * (the caller sets the cell).  SP_EINVAL names the key and its place. */
int sp_rnn_config_from_kv(sp_rnn_config *cfg, sp_ctx *ctx,
			  const sp_kv *args, size_t in_dim, const char *comp);

/* sp_model_ops.create of a model that is one engine around `ops`: the
 * keys of SP_RNN_PARAMS, cfg.ops = ops.  *out is the sp_rnn
 * (free with sp_rnn_free; the ops of SP_RNN_MODEL_OPS take it). */
int sp_rnn_model_create(void **out, sp_ctx *ctx, const sp_kv *args,
			size_t in_dim, const char *comp,
			const sp_cell_ops *ops);

/* The sp_model_ops of a model whose self is an sp_rnn (the engine's
 * functions with the table's types); instruments: dh_norm per step and
 * each gate's mean and saturation, as plugins/rnn.c reports them. */
void sp_rnn_model_destroy(void *self);
size_t sp_rnn_model_out_dim(const void *self);
int sp_rnn_model_weights(const void *self, const sp_weight **out,
			 size_t *n_out);
int sp_rnn_model_bind(void *self, float *const *value, float *const *grad);
int sp_rnn_model_init(void *self, sp_ctx *ctx);
int sp_rnn_model_forward(void *self, sp_ctx *ctx, const sp_seq *x,
			 sp_seq *y, int train);
int sp_rnn_model_backward(void *self, sp_ctx *ctx, const sp_seq *dy,
			  sp_seq *dx);
int sp_rnn_model_carry(void *self, sp_ctx *ctx, int on, int reset);
int sp_rnn_model_carry_at(void *self, sp_ctx *ctx, size_t step);
int sp_rnn_model_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		       sp_trace_fn emit, void *payload);
int sp_rnn_model_instruments(void *self, sp_ctx *ctx, sp_metric_fn emit,
			     void *payload);
int sp_rnn_model_sees_future(const void *self);
/* Pretrained word vectors go into the (V, E) table the engine puts in
 * front of layer 0 when embed = E > 0; -1 when there is none. */
int sp_rnn_model_embedding(const void *self);

/* Every op of sp_model_ops but create, for a designated initializer:
 *   static const sp_model_ops my_ops = {.base = {...}, .create = my_create,
 *                                       SP_RNN_MODEL_OPS}; */
#define SP_RNN_MODEL_OPS                                                    \
	.destroy = sp_rnn_model_destroy, .out_dim = sp_rnn_model_out_dim,   \
	.weights = sp_rnn_model_weights, .bind = sp_rnn_model_bind,         \
	.init = sp_rnn_model_init, .forward = sp_rnn_model_forward,         \
	.backward = sp_rnn_model_backward, .carry = sp_rnn_model_carry,     \
	.trace = sp_rnn_model_trace,                                        \
	.instruments = sp_rnn_model_instruments,                            \
	.sees_future = sp_rnn_model_sees_future,                            \
	.carry_at = sp_rnn_model_carry_at,                                  \
	.embedding = sp_rnn_model_embedding

#ifdef __cplusplus
}
#endif
#endif /* SP_CELL_H */
