/*
 * smooth.c: a head plugin, softmax with label-smoothing cross-entropy
 * (Szegedy et al. 2016, "Rethinking the Inception architecture for
 * computer vision", section 7).  At every real position with target y
 * among K labels, from the model's hidden state h (H wide):
 *
 *   z = W·h + b                    logits (K); W (K,H), b (K)
 *   p = softmax(z)
 *   q = (1 - ε)·onehot(y) + ε/K    the smoothed target
 *   L = -Σ_k q_k·log p_k           the loss trained
 *
 *   ∂L/∂z = p - q,  so  ∂L/∂W = (p - q)·hᵀ,  ∂L/∂b = p - q,  ∂L/∂h = Wᵀ·(p - q)
 *
 * With ε = 0 it is the plain cross-entropy of the built-in heads.  The
 * smoothed loss never reaches 0 (its floor is the entropy of q), so the
 * head declares a metric of its own, `smoothed_xent`, lower is better, as
 * the one that picks the best epoch; it also reports the unsmoothed `xent`
 * and the share of `top1` hits (higher is better).  The host learns those
 * names and directions from the task tables below, not from the names.
 *
 * One module, two components sharing the code: smooth.next (the next
 * token, as the lm head) and smooth.tags (one tag per token, as the
 * tagger).  A .pipe names them with their module: plugin = smooth.next.
 *
 *   gcc -shared -fPIC -O2 -Wl,--no-undefined $(pkg-config --cflags seqpipe) \
 *       smooth.c -o smooth.so $(pkg-config --libs seqpipe) -lm
 *   pipeline check --plugin ./smooth.so
 *   SEQPIPE_PLUGIN_PATH=. pipeline run hello.pipe --set head.plugin=smooth.next
 *
 * Built with -DSMOOTH_WRONG_GRAD its backward forgets the ε/K part of q
 * (the gradient of plain cross-entropy): the bug the harness must catch.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sp_blas.h>   /* sp_gemm: the engine's matrix product */
#include <sp_plugin.h> /* pkg-config --cflags seqpipe puts it on the path */

typedef struct smooth {
	const char *name;       /* "smooth.next": for messages */
	size_t K, N, H;         /* outputs, labels (>= K), input width */
	double eps;             /* ε */
	sp_weight w[2];         /* W (K,H), b (K) */
	float *W, *b, *dW, *db; /* bound in the host's arenas */
	size_t *idx;            /* (K) predict's top-k selection */

	/* The last forward: rows = T*B, row r = step t*B + b. */
	size_t T, B, rows, cap;
	const float *x;         /* (rows,H) its input: borrowed, valid until
				   backward returns (sp_plugin.h contract) */
	float *z, *p, *g;       /* (rows,K) logits, softmax, ∂L/∂z */
	int32_t *tgt;           /* (rows) target id, -1 for none */
	uint8_t *real;          /* (rows) 1 for a real step, 0 for padding */

	/* Metric accumulators, since metrics_reset. */
	double m_smoothed, m_xent;
	size_t m_n, m_top1;
	size_t m_unseen;        /* targets with a label training never saw */
} smooth;

static void smooth_destroy(void *self)
{
	smooth *s = self;
	if (!s)
		return;
	free(s->idx);
	free(s->z);
	free(s->p);
	free(s->g);
	free(s->tgt);
	free(s->real);
	free(s);
}

/* Both components: K = the label set (for the next token, the input
 * vocabulary: the host passes the same vocabulary as labels). */
static int smooth_create(void **out, sp_ctx *ctx, const sp_kv *args,
			 size_t in_dim, const sp_head_env *env, const char *name)
{
	smooth *s;
	double eps = sp_kv_float(args, "epsilon");
	*out = NULL;
	if (!(eps >= 0 && eps < 1))
		return sp_err(ctx, SP_EINVAL, "%s: epsilon = %g, expected 0 <= epsilon < 1",
			      sp_kv_where(args, "epsilon"), eps);
	if (!env || env->size < sizeof(sp_head_env) || !env->labels ||
	    sp_vocab_size(env->labels) < 2)
		return sp_err(ctx, SP_EINVAL, "%s: needs a label set of 2 or more", name);
	if (!(s = calloc(1, sizeof(*s))))
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", name);
	s->name = name;
	/* outputs for the labels training has; n_outputs is 0 from a host
	 * that does not say (every label then) */
	s->K = env->n_outputs ? env->n_outputs : sp_vocab_size(env->labels);
	s->N = sp_vocab_size(env->labels);
	s->H = in_dim;
	s->eps = eps;
	s->w[0] = (sp_weight){"W", 2, {s->K, s->H, 0, 0}};
	s->w[1] = (sp_weight){"b", 1, {s->K, 0, 0, 0}};
	if (!(s->idx = malloc(s->K * sizeof(*s->idx)))) {
		smooth_destroy(s);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", name);
	}
	*out = s;
	return SP_OK;
}

