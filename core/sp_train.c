/*
 * sp_train.c: the training loop (BPTT over minibatches or the windows of
 * a stream), best-epoch selection, early stopping, instruments.
 */
#include "config.h"

#include "sp_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_dist_job.h"
#include "sp_evaluate.h"
#include "sp_job.h"
#include "sp_partsum.h"
#include "sp_progress.h"
#include "sp_report.h"
#include "sp_rollback.h"

static int stop_requested(const sp_job *j)
{
	return j->opts->should_stop && j->opts->should_stop(j->opts->stop_payload);
}

/* The dev metric that picks the best epoch, and whether higher is better. */
static const char *best_metric(const sp_job *j, int *higher_better)
{
	const char *m = sp_kv_str(j->cfg.kv_train, "metric");
	const sp_metric_decl *d;
	if (!m || !*m)
		m = j->st.task.best;
	/* configuration refused a metric the head does not declare */
	d = sp_task_metric(&j->st.task, m);
	*higher_better = d ? d->higher_is_better : 1;
	return m;
}

static int make_optim(sp_job *j, sp_optim **out)
{
	sp_kv *kv = j->cfg.kv_train;
	const char *kind = sp_kv_str(kv, "optimizer");
	const char *sched = sp_kv_str(kv, "schedule");
	sp_optim_config cfg;
	int rc;
	sp_optim_config_init(&cfg, !strcmp(kind, "sgd") ? SP_OPTIM_SGD :
				   !strcmp(kind, "adamw") ? SP_OPTIM_ADAMW : SP_OPTIM_ADAM);
	cfg.lr = sp_kv_float(kv, "lr");
	cfg.momentum = sp_kv_float(kv, "momentum");
	cfg.nesterov = sp_kv_bool(kv, "nesterov");
	cfg.weight_decay = sp_kv_float(kv, "weight_decay");
	cfg.clip_norm = sp_kv_float(kv, "clip_norm");
	cfg.clip_value = sp_kv_float(kv, "clip_value");
	cfg.schedule = !strcmp(sched, "step") ? SP_SCHED_STEP :
		       !strcmp(sched, "cosine") ? SP_SCHED_COSINE :
		       !strcmp(sched, "plateau") ? SP_SCHED_PLATEAU : SP_SCHED_NONE;
	cfg.step_size = (size_t)sp_kv_int(kv, "step_size");
	cfg.gamma = sp_kv_float(kv, "gamma");
	cfg.min_lr = sp_kv_float(kv, "min_lr");
	cfg.warmup = (size_t)sp_kv_int(kv, "warmup");
	cfg.patience = (size_t)sp_kv_int(kv, "patience");
	cfg.factor = sp_kv_float(kv, "factor");
	{
		size_t bs = (size_t)sp_kv_int(kv, "batch");
		size_t steps = bs ? (j->data.train.n + bs - 1) / bs : 0;
		cfg.total_steps = steps * (size_t)sp_kv_int(kv, "epochs");
		if (cfg.total_steps <= cfg.warmup)
			cfg.total_steps = cfg.warmup + 1;
	}
	{
		int higher_better;
		best_metric(j, &higher_better);
		cfg.mode = higher_better ? SP_PLATEAU_MAX : SP_PLATEAU_MIN;
	}
	rc = sp_optim_new(out, j->ctx, &cfg, j->par.n_params);
	if (rc < 0)
		return sp_err_prefix(j->ctx, rc, "%s", sp_kv_section_where(kv));
	return SP_OK;
}


/*
 * One forward and backward pass over batch b with the gradients zeroed
 * first: the model's forward, the head's loss, the head's backward (of the
 * mean loss over the batch's targets) and BPTT through the model.  *n_loss
 * = 0 means the batch had no targets and nothing was back-propagated.
 */
/* Training forward on batch b up to the loss (gradients zeroed first). */
static int train_forward(sp_job *j, sp_batch *b, double *loss, size_t *n_loss)
{
	const sp_head_ops *h = sp_head_of(&j->st);
	sp_seq y;
	int rc;
	memset(j->par.grad, 0, j->par.n_params * sizeof(*j->par.grad));
	*loss = 0;
	*n_loss = 0;
	if ((rc = sp_job_forward(j, b, &y, 1)) < 0 ||
	    (rc = h->forward(j->st.head.self, j->ctx, &y, &b->y, loss, n_loss, 1)) < 0)
		return rc;
	if (*n_loss && !isfinite(*loss))
		return sp_err(j->ctx, SP_ENUMERIC, "diverged: training loss is %s: lower train.lr or set train.clip_norm",
			      isnan(*loss) ? "NaN" : "infinite");
	return SP_OK;
}

/* Backward of the last train_forward through head and model, of its
 * loss over scale (the whole batch's target count, or 1 for a part's
 * summed loss); nothing when it had no targets (n_loss 0). */
