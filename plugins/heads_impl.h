/*
 * heads_impl.h: what the files of the heads plugin share.  Private to the
 * plugin: nothing here is part of the ABI, and the module exports only its
 * entry point (-export-symbols-regex), so these names never leave it.
 *
 *   heads.c          the descriptor: the plugin and its component list
 *   head_core.c      the head object, its buffers, the softmax output
 *                    core and the ops every softmax head shares
 *   head_lm.c        lm: next token over the input vocabulary
 *   head_tagger.c    tagger: one tag per step; entity metrics
 *   head_classify.c  classify: one class per sequence from pooled h
 *   head_crf.c       crf: linear-chain CRF tagger (its own object)
 *
 * The softmax heads (lm, tagger, classify) are one object, `head`, whose
 * kind selects how rows are gathered from h and how they are counted.  The
 * equations are in head_core.c.
 */
#ifndef SP_HEADS_IMPL_H
#define SP_HEADS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "sp_plugin.h"
#include "sp_tags.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

typedef enum head_kind { HEAD_LM, HEAD_TAGGER, HEAD_CLASSIFY } head_kind;
typedef enum pool_kind { POOL_LAST, POOL_MEAN, POOL_MAX } pool_kind;

typedef struct head {
	head_kind kind;
	size_t in, K;          /* input width, number of outputs */
	size_t N;              /* labels (>= K): ids [K, N) are gold labels
				  only dev/test has, scored as misses */
	float dropout;         /* probability of dropping an input element */
	pool_kind pool;        /* classify */
	sp_tag_scheme scheme;  /* tagger: SP_TAGS_NONE = no entity metrics */
	const char *y_label;   /* trace labels, in the course's notation */
	const char *p_label;

	sp_weight w[2];        /* W (K,in), b (K), named per head */
	float *W, *b;          /* bound values (host arena) */
	float *dW, *db;        /* bound gradients (host arena) */

	/* The last forward. */
	size_t T, B;           /* its shape (0, 0 before the first) */
	size_t n;              /* rows projected */
	int train;             /* it kept what backward needs */
	int has_targets;       /* it had labels */
	int dropped;           /* dropout was applied: `drop` is valid */

	/* Batch buffers, all sized by heads_reserve (rows: T*B for lm and
	 * tagger, B for classify). */
	size_t cap_T, cap_B, cap_steps;
	float *x;              /* (rows,in) projected vectors, after dropout */
	float *drop;           /* (rows,in) dropout multipliers 0 or 1/(1-p);
				  only when dropout > 0 */
	float *y;              /* (rows,K) logits */
	float *p;              /* (rows,K) softmax(y) */
	float *dy;             /* (rows,K) d(loss/scale)/dy */
	float *dx;             /* (rows,in) d(loss/scale)/dx */
	int32_t *tgt;          /* (rows) target id, -1 for none */
	size_t *src;           /* (rows) lm, tagger: step t*B+b; classify: b */
	int32_t *row_of;       /* (T*B) row a step feeds, -1 for padding */
	int32_t *seq_row;      /* (B) classify: row of sequence b, or -1 */
	size_t *arg;           /* (rows,in) classify max: step of the max */
	sp_tag_info *gold_seq; /* (T) tagger: one sequence's gold tags */
	sp_tag_info *pred_seq; /* (T) and predicted tags */
	sp_tag_span *gold_sp;  /* (T) their entities */
	sp_tag_span *pred_sp;  /* (T) */

	/* Sized at create. */
	double *dsum;          /* (K) db accumulated over rows in double */
	int32_t *idx;          /* (K) predict's top-k selection */
	sp_tag_info *info;     /* (K) tagger: each tag decoded */
	size_t n_names;        /* tagger: entity types; classify: K */
	char **names;          /* (n_names) metric names "f1.<type|label>" */

	/* Metric accumulators (metrics_reset clears them). */
	double m_loss;         /* Σ cross-entropy (nats) */
	size_t m_n;            /* targets in the loss */
	size_t m_steps;        /* targets scored (accuracy's denominator):
				  m_n and those without an output */
	size_t m_correct;      /* top-1 hits */
	size_t *m_gold;        /* (n_names) gold entities / class occurrences */
	size_t *m_pred;        /* (n_names) predicted ones */
	size_t *m_hit;         /* (n_names) correct ones */
} head;

/* ---- small helpers (head_core.c) ---------------------------------- */

const char *heads_name(const head *hd);
/* Index of the largest of v[0..n); ties go to the lowest index. */
int32_t heads_argmax(const float *v, size_t n);
/* Is step (t, b) of h real (not padding)? */
int heads_step_real(const sp_seq *h, size_t t, size_t b);
/* The target at label position i (t*B+b; for classify b) as an id in
 * [0, N), or -1 when there is none; an id >= N is SP_EINPUT.  `name` and
 * N say whose labels they are.  Ids in [K, N) have no output: no loss. */
int heads_label_at(const char *name, size_t N, sp_ctx *ctx,
		   const sp_labels *y, size_t i, int32_t *out);
/* "f1." + text[0..len) (caller owns), or NULL when out of memory. */
char *heads_metric_name(const char *text, size_t len);
/* 2·hit / (gold + pred), 0 when there is nothing. */
double heads_f1(size_t hit, size_t gold, size_t pred);
/* The common part of a head's create(): the env is there. */
int heads_env_ok(sp_ctx *ctx, const char *name, const sp_head_env *env);
/* The number of outputs: env's n_outputs, or every label (older hosts). */
size_t heads_env_outputs(const sp_head_env *env);

/* ---- the softmax head object (head_core.c) ------------------------ */

