/*
 * sp_plugin.h: the seqpipe plugin ABI.
 *
 * A plugin is a libltdl module (plugins/<name>.la) that exports ONE symbol,
 * <name>_LTX_sp_plugin_entry, returning a static descriptor: its name, the
 * ABI it was built for, and a NULL-terminated list of components.  Nothing
 * runs at load time.  A component is one of five kinds:
 *
 *   tokenizer  text (UTF-8)         -> tokens (strings)
 *   encoder    tokens               -> ids in a vocabulary ("one-hot" as ids)
 *   model      (T,B,in) sequence    -> (T,B,out) hidden states; forward/backward
 *   head       (T,B,in) hidden      -> outputs, loss, gradient into the model,
 *                                      metrics, predictions
 *   reader     a data file          -> examples (text or tokens, a label
 *                                      per token or per example, a second
 *                                      text): a `[data] format`
 *
 * Every ops table starts with sp_component, whose `size` is sizeof the whole
 * table: tables only grow at the end, and the host treats a table shorter
 * than the host's as lacking the newer ops.  Bump SP_ABI_VERSION on any
 * other change to this file.
 *
 * Ownership rules: the host owns contexts, argument sets, vocabularies and
 * the parameter/gradient arenas; a plugin owns what its create() allocates
 * and frees it in destroy().  destroy() accepts NULL and a half-built self,
 * because a failed create() calls it on its way out.  Plugins never print,
 * exit or abort: they return a negative SP_E* code with a message set in the
 * context (sp_err).
 */
#ifndef SP_PLUGIN_H
#define SP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_kv.h"    /* sp_kv: a stage's validated key = value args */
#include "sp_vocab.h" /* sp_vocab: token <-> id table */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ---- Contract: what a plugin may keep, and for how long ----------------
 *
 * Every pointer the host passes into an op is borrowed.  Unless said here,
 * it is valid for the call only: copy what you need to keep.
 *
 *   ctx            for the call only; the next op may come with another
 *                  context.  Never keep it, never use it from another
 *                  thread (see threads below).
 *   args (sp_kv)   create() only.  Strings from sp_kv_str are the kv's:
 *                  copy them (or what you parsed from them) into self.
 *   sp_head_env    the struct: create() only.  The vocabularies it points
 *                  to (input, labels): until destroy() of that instance.
 *   encoder        attach(vocab): the vocabulary stays valid and unchanged
 *                  until destroy(), so an encoder may keep the pointer.
 *                  finish(vocab): fill it during the call; it is the
 *                  host's, and (unchanged) valid until destroy() too.
 *   weights()      returns the plugin's own array, which must stay valid
 *                  and unchanged while self lives.
 *   bind()         the two pointer arrays are the call's; the float blocks
 *                  they point to (the host's arenas) stay valid until the
 *                  next bind() or destroy(): keep those pointers, not the
 *                  arrays.
 *   forward()      the input sp_seq struct is the call's (it may live on
 *                  the host's stack), but the buffers it points to (x, ids,
 *                  mask, len; for a head also the sp_labels arrays) stay
 *                  valid and unchanged until the matching backward()
 *                  returns, or until the next forward() when none follows
 *                  (train == 0, or a batch without a loss).  So a model may
 *                  keep x->x, x->ids, x->mask, x->len between a training
 *                  forward and its backward, instead of copying them.  The
 *                  output y->x (and a model's dx->x from backward) is the
 *                  plugin's own buffer: the host only reads it, until the
 *                  plugin's next forward().
 *   backward()     dy / dh: the call's.  Called at most once per training
 *                  forward (a plugin may overwrite its forward cache).
 *   tokenize()     text is the call's; emit() may be given pointers into
 *                  it.  Every callback's arguments (emit, metric names,
 *                  trace matrices) are the callee's for that call only.
 *   descriptor     the sp_plugin, its component list, ops tables and
 *                  param specs are static and never freed (the host keeps
 *                  an accepted module loaded until the process ends).
 *
 * ---- Contract: threads ---------------------------------------------------
 *
 *  - One instance (a `self` from create) is used by one thread at a time:
 *    the host never runs two ops of the same instance at once, but may run
 *    ops of one instance from different threads one after another.
 *  - Two instances, of one component or of several, may run at the same
 *    time on different threads (one context each).  So a plugin keeps no
 *    mutable static or global state: everything lives in self.
 *  - A plugin may start threads of its own (the engine does, for
 *    model.threads).  They must not call anything on the op's ctx (errors,
 *    log, random numbers: take those on the calling thread), must be done
 *    with the op's borrowed pointers before the op returns, and must be
 *    joined by destroy() at the latest.
 *  - A plugin must not change the BLAS thread count (sp_blas_set_threads,
 *    openblas_set_num_threads, or OPENBLAS_NUM_THREADS): it is process-wide
 *    and set by the host from [train] threads.  sp_gemm may be called from
 *    several threads at once.
 */

