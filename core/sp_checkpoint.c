/*
 * sp_checkpoint.c: the model file of a job and the checkpoint of every
 * epoch; resuming; finding and loading a trained model.
 */
#include "config.h"

#include "sp_checkpoint.h"

#include "sp_splits_seq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_job.h"
#include "sp_paths.h"
#include "sp_pipe.h"
#include "sp_runlog.h"

/* The --set overrides, one per line, re-applied on load.  An error the
 * writer keeps is returned with *fatal = 0 (the commit reports it);
 * other errors with *fatal = 1. */
static int write_overrides(sp_modelfile_writer *w, sp_job *j, int *fatal)
{
	size_t n = 1;
	char *all, *p;
	int rc;
	for (size_t i = 0; i < j->cfg.n_ov; i++)
		n += strlen(j->cfg.ov[i]) + 1;
	all = malloc(n);
	if (!all) {
		*fatal = 1;
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	p = all;
	*p = '\0';
	for (size_t i = 0; i < j->cfg.n_ov; i++)
		p += sprintf(p, "%s\n", j->cfg.ov[i]);
	rc = sp_modelfile_writer_meta(w, "overrides", all);
	free(all);
	return rc;
}

/* The configuration and where the model comes from. */
static int write_meta(sp_modelfile_writer *w, sp_job *j, int64_t epoch, int *fatal)
{
	char buf[64];
	size_t len;
	const char *text = sp_pipe_text(j->cfg.pipe, &len);
	int rc;
	/* The writer's adders keep their error (and its message) in the
	 * writer; the commit hands it to the context. */
#define META(k, v)                                                         \
	do {                                                               \
		if ((rc = sp_modelfile_writer_meta(w, (k), (v))) < 0)     \
			return rc;                                         \
	} while (0)
	META("pipeline", j->cfg.name);
	META("pipe_path", sp_pipe_name(j->cfg.pipe));
	META("pipe_text", text);
	if ((rc = write_overrides(w, j, fatal)) < 0)
		return rc;
	META("seqpipe_version", PACKAGE_VERSION);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)j->cfg.seed);
	META("seed", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)epoch);
	META("epoch", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)j->run_id);
	META("run_id", buf);
	if (j->data.bpe) { /* translation: the byte-pair merges */
		char *bpe = sp_splits_seq_bpe_text(j);
		if (!bpe)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		rc = sp_modelfile_writer_meta(w, "bpe", bpe);
		free(bpe);
		if (rc < 0)
			return rc;
	}
	META("model.plugin", j->st.model.plugin->name);
	META("model.component", j->st.first ? j->st.first->name : j->st.model.comp->name);
	META("model.version", j->st.model.plugin->version);
	for (size_t k = 0; k < j->st.n_more; k++) {
		sp_stage *s = &j->st.more[k];
		char key[64];
		snprintf(key, sizeof(key), "%s.plugin", s->section);
		META(key, s->plugin->name);
		snprintf(key, sizeof(key), "%s.component", s->section);
		META(key, s->comp->name);
		snprintf(key, sizeof(key), "%s.version", s->section);
		META(key, s->plugin->version);
	}
	META("head.plugin", j->st.head.plugin->name);
	META("head.component", j->st.head.comp->name);
	META("head.version", j->st.head.plugin->version);
#undef META
	return SP_OK;
}

/* A checkpoint's training state: optimizer, RNG, best epoch so far. */
static int write_state(sp_modelfile_writer *w, sp_job *j, const sp_train_state *st,
		       int *fatal)
{
	uint64_t rng[4];
	char best_abs[4096];
	size_t n = sp_optim_state_size(st->opt);
	void *blob = malloc(n ? n : 1);
	int rc;
	*fatal = 1;
	if (!blob)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	rc = sp_optim_state_save(st->opt, j->ctx, blob, n);
	if (rc < 0) {
		free(blob);
		return rc;
	}
	*fatal = 0;
	rc = sp_modelfile_writer_blob(w, "optim", blob, n);
	free(blob);
	if (rc < 0)
		return rc;
	sp_path_absolute(best_abs, sizeof(best_abs), j->files.model);
	sp_rng_get_state(j->ctx, rng);
	if ((rc = sp_modelfile_writer_blob(w, "rng", rng, sizeof(rng))) < 0 ||
	    (rc = sp_modelfile_writer_metaf(w, "best", "%.17g", st->best)) < 0 ||
	    (rc = sp_modelfile_writer_metaf(w, "best_epoch", "%zu", st->best_epoch)) < 0 ||
	    (rc = sp_modelfile_writer_metaf(w, "bad_epochs", "%zu", st->bad_epochs)) < 0 ||
	    (rc = sp_modelfile_writer_metaf(w, "saved_best", "%d", st->saved)) < 0 ||
	    (rc = sp_modelfile_writer_meta(w, "best_model", best_abs)) < 0)
		return rc;
	/* only when there were any, so other checkpoints stay as they were */
	if (st->rollbacks &&
	    ((rc = sp_modelfile_writer_metaf(w, "rollbacks", "%zu", st->rollbacks)) < 0 ||
	     (rc = sp_modelfile_writer_metaf(w, "lr_scale", "%.17g", sp_optim_lr_scale(st->opt))) < 0))
		return rc;
	return SP_OK;
}

