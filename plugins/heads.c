/*
 * heads.c: the softmax output heads, three components of one plugin:
 *
 *   lm        language model: at every real step t, a distribution over
 *             the input vocabulary for the next token
 *   tagger    one tag per real step (NER, DNA annotation)
 *   classify  one class per sequence (sentiment), from a pooled h
 *
 * All three are the output layer of the course's character-level "hello"
 * RNN.  For each vector h that is projected (one per real step for lm and
 * tagger, one per sequence for classify):
 *
 *     y = Why·h + by                 logits        Why (K,in), by (K)
 *     p = softmax(y)                 p_k = exp(y_k) / Σ_j exp(y_j)
 *     L = Σ −log p[target]           cross-entropy, summed over targets (nats)
 *
 * and, since d(−log softmax(y)[c])/dy = p − onehot(c) (softmax and
 * cross-entropy fused, as in llm.c), the gradient of L / scale is
 *
 *     dy   = (p − onehot(target)) / scale
 *     dWhy += dy·hᵀ      dby += dy      dh += Whyᵀ·dy
 *
 * Batched, the vectors are rows of X (n,in), gathered from the real steps
 * only, so each direction is ONE sgemm over all rows at once:
 *
 *     Y (n,K)   = X·Wᵀ + 1·bᵀ           forward
 *     dW (K,in) += dYᵀ·X                backward
 *     db (K)    += Σ_rows dY
 *     dX (n,in)  = dY·W                 then scattered back into dh
 *
 * `scale` follows sp_plugin.h: backward is the gradient of (loss / scale),
 * so a host that passes scale = n_loss trains on the mean loss.  Padded
 * steps, masked labels and labels with id < 0 add nothing to loss, metrics
 * or gradients (a padded step gets dh = 0).  Loss and metric sums are kept
 * in double; cross-entropy is computed as log Σ exp(y) − y[c] from the
 * logits, so it stays exact when p[c] underflows.
 *
 * Params: lm `dropout`; tagger `dropout`, `scheme` (auto|bio|bioes|none);
 * classify `dropout`, `pool` (last|mean|max).
 *
 * Every head takes `dropout` (default 0): inverted dropout on the projected
 * vector, in training only, drawn from ctx's RNG:
 *     x = h ⊙ m / (1 − dropout),   m_i ~ Bernoulli(1 − dropout).
 * Init: W ~ uniform(−1/√in, 1/√in) (PyTorch's nn.Linear default, which
 * keeps the initial logits O(1) whatever `in` is), b = 0.
 *
 * classify pools over each sequence's real steps before projecting:
 * `last` takes h at the last real step, `mean` averages, `max` takes the
 * element-wise maximum (its gradient goes to the step holding the max).
 * For a bidirectional model, h is [forward | backward] concatenated, and
 * `last` takes both halves at the last step: the forward half has read the
 * whole sequence there, the backward half only that last step.  Use `mean`
 * or `max` to give the backward direction the same weight.
 *
 * tagger entity metrics follow conlleval (CoNLL-2000): an entity counts as
 * correct only if its start, end and type all match; precision, recall and
 * F1 are reported as fractions (conlleval prints percentages).  See
 * tag_spans_ for the chunk rules of BIO and BIOES.
 *
 * Not here: the recurrent layers (plugins/rnn.c), the optimizer
 * (core/sp_optim.c), and sequence-to-sequence decoding.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_act.h"
#include "sp_blas.h"
#include "sp_kv.h"
#include "sp_plugin.h"
#include "sp_vocab.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

typedef enum head_kind { HEAD_LM, HEAD_TAGGER, HEAD_CLASSIFY } head_kind;
typedef enum pool_kind { POOL_LAST, POOL_MEAN, POOL_MAX } pool_kind;
typedef enum tag_scheme { SCHEME_NONE, SCHEME_BIO, SCHEME_BIOES } tag_scheme;

/* A tag decoded: its prefix ('B', 'I', 'E', 'S', or 'O' for outside)
 * and the index of its entity type (-1 for 'O'). */
typedef struct tag_info {
	char prefix;
	int32_t type;
} tag_info;

/* An entity: steps [start, end) of one sequence, of one type. */
typedef struct tag_span {
	size_t start, end;
	int32_t type;
} tag_span;

typedef struct head {
	head_kind kind;
	size_t in, K;          /* input width, number of outputs */
	float dropout;         /* probability of dropping an input element */
	pool_kind pool;        /* classify */
	tag_scheme scheme;     /* tagger */
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

	/* Batch buffers, all sized by head_reserve_ (rows: T*B for lm and
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
	int32_t *gold_seq;     /* (T) tagger: one sequence's gold tags */
	int32_t *pred_seq;     /* (T) and predicted tags */
	tag_span *gold_sp;     /* (T) their entities */
	tag_span *pred_sp;     /* (T) */

	/* Sized at create. */
	double *dsum;          /* (K) db accumulated over rows in double */
	int32_t *idx;          /* (K) predict's top-k selection */
	tag_info *info;        /* (K) tagger: each tag decoded */
	size_t n_names;        /* tagger: entity types; classify: K */
	char **names;          /* (n_names) metric names "f1.<type|label>" */

	/* Metric accumulators (metrics_reset clears them). */
	double m_loss;         /* Σ cross-entropy (nats) */
	size_t m_n;            /* targets */
	size_t m_correct;      /* top-1 hits */
	size_t *m_gold;        /* (n_names) gold entities / class occurrences */
	size_t *m_pred;        /* (n_names) predicted ones */
	size_t *m_hit;         /* (n_names) correct ones */
} head;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static const char *head_name_(const head *hd)
{
	return hd->kind == HEAD_LM ? "lm" :
	       hd->kind == HEAD_TAGGER ? "tagger" : "classify";
}

/* Index of the largest of v[0..n); ties go to the lowest index. */
static int32_t argmax_(const float *v, size_t n)
{
	size_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return (int32_t)best;
}

/* Is step (t, b) of h real (not padding)? */
static int step_real_(const sp_seq *h, size_t t, size_t b)
{
	if (h->mask)
		return h->mask[t * h->B + b] != 0;
	if (h->len)
		return (int64_t)t < (int64_t)h->len[b];
	return 1;
}

/* The target at label position i (t*B+b; for classify T = 1, so b): its
 * id, or -1 when there is none (no labels, masked, or id < 0).  An id
 * outside the label set is malformed input. */