static int train_backward(sp_job *j, sp_batch *b, size_t n_loss, double scale)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	const sp_head_ops *h = sp_head_of(&j->st);
	size_t out_dim = m->out_dim(j->st.model.self);
	sp_seq dh, dx;
	int rc;
	if (n_loss == 0)
		return SP_OK;
	memset(j->buf.dh, 0, b->x.T * b->x.B * out_dim * sizeof(*j->buf.dh));
	memset(&dh, 0, sizeof(dh));
	dh.T = b->x.T;
	dh.B = b->x.B;
	dh.D = out_dim;
	dh.x = j->buf.dh;
	dh.mask = b->x.mask;
	dh.len = b->x.len;
	memset(&dx, 0, sizeof(dx));
	if ((rc = h->backward(j->st.head.self, j->ctx, scale, &dh)) < 0 ||
	    (rc = m->backward(j->st.model.self, j->ctx, &dh, &dx)) < 0)
		return rc;
	return SP_OK;
}

static int forward_backward(sp_job *j, sp_batch *b, double *loss, size_t *n_loss)
{
	int rc = train_forward(j, b, loss, n_loss);
	return rc < 0 ? rc : train_backward(j, b, *n_loss, (double)*n_loss);
}

/* One training step on batch b: forward, backward, update. */
static int train_step(sp_job *j, sp_optim *opt, sp_batch *b, double *loss, size_t *n_loss)
{
	int rc = forward_backward(j, b, loss, n_loss);
	if (rc < 0 || *n_loss == 0)
		return rc;
	sp_params_freeze_grad(&j->par); /* frozen pretrained vectors get no update */
	rc = sp_optim_step(opt, j->ctx, j->par.value, j->par.grad);
	sp_params_freeze_restore(&j->par);
	return rc;
}

/*
 * train_step of a data-parallel run (sp_dist_job.h): this rank's part of
 * the batch forward (dropout masks drawn as for the whole batch), the
 * batch's loss and target count exchanged, this part's backward of the
 * whole batch's mean loss, the gradients summed, and on every rank the
 * same update.  A failure or stop anywhere stops every rank here.
 */
static int dist_step(sp_job *j, sp_optim *opt, const sp_shard *sh, sp_batch *b,
		     double *loss, size_t *n_loss, double *comm_s)
{
	size_t mine;
	double t0;
	int rc = SP_OK;
	*loss = 0;
	*n_loss = 0;
	if (b->x.B) {
		sp_ctx_set_shard(j->ctx, sh);
		rc = train_forward(j, b, loss, n_loss);
		sp_ctx_set_shard(j->ctx, NULL);
	} else {
		memset(j->par.grad, 0, j->par.n_params * sizeof(*j->par.grad));
	}
	mine = *n_loss;
	t0 = sp_now_s();
	rc = sp_dist_job_step(j, rc, stop_requested(j), loss, n_loss);
	*comm_s += sp_now_s() - t0;
	if (rc < 0 || (rc = sp_dist_job_share_rng(j, sh->B >= (size_t)sp_dist_size(j->dist))) < 0 ||
	    *n_loss == 0)
		return rc;
	rc = mine ? train_backward(j, b, mine, (double)*n_loss) : SP_OK;
	t0 = sp_now_s();
	rc = sp_dist_job_grads(j, rc);
	*comm_s += sp_now_s() - t0;
	if (rc < 0)
		return rc;
	sp_params_freeze_grad(&j->par);
	rc = sp_optim_step(opt, j->ctx, j->par.value, j->par.grad);
	sp_params_freeze_restore(&j->par);
	/* the same on every rank (same gradients): agreed without waiting */
	return rc < 0 ? sp_dist_agree(j->dist, j->ctx, rc) : rc;
}

/* The loop's settings and what it tracks across epochs. */
typedef struct train_loop {
	sp_optim *opt;
	sp_batcher *batcher;
	size_t *lengths;
	size_t epochs, bs, patience, print_every, bptt, stride;
	int instruments, higher_better;
	const char *want;        /* dev metric that picks the best epoch */
	double best;             /* its best value (NaN = none yet) */
	size_t best_epoch, bad_epochs;
	int saved;               /* the best model file exists */
	sp_progress *progress;   /* the line within an epoch; NULL = none */
	double ref_loss;         /* first step's mean loss, >= 1 (0 = none yet) */
	sp_rollback *rb;         /* train.on_diverge = rollback; NULL = stop */
	int diverged;            /* the last epoch's error was a divergence */
	sp_shard shard;          /* in parts, or data-parallel: the step's whole batch */
	int32_t *lens;           /* (bs) its lengths */
	int dist;                /* more than one rank */
	size_t parts;            /* a batch's fixed parts (0: whole, one process) */
	sp_partsum *psum;        /* their gradients' sum (parts > 0) */
	double step_s;           /* wall seconds in the training steps */
	double comm_s;           /* ... of which in their exchanges (MPI) */
} train_loop;

