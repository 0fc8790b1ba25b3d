/*
 * t_optim.c: tests of core/sp_optim.c.
 *
 * Single-step values are worked out by hand (PyTorch's update rules) and
 * written down as numbers, not recomputed with the formula under test.
 * Then clipping and its counters, the NaN/inf guard, the schedules, the
 * state blob (resume gives bit-identical steps; bad blobs are refused) and
 * convergence on a small quadratic.
 */
#include "sp_optim.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static sp_optim *mk(sp_ctx *ctx, const sp_optim_config *cfg, size_t n)
{
	sp_optim *o = NULL;
	int rc = sp_optim_new(&o, ctx, cfg, n);
	if (rc < 0)
		diag("sp_optim_new: %s", sp_errmsg(ctx));
	return o;
}

static void test_sgd(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o;
	float w[2] = {1.0f, -2.0f};
	const float g[2] = {0.5f, 0.25f};

	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 0.1;
	o = mk(ctx, &c, 2);
	ok(o && sp_optim_step(o, ctx, w, g) == SP_OK, "sgd: step ok");
	ok_near(w[0], 0.95, 1e-6, "sgd: 1 - 0.1*0.5 = 0.95");
	ok_near(w[1], -2.025, 1e-6, "sgd: -2 - 0.1*0.25 = -2.025");
	ok(sp_optim_steps(o) == 1, "sgd: one step counted");
	sp_optim_free(o);

	/* L2: g' = g + 0.1*w = [0.6, 0.05] */
	c.weight_decay = 0.1;
	w[0] = 1.0f;
	w[1] = -2.0f;
	o = mk(ctx, &c, 2);
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], 0.94, 1e-6, "sgd+L2: 1 - 0.1*0.6 = 0.94");
	ok_near(w[1], -2.005, 1e-6, "sgd+L2: -2 - 0.1*0.05 = -2.005");
	sp_optim_free(o);

	/* momentum 0.9, constant g = 0.5: b = 0.5 then 0.95 */
	c.weight_decay = 0;
	c.momentum = 0.9;
	w[0] = 1.0f;
	o = mk(ctx, &c, 1);
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], 0.95, 1e-6, "momentum step 1: 1 - 0.1*0.5 = 0.95");
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], 0.855, 1e-6, "momentum step 2: 0.95 - 0.1*0.95 = 0.855");
	sp_optim_free(o);

	/* Nesterov: d = g + 0.9*b: 0.95 then 0.5 + 0.9*0.95 = 1.355 */
	c.nesterov = 1;
	w[0] = 1.0f;
	o = mk(ctx, &c, 1);
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], 0.905, 1e-6, "nesterov step 1: 1 - 0.1*0.95 = 0.905");
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], 0.7695, 1e-6,
		"nesterov step 2: 0.905 - 0.1*1.355 = 0.7695");
	sp_optim_free(o);
}

