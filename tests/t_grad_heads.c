/*
 * t_grad_heads.c: finite-difference gradient checks of the heads plugin
 * (plugins/heads.c): lm, tagger, and classify with pool = last, mean, max;
 * and crf, whose loss, marginals and Viterbi path are also checked against
 * a brute-force enumeration of every path allowed by its tag scheme
 * (IOB2, IOBES, IOB1, none), with padding, missing and masked labels.
 *
 * Each head is built through its descriptor, as the host does.  The loss
 * checked is L = forward's summed loss / scale, which is what backward
 * differentiates (sp_plugin.h); scale = 4 so that a head that multiplied
 * instead would fail.  Shapes are tiny (T=4, B=3, in=5) with padding, a
 * masked label and labels with id < 0, and the checks also cover:
 * padded steps and steps without a target get dh = 0, backward twice
 * doubles the gradients (accumulation), forward twice gives the same loss,
 * and the loss equals a naive double-precision recomputation.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "sp_tags.h"
#include "sp_vocab.h"
#include "tap.h"

const sp_plugin *heads_LTX_sp_plugin_entry(void);

enum { T = 4, B = 3, IN = 5, MAXK = 8 };
static const double SCALE = 4.0;
static const double TOL = 1e-2;

/* The batch: sequence lengths 4, 2, 3 (right-padded). */
static const int32_t LEN[B] = {4, 2, 3};

typedef struct fixture {
	sp_ctx *ctx;
	const sp_head_ops *ops;
	void *self;
	size_t K;
	float W[MAXK * IN], b[MAXK], dW[MAXK * IN], db[MAXK];
	float h[T * B * IN], dh[T * B * IN];
	uint8_t mask[T * B];
	int32_t id[T * B];      /* (T,B) labels, or (1,B) for classify */
	uint8_t lmask[T * B];
	sp_seq seq;
	sp_labels lab;
	uint64_t seed;          /* reseeded before each forward (dropout) */
} fixture;

static const sp_head_ops *find_head_(const char *name)
{
	const sp_plugin *pl = heads_LTX_sp_plugin_entry();
	for (size_t i = 0; pl->components[i]; i++)
		if (strcmp(pl->components[i]->name, name) == 0)
			return (const sp_head_ops *)pl->components[i];
	return NULL;
}

static sp_vocab *vocab_(sp_ctx *ctx, const char *const *toks, size_t n)
{
	sp_vocab *v = NULL;
	if (sp_vocab_new(&v) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (sp_vocab_add(v, ctx, toks[i], strlen(toks[i]), 1, NULL) <
		    0) {
			sp_vocab_free(v);
			return NULL;
		}
	return v;
}

/* Builds head `name` with args key=value pairs (NULL-terminated). */
static int fixture_new_(fixture *f, const char *name, const char *const *kvs,
			const sp_vocab *voc)
{
	sp_kv *kv = NULL;
	sp_head_env env = {sizeof(sp_head_env), voc, voc, 0};
	int rc;
	float *val[2], *grd[2];
	f->ops = find_head_(name);
	if (!f->ops)
		return -1;
	if ((rc = sp_kv_new(&kv, name)) < 0)
		return rc;
	for (size_t i = 0; kvs && kvs[i]; i += 2)
		if ((rc = sp_kv_set(kv, f->ctx, kvs[i], kvs[i + 1], 0,
				    "test")) < 0)
			goto out;
	if ((rc = sp_kv_validate(kv, f->ctx, f->ops->base.params, ".")) < 0)
		goto out;
	if ((rc = f->ops->create(&f->self, f->ctx, kv, IN, &env)) < 0)
		goto out;
	f->K = sp_vocab_size(voc);
	val[0] = f->W;
	val[1] = f->b;
	grd[0] = f->dW;
	grd[1] = f->db;
	if ((rc = f->ops->bind(f->self, val, grd)) < 0)
		goto out;
	if ((rc = f->ops->init(f->self, f->ctx)) < 0)
		goto out;
	/* a non-zero bias, so that db is checked at a generic point */
	sp_fill_uniform(f->ctx, f->b, f->K, -0.5f, 0.5f);
out:
	sp_kv_free(kv);
	return rc;
}

/* h with values spaced apart (for max-pooling: no ties within eps), the
 * mask of LEN, and labels: some id < 0, one masked, padding = garbage. */
static void fixture_data_(fixture *f, int per_sequence)
{
	/* in [-1, 1]; over t, each (b, j) holds values 0.2 apart (7t mod 11
	 * differs for t < 4), so a max never changes within eps */
	for (size_t b = 0; b < B; b++)
		for (size_t j = 0; j < IN; j++)
			for (size_t t = 0; t < T; t++)
				f->h[(t * B + b) * IN + j] =
					(float)(((t * 7 + j * 3 + b) % 11) * 0.2 -
						1.0 + 0.01 * sp_rng_uniform(f->ctx));
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++)
			f->mask[t * B + b] = (int32_t)t < LEN[b];
	memset(f->lmask, 1, sizeof(f->lmask));
	if (per_sequence) {
		/* odd seeds: sequence 1 has no target (id < 0) */
		f->id[0] = 1;
		f->id[1] = f->seed % 2 ? -1 : (int32_t)f->K - 1;
		f->id[2] = 2;
		f->lab = (sp_labels){1, B, f->id, NULL};
	} else {
		for (size_t i = 0; i < T * B; i++)
			f->id[i] = (int32_t)sp_rng_below(f->ctx, f->K);
		f->id[0 * B + 1] = -1;     /* no target at (0,1) */
		f->lmask[2 * B + 0] = 0;   /* masked label at (2,0) */
		f->id[3 * B + 1] = 12345;  /* padding: must be ignored */
		f->lab = (sp_labels){T, B, f->id, f->lmask};
	}
	f->seq = (sp_seq){T, B, IN, f->h, NULL, f->mask, LEN};
}

