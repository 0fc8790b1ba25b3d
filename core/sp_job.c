/*
 * sp_job.c: a job's life (init, fini) and its configuration: the host's
 * own sections and keys, the .pipe parsed with the overrides on top, its
 * sections resolved to plugin components and validated, and the ranges of
 * the host's keys, all before anything is read or logged, so that
 * `pipeline check` catches them.
 */
#include "config.h"

#include "sp_job.h"

#include <stdlib.h>
#include <string.h>

#include "sp_blas.h"
#include "sp_readers.h"
#include "sp_synth.h"
#include "sp_vocab.h"

/* ------------------------------------------------------------------ */
/* The host's own sections and keys                                    */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */

#define END_SPEC {NULL, 0, NULL, NULL, NULL}

static const sp_param_spec pipeline_spec[] = {
	{"name", SP_T_STRING, "", "pipeline name in the run log (default: the file name without .pipe)", NULL},
	{"seed", SP_T_INT, "42", "seed of every random choice: initial weights, shuffling, dropout, sampling", NULL},
	{"db", SP_T_STRING, "runs.db", "run log (SQLite), relative to the working directory", NULL},
	{"description", SP_T_STRING, "", "free text", NULL},
	END_SPEC};

/* The host's [data] keys; each format's reader adds its own
 * (sp_readers.h). */
static const sp_param_spec data_spec[] = {
	{"format", SP_T_STRING, NULL, "the reader of the data: lines (one text per line), conll (token<TAB>label, blank line between sentences), tsv (text<TAB>label), parallel (a text and its translation), synthetic (a generated task), or a reader plugin's (doc/pipe-format.md)", NULL},
	{"train", SP_T_PATH, "", "training split (required unless the format generates its data)", NULL},
	{"dev", SP_T_PATH, "", "development split, evaluated after every epoch", NULL},
	{"test", SP_T_PATH, "", "test split, evaluated once at the end", NULL},
	{"max_examples", SP_T_INT, "0", "read at most this many examples per split (0 = all)", NULL},
	{"max_len", SP_T_INT, "0", "lines: cut token sequences into pieces of at most this many steps (0 = no limit)", NULL},
	END_SPEC};

static const sp_param_spec tokenize_host_spec[] = {
	{"plugin", SP_T_STRING, NULL, "tokenizer component (pipeline plugins lists them)", NULL},
	END_SPEC};
static const sp_param_spec encode_host_spec[] = {
	{"plugin", SP_T_STRING, "onehot", "encoder component", NULL},
	{"vocab", SP_T_STRING, "", "name of the vocabulary in the store (default: the pipeline name)", NULL},
	{"store", SP_T_STRING, "vocab.db", "vocabulary store (SQLite), relative to the working directory", NULL},
	{"reuse", SP_T_BOOL, "false", "use the stored vocabulary of this name instead of building one", NULL},
	{"vectors", SP_T_PATH, "", "pretrained word vectors (GloVe or word2vec text format) for the model's embedding table", NULL},
	{"freeze", SP_T_BOOL, "false", "keep the pretrained vectors fixed during training", NULL},
	{"shared", SP_T_BOOL, "false", "parallel: one vocabulary for source and target (else a target vocabulary of its own, stored as VOCAB.target)", NULL},
	{"bpe", SP_T_INT, "0", "parallel: learn this many byte-pair merges from the training split (both sides) and read subword pieces of the raw text instead of a tokenizer's tokens; saved with the model (0 = off)", NULL},
	{"bpe_min_count", SP_T_INT, "2", "bpe: stop merging when the best pair is seen fewer times", NULL},
	END_SPEC};
static const sp_param_spec model_host_spec[] = {
	{"plugin", SP_T_STRING, NULL, "model component: rnn, lstm, gru", NULL},
	END_SPEC};
static const sp_param_spec head_host_spec[] = {
	{"plugin", SP_T_STRING, NULL, "head component: lm, tagger, classify", NULL},
	END_SPEC};