static int next_create(void **out, sp_ctx *ctx, const sp_kv *args,
		       size_t in_dim, const sp_head_env *env)
{
	return smooth_create(out, ctx, args, in_dim, env, "smooth.next");
}

static int tags_create(void **out, sp_ctx *ctx, const sp_kv *args,
		       size_t in_dim, const sp_head_env *env)
{
	return smooth_create(out, ctx, args, in_dim, env, "smooth.tags");
}

static int smooth_weights(const void *self, const sp_weight **out, size_t *n_out)
{
	*out = ((const smooth *)self)->w;
	*n_out = 2;
	return SP_OK;
}

/* The blocks stay valid until the next bind or destroy: keep them. */
static int smooth_bind(void *self, float *const *value, float *const *grad)
{
	smooth *s = self;
	s->W = value[0];
	s->b = value[1];
	s->dW = grad[0];
	s->db = grad[1];
	return SP_OK;
}

static int smooth_init(void *self, sp_ctx *ctx)
{
	smooth *s = self;
	float r = (float)(1.0 / sqrt((double)s->H));
	sp_fill_uniform(ctx, s->W, s->K * s->H, -r, r);
	sp_fill_const(s->b, s->K, 0.0f);
	return SP_OK;
}

/* Grows the batch buffers to `rows` rows (only when a batch is larger
 * than any before, so training allocates in its first steps only). */
static int smooth_reserve(smooth *s, sp_ctx *ctx, size_t rows)
{
	float *z, *p, *g;
	int32_t *tgt;
	uint8_t *real;
	if (rows <= s->cap)
		return SP_OK;
	z = realloc(s->z, rows * s->K * sizeof(*z));
	if (z)
		s->z = z;
	p = realloc(s->p, rows * s->K * sizeof(*p));
	if (p)
		s->p = p;
	g = realloc(s->g, rows * s->K * sizeof(*g));
	if (g)
		s->g = g;
	tgt = realloc(s->tgt, rows * sizeof(*tgt));
	if (tgt)
		s->tgt = tgt;
	real = realloc(s->real, rows);
	if (real)
		s->real = real;
	if (!z || !p || !g || !tgt || !real)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory for a batch of %zu steps",
			      s->name, rows);
	s->cap = rows;
	return SP_OK;
}

/* Softmax of row r and its smoothed loss, in double; accumulates the
 * metrics.  Returns L of the row (0 without a target). */
static double smooth_row(smooth *s, size_t r)
{
	const size_t K = s->K;
	const float *z = s->z + r * K;
	float *p = s->p + r * K;
	double mx = z[0], sum = 0, lse, sum_logp = 0, nll, L;
	size_t best = 0;
	for (size_t k = 1; k < K; k++)
		if (z[k] > mx)
			mx = z[k];
	for (size_t k = 0; k < K; k++)
		sum += exp((double)z[k] - mx);
	lse = mx + log(sum); /* log Σ exp z */
	for (size_t k = 0; k < K; k++) {
		p[k] = (float)exp((double)z[k] - lse);
		sum_logp += (double)z[k] - lse;
		if (p[k] > p[best])
			best = k;
	}
	if (s->tgt[r] < 0)
		return 0;
	nll = lse - (double)z[s->tgt[r]];
	L = (1 - s->eps) * nll - s->eps / (double)K * sum_logp;
	s->m_smoothed += L;
	s->m_xent += nll;
	s->m_n++;
	s->m_top1 += best == (size_t)s->tgt[r];
	return L;
}

/* h:(T,B,H) -> z = h·Wᵀ + b for every step (padding too: one product),
 * then the loss of the real steps that have a target. */