static double loss_fn_(void *payload)
{
	fixture *f = payload;
	double loss = 0;
	size_t n = 0;
	sp_rng_seed(f->ctx, f->seed);
	if (f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &loss, &n, 1) <
	    0)
		return NAN;
	return loss / SCALE;
}

/* Analytic gradients: zeroed, then one forward + backward. */
static int grads_(fixture *f)
{
	double loss;
	size_t n;
	sp_seq d = {T, B, IN, f->dh, NULL, f->mask, LEN};
	int rc;
	memset(f->dW, 0, sizeof(f->dW));
	memset(f->db, 0, sizeof(f->db));
	memset(f->dh, 0, sizeof(f->dh));
	sp_rng_seed(f->ctx, f->seed);
	if ((rc = f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &loss,
				  &n, 1)) < 0)
		return rc;
	return f->ops->backward(f->self, f->ctx, SCALE, &d);
}

static void check_(fixture *f, const char *what, float *x, const float *g,
		   size_t n)
{
	gc_result r = gc_check(loss_fn_, f, x, g, n, 1e-2f, 0, 1e-3);
	ok(r.max_rel < TOL && r.checked == n,
	   "%s max_rel=%.2e (%zu checked)", what, r.max_rel, r.checked);
	if (r.max_rel >= TOL)
		diag("worst %zu: analytic %g numeric %g", r.worst, r.analytic,
		     r.numeric);
}

/* The pooled vector of sequence b, computed naively. */
static void pool_ref_(const fixture *f, size_t b, const char *pool, double *v)
{
	for (size_t j = 0; j < IN; j++) {
		double acc = pool[0] == 'm' && pool[1] == 'a' ? -INFINITY : 0;
		for (size_t t = 0; t < (size_t)LEN[b]; t++) {
			double x = f->h[(t * B + b) * IN + j];
			if (strcmp(pool, "last") == 0)
				acc = x;
			else if (strcmp(pool, "mean") == 0)
				acc += x / LEN[b];
			else
				acc = x > acc ? x : acc;
		}
		v[j] = acc;
	}
}

/* −log softmax(W·v + b)[c] in double. */
static double ce_ref_(const fixture *f, const double *v, int32_t c)
{
	double y[MAXK], mx = -INFINITY, s = 0;
	for (size_t k = 0; k < f->K; k++) {
		y[k] = f->b[k];
		for (size_t j = 0; j < IN; j++)
			y[k] += (double)f->W[k * IN + j] * v[j];
		mx = y[k] > mx ? y[k] : mx;
	}
	for (size_t k = 0; k < f->K; k++)
		s += exp(y[k] - mx);
	return mx + log(s) - y[c];
}