static void test_adam(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o;
	float w[1] = {1.0f}, g1[1] = {0.5f}, g2[1] = {0.25f}, z[1] = {0.0f};

	sp_optim_config_init(&c, SP_OPTIM_ADAM);
	c.lr = 0.01;
	o = mk(ctx, &c, 1);
	sp_optim_step(o, ctx, w, g1);
	/* step 1: m^ = g, v^ = g^2, so the step is lr*g/(|g|+eps) */
	ok_near(w[0], 0.99, 1e-6, "adam step 1: 1 - 0.01 = 0.99");
	sp_optim_step(o, ctx, w, g2);
	/* m = 0.07, v = 0.00031225; m^ = 0.07/0.19 = 0.368421,
	 * v^ = 0.00031225/0.001999 = 0.156203, sqrt = 0.395225,
	 * step = 0.01*0.368421/0.395225 = 0.0093218 */
	ok_near(w[0], 0.9806782, 1e-6, "adam step 2: 0.99 - 0.0093218");
	sp_optim_free(o);

	/* Adam's decay is L2 (through the moments): with g = 0 and
	 * wd = 0.1, g' = 0.1 and the first step moves w by lr. */
	c.weight_decay = 0.1;
	w[0] = 1.0f;
	o = mk(ctx, &c, 1);
	sp_optim_step(o, ctx, w, z);
	ok_near(w[0], 0.99, 1e-6, "adam+L2, zero grad: 1 - 0.01 = 0.99");
	sp_optim_free(o);

	/* AdamW: decoupled, w -= lr*(1 + wd*w) = 0.01*(1 + 0.1) */
	sp_optim_config_init(&c, SP_OPTIM_ADAMW);
	c.lr = 0.01;
	c.weight_decay = 0.1;
	w[0] = 1.0f;
	o = mk(ctx, &c, 1);
	sp_optim_step(o, ctx, w, g1);
	ok_near(w[0], 0.989, 1e-6, "adamw step 1: 1 - 0.01*1.1 = 0.989");
	sp_optim_free(o);
	w[0] = 1.0f;
	o = mk(ctx, &c, 1);
	sp_optim_step(o, ctx, w, z);
	ok_near(w[0], 0.999, 1e-6,
		"adamw, zero grad: only decay, 1 - 0.01*0.1 = 0.999");
	sp_optim_free(o);
}

static void test_clip(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o;
	float w[3], g[3];
	double n2;

	/* norm: g = [3, 4], |g| = 5, clip 1, lr 1: delta = -[0.6, 0.8] */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.clip_norm = 1.0;
	o = mk(ctx, &c, 2);
	w[0] = w[1] = 0.0f;
	g[0] = 3.0f;
	g[1] = 4.0f;
	sp_optim_step(o, ctx, w, g);
	n2 = sqrt((double)w[0] * w[0] + (double)w[1] * w[1]);
	ok_near(n2, 1.0, 1e-6, "clip_norm: norm of the update = clip_norm");
	ok_near(w[0], -0.6, 1e-6, "clip_norm: direction kept (x)");
	ok_near(w[1], -0.8, 1e-6, "clip_norm: direction kept (y)");
	ok(sp_optim_norm_clips(o) == 1, "clip_norm fired once");
	ok_near(sp_optim_last_norm(o), 5.0, 1e-12, "last norm is pre-clip 5");
	ok(g[0] == 3.0f && g[1] == 4.0f, "gradient arena not modified");
	g[0] = 0.3f;
	g[1] = 0.4f;
	sp_optim_step(o, ctx, w, g);
	ok(sp_optim_norm_clips(o) == 1,
	   "clip_norm: counter unchanged when norm 0.5 < 1 (%llu)",
	   (unsigned long long)sp_optim_norm_clips(o));
	ok_near(w[0], -0.9, 1e-6, "small gradient applied unscaled");
	ok_near(sp_optim_last_norm(o), 0.5, 1e-6, "last norm 0.5");
	ok(sp_optim_value_clips(o) == 0, "clip_value off: never counted");
	sp_optim_free(o);

	/* value: each |g| <= 1 */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.clip_value = 1.0;
	o = mk(ctx, &c, 3);
	memset(w, 0, sizeof(w));
	g[0] = 3.0f;
	g[1] = -0.5f;
	g[2] = -7.0f;
	sp_optim_step(o, ctx, w, g);
	ok(w[0] == -1.0f && w[1] == 0.5f && w[2] == 1.0f,
	   "clip_value: [3,-0.5,-7] -> [1,-0.5,-1] (w = %g %g %g)", w[0],
	   w[1], w[2]);
	ok(sp_optim_value_clips(o) == 1, "clip_value fired once");
	g[0] = 1.0f; /* exactly the limit: not clipped */
	g[1] = -1.0f;
	g[2] = 0.0f;
	sp_optim_step(o, ctx, w, g);
	ok(sp_optim_value_clips(o) == 1, "clip_value: |g| <= 1 not counted");
	ok(sp_optim_norm_clips(o) == 0, "clip_norm off: never counted");
	sp_optim_free(o);

	/* both: norm first (|[30,40]| = 50 -> [0.6, 0.8]), then value 0.7 */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.clip_norm = 1.0;
	c.clip_value = 0.7;
	o = mk(ctx, &c, 2);
	w[0] = w[1] = 0.0f;
	g[0] = 30.0f;
	g[1] = 40.0f;
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], -0.6, 1e-6, "norm then value: x = 0.6 (under 0.7)");
	ok_near(w[1], -0.7, 1e-6, "norm then value: y = 0.8 clamped to 0.7");
	ok(sp_optim_norm_clips(o) == 1 && sp_optim_value_clips(o) == 1,
	   "both counters fired");
	sp_optim_free(o);

	/* value limit 0.9 is above the scaled [0.6, 0.8]: only norm fires */
	c.clip_value = 0.9;
	o = mk(ctx, &c, 2);
	w[0] = w[1] = 0.0f;
	sp_optim_step(o, ctx, w, g);
	ok(sp_optim_norm_clips(o) == 1 && sp_optim_value_clips(o) == 0,
	   "value clip judged after norm scaling: not fired");
	ok_near(w[1], -0.8, 1e-6, "norm-scaled y = 0.8 kept");
	sp_optim_free(o);
}