static int label_at_(const head *hd, sp_ctx *ctx, const sp_labels *y,
		     size_t i, int32_t *out)
{
	int32_t id;
	*out = -1;
	if (!y || (y->mask && !y->mask[i]))
		return SP_OK;
	id = y->id[i];
	if (id >= (int64_t)hd->K)
		return sp_err(ctx, SP_EINPUT, "%s: label id %d at step %zu of "
			      "sequence %zu is outside the %zu labels",
			      head_name_(hd), (int)id, i / y->B, i % y->B,
			      hd->K);
	*out = id < 0 ? -1 : id;
	return SP_OK;
}

/* "f1." + text (caller owns), or NULL when out of memory. */
static char *metric_name_(const char *text, size_t len)
{
	char *s = malloc(len + 4);
	if (!s)
		return NULL;
	memcpy(s, "f1.", 3);
	memcpy(s + 3, text, len);
	s[len + 3] = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* Buffers: the one sizing function                                    */
/* ------------------------------------------------------------------ */

static void bufs_free_(head *hd)
{
	free(hd->x);
	free(hd->drop);
	free(hd->y);
	free(hd->p);
	free(hd->dy);
	free(hd->dx);
	free(hd->tgt);
	free(hd->src);
	free(hd->row_of);
	free(hd->seq_row);
	free(hd->arg);
	free(hd->gold_seq);
	free(hd->pred_seq);
	free(hd->gold_sp);
	free(hd->pred_sp);
	hd->x = hd->drop = hd->y = hd->p = hd->dy = hd->dx = NULL;
	hd->tgt = hd->row_of = hd->seq_row = NULL;
	hd->src = hd->arg = NULL;
	hd->gold_seq = hd->pred_seq = NULL;
	hd->gold_sp = hd->pred_sp = NULL;
	hd->cap_T = hd->cap_B = hd->cap_steps = 0;
}

/*
 * Makes the batch buffers hold a (T,B) batch.  They only grow, and only
 * when T, B or T*B exceed every earlier batch: forward and backward then
 * allocate nothing.  On failure everything is freed (the next forward
 * retries) and SP_ENOMEM is returned.
 */
static int head_reserve_(head *hd, sp_ctx *ctx, size_t T, size_t B)
{
	size_t cT, cB, steps, rows;
	if (B && T > SIZE_MAX / B)
		return sp_err(ctx, SP_EINVAL, "head: batch %zu x %zu too large",
			      T, B);
	if (T <= hd->cap_T && B <= hd->cap_B && T * B <= hd->cap_steps)
		return SP_OK;
	cT = T > hd->cap_T ? T : hd->cap_T;
	cB = B > hd->cap_B ? B : hd->cap_B;
	steps = cT * cB;
	rows = hd->kind == HEAD_CLASSIFY ? cB : steps;
	if (rows && (rows > SIZE_MAX / sizeof(float) / hd->in ||
		     rows > SIZE_MAX / sizeof(float) / hd->K))
		return sp_err(ctx, SP_EINVAL, "head: batch %zu x %zu too large",
			      T, B);
	bufs_free_(hd);
	/* +1: malloc(0) may return NULL, which must not read as failure */
	hd->x = malloc((rows * hd->in + 1) * sizeof(float));
	hd->dx = malloc((rows * hd->in + 1) * sizeof(float));
	hd->y = malloc((rows * hd->K + 1) * sizeof(float));
	hd->p = malloc((rows * hd->K + 1) * sizeof(float));
	hd->dy = malloc((rows * hd->K + 1) * sizeof(float));
	hd->tgt = malloc((rows + 1) * sizeof(int32_t));
	hd->src = malloc((rows + 1) * sizeof(size_t));
	hd->row_of = malloc((steps + 1) * sizeof(int32_t));
	hd->seq_row = malloc((cB + 1) * sizeof(int32_t));
	if (!hd->x || !hd->dx || !hd->y || !hd->p || !hd->dy || !hd->tgt ||
	    !hd->src || !hd->row_of || !hd->seq_row)
		goto fail;
	if (hd->dropout > 0) {
		hd->drop = malloc((rows * hd->in + 1) * sizeof(float));
		if (!hd->drop)
			goto fail;
	}
	if (hd->kind == HEAD_CLASSIFY && hd->pool == POOL_MAX) {
		hd->arg = malloc((rows * hd->in + 1) * sizeof(size_t));
		if (!hd->arg)
			goto fail;
	}
	if (hd->kind == HEAD_TAGGER) {
		hd->gold_seq = malloc((cT + 1) * sizeof(int32_t));
		hd->pred_seq = malloc((cT + 1) * sizeof(int32_t));
		hd->gold_sp = malloc((cT + 1) * sizeof(tag_span));
		hd->pred_sp = malloc((cT + 1) * sizeof(tag_span));
		if (!hd->gold_seq || !hd->pred_seq || !hd->gold_sp ||
		    !hd->pred_sp)
			goto fail;
	}
	hd->cap_T = cT;
	hd->cap_B = cB;
	hd->cap_steps = steps;
	return SP_OK;
fail:
	bufs_free_(hd);
	return sp_err(ctx, SP_ENOMEM, "head: out of memory for a %zu x %zu "
		      "batch", T, B);
}

/* ------------------------------------------------------------------ */
/* The shared softmax-output core                                      */
/* ------------------------------------------------------------------ */

/*
 * On the n rows the head gathered into x (n,in) with targets tgt (n):
 * dropout (training), Y = X·Wᵀ + b, P = softmax(Y), and the summed
 * cross-entropy over rows that have a target.
 */
static int core_forward_(head *hd, sp_ctx *ctx, int train, double *loss,
			 size_t *n_loss)
{
	const size_t n = hd->n, K = hd->K, in = hd->in;
	double sum = 0;
	size_t count = 0;

	hd->dropped = train && hd->dropout > 0;
	if (hd->dropped) {
		/* inverted dropout: E[x] is unchanged, so inference needs
		 * no rescaling */
		const double keep = 1.0 - hd->dropout;
		const float up = (float)(1.0 / keep);
		for (size_t i = 0; i < n * in; i++) {
			hd->drop[i] = sp_rng_uniform(ctx) < keep ? up : 0.0f;
			hd->x[i] *= hd->drop[i];
		}
	}

	/* Y (n,K) = X (n,in) · Wᵀ (in,K) + b: rows start as b, beta = 1 */
	for (size_t r = 0; r < n; r++)
		memcpy(hd->y + r * K, hd->b, K * sizeof(float));
	sp_gemm(0, 1, n, K, in, 1.0f, hd->x, in, hd->W, in, 1.0f, hd->y, K);

	for (size_t r = 0; r < n; r++) {
		const float *yr = hd->y + r * K;
		float *pr = hd->p + r * K;
		double lse;
		memcpy(pr, yr, K * sizeof(float));
		lse = sp_softmaxf(pr, K); /* log Σ_k exp(y_k) */
		if (hd->tgt[r] >= 0) {
			sum += lse - (double)yr[hd->tgt[r]]; /* −log p[c] */
			count++;
		}
	}
	if (!isfinite(sum))
		return sp_err(ctx, SP_ENUMERIC, "%s: loss is not finite",
			      head_name_(hd));
	if (loss)
		*loss = sum;
	if (n_loss)
		*n_loss = count;
	return SP_OK;
}

/*
 * dY = (P − onehot(tgt)) / scale on rows with a target (0 elsewhere);
 * dW += dYᵀ·X, db += Σ dY, and dX = dY·W (times the dropout mask).
 */
static void core_backward_(head *hd, double scale)
{
	const size_t n = hd->n, K = hd->K, in = hd->in;
	const float g = (float)(1.0 / scale);

	for (size_t r = 0; r < n; r++) {
		float *dyr = hd->dy + r * K;
		const float *pr = hd->p + r * K;
		const int32_t c = hd->tgt[r];
		if (c < 0) {
			memset(dyr, 0, K * sizeof(float));
			continue;
		}
		for (size_t k = 0; k < K; k++)
			dyr[k] = g * pr[k];
		dyr[c] -= g;
	}
	if (n == 0)
		return;
	/* dW (K,in) += dYᵀ (K,n) · X (n,in) */
	sp_gemm(1, 0, K, in, n, 1.0f, hd->dy, K, hd->x, in, 1.0f, hd->dW, in);
	/* db (K) += Σ_r dY (r,:), summed in double */
	memset(hd->dsum, 0, K * sizeof(double));
	for (size_t r = 0; r < n; r++)
		for (size_t k = 0; k < K; k++)
			hd->dsum[k] += hd->dy[r * K + k];
	for (size_t k = 0; k < K; k++)
		hd->db[k] += (float)hd->dsum[k];
	/* dX (n,in) = dY (n,K) · W (K,in) */
	sp_gemm(0, 0, n, in, K, 1.0f, hd->dy, K, hd->W, in, 0.0f, hd->dx, in);
	if (hd->dropped)
		for (size_t i = 0; i < n * in; i++)
			hd->dx[i] *= hd->drop[i];
}

/* ------------------------------------------------------------------ */
/* Gathering rows and scattering their gradients                       */
/* ------------------------------------------------------------------ */

/* lm, tagger: one row per real step, in step order (t major). */
static int steps_gather_(head *hd, sp_ctx *ctx, const sp_seq *h,
			 const sp_labels *y)
{
	const size_t in = hd->in;
	size_t n = 0;
	int rc;
	for (size_t t = 0; t < h->T; t++) {
		for (size_t b = 0; b < h->B; b++) {
			const size_t i = t * h->B + b;
			hd->row_of[i] = -1;
			if (!step_real_(h, t, b))
				continue;
			hd->row_of[i] = (int32_t)n;
			hd->src[n] = i;
			memcpy(hd->x + n * in, h->x + i * in,
			       in * sizeof(float));
			if ((rc = label_at_(hd, ctx, y, i, &hd->tgt[n])) < 0)
				return rc;
			n++;
		}
	}
	hd->n = n;
	return SP_OK;
}

/* lm, tagger: dh (T,B,in) at row r's step += dX (r,:). */
static void steps_scatter_(const head *hd, float *dh)
{
	const size_t in = hd->in;
	for (size_t r = 0; r < hd->n; r++) {
		float *d = dh + hd->src[r] * in;
		const float *s = hd->dx + r * in;
		for (size_t j = 0; j < in; j++)
			d[j] += s[j];
	}
}

/*
 * classify: one row per sequence with at least one real step, x = the
 * pool of its real steps' h.  row_of marks every real step with the row
 * it feeds; seq_row gives the row of each sequence.
 */
static int pool_gather_(head *hd, sp_ctx *ctx, const sp_seq *h,
			const sp_labels *y)
{
	const size_t in = hd->in, B = h->B;
	size_t n = 0;
	int rc;
	for (size_t b = 0; b < B; b++) {
		float *xr = hd->x + n * in;
		size_t count = 0, last = 0;
		hd->seq_row[b] = -1;
		for (size_t t = 0; t < h->T; t++) {
			const float *ht = h->x + (t * B + b) * in;
			hd->row_of[t * B + b] = -1;
			if (!step_real_(h, t, b))
				continue;
			hd->row_of[t * B + b] = (int32_t)n;
			if (hd->pool == POOL_MEAN) {
				for (size_t j = 0; j < in; j++)
					xr[j] = count ? xr[j] + ht[j] : ht[j];
			} else if (hd->pool == POOL_MAX) {
				size_t *ar = hd->arg + n * in;
				for (size_t j = 0; j < in; j++)
					if (!count || ht[j] > xr[j]) {
						xr[j] = ht[j];
						ar[j] = t;
					}
			}
			count++;
			last = t;
		}
		if (count == 0)
			continue;
		if (hd->pool == POOL_LAST)
			memcpy(xr, h->x + (last * B + b) * in,
			       in * sizeof(float));
		else if (hd->pool == POOL_MEAN)
			for (size_t j = 0; j < in; j++)
				xr[j] /= (float)count;
		hd->seq_row[b] = (int32_t)n;
		hd->src[n] = b;
		if ((rc = label_at_(hd, ctx, y, b, &hd->tgt[n])) < 0)
			return rc;
		n++;
	}
	hd->n = n;
	return SP_OK;
}

/* classify: dX (r,:) back through the pool into dh (T,B,in). */
static void pool_scatter_(const head *hd, float *dh)
{
	const size_t in = hd->in, T = hd->T, B = hd->B;
	for (size_t r = 0; r < hd->n; r++) {
		const size_t b = hd->src[r];
		const float *s = hd->dx + r * in;
		size_t count = 0, last = 0;
		for (size_t t = 0; t < T; t++)
			if (hd->row_of[t * B + b] >= 0) {
				count++;
				last = t;
			}
		switch (hd->pool) {
		case POOL_LAST: /* x = h(last): all of dx goes there */
			for (size_t j = 0; j < in; j++)
				dh[(last * B + b) * in + j] += s[j];
			break;
		case POOL_MEAN: /* x = Σ h(t) / count */
			for (size_t t = 0; t < T; t++) {
				float *d = dh + (t * B + b) * in;
				if (hd->row_of[t * B + b] < 0)
					continue;
				for (size_t j = 0; j < in; j++)
					d[j] += s[j] / (float)count;
			}
			break;
		case POOL_MAX: /* x_j = h(arg_j)_j */
			for (size_t j = 0; j < in; j++)
				dh[(hd->arg[r * in + j] * B + b) * in + j] +=
					s[j];
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Entities (conlleval)                                                */
/* ------------------------------------------------------------------ */

/*
 * The entities of one sequence of tags (ids into info), written to out
 * (room for n spans) in order; returns how many.  The rules are
 * conlleval's chunk rules for BIO, extended to BIOES so that one set
 * serves both (BIO tags never take the E/S branches):
 *
 *   an entity ENDS before tag t when the previous tag was E or S, or t is
 *   B, S or O, or t's type differs from the previous tag's;
 *   an entity STARTS at t when t is B or S, or t is I or E and no entity
 *   of its type is open (previous tag O, E or S, or of another type).
 *
 * So "I-X" without "B-X" starts an entity (as conlleval), "B-X B-X" is
 * two entities, and an entity still open at the end closes there.
 */
static size_t tag_spans_(const tag_info *info, const int32_t *tags, size_t n,
			 tag_span *out)
{
	size_t ns = 0;
	int open = 0;
	char prev = 'O';
	int32_t prev_type = -1;
	for (size_t t = 0; t < n; t++) {
		const char cur = info[tags[t]].prefix;
		const int32_t type = info[tags[t]].type;
		const int ends = prev == 'E' || prev == 'S' || cur == 'B' ||
				 cur == 'S' || cur == 'O' || type != prev_type;
		const int starts = cur == 'B' || cur == 'S' ||
				   ((cur == 'I' || cur == 'E') &&
				    (prev == 'O' || prev == 'E' || prev == 'S' ||
				     type != prev_type));
		if (open && ends) {
			out[ns - 1].end = t;
			open = 0;
		}
		if (starts) {
			out[ns].start = t;
			out[ns].type = type;
			ns++;
			open = 1;
		}
		prev = cur;
		prev_type = type;
	}
	if (open)
		out[ns - 1].end = n;
	return ns;
}

/* Entities found in both lists (same start, end and type); both are in
 * order and non-overlapping, so one merge pass finds them.  hit[type]++
 * for each. */
static void span_match_(const tag_span *g, size_t ng, const tag_span *p,
			size_t np, size_t *hit)
{
	size_t i = 0, j = 0;
	while (i < ng && j < np) {
		if (g[i].start == p[j].start && g[i].end == p[j].end) {
			if (g[i].type == p[j].type)
				hit[g[i].type]++;
			i++;
			j++;
		} else if (g[i].start < p[j].start ||
			   (g[i].start == p[j].start && g[i].end < p[j].end)) {
			i++;
		} else {
			j++;
		}
	}
}

/* "B-PER" -> ('B', "PER"); "O" -> ('O', ""); returns 0 if tok is neither
 * (the entity type is never empty). */
static int tag_parse_(const char *tok, char *prefix, const char **type)
{
	if (strcmp(tok, "O") == 0) {
		*prefix = 'O';
		*type = "";
		return 1;
	}
	if (strchr("BIES", tok[0]) && tok[0] && tok[1] == '-' && tok[2]) {
		*prefix = tok[0];
		*type = tok + 2;
		return 1;
	}
	return 0;
}

/*
 * Decodes every tag of the label set into hd->info and collects the entity
 * types (as metric names "f1.<type>" in hd->names), resolving `scheme`:
 * bio and bioes reject tags they do not allow; auto picks bioes when an E-
 * or S- tag exists, bio when B-/I- tags exist, and none when there are no
 * entity tags or some tag is not of the form O / X-TYPE.  Special tokens
 * of the label set (<pad>, ...) count as O.
 */
static int tag_table_build_(head *hd, sp_ctx *ctx, const sp_vocab *labels,
			    const char *scheme)
{
	size_t n_ent = 0, n_es = 0;
	const char *bad = NULL;
	for (size_t id = 0; id < hd->K; id++) {
		const char *tok = sp_vocab_token(labels, (int32_t)id);
		const char *type;
		char prefix;
		int special = 0;
		hd->info[id].prefix = 'O';
		hd->info[id].type = -1;
		for (int s = 0; s < SP_SPECIAL_N; s++)
			if (sp_vocab_special(labels, (sp_special)s) ==
			    (int32_t)id)
				special = 1;
		if (special)
			continue;
		if (!tok || !tag_parse_(tok, &prefix, &type)) {
			if (!bad)
				bad = tok ? tok : "?";
			continue;
		}
		if (prefix == 'O')
			continue;
		n_ent++;
		n_es += prefix == 'E' || prefix == 'S';
		hd->info[id].prefix = prefix;
		hd->info[id].type = -1;
		for (size_t k = 0; k < hd->n_names; k++)
			if (strcmp(hd->names[k] + 3, type) == 0)
				hd->info[id].type = (int32_t)k;
		if (hd->info[id].type < 0) {
			char *name = metric_name_(type, strlen(type));
			if (!name)
				return sp_err(ctx, SP_ENOMEM,
					      "tagger: out of memory");
			hd->names[hd->n_names] = name;
			hd->info[id].type = (int32_t)hd->n_names++;
		}
	}
	if (strcmp(scheme, "none") == 0) {
		hd->scheme = SCHEME_NONE;
	} else if (strcmp(scheme, "auto") == 0) {
		hd->scheme = (bad || n_ent == 0) ? SCHEME_NONE :
			     n_es ? SCHEME_BIOES : SCHEME_BIO;
	} else {
		if (bad)
			return sp_err(ctx, SP_EINVAL, "tagger: scheme=%s, but "
				      "tag \"%s\" is not O or B-/I-/E-/S-TYPE",
				      scheme, bad);
		if (strcmp(scheme, "bio") == 0 && n_es)
			return sp_err(ctx, SP_EINVAL, "tagger: scheme=bio, but "
				      "the tag set has E- or S- tags (use "
				      "scheme=bioes)");
		hd->scheme = strcmp(scheme, "bio") == 0 ? SCHEME_BIO :
			     SCHEME_BIOES;
	}
	return SP_OK;
}

/*
 * For tests/t_metrics.c: the entities of a space-separated tag string
 * ("B-PER I-PER O B-LOC") written to out as "PER:0-2 LOC:3-4" ([start,
 * end) steps).  Not part of the plugin ABI and not exported from the
 * module (-export-symbols-regex keeps only the entry point).  Returns the
 * number of entities, or -1 when a tag is malformed or there are more than
 * 64 tags.
 */
int heads_tag_spans_text(const char *tags, char *out, size_t cap);
int heads_tag_spans_text(const char *tags, char *out, size_t cap)
{
	enum { MAX_TAGS = 64 };
	tag_info info[MAX_TAGS];
	int32_t ids[MAX_TAGS];
	tag_span sp[MAX_TAGS];
	const char *types[MAX_TAGS];
	size_t len[MAX_TAGS];
	size_t n = 0, n_types = 0, ns, used = 0;
	char tok[64];
	const char *s = tags;
	if (cap)
		out[0] = '\0';
	while (*s) {
		size_t l = strcspn(s, " ");
		char prefix;
		const char *type;
		if (l == 0) {
			s++;
			continue;
		}
		if (n == MAX_TAGS || l >= sizeof(tok))
			return -1;
		memcpy(tok, s, l);
		tok[l] = '\0';
		if (!tag_parse_(tok, &prefix, &type))
			return -1;
		/* each tag gets its own table entry; types are shared */
		info[n].prefix = prefix;
		info[n].type = -1;
		if (prefix != 'O') {
			const size_t tl = l - 2;
			for (size_t k = 0; k < n_types; k++)
				if (len[k] == tl &&
				    strncmp(types[k], s + 2, tl) == 0)
					info[n].type = (int32_t)k;
			if (info[n].type < 0) {
				types[n_types] = s + 2;
				len[n_types] = tl;
				info[n].type = (int32_t)n_types++;
			}
		}
		ids[n] = (int32_t)n;
		n++;
		s += l;
	}
	ns = tag_spans_(info, ids, n, sp);
	for (size_t i = 0; i < ns; i++) {
		int w = snprintf(out + used, cap > used ? cap - used : 0,
				 "%s%.*s:%zu-%zu", i ? " " : "",
				 (int)len[sp[i].type], types[sp[i].type],
				 sp[i].start, sp[i].end);
		if (w > 0)
			used += (size_t)w;
	}
	return (int)ns;
}

/* ------------------------------------------------------------------ */
/* Metric accumulation (per forward with labels)                       */
/* ------------------------------------------------------------------ */

/* lm, and classify's accuracy: top-1 hits over rows with a target. */
static void count_top1_(head *hd)
{
	for (size_t r = 0; r < hd->n; r++) {
		const int32_t c = hd->tgt[r];
		int32_t pr;
		if (c < 0)
			continue;
		pr = argmax_(hd->p + r * hd->K, hd->K);
		hd->m_correct += pr == c;
		if (hd->kind == HEAD_CLASSIFY) {
			hd->m_gold[c]++;
			hd->m_pred[pr]++;
			hd->m_hit[c] += pr == c;
		}
	}
}

/* tagger: token accuracy, and entities sequence by sequence over the
 * steps that have a target (steps without one are left out, so they
 * neither break nor join entities). */
static void count_tags_(head *hd)
{
	const size_t T = hd->T, B = hd->B;
	for (size_t b = 0; b < B; b++) {
		size_t m = 0, ng, np;
		for (size_t t = 0; t < T; t++) {
			const int32_t r = hd->row_of[t * B + b];
			if (r < 0 || hd->tgt[r] < 0)
				continue;
			hd->gold_seq[m] = hd->tgt[r];
			hd->pred_seq[m] = argmax_(hd->p + (size_t)r * hd->K,
						  hd->K);
			hd->m_correct += hd->gold_seq[m] == hd->pred_seq[m];
			m++;
		}
		if (hd->scheme == SCHEME_NONE || m == 0)
			continue;
		ng = tag_spans_(hd->info, hd->gold_seq, m, hd->gold_sp);
		np = tag_spans_(hd->info, hd->pred_seq, m, hd->pred_sp);
		for (size_t i = 0; i < ng; i++)
			hd->m_gold[hd->gold_sp[i].type]++;
		for (size_t i = 0; i < np; i++)
			hd->m_pred[hd->pred_sp[i].type]++;
		span_match_(hd->gold_sp, ng, hd->pred_sp, np, hd->m_hit);
	}
}

/* ------------------------------------------------------------------ */
/* The ops shared by all three heads                                   */
/* ------------------------------------------------------------------ */

static void head_destroy(void *self)
{
	head *hd = self;
	if (!hd)
		return;
	bufs_free_(hd);
	free(hd->dsum);
	free(hd->idx);
	free(hd->info);
	if (hd->names)
		for (size_t i = 0; i < hd->n_names; i++)
			free(hd->names[i]);
	free(hd->names);
	free(hd->m_gold);
	free(hd->m_pred);
	free(hd->m_hit);
	free(hd);
}

/*
 * The part of create common to all heads: K outputs, weights named
 * wname/bname, and per-label arrays of n_names entries (0 for lm).
 */
static int head_new_(head **out, sp_ctx *ctx, const sp_kv *args,
		     size_t in_dim, head_kind kind, size_t K,
		     const char *wname, const char *bname, size_t n_names)
{
	head *hd;
	const double dropout = sp_kv_float(args, "dropout");
	*out = NULL;
	if (in_dim == 0)
		return sp_err(ctx, SP_EINVAL, "head: input width is 0");
	if (K == 0)
		return sp_err(ctx, SP_EINVAL, "head: the label set is empty");
	if (!(dropout >= 0 && dropout < 1))
		return sp_err(ctx, SP_EINVAL, "head: dropout=%g (%s) must be "
			      "in [0, 1)", dropout,
			      sp_kv_where(args, "dropout"));
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return sp_err(ctx, SP_ENOMEM, "head: out of memory");
	*out = hd;
	hd->kind = kind;
	hd->in = in_dim;
	hd->K = K;
	hd->dropout = (float)dropout;
	hd->w[0] = (sp_weight){wname, 2, {K, in_dim, 0, 0}};
	hd->w[1] = (sp_weight){bname, 1, {K, 0, 0, 0}};
	hd->dsum = malloc(K * sizeof(double));
	hd->idx = malloc(K * sizeof(int32_t));
	hd->names = calloc(n_names + 1, sizeof(char *));
	hd->m_gold = calloc(n_names + 1, sizeof(size_t));
	hd->m_pred = calloc(n_names + 1, sizeof(size_t));
	hd->m_hit = calloc(n_names + 1, sizeof(size_t));
	if (!hd->dsum || !hd->idx || !hd->names || !hd->m_gold ||
	    !hd->m_pred || !hd->m_hit)
		return sp_err(ctx, SP_ENOMEM, "head: out of memory");
	return SP_OK;
}

static int head_weights(const void *self, const sp_weight **out,
			size_t *n_out)
{
	const head *hd = self;
	*out = hd->w;
	*n_out = 2;
	return SP_OK;
}

static int head_bind(void *self, float *const *value, float *const *grad)
{
	head *hd = self;
	if (!value || !grad)
		return SP_EINVAL;
	hd->W = value[0];
	hd->b = value[1];
	hd->dW = grad[0];
	hd->db = grad[1];
	return SP_OK;
}

static int head_init(void *self, sp_ctx *ctx)
{
	head *hd = self;
	const float a = (float)(1.0 / sqrt((double)hd->in));
	if (!hd->W || !hd->b)
		return sp_err(ctx, SP_EINVAL, "%s: init before bind",
			      head_name_(hd));
	sp_fill_uniform(ctx, hd->W, hd->K * hd->in, -a, a);
	sp_fill_const(hd->b, hd->K, 0.0f);
	return SP_OK;
}

/* Checks h (T,B,in) and the labels against the head before forward. */
static int check_forward_(const head *hd, sp_ctx *ctx, const sp_seq *h,
			  const sp_labels *y)
{
	const char *name = head_name_(hd);
	if (!hd->W || !hd->b)
		return sp_err(ctx, SP_EINVAL, "%s: forward before bind", name);
	if (!h || !h->x)
		return sp_err(ctx, SP_EINVAL, "%s: needs hidden states h, not "
			      "token ids (put a model stage before the head)",
			      name);
	if (h->D != hd->in)
		return sp_err(ctx, SP_EINVAL, "%s: h has width %zu, the head "
			      "was created for %zu", name, h->D, hd->in);
	if (!y)
		return SP_OK;
	if (!y->id && y->T * y->B > 0)
		return sp_err(ctx, SP_EINVAL, "%s: labels without ids", name);
	if (hd->kind == HEAD_CLASSIFY) {
		if (y->T != 1 || y->B != h->B)
			return sp_err(ctx, SP_EINVAL, "%s: labels are (%zu,%zu), "
				      "expected (1,%zu): one class per "
				      "sequence", name, y->T, y->B, h->B);
	} else if (y->T != h->T || y->B != h->B) {
		return sp_err(ctx, SP_EINVAL, "%s: labels are (%zu,%zu), h is "
			      "(%zu,%zu)", name, y->T, y->B, h->T, h->B);
	}
	return SP_OK;
}

/* forward: gather rows, project, count.  h:(T,B,in); y:(T,B), or (1,B)
 * for classify, or NULL for inference. */
static int head_forward(void *self, sp_ctx *ctx, const sp_seq *h,
			const sp_labels *y, double *loss, size_t *n_loss,
			int train)
{
	head *hd = self;
	double sum = 0;
	size_t count = 0;
	int rc;
	if (loss)
		*loss = 0;
	if (n_loss)
		*n_loss = 0;
	if ((rc = check_forward_(hd, ctx, h, y)) < 0)
		return rc;
	if ((rc = head_reserve_(hd, ctx, h->T, h->B)) < 0)
		return rc;
	hd->T = h->T;
	hd->B = h->B;
	hd->n = 0;
	hd->train = 0; /* until this forward has succeeded */
	rc = hd->kind == HEAD_CLASSIFY ? pool_gather_(hd, ctx, h, y) :
					 steps_gather_(hd, ctx, h, y);
	if (rc == SP_OK)
		rc = core_forward_(hd, ctx, train, &sum, &count);
	if (rc < 0) {
		/* leave no half-made outputs for predict, sample, trace */
		hd->T = hd->B = hd->n = 0;
		return rc;
	}
	hd->train = train != 0;
	hd->has_targets = y != NULL;
	if (!y)
		return SP_OK;
	hd->m_loss += sum;
	hd->m_n += count;
	if (hd->kind == HEAD_TAGGER)
		count_tags_(hd);
	else
		count_top1_(hd);
	if (loss)
		*loss = sum;
	if (n_loss)
		*n_loss = count;
	return SP_OK;
}

/* backward: dh (T,B,in) += d(loss/scale)/dh, for the last training
 * forward; weight gradients accumulate. */
static int head_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh)
{
	head *hd = self;
	const char *name = head_name_(hd);
	if (!hd->train || !hd->has_targets)
		return sp_err(ctx, SP_EINVAL, "%s: backward needs a training "
			      "forward with labels", name);
	if (!(scale > 0) || !isfinite(scale))
		return sp_err(ctx, SP_EINVAL, "%s: scale=%g must be > 0", name,
			      scale);
	if (!dh || !dh->x || dh->T != hd->T || dh->B != hd->B ||
	    dh->D != hd->in)
		return sp_err(ctx, SP_EINVAL, "%s: dh must be (%zu,%zu,%zu)",
			      name, hd->T, hd->B, hd->in);
	core_backward_(hd, scale);
	if (hd->kind == HEAD_CLASSIFY)
		pool_scatter_(hd, dh->x);
	else
		steps_scatter_(hd, dh->x);
	return SP_OK;
}

static int head_metrics_reset(void *self)
{
	head *hd = self;
	hd->m_loss = 0;
	hd->m_n = 0;
	hd->m_correct = 0;
	memset(hd->m_gold, 0, (hd->n_names + 1) * sizeof(size_t));
	memset(hd->m_pred, 0, (hd->n_names + 1) * sizeof(size_t));
	memset(hd->m_hit, 0, (hd->n_names + 1) * sizeof(size_t));
	return SP_OK;
}

/* 2·hit / (gold + pred): F1 = 2PR/(P+R) with P = hit/pred, R = hit/gold;
 * 0 when there is nothing (conlleval and scikit-learn's zero_division). */
static double f1_(size_t hit, size_t gold, size_t pred)
{
	return gold + pred ? 2.0 * (double)hit / (double)(gold + pred) : 0.0;
}

#define EMIT_(name, value)                                                 \
	do {                                                               \
		int rc_ = emit(payload, (name), (value));                  \
		if (rc_ < 0)                                               \
			return rc_;                                        \
	} while (0)

/*
 * Reports since the last reset (nothing when no target was seen):
 *   all       loss (mean cross-entropy, nats), accuracy (top-1)
 *   lm        perplexity = exp(loss)
 *   tagger    precision, recall, f1 (entities), f1.<TYPE> for every type
 *             (unless scheme is none)
 *   classify  macro_f1 (mean F1 over the classes that occur as gold or
 *             predicted, as scikit-learn), f1.<label> for every class
 */
static int head_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit,
			void *payload)
{
	head *hd = self;
	double mean;
	if (hd->m_n == 0)
		return SP_OK;
	mean = hd->m_loss / (double)hd->m_n;
	EMIT_("loss", mean);
	if (hd->kind == HEAD_LM)
		EMIT_("perplexity", exp(mean));
	EMIT_("accuracy", (double)hd->m_correct / (double)hd->m_n);
	if (hd->kind == HEAD_TAGGER && hd->scheme != SCHEME_NONE) {
		size_t g = 0, p = 0, h = 0;
		for (size_t k = 0; k < hd->n_names; k++) {
			g += hd->m_gold[k];
			p += hd->m_pred[k];
			h += hd->m_hit[k];
		}
		EMIT_("precision", p ? (double)h / (double)p : 0.0);
		EMIT_("recall", g ? (double)h / (double)g : 0.0);
		EMIT_("f1", f1_(h, g, p));
	}
	if (hd->kind == HEAD_CLASSIFY) {
		double sum = 0;
		size_t seen = 0;
		for (size_t k = 0; k < hd->n_names; k++)
			if (hd->m_gold[k] + hd->m_pred[k]) {
				sum += f1_(hd->m_hit[k], hd->m_gold[k],
					   hd->m_pred[k]);
				seen++;
			}
		EMIT_("macro_f1", seen ? sum / (double)seen : 0.0);
	}
	if (hd->kind == HEAD_CLASSIFY ||
	    (hd->kind == HEAD_TAGGER && hd->scheme != SCHEME_NONE))
		for (size_t k = 0; k < hd->n_names; k++)
			EMIT_(hd->names[k], f1_(hd->m_hit[k], hd->m_gold[k],
						hd->m_pred[k]));
	return SP_OK;
}

/* Row of output position (t, b) of the last forward, or -1 (padding, or
 * no such position).  Classify has one position per sequence, t = 0. */
static int32_t head_row_(const head *hd, size_t t, size_t b)
{
	if (b >= hd->B)
		return -1;
	if (hd->kind == HEAD_CLASSIFY)
		return t == 0 ? hd->seq_row[b] : -1;
	if (t >= hd->T)
		return -1;
	return hd->row_of[t * hd->B + b];
}

/* The k most probable outputs of every row of the last forward, best
 * first (ties: lower id first). */
static int head_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit,
			void *payload)
{
	head *hd = self;
	const size_t K = hd->K;
	if (k > K)
		k = K;
	for (size_t r = 0; r < hd->n; r++) {
		const float *pr = hd->p + r * K;
		size_t t, b;
		if (hd->kind == HEAD_CLASSIFY) {
			t = 0;
			b = hd->src[r];
		} else {
			t = hd->src[r] / hd->B;
			b = hd->src[r] % hd->B;
		}
		/* partial selection sort: O(k·K), no allocation */
		for (size_t i = 0; i < K; i++)
			hd->idx[i] = (int32_t)i;
		for (size_t i = 0; i < k; i++) {
			size_t best = i;
			int32_t keep;
			int rc;
			for (size_t j = i + 1; j < K; j++)
				if (pr[hd->idx[j]] > pr[hd->idx[best]] ||
				    (pr[hd->idx[j]] == pr[hd->idx[best]] &&
				     hd->idx[j] < hd->idx[best]))
					best = j;
			keep = hd->idx[i];
			hd->idx[i] = hd->idx[best];
			hd->idx[best] = keep;
			rc = emit(payload, t, b, i, hd->idx[i], pr[hd->idx[i]]);
			if (rc < 0)
				return rc;
		}
	}
	return SP_OK;
}

/*
 * One draw from softmax(y / temperature) at position (t, b), by inverting
 * the cumulative distribution with one uniform number from ctx's RNG.
 * Temperature < 1 sharpens the distribution (→ argmax as it → 0), > 1
 * flattens it.  Computed from the logits in double, so tiny temperatures
 * neither overflow nor lose the argmax.
 */
static int head_sample(void *self, sp_ctx *ctx, size_t t, size_t b,
		       double temperature, int32_t *out_id)
{
	head *hd = self;
	const size_t K = hd->K;
	const float *yr;
	double sum = 0, u, acc = 0;
	int32_t r, best;
	if (!(temperature > 0) || !isfinite(temperature))
		return sp_err(ctx, SP_EINVAL, "%s: temperature=%g must be > 0",
			      head_name_(hd), temperature);
	if ((r = head_row_(hd, t, b)) < 0)
		return sp_err(ctx, SP_EINVAL, "%s: no output at step %zu, "
			      "sequence %zu of the last forward",
			      head_name_(hd), t, b);
	yr = hd->y + (size_t)r * K;
	best = argmax_(yr, K);
	for (size_t k = 0; k < K; k++)
		sum += exp(((double)yr[k] - yr[best]) / temperature);
	u = sp_rng_uniform(ctx) * sum;
	*out_id = best; /* if rounding leaves u past the last step */
	for (size_t k = 0; k < K; k++) {
		acc += exp(((double)yr[k] - yr[best]) / temperature);
		if (u < acc) {
			*out_id = (int32_t)k;
			break;
		}
	}
	return SP_OK;
}

/* For `pipeline trace`: y and softmax(y) of position (t, b), as K x 1
 * columns; nothing for a padded step. */
static int head_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		      sp_trace_fn emit, void *payload)
{
	head *hd = self;
	int32_t r;
	int rc;
	if (b >= hd->B || (hd->kind != HEAD_CLASSIFY && t >= hd->T))
		return sp_err(ctx, SP_EINVAL, "%s: trace of step %zu, sequence "
			      "%zu is outside the last forward (%zu,%zu)",
			      head_name_(hd), t, b, hd->T, hd->B);
	if ((r = head_row_(hd, t, b)) < 0)
		return SP_OK;
	if ((rc = emit(payload, t, hd->y_label, hd->y + (size_t)r * hd->K,
		       hd->K, 1)) < 0)
		return rc;
	return emit(payload, t, hd->p_label, hd->p + (size_t)r * hd->K,
		    hd->K, 1);
}