/* The full set of checks for one head configuration. */
static void run_(const char *name, const char *const *kvs, const char *pool,
		 uint64_t seed, int dropout)
{
	static const char *const chars[] = {"h", "e", "l", "o", "w", "r"};
	static const char *const tags[] = {"O", "B-PER", "I-PER", "B-LOC",
					   "I-LOC"};
	static const char *const classes[] = {"neg", "neu", "pos", "mixed"};
	fixture f;
	sp_vocab *voc;
	char what[128];
	double loss = 0, loss2 = 0, want = 0;
	size_t n = 0, n2 = 0, want_n = 0;
	int per_seq = strcmp(name, "classify") == 0;
	float dW1[MAXK * IN], db1[MAXK], dh1[T * B * IN];
	int zero_ok = 1, double_ok = 1;

	memset(&f, 0, sizeof(f));
	sp_ctx_new(&f.ctx, seed);
	f.seed = seed;
	voc = strcmp(name, "lm") == 0 ? vocab_(f.ctx, chars, 6) :
	      strcmp(name, "tagger") == 0 ? vocab_(f.ctx, tags, 5) :
					    vocab_(f.ctx, classes, 4);
	snprintf(what, sizeof(what), "%s%s%s%s%s", name, pool ? " pool=" : "",
		 pool ? pool : "", dropout ? " dropout=0.3" : "",
		 kvs ? "" : " (defaults)");
	if (!ok(voc && fixture_new_(&f, name, kvs, voc) == 0,
		"%s: created through the descriptor (%s)", what,
		sp_errmsg(f.ctx)))
		goto out;
	fixture_data_(&f, per_seq);

	/* the loss and its count against a naive recomputation */
	sp_rng_seed(f.ctx, seed);
	ok(f.ops->forward(f.self, f.ctx, &f.seq, &f.lab, &loss, &n, 0) == 0,
	   "%s: forward (%s)", what, sp_errmsg(f.ctx));
	if (per_seq) {
		for (size_t b = 0; b < B; b++) {
			double v[IN];
			if (f.id[b] < 0)
				continue;
			pool_ref_(&f, b, pool, v);
			want += ce_ref_(&f, v, f.id[b]);
			want_n++;
		}
	} else {
		for (size_t t = 0; t < T; t++)
			for (size_t b = 0; b < B; b++) {
				const size_t i = t * B + b;
				double v[IN];
				if (!f.mask[i] || !f.lmask[i] || f.id[i] < 0)
					continue;
				for (size_t j = 0; j < IN; j++)
					v[j] = f.h[i * IN + j];
				want += ce_ref_(&f, v, f.id[i]);
				want_n++;
			}
	}
	ok(n == want_n, "%s: n_loss = %zu targets (want %zu)", what, n,
	   want_n);
	ok_near(loss, want, 1e-5, "%s: loss is the summed cross-entropy",
		what);
	ok(f.ops->forward(f.self, f.ctx, &f.seq, &f.lab, &loss2, &n2, 0) == 0 &&
	   loss2 == loss && n2 == n, "%s: forward twice, same loss", what);

	/* the gradients */
	if (!ok(grads_(&f) == 0, "%s: forward + backward (%s)", what,
		sp_errmsg(f.ctx)))
		goto out;
	memcpy(dW1, f.dW, sizeof(dW1));
	memcpy(db1, f.db, sizeof(db1));
	memcpy(dh1, f.dh, sizeof(dh1));
	{
		char w2[160];
		snprintf(w2, sizeof(w2), "%s: dW", what);
		check_(&f, w2, f.W, dW1, f.K * IN);
		snprintf(w2, sizeof(w2), "%s: db", what);
		check_(&f, w2, f.b, db1, f.K);
		snprintf(w2, sizeof(w2), "%s: dh", what);
		check_(&f, w2, f.h, dh1, T * B * IN);
	}

	/* padded steps, and (per step) steps without a target: dh = 0 */
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++) {
			const size_t i = t * B + b;
			int silent = !f.mask[i] ||
				     (per_seq ? f.id[b] < 0 :
						!f.lmask[i] || f.id[i] < 0);
			for (size_t j = 0; j < IN && silent; j++)
				zero_ok &= dh1[i * IN + j] == 0.0f;
		}
	ok(zero_ok, "%s: padded steps and steps without a target get dh = 0",
	   what);

	/* backward accumulates: a second backward doubles everything */
	{
		sp_seq d = {T, B, IN, f.dh, NULL, f.mask, LEN};
		ok(f.ops->backward(f.self, f.ctx, SCALE, &d) == 0,
		   "%s: backward again", what);
		for (size_t i = 0; i < f.K * IN; i++)
			double_ok &= fabsf(f.dW[i] - 2 * dW1[i]) <=
				     1e-6f * (1 + fabsf(dW1[i]));
		for (size_t i = 0; i < f.K; i++)
			double_ok &= fabsf(f.db[i] - 2 * db1[i]) <=
				     1e-6f * (1 + fabsf(db1[i]));
		for (size_t i = 0; i < T * B * IN; i++)
			double_ok &= fabsf(f.dh[i] - 2 * dh1[i]) <=
				     1e-6f * (1 + fabsf(dh1[i]));
		ok(double_ok, "%s: backward twice doubles dW, db, dh", what);
	}