static void test_nonfinite(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o, *ref;
	float w[3] = {1, 2, 3}, w0[3], wr[3] = {1, 2, 3};
	float g[3] = {0.1f, NAN, 0.2f}, gok[3] = {0.1f, -0.2f, 0.3f};
	int rc;

	sp_optim_config_init(&c, SP_OPTIM_ADAM);
	o = mk(ctx, &c, 3);
	memcpy(w0, w, sizeof(w));
	rc = sp_optim_step(o, ctx, w, g);
	ok(rc == SP_ENUMERIC, "NaN gradient -> SP_ENUMERIC (%d)", rc);
	ok(strstr(sp_errmsg(ctx), "gradient norm is nan at step 1") != NULL,
	   "message: %s", sp_errmsg(ctx));
	ok(memcmp(w, w0, sizeof(w)) == 0, "weights unchanged after NaN");
	ok(sp_optim_steps(o) == 0 && sp_optim_nonfinite(o) == 1,
	   "step not counted, refusal counted");
	ok(isnan(sp_optim_last_norm(o)), "last norm reports the NaN");

	/* the refused step left no trace in the moments: the next good
	 * step equals the first step of a fresh optimizer */
	ref = mk(ctx, &c, 3);
	sp_optim_step(o, ctx, w, gok);
	sp_optim_step(ref, ctx, wr, gok);
	ok(memcmp(w, wr, sizeof(w)) == 0, "state untouched by the NaN step");

	g[1] = INFINITY;
	sp_optim_step(o, ctx, w, gok);
	memcpy(w0, w, sizeof(w));
	rc = sp_optim_step(o, ctx, w, g);
	ok(rc == SP_ENUMERIC &&
		   strstr(sp_errmsg(ctx), "gradient norm is inf at step 3"),
	   "inf at step 3: %s", sp_errmsg(ctx));
	ok(memcmp(w, w0, sizeof(w)) == 0, "weights unchanged after inf");

	/* a huge but finite float must not be mistaken for inf */
	g[1] = 3e38f;
	rc = sp_optim_step(o, ctx, w, g);
	ok(rc == SP_OK, "finite 3e38 gradient accepted (norm in double)");
	sp_optim_free(ref);
	sp_optim_free(o);
}

