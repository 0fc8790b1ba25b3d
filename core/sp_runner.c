/*
 * sp_runner.c: from a .pipe file to a trained, evaluated, logged model.
 *
 * A job resolves the sections of a .pipe into four stages
 *
 *   [tokenize] text -> tokens      [encode] tokens -> ids (vocabulary)
 *   [model]    ids  -> h(t)        [head]   h(t)   -> outputs, loss, metrics
 *
 * reads the [data] splits, builds the vocabulary and the label set from
 * the training split, gives every weight of the model and head a slice of
 * one value arena (gradients mirror it, llm.c style), and trains with
 * backpropagation through time: for each minibatch
 *
 *   zero grads -> model.forward -> head.forward (loss) -> head.backward
 *   -> model.backward (BPTT) -> optimizer step (clipping, NaN check)
 *
 * then evaluates the dev split after every epoch and dev/test at the end.
 * Everything goes to the run's observer (the run log) as it happens, so a
 * failed or interrupted run keeps what it had logged.
 *
 * This file holds only the commands, as sequences of the modules that do
 * the work:
 *
 *   sp_job         the job, its configuration and stages
 *   sp_splits      reading and encoding the data, vocabularies
 *   sp_params      parameter arenas, pretrained vectors, loading weights
 *   sp_batch       minibatches and truncated-BPTT streams
 *   sp_train       the training loop          sp_evaluate   evaluation
 *   sp_checkpoint  model files, checkpoints   sp_report     what is printed
 *   sp_observer    where the run's record goes (the run log)
 *
 * Not here: the math (plugins, sp_cell), the file formats (sp_pipe,
 * sp_modelfile, sp_data), the command line (main.c).
 */
#include "config.h"

#include "sp_runner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_checkpoint.h"
#include "sp_evaluate.h"
#include "sp_job.h"
#include "sp_predict_file.h"
#include "sp_report.h"
#include "sp_splits_seq.h"
#include "sp_train.h"
#include "sp_translate.h"

void sp_runner_opts_init(sp_runner_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = SP_RUNNER_OPTS_VERSION;
	opts->top_k = 3;
	opts->temperature = 1.0;
	opts->seed = -1;
}

/* ------------------------------------------------------------------ */
/* pipeline run                                                        */
/* ------------------------------------------------------------------ */

/* The resolved configuration and the stages, to the observer. */
static int observe_config(sp_job *j)
{
	sp_stage *st[3 + SP_STACK_MAX] = {&j->st.tok, &j->st.enc, &j->st.model};
	int idx = 0, n = 3, rc;
	for (size_t s = 0; s < sp_pipe_count(j->cfg.pipe); s++) {
		sp_kv *kv = sp_pipe_section_at(j->cfg.pipe, s);
		for (size_t i = 0; i < sp_kv_count(kv); i++) {
			rc = sp_observe_param(&j->obs, j->ctx, sp_kv_section(kv),
					      sp_kv_key_at(kv, i), sp_kv_text_at(kv, i));
			if (rc < 0)
				return rc;
		}
	}
	/* a stack is logged stage by stage: [model] as its own component */
	for (size_t k = 0; k < j->st.n_more; k++)
		st[n++] = &j->st.more[k];
	st[n++] = &j->st.head;
	for (int s = 0; s < n; s++) {
		const sp_component *c = st[s] == &j->st.model && j->st.first ? j->st.first : st[s]->comp;
		if (!st[s]->comp)
			continue;
		rc = sp_observe_stage(&j->obs, j->ctx, idx++, st[s]->section,
				      st[s]->plugin->name, c->name,
				      st[s]->plugin->version, st[s]->plugin->abi);
		if (rc < 0)
			return rc;
	}
	return SP_OK;
}

/* The configuration: the checkpoint's (and its vocabularies) with --set
 * on top when resuming, else the pipe's. */
static int run_configure(sp_job *j, const char *pipe_path, sp_modelfile **ck)
{
	const sp_runner_opts *opts = j->opts;
	int rc;
	if (!opts->resume_path)
		return sp_job_configure(j, pipe_path, NULL, opts->overrides, opts->n_overrides);
	if ((rc = sp_modelfile_open(ck, j->ctx, opts->resume_path)) < 0 ||
	    (rc = sp_job_configure_from_model(j, *ck, opts->resume_path, opts->overrides,
					      opts->n_overrides)) < 0 ||
	    (rc = sp_modelfile_vocab(&j->data.vocab, *ck, j->ctx, "input")) < 0 ||
	    (rc = sp_modelfile_vocab(&j->data.labels, *ck, j->ctx, "labels")) < 0 ||
	    (rc = sp_splits_seq_load_bpe(j, *ck, opts->resume_path)) < 0)
		return rc;
	return SP_OK;
}