/* ------------------------------------------------------------------ */
/* The three components                                                */
/* ------------------------------------------------------------------ */

static int env_ok_(sp_ctx *ctx, const char *name, const sp_head_env *env)
{
	if (!env || env->size < sizeof(sp_head_env))
		return sp_err(ctx, SP_EINVAL, "%s: no task description (env)",
			      name);
	return SP_OK;
}

/* lm: K = input vocabulary size; weights in the course's notation. */
static int lm_create(void **out, sp_ctx *ctx, const sp_kv *args,
		     size_t in_dim, const sp_head_env *env)
{
	head *hd = NULL;
	int rc;
	*out = NULL;
	if ((rc = env_ok_(ctx, "lm", env)) < 0)
		return rc;
	if (!env->input)
		return sp_err(ctx, SP_EINVAL, "lm: no input vocabulary");
	rc = head_new_(&hd, ctx, args, in_dim, HEAD_LM,
		       sp_vocab_size(env->input), "Why", "by", 0);
	if (rc < 0)
		goto fail;
	hd->y_label = "y(t) = Why·h(t) + by";
	hd->p_label = "softmax(y(t))";
	*out = hd;
	return SP_OK;
fail:
	head_destroy(hd);
	return rc;
}

static int tagger_create(void **out, sp_ctx *ctx, const sp_kv *args,
			 size_t in_dim, const sp_head_env *env)
{
	head *hd = NULL;
	size_t K;
	int rc;
	*out = NULL;
	if ((rc = env_ok_(ctx, "tagger", env)) < 0)
		return rc;
	if (!env->labels)
		return sp_err(ctx, SP_EINVAL, "tagger: no tag set");
	K = sp_vocab_size(env->labels);
	rc = head_new_(&hd, ctx, args, in_dim, HEAD_TAGGER, K, "W", "b", K);
	if (rc < 0)
		goto fail;
	hd->y_label = "y(t) = W·h(t) + b";
	hd->p_label = "softmax(y(t))";
	hd->info = malloc(K * sizeof(tag_info));
	if (!hd->info) {
		rc = sp_err(ctx, SP_ENOMEM, "tagger: out of memory");
		goto fail;
	}
	rc = tag_table_build_(hd, ctx, env->labels, sp_kv_str(args, "scheme"));
	if (rc < 0)
		goto fail;
	*out = hd;
	return SP_OK;
fail:
	head_destroy(hd);
	return rc;
}