static void test_schedules(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o;
	float w[1] = {0}, g[1] = {0};
	int rc;

	/* step: lr 0.1, every 2 epochs * 0.5 */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 0.1;
	c.schedule = SP_SCHED_STEP;
	c.step_size = 2;
	c.gamma = 0.5;
	o = mk(ctx, &c, 1);
	ok_near(sp_optim_lr(o), 0.1, 1e-12, "step: epoch 0 lr 0.1");
	sp_optim_epoch_end(o, ctx, 0);
	ok_near(sp_optim_lr(o), 0.1, 1e-12, "step: epoch 1 lr 0.1");
	sp_optim_epoch_end(o, ctx, 0);
	ok_near(sp_optim_lr(o), 0.05, 1e-12, "step: epoch 2 lr 0.05");
	sp_optim_epoch_end(o, ctx, 0);
	sp_optim_epoch_end(o, ctx, 0);
	ok_near(sp_optim_lr(o), 0.025, 1e-12, "step: epoch 4 lr 0.025");
	ok(sp_optim_epochs(o) == 4, "4 epochs counted");
	sp_optim_free(o);

	/* cosine: 1 -> 0.1 over 10 steps */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.schedule = SP_SCHED_COSINE;
	c.total_steps = 10;
	c.min_lr = 0.1;
	o = mk(ctx, &c, 1);
	ok_near(sp_optim_lr(o), 1.0, 1e-12, "cosine: starts at lr");
	for (int i = 0; i < 5; i++)
		sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 0.55, 1e-12, "cosine: halfway 0.1+0.45 = 0.55");
	for (int i = 0; i < 5; i++)
		sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 0.1, 1e-12, "cosine: end value min_lr 0.1");
	sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 0.1, 1e-12, "cosine: stays at min_lr after");
	sp_optim_free(o);

	/* warmup 4 without schedule: 0.25, 0.5, 0.75, 1, 1 */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.warmup = 4;
	o = mk(ctx, &c, 1);
	ok_near(sp_optim_lr(o), 0.25, 1e-12, "warmup: step 0 lr/4");
	sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 0.5, 1e-12, "warmup: step 1 lr/2");
	sp_optim_step(o, ctx, w, g);
	sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 1.0, 1e-12, "warmup: step 3 full lr");
	sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 1.0, 1e-12, "warmup: after it, full lr");
	sp_optim_free(o);

	/* warmup 2 + cosine to 0 over 12: peak at step 2, half at step 7 */
	c.schedule = SP_SCHED_COSINE;
	c.warmup = 2;
	c.total_steps = 12;
	c.min_lr = 0;
	o = mk(ctx, &c, 1);
	ok_near(sp_optim_lr(o), 0.5, 1e-12, "warmup+cosine: step 0 lr/2");
	sp_optim_step(o, ctx, w, g);
	sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 1.0, 1e-12, "warmup+cosine: step 2 peak");
	for (int i = 0; i < 5; i++)
		sp_optim_step(o, ctx, w, g);
	ok_near(sp_optim_lr(o), 0.5, 1e-12, "warmup+cosine: step 7 half");
	sp_optim_free(o);

	/* plateau, min mode, patience 2, factor 0.5, floor 0.3 */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.schedule = SP_SCHED_PLATEAU;
	c.patience = 2;
	c.factor = 0.5;
	c.min_lr = 0.3;
	o = mk(ctx, &c, 1);
	sp_optim_epoch_end(o, ctx, 1.0);
	sp_optim_epoch_end(o, ctx, 0.9); /* better */
	sp_optim_epoch_end(o, ctx, 0.95); /* bad 1 */
	sp_optim_epoch_end(o, ctx, 0.9); /* bad 2: equal is not better */
	ok_near(sp_optim_lr(o), 1.0, 1e-12, "plateau: not yet after 2 bad");
	sp_optim_epoch_end(o, ctx, 0.95); /* bad 3 > patience */
	ok_near(sp_optim_lr(o), 0.5, 1e-12, "plateau: halved after 3 bad");
	ok(sp_optim_lr_reductions(o) == 1, "one reduction counted");
	sp_optim_epoch_end(o, ctx, 0.8); /* better: resets */
	sp_optim_epoch_end(o, ctx, 0.8);
	sp_optim_epoch_end(o, ctx, 0.8);
	ok_near(sp_optim_lr(o), 0.5, 1e-12, "plateau: improvement reset it");
	sp_optim_epoch_end(o, ctx, 0.8);
	ok_near(sp_optim_lr(o), 0.3, 1e-12, "plateau: floored at min_lr");
	for (int i = 0; i < 6; i++)
		sp_optim_epoch_end(o, ctx, 0.8);
	ok(sp_optim_lr_reductions(o) == 2 && sp_optim_lr(o) == 0.3,
	   "plateau: no more reductions at the floor (%llu)",
	   (unsigned long long)sp_optim_lr_reductions(o));
	rc = sp_optim_epoch_end(o, ctx, NAN);
	ok(rc == SP_ENUMERIC, "plateau: NaN metric refused");
	sp_optim_free(o);

	/* plateau, max mode (accuracy), patience 0 */
	c.mode = SP_PLATEAU_MAX;
	c.patience = 0;
	c.min_lr = 0;
	o = mk(ctx, &c, 1);
	sp_optim_epoch_end(o, ctx, 0.5);
	sp_optim_epoch_end(o, ctx, 0.6);
	ok_near(sp_optim_lr(o), 1.0, 1e-12, "plateau max: rising is better");
	sp_optim_epoch_end(o, ctx, 0.55);
	ok_near(sp_optim_lr(o), 0.5, 1e-12, "plateau max: a drop reduces");
	sp_optim_free(o);
}