out:
	if (f.ops)
		f.ops->destroy(f.self);
	sp_vocab_free(voc);
	sp_ctx_free(f.ctx);
}

/* Label id < 0 everywhere: no loss, and no gradient at all. */
static void no_targets_(void)
{
	static const char *const chars[] = {"h", "e", "l", "o"};
	fixture f;
	sp_vocab *voc;
	double loss = 1;
	size_t n = 1;
	int zero = 1;
	memset(&f, 0, sizeof(f));
	sp_ctx_new(&f.ctx, 7);
	voc = vocab_(f.ctx, chars, 4);
	if (!ok(voc && fixture_new_(&f, "tagger", NULL, voc) == 0,
		"all-negative labels: created"))
		goto out;
	fixture_data_(&f, 0);
	for (size_t i = 0; i < T * B; i++)
		f.id[i] = -1;
	ok(f.ops->forward(f.self, f.ctx, &f.seq, &f.lab, &loss, &n, 1) == 0 &&
	   loss == 0 && n == 0, "all-negative labels: loss 0 over 0 targets");
	{
		sp_seq d = {T, B, IN, f.dh, NULL, f.mask, LEN};
		memset(f.dW, 0, sizeof(f.dW));
		memset(f.db, 0, sizeof(f.db));
		memset(f.dh, 0, sizeof(f.dh));
		ok(f.ops->backward(f.self, f.ctx, 1.0, &d) == 0,
		   "all-negative labels: backward");
		for (size_t i = 0; i < f.K * IN; i++)
			zero &= f.dW[i] == 0;
		for (size_t i = 0; i < T * B * IN; i++)
			zero &= f.dh[i] == 0;
		ok(zero, "all-negative labels: dW = 0 and dh = 0");
	}
	/* inference forward, then backward: refused */
	{
		sp_seq d = {T, B, IN, f.dh, NULL, f.mask, LEN};
		ok(f.ops->forward(f.self, f.ctx, &f.seq, NULL, &loss, &n, 0) ==
			   0 && loss == 0 && n == 0,
		   "inference forward (y = NULL): no loss");
		ok(f.ops->backward(f.self, f.ctx, 1.0, &d) == SP_EINVAL,
		   "backward after an inference forward is SP_EINVAL");
	}
out:
	if (f.ops)
		f.ops->destroy(f.self);
	sp_vocab_free(voc);
	sp_ctx_free(f.ctx);
}


/* ------------------------------------------------------------------ */
/* crf: forward algorithm, Viterbi and gradients against brute force   */
/* ------------------------------------------------------------------ */

typedef struct crf_fix {
	sp_ctx *ctx;
	const sp_head_ops *ops;
	void *self;
	size_t K;
	sp_tag_info info[MAXK];
	sp_tag_scheme scheme;   /* the rules the brute force applies */
	double bias;            /* entity_bias: added per entity tag to the
				   score of the path decoding picks */
	float W[MAXK * IN], b[MAXK], A[MAXK * MAXK], s[MAXK], e[MAXK];
	float dW[MAXK * IN], db[MAXK], dA[MAXK * MAXK], ds[MAXK], de[MAXK];
	float h[T * B * IN], dh[T * B * IN];
	uint8_t mask[T * B], lmask[T * B];
	int32_t id[T * B];
	sp_seq seq;
	sp_labels lab;
	uint64_t seed;
} crf_fix;

static double crf_loss_fn_(void *payload)
{
	crf_fix *f = payload;
	double loss = 0;
	size_t n = 0;
	sp_rng_seed(f->ctx, f->seed);
	if (f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &loss, &n, 1) < 0)
		return NAN;
	return loss / SCALE;
}

static int crf_grads_(crf_fix *f)
{
	double loss;
	size_t n;
	sp_seq d = {T, B, IN, f->dh, NULL, f->mask, LEN};
	int rc;
	memset(f->dW, 0, sizeof(f->dW));
	memset(f->db, 0, sizeof(f->db));
	memset(f->dA, 0, sizeof(f->dA));
	memset(f->ds, 0, sizeof(f->ds));
	memset(f->de, 0, sizeof(f->de));
	memset(f->dh, 0, sizeof(f->dh));
	sp_rng_seed(f->ctx, f->seed);
	if ((rc = f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &loss, &n,
				  1)) < 0)
		return rc;
	return f->ops->backward(f->self, f->ctx, SCALE, &d);
}

/* Is the path z[0..n) allowed by the fixture's scheme? */
static int crf_path_ok_(const crf_fix *f, const int32_t *z, size_t n)
{
	for (size_t t = 0; t < n; t++)
		if (!sp_tag_transition_ok(f->scheme, t ? &f->info[z[t - 1]] : NULL,
					  f->info[z[t]]))
			return 0;
	return sp_tag_end_ok(f->scheme, f->info[z[n - 1]]);
}