/* Part p of P of a batch of n: [*first, *first + count), as even as
 * possible, the larger parts first (the rank count plays no part). */
static size_t part_range(size_t n, size_t P, size_t p, size_t *first)
{
	size_t q = n / P, extra = n % P;
	*first = p * q + (p < extra ? p : extra);
	return q + (p < extra);
}

/* Part first..first+count of the batch idx (the whole batch in
 * L->shard) forward and backward of its summed loss, into the zeroed
 * gradients; its masks are the whole batch's, drawn from s0. */
static int part_pass(sp_job *j, train_loop *L, const size_t *idx, size_t first, size_t count,
		     const uint64_t s0[4], double *loss, size_t *n_loss)
{
	sp_batch b;
	int rc;
	sp_rng_set_state(j->ctx, s0);
	L->shard.first = first;
	L->shard.count = count;
	if ((rc = sp_batch_make(&j->buf, j->ctx, &j->data.train, idx + first, count, &b)) < 0)
		return rc;
	sp_ctx_set_shard(j->ctx, &L->shard);
	rc = train_forward(j, &b, loss, n_loss);
	sp_ctx_set_shard(j->ctx, NULL);
	return rc < 0 ? rc : train_backward(j, &b, *n_loss, 1.0);
}

/*
 * A training step on the batch idx[0..n) in L->parts fixed parts
 * (sp_partsum.h), this rank's block of them: each part's gradient of its
 * summed loss on its own, the parts added in the fixed tree, the ranks'
 * sums added as its top levels, then scaled by the whole batch's target
 * count, so one process and N ranks update with the same bits.  Every
 * part draws the whole batch's dropout masks from the same state
 * (sp_shard.h) and keeps its own rows.  *tokens: the batch's tokens.
 */
static int parts_step(sp_job *j, train_loop *L, const size_t *idx, size_t n, double *loss,
		      size_t *n_loss, size_t *tokens)
{
	size_t N = (size_t)sp_dist_size(j->dist), m = L->parts / N;
	size_t r = (size_t)sp_dist_rank(j->dist), T = 0, got = 0;
	uint64_t s0[4], s1[4];
	int drew = 0, rc = SP_OK;
	float inv;
	*tokens = 0;
	for (size_t k = 0; k < n; k++) {
		L->lens[k] = j->data.train.in_len[idx[k]];
		if (L->lens[k] > 0) {
			*tokens += (size_t)L->lens[k];
			T = (size_t)L->lens[k] > T ? (size_t)L->lens[k] : T;
		}
	}
	L->shard.B = n;
	L->shard.T = T;
	L->shard.len = L->lens;
	sp_rng_get_state(j->ctx, s0);
	sp_partsum_begin(L->psum, m);
	for (size_t k = 0; k < m; k++) {
		size_t first, count = part_range(n, L->parts, r * m + k, &first), nl = 0;
		double ls = 0;
		if (count && rc >= 0) {
			rc = part_pass(j, L, idx, first, count, s0, &ls, &nl);
			sp_rng_get_state(j->ctx, s1);
			drew = 1;
			got += nl;
		} else {
			memset(j->par.grad, 0, j->par.n_params * sizeof(*j->par.grad));
		}
		sp_partsum_add(L->psum, j->par.grad, ls);
	}
	*loss = sp_partsum_end(L->psum, j->par.grad);
	*n_loss = got;
	if (drew) /* where one whole batch's masks leave the generator */
		sp_rng_set_state(j->ctx, s1);
	if (L->dist) {
		double t0 = sp_now_s();
		rc = sp_dist_job_step(j, rc, stop_requested(j), loss, n_loss);
		/* a rank without a part drew nothing: rank 0's state */
		if (rc >= 0)
			rc = sp_dist_job_share_rng(j, (N - 1) * m < n);
		if (rc >= 0 && *n_loss)
			rc = sp_dist_job_grads(j, rc);
		L->comm_s += sp_now_s() - t0;
	}
	if (rc < 0 || *n_loss == 0)
		return rc;
	inv = (float)(1.0 / (double)*n_loss);
	for (size_t i = 0; i < j->par.n_params; i++)
		j->par.grad[i] *= inv;
	sp_params_freeze_grad(&j->par);
	rc = sp_optim_step(L->opt, j->ctx, j->par.value, j->par.grad);
	sp_params_freeze_restore(&j->par);
	/* the same on every rank (same gradients): agreed without waiting */
	return rc < 0 ? sp_dist_agree(j->dist, j->ctx, rc) : rc;
}

/* Collects the instruments of layer 0 for the progress line. */
typedef struct instr_sink {
	const sp_observer_ref *obs;
	sp_ctx *ctx;
	int64_t epoch;
	double norm[4096];  /* ‖∂L/∂h(t)‖ of layer 0 by step */
	size_t n_norm;
} instr_sink;