/* Bump on ANY incompatible change to this file. */
#define SP_ABI_VERSION 1


typedef enum sp_kind {
	SP_KIND_TOKENIZER = 1,
	SP_KIND_ENCODER = 2,
	SP_KIND_MODEL = 3,
	SP_KIND_HEAD = 4,
	SP_KIND_READER = 5 /* appended: a data format (sp_reader_ops) */
} sp_kind;

/* Value types of .pipe keys. */
typedef enum sp_type {
	SP_T_INT = 1,
	SP_T_FLOAT = 2,
	SP_T_BOOL = 3,
	SP_T_STRING = 4,
	SP_T_PATH = 5 /* a string resolved relative to the .pipe file */
} sp_type;

/* One accepted key of a stage; arrays end with {NULL}.  Unknown keys are
 * an error.  def == NULL means the key is required.  `choices`, when not
 * NULL, is a '|'-separated list of the accepted string values. */
typedef struct sp_param_spec {
	const char *key;
	sp_type type;
	const char *def;
	const char *doc;
	const char *choices;
} sp_param_spec;

/* First member of every ops table. */
typedef struct sp_component {
	size_t size;                 /* sizeof the whole ops table */
	sp_kind kind;
	const char *name;            /* "lstm": written `plugin = lstm` in a .pipe */
	const char *doc;             /* one line */
	const sp_param_spec *params; /* {NULL}-terminated */
} sp_component;

/* ------------------------------------------------------------------ */
/* Tensors passed between stages                                       */
/* ------------------------------------------------------------------ */

/*
 * A batch of B sequences of up to T steps, time-major: step t of sequence b
 * is row t*B + b.  Either `x` holds D floats per step, or (input of the
 * first model stage only) `ids` holds one vocabulary id per step and D is
 * the vocabulary size: x(t) is then the one-hot vector of ids[t*B+b], which
 * a model turns into a column gather of its input weights instead of a
 * V-wide product.
 *
 * mask[t*B+b] is 1 for a real step and 0 for padding; NULL means every step
 * is real.  Padding is always at the end (right-padded); len[b] is the
 * number of real steps of sequence b (NULL when mask is NULL).  Results for
 * a sequence never depend on what it was batched with.
 */
typedef struct sp_seq {
	size_t T, B, D;
	float *x;             /* (T,B,D) or NULL when ids is used */
	const int32_t *ids;   /* (T,B) one-hot ids, or NULL */
	const uint8_t *mask;  /* (T,B) or NULL */
	const int32_t *len;   /* (B) or NULL */
} sp_seq;

/*
 * The characters of each token of a batch, for a token-level model stage
 * that reads spellings (character-level word features: a word never seen
 * in training is still read by its letters).  The host gives them through
 * sp_model_ops.chars before each forward of a stage that has that op; T
 * and B are that forward's.  Token (t,b) has n[t*B+b] characters (0 on
 * padding), its Unicode code points at cp[(t*B+b)*C + k] for k < n, 0
 * after.  C <= SP_CHARS_MAX: a longer token keeps its first and its last
 * SP_CHARS_MAX/2 characters (prefix and suffix carry the signal).
 */
