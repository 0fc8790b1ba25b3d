/*
 * sp_optim.c: SGD / Adam / AdamW over one flat arena, gradient clipping,
 * learning-rate schedules and a checkpointable state blob.
 *
 * Update rules (g is the clipped gradient, t the 1-based step, wd the
 * weight decay; PyTorch's torch.optim conventions, so numbers can be
 * cross-checked):
 *   SGD        g += wd*w;  b = mu*b + g;  d = nesterov ? g + mu*b : b;
 *              w -= lr*d                    (b starts at 0, so b1 = g)
 *   Adam       g += wd*w;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *              w -= lr * m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps)
 *   AdamW      as Adam without the L2 term, and w -= lr*wd*w (decoupled,
 *              applied to the weight before this step's update)
 * The inner loops are float, branch-light and free of calls other than
 * sqrtf so the compiler can vectorise them; per-step scalars (bias
 * corrections, schedules, the norm) are double.
 */
#include "sp_optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI_ 3.14159265358979323846

struct sp_optim {
	sp_optim_config cfg;
	size_t n;             /* arena size in floats */
	float *m;             /* Adam first moment, or SGD momentum buffer */
	float *v;             /* Adam second moment; NULL for SGD */
	uint64_t t;           /* updates applied */
	uint64_t epoch;       /* sp_optim_epoch_end calls */
	uint64_t n_norm_clip;
	uint64_t n_value_clip;
	uint64_t n_nonfinite;
	uint64_t n_reduce;    /* plateau decays that lowered the lr */
	uint64_t plateau_bad; /* epochs since the best metric */
	double best;          /* plateau: best metric so far; NaN = none */
	double plateau_lr;    /* plateau: lr after the decays so far */
	double last_norm;     /* pre-clip global L2 norm of the last grad */
	double lr_scale;      /* on top of the schedule (rollbacks); not state */
};

void sp_optim_config_init(sp_optim_config *cfg, sp_optim_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->version = SP_OPTIM_CONFIG_VERSION;
	cfg->kind = kind;
	cfg->lr = kind == SP_OPTIM_SGD ? 0.01 : 0.001;
	cfg->beta1 = 0.9;
	cfg->beta2 = 0.999;
	cfg->eps = 1e-8;
	cfg->weight_decay = kind == SP_OPTIM_ADAMW ? 0.01 : 0.0;
	cfg->schedule = SP_SCHED_NONE;
	cfg->step_size = 1;
	cfg->gamma = 0.1;
	cfg->patience = 10;
	cfg->factor = 0.1;
	cfg->mode = SP_PLATEAU_MIN;
}

/* Finite and within [lo, hi] (hi_open: strictly below hi). */
static int in_range_(double x, double lo, double hi, int hi_open)
{
	if (!isfinite(x) || x < lo)
		return 0;
	return hi_open ? x < hi : x <= hi;
}