/* The run, started in the run log with its configuration. */
static int run_start(sp_job *j, int resuming, int64_t *out_run_id)
{
	const char *db = j->opts->db_path ? j->opts->db_path : sp_kv_str(j->cfg.kv_pipeline, "db");
	size_t len;
	const char *text = sp_pipe_text(j->cfg.pipe, &len);
	int rc = sp_observer_runlog_start(&j->obs, &j->run_id, j->ctx, db, j->cfg.name,
					  sp_pipe_name(j->cfg.pipe), text, j->cfg.seed);
	*out_run_id = j->run_id;
	if (rc < 0 || (rc = observe_config(j)) < 0)
		return rc;
	if (resuming &&
	    (rc = sp_observe_param(&j->obs, j->ctx, "resume", "from", j->opts->resume_path)) < 0)
		return rc;
	sp_say(j->out, "run %lld: pipeline %s (%s), seed %llu, log %s\n", (long long)j->run_id,
	       j->cfg.name, sp_pipe_name(j->cfg.pipe), (unsigned long long)j->cfg.seed, db);
	return SP_OK;
}

/* Data, model and weights (initial, pretrained or the checkpoint's). */
static int run_prepare(sp_job *j, char *model_path, size_t n, sp_modelfile *ck,
		       sp_train_state *st)
{
	int rc;
	if ((rc = sp_checkpoint_paths(j, model_path, n)) < 0 ||
	    (rc = sp_splits_read_and_encode(j)) < 0 || (rc = sp_params_build(j)) < 0)
		return rc;
	if (ck) {
		if ((rc = sp_params_load(j, ck)) < 0 ||
		    (rc = sp_checkpoint_resume_state(j, ck, j->opts->resume_path, st)) < 0)
			return rc;
		sp_say(j->out, "resuming from %s after epoch %zu\n", j->opts->resume_path,
		       st->next_epoch);
	} else if ((rc = sp_params_load_vectors(j)) < 0) {
		return rc;
	}
	sp_report_run_data(j);
	sp_observe_metric(&j->obs, j->ctx, -1, NULL, "parameters", (double)j->par.n_params);
	return SP_OK;
}

/* How a run that returned rc ended. */
static sp_run_status end_status(const sp_job *j, int rc)
{
	if (rc >= 0)
		return SP_RUN_FINISHED;
	return rc == SP_EINTR ? SP_RUN_INTERRUPTED : j->diverged ? SP_RUN_DIVERGED : SP_RUN_FAILED;
}

/* However the run ended: why (when it failed), and the checkpoint and a
 * best model a failed run had saved, so that it resumes from them. */
static void run_end(sp_job *j, int rc)
{
	sp_ctx *ctx = j->ctx;
	if (rc < 0 && j->run_id > 0) {
		/* keep what was logged; record why it ended */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", sp_errmsg(ctx));
		sp_observe_event(&j->obs, ctx, SP_LOG_WARN, msg);
		sp_observe_end(&j->obs, ctx, end_status(j, rc), msg);
		sp_err(ctx, rc, "%s", msg);
	}
	if (j->run_id > 0 && j->files.ckpt) {
		char keep[1024];
		snprintf(keep, sizeof(keep), "%s", sp_errmsg(ctx));
		if (access(j->files.ckpt, F_OK) == 0)
			sp_observe_artifact(&j->obs, ctx, "checkpoint", j->files.ckpt);
		if (!j->files.model_logged && access(j->files.model, F_OK) == 0)
			sp_observe_artifact(&j->obs, ctx, "model", j->files.model);
		sp_err(ctx, rc, "%s", keep);
	}
}