/* Vocabularies, then every weight as "<section>.<name>". */
static int write_weights(sp_modelfile_writer *w, sp_job *j)
{
	sp_stage *stages[2] = {&j->st.model, &j->st.head};
	sp_vocab *known = NULL; /* without the labels only dev/test has */
	int rc;
	if ((rc = sp_splits_known_labels(&j->data, j->ctx, &known)) < 0)
		return rc;
	if ((rc = sp_modelfile_writer_vocab(w, "input", j->data.vocab)) < 0 ||
	    (rc = sp_modelfile_writer_vocab(w, "labels", known ? known : j->data.labels)) < 0) {
		sp_vocab_free(known);
		return rc;
	}
	sp_vocab_free(known);
	for (int s = 0; s < 2; s++) {
		size_t off = stages[s]->offset;
		for (size_t k = 0; k < stages[s]->n_w; k++) {
			char name[256];
			const sp_weight *wt = &stages[s]->w[k];
			sp_params_tensor_name(name, sizeof(name), stages[s], wt);
			rc = sp_modelfile_writer_tensor(w, name, wt->ndim, wt->dim, j->par.value + off);
			if (rc < 0)
				return rc;
			off += sp_weight_floats(wt);
		}
	}
	return sp_extras_write(&j->extras, w);
}

int sp_checkpoint_save(sp_job *j, const char *path, int64_t epoch,
		       const sp_train_state *st)
{
	sp_modelfile_writer *w = NULL;
	int fatal = 0;
	int rc;
	if (!sp_dist_writer(j->dist)) /* data-parallel: rank 0 alone writes */
		return SP_OK;
	if ((rc = sp_modelfile_writer_new(&w, j->ctx, path)) < 0)
		return rc;
	if ((rc = write_meta(w, j, epoch, &fatal)) >= 0 &&
	    (!st || (rc = write_state(w, j, st, &fatal)) >= 0))
		rc = write_weights(w, j);
	/* with an error kept in the writer, the commit writes nothing and
	 * returns that error with its message */
	if (!fatal)
		rc = sp_modelfile_writer_commit(w, j->ctx);
	sp_modelfile_writer_free(w);
	return rc;
}

int sp_checkpoint_resume_state(sp_job *j, sp_modelfile *ck, const char *path, sp_train_state *st)
{
	const char *epoch = sp_modelfile_meta(ck, "epoch");
	const char *best = sp_modelfile_meta(ck, "best");
	const char *best_epoch = sp_modelfile_meta(ck, "best_epoch");
	const char *bad = sp_modelfile_meta(ck, "bad_epochs");
	const char *saved = sp_modelfile_meta(ck, "saved_best");
	const void *rng;
	size_t n;
	int rc;
	if (sp_modelfile_blob(&st->opt_blob, &st->opt_size, ck, j->ctx, "optim") < 0 ||
	    !epoch || !best || !best_epoch || !bad || !saved)
		return sp_err(j->ctx, SP_EINPUT, "%s: not a checkpoint (no optimizer state), expected the <model>.last.spm file a run writes every epoch",
			      path);
	if ((rc = sp_modelfile_blob(&rng, &n, ck, j->ctx, "rng")) < 0)
		return rc;
	if (n != sizeof(st->rng))
		return sp_err(j->ctx, SP_EINPUT, "%s: RNG state of %zu bytes, expected %zu", path, n, sizeof(st->rng));
	memcpy(st->rng, rng, sizeof(st->rng));
	st->have_rng = 1;
	st->next_epoch = (size_t)strtoull(epoch, NULL, 10) + 1;
	st->best = strtod(best, NULL);
	st->best_epoch = (size_t)strtoull(best_epoch, NULL, 10);
	st->bad_epochs = (size_t)strtoull(bad, NULL, 10);
	st->saved = atoi(saved);
	{
		/* the rate divergence rollbacks lowered goes on lowered */
		const char *rb = sp_modelfile_meta(ck, "rollbacks");
		const char *scale = sp_modelfile_meta(ck, "lr_scale");
		st->rollbacks = rb ? (size_t)strtoull(rb, NULL, 10) : 0;
		st->lr_scale = scale ? strtod(scale, NULL) : 1.0;
		if (!(st->lr_scale > 0 && st->lr_scale <= 1))
			return sp_err(j->ctx, SP_EINPUT, "%s: checkpoint has lr_scale '%s', expected a number in (0, 1]",
				      path, scale);
	}
	if (st->saved) {
		const char *best_model = sp_modelfile_meta(ck, "best_model");
		if (!best_model)
			return sp_err(j->ctx, SP_EINPUT, "%s: checkpoint names no best model file", path);
		if ((rc = sp_path_copy(j->ctx, best_model, j->files.model)) < 0)
			return sp_err_prefix(j->ctx, rc, "resuming from %s", path);
	}
	return SP_OK;
}