static void test_config(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o = (sp_optim *)&c;
	int rc;

	sp_optim_config_init(&c, SP_OPTIM_ADAM);
	c.lr = -1;
	rc = sp_optim_new(&o, ctx, &c, 4);
	ok(rc == SP_EINVAL && o == NULL, "lr < 0 refused, *out = NULL");
	ok(strstr(sp_errmsg(ctx), "lr=-1") != NULL, "message: %s",
	   sp_errmsg(ctx));
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.nesterov = 1;
	ok(sp_optim_new(&o, ctx, &c, 4) == SP_EINVAL,
	   "nesterov without momentum refused: %s", sp_errmsg(ctx));
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.schedule = SP_SCHED_COSINE;
	c.warmup = 10;
	c.total_steps = 10;
	ok(sp_optim_new(&o, ctx, &c, 4) == SP_EINVAL,
	   "cosine total_steps <= warmup refused: %s", sp_errmsg(ctx));
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.version = 0;
	ok(sp_optim_new(&o, ctx, &c, 4) == SP_EINVAL,
	   "config version 0 refused: %s", sp_errmsg(ctx));
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	ok(sp_optim_new(&o, ctx, &c, 0) == SP_EINVAL, "n_params 0 refused");
	sp_optim_free(NULL);
	ok(1, "sp_optim_free(NULL) is a no-op");
}

/* Deterministic pseudo-gradients (no RNG needed for a fixed pattern). */
static void fake_grad(float *g, size_t n, int step)
{
	for (size_t i = 0; i < n; i++)
		g[i] = (float)sin(0.7 * (double)i + 1.3 * step) *
		       (float)(1 + (i % 3));
}

