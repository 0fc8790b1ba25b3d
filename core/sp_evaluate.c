/*
 * sp_evaluate.c: evaluation of a split, of every split, and of one input.
 */
#include "config.h"

#include "sp_evaluate.h"

#include <stdlib.h>
#include <string.h>

#include "sp_evalrec.h"
#include "sp_dist_job.h"
#include "sp_job.h"
#include "sp_report.h"

void sp_metric_sink_init(sp_metric_sink *s, sp_job *j, int64_t epoch,
			 const char *split)
{
	memset(s, 0, sizeof(*s));
	s->obs = &j->obs;
	s->ctx = j->ctx;
	s->epoch = epoch;
	s->split = split;
}

int sp_metric_sink_emit(void *payload, const char *name, double value)
{
	sp_metric_sink *s = payload;
	int rc;
	rc = sp_observe_metric(s->obs, s->ctx, s->epoch, s->split, name, value);
	if (rc < 0)
		return rc;
	if (s->want && !strcmp(name, s->want)) {
		s->wanted = value;
		s->found = 1;
	}
	/* per-type breakdowns (f1.PER) stay in the log, not on the screen */
	if (!strchr(name, '.') && s->used < sizeof(s->line)) {
		char num[40];
		int w = s->exact ? snprintf(s->line + s->used, sizeof(s->line) - s->used,
					    " %s %.17g", name, value) :
			snprintf(s->line + s->used, sizeof(s->line) - s->used, " %s %s",
				 name, sp_report_num(num, sizeof(num), value));
		if (w > 0)
			s->used += (size_t)w;
	}
	return 0;
}

/* Ctrl-C between evaluation batches: a long final evaluation (a large
 * training split, a translation model's decoding) stops as training
 * does, and the run is logged as interrupted with its model kept.  A
 * data-parallel run polls in its training steps only, where the ranks
 * agree on it. */
static int eval_interrupted(const sp_job *j, const char *split)
{
	if (sp_dist_job_many(j) || !j->opts->should_stop || !j->opts->should_stop(j->opts->stop_payload))
		return SP_OK;
	if (!split)
		return sp_err(j->ctx, SP_EINTR, "interrupted in an evaluation");
	return sp_err(j->ctx, SP_EINTR, "interrupted in the evaluation of the %s split", split);
}

/*
 * Evaluation of a truncated-BPTT language model the way it was trained:
 * d joined into one stream as sp_batch_stream joins the training texts, cut
 * into B = train.batch rows (fewer when d is short: a row needs at least
 * two positions, an input and its target), read in windows of bptt steps
 * side by side with the state carried from window to window, no training
 * (no dropout, no RNG drawn).  Each of the B*L positions is predicted
 * once; the (n - 1) mod B positions after the rows are dropped, as in
 * training.  The carried state is cleared before and after, so training
 * and later evaluations start from zero.  A stream of fewer than two
 * tokens has nothing to predict and reports no metrics.
 */
