/*
 * head_core.c: the softmax output heads: the object lm, tagger and
 * classify share, its buffers, and the ops they have in common.  The
 * components themselves are in head_lm.c, head_tagger.c and
 * head_classify.c; the plugin descriptor in heads.c.
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
 * core/sp_tags.h for the chunk rules.
 *
 * Not here: the CRF tagger (head_crf.c, its own object), the recurrent
 * layers (plugins/rnn.c), the optimizer (core/sp_optim.c), and
 * sequence-to-sequence decoding.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heads_impl.h"
#include "sp_act.h"
#include "sp_blas.h"
#include "sp_kv.h"
#include "sp_vocab.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

const char *heads_name(const head *hd)
{
	return hd->kind == HEAD_LM ? "lm" :
	       hd->kind == HEAD_TAGGER ? "tagger" : "classify";
}

/* Index of the largest of v[0..n); ties go to the lowest index. */
int32_t heads_argmax(const float *v, size_t n)
{
	size_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return (int32_t)best;
}

/* Is step (t, b) of h real (not padding)? */
int heads_step_real(const sp_seq *h, size_t t, size_t b)
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
int heads_label_at(const char *name, size_t N, sp_ctx *ctx,
		   const sp_labels *y, size_t i, int32_t *out)
{
	int32_t id;
	*out = -1;
	if (!y || (y->mask && !y->mask[i]))
		return SP_OK;
	id = y->id[i];
	if (id >= (int64_t)N)
		return sp_err(ctx, SP_EINPUT, "%s: label id %d at step %zu of "
			      "sequence %zu is outside the %zu labels",
			      name, (int)id, i / y->B, i % y->B, N);
	*out = id < 0 ? -1 : id;
	return SP_OK;
}

/* "f1." + text (caller owns), or NULL when out of memory. */
char *heads_metric_name(const char *text, size_t len)
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

void *heads_buf(size_t n, size_t size, int *failed)
{
	/* +1: malloc(0) may return NULL, which must not read as failure */
	void *p = malloc((n + 1) * size);
	if (!p)
		*failed = 1;
	return p;
}

int heads_buf_too_large(size_t rows, size_t width, size_t size)
{
	return width && rows > (SIZE_MAX / size - 1) / width;
}

void heads_forward_done(head *hd, int train, const sp_labels *y, double sum,
			size_t count, double *loss, size_t *n_loss)
{
	hd->train = train != 0;
	hd->has_targets = y != NULL;
	if (!y)
		return;
	hd->m_loss += sum;
	hd->m_n += count;
	if (loss)
		*loss = sum;
	if (n_loss)
		*n_loss = count;
}

/*
 * Makes the batch buffers hold a (T,B) batch.  They only grow, and only
 * when T, B or T*B exceed every earlier batch: forward and backward then
 * allocate nothing.  On failure everything is freed (the next forward
 * retries) and SP_ENOMEM is returned.
 */