#define SP_CHARS_MAX 24
typedef struct sp_chars {
	size_t size;          /* sizeof(sp_chars) */
	size_t T, B, C;
	const int32_t *cp;    /* (T,B,C) code points, 0-padded */
	const int32_t *n;     /* (T,B) characters of each token */
} sp_chars;

/*
 * Targets for a head.  What they mean depends on the head's target kind
 * (sp_head_ops.target): the next token of each step (T,B), a tag per step
 * (T,B), one class per sequence (T = 1), or a target sequence (T',B):
 * for SP_TARGET_SEQUENCE, the target tokens of sequence b followed by
 * <eos>, right-padded, T' independent of the source's T; the head feeds
 * <bos> (of sp_head_env.labels) before the first itself.
 * mask as in sp_seq; id < 0 also marks "no target here".
 */
typedef struct sp_labels {
	size_t T, B;
	const int32_t *id;
	const uint8_t *mask;
} sp_labels;

typedef enum sp_target {
	SP_TARGET_NEXT_TOKEN = 1, /* language model: the input shifted by one */
	SP_TARGET_TAGS = 2,       /* one label per input step (NER, DNA) */
	SP_TARGET_CLASS = 3,      /* one label per sequence (sentiment) */
	SP_TARGET_SEQUENCE = 4    /* another token sequence (translation) */
} sp_target;

/* A weight tensor a stage declares; the host allocates it in one value
 * arena with a mirrored gradient arena, and checkpoints it by name. */
typedef struct sp_weight {
	const char *name; /* stable checkpoint key within the stage: "Wxh" */
	int ndim;
	size_t dim[4];
} sp_weight;

/* Callbacks.  Each returns 0 to continue or a negative SP_E* code to stop;
 * the code is passed back out of the plugin call that invoked it. */

/* One token: `tok` is NOT NUL-terminated; `offset` is the byte offset of
 * the token in the text given to tokenize(). */
typedef int (*sp_token_fn)(void *payload, const char *tok, size_t len,
			   size_t offset);

/* One named quantity of a step, for `pipeline trace`: a rows x cols matrix
 * (a column vector has cols == 1).  `label` is the course notation, e.g.
 * "Whh·h(t-1) + b". */
typedef int (*sp_trace_fn)(void *payload, size_t t, const char *label,
			   const float *v, size_t rows, size_t cols);

/* The step number that asks a trace op for the parameters. */
#define SP_TRACE_PARAMS ((size_t)-1)

/* One metric: name (e.g. "loss", "f1") and value. */
typedef int (*sp_metric_fn)(void *payload, const char *name, double value);

/* ------------------------------------------------------------------ */
/* Tokenizer                                                           */
/* ------------------------------------------------------------------ */
typedef struct sp_tokenizer_ops {
	sp_component base;
	int (*create)(void **out, sp_ctx *ctx, const sp_kv *args);
	void (*destroy)(void *self);
	/* Calls emit once per token of text[0..len).  Invalid input (e.g.
	 * invalid UTF-8, a non-DNA letter) is SP_EINPUT with a message that
	 * names the byte offset. */
	int (*tokenize)(void *self, sp_ctx *ctx, const char *text, size_t len,
			sp_token_fn emit, void *payload);
} sp_tokenizer_ops;

/* ------------------------------------------------------------------ */
/* Encoder                                                             */
/* ------------------------------------------------------------------ */
/*
 * An encoder decides how a vocabulary is built from training tokens and
 * how tokens map to ids.  The host owns the sp_vocab; the encoder fills it.
 */
