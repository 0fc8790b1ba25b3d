/*
 * A head with a metric of its own name and direction: next-token softmax
 * whose loss is reported as "xent" (lower is better, the default
 * best-epoch metric) and its top-1 hits as "hits" (higher is better).
 * The host must pick the best epoch and stop early by these declarations,
 * not by metric names it knows (t_task.sh).  Plain loops: test sizes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_plugin.h"
#include "sp_vocab.h"

typedef struct xent {
	size_t V, H;
	float *W, *b, *dW, *db;  /* (V,H), (V) */
	float *p;                /* (rows,V) softmax of the last forward */
	const float *h;          /* (rows,H) its input (borrowed) */
	const int32_t *tgt;      /* (rows) its targets (borrowed), or NULL */
	size_t rows, cap;
	double m_loss;
	size_t m_n, m_hits;
	sp_weight w[2];
} xent;

static int xent_create(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim,
		       const sp_head_env *env)
{
	xent *x = calloc(1, sizeof(*x));
	(void)args;
	if (!x)
		return sp_err(ctx, SP_ENOMEM, "xent: out of memory");
	x->V = sp_vocab_size(env->labels);
	x->H = in_dim;
	x->w[0] = (sp_weight){"W", 2, {x->V, x->H, 0, 0}};
	x->w[1] = (sp_weight){"b", 1, {x->V, 0, 0, 0}};
	*out = x;
	return SP_OK;
}

static void xent_destroy(void *self)
{
	xent *x = self;
	if (!x)
		return;
	free(x->p);
	free(x);
}

static int xent_weights(const void *self, const sp_weight **out, size_t *n_out)
{
	*out = ((const xent *)self)->w;
	*n_out = 2;
	return SP_OK;
}

static int xent_bind(void *self, float *const *value, float *const *grad)
{
	xent *x = self;
	x->W = value[0];
	x->b = value[1];
	x->dW = grad[0];
	x->db = grad[1];
	return SP_OK;
}

static int xent_init(void *self, sp_ctx *ctx)
{
	xent *x = self;
	double r = 1.0 / sqrt((double)x->H);
	for (size_t i = 0; i < x->V * x->H; i++)
		x->W[i] = (float)((2 * sp_rng_uniform(ctx) - 1) * r);
	memset(x->b, 0, x->V * sizeof(float));
	return SP_OK;
}

static int xent_forward(void *self, sp_ctx *ctx, const sp_seq *h, const sp_labels *y,
			double *loss, size_t *n_loss, int train)
{
	xent *x = self;
	size_t rows = h->T * h->B;
	(void)train;
	if (rows * x->V > x->cap) {
		float *p = realloc(x->p, rows * x->V * sizeof(*p));
		if (!p)
			return sp_err(ctx, SP_ENOMEM, "xent: out of memory");
		x->p = p;
		x->cap = rows * x->V;
	}
	x->rows = rows;
	x->h = h->x;
	x->tgt = y ? y->id : NULL;
	if (y) {
		*loss = 0;
		*n_loss = 0;
	}
	for (size_t r = 0; r < rows; r++) {
		float *p = x->p + r * x->V, mx = -INFINITY;
		double sum = 0;
		size_t best = 0;
		for (size_t v = 0; v < x->V; v++) {
			float z = x->b[v];
			for (size_t i = 0; i < x->H; i++)
				z += x->W[v * x->H + i] * h->x[r * x->H + i];
			p[v] = z;
			mx = z > mx ? z : mx;
		}
		for (size_t v = 0; v < x->V; v++)
			sum += (p[v] = expf(p[v] - mx));
		for (size_t v = 0; v < x->V; v++) {
			p[v] = (float)(p[v] / sum);
			best = p[v] > p[best] ? v : best;
		}
		if (y && y->id[r] >= 0 && (!y->mask || y->mask[r])) {
			double l = -log(p[y->id[r]] > 1e-30f ? p[y->id[r]] : 1e-30f);
			*loss += l;
			(*n_loss)++;
			x->m_loss += l;
			x->m_n++;
			x->m_hits += (int32_t)best == y->id[r];
		}
	}
	return SP_OK;
}

