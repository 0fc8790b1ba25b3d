/*
 * sp_optim.h: optimizers over one flat parameter arena.
 *
 * The host keeps every weight of every stage in one float block value[n]
 * and the gradients in a mirrored block grad[n] (llm.c style), so an update
 * is one loop over n floats and the optimizer never needs to know which
 * stage owns which slice.  This module provides SGD (with momentum and
 * Nesterov), Adam and AdamW, gradient clipping (global L2 norm and/or per
 * element), learning-rate schedules (step, cosine, reduce-on-plateau, with
 * linear warmup), counters for the run log, and a byte blob of its state so
 * a run resumed from a checkpoint continues bit for bit.
 *
 * It is not a parameter store: it owns only its own state (moments,
 * momentum buffer, counters).  Weight decay applies to the whole arena;
 * a host that wants to exempt biases must keep them out of the arena it
 * passes here.  No threads: the loops are plain so that the compiler can
 * vectorise them and results are the same on every run.
 */
#ifndef SP_OPTIM_H
#define SP_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_optim sp_optim;

typedef enum sp_optim_kind {
	SP_OPTIM_SGD = 1,   /* w -= lr * g, optional (Nesterov) momentum */
	SP_OPTIM_ADAM = 2,  /* Kingma & Ba 2015; weight_decay is L2 */
	SP_OPTIM_ADAMW = 3  /* Loshchilov & Hutter 2019; decoupled decay */
} sp_optim_kind;

typedef enum sp_sched_kind {
	SP_SCHED_NONE = 0,    /* constant lr (after warmup) */
	SP_SCHED_STEP = 1,    /* lr * gamma^floor(epoch / step_size) */
	SP_SCHED_COSINE = 2,  /* cosine from lr to min_lr over total_steps */
	SP_SCHED_PLATEAU = 3  /* lr * factor when the dev metric stalls */
} sp_sched_kind;

typedef enum sp_plateau_mode {
	SP_PLATEAU_MIN = 0, /* metric is a loss: lower is better */
	SP_PLATEAU_MAX = 1  /* metric is accuracy/F1: higher is better */
} sp_plateau_mode;

#define SP_OPTIM_CONFIG_VERSION 1

/*
 * Configuration; fill it with sp_optim_config_init() and change what you
 * need.  Fields are only ever appended (version tells which exist).
 *
 * Schedules and their units:
 *   warmup     optimizer STEPS: step t (0-based) uses lr * (t+1)/warmup
 *              while t < warmup, on top of any schedule.
 *   step       EPOCHS: after every step_size calls of sp_optim_epoch_end
 *              the lr is multiplied by gamma.
 *   cosine     STEPS: from step `warmup` to step `total_steps` the lr
 *              falls from lr to min_lr along half a cosine, then stays at
 *              min_lr (llm.c's schedule); total_steps counts the warmup.
 *   plateau    EPOCHS: sp_optim_epoch_end gets the dev metric; when it
 *              has not improved (strictly) for more than `patience`
 *              epochs in a row, lr is multiplied by `factor` (PyTorch's
 *              ReduceLROnPlateau with threshold 0 and no cooldown).
 * min_lr is also the floor of the step and plateau schedules.
 */
typedef struct sp_optim_config {
	unsigned int version;    /* SP_OPTIM_CONFIG_VERSION */
	sp_optim_kind kind;
	double lr;               /* base learning rate, > 0 */
	double momentum;         /* SGD only, in [0, 1) */
	int nesterov;            /* SGD only; needs momentum > 0 */
	double beta1, beta2;     /* Adam/AdamW, in [0, 1) */
	double eps;              /* Adam/AdamW, > 0 */
	double weight_decay;     /* >= 0: L2 for sgd/adam, decoupled for adamw */
	double clip_norm;        /* global L2 norm limit; 0 = off */
	double clip_value;       /* per-element |g| limit; 0 = off */
	sp_sched_kind schedule;
	size_t step_size;        /* step: epochs between decays, >= 1 */
	double gamma;            /* step: decay factor, in (0, 1] */
	size_t total_steps;      /* cosine: length in steps, > warmup */
	double min_lr;           /* cosine end value; floor of step/plateau */
	size_t warmup;           /* linear warmup steps; 0 = off */
	size_t patience;         /* plateau: bad epochs tolerated */
	double factor;           /* plateau: decay factor, in (0, 1) */
	sp_plateau_mode mode;    /* plateau: min (loss) or max (accuracy) */
} sp_optim_config;