typedef struct sp_encoder_ops {
	sp_component base;
	int (*create)(void **out, sp_ctx *ctx, const sp_kv *args);
	void (*destroy)(void *self);
	/* Count one training token (called for every token of the training
	 * split before finish()). */
	int (*observe)(void *self, sp_ctx *ctx, const char *tok, size_t len);
	/* Build the vocabulary from what was observed (min_count, max_size,
	 * special tokens) into `vocab`, which is empty. */
	int (*finish)(void *self, sp_ctx *ctx, sp_vocab *vocab);
	/* Use an existing vocabulary (loaded from the store or a model file). */
	int (*attach)(void *self, sp_ctx *ctx, const sp_vocab *vocab);
	/* Token -> id; unknown tokens map to <unk>, or SP_EINPUT when the
	 * vocabulary has none. */
	int (*encode)(void *self, sp_ctx *ctx, const char *tok, size_t len,
		      int32_t *out_id);
	/* Optional (may be NULL; test with SP_HAS_OP): for a token of the
	 * training split, the id it reads as when training takes it for an
	 * unknown word, and the chance of that in each epoch (*out_p = 0:
	 * always itself).  Rare words so teach the unknown classes what new
	 * words look like (the host's sp_unkrep.h). */
	int (*unknown)(void *self, sp_ctx *ctx, const char *tok, size_t len,
		       int32_t *out_id, float *out_p);
} sp_encoder_ops;

/* ------------------------------------------------------------------ */
/* Model (recurrent layers and the like)                               */
/* ------------------------------------------------------------------ */
/*
 * Stacking: a .pipe may chain model stages ([model], then [model2],
 * [model3], [model4]; doc/pipe-format.md).  The first stage reads the ids
 * (D = the vocabulary size); stage k+1 reads stage k's output as vectors
 * (x set, ids NULL, D = stage k's out_dim, the batch's mask and len), and
 * the head reads the last one's.  Backward runs the other way: stage k+1's
 * dx is stage k's dy, so every stage after the first must return dx->x.
 * Each stage keeps its own weights, checkpointed under its section's name
 * ("model2.Wx").  Carry, carry_at, sees_future and the instruments apply
 * to every stage that has them; pretrained vectors go into the first
 * stage's embedding.
 */
typedef struct sp_model_ops {
	sp_component base;
	/* in_dim is D of the input sequence (the vocabulary size when the
	 * input is ids). */
	int (*create)(void **out, sp_ctx *ctx, const sp_kv *args,
		      size_t in_dim);
	void (*destroy)(void *self);
	size_t (*out_dim)(const void *self);
	/* The weights this stage needs (borrowed; valid while self lives). */
	int (*weights)(const void *self, const sp_weight **out, size_t *n_out);
	/* Point the stage at its weights and gradients (host arenas, in the
	 * order of weights()). */
	int (*bind)(void *self, float *const *value, float *const *grad);
	/* Fill the bound weights with their initial values from ctx's RNG. */
	int (*init)(void *self, sp_ctx *ctx);
	/* x:(T,B,in) -> y:(T,B,out).  y->x is the stage's own buffer
	 * (borrowed; valid until the next forward).  train != 0 keeps what
	 * backward needs. */
	int (*forward)(void *self, sp_ctx *ctx, const sp_seq *x, sp_seq *y,
		       int train);
	/* dy:(T,B,out) of the last training forward.  ACCUMULATES weight
	 * gradients (the host zeroes them) and writes dx (T,B,in) into the
	 * stage's own buffer, returned in *dx (NULL data when the input was
	 * ids or needs no gradient). */
	int (*backward)(void *self, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx);
	/* Carry the final state of one forward into the next (truncated BPTT,
	 * generation) when on != 0; off (the default) starts every forward
	 * from zero state.  reset != 0 clears a carried state. */
	int (*carry)(void *self, sp_ctx *ctx, int on, int reset);
	/* Optional (may be NULL): report the quantities of step t of batch
	 * row b of the last forward, in the course's notation.  With
	 * t == SP_TRACE_PARAMS (before any forward too): the stage's
	 * weights as the course writes them (W·x with x a column). */
	int (*trace)(void *self, sp_ctx *ctx, size_t t, size_t b,
		     sp_trace_fn emit, void *payload);
	/* --- appended after the first table; a shorter table lacks them --- */
	/* Optional (may be NULL): the teaching instruments, as named values:
	 *   "dh_norm.l<k>.t<t>"     ‖∂L/∂h(t)‖ of layer k at step t over
	 *                           the batch: how the gradient fades or
	 *                           grows going back in time;
	 *   "gate.l<k>.<g>.mean"    mean activation of gate g (lstm i f o,
	 *   "gate.l<k>.<g>.sat"     gru z r) and the share saturated
	 *                           (< 0.05 or > 0.95) over the batch.
	 * The runner calls it twice on a sample batch: after the training
	 * forward, then after the backward (unless the batch had no loss, so
	 * no backward ran).  Emit each value once, when it is there (the
	 * gate activations after the forward: a backward may reuse their
	 * memory; the gradient norms after the backward). */
	int (*instruments)(void *self, sp_ctx *ctx, sp_metric_fn emit,
			   void *payload);
	/* Optional (NULL = no): does the output at step t depend on inputs
	 * after t (a bidirectional layer)?  A language model must not see
	 * the token it predicts, so the host refuses such a model for it. */
	int (*sees_future)(const void *self);
	/* Optional (may be NULL): when carrying (carry on), keep the state
	 * after `step` steps of each following forward instead of the state
	 * after its last step; 0 (the default) = the last step, and a
	 * forward shorter than `step` keeps its last step too.  The host
	 * uses it for truncated BPTT with windows that overlap (TBPTT(k1,
	 * k2): a window of k2 steps every k1 steps starts from the state
	 * k1 steps into the one before).  The setting stays until changed. */
	int (*carry_at)(void *self, sp_ctx *ctx, size_t step);
	/* Optional (NULL = none): where pretrained word vectors go.  The
	 * index, in the order of weights(), of the stage's (V, E) embedding
	 * table (one row per input id, V = in_dim), or -1 when this
	 * configuration has none.  [encode] vectors = FILE fills its rows;
	 * the host refuses vectors for a model without one. */
	int (*embedding)(const void *self);
	/* Optional (NULL = the stage reads ids or vectors only): the
	 * characters of each token of the next forward(s) (sp_chars).  Its
	 * presence is the declaration: the host then keeps every token's
	 * characters (format conll or a word tokenizer; not with truncated
	 * BPTT streams) and calls chars() before each forward, before the
	 * forward of every stage of a stack.  The struct is the call's; the
	 * arrays stay valid until the matching backward() returns, or the
	 * next chars() when none follows (as forward's input).  A stage
	 * with this op may be stacked anywhere: T stays the token count. */
	int (*chars)(void *self, sp_ctx *ctx, const sp_chars *c);
} sp_model_ops;