int sp_runner_run(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		  const sp_runner_opts *opts, int64_t *out_run_id,
		  sp_run_status *out_status)
{
	sp_job j;
	char model_path[4096];
	sp_modelfile *ck = NULL;
	sp_train_state st = {0, NAN, 0, 0, 0, NULL, NULL, 0, {0, 0, 0, 0}, 0, 0, 0};
	int rc;

	sp_job_init(&j, ctx, reg, opts);
	*out_run_id = 0;
	/* under mpirun, one rank of a data-parallel run; rank 0 alone logs,
	 * prints and writes files */
	if ((rc = sp_dist_open(&j.dist, ctx)) < 0)
		goto done;
	if (!sp_dist_writer(j.dist))
		j.out = NULL;
	if ((rc = run_configure(&j, pipe_path, &ck)) >= 0 &&
	    (!sp_dist_writer(j.dist) || (rc = run_start(&j, ck != NULL, out_run_id)) >= 0))
		rc = run_prepare(&j, model_path, sizeof(model_path), ck, &st);
	/* what the program learns from the data by counting, before the
	 * first checkpoint saves it */
	if (rc >= 0 && opts->job_hook)
		rc = opts->job_hook(&j, "train", NULL, NULL);
	if ((rc = sp_dist_agree(j.dist, ctx, rc)) < 0 || (rc = sp_train(&j, &st)) < 0)
		goto done;
	/* final evaluation of the kept model */
	if ((rc = sp_evaluate_splits(&j, 0, "final ")) < 0 ||
	    (rc = sp_observe_artifact(&j.obs, ctx, "model", model_path)) < 0)
		goto done;
	j.files.model_logged = 1;
	sp_say(j.out, "model saved to %s\n", model_path);
	rc = sp_observe_end(&j.obs, ctx, SP_RUN_FINISHED, NULL);
	if (rc >= 0)
		sp_say(j.out, "run %lld finished\n", (long long)j.run_id);
done:
	run_end(&j, rc);
	if (out_status)
		*out_status = end_status(&j, rc);
	/* a failure the other ranks cannot learn of (they would wait) */
	if (rc < 0 && !sp_dist_agreed(j.dist))
		sp_dist_abort(j.dist, ctx, rc);
	sp_dist_close(j.dist);
	sp_modelfile_free(ck);
	sp_job_fini(&j);
	return rc;
}

/* ------------------------------------------------------------------ */
/* pipeline check, eval, predict, trace                                */
/* ------------------------------------------------------------------ */

int sp_runner_check(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		    const sp_runner_opts *opts)
{
	sp_job j;
	int rc;
	sp_job_init(&j, ctx, reg, opts);
	rc = sp_job_configure(&j, pipe_path, NULL, opts->overrides, opts->n_overrides);
	if (rc >= 0)
		rc = sp_job_create_text_stages(&j);
	if (rc >= 0)
		rc = sp_params_check(&j);
	sp_job_fini(&j);
	return rc;
}

int sp_runner_eval(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		   const sp_runner_opts *opts)
{
	sp_job j;
	char path[4096];
	sp_modelfile *mf = NULL;
	int rc;

	sp_job_init(&j, ctx, reg, opts);
	/* the model's configuration, with --set on top (e.g. another
	 * data.test), its vocabularies and its weights */
	if ((rc = sp_checkpoint_overrides_ok(ctx, opts->overrides, opts->n_overrides)) < 0 ||
	    (rc = sp_checkpoint_find_model(&j, pipe_path, path, sizeof(path))) < 0 ||
	    (rc = sp_modelfile_open(&mf, ctx, path)) < 0 ||
	    (rc = sp_job_configure_from_model(&j, mf, path, opts->overrides, opts->n_overrides)) < 0 ||
	    (rc = sp_modelfile_vocab(&j.data.vocab, mf, ctx, "input")) < 0 ||
	    (rc = sp_modelfile_vocab(&j.data.labels, mf, ctx, "labels")) < 0 ||
	    (rc = sp_splits_seq_load_bpe(&j, mf, path)) < 0 ||
	    (rc = sp_splits_read_and_encode(&j)) < 0 || (rc = sp_params_build(&j)) < 0 ||
	    (rc = sp_params_load(&j, mf)) < 0 || (rc = sp_extras_read(&j.extras, ctx, mf)) < 0)
		goto done;
	/* --report conlleval: the report alone, to be compared byte for byte */
	if (opts->report) {
		rc = sp_predict_split_conlleval(&j, "test");
		goto done;
	}
	sp_say(j.out, "model %s\n", path);
	rc = sp_evaluate_splits(&j, 1, "");
	if (rc >= 0 && opts->job_hook)
		rc = opts->job_hook(&j, "eval", NULL, NULL);
	if (rc >= 0 && j.st.task.labels == SP_LABELS_SEQUENCE) { /* BLEU, chrF */
		sp_translate_opts to = {opts->beam, opts->max_ratio, NULL};
		rc = sp_translate_score_splits(&j, &to);
	}
done:
	sp_modelfile_free(mf);
	sp_job_fini(&j);
	return rc;
}

/* predict --file with several --model: the ensemble's members loaded
 * beside j (whose model is the first), then the file through all. */