static int check_config_(sp_ctx *ctx, const sp_optim_config *c)
{
	if (c->version != SP_OPTIM_CONFIG_VERSION)
		return sp_err(ctx, SP_EINVAL,
			      "optim: config version %u, expected %d "
			      "(fill it with sp_optim_config_init)",
			      c->version, SP_OPTIM_CONFIG_VERSION);
	if (c->kind != SP_OPTIM_SGD && c->kind != SP_OPTIM_ADAM &&
	    c->kind != SP_OPTIM_ADAMW)
		return sp_err(ctx, SP_EINVAL, "optim: unknown kind %d",
			      (int)c->kind);
	if (!isfinite(c->lr) || c->lr <= 0)
		return sp_err(ctx, SP_EINVAL, "optim: lr=%g must be > 0",
			      c->lr);
	if (!in_range_(c->momentum, 0, 1, 1))
		return sp_err(ctx, SP_EINVAL,
			      "optim: momentum=%g must be in [0, 1)",
			      c->momentum);
	if (c->nesterov && !(c->momentum > 0))
		return sp_err(ctx, SP_EINVAL,
			      "optim: nesterov needs momentum > 0");
	if (!in_range_(c->beta1, 0, 1, 1) || !in_range_(c->beta2, 0, 1, 1))
		return sp_err(ctx, SP_EINVAL,
			      "optim: beta1=%g and beta2=%g must be in [0, 1)",
			      c->beta1, c->beta2);
	if (!isfinite(c->eps) || c->eps <= 0)
		return sp_err(ctx, SP_EINVAL, "optim: eps=%g must be > 0",
			      c->eps);
	if (!in_range_(c->weight_decay, 0, HUGE_VAL, 1))
		return sp_err(ctx, SP_EINVAL,
			      "optim: weight_decay=%g must be >= 0",
			      c->weight_decay);
	if (!in_range_(c->clip_norm, 0, HUGE_VAL, 1) ||
	    !in_range_(c->clip_value, 0, HUGE_VAL, 1))
		return sp_err(ctx, SP_EINVAL,
			      "optim: clip_norm=%g and clip_value=%g must be "
			      ">= 0 (0 = off)",
			      c->clip_norm, c->clip_value);
	if (!in_range_(c->min_lr, 0, c->lr, 0))
		return sp_err(ctx, SP_EINVAL,
			      "optim: min_lr=%g must be in [0, lr=%g]",
			      c->min_lr, c->lr);
	switch (c->schedule) {
	case SP_SCHED_NONE:
		break;
	case SP_SCHED_STEP:
		if (c->step_size < 1)
			return sp_err(ctx, SP_EINVAL,
				      "optim: step schedule needs step_size >= 1");
		if (!(c->gamma > 0 && c->gamma <= 1))
			return sp_err(ctx, SP_EINVAL,
				      "optim: gamma=%g must be in (0, 1]",
				      c->gamma);
		break;
	case SP_SCHED_COSINE:
		if (c->total_steps <= c->warmup)
			return sp_err(ctx, SP_EINVAL,
				      "optim: cosine schedule needs total_steps "
				      "(%zu) > warmup (%zu)",
				      c->total_steps, c->warmup);
		break;
	case SP_SCHED_PLATEAU:
		if (!(c->factor > 0 && c->factor < 1))
			return sp_err(ctx, SP_EINVAL,
				      "optim: factor=%g must be in (0, 1)",
				      c->factor);
		if (c->mode != SP_PLATEAU_MIN && c->mode != SP_PLATEAU_MAX)
			return sp_err(ctx, SP_EINVAL,
				      "optim: unknown plateau mode %d",
				      (int)c->mode);
		break;
	default:
		return sp_err(ctx, SP_EINVAL, "optim: unknown schedule %d",
			      (int)c->schedule);
	}
	return SP_OK;
}

/* How many float arrays of n the state needs: m (Adam, or SGD with
 * momentum) and v (Adam). */
static int n_moments_(const sp_optim_config *c)
{
	if (c->kind == SP_OPTIM_SGD)
		return c->momentum > 0 ? 1 : 0;
	return 2;
}

int sp_optim_new(sp_optim **out, sp_ctx *ctx, const sp_optim_config *cfg,
		 size_t n_params)
{
	sp_optim *o = NULL;
	int rc, k;

	*out = NULL;
	rc = check_config_(ctx, cfg);
	if (rc < 0)
		goto fail;
	if (n_params == 0 || n_params > SIZE_MAX / (2 * sizeof(float))) {
		rc = sp_err(ctx, SP_EINVAL, "optim: n_params=%zu out of range",
			    n_params);
		goto fail;
	}
	rc = SP_ENOMEM;
	o = calloc(1, sizeof(*o));
	if (!o)
		goto fail;
	o->cfg = *cfg;
	o->n = n_params;
	o->best = NAN;
	o->plateau_lr = cfg->lr;
	o->lr_scale = 1.0;
	k = n_moments_(cfg);
	if (k > 0) {
		/* One block for both moments; calloc gives the zero start. */
		o->m = calloc((size_t)k * n_params, sizeof(float));
		if (!o->m)
			goto fail;
		if (k == 2)
			o->v = o->m + n_params;
	}
	*out = o;
	return SP_OK;
fail:
	if (rc == SP_ENOMEM)
		sp_err(ctx, rc, "optim: out of memory for %zu parameters",
		       n_params);
	sp_optim_free(o);
	return rc;
}