/* ------------------------------------------------------------------ */
/* Head (task output layer)                                            */
/* ------------------------------------------------------------------ */

/* What the host tells a head about the task when it is created. */
typedef struct sp_head_env {
	size_t size;               /* sizeof(sp_head_env) */
	const sp_vocab *input;     /* vocabulary of the input tokens */
	const sp_vocab *labels;    /* label set (tags, classes, target vocab);
				      for SP_TARGET_NEXT_TOKEN the same as input;
				      for SP_TARGET_SEQUENCE the target
				      vocabulary (the input's own when
				      [encode] shared = true) */
	size_t n_outputs;          /* the head's outputs are labels
				      [0, n_outputs): the training split's.
				      Ids from n_outputs to the size of
				      labels are gold labels only dev/test
				      has: no output, no loss, and scored
				      as a miss.  0 (or an older host's
				      smaller env): every label */
} sp_head_env;

/* Where a head's targets come from: the field of the data's examples
 * that it reads (which reader gives it is the host's business: lines gives
 * text only, conll a label per token, tsv a label per text). */
typedef enum sp_label_field {
	SP_LABELS_NEXT_TOKEN = 1, /* none: the input shifted by one */
	SP_LABELS_TOKEN = 2,      /* one label per token */
	SP_LABELS_TEXT = 3,       /* one label per text */
	SP_LABELS_SEQUENCE = 4    /* a second token sequence: the target
				     side of parallel text (format =
				     parallel); see sp_head_ops.generate */
} sp_label_field;

/* One metric a head emits through its metrics op.  A name "x" covers the
 * per-type breakdowns "x.<type>" as well (f1.PER). */