static const sp_param_spec train_spec[] = {
	{"epochs", SP_T_INT, "10", "passes over the training split", NULL},
	{"batch", SP_T_INT, "32", "sequences per minibatch", NULL},
	{"optimizer", SP_T_STRING, "adam", "update rule", "sgd|adam|adamw"},
	{"lr", SP_T_FLOAT, "0.001", "learning rate", NULL},
	{"momentum", SP_T_FLOAT, "0", "sgd momentum", NULL},
	{"nesterov", SP_T_BOOL, "false", "sgd: Nesterov momentum", NULL},
	{"weight_decay", SP_T_FLOAT, "0", "L2 (sgd, adam) or decoupled (adamw) weight decay", NULL},
	{"clip_norm", SP_T_FLOAT, "5", "clip the global gradient norm to this (0 = off): the cure for exploding gradients", NULL},
	{"clip_value", SP_T_FLOAT, "0", "clip each gradient element to +-this (0 = off)", NULL},
	{"schedule", SP_T_STRING, "none", "learning-rate schedule", "none|step|cosine|plateau"},
	{"step_size", SP_T_INT, "10", "step: epochs between decays", NULL},
	{"gamma", SP_T_FLOAT, "0.5", "step: decay factor", NULL},
	{"min_lr", SP_T_FLOAT, "0", "cosine: final lr; floor of step and plateau", NULL},
	{"warmup", SP_T_INT, "0", "linear warmup over this many steps", NULL},
	{"patience", SP_T_INT, "2", "plateau: epochs without dev improvement before the lr drops", NULL},
	{"factor", SP_T_FLOAT, "0.5", "plateau: lr decay factor", NULL},
	{"early_stop", SP_T_INT, "0", "stop after this many epochs without dev improvement (0 = never); the best epoch's model is kept", NULL},
	{"metric", SP_T_STRING, "", "dev metric that picks the best epoch, one the head declares (default: the head's own choice: f1 for taggers, accuracy for classifiers, loss for language models)", NULL},
	{"threads", SP_T_INT, "1", "OpenBLAS threads (the heads' products); keep 1 when model.threads > 1, as OpenBLAS's idle threads spin and slow the engine's", NULL},
	{"bucket", SP_T_BOOL, "true", "batch sequences of similar length together (less padding)", NULL},
	{"shuffle", SP_T_BOOL, "true", "shuffle the batches every epoch", NULL},
	{"save", SP_T_STRING, "", "model file (default: models/<pipeline>-run<id>.spm)", NULL},
	{"bptt", SP_T_INT, "0", "language models: train on the training texts as one stream, batch rows in parallel, in windows of this many steps with the state carried between windows (truncated BPTT; 0 = each text on its own); every split is then evaluated as such a stream too", NULL},
	{"bptt_stride", SP_T_INT, "0", "truncated BPTT(k1, k2) with k2 = bptt: a window every this many steps (k1, 1..bptt), each bptt steps long and starting from the state k1 steps into the one before; the loss counts each position once, so only a window's last k1 steps have targets, the others are context the gradient flows through (0 = bptt: windows side by side)", NULL},
	{"instruments", SP_T_BOOL, "false", "log per-time-step gradient norms ‖∂L/∂h(t)‖ and gate statistics of a fixed sample batch every epoch (how gradients vanish, what gates do)", NULL},
	{"diverge_loss", SP_T_FLOAT, "0", "stop the run as diverged when a step's mean training loss passes this (0 = only past 1e4 times the first step's)", NULL},
	{"on_diverge", SP_T_STRING, "stop", "when the training loss is not finite or passes the bound (diverge_loss): stop the run as diverged, or roll back to the start of the epoch (the last epoch's checkpoint) with the lr times rollback_lr_factor and train that epoch again", "stop|rollback"},
	{"rollback_lr_factor", SP_T_FLOAT, "0.1", "on_diverge = rollback: the lr is multiplied by this at each rollback", NULL},
	{"max_rollbacks", SP_T_INT, "3", "on_diverge = rollback: rollbacks allowed in a run, after which the run stops as diverged", NULL},
	{"parts", SP_T_INT, "0", "compute each batch in this many fixed parts, each part's gradient on its own, added in one fixed tree: an mpirun -np N run gives each rank an equal block of them and updates with the bits of the one-process run with the same parts (bit for bit when N and parts/N are powers of two); 0 = one part per rank (one process: the whole batch); not for bptt streams", NULL},
	{"print_every", SP_T_INT, "0", "print one line every this many epochs (0 = about 20 lines in all); every epoch is logged", NULL},
	END_SPEC};

const sp_param_spec *sp_runner_host_spec(const char *section)
{
	static const struct {
		const char *name;
		const sp_param_spec *spec;
	} all[] = {{"pipeline", pipeline_spec}, {"data", data_spec},
		   {"tokenize", tokenize_host_spec}, {"encode", encode_host_spec},
		   {"model", model_host_spec}, {"model2", model_host_spec},
		   {"model3", model_host_spec}, {"model4", model_host_spec},
		   {"head", head_host_spec},
		   {"train", train_spec}};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i].name, section))
			return all[i].spec;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Job state                                                           */
/* ------------------------------------------------------------------ */