static int sink_instrument(void *payload, const char *name, double value)
{
	instr_sink *s = payload;
	unsigned t;
	int rc = sp_observe_metric(s->obs, s->ctx, s->epoch,
				  "train", name, value);
	if (rc < 0)
		return rc;
	if (sscanf(name, "dh_norm.l0.t%u", &t) == 1 && t < 4096) {
		s->norm[t] = value;
		if (t + 1 > s->n_norm)
			s->n_norm = t + 1;
	}
	return 0;
}

/*
 * The teaching instruments: one forward + backward on a fixed sample (the
 * first training batch) with no update, after each epoch.  The RNG state
 * is restored, so a run with instruments trains exactly like one without.
 */
static int log_instruments(sp_job *j, size_t epoch, int show)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	size_t bs = (size_t)sp_kv_int(j->cfg.kv_train, "batch");
	size_t B = j->data.train.n < bs ? j->data.train.n : bs;
	size_t *idx = malloc(B * sizeof(*idx));
	uint64_t rng[4];
	instr_sink *sink = calloc(1, sizeof(*sink));
	sp_batch b;
	double loss;
	size_t n_loss;
	int rc;
	if (!idx || !sink) {
		free(idx);
		free(sink);
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	sp_rng_get_state(j->ctx, rng);
	for (size_t k = 0; k < B; k++)
		idx[k] = k;
	sink->obs = &j->obs;
	sink->ctx = j->ctx;
	sink->epoch = (int64_t)epoch;
	/* gate activations after the forward, gradient norms after the
	 * backward (which may overwrite the activations) */
	if ((rc = sp_batch_make(&j->buf, j->ctx, &j->data.train, idx, B, &b)) < 0 ||
	    (rc = train_forward(j, &b, &loss, &n_loss)) < 0 ||
	    (rc = m->instruments(j->st.model.self, j->ctx, sink_instrument, sink)) < 0 ||
	    (rc = train_backward(j, &b, n_loss, (double)n_loss)) < 0 ||
	    (n_loss && (rc = m->instruments(j->st.model.self, j->ctx, sink_instrument, sink)) < 0))
		goto done;
	if (show && sink->n_norm >= 2)
		sp_say(j->out, "             ‖∂L/∂h(t)‖ of the sample, layer 0: t=1 %.3g, t=%zu %.3g, t=%zu %.3g\n",
		    sink->norm[0], sink->n_norm / 2 + 1, sink->norm[sink->n_norm / 2],
		    sink->n_norm, sink->norm[sink->n_norm - 1]);
done:
	memset(j->par.grad, 0, j->par.n_params * sizeof(*j->par.grad));
	sp_rng_set_state(j->ctx, rng);
	free(idx);
	free(sink);
	return rc;
}

static void loop_fini(train_loop *L)
{
	sp_progress_free(L->progress);
	sp_rollback_free(L->rb);
	sp_batcher_free(L->batcher);
	free(L->lengths);
	free(L->lens);
	sp_partsum_free(L->psum);
	sp_optim_free(L->opt);
}

/* The stream of a truncated-BPTT language model. */
static int setup_stream(sp_job *j, train_loop *L)
{
	int rc;
	if (!sp_task_next_token(&j->st.task))
		return sp_err(j->ctx, SP_EINVAL, "%s: truncated BPTT over a stream is for language models, expected bptt = 0 for head '%s'",
			      sp_kv_where(j->cfg.kv_train, "bptt"), j->st.head.comp->name);
	if ((rc = sp_batch_stream(&j->buf.stream, &j->buf.n_stream, j->ctx, &j->data.train)) < 0)
		return rc;
	if ((j->buf.n_stream - 1) / L->bs < 1)
		return sp_err(j->ctx, SP_EINPUT, "%s: %zu training tokens are too few for %zu parallel rows of bptt = %zu",
			      sp_kv_where(j->cfg.kv_train, "bptt"), j->buf.n_stream, L->bs, L->bptt);
	return SP_OK;
}

/* train.parts: a batch in that many fixed parts (0: one per rank), on
 * ranks holding an equal block each; one part in one process is the
 * whole batch as it is (L->parts 0). */
static int setup_parts(sp_job *j, train_loop *L)
{
	size_t N = (size_t)sp_dist_size(j->dist), P = (size_t)sp_kv_int(j->cfg.kv_train, "parts");
	if (!P)
		P = N;
	if (P > L->bs) /* no empty part in every batch */
		P = L->bs;
	if (P % N)
		return sp_err(j->ctx, SP_EINVAL, "%s: a batch of %zu in %zu parts cannot go evenly to %zu ranks, expected train.parts a multiple of the rank count, at most train.batch (or one process)",
			      sp_kv_where(j->cfg.kv_train, "parts"), L->bs, P, N);
	if (P == 1 && N == 1)
		return SP_OK;
	L->parts = P;
	return sp_partsum_new(&L->psum, j->ctx, j->par.n_params, P / N);
}