typedef struct sp_metric_decl {
	const char *name;
	int higher_is_better;     /* 1: higher is better; 0: lower is better */
	const char *doc;          /* one line */
} sp_metric_decl;

/*
 * What a head needs and gives, read by the host before anything runs:
 * the field its targets come from, every metric it emits with its
 * direction, and the one that picks the best dev epoch by default
 * (train.metric overrides it with another declared metric).  `pipeline
 * check` refuses a train.metric the head does not declare.  Static.
 */
typedef struct sp_head_task {
	size_t size;                   /* sizeof(sp_head_task) */
	sp_label_field labels;
	const sp_metric_decl *metrics; /* {NULL}-terminated */
	const char *best;              /* one of metrics */
} sp_head_task;

/* Decoding options of a sequence head (sp_head_ops.generate).  Start
 * from all zeroes with size set; 0 in a field means the head's default.
 * Fields are only appended. */
typedef struct sp_gen_opts {
	size_t size;          /* sizeof(sp_gen_opts) */
	size_t beam;          /* hypotheses kept per sequence; 1 = greedy */
	double max_ratio;     /* at most ceil(max_ratio * source length) + 1
				 target steps */
	double len_alpha;     /* beam: rank finished hypotheses by
				 logprob / length^len_alpha */
	int attention;        /* != 0: pass each output's attention weights */
} sp_gen_opts;

/* One decoded sequence: row b of the batch, its n target ids (without
 * <bos>, with the final <eos> when one was produced), its score (the
 * summed log-probability), and, when asked for, the attention weights
 * attn (n,S) row-major: output step k over the S source steps (NULL
 * otherwise).  Everything is the callee's for the call only. */
typedef int (*sp_gen_fn)(void *payload, size_t b, const int32_t *ids,
			 size_t n, double score, const float *attn, size_t S);

/* One scored output: for position t of sequence b, label id with
 * probability p (k-th best, k from 0). */
typedef int (*sp_pred_fn)(void *payload, size_t t, size_t b, size_t k,
			  int32_t id, float p);

typedef struct sp_head_ops {
	sp_component base;
	sp_target target;
	int (*create)(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim,
		      const sp_head_env *env);
	void (*destroy)(void *self);
	int (*weights)(const void *self, const sp_weight **out, size_t *n_out);
	int (*bind)(void *self, float *const *value, float *const *grad);
	int (*init)(void *self, sp_ctx *ctx);
	/* h:(T,B,in).  With y != NULL: *loss = summed loss over targets,
	 * *n_loss = their count (mean = loss / n_loss), and the prediction
	 * statistics of this batch are added to the head's metric
	 * accumulators.  train != 0 keeps what backward needs. */
	int (*forward)(void *self, sp_ctx *ctx, const sp_seq *h,
		       const sp_labels *y, double *loss, size_t *n_loss,
		       int train);
	/* Gradient of (loss / scale) with respect to h of the last training
	 * forward, ACCUMULATED into dh->x (T,B,in) which the host zeroed;
	 * weight gradients accumulate as in models. */
	int (*backward)(void *self, sp_ctx *ctx, double scale, sp_seq *dh);
	/* Metric accumulators: clear, and report what accumulated since. */
	int (*metrics_reset)(void *self);
	int (*metrics)(void *self, sp_ctx *ctx, sp_metric_fn emit,
		       void *payload);
	/* The k best outputs of each real position of the last forward
	 * (for SP_TARGET_NEXT_TOKEN and TAGS every step, for CLASS t = 0). */
	int (*predict)(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit,
		       void *payload);
	/* Draw one id from the output distribution of step t, row b of the
	 * last forward at the given temperature, with ctx's RNG. */
	int (*sample)(void *self, sp_ctx *ctx, size_t t, size_t b,
		      double temperature, int32_t *out_id);
	/* Optional (may be NULL): as sp_model_ops.trace. */
	int (*trace)(void *self, sp_ctx *ctx, size_t t, size_t b,
		     sp_trace_fn emit, void *payload);
	/* --- appended after the first table; a shorter table lacks them --- */
	/* Optional (NULL = the host's defaults for `target`: lm loss,
	 * tagger f1, classifier accuracy): the task the head describes. */
	const sp_head_task *task;
	/* Optional (NULL = the metrics of a split computed in parts cannot
	 * be combined, so data-parallel runs refuse the head): the metric
	 * accumulators as *n doubles that add up across the parts of a
	 * split.  buf NULL: only sets *n; set 0: copies them into buf[0..*n);
	 * set 1: replaces them with buf[0..*n). */
	int (*metric_state)(void *self, double *buf, size_t *n, int set);
	/* --- appended for heads with a target sequence (translation) --- */
	/* Optional (may be NULL): called before each training epoch, 0-based,
	 * of `epochs` (resuming, the first is the one resumed), so that a
	 * head can schedule what depends on the epoch (teacher forcing). */
	int (*epoch)(void *self, sp_ctx *ctx, size_t epoch, size_t epochs);
	/* Optional (may be NULL; SP_TARGET_SEQUENCE heads have it): decodes
	 * every sequence of h (the model's output over the SOURCE, (S,B,in),
	 * with its mask and len) into target ids, greedy or with a beam, and
	 * calls emit once per row b, in order.  The target vocabulary is
	 * sp_head_env.labels, whose <bos> and <eos> start and end a target.
	 * Leaves the forward cache undefined (no backward follows). */
	int (*generate)(void *self, sp_ctx *ctx, const sp_seq *h,
			const sp_gen_opts *opts, sp_gen_fn emit, void *payload);
} sp_head_ops;