static void stage_fini(sp_stage *s)
{
	if (s->self && s->comp) {
		switch (s->comp->kind) {
		case SP_KIND_TOKENIZER:
			((const sp_tokenizer_ops *)s->comp)->destroy(s->self);
			break;
		case SP_KIND_ENCODER:
			((const sp_encoder_ops *)s->comp)->destroy(s->self);
			break;
		case SP_KIND_MODEL:
			((const sp_model_ops *)s->comp)->destroy(s->self);
			break;
		case SP_KIND_HEAD:
			((const sp_head_ops *)s->comp)->destroy(s->self);
			break;
		case SP_KIND_READER: /* readers keep no instance */
			break;
		}
	}
	s->self = NULL;
	free(s->spec);
	s->spec = NULL;
}

void sp_job_fini(sp_job *j)
{
	stage_fini(&j->st.head);
	stage_fini(&j->st.model);
	for (size_t k = 0; k < j->st.n_more; k++)
		stage_fini(&j->st.more[k]);
	stage_fini(&j->st.enc);
	stage_fini(&j->st.tok);
	sp_splits_fini(&j->data);
	sp_params_fini(&j->par);
	sp_batchbuf_fini(&j->buf);
	sp_extras_fini(&j->extras);
	free(j->files.ckpt);
	for (size_t i = 0; i < j->cfg.n_ov; i++)
		free(j->cfg.ov[i]);
	free(j->cfg.ov);
	free(j->cfg.name);
	free(j->cfg.data_spec);
	sp_observer_close(&j->obs);
	sp_pipe_free(j->cfg.pipe);
}