static int classify_create(void **out, sp_ctx *ctx, const sp_kv *args,
			   size_t in_dim, const sp_head_env *env)
{
	head *hd = NULL;
	const char *pool;
	size_t K;
	int rc;
	*out = NULL;
	if ((rc = env_ok_(ctx, "classify", env)) < 0)
		return rc;
	if (!env->labels)
		return sp_err(ctx, SP_EINVAL, "classify: no class set");
	K = sp_vocab_size(env->labels);
	rc = head_new_(&hd, ctx, args, in_dim, HEAD_CLASSIFY, K, "W", "b", K);
	if (rc < 0)
		goto fail;
	pool = sp_kv_str(args, "pool");
	hd->pool = strcmp(pool, "mean") == 0 ? POOL_MEAN :
		   strcmp(pool, "max") == 0 ? POOL_MAX : POOL_LAST;
	hd->y_label = hd->pool == POOL_LAST ? "y = W·h(last) + b" :
		      hd->pool == POOL_MEAN ? "y = W·mean_t h(t) + b" :
					      "y = W·max_t h(t) + b";
	hd->p_label = "softmax(y)";
	for (size_t k = 0; k < K; k++) {
		const char *tok = sp_vocab_token(env->labels, (int32_t)k);
		hd->names[k] = metric_name_(tok, strlen(tok));
		if (!hd->names[k]) {
			rc = sp_err(ctx, SP_ENOMEM, "classify: out of memory");
			goto fail;
		}
		hd->n_names = k + 1;
	}
	*out = hd;
	return SP_OK;
fail:
	head_destroy(hd);
	return rc;
}