/* Settings, optimizer (and its resumed state), RNG, stream, batcher. */
static int loop_setup(sp_job *j, train_loop *L, const sp_train_state *st)
{
	sp_kv *kv = j->cfg.kv_train;
	int rc;
	L->epochs = (size_t)sp_kv_int(kv, "epochs");
	L->bs = (size_t)sp_kv_int(kv, "batch");
	L->patience = (size_t)sp_kv_int(kv, "early_stop");
	L->want = best_metric(j, &L->higher_better);
	L->best = st->best;
	L->best_epoch = st->best_epoch;
	L->bad_epochs = st->bad_epochs;
	L->saved = st->saved;
	L->print_every = (size_t)sp_kv_int(kv, "print_every");
	L->instruments = sp_kv_bool(kv, "instruments");
	if (!L->print_every)
		L->print_every = L->epochs > 20 ? (L->epochs + 19) / 20 : 1;
	if ((rc = make_optim(j, &L->opt)) < 0 ||
	    (rc = sp_progress_new(&L->progress, j->ctx, j->out, L->epochs)) < 0)
		return rc;
	if (st->opt_blob && (rc = sp_optim_state_load(L->opt, j->ctx, st->opt_blob, st->opt_size)) < 0)
		return rc;
	if (st->have_rng)
		sp_rng_set_state(j->ctx, st->rng);
	if (st->lr_scale > 0 && (rc = sp_optim_set_lr_scale(L->opt, j->ctx, st->lr_scale)) < 0)
		return rc;
	if ((rc = sp_rollback_new(&L->rb, j, L->opt, st->rollbacks)) < 0)
		return rc;
	L->bptt = (size_t)sp_kv_int(kv, "bptt");
	L->stride = (size_t)sp_kv_int(kv, "bptt_stride");
	if (!L->stride)
		L->stride = L->bptt;
	if (L->bptt && (rc = setup_stream(j, L)) < 0)
		return rc;
	L->lengths = malloc((j->data.train.n ? j->data.train.n : 1) * sizeof(*L->lengths));
	if (!L->lengths)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < j->data.train.n; i++)
		L->lengths[i] = (size_t)j->data.train.in_len[i];
	L->dist = sp_dist_job_many(j);
	if ((L->dist && (rc = sp_dist_job_check(j)) < 0) || (!L->bptt && (rc = setup_parts(j, L)) < 0))
		return rc;
	if ((L->dist || L->parts) && !(L->lens = malloc((L->bs ? L->bs : 1) * sizeof(*L->lens))))
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	return sp_batcher_new(&L->batcher, j->ctx, L->lengths, j->data.train.n, L->bs,
			      sp_kv_bool(kv, "shuffle"), sp_kv_bool(kv, "bucket"));
}

/* The training steps of an epoch: its batches, or the windows of the
 * stream as sp_batch_next_train cuts them (one at 0, then one per stride
 * while the previous window ended before the rows' length L). */
static size_t epoch_steps(const sp_job *j, const train_loop *L)
{
	if (L->bptt) {
		size_t len = (j->buf.n_stream - 1) / L->bs;
		return 1 + (len > L->bptt ? (len - L->bptt + L->stride - 1) / L->stride : 0);
	}
	return sp_batcher_count(L->batcher);
}

/* The input tokens of a batch (for tokens per second). */
static size_t batch_tokens(const sp_batch *b)
{
	size_t n = 0;
	if (!b->x.len)
		return b->x.T * b->x.B;
	for (size_t k = 0; k < b->x.B; k++)
		n += b->x.len[k] > 0 ? (size_t)b->x.len[k] : 0;
	return n;
}

/* A finite loss can still have run away (lr = 1e6 reaches 1e30): past
 * SP_DIVERGE_FACTOR times the first step's, or past train.diverge_loss,
 * the run stops here rather than end "finished" with a useless model. */
#define SP_DIVERGE_FACTOR 1e4
static int check_diverged(sp_job *j, train_loop *L, double mean)
{
	double cap = sp_kv_float(j->cfg.kv_train, "diverge_loss");
	if (L->ref_loss <= 0) {
		/* at least 1: a tiny start (one-class data) is no scale */
		L->ref_loss = mean > 1 ? mean : 1;
		return SP_OK;
	}
	if (mean > SP_DIVERGE_FACTOR * L->ref_loss)
		return sp_err(j->ctx, SP_ENUMERIC, "diverged: training loss %g is past %g times the first step's %g (at least 1), expected a finite loss below that: lower train.lr or set train.clip_norm",
			      mean, SP_DIVERGE_FACTOR, L->ref_loss);
	if (cap > 0 && mean > cap)
		return sp_err(j->ctx, SP_ENUMERIC, "diverged: training loss %g is past train.diverge_loss = %g: lower train.lr or set train.clip_norm",
			      mean, cap);
	return SP_OK;
}