void sp_job_init(sp_job *j, sp_ctx *ctx, sp_registry *reg,
		 const sp_runner_opts *opts)
{
	memset(j, 0, sizeof(*j));
	j->ctx = ctx;
	j->reg = reg;
	j->opts = opts;
	j->out = opts->out;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

/* host keys followed by the component's own, {NULL}-terminated */
static int merge_spec(sp_ctx *ctx, const sp_param_spec *host,
		      const sp_param_spec *comp, sp_param_spec **out)
{
	size_t nh = 0, nc = 0;
	sp_param_spec *s;
	while (host[nh].key)
		nh++;
	while (comp && comp[nc].key)
		nc++;
	s = calloc(nh + nc + 1, sizeof(*s));
	if (!s)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	memcpy(s, host, nh * sizeof(*s));
	if (nc)
		memcpy(s + nh, comp, nc * sizeof(*s));
	*out = s;
	return SP_OK;
}

/* Resolves [section]'s plugin to a component of `kind` and validates the
 * section against host keys + the component's keys. */
static int resolve_stage(sp_job *j, sp_stage *s, const char *section, sp_kind kind,
			 const sp_param_spec *host, int required)
{
	sp_kv *kv = sp_pipe_section(j->cfg.pipe, section);
	const char *plugin;
	int rc;
	s->section = section;
	if (!kv) {
		if (!required)
			return 0;
		return sp_err(j->ctx, SP_EINVAL, "%s: missing section [%s], expected one naming a %s plugin",
			      sp_pipe_name(j->cfg.pipe), section, sp_kind_name(kind));
	}
	s->kv = kv;
	plugin = sp_kv_str(kv, "plugin");
	if (!plugin) {
		/* the host default (encode) or a missing required key */
		for (size_t i = 0; host[i].key; i++)
			if (!strcmp(host[i].key, "plugin"))
				plugin = host[i].def;
		if (!plugin)
			return sp_err(j->ctx, SP_EINVAL, "%s: [%s] has no plugin key, expected plugin = <a %s component>",
				      sp_kv_section_where(kv), section, sp_kind_name(kind));
	}
	rc = sp_registry_find(j->reg, j->ctx, kind, plugin, &s->comp, &s->plugin);
	if (rc < 0) {
		const char *where = sp_kv_where(kv, "plugin");
		return sp_err_prefix(j->ctx, rc, "%s", where ? where : sp_kv_section_where(kv));
	}
	rc = merge_spec(j->ctx, host, s->comp->params, &s->spec);
	if (rc < 0)
		return rc;
	return sp_kv_validate(kv, j->ctx, s->spec, sp_pipe_dir(j->cfg.pipe));
}

static int validate_core(sp_job *j, const char *section, const sp_param_spec *spec,
			 sp_kv **out, int required)
{
	sp_kv *kv = sp_pipe_section(j->cfg.pipe, section);
	*out = kv;
	if (!kv) {
		if (required)
			return sp_err(j->ctx, SP_EINVAL, "%s: missing section [%s], expected it with at least: %s",
				      sp_pipe_name(j->cfg.pipe), section,
				      !strcmp(section, "data") ? "format, train" : "its keys");
		return SP_OK;
	}
	return sp_kv_validate(kv, j->ctx, spec, sp_pipe_dir(j->cfg.pipe));
}

/* A section the file leaves out still has its defaults. */
static int ensure_section(sp_job *j, const char *section)
{
	sp_kv *kv;
	return sp_pipe_section_ensure(j->cfg.pipe, j->ctx, section, &kv);
}

/* An integer key must lie in [lo, hi]. */
static int int_in(sp_job *j, sp_kv *kv, const char *key, long lo, long hi)
{
	long v = sp_kv_int(kv, key);
	if (v < lo || v > hi)
		return sp_err(j->ctx, SP_EINVAL, "%s: %s.%s = %ld, expected %ld..%ld",
			      sp_kv_where(kv, key), sp_kv_section(kv), key, v, lo, hi);
	return SP_OK;
}

/* A float key must lie in [lo, hi] (NaN never does). */
static int float_in(sp_job *j, sp_kv *kv, const char *key, double lo, double hi)
{
	double v = sp_kv_float(kv, key);
	if (!(v >= lo && v <= hi))
		return sp_err(j->ctx, SP_EINVAL, "%s: %s.%s = %g, expected %g..%g",
			      sp_kv_where(kv, key), sp_kv_section(kv), key, v, lo, hi);
	return SP_OK;
}

/* What only a dev split can drive. */
static int check_need_dev(sp_job *j)
{
	static const char *const need_dev[] = {"early_stop", "metric", "schedule"};
	sp_kv *t = j->cfg.kv_train;
	if (*sp_kv_str(j->cfg.kv_data, "dev") != '\0' ||
	    (!strcmp(sp_kv_str(j->cfg.kv_data, "format"), "synthetic") &&
	     sp_synth_has_split(j->cfg.kv_data, "dev")))
		return SP_OK;
	for (size_t i = 0; i < 3; i++) {
		const char *key = need_dev[i];
		const char *where = sp_kv_where(t, key);
		int set = where && strcmp(where, "default") != 0;
		if (!set)
			continue;
		if ((!strcmp(key, "early_stop") && sp_kv_int(t, key) > 0) ||
		    (!strcmp(key, "metric") && *sp_kv_str(t, key)) ||
		    (!strcmp(key, "schedule") && !strcmp(sp_kv_str(t, key), "plateau")))
			return sp_err(j->ctx, SP_EINVAL, "%s: train.%s needs a dev split, expected [data] dev = <file>",
				      where, key);
	}
	return SP_OK;
}

/*
 * The ranges of the host's own keys, checked before anything is read or
 * logged, so `pipeline check` catches them and the message points at the
 * value.  Limits keep every size computed from them far from overflow.
 */
static int check_save(sp_job *j);

static int check_ranges(sp_job *j)
{
	sp_kv *d = j->cfg.kv_data, *t = j->cfg.kv_train;
	int rc;
	if ((rc = check_save(j)) < 0 ||
	    (rc = int_in(j, d, "max_examples", 0, 1L << 40)) < 0 ||
	    (rc = int_in(j, d, "max_len", 0, 1L << 30)) < 0 ||
	    (rc = int_in(j, d, "text_column", -1, 1000)) < 0 ||
	    (rc = int_in(j, d, "label_column", -1, 1000)) < 0 ||
	    (rc = int_in(j, t, "epochs", 0, 1L << 30)) < 0 ||
	    (rc = int_in(j, t, "batch", 1, 1L << 16)) < 0 ||
	    (rc = int_in(j, t, "step_size", 1, 1L << 30)) < 0 ||
	    (rc = int_in(j, t, "warmup", 0, 1L << 40)) < 0 ||
	    (rc = int_in(j, t, "patience", 0, 1L << 30)) < 0 ||
	    (rc = int_in(j, t, "early_stop", 0, 1L << 30)) < 0 ||
	    (rc = int_in(j, t, "threads", 1, 256)) < 0 ||
	    (rc = int_in(j, t, "bptt", 0, 1L << 20)) < 0 ||
	    (rc = int_in(j, t, "bptt_stride", 0, 1L << 20)) < 0 ||
	    (rc = int_in(j, t, "print_every", 0, 1L << 30)) < 0 ||
	    (rc = int_in(j, t, "parts", 0, 1L << 16)) < 0 ||
	    (rc = int_in(j, t, "max_rollbacks", 0, 1000)) < 0 ||
	    (rc = float_in(j, t, "rollback_lr_factor", 1e-6, 0.999999)) < 0 ||
	    (rc = float_in(j, t, "lr", 1e-12, 1e30)) < 0 ||
	    (rc = float_in(j, t, "momentum", 0, 0.999999)) < 0 ||
	    (rc = float_in(j, t, "weight_decay", 0, 1e6)) < 0 ||
	    (rc = float_in(j, t, "clip_norm", 0, 1e30)) < 0 ||
	    (rc = float_in(j, t, "clip_value", 0, 1e30)) < 0 ||
	    (rc = float_in(j, t, "diverge_loss", 0, 1e300)) < 0 ||
	    (rc = float_in(j, t, "gamma", 1e-12, 1)) < 0 ||
	    (rc = float_in(j, t, "factor", 1e-12, 0.999999)) < 0 ||
	    (rc = float_in(j, t, "min_lr", 0, sp_kv_float(t, "lr"))) < 0)
		return rc;
	/* truncated BPTT(k1, k2): 1 <= k1 = bptt_stride <= k2 = bptt */
	if (sp_kv_int(t, "bptt_stride") != 0) {
		long k2 = sp_kv_int(t, "bptt");
		if (k2 == 0)
			return sp_err(j->ctx, SP_EINVAL, "%s: train.bptt_stride = %ld needs truncated BPTT, expected train.bptt >= %ld (or bptt_stride = 0)",
				      sp_kv_where(t, "bptt_stride"), sp_kv_int(t, "bptt_stride"),
				      sp_kv_int(t, "bptt_stride"));
		if ((rc = int_in(j, t, "bptt_stride", 1, k2)) < 0)
			return rc;
	}
	return check_need_dev(j);
}

/* Parses the pipe and applies the overrides (kept, for the model file). */
static int parse_pipe(sp_job *j, const char *pipe_path, const char *text,
		      const char *const *overrides, size_t n_overrides)
{
	int rc;
	if (text)
		rc = sp_pipe_parse_mem(&j->cfg.pipe, j->ctx, pipe_path, text, strlen(text));
	else
		rc = sp_pipe_parse_file(&j->cfg.pipe, j->ctx, pipe_path);
	if (rc < 0)
		return rc;
	j->cfg.ov = calloc(n_overrides + 1, sizeof(*j->cfg.ov));
	if (!j->cfg.ov)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_overrides; i++) {
		if (!(j->cfg.ov[j->cfg.n_ov] = strdup(overrides[i])))
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		j->cfg.n_ov++;
		if ((rc = sp_pipe_override(j->cfg.pipe, j->ctx, overrides[i])) < 0)
			return rc;
	}
	return SP_OK;
}