/* Emission y_t[k] of sequence b in double (no dropout). */
static double crf_emit_(const crf_fix *f, size_t t, size_t b, size_t k)
{
	double y = f->b[k];
	for (size_t j = 0; j < IN; j++)
		y += (double)f->W[k * IN + j] * f->h[(t * B + b) * IN + j];
	return y;
}

/* Brute force over all K^n paths of sequence b: log Z, log Z given the
 * labels (−inf when none agrees), the marginals, the path decoding picks
 * (best: the score plus f->bias per entity tag) and the best path by
 * score alone (best0). */
static void crf_brute_(const crf_fix *f, size_t b, double *logz,
		       double *logz_c, int32_t *best, int32_t *best0,
		       double marg[T][MAXK])
{
	const size_t n = (size_t)LEN[b], K = f->K;
	int32_t z[T] = {0};
	double top = -INFINITY, topd = -INFINITY, zs = 0, zc = 0, mx = 0;
	size_t total = 1;
	for (size_t t = 0; t < n; t++)
		total *= K;
	memset(marg, 0, sizeof(double) * T * MAXK);
	/* two passes: the max score (for a stable exp), then the sums */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t p = 0; p < total; p++) {
			size_t q = p;
			double sc;
			int agree = 1;
			for (size_t t = 0; t < n; t++, q /= K)
				z[t] = (int32_t)(q % K);
			if (!crf_path_ok_(f, z, n))
				continue;
			sc = f->s[z[0]] + f->e[z[n - 1]];
			for (size_t t = 0; t < n; t++) {
				const size_t i = t * B + b;
				sc += crf_emit_(f, t, b, (size_t)z[t]);
				if (t)
					sc += f->A[z[t - 1] * K + z[t]];
				if (f->lmask[i] && f->id[i] >= 0 && f->id[i] != z[t])
					agree = 0;
			}
			if (pass == 0) {
				double dec = sc;
				for (size_t t = 0; t < n; t++)
					dec += f->info[z[t]].prefix == 'O' ? 0 : f->bias;
				if (sc > top) {
					top = sc;
					memcpy(best0, z, sizeof(z));
				}
				if (dec > topd) {
					topd = dec;
					memcpy(best, z, sizeof(z));
				}
				continue;
			}
			zs += exp(sc - mx);
			zc += agree ? exp(sc - mx) : 0;
			for (size_t t = 0; t < n; t++)
				marg[t][z[t]] += exp(sc - mx);
		}
		mx = top;
	}
	*logz = mx + log(zs);
	*logz_c = zc > 0 ? mx + log(zc) : -INFINITY;
	for (size_t t = 0; t < n; t++)
		for (size_t k = 0; k < K; k++)
			marg[t][k] /= zs;
}

typedef struct crf_preds {
	int32_t id[T][B];
	float p[T][B];
	size_t n;
} crf_preds;

static int crf_pred_(void *payload, size_t t, size_t b, size_t k, int32_t id,
		     float p)
{
	crf_preds *q = payload;
	if (k == 0 && t < T && b < B) {
		q->id[t][b] = id;
		q->p[t][b] = p;
		q->n++;
	}
	return SP_OK;
}