/* ------------------------------------------------------------------ */
/* Reader (a data format)                                              */
/* ------------------------------------------------------------------ */
/*
 * A reader is what `[data] format = NAME` names: it turns one split's file
 * into examples and hands each to the host, which copies it (so a reader
 * may reuse its buffers after emit returns).  Its params are keys of the
 * [data] section next to the host's own (format, train, dev, test,
 * max_examples, max_len), validated by `pipeline check`.  A reader keeps
 * no state between calls (no create/destroy): read() gets everything.
 *
 * Bad input is SP_EINPUT with one line "FILE:LINE: what was expected" (or
 * FILE:LINE:COL, or a byte offset); a missing file SP_EIO.  A reader may
 * read `.gz` files, must refuse invalid UTF-8 in text it hands on, and
 * must stop at the ceilings of the environment.
 */

/* The fields an example may carry (sp_reader_ops.fields, a bit set). */
typedef enum sp_field {
	SP_FIELD_TEXT = 1,   /* a text the tokenizer splits */
	SP_FIELD_TOKENS = 2, /* tokens, already split */
	SP_FIELD_TAGS = 4,   /* a label per token (with TOKENS) */
	SP_FIELD_LABEL = 8,  /* a label per example */
	SP_FIELD_TARGET = 16 /* a second text (a translation) */
} sp_field;

/* One example, the call's only: the host copies what it keeps.  Fields
 * the reader does not give are NULL / 0.  Strings are UTF-8; text and
 * target are given by their length (they need not be NUL-terminated),
 * tokens, tags and label are NUL-terminated. */
typedef struct sp_example {
	size_t size;               /* sizeof(sp_example): SP_EXAMPLE_INIT */
	size_t line;               /* 1-based source line (or record), for
				      messages */
	const char *text;          /* SP_FIELD_TEXT */
	size_t text_len;
	const char *const *tokens; /* SP_FIELD_TOKENS: n_tokens of them */
	const char *const *tags;   /* SP_FIELD_TAGS: one per token */
	size_t n_tokens;
	const char *label;         /* SP_FIELD_LABEL */
	const char *target;        /* SP_FIELD_TARGET */
	size_t target_len;
} sp_example;
#define SP_EXAMPLE_INIT {sizeof(sp_example), 0, NULL, 0, NULL, NULL, 0, NULL, NULL, 0}