#define DROPOUT_PARAM_                                                     \
	{"dropout", SP_T_FLOAT, "0",                                       \
	 "inverted dropout probability on h before the projection "       \
	 "(training only)", NULL}

static const sp_param_spec lm_params[] = {
	DROPOUT_PARAM_,
	{NULL, 0, NULL, NULL, NULL}};

static const sp_param_spec tagger_params[] = {
	DROPOUT_PARAM_,
	{"scheme", SP_T_STRING, "auto",
	 "tag scheme for entity precision/recall/F1 (none: token accuracy "
	 "only; auto: from the tag strings)",
	 "auto|bio|bioes|none"},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_param_spec classify_params[] = {
	DROPOUT_PARAM_,
	{"pool", SP_T_STRING, "last",
	 "how a sequence's h(t) become one vector: h at the last real step, "
	 "mean or element-wise max over real steps",
	 "last|mean|max"},
	{NULL, 0, NULL, NULL, NULL}};

#define HEAD_OPS_                                                          \
	.destroy = head_destroy, .weights = head_weights,                  \
	.bind = head_bind, .init = head_init, .forward = head_forward,     \
	.backward = head_backward, .metrics_reset = head_metrics_reset,    \
	.metrics = head_metrics, .predict = head_predict,                  \
	.sample = head_sample, .trace = head_trace

/* What each head reads and reports (the host picks the best epoch and
 * checks train.metric by these). */
static const sp_metric_decl lm_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"perplexity", 0, "exp(loss)"},
	{"accuracy", 1, "top-1 accuracy"},
	{NULL, 0, NULL}};