static void test_state(sp_ctx *ctx)
{
	enum { N = 37 };
	sp_optim_config c;
	sp_optim *a, *b, *other;
	float wa[N], wb[N], g[N];
	unsigned char *blob, *bad;
	size_t size;
	int rc;

	sp_optim_config_init(&c, SP_OPTIM_ADAMW);
	c.clip_norm = 2.0;
	c.warmup = 2;
	c.schedule = SP_SCHED_PLATEAU;
	c.patience = 0;
	a = mk(ctx, &c, N);
	b = mk(ctx, &c, N);
	for (size_t i = 0; i < N; i++)
		wa[i] = (float)i / N;
	for (int s = 0; s < 5; s++) {
		fake_grad(g, N, s);
		sp_optim_step(a, ctx, wa, g);
		if (s == 2)
			sp_optim_epoch_end(a, ctx, 1.0);
	}
	sp_optim_epoch_end(a, ctx, 2.0); /* worse: lr reduced */
	size = sp_optim_state_size(a);
	blob = malloc(size);
	bad = malloc(size);
	rc = sp_optim_state_save(a, ctx, blob, size);
	ok(rc == SP_OK, "save ok (%zu bytes)", size);
	rc = sp_optim_state_load(b, ctx, blob, size);
	ok(rc == SP_OK, "load ok");
	ok(sp_optim_steps(b) == 5 && sp_optim_epochs(b) == 2 &&
		   sp_optim_norm_clips(b) == sp_optim_norm_clips(a) &&
		   sp_optim_lr_reductions(b) == 1,
	   "counters restored");
	ok(sp_optim_lr(a) == sp_optim_lr(b), "lr restored (%g)",
	   sp_optim_lr(b));
	memcpy(wb, wa, sizeof(wa));
	for (int s = 5; s < 10; s++) {
		fake_grad(g, N, s);
		sp_optim_step(a, ctx, wa, g);
		sp_optim_step(b, ctx, wb, g);
	}
	ok(memcmp(wa, wb, sizeof(wa)) == 0,
	   "resumed run is bit-identical after 5 more steps");

	/* bad blobs: nothing changes on failure */
	ok(sp_optim_state_load(b, ctx, blob, size - 1) == SP_EINPUT,
	   "short blob refused: %s", sp_errmsg(ctx));
	ok(sp_optim_state_load(b, ctx, blob, 10) == SP_EINPUT,
	   "truncated header refused: %s", sp_errmsg(ctx));
	memcpy(bad, blob, size);
	bad[0] ^= 0xff;
	ok(sp_optim_state_load(b, ctx, bad, size) == SP_EINPUT &&
		   strstr(sp_errmsg(ctx), "magic"),
	   "bad magic refused: %s", sp_errmsg(ctx));
	ok(sp_optim_steps(b) == 10, "failed loads left the state alone");
	c.kind = SP_OPTIM_ADAM; /* same size, other kind */
	other = mk(ctx, &c, N);
	ok(sp_optim_state_load(other, ctx, blob, size) == SP_EINPUT &&
		   strstr(sp_errmsg(ctx), "kind"),
	   "adamw blob into adam refused: %s", sp_errmsg(ctx));
	sp_optim_free(other);
	c.kind = SP_OPTIM_ADAMW;
	other = mk(ctx, &c, N + 1);
	ok(sp_optim_state_load(other, ctx, blob, size) == SP_EINPUT &&
		   strstr(sp_errmsg(ctx), "37 parameters"),
	   "blob for 37 into 38 refused: %s", sp_errmsg(ctx));
	sp_optim_free(other);
	ok(sp_optim_state_save(a, ctx, blob, size + 1) == SP_EINVAL,
	   "save into a wrong-size buffer refused");

	/* SGD with momentum: buffer saved too */
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.momentum = 0.9;
	sp_optim_free(a);
	sp_optim_free(b);
	a = mk(ctx, &c, N);
	b = mk(ctx, &c, N);
	for (int s = 0; s < 3; s++) {
		fake_grad(g, N, s);
		sp_optim_step(a, ctx, wa, g);
	}
	free(blob);
	size = sp_optim_state_size(a);
	blob = malloc(size);
	sp_optim_state_save(a, ctx, blob, size);
	ok(sp_optim_state_load(b, ctx, blob, size) == SP_OK,
	   "sgd momentum state loads");
	memcpy(wb, wa, sizeof(wa));
	fake_grad(g, N, 3);
	sp_optim_step(a, ctx, wa, g);
	sp_optim_step(b, ctx, wb, g);
	ok(memcmp(wa, wb, sizeof(wa)) == 0, "sgd momentum resume identical");
	free(blob);
	free(bad);
	sp_optim_free(a);
	sp_optim_free(b);
}