/* A reader of files reads the training split from one; train = "" given
 * explicitly would read nothing (it once crashed the vocabulary build),
 * while dev and test = "" mean no such split, as --set uses.  Checked
 * before the reader's keys, so the missing file is what is reported. */
static int check_train_path(sp_job *j, sp_kv *d)
{
	const char *where = sp_kv_where(d, "train"), *train = sp_kv_str(d, "train");
	if (j->cfg.reader->generated || (train && *train))
		return SP_OK;
	if (where && strcmp(where, "default") != 0)
		return sp_err(j->ctx, SP_EINVAL, "%s: data.train is \"\", expected the path of the training file",
			      where);
	return sp_err(j->ctx, SP_EINVAL, "%s: missing key 'train' in [data], expected a line 'train = FILE' (format = %s reads the training split from a file)",
		      sp_kv_where(d, "format"), sp_kv_str(d, "format"));
}

/* [model2] .. [model4]: more model stages after [model], in order and
 * without a gap; with any, j->st.model drives them all as a stack. */
static int resolve_stacked(sp_job *j)
{
	static const char *const names[SP_STACK_MAX - 1] = {"model2", "model3", "model4"};
	const sp_component *c = j->st.model.comp;
	int rc;
	j->st.first = c;
	j->st.chars = SP_HAS_OP(sp_model_ops, (const sp_model_ops *)c, chars);
	for (size_t k = 0; k < SP_STACK_MAX - 1; k++) {
		sp_kv *kv = sp_pipe_section(j->cfg.pipe, names[k]);
		if (!kv)
			continue;
		if (k != j->st.n_more)
			return sp_err(j->ctx, SP_EINVAL, "%s: [%s] without [%s], expected the stacked model stages numbered without a gap",
				      sp_kv_section_where(kv), names[k], names[j->st.n_more]);
		if ((rc = resolve_stage(j, &j->st.more[k], names[k], SP_KIND_MODEL, model_host_spec, 1)) < 0)
			return rc;
		c = j->st.more[k].comp;
		j->st.chars |= SP_HAS_OP(sp_model_ops, (const sp_model_ops *)c, chars);
		j->st.n_more++;
	}
	if (j->st.n_more)
		j->st.model.comp = &sp_stack_ops.base;
	return SP_OK;
}