static int smooth_forward(void *self, sp_ctx *ctx, const sp_seq *h,
			  const sp_labels *y, double *loss, size_t *n_loss,
			  int train)
{
	smooth *s = self;
	size_t rows = h->T * h->B;
	size_t unseen = 0;
	int rc;
	(void)train; /* the forward keeps what backward needs either way */
	if (!h->x || h->D != s->H)
		return sp_err(ctx, SP_EINVAL, "%s: input of width %zu, expected %zu",
			      s->name, h->x ? h->D : 0, s->H);
	if (y && (y->T != h->T || y->B != h->B))
		return sp_err(ctx, SP_EINVAL, "%s: labels (%zu,%zu) for a (%zu,%zu) batch",
			      s->name, y->T, y->B, h->T, h->B);
	if ((rc = smooth_reserve(s, ctx, rows)) < 0)
		return rc;
	s->T = h->T;
	s->B = h->B;
	s->rows = rows;
	s->x = h->x;
	for (size_t r = 0; r < rows; r++) {
		int32_t id = y ? y->id[r] : -1;
		s->real[r] = !h->mask || h->mask[r];
		if (!s->real[r] || (y && y->mask && !y->mask[r]))
			id = -1;
		if (id >= (int32_t)s->N)
			return sp_err(ctx, SP_EINPUT, "%s: label %d at step %zu of sequence %zu, expected 0..%zu",
				      s->name, (int)id, r / h->B, r % h->B, s->N - 1);
		/* a label only dev/test has: no output, so no loss and no
		 * cross-entropy, but a miss for top1, as the built-in heads
		 * count it */
		if (id >= (int32_t)s->K) {
			unseen++;
			id = -1;
		}
		s->tgt[r] = id;
	}
	s->m_unseen += unseen; /* only once the whole batch is valid */
	for (size_t r = 0; r < rows; r++)
		memcpy(s->z + r * s->K, s->b, s->K * sizeof(float));
	sp_gemm(0, 1, rows, s->K, s->H, 1.0f, h->x, s->H, s->W, s->H, 1.0f,
		s->z, s->K);
	if (y) {
		*loss = 0;
		*n_loss = 0;
	}
	for (size_t r = 0; r < rows; r++) {
		double L = smooth_row(s, r);
		if (y && s->tgt[r] >= 0) {
			*loss += L;
			(*n_loss)++;
		}
	}
	return SP_OK;
}

/* ∂(L/scale)/∂z = (p - q)/scale on rows with a target, 0 elsewhere; then
 * dW += Gᵀ·X, db += Σ_r G, dh += G·W (accumulated: the host zeroes). */
static int smooth_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh)
{
	smooth *s = self;
	const size_t K = s->K;
	const float inv = (float)(1.0 / scale);
#ifdef SMOOTH_WRONG_GRAD
	const float off = 0.0f, on = 1.0f; /* q without smoothing: wrong */
#else
	const float off = (float)(s->eps / (double)K), on = (float)(1.0 - s->eps) + off;
#endif
	(void)ctx;
	for (size_t r = 0; r < s->rows; r++) {
		float *g = s->g + r * K;
		const float *p = s->p + r * K;
		if (s->tgt[r] < 0) {
			memset(g, 0, K * sizeof(float));
			continue;
		}
		for (size_t k = 0; k < K; k++)
			g[k] = (p[k] - ((int32_t)k == s->tgt[r] ? on : off)) * inv;
		for (size_t k = 0; k < K; k++)
			s->db[k] += g[k];
	}
	sp_gemm(1, 0, K, s->H, s->rows, 1.0f, s->g, K, s->x, s->H, 1.0f, s->dW, s->H);
	sp_gemm(0, 0, s->rows, s->H, K, 1.0f, s->g, K, s->W, s->H, 1.0f, dh->x, s->H);
	return SP_OK;
}

static int smooth_metrics_reset(void *self)
{
	smooth *s = self;
	s->m_smoothed = s->m_xent = 0;
	s->m_n = s->m_top1 = s->m_unseen = 0;
	return SP_OK;
}

/* Emits only the metrics the task table declares. */
static int smooth_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit, void *payload)
{
	smooth *s = self;
	double n = (double)s->m_n;
	int rc;
	(void)ctx;
	if (s->m_n &&
	    ((rc = emit(payload, "smoothed_xent", s->m_smoothed / n)) < 0 ||
	     (rc = emit(payload, "xent", s->m_xent / n)) < 0))
		return rc;
	if (!s->m_n && !s->m_unseen)
		return SP_OK;
	return emit(payload, "top1", (double)s->m_top1 / (n + (double)s->m_unseen));
}