/* What the host gives read(): where to send examples, and the limits. */
typedef struct sp_read_env {
	size_t size;             /* sizeof(sp_read_env) */
	const char *split;       /* "train", "dev" or "test" */
	uint64_t seed;           /* [pipeline] seed, for generated data */
	size_t max_line_bytes;   /* ceiling of one line */
	uint64_t max_file_bytes; /* ceiling of a file (decompressed) */
	/* One example.  Returns 0 to go on, > 0 when the host has enough
	 * (max_examples: stop reading and return 0), < 0 an error to pass
	 * back. */
	int (*emit)(void *payload, const sp_example *ex);
	/* A malformed line skipped because the reader's options say so
	 * (skip_bad): counted and reported by the host. */
	int (*skip)(void *payload, size_t line);
	void *payload;
} sp_read_env;

typedef struct sp_reader_ops {
	sp_component base;
	unsigned fields;  /* sp_field bits its examples carry */
	int generated;    /* != 0: makes its examples (no file; path is
			     NULL and [data] train is not required) */
	/* Optional (may be NULL): checks of the keys taken together, for
	 * `pipeline check`, before any file is read. */
	int (*check)(sp_ctx *ctx, const sp_kv *args);
	/* Reads split file `path` (or generates env->split) with the
	 * validated [data] keys `args`, emitting every example through env.
	 * No examples at all is the host's error, not the reader's. */
	int (*read)(sp_ctx *ctx, const sp_kv *args, const char *path,
		    const sp_read_env *env);
} sp_reader_ops;

/* Does the ops table `ops` of type `type` (e.g. sp_model_ops) have member
 * op, i.e. was the plugin built with a header that had it, and is it set? */
#define SP_HAS_OP(type, ops, op)                                           \
	((ops)->base.size >= offsetof(type, op) + sizeof((ops)->op) &&      \
	 (ops)->op != NULL)

/* ------------------------------------------------------------------ */
/* The plugin descriptor                                               */
/* ------------------------------------------------------------------ */
typedef struct sp_plugin {
	int abi;                /* SP_ABI_VERSION at build time */
	const char *name;       /* MUST equal the module file name ("rnn") */
	const char *version;
	const char *doc;        /* one line */
	const sp_component *const *components; /* NULL-terminated */
} sp_plugin;

/*
 * The ABI note: SP_PLUGIN_DEFINE also records SP_ABI_VERSION in an ELF note
 * (section ".note.seqpipe", note name "seqpipe", type 1, a 4-byte
 * descriptor), which the host reads from the file before opening it, so a
 * module built for another ABI is refused before any of its code runs.
 * Modules built without it (other compilers, older headers) are checked
 * through the descriptor's `abi` after they are opened.
 */
#if defined(__GNUC__) && defined(__ELF__)
#define SP_PLUGIN_ABI_NOTE_(modname)                                        \
	__attribute__((section(".note.seqpipe"), used, aligned(4)))         \
	static const struct {                                               \
		uint32_t namesz, descsz, type;                              \
		char name[8];                                               \
		int32_t abi;                                                \
	} modname##_abi_note_ = {8, 4, 1, "seqpipe", SP_ABI_VERSION};
#else
#define SP_PLUGIN_ABI_NOTE_(modname)
#endif

/*
 * Defines the one exported symbol.  libltdl's lt_dlsym(h, "sp_plugin_entry")
 * looks up "<modname>_LTX_sp_plugin_entry" first, so every plugin can also
 * be preloaded into one static program without symbol clashes.
 */
#define SP_PLUGIN_DEFINE(modname, version, doc, ...)                       \
	SP_PLUGIN_ABI_NOTE_(modname)                                       \
	static const sp_component *const modname##_components_[] = {      \
		__VA_ARGS__, NULL};                                         \
	static const sp_plugin modname##_plugin_ = {                       \
		SP_ABI_VERSION, #modname, version, doc,                     \
		modname##_components_};                                     \
	const sp_plugin *modname##_LTX_sp_plugin_entry(void);              \
	const sp_plugin *modname##_LTX_sp_plugin_entry(void)               \
	{                                                                  \
		return &modname##_plugin_;                                 \
	}

#ifdef __cplusplus
}
#endif
#endif /* SP_PLUGIN_H */