static int evaluate_stream(sp_job *j, const sp_dataset *d, size_t bptt, sp_metric_sink *sink)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	const sp_head_ops *h = sp_head_of(&j->st);
	size_t B = (size_t)sp_kv_int(j->cfg.kv_train, "batch"), n, L, first, mine;
	int32_t *stream;
	int rc, rc2;
	if ((rc = sp_batch_stream(&stream, &n, j->ctx, d)) < 0)
		return rc;
	if (n < 2)
		B = 0;
	else if (B > n - 1)
		B = n - 1;
	L = B ? (n - 1) / B : 0;
	/* data-parallel: this rank's rows (each row is read on its own) */
	sp_dist_part(j->dist, B, &first, &mine);
	if (!mine)
		L = 0;
	h->metrics_reset(j->st.head.self);
	rc = m->carry(j->st.model.self, j->ctx, 1, 1);
	/* windows side by side: keep the state after each one's last step */
	if (rc >= 0 && SP_HAS_OP(sp_model_ops, m, carry_at))
		rc = m->carry_at(j->st.model.self, j->ctx, 0);
	for (size_t t0 = 0; rc >= 0 && t0 < L; t0 += bptt) {
		size_t T = L - t0 < bptt ? L - t0 : bptt;
		sp_batch b;
		sp_seq y;
		double loss;
		size_t n_loss;
		if ((rc = eval_interrupted(j, sink->split)) < 0 ||
		    (rc = sp_batch_window(&j->buf, j->ctx, stream + first * L, t0, T, 0, mine, L, &b)) < 0 ||
		    (rc = m->forward(j->st.model.self, j->ctx, &b.x, &y, 0)) < 0 ||
		    (rc = h->forward(j->st.head.self, j->ctx, &y, &b.y, &loss, &n_loss, 0)) < 0)
			break;
	}
	free(stream);
	rc2 = m->carry(j->st.model.self, j->ctx, 0, 1);
	if ((rc = sp_dist_job_metrics(j, rc < 0 ? rc : rc2)) < 0)
		return rc;
	return h->metrics(j->st.head.self, j->ctx, sp_metric_sink_emit, sink);
}

/* Forward pass over all of d without training; reports the head's
 * metrics (loss, accuracy, f1, ...) to sink.  A language model trained
 * with truncated BPTT is evaluated as it was trained: d as one stream
 * (evaluate_stream); anything else text by text from a zero state. */