static int xent_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh)
{
	xent *x = self;
	(void)ctx;
	for (size_t r = 0; r < x->rows; r++) {
		int32_t t = x->tgt ? x->tgt[r] : -1;
		if (t < 0)
			continue;
		for (size_t v = 0; v < x->V; v++) {
			float g = (float)((x->p[r * x->V + v] - (v == (size_t)t)) / scale);
			x->db[v] += g;
			for (size_t i = 0; i < x->H; i++) {
				x->dW[v * x->H + i] += g * x->h[r * x->H + i];
				dh->x[r * x->H + i] += g * x->W[v * x->H + i];
			}
		}
	}
	return SP_OK;
}

static int xent_metrics_reset(void *self)
{
	xent *x = self;
	x->m_loss = 0;
	x->m_n = x->m_hits = 0;
	return SP_OK;
}

static int xent_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit, void *payload)
{
	xent *x = self;
	int rc;
	(void)ctx;
	if (!x->m_n)
		return SP_OK;
	if ((rc = emit(payload, "xent", x->m_loss / (double)x->m_n)) < 0)
		return rc;
	return emit(payload, "hits", (double)x->m_hits / (double)x->m_n);
}

static int xent_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit, void *payload)
{
	xent *x = self;
	(void)ctx;
	(void)k;
	for (size_t r = 0; r < x->rows; r++) {
		size_t best = 0;
		int rc;
		for (size_t v = 1; v < x->V; v++)
			best = x->p[r * x->V + v] > x->p[r * x->V + best] ? v : best;
		if ((rc = emit(payload, r, 0, 0, (int32_t)best, x->p[r * x->V + best])) < 0)
			return rc;
	}
	return SP_OK;
}

static int xent_sample(void *self, sp_ctx *ctx, size_t t, size_t b, double temperature,
		       int32_t *out_id)
{
	xent *x = self;
	(void)ctx;
	(void)b;
	(void)temperature;
	*out_id = 0;
	for (size_t v = 1; v < x->V; v++)
		if (x->p[t * x->V + v] > x->p[t * x->V + (size_t)*out_id])
			*out_id = (int32_t)v;
	return SP_OK;
}

static const sp_param_spec xent_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_metric_decl xent_metrics_decl[] = {
	{"hits", 1, "top-1 accuracy"},
	{"xent", 0, "mean cross-entropy (nats)"},
	{NULL, 0, NULL}};
static const sp_head_task xent_task = {sizeof(sp_head_task), SP_LABELS_NEXT_TOKEN,
				       xent_metrics_decl, "xent"};

/* Both components: the ops after the table's base. */
#define XENT_OPS                                                            \
	.target = SP_TARGET_NEXT_TOKEN, .create = xent_create,              \
	.destroy = xent_destroy, .weights = xent_weights, .bind = xent_bind, \
	.init = xent_init, .forward = xent_forward,                         \
	.backward = xent_backward, .metrics_reset = xent_metrics_reset,     \
	.metrics = xent_metrics, .predict = xent_predict,                   \
	.sample = xent_sample, .task = &xent_task

static const sp_head_ops xent_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "xent",
		 "next-token softmax reporting xent (lower is better) and hits",
		 xent_params},
	XENT_OPS};

/* The same head as a module built before `task` was appended to
 * sp_head_ops would have it: the table's size ends before the member, so
 * the host must load it, take the defaults of its target, and never read
 * the task the struct happens to hold past that size. */
static const sp_head_ops old_ops = {
	.base = {offsetof(sp_head_ops, task), SP_KIND_HEAD, "old",
		 "xent with the table of a build that had no task member",
		 xent_params},
	XENT_OPS};

SP_PLUGIN_DEFINE(xenthead, "1.0", "test plugin: a head with its own metric and direction",
		 &xent_ops.base, &old_ops.base)