void sp_optim_free(sp_optim *opt)
{
	if (!opt)
		return;
	free(opt->m); /* v points into the same block */
	free(opt);
}

double sp_optim_lr(const sp_optim *o)
{
	const sp_optim_config *c = &o->cfg;
	double lr = c->lr;

	switch (c->schedule) {
	case SP_SCHED_NONE:
		break;
	case SP_SCHED_STEP:
		lr = c->lr * pow(c->gamma, (double)(o->epoch / c->step_size));
		if (lr < c->min_lr)
			lr = c->min_lr;
		break;
	case SP_SCHED_COSINE:
		if (o->t >= c->total_steps) {
			lr = c->min_lr;
		} else if (o->t >= c->warmup) {
			double p = (double)(o->t - c->warmup) /
				   (double)(c->total_steps - c->warmup);
			lr = c->min_lr + 0.5 * (c->lr - c->min_lr) *
						 (1.0 + cos(PI_ * p));
		}
		break;
	case SP_SCHED_PLATEAU:
		lr = o->plateau_lr;
		break;
	}
	if (o->t < c->warmup)
		lr *= (double)(o->t + 1) / (double)c->warmup;
	return lr * o->lr_scale;
}

int sp_optim_set_lr_scale(sp_optim *o, sp_ctx *ctx, double scale)
{
	if (!isfinite(scale) || scale <= 0 || scale > 1)
		return sp_err(ctx, SP_EINVAL, "optim: lr scale %g must be in (0, 1]", scale);
	o->lr_scale = scale;
	return SP_OK;
}

double sp_optim_lr_scale(const sp_optim *o)
{
	return o->lr_scale;
}

/* Ternaries rather than fminf/fmaxf: they become min/max vector
 * instructions, which fminf's NaN rules forbid (no NaN gets here). */
static inline float clampf_(float g, float cv)
{
	g = g > cv ? cv : g;
	return g < -cv ? -cv : g;
}

/*
 * The loops below walk the arena in blocks of LANES floats with a
 * fixed-count inner loop and a scalar tail.  At -O2 GCC vectorises only
 * loops whose vector code needs no run-time alias checks and no
 * epilogue; a block of constant length over restrict pointers is such a
 * loop.  As plain `for (i < n)` loops they ran one float at a time, and
 * the norm's single running sum was one long chain of dependent adds:
 * together 24 % of a training step of the config (b) benchmark, whose
 * 2.2 M-float arena is mostly a 20000x100 embedding.
 */
enum { LANES = 16 };

/* Sum of squares in double (a float sum of millions of squares loses
 * digits and overflows long before a double does) and the largest |g|.
 * LANES partial sums, added in a fixed order at the end: the same bits
 * on every run and every thread count. */
static double sum_squares_(const float *restrict g, size_t n, float *maxabs)
{
	double acc[LANES] = {0};
	float mx[LANES] = {0};
	double ss = 0;
	float m = 0;
	size_t i = 0;

	for (; i + LANES <= n; i += LANES)
#pragma omp simd
		for (size_t j = 0; j < LANES; j++) {
			float a = fabsf(g[i + j]);
			acc[j] += (double)g[i + j] * (double)g[i + j];
			mx[j] = a > mx[j] ? a : mx[j];
		}
	for (size_t j = 0; i < n; i++, j++) {
		float a = fabsf(g[i]);
		acc[j] += (double)g[i] * (double)g[i];
		mx[j] = a > mx[j] ? a : mx[j];
	}
	for (size_t j = 0; j < LANES; j++) {
		ss += acc[j];
		m = mx[j] > m ? mx[j] : m;
	}
	*maxabs = m;
	return ss;
}