/*
 * Defaults for `kind`: lr 0.01 (sgd) or 0.001 (adam, adamw), betas 0.9 and
 * 0.999, eps 1e-8, weight_decay 0 (0.01 for adamw), no clipping, no
 * schedule, gamma 0.1, factor 0.1, patience 10, mode min.
 */
void sp_optim_config_init(sp_optim_config *cfg, sp_optim_kind kind);

/*
 * New optimizer for an arena of n_params floats (caller owns; free with
 * sp_optim_free).  The configuration is validated and copied; SP_EINVAL
 * names the first bad field.  State starts at zero (step 0, epoch 0).
 */
int sp_optim_new(sp_optim **out, sp_ctx *ctx, const sp_optim_config *cfg,
		 size_t n_params);
void sp_optim_free(sp_optim *opt);

/*
 * One update of value[n_params] from grad[n_params] (grad is not
 * modified: clipping is applied on the fly).  In order:
 *   1. global norm ||g||2 of the raw gradient (kept for sp_optim_last_norm);
 *      if it is NaN or infinite, returns SP_ENUMERIC ("gradient norm is
 *      nan at step N") and changes neither the weights nor the optimizer
 *      state, except the sp_optim_nonfinite counter;
 *   2. clip_norm: g *= clip_norm / ||g|| when ||g|| > clip_norm;
 *   3. clip_value: each g_i clamped to [-clip_value, clip_value];
 *   4. the update with the current lr (sp_optim_lr).
 * Doing the value clamp after the norm scaling keeps both limits true.
 */
int sp_optim_step(sp_optim *opt, sp_ctx *ctx, float *value,
		  const float *grad);

/*
 * End of an epoch: advances the step and plateau schedules.  `metric` is
 * the dev-set metric (read only by the plateau schedule, where NaN is
 * SP_ENUMERIC); other schedules ignore it.
 */
int sp_optim_epoch_end(sp_optim *opt, sp_ctx *ctx, double metric);

/* The learning rate the next sp_optim_step will use (warmup included). */
double sp_optim_lr(const sp_optim *opt);
/*
 * A factor in (0, 1] on every learning rate the schedule gives (1 at
 * first): how a run that diverged goes on with a lower rate.  It is not
 * in the state blob (the caller keeps it, like the configuration); an
 * invalid scale is SP_EINVAL and changes nothing.
 */
int sp_optim_set_lr_scale(sp_optim *opt, sp_ctx *ctx, double scale);
double sp_optim_lr_scale(const sp_optim *opt);

/* Counters, for the run log. */
uint64_t sp_optim_steps(const sp_optim *opt);       /* updates applied */
uint64_t sp_optim_epochs(const sp_optim *opt);      /* epoch_end calls */
uint64_t sp_optim_norm_clips(const sp_optim *opt);  /* steps where clip_norm fired */
uint64_t sp_optim_value_clips(const sp_optim *opt); /* steps where clip_value fired */
uint64_t sp_optim_nonfinite(const sp_optim *opt);   /* steps refused for NaN/inf */
uint64_t sp_optim_lr_reductions(const sp_optim *opt); /* plateau decays */
/* Global L2 norm of the last gradient passed to sp_optim_step, before
 * clipping (NaN or inf if that step was refused; 0 before any step). */
double sp_optim_last_norm(const sp_optim *opt);

/*
 * State as an opaque byte blob (moments, momentum buffer, counters,
 * schedule state), for checkpoints.  The blob is native-endian and tied to
 * the kind and n_params of the optimizer; the configuration itself is not
 * in it (the run's configuration is).  Loading validates size, magic,
 * version, kind and n_params (SP_EINPUT) and changes nothing on failure.
 */
size_t sp_optim_state_size(const sp_optim *opt);
int sp_optim_state_save(const sp_optim *opt, sp_ctx *ctx, void *buf,
			size_t size);
int sp_optim_state_load(sp_optim *opt, sp_ctx *ctx, const void *buf,
			size_t size);

#ifdef __cplusplus
}
#endif
#endif /* SP_OPTIM_H */