static int crf_new_(crf_fix *f, const char *const *tags, size_t K,
		    const char *const *kvs)
{
	sp_kv *kv = NULL;
	sp_vocab *voc = vocab_(f->ctx, tags, K);
	sp_head_env env = {sizeof(sp_head_env), voc, voc, 0};
	float *val[5] = {f->W, f->b, f->A, f->s, f->e};
	float *grd[5] = {f->dW, f->db, f->dA, f->ds, f->de};
	const sp_weight *w;
	size_t nw;
	int rc = -1;
	f->ops = find_head_("crf");
	f->K = K;
	for (size_t k = 0; k < K; k++) {
		const char *type;
		sp_tag_parse(tags[k], &f->info[k].prefix, &type);
		f->info[k].type = f->info[k].prefix == 'O' ? -1 : type[0];
	}
	if (!f->ops || !voc || sp_kv_new(&kv, "crf") < 0)
		goto out;
	for (size_t i = 0; kvs && kvs[i]; i += 2)
		if (!strcmp(kvs[i], "entity_bias"))
			f->bias = atof(kvs[i + 1]);
	for (size_t i = 0; kvs && kvs[i]; i += 2)
		if ((rc = sp_kv_set(kv, f->ctx, kvs[i], kvs[i + 1], 0, "test")) < 0)
			goto out;
	if ((rc = sp_kv_validate(kv, f->ctx, f->ops->base.params, ".")) < 0 ||
	    (rc = f->ops->create(&f->self, f->ctx, kv, IN, &env)) < 0 ||
	    (rc = f->ops->weights(f->self, &w, &nw)) < 0)
		goto out;
	rc = -1;
	if (nw != 5 || strcmp(w[2].name, "trans") || w[2].dim[0] != K ||
	    w[2].dim[1] != K || strcmp(w[3].name, "start") ||
	    strcmp(w[4].name, "end"))
		goto out;
	if ((rc = f->ops->bind(f->self, val, grd)) < 0 ||
	    (rc = f->ops->init(f->self, f->ctx)) < 0)
		goto out;
	/* generic values: the init leaves trans, start and end at 0 */
	sp_fill_uniform(f->ctx, f->b, K, -0.5f, 0.5f);
	sp_fill_uniform(f->ctx, f->A, K * K, -1.0f, 1.0f);
	sp_fill_uniform(f->ctx, f->s, K, -1.0f, 1.0f);
	sp_fill_uniform(f->ctx, f->e, K, -1.0f, 1.0f);
out:
	sp_kv_free(kv);
	sp_vocab_free(voc);
	return rc;
}

/* h as fixture_data_, mask of LEN; labels: per sequence a valid path of
 * the scheme (gold[b]), then (0,1) without a target and (2,0) masked;
 * sequence 1 can be left without any label. */
static void crf_data_(crf_fix *f, const int32_t gold[B][T], int seq1_bare)
{
	for (size_t b = 0; b < B; b++)
		for (size_t j = 0; j < IN; j++)
			for (size_t t = 0; t < T; t++)
				f->h[(t * B + b) * IN + j] =
					(float)(((t * 7 + j * 3 + b) % 11) * 0.2 - 1.0 +
						0.01 * sp_rng_uniform(f->ctx));
	memset(f->lmask, 1, sizeof(f->lmask));
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++) {
			f->mask[t * B + b] = (int32_t)t < LEN[b];
			f->id[t * B + b] = (int32_t)t < LEN[b] ? gold[b][t] : 12345;
		}
	f->id[0 * B + 1] = -1;
	f->lmask[2 * B + 0] = 0;
	if (seq1_bare)
		for (size_t t = 0; t < T; t++)
			f->id[t * B + 1] = -1;
	f->seq = (sp_seq){T, B, IN, f->h, NULL, f->mask, LEN};
	f->lab = (sp_labels){T, B, f->id, f->lmask};
}

static void crf_check_(crf_fix *f, const char *what, float *x, const float *g,
		       size_t n)
{
	gc_result r = gc_check(crf_loss_fn_, f, x, g, n, 1e-2f, 0, 1e-3);
	ok(r.max_rel < TOL && r.checked == n, "%s max_rel=%.2e (%zu checked)",
	   what, r.max_rel, r.checked);
	if (r.max_rel >= TOL)
		diag("worst %zu: analytic %g numeric %g", r.worst, r.analytic,
		     r.numeric);
}