/* A numeric error of a step or of the epoch's evaluation (a loss or
 * gradient that is not finite, or a loss past the bound) is divergence. */
static int note_diverged(sp_job *j, train_loop *L, int rc)
{
	if (rc != SP_ENUMERIC)
		return rc;
	L->diverged = 1;
	if (!strstr(sp_errmsg(j->ctx), "diverged"))
		sp_err_prefix(j->ctx, rc, "diverged");
	return rc;
}

/* The epoch's next batch (or window); data-parallel, this rank's part. */
static int next_batch(sp_job *j, train_loop *L, size_t *pos, sp_batch *b)
{
	if (L->lens)
		return sp_dist_job_next(j, L->batcher, L->bs, L->stride, L->bptt, pos,
					&L->shard, L->lens, b);
	return sp_batch_next_train(&j->buf, j->ctx, &j->data.train, L->batcher, L->bs,
				   L->stride, L->bptt, pos, b);
}

/* The batches (or windows) of one epoch, each a training step. */
static int run_epoch(sp_job *j, train_loop *L, size_t epoch)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	size_t n_batches = 0, pos = 0, n_idx = 0;
	const size_t *idx = NULL;
	sp_batch b;
	int rc = SP_OK;
	sp_head_of(&j->st)->metrics_reset(j->st.head.self);
	if (L->bptt) { /* windows go on from the state the last one ended in */
		rc = m->carry(j->st.model.self, j->ctx, 1, 1);
		/* or, overlapping, from the state stride steps into it */
		if (rc >= 0 && L->stride < L->bptt)
			rc = m->carry_at(j->st.model.self, j->ctx, L->stride);
	} else {
		sp_batcher_epoch(L->batcher, j->ctx);
	}
	/* a head that schedules by epoch (teacher forcing) */
	if (rc >= 0 && SP_HAS_OP(sp_head_ops, sp_head_of(&j->st), epoch))
		rc = sp_head_of(&j->st)->epoch(j->st.head.self, j->ctx, epoch, L->epochs);
	sp_progress_epoch(L->progress, epoch, epoch_steps(j, L));
	while (rc >= 0 && (rc = L->parts ? (int)sp_batcher_next(&idx, &n_idx, L->batcher) :
				       next_batch(j, L, &pos, &b)) > 0) {
		double loss;
		size_t n_loss, tokens = 0;
		if (!L->dist && stop_requested(j)) { /* data-parallel: in the step */
			rc = sp_err(j->ctx, SP_EINTR, "interrupted in epoch %zu", epoch + 1);
			break;
		}
		if (L->parts)
			rc = parts_step(j, L, idx, n_idx, &loss, &n_loss, &tokens);
		else if (L->dist)
			rc = dist_step(j, L->opt, &L->shard, &b, &loss, &n_loss, &L->comm_s);
		else
			rc = train_step(j, L->opt, &b, &loss, &n_loss);
		if (rc >= 0 && n_loss && (rc = check_diverged(j, L, loss / (double)n_loss)) < 0)
			rc = sp_dist_agree(j->dist, j->ctx, rc); /* every rank's loss */
		if (rc < 0) {
			rc = sp_err_prefix(j->ctx, note_diverged(j, L, rc), "training epoch %zu, %s %zu",
					   epoch + 1, L->bptt ? "window" : "batch", n_batches + 1);
		} else {
			sp_progress_step(L->progress, L->parts ? tokens : batch_tokens(&b), loss, n_loss);
			if (L->rb && n_loss)
				sp_rollback_passed(L->rb);
		}
		n_batches++;
	}
	sp_progress_clear(L->progress); /* before the epoch's summary */
	/* training's carried state ends with the epoch (the next one
	 * starts from zero); evaluation carries its own */
	if (rc >= 0 && L->bptt)
		rc = m->carry(j->st.model.self, j->ctx, 0, 1);
	if (rc >= 0 && L->stride < L->bptt)
		rc = m->carry_at(j->st.model.self, j->ctx, 0);
	return rc;
}

/* The epoch's train metrics, its dev evaluation (into dev) and its
 * optimizer figures: observed, and printed when show. */