/* The per-step scalars of one update, shared by the loops below. */
typedef struct step_k {
	float s, cv;      /* norm-clip scale, value-clip bound */
	float lr, wd, mu; /* SGD */
	float b1, b2, c1, c2, eps, l2, dw; /* Adam/AdamW */
} step_k;

static inline float clipped_(step_k k, float g)
{
	return clampf_(g * k.s, k.cv);
}

static inline void sgd_one_(step_k k, float *restrict w,
			    const float *restrict g, size_t i)
{
	w[i] -= k.lr * (clipped_(k, g[i]) + k.wd * w[i]);
}

static inline void momentum_one_(step_k k, float *restrict w,
				 float *restrict b, const float *restrict g,
				 size_t i, int nesterov)
{
	float gi = clipped_(k, g[i]) + k.wd * w[i];
	float bi = k.mu * b[i] + gi;
	b[i] = bi;
	w[i] -= k.lr * (nesterov ? gi + k.mu * bi : bi);
}

static inline void adam_one_(step_k k, float *restrict w,
			     float *restrict m, float *restrict v,
			     const float *restrict g, size_t i)
{
	float gi = clipped_(k, g[i]) + k.l2 * w[i];
	float mi = k.b1 * m[i] + (1.0f - k.b1) * gi;
	float vi = k.b2 * v[i] + (1.0f - k.b2) * gi * gi;
	m[i] = mi;
	v[i] = vi;
	w[i] -= k.lr * (mi * k.c1 / (sqrtf(vi * k.c2) + k.eps) +
			 k.dw * w[i]);
}

static void sgd_(step_k k, float *restrict w, const float *restrict g,
		 size_t n)
{
	size_t i = 0;
	for (; i + LANES <= n; i += LANES)
#pragma omp simd
		for (size_t j = 0; j < LANES; j++)
			sgd_one_(k, w, g, i + j);
	for (; i < n; i++)
		sgd_one_(k, w, g, i);
}

static void momentum_(step_k k, float *restrict w, float *restrict b,
		      const float *restrict g, size_t n, int nesterov)
{
	size_t i = 0;
	/* nesterov as a constant in each loop: no branch inside them */
	if (nesterov) {
		for (; i + LANES <= n; i += LANES)
#pragma omp simd
			for (size_t j = 0; j < LANES; j++)
				momentum_one_(k, w, b, g, i + j, 1);
	} else {
		for (; i + LANES <= n; i += LANES)
#pragma omp simd
			for (size_t j = 0; j < LANES; j++)
				momentum_one_(k, w, b, g, i + j, 0);
	}
	for (; i < n; i++)
		momentum_one_(k, w, b, g, i, nesterov);
}

static void adam_(step_k k, float *restrict w, float *restrict m,
		  float *restrict v, const float *restrict g, size_t n)
{
	size_t i = 0;
	for (; i + LANES <= n; i += LANES)
#pragma omp simd
		for (size_t j = 0; j < LANES; j++)
			adam_one_(k, w, m, v, g, i + j);
	for (; i < n; i++)
		adam_one_(k, w, m, v, g, i);
}