int sp_job_forward(sp_job *j, const sp_batch *b, sp_seq *y, int train)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	int rc;
	if (j->st.chars && b->c.cp && (rc = m->chars(j->st.model.self, j->ctx, &b->c)) < 0)
		return rc;
	return m->forward(j->st.model.self, j->ctx, &b->x, y, train);
}

int sp_job_model_create(sp_job *j, void **out, size_t in_dim)
{
	sp_stack_part parts[SP_STACK_MAX];
	if (!j->st.n_more)
		return sp_model_of(&j->st)->create(out, j->ctx, j->st.model.kv, in_dim);
	parts[0].ops = (const sp_model_ops *)j->st.first;
	parts[0].kv = j->st.model.kv;
	parts[0].section = "model";
	for (size_t k = 0; k < j->st.n_more; k++) {
		parts[k + 1].ops = (const sp_model_ops *)j->st.more[k].comp;
		parts[k + 1].kv = j->st.more[k].kv;
		parts[k + 1].section = j->st.more[k].section;
	}
	return sp_stack_new(out, j->ctx, parts, j->st.n_more + 1, in_dim);
}

/* [data]: its reader, found by the format, then the host's keys and the
 * reader's validated, then the reader's own checks of them. */
static int resolve_data(sp_job *j)
{
	sp_kv *d = sp_pipe_section(j->cfg.pipe, "data");
	const char *fmt = d ? sp_kv_str(d, "format") : NULL;
	int rc;
	if (!d || !fmt) /* the host's message for the missing section or key */
		return validate_core(j, "data", data_spec, &j->cfg.kv_data, 1);
	j->cfg.kv_data = d;
	if ((rc = sp_reader_find(&j->cfg.reader, j->ctx, j->reg, fmt, sp_kv_where(d, "format"))) < 0 ||
	    (rc = check_train_path(j, d)) < 0 ||
	    (rc = sp_reader_spec(j->cfg.reader, j->ctx, data_spec, &j->cfg.data_spec)) < 0 ||
	    (rc = sp_kv_validate(d, j->ctx, j->cfg.data_spec, sp_pipe_dir(j->cfg.pipe))) < 0)
		return rc;
	if (SP_HAS_OP(sp_reader_ops, j->cfg.reader, check))
		return j->cfg.reader->check(j->ctx, d);
	return SP_OK;
}

/* The host sections, then the four stages resolved to components. */
static int resolve_sections(sp_job *j)
{
	int rc;
	if ((rc = ensure_section(j, "pipeline")) < 0 ||
	    (rc = ensure_section(j, "train")) < 0)
		return rc;
	if ((rc = validate_core(j, "pipeline", pipeline_spec, &j->cfg.kv_pipeline, 1)) < 0 ||
	    (rc = resolve_data(j)) < 0 ||
	    (rc = validate_core(j, "train", train_spec, &j->cfg.kv_train, 1)) < 0)
		return rc;
	/* a reader of tokens needs no tokenizer; one of texts does */
	j->st.has_tok = sp_pipe_section(j->cfg.pipe, "tokenize") != NULL;
	/* a parallel reader's text: encode.bpe or [tokenize] (check_task) */
	if (!j->st.has_tok && !(j->cfg.reader->fields & (SP_FIELD_TOKENS | SP_FIELD_TARGET)))
		return sp_err(j->ctx, SP_EINVAL, "%s: missing section [tokenize], expected one for format = %s",
			      sp_pipe_name(j->cfg.pipe), sp_kv_str(j->cfg.kv_data, "format"));
	if ((rc = resolve_stage(j, &j->st.tok, "tokenize", SP_KIND_TOKENIZER, tokenize_host_spec, 0)) < 0 ||
	    (rc = ensure_section(j, "encode")) < 0 ||
	    (rc = resolve_stage(j, &j->st.enc, "encode", SP_KIND_ENCODER, encode_host_spec, 1)) < 0 ||
	    (rc = resolve_stage(j, &j->st.model, "model", SP_KIND_MODEL, model_host_spec, 1)) < 0 ||
	    (rc = resolve_stacked(j)) < 0 ||
	    (rc = resolve_stage(j, &j->st.head, "head", SP_KIND_HEAD, head_host_spec, 1)) < 0)
		return rc;
	return sp_task_resolve(&j->st.task, j->ctx, sp_head_of(&j->st),
			       sp_kv_where(j->st.head.kv, "plugin"));
}

/* train.metric must be one the head declares. */
static int check_metric(sp_job *j)
{
	const char *m = sp_kv_str(j->cfg.kv_train, "metric");
	char names[512];
	if (!m || !*m || sp_task_metric(&j->st.task, m))
		return SP_OK;
	sp_task_metric_names(&j->st.task, names, sizeof(names));
	return sp_err(j->ctx, SP_EINVAL, "%s: train.metric = %s is not a metric of head '%s', expected one of: %s",
		      sp_kv_where(j->cfg.kv_train, "metric"), m, j->st.head.comp->name, names);
}