static int report_epoch(sp_job *j, train_loop *L, size_t epoch, int show,
			double t0, uint64_t clips0, sp_metric_sink *dev)
{
	sp_metric_sink sink;
	uint64_t clips;
	double secs;
	int rc;
	/* train: metrics accumulated while training this epoch (on every
	 * rank, its part) */
	sp_metric_sink_init(&sink, j, (int64_t)epoch, "train");
	if ((rc = sp_dist_job_metrics(j, SP_OK)) < 0 ||
	    (rc = sp_head_of(&j->st)->metrics(j->st.head.self, j->ctx, sp_metric_sink_emit, &sink)) < 0)
		return rc;
	if (show)
		sp_say(j->out, "epoch %3zu/%zu  train%s", epoch + 1, L->epochs, sink.line);
	sp_metric_sink_init(dev, j, (int64_t)epoch, "dev");
	dev->want = L->want;
	if (j->data.dev.n) {
		if ((rc = sp_evaluate(j, &j->data.dev, dev)) < 0)
			return rc;
		if (show)
			sp_say(j->out, "  | dev%s", dev->line);
	}
	clips = sp_optim_norm_clips(L->opt) + sp_optim_value_clips(L->opt) - clips0;
	secs = sp_now_s() - t0;
	if (show)
		sp_say(j->out, "  | %.2fs lr %.3g%s\n", secs, sp_optim_lr(L->opt),
		       clips ? " (clipped)" : "");
	sp_observe_metric(&j->obs, j->ctx, (int64_t)epoch, NULL, "lr", sp_optim_lr(L->opt));
	sp_observe_metric(&j->obs, j->ctx, (int64_t)epoch, NULL, "seconds", secs);
	sp_observe_metric(&j->obs, j->ctx, (int64_t)epoch, NULL, "clipped_steps", (double)clips);
	sp_observe_metric(&j->obs, j->ctx, (int64_t)epoch, NULL, "grad_norm", sp_optim_last_norm(L->opt));
	return SP_OK;
}

/* Best epoch on dev: keep its model; the scheduler's epoch end. */
static int keep_best(sp_job *j, train_loop *L, size_t epoch, const sp_metric_sink *dev)
{
	int better, rc;
	if (!j->data.dev.n) {
		rc = sp_optim_epoch_end(L->opt, j->ctx, NAN);
		return rc < 0 && rc != SP_ENUMERIC ? rc : SP_OK;
	}
	if (!dev->found) /* alike on every rank */
		return sp_dist_agree(j->dist, j->ctx, sp_err(j->ctx, SP_EINVAL, "%s: the head reports no dev metric '%s'",
			      sp_kv_where(j->cfg.kv_train, "metric"), L->want));
	better = isnan(L->best) || (L->higher_better ? dev->wanted > L->best : dev->wanted < L->best);
	if (better) {
		L->best = dev->wanted;
		L->best_epoch = epoch;
		L->bad_epochs = 0;
		if ((rc = sp_checkpoint_save(j, j->files.model, (int64_t)epoch, NULL)) < 0)
			return rc;
		L->saved = 1;
	} else {
		L->bad_epochs++;
	}
	if ((rc = sp_optim_epoch_end(L->opt, j->ctx, dev->wanted)) < 0)
		return rc;
	if (L->patience && L->bad_epochs >= L->patience) {
		char num[40];
		sp_say(j->out, "early stop: dev %s has not improved for %zu epochs (best %s in epoch %zu)\n",
		       L->want, L->patience, sp_report_num(num, sizeof(num), L->best), L->best_epoch + 1);
	}
	return SP_OK;
}

/* One epoch: train, report, instruments, best model, checkpoint. */
static int epoch_step(sp_job *j, train_loop *L, size_t epoch)
{
	double t0 = sp_now_s();
	uint64_t clips0 = sp_optim_norm_clips(L->opt) + sp_optim_value_clips(L->opt);
	int show = epoch == 0 || epoch + 1 == L->epochs || (epoch + 1) % L->print_every == 0;
	sp_metric_sink dev;
	int rc;
	if (L->rb) { /* where a rollback may come back to */
		sp_train_state at = {epoch, L->best, L->best_epoch, L->bad_epochs, L->saved,
				     NULL, NULL, 0, {0, 0, 0, 0}, 0, 0, 0};
		if ((rc = sp_rollback_mark(L->rb, j, L->opt, &at)) < 0)
			return rc;
	}
	if ((rc = run_epoch(j, L, epoch)) >= 0)
		L->step_s += sp_now_s() - t0;
	if (rc < 0 ||
	    (rc = note_diverged(j, L, report_epoch(j, L, epoch, show, t0, clips0, &dev))) < 0)
		return rc;
	if (L->instruments && (rc = log_instruments(j, epoch, show)) < 0)
		return rc;
	if ((rc = keep_best(j, L, epoch, &dev)) < 0 ||
	    (rc = sp_dist_job_same_weights(j, epoch)) < 0)
		return rc;
	{
		/* the checkpoint of this epoch, to resume from */
		sp_train_state now = {epoch + 1, L->best, L->best_epoch, L->bad_epochs, L->saved,
				      L->opt, NULL, 0, {0, 0, 0, 0}, 0, sp_rollback_count(L->rb), 0};
		return sp_checkpoint_save(j, j->files.ckpt, (int64_t)epoch, &now);
	}
}