int heads_new(head **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim,
	      head_kind kind, size_t K, const char *wname, const char *bname,
	      size_t n_names);
void heads_destroy(void *self);
/* Makes the batch buffers hold a (T,B) batch (they only grow). */
int heads_reserve(head *hd, sp_ctx *ctx, size_t T, size_t B);
/* For a head's own batch buffers, which only grow as heads_reserve's:
 * malloc of n + 1 elements of `size` bytes (malloc(0) may return NULL,
 * which must not read as failure), setting *failed when it fails; and
 * whether rows x width such elements (+1) would overflow size_t. */
void *heads_buf(size_t n, size_t size, int *failed);
int heads_buf_too_large(size_t rows, size_t width, size_t size);
/* The end of a forward that succeeded: what backward reads (train, the
 * labels), the loss and target count into the metric accumulators and
 * *loss, *n_loss (either may be NULL) when there were labels. */
void heads_forward_done(head *hd, int train, const sp_labels *y, double sum,
			size_t count, double *loss, size_t *n_loss);
/* h (T,B,in) and the labels fit the head (bound, widths, shapes). */
int heads_check_forward(const head *hd, sp_ctx *ctx, const sp_seq *h,
			const sp_labels *y);
/* Dropout (training) and Y (n,K) = X·Wᵀ + b on the n gathered rows. */
void heads_project(head *hd, sp_ctx *ctx, int train);
/* From dY (n,K) in hd->dy: dW += dYᵀ·X, db += Σ dY, dX = dY·W (masked
 * as the dropout was). */
void heads_project_backward(head *hd);
/* lm, tagger: one row per real step (t major); dX back into dh. */
int heads_steps_gather(head *hd, sp_ctx *ctx, const sp_seq *h,
		       const sp_labels *y);
void heads_steps_scatter(const head *hd, float *dh);

/* ---- per kind ----------------------------------------------------- */

/* head_classify.c: one row per sequence, the pool of its real steps. */
int heads_pool_gather(head *hd, sp_ctx *ctx, const sp_seq *h,
		      const sp_labels *y);
void heads_pool_scatter(const head *hd, float *dh);
/* head_tagger.c: token accuracy and entities of the last forward. */
void heads_count_tags(head *hd);

/*
 * head_tagger.c, for tagger and crf: decodes the K tags of `labels` into
 * info (K), collects their entity types as metric names "f1.<type>" in
 * names (room for K; *n_names of them, caller frees), and resolves
 * `scheme` ("auto", "none", or a name of sp_tag_scheme_from_name) into
 * *out.  An explicit scheme rejects tags it does not allow; auto picks
 * iobes when an E- or S- tag exists, iob2 when B-/I- tags exist, and none
 * when there are no entity tags or some tag is not O / X-TYPE.  Special
 * tokens of the label set (<pad>, ...) count as O.  `who` names the head
 * in messages.
 */
int heads_tag_table(sp_ctx *ctx, const char *who, const sp_vocab *labels,
		    size_t K, size_t N, const char *scheme, sp_tag_info *info,
		    char **names, size_t *n_names, sp_tag_scheme *out);
/* The entities of one sequence's gold and predicted tags (m of each),
 * counted per type into m_gold, m_pred and m_hit; gs and ps are scratch
 * room for m spans each. */
void heads_count_entities(const sp_tag_info *gold, const sp_tag_info *pred,
			  size_t m, sp_tag_span *gs, sp_tag_span *ps,
			  size_t *m_gold, size_t *m_pred, size_t *m_hit);
/* Emits precision, recall, f1 (entities, over all types) and then
 * f1.<TYPE> for each of the n types named in names. */
int heads_emit_entities(char *const *names, size_t n, const size_t *m_gold,
			const size_t *m_pred, const size_t *m_hit,
			sp_metric_fn emit, void *payload);

/* The ops tables the shared file fills in for every softmax head. */
#define HEAD_OPS_                                                          \
	.destroy = heads_destroy, .weights = heads_weights,                \
	.bind = heads_bind, .init = heads_init, .forward = heads_forward,  \
	.backward = heads_backward,                                         \
	.metrics_reset = heads_metrics_reset, .metrics = heads_metrics,    \
	.predict = heads_predict, .sample = heads_sample,                  \
	.trace = heads_trace, .metric_state = heads_metric_state

int heads_weights(const void *self, const sp_weight **out, size_t *n_out);
int heads_bind(void *self, float *const *value, float *const *grad);
int heads_init(void *self, sp_ctx *ctx);
int heads_forward(void *self, sp_ctx *ctx, const sp_seq *h,
		  const sp_labels *y, double *loss, size_t *n_loss, int train);
int heads_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh);
int heads_metrics_reset(void *self);
int heads_metric_state(void *self, double *buf, size_t *n, int set);
int heads_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit, void *payload);
int heads_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit,
		  void *payload);
int heads_sample(void *self, sp_ctx *ctx, size_t t, size_t b,
		 double temperature, int32_t *out_id);
int heads_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		sp_trace_fn emit, void *payload);

/* The dropout key every head takes. */
#define HEADS_DROPOUT_PARAM                                                \
	{"dropout", SP_T_FLOAT, "0",                                       \
	 "inverted dropout probability on h before the projection "       \
	 "(training only)", NULL}

/* The components (one per file). */
extern const sp_head_ops heads_lm_ops;
extern const sp_head_ops heads_tagger_ops;
extern const sp_head_ops heads_classify_ops;
extern const sp_head_ops heads_crf_ops;
extern const sp_head_task heads_tagger_task; /* tagger and crf */

#endif /* SP_HEADS_IMPL_H */