int sp_optim_step(sp_optim *o, sp_ctx *ctx, float *w, const float *grad)
{
	const sp_optim_config *c = &o->cfg;
	const size_t n = o->n;
	double norm, scale = 1.0;
	float maxabs;
	step_k k = {0};

	/* Pass 1: the norm, and the largest |g| to know whether value
	 * clipping will fire. */
	norm = sqrt(sum_squares_(grad, n, &maxabs));
	o->last_norm = norm;
	if (!isfinite(norm)) {
		o->n_nonfinite++;
		return sp_err(ctx, SP_ENUMERIC,
			      "optim: gradient norm is %s at step %llu",
			      isnan(norm) ? "nan" : "inf",
			      (unsigned long long)o->t + 1);
	}
	if (c->clip_norm > 0 && norm > c->clip_norm) {
		scale = c->clip_norm / norm;
		o->n_norm_clip++;
	}
	k.s = (float)scale;
	k.cv = (float)c->clip_value;
	/* Float multiplication is monotonic, so the largest scaled element
	 * is the scaled largest one: this test matches the clamp.  Without
	 * clipping the clamp is a no-op bound, which keeps the loops free
	 * of a per-element branch. */
	if (k.cv > 0 && maxabs * k.s > k.cv)
		o->n_value_clip++;
	else
		k.cv = HUGE_VALF;
	k.lr = (float)sp_optim_lr(o);
	k.wd = (float)c->weight_decay;

	if (c->kind == SP_OPTIM_SGD) {
		k.mu = (float)c->momentum;
		if (!o->m)
			sgd_(k, w, grad, n);
		else
			momentum_(k, w, o->m, grad, n, c->nesterov);
	} else {
		double t1 = (double)(o->t + 1);
		k.b1 = (float)c->beta1;
		k.b2 = (float)c->beta2;
		k.c1 = (float)(1.0 / (1.0 - pow(c->beta1, t1)));
		k.c2 = (float)(1.0 / (1.0 - pow(c->beta2, t1)));
		k.eps = (float)c->eps;
		k.l2 = c->kind == SP_OPTIM_ADAM ? k.wd : 0.0f;
		k.dw = c->kind == SP_OPTIM_ADAMW ? k.wd : 0.0f;
		adam_(k, w, o->m, o->v, grad, n);
	}
	o->t++;
	return SP_OK;
}

int sp_optim_epoch_end(sp_optim *o, sp_ctx *ctx, double metric)
{
	const sp_optim_config *c = &o->cfg;

	if (c->schedule == SP_SCHED_PLATEAU) {
		int better;
		if (isnan(metric))
			return sp_err(ctx, SP_ENUMERIC,
				      "optim: plateau schedule got a NaN dev "
				      "metric at epoch %llu",
				      (unsigned long long)o->epoch + 1);
		better = isnan(o->best) ||
			 (c->mode == SP_PLATEAU_MIN ? metric < o->best
						    : metric > o->best);
		if (better) {
			o->best = metric;
			o->plateau_bad = 0;
		} else if (++o->plateau_bad > c->patience) {
			double lr = o->plateau_lr * c->factor;
			if (lr < c->min_lr)
				lr = c->min_lr;
			/* At the floor nothing changes; don't count it. */
			if (lr < o->plateau_lr) {
				o->plateau_lr = lr;
				o->n_reduce++;
			}
			o->plateau_bad = 0;
		}
	}
	o->epoch++;
	return SP_OK;
}

uint64_t sp_optim_steps(const sp_optim *o) { return o->t; }
uint64_t sp_optim_epochs(const sp_optim *o) { return o->epoch; }
uint64_t sp_optim_norm_clips(const sp_optim *o) { return o->n_norm_clip; }
uint64_t sp_optim_value_clips(const sp_optim *o) { return o->n_value_clip; }
uint64_t sp_optim_nonfinite(const sp_optim *o) { return o->n_nonfinite; }
uint64_t sp_optim_lr_reductions(const sp_optim *o) { return o->n_reduce; }
double sp_optim_last_norm(const sp_optim *o) { return o->last_norm; }

/*
 * State blob, native-endian:
 *   u32 magic 'SPOS'  u32 format version  u32 kind  u32 moment arrays (k)
 *   u64 n  t  epoch  n_norm_clip  n_value_clip  n_nonfinite  n_reduce
 *       plateau_bad
 *   f64 best  plateau_lr  last_norm
 *   f32 moments[k * n]
 */
#define STATE_MAGIC 0x534f5053u /* "SPOS" read as little-endian bytes */
#define STATE_VERSION 1u
#define STATE_HEADER (4 * 4 + 8 * 8 + 3 * 8)

size_t sp_optim_state_size(const sp_optim *o)
{
	return STATE_HEADER +
	       (size_t)n_moments_(&o->cfg) * o->n * sizeof(float);
}

static unsigned char *put_(unsigned char *p, const void *x, size_t len)
{
	memcpy(p, x, len);
	return p + len;
}