int sp_checkpoint_find_model(sp_job *j, const char *pipe_path, char *out, size_t n)
{
	sp_runlog *log = NULL;
	int64_t run_id;
	char logged[SP_MODELFILE_CHECKSUM_LEN + 1] = "";
	const char *db;
	int rc;
	if (j->opts->model_path) {
		/* the model's own configuration is used; say so when the
		 * .pipe names another pipeline */
		sp_pipe *p = NULL;
		snprintf(out, n, "%s", j->opts->model_path);
		if (sp_pipe_parse_file(&p, j->ctx, pipe_path) == SP_OK) {
			sp_kv *kv = sp_pipe_section(p, "pipeline");
			const char *nm = kv ? sp_kv_str(kv, "name") : NULL;
			sp_modelfile *mf = NULL;
			if (nm && sp_modelfile_open(&mf, j->ctx, out) == SP_OK) {
				const char *mine = sp_modelfile_meta(mf, "pipeline");
				if (mine && strcmp(mine, nm) != 0)
					sp_log(j->ctx, SP_LOG_WARN, "%s is a model of pipeline '%s', not '%s' (%s); using its own configuration",
					       out, mine, nm, pipe_path);
			}
			sp_modelfile_free(mf);
		}
		sp_pipe_free(p);
		sp_err_clear(j->ctx);
		return SP_OK;
	}
	/* the pipe names the pipeline and the run log */
	rc = sp_job_configure(j, pipe_path, NULL, j->opts->overrides, j->opts->n_overrides);
	if (rc < 0)
		return rc;
	db = j->opts->db_path ? j->opts->db_path : sp_kv_str(j->cfg.kv_pipeline, "db");
	if (access(db, F_OK) != 0) /* reading must not create an empty log */
		return sp_err(j->ctx, SP_ENOTFOUND, "%s: no run log, expected one with a finished run of '%s': run `pipeline run %s` first (or give --model FILE)",
			      db, j->cfg.name, pipe_path);
	if ((rc = sp_runlog_open(&log, j->ctx, db)) < 0)
		return rc;
	rc = sp_runlog_find_latest(&run_id, log, j->ctx, j->cfg.name, SP_RUN_FINISHED);
	if (rc == SP_ENOTFOUND)
		rc = sp_err(j->ctx, rc, "%s: no finished run of pipeline '%s', expected one: run `pipeline run %s` first (or give --model FILE)",
			    db, j->cfg.name, pipe_path);
	if (rc >= 0)
		rc = sp_runlog_artifact_find(out, n, logged, sizeof(logged), log, j->ctx, run_id,
					     "model");
	sp_runlog_close(log);
	/* the file must still be the one the run wrote: a later run with the
	 * same train.save overwrites it */
	if (rc >= 0 && logged[0]) {
		char now[SP_MODELFILE_CHECKSUM_LEN + 1];
		int64_t bytes;
		rc = sp_modelfile_checksum(now, &bytes, j->ctx, out);
		if (rc >= 0 && strcmp(now, logged) != 0)
			rc = sp_err(j->ctx, SP_EINPUT, "%s: changed since run %lld of '%s' saved it (checksum %s, logged %s), expected that run's model: a later run may have overwritten it; give --model FILE to use it anyway",
				    out, (long long)run_id, j->cfg.name, now, logged);
	}
	/* start again from the model's own configuration */
	sp_job_fini(j);
	sp_job_init(j, j->ctx, j->reg, j->opts);
	return rc;
}