/* f(w) = 1/2 sum a_i (w_i - c_i)^2, gradient a_i (w_i - c_i). */
static double quad_run(sp_ctx *ctx, const sp_optim_config *c, int steps)
{
	enum { N = 8 };
	float w[N] = {0}, g[N];
	double err = 0;
	sp_optim *o = mk(ctx, c, N);
	if (!o)
		return 1e9;
	for (int s = 0; s < steps; s++) {
		for (int i = 0; i < N; i++)
			g[i] = (float)(1 + i) * (w[i] - (float)(i - 3));
		if (sp_optim_step(o, ctx, w, g) < 0)
			break;
	}
	for (int i = 0; i < N; i++)
		err = fmax(err, fabs(w[i] - (i - 3)));
	sp_optim_free(o);
	return err;
}

static void test_converge(sp_ctx *ctx)
{
	sp_optim_config c;
	double e;

	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 0.05;
	c.momentum = 0.9;
	e = quad_run(ctx, &c, 400);
	ok(e < 1e-4, "sgd+momentum minimises the quadratic (err %g)", e);
	c.nesterov = 1;
	e = quad_run(ctx, &c, 400);
	ok(e < 1e-4, "nesterov minimises the quadratic (err %g)", e);
	sp_optim_config_init(&c, SP_OPTIM_ADAM);
	c.lr = 0.05;
	c.schedule = SP_SCHED_COSINE;
	c.total_steps = 2000;
	c.min_lr = 1e-4;
	e = quad_run(ctx, &c, 2000);
	ok(e < 1e-3, "adam+cosine minimises the quadratic (err %g)", e);
	sp_optim_config_init(&c, SP_OPTIM_ADAMW);
	c.lr = 0.05;
	c.weight_decay = 0;
	c.clip_norm = 1.0;
	c.schedule = SP_SCHED_COSINE;
	c.total_steps = 2000;
	e = quad_run(ctx, &c, 2000);
	ok(e < 1e-3, "adamw+clip minimises the quadratic (err %g)", e);
}

/* The lr scale a divergence rollback sets: on top of schedule and warmup,
 * kept out of the state blob, and refused outside (0, 1]. */
static void test_lr_scale(sp_ctx *ctx)
{
	sp_optim_config c;
	sp_optim *o;
	float w[1] = {1}, g[1] = {1};
	unsigned char blob[4096];
	size_t n;
	sp_optim_config_init(&c, SP_OPTIM_SGD);
	c.lr = 1.0;
	c.warmup = 2;
	o = mk(ctx, &c, 1);
	ok(sp_optim_lr_scale(o) == 1.0, "lr scale starts at 1");
	ok(sp_optim_set_lr_scale(o, ctx, 0.25) == SP_OK, "lr scale 0.25 accepted");
	ok_near(sp_optim_lr(o), 0.125, 1e-12, "scale on top of warmup: 1 * 1/2 * 0.25");
	sp_optim_step(o, ctx, w, g);
	ok_near(w[0], 1 - 0.125, 1e-6, "the step uses the scaled lr");
	ok_near(sp_optim_lr(o), 0.25, 1e-12, "after warmup: 0.25");
	ok(sp_optim_set_lr_scale(o, ctx, 0) == SP_EINVAL, "scale 0 refused");
	ok(sp_optim_set_lr_scale(o, ctx, 1.5) == SP_EINVAL, "scale 1.5 refused");
	ok(sp_optim_set_lr_scale(o, ctx, NAN) == SP_EINVAL, "scale NaN refused");
	ok(sp_optim_lr_scale(o) == 0.25, "a refused scale changes nothing");
	n = sp_optim_state_size(o);
	ok(n <= sizeof(blob) && sp_optim_state_save(o, ctx, blob, n) == SP_OK &&
	   sp_optim_set_lr_scale(o, ctx, 1) == SP_OK &&
	   sp_optim_state_load(o, ctx, blob, n) == SP_OK && sp_optim_lr_scale(o) == 1,
	   "the scale is not part of the state blob");
	sp_optim_free(o);
}

int main(void)
{
	sp_ctx *ctx;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	test_sgd(ctx);
	test_adam(ctx);
	test_clip(ctx);
	test_nonfinite(ctx);
	test_schedules(ctx);
	test_config(ctx);
	test_state(ctx);
	test_converge(ctx);
	test_lr_scale(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