static const unsigned char *get_(const unsigned char *p, void *x, size_t len)
{
	memcpy(x, p, len);
	return p + len;
}

int sp_optim_state_save(const sp_optim *o, sp_ctx *ctx, void *buf,
			size_t size)
{
	unsigned char *p = buf;
	uint32_t h32[4];
	uint64_t h64[8];
	double hf[3];
	size_t want = sp_optim_state_size(o);

	if (size != want)
		return sp_err(ctx, SP_EINVAL,
			      "optim: state buffer is %zu bytes, need %zu",
			      size, want);
	h32[0] = STATE_MAGIC;
	h32[1] = STATE_VERSION;
	h32[2] = (uint32_t)o->cfg.kind;
	h32[3] = (uint32_t)n_moments_(&o->cfg);
	h64[0] = o->n;
	h64[1] = o->t;
	h64[2] = o->epoch;
	h64[3] = o->n_norm_clip;
	h64[4] = o->n_value_clip;
	h64[5] = o->n_nonfinite;
	h64[6] = o->n_reduce;
	h64[7] = o->plateau_bad;
	hf[0] = o->best;
	hf[1] = o->plateau_lr;
	hf[2] = o->last_norm;
	p = put_(p, h32, sizeof(h32));
	p = put_(p, h64, sizeof(h64));
	p = put_(p, hf, sizeof(hf));
	if (h32[3] > 0)
		put_(p, o->m, h32[3] * o->n * sizeof(float));
	return SP_OK;
}

int sp_optim_state_load(sp_optim *o, sp_ctx *ctx, const void *buf,
			size_t size)
{
	const unsigned char *p = buf;
	uint32_t h32[4];
	uint64_t h64[8];
	double hf[3];
	size_t want = sp_optim_state_size(o);

	if (size < STATE_HEADER)
		return sp_err(ctx, SP_EINPUT,
			      "optim: state blob of %zu bytes is too short",
			      size);
	p = get_(p, h32, sizeof(h32));
	p = get_(p, h64, sizeof(h64));
	p = get_(p, hf, sizeof(hf));
	if (h32[0] != STATE_MAGIC)
		return sp_err(ctx, SP_EINPUT,
			      "optim: not an optimizer state (bad magic)");
	if (h32[1] != STATE_VERSION)
		return sp_err(ctx, SP_EINPUT,
			      "optim: state format version %u, expected %u",
			      h32[1], STATE_VERSION);
	if (h32[2] != (uint32_t)o->cfg.kind ||
	    h32[3] != (uint32_t)n_moments_(&o->cfg))
		return sp_err(ctx, SP_EINPUT,
			      "optim: state is for optimizer kind %u with %u "
			      "moment arrays, this one is kind %d with %d",
			      h32[2], h32[3], (int)o->cfg.kind,
			      n_moments_(&o->cfg));
	if (h64[0] != o->n)
		return sp_err(ctx, SP_EINPUT,
			      "optim: state is for %llu parameters, this "
			      "optimizer has %zu",
			      (unsigned long long)h64[0], o->n);
	if (size != want)
		return sp_err(ctx, SP_EINPUT,
			      "optim: state blob is %zu bytes, expected %zu",
			      size, want);
	if (!(isfinite(hf[1]) && hf[1] > 0))
		return sp_err(ctx, SP_EINPUT,
			      "optim: state has an invalid plateau lr %g",
			      hf[1]);
	/* Everything checked: only now change the optimizer. */
	o->t = h64[1];
	o->epoch = h64[2];
	o->n_norm_clip = h64[3];
	o->n_value_clip = h64[4];
	o->n_nonfinite = h64[5];
	o->n_reduce = h64[6];
	o->plateau_bad = h64[7];
	o->best = hf[0];
	o->plateau_lr = hf[1];
	o->last_norm = hf[2];
	if (h32[3] > 0)
		get_(p, o->m, h32[3] * o->n * sizeof(float));
	return SP_OK;
}