/* What the head needs from the model and the data format. */
static int check_task(sp_job *j)
{
	const char *fmt = sp_kv_str(j->cfg.kv_data, "format");
	sp_label_field need = j->st.task.labels, has = sp_reader_label_field(j->cfg.reader);
	int want_labels = need != SP_LABELS_NEXT_TOKEN;
	if (sp_kv_bool(j->cfg.kv_train, "instruments") &&
	    !SP_HAS_OP(sp_model_ops, sp_model_of(&j->st), instruments))
		return sp_err(j->ctx, SP_EINVAL, "%s: model '%s' has no instruments, expected instruments = false",
			      sp_kv_where(j->cfg.kv_train, "instruments"), j->st.model.comp->name);
	if (j->st.chars && (need == SP_LABELS_NEXT_TOKEN || sp_kv_int(j->cfg.kv_train, "bptt") > 0))
		return sp_err(j->ctx, SP_EINVAL, "%s: a model stage reads the characters of each token, which the host gives to taggers and classifiers only, expected a tagger or classifier head without train.bptt",
			      sp_kv_where(j->st.head.kv, "plugin"));
	if ((need == SP_LABELS_SEQUENCE) != (has == SP_LABELS_SEQUENCE))
		return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' %s, expected %s",
			      sp_kv_where(j->cfg.kv_data, "format"), j->st.head.comp->name,
			      need == SP_LABELS_SEQUENCE ? "reads target sequences" : "does not read target sequences",
			      need == SP_LABELS_SEQUENCE ? "format = parallel" : "a head of target kind sequence for format = parallel");
	/* target sequences come from the reader's second text (sp_splits_seq.c) */
	if (has == SP_LABELS_SEQUENCE && !(j->cfg.reader->fields & SP_FIELD_TARGET))
		return sp_err(j->ctx, SP_EINVAL, "%s: format = %s gives no translation of each text, expected a reader of text pairs such as parallel",
			      sp_kv_where(j->cfg.kv_data, "format"), fmt);
	if (has == SP_LABELS_SEQUENCE && !j->st.has_tok && sp_kv_int(j->st.enc.kv, "bpe") <= 0)
		return sp_err(j->ctx, SP_EINVAL, "%s: missing section [tokenize], expected one for format = parallel (or encode.bpe > 0, which splits the raw text itself)",
			      sp_pipe_name(j->cfg.pipe));
	if (has == SP_LABELS_SEQUENCE && j->st.has_tok && sp_kv_int(j->st.enc.kv, "bpe") > 0)
		return sp_err(j->ctx, SP_EINVAL, "%s: encode.bpe splits the raw text itself, expected no [tokenize] section with it",
			      sp_kv_where(j->st.enc.kv, "bpe"));
	if (need == SP_LABELS_SEQUENCE)
		return check_metric(j);
	if (want_labels && has == SP_LABELS_NEXT_TOKEN)
		return sp_err(j->ctx, SP_EINVAL, "%s: format = %s has no labels, expected a format with labels (conll, tsv, ...) for head '%s'",
			      sp_kv_where(j->cfg.kv_data, "format"), fmt, j->st.head.comp->name);
	if (need == SP_LABELS_TOKEN && has != SP_LABELS_TOKEN)
		return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' tags every token, expected a format with a label per token (conll) instead of %s",
			      sp_kv_where(j->cfg.kv_data, "format"), j->st.head.comp->name, fmt);
	if (need == SP_LABELS_TEXT && has != SP_LABELS_TEXT)
		return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' labels whole texts, expected a format with a label per text (tsv) instead of %s",
			      sp_kv_where(j->cfg.kv_data, "format"), j->st.head.comp->name, fmt);
	return check_metric(j);
}

/* The name becomes part of file names (models/<name>-run<id>.spm) and of
 * the runs table: no folder separator, no "..", no control character. */
static int check_name(sp_job *j, const char *where)
{
	const char *nm = j->cfg.name;
	int bad = !*nm || strstr(nm, "..") != NULL;
	for (const unsigned char *p = (const unsigned char *)nm; *p && !bad; p++)
		bad = *p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f;
	if (!bad)
		return SP_OK;
	return sp_err(j->ctx, SP_EINVAL, "%s: pipeline name '%.*s' cannot be part of a file name, expected no '/', '..' or control characters",
		      where, (int)strcspn(nm, "\n"), nm);
}

/* train.save from the .pipe file stays inside the working folder (a
 * shared .pipe must not write elsewhere); --set may name any path. */