static const sp_metric_decl tagger_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"accuracy", 1, "top-1 accuracy per token"},
	{"precision", 1, "entity precision (scheme != none)"},
	{"recall", 1, "entity recall (scheme != none)"},
	{"f1", 1, "entity F1 (scheme != none)"},
	{"f1.*", 1, "entity F1 of one type"},
	{NULL, 0, NULL}};
static const sp_metric_decl classify_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"accuracy", 1, "top-1 accuracy"},
	{"macro_f1", 1, "mean F1 over the classes"},
	{"f1.*", 1, "F1 of one class"},
	{NULL, 0, NULL}};
static const sp_head_task lm_task = {sizeof(sp_head_task), SP_LABELS_NEXT_TOKEN,
				     lm_metrics, "loss"};
static const sp_head_task tagger_task = {sizeof(sp_head_task), SP_LABELS_TOKEN,
					 tagger_metrics, "f1"};
static const sp_head_task classify_task = {sizeof(sp_head_task), SP_LABELS_TEXT,
					   classify_metrics, "accuracy"};

static const sp_head_ops lm_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "lm",
		 "language model: softmax over the vocabulary for the next "
		 "token (loss, perplexity, accuracy)",
		 lm_params},
	.target = SP_TARGET_NEXT_TOKEN,
	.create = lm_create,
	.task = &lm_task,
	HEAD_OPS_};

static const sp_head_ops tagger_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "tagger",
		 "one tag per step: softmax over the tag set (accuracy, "
		 "entity precision/recall/F1 as conlleval)",
		 tagger_params},
	.target = SP_TARGET_TAGS,
	.create = tagger_create,
	.task = &tagger_task,
	HEAD_OPS_};

static const sp_head_ops classify_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "classify",
		 "one class per sequence from pooled h (accuracy, macro-F1)",
		 classify_params},
	.target = SP_TARGET_CLASS,
	.create = classify_create,
	.task = &classify_task,
	HEAD_OPS_};

SP_PLUGIN_DEFINE(heads, PACKAGE_VERSION,
		 "softmax output heads: lm, tagger, classify", &lm_ops.base,
		 &tagger_ops.base, &classify_ops.base)