static int predict_ensemble_(sp_job *j, sp_registry *reg, const sp_runner_opts *opts)
{
	size_t n = opts->n_ensemble, loaded = 0;
	sp_job *m = calloc(n, sizeof(*m));
	int rc = m ? SP_OK : sp_err(j->ctx, SP_ENOMEM, "out of memory");
	if (rc >= 0 && opts->out_format)
		rc = sp_err(j->ctx, SP_EINVAL, "--format decodes one model; several --model average "
			    "taggers' CoNLL tags");
	for (; rc >= 0 && loaded < n; loaded++) {
		sp_job_init(&m[loaded], j->ctx, reg, opts);
		rc = sp_checkpoint_load_job(&m[loaded], opts->ensemble[loaded],
					    opts->overrides, opts->n_overrides);
	}
	if (rc >= 0)
		rc = sp_predict_file_ensemble(j, m, n, opts->input_file, opts->report != NULL);
	for (size_t k = 0; k < loaded; k++)
		sp_job_fini(&m[k]);
	free(m);
	return rc;
}

int sp_runner_predict(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		      const sp_runner_opts *opts)
{
	sp_job j;
	char path[4096];
	int32_t *ids = NULL;
	size_t n = 0;
	sp_toklist t = {0};
	sp_batch b;
	int lm, rc;

	sp_job_init(&j, ctx, reg, opts);
	if ((rc = sp_checkpoint_find_model(&j, pipe_path, path, sizeof(path))) < 0 ||
	    (rc = sp_checkpoint_load_job(&j, path, opts->overrides, opts->n_overrides)) < 0)
		goto done;
	if (opts->n_ensemble && j.st.task.labels != SP_LABELS_TOKEN) {
		rc = sp_err(ctx, SP_EINVAL, "several --model average taggers; %s is not one (head '%s')",
			    path, j.st.head.comp->name);
		goto done;
	}
	if (j.st.task.labels == SP_LABELS_SEQUENCE) { /* a translation model */
		sp_translate_opts to = {opts->beam, opts->max_ratio, opts->attention};
		sp_job_fini(&j);
		return sp_runner_translate(ctx, reg, pipe_path, opts, &to);
	}
	if (opts->input_file && opts->n_ensemble) {
		rc = predict_ensemble_(&j, reg, opts);
		goto done;
	}
	if (opts->input_file && opts->out_format) {
		rc = opts->job_hook ? opts->job_hook(&j, "predict", opts->input_file, opts->out_format)
				    : sp_err(ctx, SP_EINVAL, "--format %s: no output of that kind", opts->out_format);
		goto done;
	}
	if (opts->input_file) {
		rc = sp_predict_file(&j, opts->input_file, opts->report != NULL);
		goto done;
	}
	if ((rc = sp_splits_encode_input(&j, opts->input, &ids, &n, &t)) < 0)
		goto done;
	lm = sp_task_next_token(&j.st.task);
	/* carried state lets generation feed one token at a time */
	if ((rc = sp_model_of(&j.st)->carry(j.st.model.self, ctx, lm && opts->generate, 1)) < 0 ||
	    (rc = sp_evaluate_input(&j, ids, n, &t, &b)) < 0)
		goto done;
	sp_say(j.out, "model %s\n", path);
	if ((rc = sp_report_predict(&j, n, &t)) < 0)
		goto done;
	if (lm && opts->generate)
		rc = sp_evaluate_generate(&j, &b, n);
done:
	free(ids);
	sp_toklist_fini(&t);
	sp_job_fini(&j);
	return rc;
}

int sp_runner_trace(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		    const sp_runner_opts *opts)
{
	sp_job j;
	char path[4096] = "";
	int32_t *ids = NULL;
	size_t n = 0;
	sp_toklist t = {0};
	sp_batch b;
	int rc;

	sp_job_init(&j, ctx, reg, opts);
	if (opts->trained || opts->model_path) {
		if ((rc = sp_checkpoint_find_model(&j, pipe_path, path, sizeof(path))) < 0 ||
		    (rc = sp_checkpoint_load_job(&j, path, opts->overrides, opts->n_overrides)) < 0)
			goto done;
	} else if ((rc = sp_job_configure(&j, pipe_path, NULL, opts->overrides, opts->n_overrides)) < 0 ||
		   (rc = sp_splits_vocab_unsaved(&j, &t)) < 0 || (rc = sp_params_build(&j)) < 0) {
		/* initial weights: the vocabulary from the training split,
		 * the weights from the seed, exactly as `run` starts */
		goto done;
	}
	if ((rc = sp_splits_encode_input(&j, opts->input, &ids, &n, &t)) < 0 ||
	    (rc = sp_evaluate_input(&j, ids, n, &t, &b)) < 0)
		goto done;
	rc = sp_report_trace(&j, opts->out ? opts->out : stdout, path, ids, n);
done:
	free(ids);
	sp_toklist_fini(&t);
	sp_job_fini(&j);
	return rc;
}
