/*
 * head_classify.c: the `classify` head, one class per sequence (sentiment)
 * by a softmax (head_core.c) over a pool of the sequence's h(t):
 *
 *   last   h at the last real step
 *   mean   the mean over the real steps
 *   max    the element-wise maximum (its gradient goes to the step
 *          holding the max)
 *
 * For a bidirectional model, h is [forward | backward] concatenated, and
 * `last` takes both halves at the last step: the forward half has read the
 * whole sequence there, the backward half only that last step.  Use `mean`
 * or `max` to give the backward direction the same weight.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heads_impl.h"
#include "sp_kv.h"
#include "sp_vocab.h"

/*
 * classify: one row per sequence with at least one real step, x = the
 * pool of its real steps' h.  row_of marks every real step with the row
 * it feeds; seq_row gives the row of each sequence.
 */
int heads_pool_gather(head *hd, sp_ctx *ctx, const sp_seq *h,
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
			if (!heads_step_real(h, t, b))
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
		if ((rc = heads_label_at("classify", hd->N, ctx, y, b,
					  &hd->tgt[n])) < 0)
			return rc;
		n++;
	}
	hd->n = n;
	return SP_OK;
}

/* classify: dX (r,:) back through the pool into dh (T,B,in). */
void heads_pool_scatter(const head *hd, float *dh)
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

static int classify_create(void **out, sp_ctx *ctx, const sp_kv *args,
			   size_t in_dim, const sp_head_env *env)
{
	head *hd = NULL;
	const char *pool;
	size_t K, N;
	int rc;
	*out = NULL;
	if ((rc = heads_env_ok(ctx, "classify", env)) < 0)
		return rc;
	if (!env->labels)
		return sp_err(ctx, SP_EINVAL, "classify: no class set");
	/* outputs for the trained classes; every class gets its f1 */
	K = heads_env_outputs(env);
	N = sp_vocab_size(env->labels);
	rc = heads_new(&hd, ctx, args, in_dim, HEAD_CLASSIFY, K, "W", "b", N);
	if (rc < 0)
		goto fail;
	hd->N = N;
	pool = sp_kv_str(args, "pool");
	hd->pool = strcmp(pool, "mean") == 0 ? POOL_MEAN :
		   strcmp(pool, "max") == 0 ? POOL_MAX : POOL_LAST;
	hd->y_label = hd->pool == POOL_LAST ? "y = W·h(last) + b" :
		      hd->pool == POOL_MEAN ? "y = W·mean_t h(t) + b" :
					      "y = W·max_t h(t) + b";
	hd->p_label = "softmax(y)";
	for (size_t k = 0; k < N; k++) {
		const char *tok = sp_vocab_token(env->labels, (int32_t)k);
		hd->names[k] = heads_metric_name(tok, strlen(tok));
		if (!hd->names[k]) {
			rc = sp_err(ctx, SP_ENOMEM, "classify: out of memory");
			goto fail;
		}
		hd->n_names = k + 1;
	}
	*out = hd;
	return SP_OK;
fail:
	heads_destroy(hd);
	return rc;
}

static const sp_param_spec classify_params[] = {
	HEADS_DROPOUT_PARAM,
	{"pool", SP_T_STRING, "last",
	 "how a sequence's h(t) become one vector: h at the last real step, "
	 "mean or element-wise max over real steps",
	 "last|mean|max"},
	{NULL, 0, NULL, NULL, NULL}};

/* What the head reads and reports (the host picks the best epoch and
 * checks train.metric by these). */
static const sp_metric_decl classify_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"accuracy", 1, "top-1 accuracy"},
	{"macro_f1", 1, "mean F1 over the classes"},
	{"f1.*", 1, "F1 of one class"},
	{NULL, 0, NULL}};
static const sp_head_task classify_task = {sizeof(sp_head_task), SP_LABELS_TEXT,
					   classify_metrics, "accuracy"};

const sp_head_ops heads_classify_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "classify",
		 "one class per sequence from pooled h (accuracy, macro-F1)",
		 classify_params},
	.target = SP_TARGET_CLASS,
	.create = classify_create,
	.task = &classify_task,
	HEAD_OPS_};