/* Loss, marginals and Viterbi against brute force, then the gradients. */
static void crf_run_(const char *what, const char *const *tags, size_t K,
		     const char *const *kvs, sp_tag_scheme rules,
		     const int32_t gold[B][T], int seq1_bare, uint64_t seed)
{
	crf_fix *f = calloc(1, sizeof(*f));
	double loss = 0, want = 0, worst_m = 0;
	size_t n = 0, want_n = 0;
	crf_preds q;
	int paths = 1, zero = 1, twice = 1;
	size_t moved = 0; /* tags the bias changed */
	float dh1[T * B * IN], dA1[MAXK * MAXK];
	sp_ctx_new(&f->ctx, seed);
	f->seed = seed;
	f->scheme = rules;
	if (!ok(crf_new_(f, tags, K, kvs) == 0, "crf %s: created, 5 weights "
		"W b trans start end (%s)", what, sp_errmsg(f->ctx)))
		goto out;
	crf_data_(f, gold, seq1_bare);

	/* loss: Σ_b log Z − log Z(labels), n_loss the labelled steps */
	ok(f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &loss, &n, 0) == 0,
	   "crf %s: forward (%s)", what, sp_errmsg(f->ctx));
	memset(&q, 0, sizeof(q));
	ok(f->ops->predict(f->self, f->ctx, 1, crf_pred_, &q) == 0 &&
	   q.n == (size_t)(LEN[0] + LEN[1] + LEN[2]),
	   "crf %s: predict gives one tag per real step", what);
	for (size_t b = 0; b < B; b++) {
		double lz, lzc, marg[T][MAXK];
		int32_t best[T], best0[T];
		size_t m = 0;
		crf_brute_(f, b, &lz, &lzc, best, best0, marg);
		for (size_t t = 0; t < (size_t)LEN[b]; t++) {
			const size_t i = t * B + b;
			m += f->lmask[i] && f->id[i] >= 0;
			moved += best[t] != best0[t];
			paths &= q.id[t][b] == best[t];
			if (fabs(q.p[t][b] - marg[t][best[t]]) > worst_m)
				worst_m = fabs(q.p[t][b] - marg[t][best[t]]);
		}
		if (m) {
			want += lz - lzc;
			want_n += m;
		}
	}
	ok(n == want_n, "crf %s: n_loss = %zu labelled steps (want %zu)", what,
	   n, want_n);
	ok_near(loss, want, 1e-4, "crf %s: loss = log Z − log Z(labels), by "
		"brute force over all allowed paths", what);
	ok(paths, "crf %s: Viterbi = the best allowed path (brute force)", what);
	if (f->bias != 0)
		ok(moved > 0, "crf %s: the bias moves %zu tags off the path of "
		   "the best score", what, moved);
	ok(worst_m < 1e-5, "crf %s: predict's p = the path tag's marginal "
	   "(max error %.1e)", what, worst_m);

	if (!ok(crf_grads_(f) == 0, "crf %s: forward + backward (%s)", what,
		sp_errmsg(f->ctx)))
		goto out;
	memcpy(dh1, f->dh, sizeof(dh1));
	memcpy(dA1, f->dA, sizeof(dA1));
	{
		char w2[160];
		float *x[6] = {f->W, f->b, f->A, f->s, f->e, f->h};
		const float *g[6] = {f->dW, f->db, f->dA, f->ds, f->de, dh1};
		const size_t nx[6] = {K * IN, K, K * K, K, K, T * B * IN};
		const char *names[6] = {"dW", "db", "dtrans", "dstart", "dend",
					"dh"};
		for (int i = 0; i < 6; i++) {
			snprintf(w2, sizeof(w2), "crf %s: %s", what, names[i]);
			crf_check_(f, w2, x[i], g[i], nx[i]);
		}
	}
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++)
			for (size_t j = 0; j < IN; j++)
				if (!f->mask[t * B + b] || (seq1_bare && b == 1))
					zero &= dh1[(t * B + b) * IN + j] == 0.0f;
	ok(zero, "crf %s: padded steps%s get dh = 0", what,
	   seq1_bare ? " and the unlabelled sequence" : "");
	{
		sp_seq d = {T, B, IN, f->dh, NULL, f->mask, LEN};
		ok(f->ops->backward(f->self, f->ctx, SCALE, &d) == 0,
		   "crf %s: backward again", what);
		for (size_t i = 0; i < T * B * IN; i++)
			twice &= fabsf(f->dh[i] - 2 * dh1[i]) <=
				 1e-6f * (1 + fabsf(dh1[i]));
		for (size_t i = 0; i < K * K; i++)
			twice &= fabsf(f->dA[i] - 2 * dA1[i]) <=
				 1e-6f * (1 + fabsf(dA1[i]));
		ok(twice, "crf %s: backward twice doubles dh and dtrans", what);
	}
out:
	if (f->ops && f->self)
		f->ops->destroy(f->self);
	sp_ctx_free(f->ctx);
	free(f);
}

/* Gold tags that break the scheme are refused, naming where. */
static void crf_refusals_(void)
{
	static const char *const bio[] = {"O", "B-P", "I-P", "B-L", "I-L"};
	static const int32_t bad[B][T] = {{0, 2, 2, 0}, {1, 2, 0, 0},
					  {3, 4, 0, 0}};
	crf_fix *f = calloc(1, sizeof(*f));
	double loss;
	size_t n;
	sp_ctx_new(&f->ctx, 5);
	f->scheme = SP_TAGS_IOB2;
	if (ok(crf_new_(f, bio, 5, NULL) == 0, "crf: created for refusals")) {
		crf_data_(f, bad, 0);
		ok(f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &loss, &n,
				   1) == SP_EINPUT &&
		   strstr(sp_errmsg(f->ctx), "I-P after O"),
		   "crf: gold I-P after O under iob2 is SP_EINPUT: %s",
		   sp_errmsg(f->ctx));
		ok(f->ops->forward(f->self, f->ctx, &f->seq, NULL, &loss, &n,
				   0) == 0, "crf: the same batch predicts without "
		   "labels");
		f->ops->destroy(f->self);
		f->self = NULL;
	}
	ok(crf_new_(f, bio, 5, (const char *const[]){"scheme", "iobes", NULL}) ==
		   0, "crf: scheme=iobes on B/I tags is allowed (no E/S)");
	if (f->self)
		f->ops->destroy(f->self);
	f->self = NULL;
	{
		static const char *const es[] = {"O", "B-P", "E-P", "S-P"};
		ok(crf_new_(f, es, 4, (const char *const[]){"scheme", "iob2",
							    NULL}) == SP_EINVAL,
		   "crf: scheme=iob2 with E-/S- tags is SP_EINVAL");
		if (f->self)
			f->ops->destroy(f->self);
		f->self = NULL;
	}
	ok(crf_new_(f, bio, 5, (const char *const[]){"scheme", "none",
		"entity_bias", "0.5", NULL}) == SP_EINVAL &&
	   strstr(sp_errmsg(f->ctx), "entity_bias=0.5 needs entity tags"),
	   "crf: entity_bias with scheme=none is SP_EINVAL: %s",
	   sp_errmsg(f->ctx));
	if (f->self)
		f->ops->destroy(f->self);
	sp_ctx_free(f->ctx);
	free(f);
}