int heads_reserve(head *hd, sp_ctx *ctx, size_t T, size_t B)
{
	size_t cT, cB, steps, rows;
	int failed = 0;
	if (B && T > SIZE_MAX / B)
		return sp_err(ctx, SP_EINVAL, "head: batch %zu x %zu too large",
			      T, B);
	if (T <= hd->cap_T && B <= hd->cap_B && T * B <= hd->cap_steps)
		return SP_OK;
	cT = T > hd->cap_T ? T : hd->cap_T;
	cB = B > hd->cap_B ? B : hd->cap_B;
	steps = cT * cB;
	rows = hd->kind == HEAD_CLASSIFY ? cB : steps;
	if (heads_buf_too_large(rows, hd->in, sizeof(size_t)) ||
	    heads_buf_too_large(rows, hd->K, sizeof(float)))
		return sp_err(ctx, SP_EINVAL, "head: batch %zu x %zu too large",
			      T, B);
	bufs_free_(hd);
	hd->x = heads_buf(rows * hd->in, sizeof(float), &failed);
	hd->dx = heads_buf(rows * hd->in, sizeof(float), &failed);
	hd->y = heads_buf(rows * hd->K, sizeof(float), &failed);
	hd->p = heads_buf(rows * hd->K, sizeof(float), &failed);
	hd->dy = heads_buf(rows * hd->K, sizeof(float), &failed);
	hd->tgt = heads_buf(rows, sizeof(int32_t), &failed);
	hd->src = heads_buf(rows, sizeof(size_t), &failed);
	hd->row_of = heads_buf(steps, sizeof(int32_t), &failed);
	hd->seq_row = heads_buf(cB, sizeof(int32_t), &failed);
	if (hd->dropout > 0)
		hd->drop = heads_buf(rows * hd->in, sizeof(float), &failed);
	if (hd->kind == HEAD_CLASSIFY && hd->pool == POOL_MAX)
		hd->arg = heads_buf(rows * hd->in, sizeof(size_t), &failed);
	if (hd->kind == HEAD_TAGGER) {
		hd->gold_seq = heads_buf(cT, sizeof(sp_tag_info), &failed);
		hd->pred_seq = heads_buf(cT, sizeof(sp_tag_info), &failed);
		hd->gold_sp = heads_buf(cT, sizeof(sp_tag_span), &failed);
		hd->pred_sp = heads_buf(cT, sizeof(sp_tag_span), &failed);
	}
	if (failed) {
		bufs_free_(hd);
		return sp_err(ctx, SP_ENOMEM, "head: out of memory for a %zu "
			      "x %zu batch", T, B);
	}
	hd->cap_T = cT;
	hd->cap_B = cB;
	hd->cap_steps = steps;
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* The shared softmax-output core                                      */
/* ------------------------------------------------------------------ */

/* On the n rows the head gathered into x (n,in): dropout (training),
 * then Y = X·Wᵀ + b. */
void heads_project(head *hd, sp_ctx *ctx, int train)
{
	const size_t n = hd->n, K = hd->K, in = hd->in;

	hd->dropped = train && hd->dropout > 0;
	if (hd->dropped) {
		/* inverted dropout: E[x] is unchanged, so inference needs
		 * no rescaling */
		const double keep = 1.0 - hd->dropout;
		const float up = (float)(1.0 / keep);
		/* the whole batch's masks when this is a shard of it */
		sp_rng_mask_rows(ctx, hd->drop, n, in, hd->kind == HEAD_CLASSIFY,
				 keep, up, 0.0f);
		for (size_t i = 0; i < n * in; i++)
			hd->x[i] *= hd->drop[i];
	}

	/* Y (n,K) = X (n,in) · Wᵀ (in,K) + b: rows start as b, beta = 1 */
	for (size_t r = 0; r < n; r++)
		memcpy(hd->y + r * K, hd->b, K * sizeof(float));
	sp_gemm(0, 1, n, K, in, 1.0f, hd->x, in, hd->W, in, 1.0f, hd->y, K);
}

/*
 * The projection, P = softmax(Y), and the summed cross-entropy over rows
 * that have a target (tgt (n)).
 */
static int core_forward_(head *hd, sp_ctx *ctx, int train, double *loss,
			 size_t *n_loss)
{
	const size_t n = hd->n, K = hd->K;
	double sum = 0;
	size_t count = 0;

	heads_project(hd, ctx, train);
	for (size_t r = 0; r < n; r++) {
		const float *yr = hd->y + r * K;
		float *pr = hd->p + r * K;
		double lse;
		memcpy(pr, yr, K * sizeof(float));
		lse = sp_softmaxf(pr, K); /* log Σ_k exp(y_k) */
		if (hd->tgt[r] >= 0 && (size_t)hd->tgt[r] < K) {
			sum += lse - (double)yr[hd->tgt[r]]; /* −log p[c] */
			count++;
		}
	}
	if (!isfinite(sum))
		return sp_err(ctx, SP_ENUMERIC, "%s: loss is not finite",
			      heads_name(hd));
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
	const size_t n = hd->n, K = hd->K;
	const float g = (float)(1.0 / scale);

	for (size_t r = 0; r < n; r++) {
		float *dyr = hd->dy + r * K;
		const float *pr = hd->p + r * K;
		const int32_t c = hd->tgt[r];
		if (c < 0 || (size_t)c >= K) { /* none, or no output for it */
			memset(dyr, 0, K * sizeof(float));
			continue;
		}
		for (size_t k = 0; k < K; k++)
			dyr[k] = g * pr[k];
		dyr[c] -= g;
	}
	heads_project_backward(hd);
}

/* From dY (n,K) in dy: dW += dYᵀ·X, db += Σ dY, and dX = dY·W (times the
 * dropout mask). */
void heads_project_backward(head *hd)
{
	const size_t n = hd->n, K = hd->K, in = hd->in;
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
int heads_steps_gather(head *hd, sp_ctx *ctx, const sp_seq *h,
			 const sp_labels *y)
{
	const size_t in = hd->in;
	size_t n = 0;
	int rc;
	for (size_t t = 0; t < h->T; t++) {
		for (size_t b = 0; b < h->B; b++) {
			const size_t i = t * h->B + b;
			hd->row_of[i] = -1;
			if (!heads_step_real(h, t, b))
				continue;
			hd->row_of[i] = (int32_t)n;
			hd->src[n] = i;
			memcpy(hd->x + n * in, h->x + i * in,
			       in * sizeof(float));
			if ((rc = heads_label_at(heads_name(hd), hd->N, ctx, y,
						  i, &hd->tgt[n])) < 0)
				return rc;
			n++;
		}
	}
	hd->n = n;
	return SP_OK;
}

/* lm, tagger: dh (T,B,in) at row r's step += dX (r,:). */
void heads_steps_scatter(const head *hd, float *dh)
{
	const size_t in = hd->in;
	for (size_t r = 0; r < hd->n; r++) {
		float *d = dh + hd->src[r] * in;
		const float *s = hd->dx + r * in;
		for (size_t j = 0; j < in; j++)
			d[j] += s[j];
	}
}

/* ------------------------------------------------------------------ */
/* Metric accumulation (per forward with labels)                       */
/* ------------------------------------------------------------------ */

/* lm, and classify's accuracy: top-1 hits over rows with a target (a
 * target without an output is never hit). */
static void count_top1_(head *hd)
{
	for (size_t r = 0; r < hd->n; r++) {
		const int32_t c = hd->tgt[r];
		int32_t pr;
		if (c < 0)
			continue;
		pr = heads_argmax(hd->p + r * hd->K, hd->K);
		hd->m_steps++;
		hd->m_correct += pr == c;
		if (hd->kind == HEAD_CLASSIFY) {
			hd->m_gold[c]++;
			hd->m_pred[pr]++;
			hd->m_hit[c] += pr == c;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The ops shared by all three heads                                   */
/* ------------------------------------------------------------------ */

void heads_destroy(void *self)
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
int heads_new(head **out, sp_ctx *ctx, const sp_kv *args,
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
	hd->N = K; /* a tagger or classifier may say more */
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

int heads_weights(const void *self, const sp_weight **out,
			size_t *n_out)
{
	const head *hd = self;
	*out = hd->w;
	*n_out = 2;
	return SP_OK;
}

int heads_bind(void *self, float *const *value, float *const *grad)
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

int heads_init(void *self, sp_ctx *ctx)
{
	head *hd = self;
	const float a = (float)(1.0 / sqrt((double)hd->in));
	if (!hd->W || !hd->b)
		return sp_err(ctx, SP_EINVAL, "%s: init before bind",
			      heads_name(hd));
	sp_fill_uniform(ctx, hd->W, hd->K * hd->in, -a, a);
	sp_fill_const(hd->b, hd->K, 0.0f);
	return SP_OK;
}

/* Checks h (T,B,in) and the labels against the head before forward. */
int heads_check_forward(const head *hd, sp_ctx *ctx, const sp_seq *h,
			  const sp_labels *y)
{
	const char *name = heads_name(hd);
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
int heads_forward(void *self, sp_ctx *ctx, const sp_seq *h,
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
	if ((rc = heads_check_forward(hd, ctx, h, y)) < 0)
		return rc;
	if ((rc = heads_reserve(hd, ctx, h->T, h->B)) < 0)
		return rc;
	hd->T = h->T;
	hd->B = h->B;
	hd->n = 0;
	hd->train = 0; /* until this forward has succeeded */
	rc = hd->kind == HEAD_CLASSIFY ? heads_pool_gather(hd, ctx, h, y) :
					 heads_steps_gather(hd, ctx, h, y);
	if (rc == SP_OK)
		rc = core_forward_(hd, ctx, train, &sum, &count);
	if (rc < 0) {
		/* leave no half-made outputs for predict, sample, trace */
		hd->T = hd->B = hd->n = 0;
		return rc;
	}
	heads_forward_done(hd, train, y, sum, count, loss, n_loss);
	if (y && hd->kind == HEAD_TAGGER)
		heads_count_tags(hd);
	else if (y)
		count_top1_(hd);
	return SP_OK;
}

/* backward: dh (T,B,in) += d(loss/scale)/dh, for the last training
 * forward; weight gradients accumulate. */
int heads_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh)
{
	head *hd = self;
	const char *name = heads_name(hd);
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
		heads_pool_scatter(hd, dh->x);
	else
		heads_steps_scatter(hd, dh->x);
	return SP_OK;
}

int heads_metrics_reset(void *self)
{
	head *hd = self;
	hd->m_loss = 0;
	hd->m_n = 0;
	hd->m_steps = 0;
	hd->m_correct = 0;
	memset(hd->m_gold, 0, (hd->n_names + 1) * sizeof(size_t));
	memset(hd->m_pred, 0, (hd->n_names + 1) * sizeof(size_t));
	memset(hd->m_hit, 0, (hd->n_names + 1) * sizeof(size_t));
	return SP_OK;
}

/* loss, targets in the loss, hits, targets scored, then gold, predicted
 * and correct per name (each n_names + 1 long: the last is the total);
 * counts are exact as doubles up to 2^53. */
int heads_metric_state(void *self, double *buf, size_t *n, int set)
{
	head *hd = self;
	const size_t k = hd->n_names + 1;
	size_t *arr[3] = {hd->m_gold, hd->m_pred, hd->m_hit};
	*n = 4 + 3 * k;
	if (!buf)
		return SP_OK;
	if (set) {
		hd->m_loss = buf[0];
		hd->m_n = (size_t)buf[1];
		hd->m_correct = (size_t)buf[2];
		hd->m_steps = (size_t)buf[3];
		for (size_t a = 0; a < 3; a++)
			for (size_t i = 0; i < k; i++)
				arr[a][i] = (size_t)buf[4 + a * k + i];
		return SP_OK;
	}
	buf[0] = hd->m_loss;
	buf[1] = (double)hd->m_n;
	buf[2] = (double)hd->m_correct;
	buf[3] = (double)hd->m_steps;
	for (size_t a = 0; a < 3; a++)
		for (size_t i = 0; i < k; i++)
			buf[4 + a * k + i] = (double)arr[a][i];
	return SP_OK;
}

/* 2·hit / (gold + pred): F1 = 2PR/(P+R) with P = hit/pred, R = hit/gold;
 * 0 when there is nothing (conlleval and scikit-learn's zero_division). */
double heads_f1(size_t hit, size_t gold, size_t pred)
{
	return gold + pred ? 2.0 * (double)hit / (double)(gold + pred) : 0.0;
}

#define EMIT_(name, value)                                                 \
	do {                                                               \
		int rc_ = emit(payload, (name), (value));                  \
		if (rc_ < 0)                                               \
			return rc_;                                        \
	} while (0)

int heads_emit_entities(char *const *names, size_t n, const size_t *m_gold,
			const size_t *m_pred, const size_t *m_hit,
			sp_metric_fn emit, void *payload)
{
	size_t g = 0, p = 0, h = 0;
	for (size_t k = 0; k < n; k++) {
		g += m_gold[k];
		p += m_pred[k];
		h += m_hit[k];
	}
	EMIT_("precision", p ? (double)h / (double)p : 0.0);
	EMIT_("recall", g ? (double)h / (double)g : 0.0);
	EMIT_("f1", heads_f1(h, g, p));
	for (size_t k = 0; k < n; k++)
		EMIT_(names[k], heads_f1(m_hit[k], m_gold[k], m_pred[k]));
	return SP_OK;
}

/*
 * Reports since the last reset (nothing when no target was seen):
 *   all       loss (mean cross-entropy, nats), accuracy (top-1)
 *   lm        perplexity = exp(loss)
 *   tagger    precision, recall, f1 (entities), f1.<TYPE> for every type
 *             (unless scheme is none)
 *   classify  macro_f1 (mean F1 over the classes that occur as gold or
 *             predicted, as scikit-learn), f1.<label> for every class
 */
int heads_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit,
			void *payload)
{
	head *hd = self;
	double mean;
	if (hd->m_steps == 0)
		return SP_OK;
	/* targets without an output count in the scores, not in the loss */
	if (hd->m_n) {
		mean = hd->m_loss / (double)hd->m_n;
		EMIT_("loss", mean);
		if (hd->kind == HEAD_LM)
			EMIT_("perplexity", exp(mean));
	}
	EMIT_("accuracy", (double)hd->m_correct / (double)hd->m_steps);
	if (hd->kind == HEAD_TAGGER && hd->scheme != SP_TAGS_NONE)
		return heads_emit_entities(hd->names, hd->n_names, hd->m_gold,
					   hd->m_pred, hd->m_hit, emit,
					   payload);
	if (hd->kind == HEAD_CLASSIFY) {
		double sum = 0;
		size_t seen = 0;
		for (size_t k = 0; k < hd->n_names; k++)
			if (hd->m_gold[k] + hd->m_pred[k]) {
				sum += heads_f1(hd->m_hit[k], hd->m_gold[k],
					   hd->m_pred[k]);
				seen++;
			}
		EMIT_("macro_f1", seen ? sum / (double)seen : 0.0);
	}
	if (hd->kind == HEAD_CLASSIFY)
		for (size_t k = 0; k < hd->n_names; k++)
			EMIT_(hd->names[k], heads_f1(hd->m_hit[k], hd->m_gold[k],
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
int heads_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit,
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
int heads_sample(void *self, sp_ctx *ctx, size_t t, size_t b,
		       double temperature, int32_t *out_id)
{
	head *hd = self;
	const size_t K = hd->K;
	const float *yr;
	double sum = 0, u, acc = 0;
	int32_t r, best;
	if (!(temperature > 0) || !isfinite(temperature))
		return sp_err(ctx, SP_EINVAL, "%s: temperature=%g must be > 0",
			      heads_name(hd), temperature);
	if ((r = head_row_(hd, t, b)) < 0)
		return sp_err(ctx, SP_EINVAL, "%s: no output at step %zu, "
			      "sequence %zu of the last forward",
			      heads_name(hd), t, b);
	yr = hd->y + (size_t)r * K;
	best = heads_argmax(yr, K);
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
int heads_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		      sp_trace_fn emit, void *payload)
{
	head *hd = self;
	int32_t r;
	int rc;
	if (b >= hd->B || (hd->kind != HEAD_CLASSIFY && t >= hd->T))
		return sp_err(ctx, SP_EINVAL, "%s: trace of step %zu, sequence "
			      "%zu is outside the last forward (%zu,%zu)",
			      heads_name(hd), t, b, hd->T, hd->B);
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

/* An env up to labels is enough: n_outputs came later. */
#define ENV_HAS_(env, field)                                                \
	((env)->size >= offsetof(sp_head_env, field) + sizeof((env)->field))

int heads_env_ok(sp_ctx *ctx, const char *name, const sp_head_env *env)
{
	if (!env || !ENV_HAS_(env, labels))
		return sp_err(ctx, SP_EINVAL, "%s: no task description (env)",
			      name);
	return SP_OK;
}

size_t heads_env_outputs(const sp_head_env *env)
{
	const size_t N = env->labels ? sp_vocab_size(env->labels) : 0;
	if (ENV_HAS_(env, n_outputs) && env->n_outputs &&
	    env->n_outputs < N)
		return env->n_outputs;
	return N;
}