static int check_save(sp_job *j)
{
	const char *save = sp_kv_str(j->cfg.kv_train, "save");
	const char *where = sp_kv_where(j->cfg.kv_train, "save");
	if (!save || !*save || !where || !strncmp(where, "--set", 5) ||
	    !strcmp(where, "default"))
		return SP_OK;
	if (save[0] == '/' || !strcmp(save, "..") || !strncmp(save, "../", 3) ||
	    strstr(save, "/../") || (strlen(save) >= 3 && !strcmp(save + strlen(save) - 3, "/..")))
		return sp_err(j->ctx, SP_EINVAL, "%s: train.save = \"%s\" leaves the working folder, expected a relative path without '..' (or give the path with --set train.save=...)",
			      where, save);
	return SP_OK;
}

/* [pipeline] name, or the file name: "pipelines/ner.pipe" -> "ner". */
static int pipeline_name(sp_job *j, const char *pipe_path)
{
	const char *nm = sp_kv_str(j->cfg.kv_pipeline, "name");
	if (nm && *nm) {
		j->cfg.name = strdup(nm);
	} else {
		const char *base = strrchr(pipe_path, '/');
		const char *dot;
		base = base ? base + 1 : pipe_path;
		dot = strrchr(base, '.');
		j->cfg.name = strndup(base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
	}
	if (!j->cfg.name)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	return check_name(j, nm && *nm ? sp_kv_where(j->cfg.kv_pipeline, "name") : pipe_path);
}

int sp_job_configure(sp_job *j, const char *pipe_path, const char *text,
		     const char *const *overrides, size_t n_overrides)
{
	int rc;
	if ((rc = parse_pipe(j, pipe_path, text, overrides, n_overrides)) < 0 ||
	    (rc = resolve_sections(j)) < 0 || (rc = check_task(j)) < 0 ||
	    (rc = pipeline_name(j, pipe_path)) < 0 || (rc = check_ranges(j)) < 0)
		return rc;
	/* overlapping windows start from a state inside the last one */
	if (sp_kv_int(j->cfg.kv_train, "bptt_stride") != 0 &&
	    sp_kv_int(j->cfg.kv_train, "bptt_stride") < sp_kv_int(j->cfg.kv_train, "bptt") &&
	    !SP_HAS_OP(sp_model_ops, sp_model_of(&j->st), carry_at))
		return sp_err(j->ctx, SP_EINVAL, "%s: model '%s' cannot carry the state from inside a window (it has no carry_at op), expected bptt_stride = 0 or = bptt",
			      sp_kv_where(j->cfg.kv_train, "bptt_stride"), j->st.model.comp->name);
	j->cfg.seed = (uint64_t)sp_kv_int(j->cfg.kv_pipeline, "seed");
	sp_rng_seed(j->ctx, j->cfg.seed);
	/* OpenBLAS keeps its thread count per process; a run owns the process */
	sp_blas_set_threads((int)sp_kv_int(j->cfg.kv_train, "threads"));
	return SP_OK;
}

int sp_job_create_text_stages(sp_job *j)
{
	int rc;
	if (j->st.has_tok) {
		rc = ((const sp_tokenizer_ops *)j->st.tok.comp)->create(&j->st.tok.self, j->ctx, j->st.tok.kv);
		if (rc < 0)
			return rc;
	}
	return ((const sp_encoder_ops *)j->st.enc.comp)->create(&j->st.enc.self, j->ctx, j->st.enc.kv);
}

int sp_job_configure_from_model(sp_job *j, sp_modelfile *mf, const char *path,
				const char *const *extra, size_t n_extra)
{
	const char *text = sp_modelfile_meta(mf, "pipe_text");
	const char *pipe_path = sp_modelfile_meta(mf, "pipe_path");
	const char *over = sp_modelfile_meta(mf, "overrides");
	char *copy = NULL, *save = NULL;
	const char **ov;
	size_t n_ov = 0;
	int rc;
	if (!text || !pipe_path)
		return sp_err(j->ctx, SP_EINPUT, "%s: model file lacks its pipeline text, expected a file written by pipeline run",
			      path);
	ov = calloc((over ? strlen(over) : 0) + n_extra + 1, sizeof(*ov));
	copy = strdup(over ? over : "");
	if (!ov || !copy) {
		free(ov);
		free(copy);
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	for (char *s = strtok_r(copy, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		ov[n_ov++] = s;
	for (size_t i = 0; i < n_extra; i++)
		ov[n_ov++] = extra[i];
	rc = sp_job_configure(j, pipe_path, text, ov, n_ov);
	free(ov);
	free(copy);
	return rc;
}