static void crf_all_(void)
{
	static const char *const bio[] = {"O", "B-P", "I-P", "B-L", "I-L"};
	static const char *const bioes[] = {"O", "B-P", "I-P", "E-P", "S-P",
					    "S-L"};
	/* valid IOB2 paths (padding entries unused) */
	static const int32_t g_bio[B][T] = {{1, 2, 0, 3}, {3, 4, 0, 0},
					    {0, 1, 2, 0}};
	/* valid IOBES paths */
	static const int32_t g_bioes[B][T] = {{1, 2, 3, 5}, {4, 0, 0, 0},
					      {0, 1, 3, 0}};
	/* not valid IOB2 (I after O): only without constraints */
	static const int32_t g_free[B][T] = {{2, 2, 0, 4}, {0, 4, 0, 0},
					     {2, 1, 4, 0}};
	static const char *const drop[] = {"dropout", "0.3", NULL};
	static const char *const free_[] = {"constrain", "false", NULL};
	static const char *const iob1[] = {"scheme", "iob1", NULL};
	static const char *const more[] = {"entity_bias", "1.5", NULL};
	static const char *const fewer[] = {"entity_bias", "-1.5", "scheme",
					    "iobes", NULL};
	static const int32_t g_iob1[B][T] = {{2, 2, 0, 4}, {4, 0, 0, 0},
					     {2, 1, 0, 0}};
	crf_run_("iob2 (auto)", bio, 5, NULL, SP_TAGS_IOB2, g_bio, 0, 31);
	crf_run_("iob2, sequence without labels", bio, 5, NULL, SP_TAGS_IOB2,
		 g_bio, 1, 32);
	crf_run_("iob2 dropout=0.3", bio, 5, drop, SP_TAGS_IOB2, g_bio, 0, 33);
	crf_run_("iobes (auto)", bioes, 6, NULL, SP_TAGS_IOBES, g_bioes, 0, 34);
	crf_run_("iob1", bio, 5, iob1, SP_TAGS_IOB1, g_iob1, 0, 35);
	crf_run_("constrain=false", bio, 5, free_, SP_TAGS_NONE, g_free, 0, 36);
	crf_run_("iob2 entity_bias=1.5", bio, 5, more, SP_TAGS_IOB2, g_bio, 0,
		 31);
	crf_run_("iobes entity_bias=-1.5", bioes, 6, fewer, SP_TAGS_IOBES,
		 g_bioes, 0, 34);
	crf_refusals_();
}

int main(void)
{
	static const char *const drop[] = {"dropout", "0.3", NULL};
	static const char *const last[] = {"pool", "last", NULL};
	static const char *const mean[] = {"pool", "mean", NULL};
	static const char *const max[] = {"pool", "max", NULL};
	static const char *const max_drop[] = {"pool", "max", "dropout", "0.3",
					       NULL};
	static const char *const no_scheme[] = {"scheme", "none", NULL};

	run_("lm", NULL, NULL, 11, 0);
	run_("lm", drop, NULL, 12, 1);
	run_("tagger", NULL, NULL, 13, 0);
	run_("tagger", no_scheme, NULL, 14, 0);
	run_("classify", NULL, "last", 15, 0);
	run_("classify", last, "last", 16, 0);
	run_("classify", mean, "mean", 17, 0);
	run_("classify", max, "max", 18, 0);
	run_("classify", max_drop, "max", 19, 1);
	no_targets_();
	crf_all_();
	return tap_done();
}