/* The k most probable labels of every real step, best first. */
static int smooth_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit,
			  void *payload)
{
	smooth *s = self;
	(void)ctx;
	if (k > s->K)
		k = s->K;
	for (size_t r = 0; r < s->rows; r++) {
		const float *p = s->p + r * s->K;
		if (!s->real[r])
			continue;
		for (size_t i = 0; i < s->K; i++)
			s->idx[i] = i;
		for (size_t i = 0; i < k; i++) { /* partial selection sort */
			size_t best = i, keep;
			int rc;
			for (size_t j = i + 1; j < s->K; j++)
				if (p[s->idx[j]] > p[s->idx[best]] ||
				    (p[s->idx[j]] == p[s->idx[best]] && s->idx[j] < s->idx[best]))
					best = j; /* ties: the lower id first */
			keep = s->idx[i];
			s->idx[i] = s->idx[best];
			s->idx[best] = keep;
			rc = emit(payload, r / s->B, r % s->B, i, (int32_t)s->idx[i],
				  p[s->idx[i]]);
			if (rc < 0)
				return rc;
		}
	}
	return SP_OK;
}

/* One draw from softmax(z / temperature) at step t of sequence b. */
static int smooth_sample(void *self, sp_ctx *ctx, size_t t, size_t b,
			 double temperature, int32_t *out_id)
{
	smooth *s = self;
	const float *z;
	double mx, sum = 0, u, acc = 0;
	if (!(temperature > 0) || !isfinite(temperature))
		return sp_err(ctx, SP_EINVAL, "%s: temperature = %g, expected > 0",
			      s->name, temperature);
	if (t >= s->T || b >= s->B || !s->real[t * s->B + b])
		return sp_err(ctx, SP_EINVAL, "%s: no output at step %zu of sequence %zu",
			      s->name, t, b);
	z = s->z + (t * s->B + b) * s->K;
	mx = z[0];
	for (size_t k = 1; k < s->K; k++)
		mx = z[k] > mx ? z[k] : mx;
	for (size_t k = 0; k < s->K; k++)
		sum += exp(((double)z[k] - mx) / temperature);
	u = sp_rng_uniform(ctx) * sum;
	*out_id = (int32_t)s->K - 1; /* if rounding leaves u past the end */
	for (size_t k = 0; k < s->K; k++) {
		acc += exp(((double)z[k] - mx) / temperature);
		if (u < acc) {
			*out_id = (int32_t)k;
			break;
		}
	}
	return SP_OK;
}

/* ---- what the host reads: keys, task, ops, the descriptor ---------- */

static const sp_param_spec smooth_params[] = {
	{"epsilon", SP_T_FLOAT, "0.1",
	 "share of the target spread evenly over all labels (0 = plain cross-entropy)", NULL},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_metric_decl smooth_metric_decls[] = {
	{"smoothed_xent", 0, "mean label-smoothed cross-entropy (nats), the loss trained"},
	{"xent", 0, "mean cross-entropy of the gold label (nats), unsmoothed"},
	{"top1", 1, "share of targets whose most probable label is the gold one (a label training never saw counts as a miss)"},
	{NULL, 0, NULL}};

static const sp_head_task next_task = {sizeof(sp_head_task), SP_LABELS_NEXT_TOKEN,
				       smooth_metric_decls, "smoothed_xent"};
static const sp_head_task tags_task = {sizeof(sp_head_task), SP_LABELS_TOKEN,
				       smooth_metric_decls, "smoothed_xent"};

#define SMOOTH_OPS                                                          \
	.destroy = smooth_destroy, .weights = smooth_weights,               \
	.bind = smooth_bind, .init = smooth_init, .forward = smooth_forward, \
	.backward = smooth_backward, .metrics_reset = smooth_metrics_reset, \
	.metrics = smooth_metrics, .predict = smooth_predict,               \
	.sample = smooth_sample

static const sp_head_ops next_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "next",
		 "next token, label-smoothed cross-entropy (smoothed_xent, xent, top1)",
		 smooth_params},
	.target = SP_TARGET_NEXT_TOKEN, .create = next_create,
	.task = &next_task, SMOOTH_OPS};

static const sp_head_ops tags_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "tags",
		 "one tag per token, label-smoothed cross-entropy (smoothed_xent, xent, top1)",
		 smooth_params},
	.target = SP_TARGET_TAGS, .create = tags_create,
	.task = &tags_task, SMOOTH_OPS};

/* the module file is smooth.so (or smooth.la), so the plugin's name is "smooth" */
SP_PLUGIN_DEFINE(smooth, "1.0", "label-smoothing cross-entropy heads",
		 &next_ops.base, &tags_ops.base)
