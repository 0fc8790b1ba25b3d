/*
 * sp_rollback.c: going back to the last good state with a lower learning
 * rate when training diverges (sp_rollback.h).
 */
#include "config.h"

#include "sp_rollback.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_job.h"
#include "sp_report.h"

/* The state at the start of an epoch. */
typedef struct rb_mark {
	float *value;            /* the weights */
	void *opt;               /* the optimizer's state blob */
	uint64_t rng[4];
	sp_train_state at;       /* epoch and best-epoch bookkeeping */
} rb_mark;

struct sp_rollback {
	size_t done, max;        /* rollbacks so far, allowed in a run */
	double factor;           /* on the learning rate, per rollback */
	size_t n_value, n_opt;
	rb_mark mark[2];
	int good;                /* the mark known good (-1 = none yet) */
	int pending;             /* the mark of this epoch, not yet tried */
};

void sp_rollback_free(sp_rollback *rb)
{
	if (!rb)
		return;
	for (int k = 0; k < 2; k++) {
		free(rb->mark[k].value);
		free(rb->mark[k].opt);
	}
	free(rb);
}

int sp_rollback_new(sp_rollback **out, sp_job *j, sp_optim *opt, size_t done)
{
	sp_kv *t = j->cfg.kv_train;
	sp_rollback *rb;
	*out = NULL;
	if (strcmp(sp_kv_str(t, "on_diverge"), "rollback") != 0)
		return SP_OK;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	rb->done = done;
	rb->max = (size_t)sp_kv_int(t, "max_rollbacks");
	rb->factor = sp_kv_float(t, "rollback_lr_factor");
	rb->n_value = j->par.n_params;
	rb->n_opt = sp_optim_state_size(opt);
	rb->good = rb->pending = -1;
	for (int k = 0; k < 2; k++) {
		rb->mark[k].value = malloc((rb->n_value ? rb->n_value : 1) * sizeof(float));
		rb->mark[k].opt = malloc(rb->n_opt ? rb->n_opt : 1);
		if (!rb->mark[k].value || !rb->mark[k].opt) {
			sp_rollback_free(rb);
			return sp_err(j->ctx, SP_ENOMEM, "out of memory for two copies of %zu weights to roll back to",
				      j->par.n_params);
		}
	}
	*out = rb;
	return SP_OK;
}

int sp_rollback_mark(sp_rollback *rb, sp_job *j, const sp_optim *opt,
		     const sp_train_state *at)
{
	int k = rb->good == 0 ? 1 : 0; /* never over the good one */
	rb_mark *m = &rb->mark[k];
	int rc = sp_optim_state_save(opt, j->ctx, m->opt, rb->n_opt);
	if (rc < 0)
		return rc;
	memcpy(m->value, j->par.value, rb->n_value * sizeof(float));
	sp_rng_get_state(j->ctx, m->rng);
	m->at = *at;
	m->at.opt = NULL;
	rb->pending = k;
	return SP_OK;
}

void sp_rollback_passed(sp_rollback *rb)
{
	if (rb->pending >= 0) {
		rb->good = rb->pending;
		rb->pending = -1;
	}
}

int sp_rollback_restore(sp_rollback *rb, sp_job *j, sp_optim *opt, int rc,
			sp_train_state *at)
{
	char why[1024], msg[1400];
	double lr0 = sp_optim_lr(opt), scale;
	rb_mark *m;
	int rc2;
	if (rb->good < 0)
		return rc; /* the first step diverged: no lr makes that better */
	if (rb->done >= rb->max)
		return rb->max ? sp_err_prefix(j->ctx, rc, "after %zu rollback%s (train.max_rollbacks)",
					       rb->done, rb->done == 1 ? "" : "s")
			       : rc;
	m = &rb->mark[rb->good];
	snprintf(why, sizeof(why), "%s", sp_errmsg(j->ctx));
	scale = sp_optim_lr_scale(opt) * rb->factor;
	if ((rc2 = sp_optim_state_load(opt, j->ctx, m->opt, rb->n_opt)) < 0 ||
	    (rc2 = sp_optim_set_lr_scale(opt, j->ctx, scale)) < 0)
		return rc2;
	memcpy(j->par.value, m->value, rb->n_value * sizeof(float));
	memset(j->par.grad, 0, j->par.n_params * sizeof(*j->par.grad));
	sp_rng_set_state(j->ctx, m->rng);
	*at = m->at;
	rb->pending = -1;
	rb->done++;
	at->rollbacks = rb->done;
	snprintf(msg, sizeof(msg), "%s; rolled back to the start of epoch %zu, lr %.3g -> %.3g (rollback %zu of %zu)",
		 why, m->at.next_epoch + 1, lr0, sp_optim_lr(opt), rb->done, rb->max);
	sp_say(j->out, "%s\n", msg);
	sp_err_clear(j->ctx);
	return sp_observe_event(&j->obs, j->ctx, SP_LOG_WARN, msg);
}

size_t sp_rollback_count(const sp_rollback *rb)
{
	return rb ? rb->done : 0;
}