int sp_checkpoint_overrides_ok(sp_ctx *ctx, const char *const *overrides,
			       size_t n_overrides)
{
	for (size_t i = 0; i < n_overrides; i++) {
		const char *sec = NULL;
		char *key = NULL;
		int own, rc = sp_pipe_override_target(ctx, overrides[i], &sec, &key);
		if (rc < 0)
			return rc;
		own = !strcmp(key, "plugin") || !strcmp(sec, "tokenize") ||
		      !strcmp(sec, "encode") ||
		      (!strncmp(sec, "model", 5) && strcmp(key, "threads"));
		free(key);
		if (own)
			return sp_err(ctx, SP_EINVAL, "--set %s: the trained model's own "
				      "(it would change what the model computes); expected a "
				      "key of [data], [head] (not plugin), [train], [pipeline] "
				      "or model.threads, or train a model with it", overrides[i]);
	}
	return SP_OK;
}

int sp_checkpoint_load_job(sp_job *j, const char *path,
			   const char *const *overrides, size_t n_overrides)
{
	sp_modelfile *mf = NULL;
	int rc;
	if ((rc = sp_checkpoint_overrides_ok(j->ctx, overrides, n_overrides)) < 0 ||
	    (rc = sp_modelfile_open(&mf, j->ctx, path)) < 0)
		return rc;
	if ((rc = sp_job_configure_from_model(j, mf, path, overrides, n_overrides)) < 0 ||
	    (rc = sp_job_create_text_stages(j)) < 0 ||
	    (rc = sp_modelfile_vocab(&j->data.vocab, mf, j->ctx, "input")) < 0 ||
	    (rc = sp_modelfile_vocab(&j->data.labels, mf, j->ctx, "labels")) < 0 ||
	    (rc = sp_splits_seq_load_bpe(j, mf, path)) < 0 ||
	    (rc = ((const sp_encoder_ops *)j->st.enc.comp)->attach(j->st.enc.self, j->ctx, j->data.vocab)) < 0 ||
	    (rc = sp_params_build(j)) < 0 || (rc = sp_params_load(j, mf)) < 0 ||
	    (rc = sp_extras_read(&j->extras, j->ctx, mf)) < 0)
		goto done;
done:
	sp_modelfile_free(mf);
	return rc;
}

/* A file at path that is not a seqpipe model (its first bytes are not
 * the magic) is the user's: refused unless --force. */
static int check_overwrite(sp_job *j, const char *path)
{
	static const char magic[8] = {'S', 'P', 'M', 'O', 'D', 'E', 'L', 0};
	char head[8];
	size_t got;
	FILE *f = fopen(path, "rb");
	if (!f)
		return SP_OK;
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	if ((got == sizeof(head) && !memcmp(head, magic, sizeof(head))) || j->opts->force)
		return SP_OK;
	return sp_err(j->ctx, SP_EINVAL, "%s: exists and is not a seqpipe model, expected a new file or a model to replace (--force overwrites it)",
		      path);
}

/* A "<file>.tmp" is the writer's: one left over is from a run that died
 * while writing (kill -9); the same paths are this run's now. */
static void remove_stale_tmp(const char *path)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) < sizeof(tmp))
		unlink(tmp);
}

int sp_checkpoint_paths(sp_job *j, char *out, size_t n)
{
	const char *save = sp_kv_str(j->cfg.kv_train, "save");
	size_t len;
	int rc;
	if (save && *save)
		snprintf(out, n, "%s", save);
	else
		snprintf(out, n, "models/%s-run%lld.spm", j->cfg.name, (long long)j->run_id);
	if ((rc = check_overwrite(j, out)) < 0 ||
	    (rc = sp_path_make_parents(j->ctx, out)) < 0)
		return rc;
	j->files.model = out;
	/* "models/x.spm" -> "models/x.last.spm" */
	len = strlen(out);
	j->files.ckpt = malloc(len + 16);
	if (!j->files.ckpt)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	if (len > 4 && !strcmp(out + len - 4, ".spm"))
		snprintf(j->files.ckpt, len + 16, "%.*s.last.spm", (int)(len - 4), out);
	else
		snprintf(j->files.ckpt, len + 16, "%s.last.spm", out);
	if ((rc = check_overwrite(j, j->files.ckpt)) < 0)
		return rc;
	remove_stale_tmp(out);
	remove_stale_tmp(j->files.ckpt);
	return SP_OK;
}