/* The kept model: the last epoch's without a dev split, else the best
 * one's, loaded back when it is not the last. */
static int keep_model(sp_job *j, train_loop *L)
{
	sp_modelfile *mf;
	int rc = SP_OK;
	if (!L->saved)
		return sp_checkpoint_save(j, j->files.model, (int64_t)L->epochs - 1, NULL);
	if (L->best_epoch + 1 == L->epochs)
		return SP_OK;
	/* rank 0 wrote it; it gives the others its weights */
	if (sp_dist_writer(j->dist) && (rc = sp_modelfile_open(&mf, j->ctx, j->files.model)) >= 0) {
		rc = sp_params_load(j, mf);
		sp_modelfile_free(mf);
	}
	if ((rc = sp_dist_job_share_weights(j, sp_dist_writer(j->dist) ? rc : SP_OK)) < 0)
		return rc;
	{
		char num[40];
		sp_say(j->out, "best dev %s %s in epoch %zu: kept that model\n", L->want,
		       sp_report_num(num, sizeof(num), L->best), L->best_epoch + 1);
	}
	return SP_OK;
}

/* After the divergence rc: back to the last good state, from whose epoch
 * (*epoch) training goes on; rc when there is none or no rollback left. */
static int roll_back(sp_job *j, train_loop *L, int rc, size_t *epoch)
{
	sp_train_state at;
	sp_progress_clear(L->progress);
	if ((rc = sp_rollback_restore(L->rb, j, L->opt, rc, &at)) < 0)
		return rc;
	/* a best model file written since that state no longer holds the
	 * best it recorded: the epochs from there on pick the best anew */
	if (L->saved && L->best_epoch >= at.next_epoch) {
		at.best = NAN;
		at.saved = 0;
		at.bad_epochs = 0;
	}
	L->best = at.best;
	L->best_epoch = at.best_epoch;
	L->bad_epochs = at.bad_epochs;
	L->saved = at.saved;
	L->diverged = 0;
	*epoch = at.next_epoch;
	return SP_OK;
}

int sp_train(sp_job *j, sp_train_state *st)
{
	train_loop L;
	FILE *out = j->out;
	int rc;
	memset(&L, 0, sizeof(L));
	if (j->opts->quiet) /* training prints nothing; the results after it do */
		j->out = NULL;
	/* a setting refused on every rank (train.parts) stops them cleanly */
	if ((rc = sp_dist_agree(j->dist, j->ctx, loop_setup(j, &L, st))) < 0)
		goto done;
	if (j->data.train_rare.n)
		sp_say(j->out, "rare words: %zu training tokens of words seen once read as unknown "
		       "words with chance %.2g, drawn each epoch\n", j->data.train_rare.n,
		       (double)j->data.train_rare.p[0]);
	for (size_t epoch = st->next_epoch; epoch < L.epochs;) {
		sp_unkrep_epoch(&j->data.train_rare, j->data.train.ids, j->cfg.seed, epoch);
		if ((rc = epoch_step(j, &L, epoch)) < 0) {
			if (!L.diverged || !L.rb || (rc = roll_back(j, &L, rc, &epoch)) < 0)
				goto done;
			continue;
		}
		if (L.patience && L.bad_epochs >= L.patience)
			break;
		epoch++;
	}
	sp_unkrep_restore(&j->data.train_rare, j->data.train.ids);
	if ((rc = keep_model(j, &L)) < 0)
		goto done;
	sp_observe_metric(&j->obs, j->ctx, -1, NULL, "norm_clips", (double)sp_optim_norm_clips(L.opt));
	sp_observe_metric(&j->obs, j->ctx, -1, NULL, "value_clips", (double)sp_optim_value_clips(L.opt));
	sp_observe_metric(&j->obs, j->ctx, -1, NULL, "steps", (double)sp_optim_steps(L.opt));
	if (L.rb)
		sp_observe_metric(&j->obs, j->ctx, -1, NULL, "rollbacks", (double)sp_rollback_count(L.rb));
	if (j->dist) { /* under mpirun: rank 0's time in the steps, and in
			* their exchanges (waiting for the others included) */
		sp_observe_metric(&j->obs, j->ctx, -1, NULL, "ranks", (double)sp_dist_size(j->dist));
		sp_observe_metric(&j->obs, j->ctx, -1, NULL, "step_seconds", L.step_s);
		sp_observe_metric(&j->obs, j->ctx, -1, NULL, "allreduce_seconds", L.comm_s);
	}
	rc = SP_OK;
done:
	/* the final evaluation reads the training split as it is */
	sp_unkrep_restore(&j->data.train_rare, j->data.train.ids);
	if (rc < 0 && L.diverged)
		j->diverged = 1;
	loop_fini(&L);
	j->out = out;
	return rc;
}