int sp_evaluate(sp_job *j, const sp_dataset *d, sp_metric_sink *sink)
{
	const sp_head_ops *h = sp_head_of(&j->st);
	size_t bs = (size_t)sp_kv_int(j->cfg.kv_train, "batch");
	size_t bptt = (size_t)sp_kv_int(j->cfg.kv_train, "bptt");
	size_t *idx;
	sp_evalrec *rec = NULL;
	int rc = SP_OK;
	if (bptt && sp_task_next_token(&j->st.task))
		return evaluate_stream(j, d, bptt, sink);
	/* the final evaluation of a logged run: its confusion matrix, and a
	 * few sample predictions of the dev set (data-parallel: counted on
	 * every rank, as rank 0 logs; samples from rank 0's batches, the
	 * first ones) */
	if (sink->epoch < 0) {
		int want = sp_observe_active(sink->obs);
		if ((rc = sp_dist_bcast(j->dist, j->ctx, &want, sizeof(want))) < 0 ||
		    (want && (rc = sp_evalrec_new(&rec, j->ctx, &j->st.task, j->data.vocab,
						  j->data.labels, sink->split && sp_dist_writer(j->dist) &&
						  !strcmp(sink->split, "dev") ? 5 : 0)) < 0))
			return rc;
	}
	if (bs > d->n)
		bs = d->n ? d->n : 1;
	idx = malloc(bs * sizeof(*idx));
	if (!idx) {
		sp_evalrec_free(rec);
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	h->metrics_reset(j->st.head.self);
	for (size_t s = 0; s < d->n; s += bs) {
		size_t B = d->n - s < bs ? d->n - s : bs;
		sp_batch b;
		sp_seq y;
		double loss;
		size_t n_loss;
		if (!sp_dist_job_mine(j, s / bs)) /* data-parallel: batches go round */
			continue;
		for (size_t k = 0; k < B; k++)
			idx[k] = s + k;
		if ((rc = eval_interrupted(j, sink->split)) < 0 ||
		    (rc = sp_batch_make(&j->buf, j->ctx, d, idx, B, &b)) < 0 ||
		    (rc = sp_job_forward(j, &b, &y, 0)) < 0 ||
		    (rc = h->forward(j->st.head.self, j->ctx, &y, &b.y, &loss, &n_loss, 0)) < 0 ||
		    (rc = sp_evalrec_batch(rec, j->ctx, h, j->st.head.self, d, idx, &b)) < 0)
			break;
	}
	free(idx);
	if ((rc = sp_dist_job_evalrec(j, rec, rc)) < 0 ||
	    (rc = sp_dist_job_metrics(j, rc)) < 0) {
		sp_evalrec_free(rec);
		return rc;
	}
	rc = h->metrics(j->st.head.self, j->ctx, sp_metric_sink_emit, sink);
	if (rc >= 0)
		rc = sp_evalrec_emit(rec, j->ctx, sink->obs, sink->epoch, sink->split);
	sp_evalrec_free(rec);
	return rc;
}

/* Every split with data, as final metrics (observed when the job has a
 * run log); exact prints all digits.  One line per split on the output. */
int sp_evaluate_splits(sp_job *j, int exact, const char *prefix)
{
	const sp_dataset *splits[3] = {&j->data.train, &j->data.dev, &j->data.test};
	static const char *const names[3] = {"train", "dev", "test"};
	for (int s = 0; s < 3; s++) {
		sp_metric_sink sink;
		int rc;
		if (!splits[s]->n)
			continue;
		sp_metric_sink_init(&sink, j, -1, names[s]);
		sink.exact = exact;
		if ((rc = sp_evaluate(j, splits[s], &sink)) < 0)
			return rc;
		sp_say(j->out, "%s%-5s%s\n", prefix, names[s], sink.line);
	}
	return SP_OK;
}


int sp_evaluate_input(sp_job *j, const int32_t *ids, size_t n,
		      const sp_toklist *t, sp_batch *b)
{
	sp_dataset d;
	size_t idx = 0;
	int32_t *tg = calloc(n, sizeof(*tg));
	sp_seq y;
	int rc;
	memset(&d, 0, sizeof(d));
	if (!tg)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	rc = sp_dataset_add(&d, j->ctx, ids, n, tg, sp_task_one_target(&j->st.task) ? 1 : n);
	free(tg);
	if (rc >= 0 && t && t->n == n) /* no <s>: a tagger or classifier */
		rc = sp_dataset_add_chars(&d, j, t, 0, n);
	if (rc >= 0) /* the batch buffers hold copies; d can go */
		rc = sp_batch_make(&j->buf, j->ctx, &d, &idx, 1, b);
	sp_dataset_fini(&d);
	if (rc >= 0)
		rc = sp_job_forward(j, b, &y, 0);
	if (rc >= 0)
		rc = sp_head_of(&j->st)->forward(j->st.head.self, j->ctx, &y, NULL, NULL, NULL, 0);
	return rc;
}

int sp_evaluate_generate(sp_job *j, sp_batch *b, size_t n)
{
	const sp_runner_opts *opts = j->opts;
	int32_t eos = sp_vocab_special(j->data.vocab, SP_SPECIAL_EOS);
	size_t pos = n - 1;
	sp_seq y;
	int rc;
	if (opts->seed >= 0)
		sp_rng_seed(j->ctx, (uint64_t)opts->seed);
	if (j->out) {
		fputs("generated: ", j->out);
		fputs(opts->input, j->out);
	}
	for (size_t g = 0; g < opts->generate; g++) {
		int32_t next;
		rc = sp_head_of(&j->st)->sample(j->st.head.self, j->ctx, pos, 0, opts->temperature, &next);
		if (rc < 0)
			return rc;
		/* the end of one text starts the next: a new line */
		if (j->out)
			fputs(next == eos ? "\n" : sp_vocab_token(j->data.vocab, next), j->out);
		j->buf.b_ids[0] = next;
		j->buf.b_mask[0] = 1;
		j->buf.b_len[0] = 1;
		b->x.T = 1;
		b->y.T = 1;
		if ((rc = sp_model_of(&j->st)->forward(j->st.model.self, j->ctx, &b->x, &y, 0)) < 0 ||
		    (rc = sp_head_of(&j->st)->forward(j->st.head.self, j->ctx, &y, NULL, NULL, NULL, 0)) < 0)
			return rc;
		pos = 0;
	}
	sp_say(j->out, "\n");
	return SP_OK;
}
