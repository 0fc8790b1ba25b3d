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
 * Everything goes into the run log as it happens, so a failed or
 * interrupted run keeps what it had logged.
 *
 * Not here: the math (plugins, sp_cell), the file formats (sp_pipe,
 * sp_modelfile, sp_data), the command line (main.c).
 */
#include "config.h"

#include "sp_runner.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_blas.h"
#include "sp_data.h"
#include "sp_hash.h"
#include "sp_kv.h"
#include "sp_modelfile.h"
#include "sp_optim.h"
#include "sp_pipe.h"
#include "sp_plugin.h"
#include "sp_runlog.h"
#include "sp_vocab.h"

/* ------------------------------------------------------------------ */
/* The host's own sections and keys                                    */
/* ------------------------------------------------------------------ */

#define END_SPEC {NULL, 0, NULL, NULL, NULL}

static const sp_param_spec pipeline_spec[] = {
	{"name", SP_T_STRING, "", "pipeline name in the run log (default: the file name without .pipe)", NULL},
	{"seed", SP_T_INT, "42", "seed of every random choice: initial weights, shuffling, dropout, sampling", NULL},
	{"db", SP_T_STRING, "runs.db", "run log (SQLite), relative to the working directory", NULL},
	{"description", SP_T_STRING, "", "free text", NULL},
	END_SPEC};

static const sp_param_spec data_spec[] = {
	{"format", SP_T_STRING, NULL, "lines: one text per line; conll: token<TAB>label, blank line between sentences; tsv: text<TAB>label", "lines|conll|tsv"},
	{"train", SP_T_PATH, NULL, "training split", NULL},
	{"dev", SP_T_PATH, "", "development split, evaluated after every epoch", NULL},
	{"test", SP_T_PATH, "", "test split, evaluated once at the end", NULL},
	{"max_examples", SP_T_INT, "0", "read at most this many examples per split (0 = all)", NULL},
	{"max_len", SP_T_INT, "0", "lines: cut token sequences into pieces of at most this many steps (0 = no limit)", NULL},
	{"text_column", SP_T_INT, "0", "tsv: column of the text (0-based)", NULL},
	{"label_column", SP_T_INT, "-1", "tsv: column of the label (-1 = last)", NULL},
	{"header", SP_T_BOOL, "false", "tsv: the first line is a header", NULL},
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
	{"metric", SP_T_STRING, "", "dev metric that picks the best epoch (default: f1 for taggers, accuracy for classifiers, loss for language models)", NULL},
	{"threads", SP_T_INT, "1", "OpenBLAS threads (the heads' products); keep 1 when model.threads > 1, as OpenBLAS's idle threads spin and slow the engine's", NULL},
	{"bucket", SP_T_BOOL, "true", "batch sequences of similar length together (less padding)", NULL},
	{"shuffle", SP_T_BOOL, "true", "shuffle the batches every epoch", NULL},
	{"save", SP_T_STRING, "", "model file (default: models/<pipeline>-run<id>.spm)", NULL},
	{"bptt", SP_T_INT, "0", "language models: train on the training texts as one stream, batch rows in parallel, in windows of this many steps with the state carried between windows (truncated BPTT; 0 = each text on its own); every split is then evaluated as such a stream too", NULL},
	{"bptt_stride", SP_T_INT, "0", "truncated BPTT(k1, k2) with k2 = bptt: a window every this many steps (k1, 1..bptt), each bptt steps long and starting from the state k1 steps into the one before; the loss counts each position once, so only a window's last k1 steps have targets, the others are context the gradient flows through (0 = bptt: windows side by side)", NULL},
	{"instruments", SP_T_BOOL, "false", "log per-time-step gradient norms ‖∂L/∂h(t)‖ and gate statistics of a fixed sample batch every epoch (how gradients vanish, what gates do)", NULL},
	{"print_every", SP_T_INT, "0", "print one line every this many epochs (0 = about 20 lines in all); every epoch is logged", NULL},
	END_SPEC};

const sp_param_spec *sp_runner_host_spec(const char *section)
{
	static const struct {
		const char *name;
		const sp_param_spec *spec;
	} all[] = {{"pipeline", pipeline_spec}, {"data", data_spec},
		   {"tokenize", tokenize_host_spec}, {"encode", encode_host_spec},
		   {"model", model_host_spec}, {"head", head_host_spec},
		   {"train", train_spec}};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i].name, section))
			return all[i].spec;
	return NULL;
}

/* path made absolute, so a run log read from another folder still finds
 * the files it names (the file itself need not exist yet). */
static void absolute_path(char *out, size_t n, const char *path)
{
	char dir[4096], real[4096];
	const char *slash = strrchr(path, '/');
	size_t k = slash ? (size_t)(slash - path) : 0;
	if (realpath(path, real)) {
		snprintf(out, n, "%s", real);
		return;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(k ? k : 1), slash ? path : ".");
	if (realpath(dir, real)) {
		const char *base = slash ? slash + 1 : path;
		size_t a = strlen(real), b = strlen(base);
		if (a + 1 + b < n) {
			memcpy(out, real, a);
			out[a] = '/';
			memcpy(out + a + 1, base, b + 1);
			return;
		}
	}
	snprintf(out, n, "%s", path);
}

/* ------------------------------------------------------------------ */
/* Job state                                                           */
/* ------------------------------------------------------------------ */

typedef struct stage {
	const char *section;
	const sp_component *comp;
	const sp_plugin *plugin;
	sp_kv *kv;               /* borrowed from the pipe */
	sp_param_spec *spec;     /* host keys + the component's (owned) */
	void *self;
	const sp_weight *w;      /* declared weights (borrowed from self) */
	size_t n_w;
	size_t offset;           /* first float of this stage in the arena */
	size_t n_floats;
} stage;

/* One split, encoded: example i has input ids ids[in_off[i] ..
 * in_off[i]+in_len[i]) and targets ids[tg_off[i] .. +tg_len[i]]. */
typedef struct dataset {
	size_t n, cap;
	size_t *in_off, *tg_off;
	int32_t *in_len, *tg_len;
	int32_t *ids;
	size_t n_ids, cap_ids;
	const char *path;        /* borrowed */
} dataset;

typedef struct job {
	sp_ctx *ctx;
	sp_registry *reg;
	const sp_runner_opts *opts;
	FILE *out;
	sp_pipe *pipe;
	char **ov;               /* the --set overrides in effect (owned) */
	size_t n_ov;
	char *name;              /* pipeline name */
	sp_kv *kv_pipeline, *kv_data, *kv_train; /* borrowed */
	stage tok, enc, model, head;
	int has_tok;
	sp_target target;
	sp_vocab *vocab, *labels;
	dataset train, dev, test;
	/* parameters */
	size_t n_params;
	float *value, *grad;
	/* batch buffers, sized for the largest batch seen */
	size_t cap_tb, cap_dh, cap_b;
	int32_t *b_ids, *b_len, *b_tgt;
	uint8_t *b_mask, *b_tmask;
	float *dh;
	/* the embedding weight, when pretrained vectors are frozen */
	float *frozen, *frozen_grad, *frozen_copy;
	size_t frozen_n;
	int model_logged;        /* the model artifact is in the run log */
	int32_t *stream;         /* bptt: the training texts as one sequence */
	size_t n_stream;
	const char *model_path;  /* where the kept (best or last) model goes */
	char *ckpt_path;         /* where the checkpoint of every epoch goes */
	/* run log */
	sp_runlog *log;
	int64_t run_id;
	uint64_t seed;
} job;

static void stage_fini(stage *s)
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
		}
	}
	s->self = NULL;
	free(s->spec);
	s->spec = NULL;
}

static void dataset_fini(dataset *d)
{
	free(d->in_off);
	free(d->tg_off);
	free(d->in_len);
	free(d->tg_len);
	free(d->ids);
	memset(d, 0, sizeof(*d));
}

static void job_fini(job *j)
{
	stage_fini(&j->head);
	stage_fini(&j->model);
	stage_fini(&j->enc);
	stage_fini(&j->tok);
	dataset_fini(&j->train);
	dataset_fini(&j->dev);
	dataset_fini(&j->test);
	sp_vocab_free(j->vocab);
	sp_vocab_free(j->labels);
	free(j->value);
	free(j->grad);
	free(j->b_ids);
	free(j->b_len);
	free(j->b_tgt);
	free(j->b_mask);
	free(j->b_tmask);
	free(j->dh);
	free(j->frozen_copy);
	free(j->ckpt_path);
	free(j->stream);
	for (size_t i = 0; i < j->n_ov; i++)
		free(j->ov[i]);
	free(j->ov);
	free(j->name);
	sp_runlog_close(j->log);
	sp_pipe_free(j->pipe);
}

/* An empty job for one command. */
static void job_init(job *j, sp_ctx *ctx, sp_registry *reg,
		     const sp_runner_opts *opts)
{
	memset(j, 0, sizeof(*j));
	j->ctx = ctx;
	j->reg = reg;
	j->opts = opts;
	j->out = opts->out;
}

static const sp_model_ops *model_ops(const job *j)
{
	return (const sp_model_ops *)j->model.comp;
}

static const sp_head_ops *head_ops(const job *j)
{
	return (const sp_head_ops *)j->head.comp;
}

void sp_runner_opts_init(sp_runner_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = SP_RUNNER_OPTS_VERSION;
	opts->top_k = 3;
	opts->temperature = 1.0;
	opts->seed = -1;
}

static void say(const job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const job *j, const char *fmt, ...)
{
	va_list ap;
	if (!j->out)
		return;
	va_start(ap, fmt);
	vfprintf(j->out, fmt, ap);
	va_end(ap);
	fflush(j->out);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
static int resolve_stage(job *j, stage *s, const char *section, sp_kind kind,
			 const sp_param_spec *host, int required)
{
	sp_kv *kv = sp_pipe_section(j->pipe, section);
	const char *plugin;
	int rc;
	s->section = section;
	if (!kv) {
		if (!required)
			return 0;
		return sp_err(j->ctx, SP_EINVAL, "%s: missing section [%s], expected one naming a %s plugin",
			      sp_pipe_name(j->pipe), section, sp_kind_name(kind));
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
	return sp_kv_validate(kv, j->ctx, s->spec, sp_pipe_dir(j->pipe));
}

static int validate_core(job *j, const char *section, const sp_param_spec *spec,
			 sp_kv **out, int required)
{
	sp_kv *kv = sp_pipe_section(j->pipe, section);
	*out = kv;
	if (!kv) {
		if (required)
			return sp_err(j->ctx, SP_EINVAL, "%s: missing section [%s], expected it with at least: %s",
				      sp_pipe_name(j->pipe), section,
				      !strcmp(section, "data") ? "format, train" : "its keys");
		return SP_OK;
	}
	return sp_kv_validate(kv, j->ctx, spec, sp_pipe_dir(j->pipe));
}

/* A section the file leaves out still has its defaults. */
static int ensure_section(job *j, const char *section)
{
	sp_kv *kv;
	return sp_pipe_section_ensure(j->pipe, j->ctx, section, &kv);
}

/* An integer key must lie in [lo, hi]. */
static int int_in(job *j, sp_kv *kv, const char *key, long lo, long hi)
{
	long v = sp_kv_int(kv, key);
	if (v < lo || v > hi)
		return sp_err(j->ctx, SP_EINVAL, "%s: %s.%s = %ld, expected %ld..%ld",
			      sp_kv_where(kv, key), sp_kv_section(kv), key, v, lo, hi);
	return SP_OK;
}

/* A float key must lie in [lo, hi] (NaN never does). */
static int float_in(job *j, sp_kv *kv, const char *key, double lo, double hi)
{
	double v = sp_kv_float(kv, key);
	if (!(v >= lo && v <= hi))
		return sp_err(j->ctx, SP_EINVAL, "%s: %s.%s = %g, expected %g..%g",
			      sp_kv_where(kv, key), sp_kv_section(kv), key, v, lo, hi);
	return SP_OK;
}

/*
 * The ranges of the host's own keys, checked before anything is read or
 * logged, so `pipeline check` catches them and the message points at the
 * value.  Limits keep every size computed from them far from overflow.
 */
static int check_ranges(job *j)
{
	sp_kv *d = j->kv_data, *t = j->kv_train;
	int has_dev = *sp_kv_str(d, "dev") != '\0';
	int rc;
	if ((rc = int_in(j, d, "max_examples", 0, 1L << 40)) < 0 ||
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
	    (rc = float_in(j, t, "lr", 1e-12, 1e30)) < 0 ||
	    (rc = float_in(j, t, "momentum", 0, 0.999999)) < 0 ||
	    (rc = float_in(j, t, "weight_decay", 0, 1e6)) < 0 ||
	    (rc = float_in(j, t, "clip_norm", 0, 1e30)) < 0 ||
	    (rc = float_in(j, t, "clip_value", 0, 1e30)) < 0 ||
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
	/* what only a dev split can drive */
	if (!has_dev) {
		static const char *const need_dev[] = {"early_stop", "metric", "schedule"};
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
	}
	return SP_OK;
}

/* Parses the pipe (from a file, or from text stored in a model file),
 * applies the overrides, resolves and validates every section. */
static int job_configure(job *j, const char *pipe_path, const char *text,
			 const char *const *overrides, size_t n_overrides)
{
	int rc;
	if (text)
		rc = sp_pipe_parse_mem(&j->pipe, j->ctx, pipe_path, text, strlen(text));
	else
		rc = sp_pipe_parse_file(&j->pipe, j->ctx, pipe_path);
	if (rc < 0)
		return rc;
	j->ov = calloc(n_overrides + 1, sizeof(*j->ov));
	if (!j->ov)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_overrides; i++) {
		if (!(j->ov[j->n_ov] = strdup(overrides[i])))
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		j->n_ov++;
		if ((rc = sp_pipe_override(j->pipe, j->ctx, overrides[i])) < 0)
			return rc;
	}
	if ((rc = ensure_section(j, "pipeline")) < 0 ||
	    (rc = ensure_section(j, "train")) < 0)
		return rc;
	if ((rc = validate_core(j, "pipeline", pipeline_spec, &j->kv_pipeline, 1)) < 0 ||
	    (rc = validate_core(j, "data", data_spec, &j->kv_data, 1)) < 0 ||
	    (rc = validate_core(j, "train", train_spec, &j->kv_train, 1)) < 0)
		return rc;
	/* conll data comes tokenized; other formats need a tokenizer */
	j->has_tok = sp_pipe_section(j->pipe, "tokenize") != NULL;
	if (!j->has_tok && strcmp(sp_kv_str(j->kv_data, "format"), "conll") != 0)
		return sp_err(j->ctx, SP_EINVAL, "%s: missing section [tokenize], expected one for format = %s",
			      sp_pipe_name(j->pipe), sp_kv_str(j->kv_data, "format"));
	if ((rc = resolve_stage(j, &j->tok, "tokenize", SP_KIND_TOKENIZER, tokenize_host_spec, 0)) < 0 ||
	    (rc = ensure_section(j, "encode")) < 0 ||
	    (rc = resolve_stage(j, &j->enc, "encode", SP_KIND_ENCODER, encode_host_spec, 1)) < 0 ||
	    (rc = resolve_stage(j, &j->model, "model", SP_KIND_MODEL, model_host_spec, 1)) < 0 ||
	    (rc = resolve_stage(j, &j->head, "head", SP_KIND_HEAD, head_host_spec, 1)) < 0)
		return rc;
	j->target = head_ops(j)->target;
	if (sp_kv_bool(j->kv_train, "instruments") &&
	    !SP_HAS_OP(sp_model_ops, model_ops(j), instruments))
		return sp_err(j->ctx, SP_EINVAL, "%s: model '%s' has no instruments, expected instruments = false",
			      sp_kv_where(j->kv_train, "instruments"), j->model.comp->name);
	if (j->target == SP_TARGET_SEQUENCE)
		return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' needs target sequences, which this runner does not read yet",
			      sp_kv_where(j->head.kv, "plugin"), j->head.comp->name);
	{
		const char *fmt = sp_kv_str(j->kv_data, "format");
		int want_labels = j->target != SP_TARGET_NEXT_TOKEN;
		if (want_labels && !strcmp(fmt, "lines"))
			return sp_err(j->ctx, SP_EINVAL, "%s: format = lines has no labels, expected conll or tsv for head '%s'",
				      sp_kv_where(j->kv_data, "format"), j->head.comp->name);
		if (j->target == SP_TARGET_TAGS && strcmp(fmt, "conll") != 0)
			return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' tags every token, expected format = conll",
				      sp_kv_where(j->kv_data, "format"), j->head.comp->name);
		if (j->target == SP_TARGET_CLASS && strcmp(fmt, "tsv") != 0)
			return sp_err(j->ctx, SP_EINVAL, "%s: head '%s' labels whole texts, expected format = tsv",
				      sp_kv_where(j->kv_data, "format"), j->head.comp->name);
	}
	{
		const char *nm = sp_kv_str(j->kv_pipeline, "name");
		if (nm && *nm) {
			j->name = strdup(nm);
		} else {
			/* "pipelines/ner.pipe" -> "ner" */
			const char *base = strrchr(pipe_path, '/');
			const char *dot;
			base = base ? base + 1 : pipe_path;
			dot = strrchr(base, '.');
			j->name = strndup(base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
		}
		if (!j->name)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	if ((rc = check_ranges(j)) < 0)
		return rc;
	/* overlapping windows start from a state inside the last one */
	if (sp_kv_int(j->kv_train, "bptt_stride") != 0 &&
	    sp_kv_int(j->kv_train, "bptt_stride") < sp_kv_int(j->kv_train, "bptt") &&
	    !SP_HAS_OP(sp_model_ops, model_ops(j), carry_at))
		return sp_err(j->ctx, SP_EINVAL, "%s: model '%s' cannot carry the state from inside a window (it has no carry_at op), expected bptt_stride = 0 or = bptt",
			      sp_kv_where(j->kv_train, "bptt_stride"), j->model.comp->name);
	j->seed = (uint64_t)sp_kv_int(j->kv_pipeline, "seed");
	sp_rng_seed(j->ctx, j->seed);
	/* OpenBLAS keeps its thread count per process; a run owns the process */
	sp_blas_set_threads((int)sp_kv_int(j->kv_train, "threads"));
	return SP_OK;
}

static int create_text_stages(job *j)
{
	int rc;
	if (j->has_tok) {
		rc = ((const sp_tokenizer_ops *)j->tok.comp)->create(&j->tok.self, j->ctx, j->tok.kv);
		if (rc < 0)
			return rc;
	}
	return ((const sp_encoder_ops *)j->enc.comp)->create(&j->enc.self, j->ctx, j->enc.kv);
}

/* ------------------------------------------------------------------ */
/* Data: read, tokenize, encode                                        */
/* ------------------------------------------------------------------ */

/* A growable list of tokens of one example (pointers into `buf`). */
typedef struct toklist {
	char *buf;
	size_t len, cap;
	size_t *off, *tlen;
	size_t n, cap_n;
	sp_ctx *ctx;
} toklist;

static int toklist_push(void *payload, const char *tok, size_t len, size_t offset)
{
	toklist *t = payload;
	(void)offset;
	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->cap + len + 1) * 2;
		char *b = realloc(t->buf, cap);
		if (!b)
			return sp_err(t->ctx, SP_ENOMEM, "out of memory");
		t->buf = b;
		t->cap = cap;
	}
	if (t->n == t->cap_n) {
		size_t cap = t->cap_n ? 2 * t->cap_n : 64;
		size_t *o = realloc(t->off, cap * sizeof(*o));
		size_t *l;
		if (!o)
			return sp_err(t->ctx, SP_ENOMEM, "out of memory");
		t->off = o;
		l = realloc(t->tlen, cap * sizeof(*l));
		if (!l)
			return sp_err(t->ctx, SP_ENOMEM, "out of memory");
		t->tlen = l;
		t->cap_n = cap;
	}
	memcpy(t->buf + t->len, tok, len);
	t->buf[t->len + len] = '\0';
	t->off[t->n] = t->len;
	t->tlen[t->n] = len;
	t->len += len + 1;
	t->n++;
	return 0;
}

static void toklist_clear(toklist *t)
{
	t->len = 0;
	t->n = 0;
}

static void toklist_fini(toklist *t)
{
	free(t->buf);
	free(t->off);
	free(t->tlen);
}

/* Tokens of example i of corpus c (tokenized text, or the CoNLL tokens). */
static int example_tokens(job *j, const sp_corpus *c, const char *path,
			  size_t i, toklist *t)
{
	toklist_clear(t);
	if (!strcmp(sp_kv_str(j->kv_data, "format"), "conll")) {
		size_t n;
		const char *const *toks = sp_corpus_tokens(c, i, &n);
		for (size_t k = 0; k < n; k++) {
			int rc = toklist_push(t, toks[k], strlen(toks[k]), 0);
			if (rc < 0)
				return rc;
		}
		return SP_OK;
	} else {
		size_t len;
		const char *text = sp_corpus_text(c, i, &len);
		int rc = ((const sp_tokenizer_ops *)j->tok.comp)
				 ->tokenize(j->tok.self, j->ctx, text, len, toklist_push, t);
		if (rc < 0)
			return sp_err_prefix(j->ctx, rc, "%s:%zu", path,
					     sp_corpus_line(c, i));
		return SP_OK;
	}
}

static int read_split(job *j, const char *key, sp_corpus **out)
{
	const char *path = sp_kv_str(j->kv_data, key);
	sp_data_opts o;
	sp_data_format fmt;
	int rc;
	*out = NULL;
	if (!path || !*path)
		return SP_OK;
	rc = sp_data_format_parse(&fmt, j->ctx, sp_kv_str(j->kv_data, "format"));
	if (rc < 0)
		return rc;
	sp_data_opts_init(&o);
	o.max_examples = (size_t)sp_kv_int(j->kv_data, "max_examples");
	o.text_col = (int)sp_kv_int(j->kv_data, "text_column");
	o.label_col = (int)sp_kv_int(j->kv_data, "label_column");
	o.header = sp_kv_bool(j->kv_data, "header");
	return sp_corpus_read(out, j->ctx, path, fmt, &o);
}

static int dataset_reserve(job *j, dataset *d, size_t n_ids)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		size_t *a = realloc(d->in_off, cap * sizeof(*a)), *b;
		int32_t *c, *e;
		if (!a)
			goto nomem;
		d->in_off = a;
		if (!(b = realloc(d->tg_off, cap * sizeof(*b))))
			goto nomem;
		d->tg_off = b;
		if (!(c = realloc(d->in_len, cap * sizeof(*c))))
			goto nomem;
		d->in_len = c;
		if (!(e = realloc(d->tg_len, cap * sizeof(*e))))
			goto nomem;
		d->tg_len = e;
		d->cap = cap;
	}
	if (d->n_ids + n_ids > d->cap_ids) {
		size_t cap = (d->cap_ids + n_ids) * 2;
		int32_t *ids = realloc(d->ids, cap * sizeof(*ids));
		if (!ids)
			goto nomem;
		d->ids = ids;
		d->cap_ids = cap;
	}
	return SP_OK;
nomem:
	return sp_err(j->ctx, SP_ENOMEM, "out of memory reading the data");
}

/* Appends one example: input ids and target ids. */
static int dataset_add(job *j, dataset *d, const int32_t *in, size_t n_in,
		       const int32_t *tg, size_t n_tg)
{
	int rc = dataset_reserve(j, d, n_in + n_tg);
	if (rc < 0)
		return rc;
	d->in_off[d->n] = d->n_ids;
	memcpy(d->ids + d->n_ids, in, n_in * sizeof(*in));
	d->n_ids += n_in;
	d->in_len[d->n] = (int32_t)n_in;
	d->tg_off[d->n] = d->n_ids;
	memcpy(d->ids + d->n_ids, tg, n_tg * sizeof(*tg));
	d->n_ids += n_tg;
	d->tg_len[d->n] = (int32_t)n_tg;
	d->n++;
	return SP_OK;
}

static int encode_token(job *j, const char *tok, size_t len, int32_t *id)
{
	return ((const sp_encoder_ops *)j->enc.comp)->encode(j->enc.self, j->ctx, tok, len, id);
}

/* Label string -> id in the label set; unknown labels (in dev/test) are
 * an error naming the file and line. */
static int label_id(job *j, const sp_corpus *c, const char *path, size_t i,
		    const char *label, int32_t *id)
{
	*id = sp_vocab_id(j->labels, label, strlen(label));
	if (*id < 0)
		return sp_err(j->ctx, SP_EINPUT, "%s:%zu: label '%s' is not in the model's label set, expected one of its %zu labels",
			      path, sp_corpus_line(c, i), label,
			      sp_vocab_size(j->labels));
	return SP_OK;
}

/* Encodes corpus c into d (the vocabulary and labels exist). */
static int encode_split(job *j, const sp_corpus *c, const char *path, dataset *d)
{
	toklist t = {0};
	int32_t *in = NULL, *tg = NULL;
	size_t cap = 0;
	size_t max_len = (size_t)sp_kv_int(j->kv_data, "max_len");
	int rc = SP_OK;
	int32_t bos = sp_vocab_special(j->vocab, SP_SPECIAL_BOS);
	int32_t eos = sp_vocab_special(j->vocab, SP_SPECIAL_EOS);
	t.ctx = j->ctx;
	d->path = path;
	for (size_t i = 0; i < sp_corpus_count(c); i++) {
		size_t n;
		if ((rc = example_tokens(j, c, path, i, &t)) < 0)
			goto done;
		n = t.n;
		if (n + 2 > cap) {
			int32_t *a, *b;
			cap = 2 * (n + 2);
			if (!(a = realloc(in, cap * sizeof(*a)))) {
				rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
				goto done;
			}
			in = a;
			if (!(b = realloc(tg, cap * sizeof(*b)))) {
				rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
				goto done;
			}
			tg = b;
		}
		if (j->target == SP_TARGET_NEXT_TOKEN) {
			/* seq = [<s>] tokens [</s>]; input seq[0..m-1), target
			 * seq[1..m): each step predicts the next token */
			size_t m = 0;
			if (bos >= 0)
				in[m++] = bos;
			for (size_t k = 0; k < n; k++)
				if ((rc = encode_token(j, t.buf + t.off[k], t.tlen[k], &in[m++])) < 0) {
					rc = sp_err_prefix(j->ctx, rc, "%s:%zu", path, sp_corpus_line(c, i));
					goto done;
				}
			if (eos >= 0)
				in[m++] = eos;
			if (m < 2)
				continue; /* nothing to predict */
			for (size_t k = 1; k < m; k++)
				tg[k - 1] = in[k];
			/* long texts are cut into windows of max_len steps */
			for (size_t s = 0; s < m - 1; s += max_len ? max_len : m) {
				size_t len = m - 1 - s;
				if (max_len && len > max_len)
					len = max_len;
				if ((rc = dataset_add(j, d, in + s, len, tg + s, len)) < 0)
					goto done;
			}
		} else {
			for (size_t k = 0; k < n; k++)
				if ((rc = encode_token(j, t.buf + t.off[k], t.tlen[k], &in[k])) < 0) {
					rc = sp_err_prefix(j->ctx, rc, "%s:%zu", path, sp_corpus_line(c, i));
					goto done;
				}
			if (n == 0)
				continue;
			if (j->target == SP_TARGET_TAGS) {
				size_t nl;
				const char *const *tags = sp_corpus_labels(c, i, &nl);
				for (size_t k = 0; k < n; k++)
					if ((rc = label_id(j, c, path, i, tags[k], &tg[k])) < 0)
						goto done;
				rc = dataset_add(j, d, in, n, tg, n);
			} else {
				if ((rc = label_id(j, c, path, i, sp_corpus_label(c, i), &tg[0])) < 0)
					goto done;
				rc = dataset_add(j, d, in, n, tg, 1);
			}
			if (rc < 0)
				goto done;
		}
	}
done:
	free(in);
	free(tg);
	toklist_fini(&t);
	return rc;
}

/* Builds the vocabulary (or loads it, reuse = true) and the label set from
 * the training split, and stores the vocabulary under its name. */
static int build_vocabularies(job *j, const sp_corpus *train,
			      const sp_corpus *dev, const sp_corpus *test)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->enc.comp;
	const char *vname = sp_kv_str(j->enc.kv, "vocab");
	const char *store = j->opts->vocab_db ? j->opts->vocab_db : sp_kv_str(j->enc.kv, "store");
	toklist t = {0};
	int rc;
	t.ctx = j->ctx;
	if (!vname || !*vname)
		vname = j->name;
	if (sp_kv_bool(j->enc.kv, "reuse")) {
		rc = sp_vocab_load(&j->vocab, j->ctx, store, vname);
		if (rc < 0)
			return sp_err_prefix(j->ctx, rc, "%s", sp_kv_where(j->enc.kv, "reuse"));
		rc = enc->attach(j->enc.self, j->ctx, j->vocab);
		if (rc < 0)
			return rc;
	} else {
		for (size_t i = 0; i < sp_corpus_count(train); i++) {
			if ((rc = example_tokens(j, train, sp_kv_str(j->kv_data, "train"), i, &t)) < 0)
				goto done;
			for (size_t k = 0; k < t.n; k++)
				if ((rc = enc->observe(j->enc.self, j->ctx, t.buf + t.off[k], t.tlen[k])) < 0)
					goto done;
		}
		if ((rc = sp_vocab_new(&j->vocab)) < 0) {
			rc = sp_err(j->ctx, rc, "vocabulary: out of memory");
			goto done;
		}
		if ((rc = enc->finish(j->enc.self, j->ctx, j->vocab)) < 0 ||
		    (rc = enc->attach(j->enc.self, j->ctx, j->vocab)) < 0)
			goto done;
		if ((rc = sp_vocab_save(j->vocab, j->ctx, store, vname)) < 0)
			goto done;
	}
	if (sp_vocab_size(j->vocab) == 0) {
		rc = sp_err(j->ctx, SP_EINPUT, "%s: the training split gives an empty vocabulary",
			    sp_kv_str(j->kv_data, "train"));
		goto done;
	}
	/* labels: every label of the training split, most frequent first,
	 * then labels only the dev or test split has (the model never
	 * learns them, but the metrics must count them as missed) */
	if (j->target == SP_TARGET_TAGS || j->target == SP_TARGET_CLASS) {
		const sp_corpus *splits[3] = {train, dev, test};
		if ((rc = sp_vocab_new(&j->labels)) < 0) {
			rc = sp_err(j->ctx, rc, "labels: out of memory");
			goto done;
		}
		for (int s = 0; s < 3 && rc >= 0; s++) {
			sp_vocab_counter *cnt;
			sp_vocab *part = NULL;
			if (!splits[s])
				continue;
			if ((rc = sp_vocab_counter_new(&cnt)) < 0) {
				rc = sp_err(j->ctx, rc, "labels: out of memory");
				goto done;
			}
			for (size_t i = 0; i < sp_corpus_count(splits[s]) && rc >= 0; i++) {
				size_t nl = 1;
				const char *one = NULL;
				const char *const *labels = j->target == SP_TARGET_TAGS
					? sp_corpus_labels(splits[s], i, &nl) : NULL;
				if (!labels) {
					one = sp_corpus_label(splits[s], i);
					labels = &one;
				}
				for (size_t k = 0; k < nl && rc >= 0; k++)
					rc = sp_vocab_counter_add(cnt, j->ctx, labels[k], strlen(labels[k]));
			}
			if (rc >= 0)
				rc = sp_vocab_build(&part, j->ctx, cnt, 1, 0, NULL, 0);
			for (size_t k = 0; rc >= 0 && k < sp_vocab_size(part); k++) {
				const char *l = sp_vocab_token(part, (int32_t)k);
				if (sp_vocab_id(j->labels, l, strlen(l)) < 0)
					rc = sp_vocab_add(j->labels, j->ctx, l, strlen(l),
							  s == 0 ? sp_vocab_count(part, (int32_t)k) : 0, NULL);
			}
			sp_vocab_free(part);
			sp_vocab_counter_free(cnt);
		}
		if (rc < 0)
			goto done;
	} else if ((rc = sp_vocab_clone(&j->labels, j->vocab)) < 0) {
		rc = sp_err(j->ctx, rc, "labels: out of memory");
	}
done:
	toklist_fini(&t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Model: create stages, give them weights                             */
/* ------------------------------------------------------------------ */

static size_t weight_floats(const sp_weight *w)
{
	size_t n = 1;
	for (int d = 0; d < w->ndim; d++)
		n *= w->dim[d];
	return n;
}

/* A language model predicts the next token; a model whose output at t
 * has read the tokens after t would be reading the answer. */
static int check_causal(job *j, const void *model)
{
	const sp_model_ops *m = model_ops(j);
	if (j->target == SP_TARGET_NEXT_TOKEN && SP_HAS_OP(sp_model_ops, m, sees_future) &&
	    m->sees_future(model))
		return sp_err(j->ctx, SP_EINVAL, "%s: model '%s' reads the sequence backwards too, so it would see the token it must predict; expected a one-directional model for head '%s'",
			      sp_kv_section_where(j->model.kv), j->model.comp->name, j->head.comp->name);
	return SP_OK;
}

/* Creates model and head, allocates the arena and binds every weight.
 * Initial values come from the seed (init ops). */
static int build_model(job *j)
{
	const sp_model_ops *m = model_ops(j);
	const sp_head_ops *h = head_ops(j);
	sp_head_env env;
	stage *st[2] = {&j->model, &j->head};
	int rc;

	rc = m->create(&j->model.self, j->ctx, j->model.kv, sp_vocab_size(j->vocab));
	if (rc < 0)
		return rc;
	if ((rc = check_causal(j, j->model.self)) < 0)
		return rc;
	memset(&env, 0, sizeof(env));
	env.size = sizeof(env);
	env.input = j->vocab;
	env.labels = j->labels;
	rc = h->create(&j->head.self, j->ctx, j->head.kv, m->out_dim(j->model.self), &env);
	if (rc < 0)
		return rc;
	if ((rc = m->weights(j->model.self, &j->model.w, &j->model.n_w)) < 0 ||
	    (rc = h->weights(j->head.self, &j->head.w, &j->head.n_w)) < 0)
		return rc;
	j->n_params = 0;
	for (int s = 0; s < 2; s++) {
		st[s]->offset = j->n_params;
		st[s]->n_floats = 0;
		for (size_t k = 0; k < st[s]->n_w; k++)
			st[s]->n_floats += weight_floats(&st[s]->w[k]);
		j->n_params += st[s]->n_floats;
	}
	j->value = calloc(j->n_params ? j->n_params : 1, sizeof(float));
	j->grad = calloc(j->n_params ? j->n_params : 1, sizeof(float));
	if (!j->value || !j->grad)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory for %zu parameters", j->n_params);
	for (int s = 0; s < 2; s++) {
		float **v = calloc(st[s]->n_w + 1, sizeof(*v));
		float **g = calloc(st[s]->n_w + 1, sizeof(*g));
		size_t off = st[s]->offset;
		if (!v || !g) {
			free(v);
			free(g);
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		}
		for (size_t k = 0; k < st[s]->n_w; k++) {
			v[k] = j->value + off;
			g[k] = j->grad + off;
			off += weight_floats(&st[s]->w[k]);
		}
		rc = s == 0 ? m->bind(j->model.self, v, g) : h->bind(j->head.self, v, g);
		free(v);
		free(g);
		if (rc < 0)
			return rc;
	}
	if ((rc = m->init(j->model.self, j->ctx)) < 0 ||
	    (rc = h->init(j->head.self, j->ctx)) < 0)
		return rc;
	return SP_OK;
}

/* The model's embedding table: the weight named "embed" of shape
 * (V, E), or NULL. */
static float *find_embedding(job *j, size_t *out_e, float **out_grad)
{
	size_t off = j->model.offset;
	for (size_t k = 0; k < j->model.n_w; k++) {
		const sp_weight *w = &j->model.w[k];
		const char *dot = strrchr(w->name, '.');
		const char *base = dot ? dot + 1 : w->name;
		if (!strcmp(base, "embed") && w->ndim == 2 &&
		    w->dim[0] == sp_vocab_size(j->vocab)) {
			*out_e = w->dim[1];
			if (out_grad)
				*out_grad = j->grad + off;
			return j->value + off;
		}
		off += weight_floats(w);
	}
	return NULL;
}

/*
 * Pretrained word vectors: each line of the file is a word and its E
 * numbers (GloVe); a first line of two integers (count, E) is word2vec's
 * header.  Rows of vocabulary words found in the file are overwritten;
 * the others keep their random initial values, and are counted.
 */
static int load_vectors(job *j)
{
	const char *path = sp_kv_str(j->enc.kv, "vectors");
	size_t E = 0, found = 0, lineno = 0, cap = 0;
	float *emb, *grad = NULL;
	char *line = NULL;
	float *vec = NULL;
	uint8_t *seen = NULL;
	FILE *f;
	int rc = SP_OK;
	if (!path || !*path)
		return SP_OK;
	emb = find_embedding(j, &E, &grad);
	if (!emb)
		return sp_err(j->ctx, SP_EINVAL, "%s: the model has no embedding table, expected [model] embed = <size> for pretrained vectors",
			      sp_kv_where(j->enc.kv, "vectors"));
	f = fopen(path, "r");
	if (!f)
		return sp_err(j->ctx, SP_EIO, "%s: cannot open: %s", path, strerror(errno));
	vec = malloc(E * sizeof(*vec));
	seen = calloc(sp_vocab_size(j->vocab), 1);
	if (!vec || !seen) {
		free(vec);
		free(seen);
		fclose(f);
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *end, *word;
		size_t n = 0;
		int32_t id;
		lineno++;
		p[strcspn(p, "\r\n")] = '\0';
		if (!*p)
			continue;
		word = p;
		p = strchr(p, ' ');
		if (!p) {
			rc = sp_err(j->ctx, SP_EINPUT, "%s:%zu: expected a word followed by %zu numbers", path, lineno, E);
			break;
		}
		*p++ = '\0';
		if (lineno == 1) {
			/* word2vec's header line: "<count> <dimension>" */
			char *e1, *e2;
			long a = strtol(word, &e1, 10), b = strtol(p, &e2, 10);
			if (*e1 == '\0' && *e2 == '\0' && a > 0 && b > 0) {
				if ((size_t)b != E) {
					rc = sp_err(j->ctx, SP_EINPUT, "%s:1: vectors of dimension %ld, expected %zu ([model] embed)",
						    path, b, E);
					break;
				}
				continue;
			}
		}
		for (n = 0; n < E; n++) {
			errno = 0;
			vec[n] = strtof(p, &end);
			if (end == p || errno || !isfinite(vec[n]))
				break;
			p = end;
		}
		while (*p == ' ')
			p++;
		if (n != E || *p) {
			rc = sp_err(j->ctx, SP_EINPUT, "%s:%zu: '%s' has %s %zu numbers, expected %zu ([model] embed)",
				    path, lineno, word, n < E ? "only" : "more than", n, E);
			break;
		}
		id = sp_vocab_id(j->vocab, word, strlen(word));
		if (id >= 0 && seen[id]) {
			rc = sp_err(j->ctx, SP_EINPUT, "%s:%zu: '%s' appears twice, expected each word once",
				    path, lineno, word);
			break;
		}
		if (id >= 0) {
			memcpy(emb + (size_t)id * E, vec, E * sizeof(*vec));
			seen[id] = 1;
			found++;
		}
	}
	free(line);
	free(vec);
	free(seen);
	fclose(f);
	if (rc < 0)
		return rc;
	say(j, "vectors: %zu of %zu vocabulary entries found in %s; %zu keep their random start%s\n",
	    found, sp_vocab_size(j->vocab), path, sp_vocab_size(j->vocab) - found,
	    sp_kv_bool(j->enc.kv, "freeze") ? " (frozen)" : "");
	if (j->log) {
		sp_runlog_metric(j->log, j->ctx, j->run_id, -1, NULL, "vectors_found", (double)found);
		sp_runlog_metric(j->log, j->ctx, j->run_id, -1, NULL, "vectors_missing",
				 (double)(sp_vocab_size(j->vocab) - found));
	}
	if (sp_kv_bool(j->enc.kv, "freeze")) {
		/* a copy too: decoupled weight decay (adamw) moves weights
		 * even without a gradient */
		j->frozen = emb;
		j->frozen_grad = grad;
		j->frozen_n = sp_vocab_size(j->vocab) * E;
		j->frozen_copy = malloc(j->frozen_n * sizeof(float));
		if (!j->frozen_copy)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		memcpy(j->frozen_copy, emb, j->frozen_n * sizeof(float));
	}
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */
/* ------------------------------------------------------------------ */

static int ensure_batch(job *j, size_t T, size_t B, size_t D)
{
	size_t tb = T * B;
	if (tb > j->cap_tb) {
		free(j->b_ids);
		free(j->b_tgt);
		free(j->b_mask);
		free(j->b_tmask);
		j->b_ids = malloc(tb * sizeof(*j->b_ids));
		j->b_tgt = malloc(tb * sizeof(*j->b_tgt));
		j->b_mask = malloc(tb);
		j->b_tmask = malloc(tb);
		j->cap_tb = tb;
		if (!j->b_ids || !j->b_tgt || !j->b_mask || !j->b_tmask) {
			j->cap_tb = 0;
			return sp_err(j->ctx, SP_ENOMEM, "out of memory for a batch");
		}
	}
	if (B > j->cap_b) {
		free(j->b_len);
		j->b_len = malloc(B * sizeof(*j->b_len));
		j->cap_b = j->b_len ? B : 0;
		if (!j->b_len)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory for a batch");
	}
	if (tb * D > j->cap_dh) {
		free(j->dh);
		j->dh = malloc(tb * D * sizeof(*j->dh));
		j->cap_dh = j->dh ? tb * D : 0;
		if (!j->dh)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory for a batch");
	}
	return SP_OK;
}

typedef struct batch {
	sp_seq x;
	sp_labels y;
} batch;

/* Points b at the job's batch buffers: inputs (T,B), targets (Ty,B). */
static void batch_view(const job *j, size_t T, size_t Ty, size_t B, batch *b)
{
	memset(b, 0, sizeof(*b));
	b->x.T = T;
	b->x.B = B;
	b->x.D = sp_vocab_size(j->vocab);
	b->x.ids = j->b_ids;
	b->x.mask = j->b_mask;
	b->x.len = j->b_len;
	b->y.T = Ty;
	b->y.B = B;
	b->y.id = j->b_tgt;
	b->y.mask = j->b_tmask;
}

/* Lays out examples idx[0..B) of d time-major and right-padded. */
static int make_batch(job *j, const dataset *d, const size_t *idx, size_t B,
		      batch *b)
{
	size_t T = 0, Ty;
	int rc;
	for (size_t k = 0; k < B; k++)
		if ((size_t)d->in_len[idx[k]] > T)
			T = (size_t)d->in_len[idx[k]];
	Ty = j->target == SP_TARGET_CLASS ? 1 : T;
	rc = ensure_batch(j, T, B, model_ops(j)->out_dim(j->model.self));
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < B; k++) {
		size_t e = idx[k];
		size_t n = (size_t)d->in_len[e];
		j->b_len[k] = (int32_t)n;
		for (size_t t = 0; t < T; t++) {
			int real = t < n;
			j->b_ids[t * B + k] = real ? d->ids[d->in_off[e] + t] : 0;
			j->b_mask[t * B + k] = (uint8_t)real;
		}
		for (size_t t = 0; t < Ty; t++) {
			int real = t < (size_t)d->tg_len[e];
			j->b_tgt[t * B + k] = real ? d->ids[d->tg_off[e] + t] : -1;
			j->b_tmask[t * B + k] = (uint8_t)real;
		}
	}
	batch_view(j, T, Ty, B, b);
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Training and evaluation                                             */
/* ------------------------------------------------------------------ */

typedef struct metric_sink {
	job *j;
	int64_t epoch;
	const char *split;
	char line[512];
	size_t used;
	int exact;          /* print every digit (pipeline eval) */
	const char *want;   /* metric that picks the best epoch */
	double wanted;      /* its value */
	int found;
} metric_sink;

static int sink_metric(void *payload, const char *name, double value)
{
	metric_sink *s = payload;
	int rc;
	if (s->j->log) {
		rc = sp_runlog_metric(s->j->log, s->j->ctx, s->j->run_id, s->epoch,
				      s->split, name, value);
		if (rc < 0)
			return rc;
	}
	if (s->want && !strcmp(name, s->want)) {
		s->wanted = value;
		s->found = 1;
	}
	/* per-type breakdowns (f1.PER) stay in the log, not on the screen */
	if (!strchr(name, '.') && s->used < sizeof(s->line)) {
		int w = snprintf(s->line + s->used, sizeof(s->line) - s->used,
				 s->exact ? " %s %.17g" : " %s %.4g", name, value);
		if (w > 0)
			s->used += (size_t)w;
	}
	return 0;
}

static int evaluate_stream(job *j, const dataset *d, size_t bptt, metric_sink *sink);

/* Forward pass over all of d without training; reports the head's
 * metrics (loss, accuracy, f1, ...) to sink.  A language model trained
 * with truncated BPTT is evaluated as it was trained: d as one stream
 * (evaluate_stream); anything else text by text from a zero state. */
static int evaluate(job *j, const dataset *d, metric_sink *sink)
{
	const sp_model_ops *m = model_ops(j);
	const sp_head_ops *h = head_ops(j);
	size_t bs = (size_t)sp_kv_int(j->kv_train, "batch");
	size_t bptt = (size_t)sp_kv_int(j->kv_train, "bptt");
	size_t *idx;
	int rc = SP_OK;
	if (bptt && j->target == SP_TARGET_NEXT_TOKEN)
		return evaluate_stream(j, d, bptt, sink);
	if (bs > d->n)
		bs = d->n ? d->n : 1;
	idx = malloc(bs * sizeof(*idx));
	if (!idx)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	h->metrics_reset(j->head.self);
	for (size_t s = 0; s < d->n; s += bs) {
		size_t B = d->n - s < bs ? d->n - s : bs;
		batch b;
		sp_seq y;
		double loss;
		size_t n_loss;
		for (size_t k = 0; k < B; k++)
			idx[k] = s + k;
		if ((rc = make_batch(j, d, idx, B, &b)) < 0 ||
		    (rc = m->forward(j->model.self, j->ctx, &b.x, &y, 0)) < 0 ||
		    (rc = h->forward(j->head.self, j->ctx, &y, &b.y, &loss, &n_loss, 0)) < 0)
			break;
	}
	free(idx);
	if (rc < 0)
		return rc;
	return h->metrics(j->head.self, j->ctx, sink_metric, sink);
}

/* Every split with data, as final metrics (logged when the job has a
 * run log); exact prints all digits.  One line per split on the output. */
static int evaluate_splits(job *j, int exact, const char *prefix)
{
	const dataset *splits[3] = {&j->train, &j->dev, &j->test};
	static const char *const names[3] = {"train", "dev", "test"};
	for (int s = 0; s < 3; s++) {
		metric_sink sink;
		int rc;
		if (!splits[s]->n)
			continue;
		memset(&sink, 0, sizeof(sink));
		sink.j = j;
		sink.epoch = -1;
		sink.split = names[s];
		sink.exact = exact;
		if ((rc = evaluate(j, splits[s], &sink)) < 0)
			return rc;
		say(j, "%s%-5s%s\n", prefix, names[s], sink.line);
	}
	return SP_OK;
}

static int stop_requested(const job *j)
{
	return j->opts->should_stop && j->opts->should_stop(j->opts->stop_payload);
}

static int make_optim(job *j, sp_optim **out)
{
	sp_kv *kv = j->kv_train;
	const char *kind = sp_kv_str(kv, "optimizer");
	const char *sched = sp_kv_str(kv, "schedule");
	sp_optim_config cfg;
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
		size_t steps = bs ? (j->train.n + bs - 1) / bs : 0;
		cfg.total_steps = steps * (size_t)sp_kv_int(kv, "epochs");
		if (cfg.total_steps <= cfg.warmup)
			cfg.total_steps = cfg.warmup + 1;
	}
	{
		const char *metric = sp_kv_str(kv, "metric");
		cfg.mode = (!*metric && j->target == SP_TARGET_NEXT_TOKEN) ||
				   !strcmp(metric, "loss") || !strcmp(metric, "perplexity")
			   ? SP_PLATEAU_MIN : SP_PLATEAU_MAX;
	}
	{
		int rc = sp_optim_new(out, j->ctx, &cfg, j->n_params);
		if (rc < 0)
			return sp_err_prefix(j->ctx, rc, "%s", sp_kv_section_where(kv));
	}
	return SP_OK;
}

/* The dev metric that picks the best epoch, and whether higher is better. */
static const char *best_metric(const job *j, int *higher_better)
{
	const char *m = sp_kv_str(j->kv_train, "metric");
	if (!m || !*m)
		m = j->target == SP_TARGET_TAGS ? "f1" :
		    j->target == SP_TARGET_CLASS ? "accuracy" : "loss";
	*higher_better = strcmp(m, "loss") != 0 && strcmp(m, "perplexity") != 0;
	return m;
}

/* What a checkpoint adds to a model file so that training can go on
 * exactly where it stopped. */
typedef struct train_state {
	size_t next_epoch;       /* first epoch still to run */
	double best;             /* best dev metric so far (NaN = none) */
	size_t best_epoch, bad_epochs;
	int saved;               /* the best model file exists */
	sp_optim *opt;           /* when saving: its state goes in */
	const void *opt_blob;    /* when resuming: the state to restore */
	size_t opt_size;
	uint64_t rng[4];
	int have_rng;
} train_state;

/* Writes the model file: configuration, vocabularies, weights; with st,
 * also the optimizer and RNG state (a checkpoint to resume from). */
static int save_model(job *j, const char *path, int64_t epoch, const train_state *st)
{
	sp_modelfile_writer *w = NULL;
	stage *stages[2] = {&j->model, &j->head};
	char buf[64];
	int rc;
	size_t len;
	const char *text = sp_pipe_text(j->pipe, &len);
	rc = sp_modelfile_writer_new(&w, j->ctx, path);
	if (rc < 0)
		return rc;
	/* The writer's adders keep their error (and its message) in the
	 * writer; wfail hands it to the context through the commit. */
#define META(k, v)                                                         \
	do {                                                               \
		if ((rc = sp_modelfile_writer_meta(w, (k), (v))) < 0)     \
			goto wfail;                                        \
	} while (0)
	META("pipeline", j->name);
	META("pipe_path", sp_pipe_name(j->pipe));
	META("pipe_text", text);
	{
		/* the --set overrides, one per line, re-applied on load */
		size_t n = 1;
		char *all, *p;
		for (size_t i = 0; i < j->n_ov; i++)
			n += strlen(j->ov[i]) + 1;
		all = malloc(n);
		if (!all) {
			rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
			goto done;
		}
		p = all;
		*p = '\0';
		for (size_t i = 0; i < j->n_ov; i++)
			p += sprintf(p, "%s\n", j->ov[i]);
		rc = sp_modelfile_writer_meta(w, "overrides", all);
		free(all);
		if (rc < 0)
			goto wfail;
	}
	META("seqpipe_version", PACKAGE_VERSION);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)j->seed);
	META("seed", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)epoch);
	META("epoch", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)j->run_id);
	META("run_id", buf);
	META("model.plugin", j->model.plugin->name);
	META("model.component", j->model.comp->name);
	META("model.version", j->model.plugin->version);
	META("head.plugin", j->head.plugin->name);
	META("head.component", j->head.comp->name);
	META("head.version", j->head.plugin->version);
#undef META
	if (st) {
		uint64_t rng[4];
		char best_abs[4096];
		size_t n = sp_optim_state_size(st->opt);
		void *blob = malloc(n ? n : 1);
		if (!blob) {
			rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
			goto done;
		}
		rc = sp_optim_state_save(st->opt, j->ctx, blob, n);
		if (rc < 0) {
			free(blob);
			goto done;
		}
		rc = sp_modelfile_writer_blob(w, "optim", blob, n);
		free(blob);
		if (rc < 0)
			goto wfail;
		absolute_path(best_abs, sizeof(best_abs), j->model_path);
		sp_rng_get_state(j->ctx, rng);
		if ((rc = sp_modelfile_writer_blob(w, "rng", rng, sizeof(rng))) < 0 ||
		    (rc = sp_modelfile_writer_metaf(w, "best", "%.17g", st->best)) < 0 ||
		    (rc = sp_modelfile_writer_metaf(w, "best_epoch", "%zu", st->best_epoch)) < 0 ||
		    (rc = sp_modelfile_writer_metaf(w, "bad_epochs", "%zu", st->bad_epochs)) < 0 ||
		    (rc = sp_modelfile_writer_metaf(w, "saved_best", "%d", st->saved)) < 0 ||
		    (rc = sp_modelfile_writer_meta(w, "best_model", best_abs)) < 0)
			goto wfail;
	}
	if ((rc = sp_modelfile_writer_vocab(w, "input", j->vocab)) < 0 ||
	    (rc = sp_modelfile_writer_vocab(w, "labels", j->labels)) < 0)
		goto wfail;
	for (int s = 0; s < 2; s++) {
		size_t off = stages[s]->offset;
		for (size_t k = 0; k < stages[s]->n_w; k++) {
			char name[256];
			const sp_weight *wt = &stages[s]->w[k];
			snprintf(name, sizeof(name), "%s.%s", stages[s]->section, wt->name);
			rc = sp_modelfile_writer_tensor(w, name, wt->ndim, wt->dim, j->value + off);
			if (rc < 0)
				goto wfail;
			off += weight_floats(wt);
		}
	}
wfail:
	/* with an error kept in the writer, the commit writes nothing and
	 * returns that error with its message */
	rc = sp_modelfile_writer_commit(w, j->ctx);
done:
	sp_modelfile_writer_free(w);
	return rc;
}

/* Makes the folders of path ("models/x.spm" -> "models"). */
static int make_parent_dirs(sp_ctx *ctx, const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return sp_err(ctx, SP_EINVAL, "%s: path too long", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return sp_err(ctx, SP_EIO, "%s: cannot create folder: %s", buf, strerror(errno));
		*p = '/';
	}
	return SP_OK;
}

/*
 * One forward and backward pass over batch b with the gradients zeroed
 * first: the model's forward, the head's loss, the head's backward (of the
 * mean loss over the batch's targets) and BPTT through the model.  *n_loss
 * = 0 means the batch had no targets and nothing was back-propagated.
 */
/* Training forward on batch b up to the loss (gradients zeroed first). */
static int train_forward(job *j, batch *b, double *loss, size_t *n_loss)
{
	const sp_model_ops *m = model_ops(j);
	const sp_head_ops *h = head_ops(j);
	sp_seq y;
	int rc;
	memset(j->grad, 0, j->n_params * sizeof(*j->grad));
	if ((rc = m->forward(j->model.self, j->ctx, &b->x, &y, 1)) < 0 ||
	    (rc = h->forward(j->head.self, j->ctx, &y, &b->y, loss, n_loss, 1)) < 0)
		return rc;
	if (*n_loss && !isfinite(*loss))
		return sp_err(j->ctx, SP_ENUMERIC, "training loss is %s: lower train.lr or set train.clip_norm",
			      isnan(*loss) ? "NaN" : "infinite");
	return SP_OK;
}

/* Backward of the last train_forward through head and model. */
static int train_backward(job *j, batch *b, size_t n_loss)
{
	const sp_model_ops *m = model_ops(j);
	const sp_head_ops *h = head_ops(j);
	size_t out_dim = m->out_dim(j->model.self);
	sp_seq dh, dx;
	int rc;
	if (n_loss == 0)
		return SP_OK;
	memset(j->dh, 0, b->x.T * b->x.B * out_dim * sizeof(*j->dh));
	memset(&dh, 0, sizeof(dh));
	dh.T = b->x.T;
	dh.B = b->x.B;
	dh.D = out_dim;
	dh.x = j->dh;
	dh.mask = b->x.mask;
	dh.len = b->x.len;
	memset(&dx, 0, sizeof(dx));
	if ((rc = h->backward(j->head.self, j->ctx, (double)n_loss, &dh)) < 0 ||
	    (rc = m->backward(j->model.self, j->ctx, &dh, &dx)) < 0)
		return rc;
	return SP_OK;
}

static int forward_backward(job *j, batch *b, double *loss, size_t *n_loss)
{
	int rc = train_forward(j, b, loss, n_loss);
	return rc < 0 ? rc : train_backward(j, b, *n_loss);
}

/* One training step on batch b: forward, backward, update. */
static int train_step(job *j, sp_optim *opt, batch *b, double *loss, size_t *n_loss)
{
	int rc = forward_backward(j, b, loss, n_loss);
	if (rc < 0 || *n_loss == 0)
		return rc;
	if (j->frozen_grad) /* frozen pretrained vectors get no update */
		memset(j->frozen_grad, 0, j->frozen_n * sizeof(float));
	rc = sp_optim_step(opt, j->ctx, j->value, j->grad);
	if (j->frozen)
		memcpy(j->frozen, j->frozen_copy, j->frozen_n * sizeof(float));
	return rc;
}

/*
 * Truncated BPTT over one long stream: the training texts joined into one
 * sequence, cut into B parallel rows; each step trains on the next k
 * positions of every row, starting from the state the previous window
 * ended in (carried, but no gradient flows into it).
 *
 * TBPTT(k1, k2) (Williams and Peng 1990, "An efficient gradient-based
 * algorithm for on-line training of recurrent network trajectories"):
 * every k1 steps, back-propagate through the last k2.  Window w covers
 * positions [w*k1, w*k1 + k2) of every row (clipped at its end) and starts
 * from the state after position w*k1, i.e. k1 steps into window w-1 (the
 * model's carry_at).  Its first k2 - k1 positions were counted by window
 * w-1, so they are context only: targets masked, gradient flowing through
 * them.  Each position is counted once per epoch, as with k1 = k2 (the
 * default, where windows lie side by side and nothing is masked).
 *
 * make_stream joins the examples of d into one sequence (caller frees
 * *out): each example's input and its last target, so the texts follow
 * each other as they were read.  Training joins the training split once;
 * evaluate_stream joins each split it evaluates the same way.
 */
static int make_stream(job *j, const dataset *d, int32_t **out, size_t *n_out)
{
	size_t n = 0;
	int32_t *stream;
	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < d->n; i++)
		n += (size_t)d->in_len[i] + 1;
	stream = malloc((n ? n : 1) * sizeof(*stream));
	if (!stream)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < d->n; i++) {
		size_t len = (size_t)d->in_len[i];
		/* an example is input seq[0..m-1) and target seq[1..m) */
		memcpy(stream + n, d->ids + d->in_off[i], len * sizeof(int32_t));
		n += len;
		stream[n++] = d->ids[d->tg_off[i] + len - 1];
	}
	*out = stream;
	*n_out = n;
	return SP_OK;
}

/* Window [t0, t0+T) of every row of stream (rows of L + 1 positions); the
 * first `skip` positions have no target (context). */
static int make_stream_batch(job *j, const int32_t *stream, size_t t0, size_t T,
			     size_t skip, size_t B, size_t L, batch *b)
{
	int rc = ensure_batch(j, T, B, model_ops(j)->out_dim(j->model.self));
	if (rc < 0)
		return rc;
	for (size_t r = 0; r < B; r++) {
		const int32_t *row = stream + r * L;
		j->b_len[r] = (int32_t)T;
		for (size_t t = 0; t < T; t++) {
			j->b_ids[t * B + r] = row[t0 + t];
			j->b_tgt[t * B + r] = row[t0 + t + 1];
			j->b_mask[t * B + r] = 1;
			j->b_tmask[t * B + r] = t >= skip;
		}
	}
	batch_view(j, T, T, B, b);
	return SP_OK;
}

/*
 * Evaluation of a truncated-BPTT language model the way it was trained:
 * d joined into one stream as make_stream joins the training texts, cut
 * into B = train.batch rows (fewer when d is short: a row needs at least
 * two positions, an input and its target), read in windows of bptt steps
 * side by side with the state carried from window to window, no training
 * (no dropout, no RNG drawn).  Each of the B*L positions is predicted
 * once; the (n - 1) mod B positions after the rows are dropped, as in
 * training.  The carried state is cleared before and after, so training
 * and later evaluations start from zero.  A stream of fewer than two
 * tokens has nothing to predict and reports no metrics.
 */
static int evaluate_stream(job *j, const dataset *d, size_t bptt, metric_sink *sink)
{
	const sp_model_ops *m = model_ops(j);
	const sp_head_ops *h = head_ops(j);
	size_t B = (size_t)sp_kv_int(j->kv_train, "batch"), n, L;
	int32_t *stream;
	int rc, rc2;
	if ((rc = make_stream(j, d, &stream, &n)) < 0)
		return rc;
	if (n < 2)
		B = 0;
	else if (B > n - 1)
		B = n - 1;
	L = B ? (n - 1) / B : 0;
	h->metrics_reset(j->head.self);
	rc = m->carry(j->model.self, j->ctx, 1, 1);
	/* windows side by side: keep the state after each one's last step */
	if (rc >= 0 && SP_HAS_OP(sp_model_ops, m, carry_at))
		rc = m->carry_at(j->model.self, j->ctx, 0);
	for (size_t t0 = 0; rc >= 0 && t0 < L; t0 += bptt) {
		size_t T = L - t0 < bptt ? L - t0 : bptt;
		batch b;
		sp_seq y;
		double loss;
		size_t n_loss;
		if ((rc = make_stream_batch(j, stream, t0, T, 0, B, L, &b)) < 0 ||
		    (rc = m->forward(j->model.self, j->ctx, &b.x, &y, 0)) < 0 ||
		    (rc = h->forward(j->head.self, j->ctx, &y, &b.y, &loss, &n_loss, 0)) < 0)
			break;
	}
	free(stream);
	rc2 = m->carry(j->model.self, j->ctx, 0, 1);
	if (rc < 0)
		return rc;
	if (rc2 < 0)
		return rc2;
	return h->metrics(j->head.self, j->ctx, sink_metric, sink);
}

/* The epoch's next training batch: the next window of the stream (k2 =
 * bptt steps every k1; *pos is where it starts) or the batcher's next
 * bucket.  1 with a batch in b, 0 at the end of the epoch, or a negative
 * code. */
static int next_train_batch(job *j, sp_batcher *batcher, size_t k1, size_t k2,
			    size_t *pos, batch *b)
{
	int rc;
	if (k2) {
		size_t B = (size_t)sp_kv_int(j->kv_train, "batch");
		size_t L = (j->n_stream - 1) / B, t = *pos;
		/* where the last window ended: counted up to there */
		size_t done = t ? t - k1 + k2 : 0;
		if (done >= L)
			return 0;
		*pos += k1;
		rc = make_stream_batch(j, j->stream, t, L - t < k2 ? L - t : k2, done - t, B, L, b);
	} else {
		const size_t *idx;
		size_t B;
		if (!sp_batcher_next(&idx, &B, batcher))
			return 0;
		rc = make_batch(j, &j->train, idx, B, b);
	}
	return rc < 0 ? rc : 1;
}

/* Collects the instruments of layer 0 for the progress line. */
typedef struct instr_sink {
	job *j;
	int64_t epoch;
	double norm[4096];  /* ‖∂L/∂h(t)‖ of layer 0 by step */
	size_t n_norm;
} instr_sink;

static int sink_instrument(void *payload, const char *name, double value)
{
	instr_sink *s = payload;
	unsigned t;
	int rc = sp_runlog_metric(s->j->log, s->j->ctx, s->j->run_id, s->epoch,
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
static int log_instruments(job *j, size_t epoch, int show)
{
	const sp_model_ops *m = model_ops(j);
	size_t bs = (size_t)sp_kv_int(j->kv_train, "batch");
	size_t B = j->train.n < bs ? j->train.n : bs;
	size_t *idx = malloc(B * sizeof(*idx));
	uint64_t rng[4];
	instr_sink *sink = calloc(1, sizeof(*sink));
	batch b;
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
	sink->j = j;
	sink->epoch = (int64_t)epoch;
	/* gate activations after the forward, gradient norms after the
	 * backward (which may overwrite the activations) */
	if ((rc = make_batch(j, &j->train, idx, B, &b)) < 0 ||
	    (rc = train_forward(j, &b, &loss, &n_loss)) < 0 ||
	    (rc = m->instruments(j->model.self, j->ctx, sink_instrument, sink)) < 0 ||
	    (rc = train_backward(j, &b, n_loss)) < 0 ||
	    (n_loss && (rc = m->instruments(j->model.self, j->ctx, sink_instrument, sink)) < 0))
		goto done;
	if (show && sink->n_norm >= 2)
		say(j, "             ‖∂L/∂h(t)‖ of the sample, layer 0: t=1 %.3g, t=%zu %.3g, t=%zu %.3g\n",
		    sink->norm[0], sink->n_norm / 2 + 1, sink->norm[sink->n_norm / 2],
		    sink->n_norm, sink->norm[sink->n_norm - 1]);
done:
	memset(j->grad, 0, j->n_params * sizeof(*j->grad));
	sp_rng_set_state(j->ctx, rng);
	free(idx);
	free(sink);
	return rc;
}

/* The training loop.  Returns SP_EINTR when stopped by the user. */
static int train(job *j, const char *model_path, train_state *st)
{
	const sp_model_ops *m = model_ops(j);
	const sp_head_ops *h = head_ops(j);
	sp_optim *opt = NULL;
	sp_batcher *batcher = NULL;
	size_t *lengths = NULL;
	size_t epochs = (size_t)sp_kv_int(j->kv_train, "epochs");
	size_t bs = (size_t)sp_kv_int(j->kv_train, "batch");
	size_t patience = (size_t)sp_kv_int(j->kv_train, "early_stop");
	int higher_better;
	const char *want = best_metric(j, &higher_better);
	double best = st->best;
	size_t best_epoch = st->best_epoch, bad_epochs = st->bad_epochs, print_every, bptt, stride;
	int instruments;
	int saved = st->saved;
	int rc;

	print_every = (size_t)sp_kv_int(j->kv_train, "print_every");
	instruments = sp_kv_bool(j->kv_train, "instruments");
	if (!print_every)
		print_every = epochs > 20 ? (epochs + 19) / 20 : 1;
	if ((rc = make_optim(j, &opt)) < 0)
		return rc;
	if (st->opt_blob && (rc = sp_optim_state_load(opt, j->ctx, st->opt_blob, st->opt_size)) < 0) {
		sp_optim_free(opt);
		return rc;
	}
	if (st->have_rng)
		sp_rng_set_state(j->ctx, st->rng);
	bptt = (size_t)sp_kv_int(j->kv_train, "bptt");
	stride = (size_t)sp_kv_int(j->kv_train, "bptt_stride");
	if (!stride)
		stride = bptt;
	if (bptt) {
		if (j->target != SP_TARGET_NEXT_TOKEN) {
			rc = sp_err(j->ctx, SP_EINVAL, "%s: truncated BPTT over a stream is for language models, expected bptt = 0 for head '%s'",
				    sp_kv_where(j->kv_train, "bptt"), j->head.comp->name);
			goto done;
		}
		if ((rc = make_stream(j, &j->train, &j->stream, &j->n_stream)) < 0)
			goto done;
		if ((j->n_stream - 1) / bs < 1) {
			rc = sp_err(j->ctx, SP_EINPUT, "%s: %zu training tokens are too few for %zu parallel rows of bptt = %zu",
				    sp_kv_where(j->kv_train, "bptt"), j->n_stream, bs, bptt);
			goto done;
		}
	}
	lengths = malloc((j->train.n ? j->train.n : 1) * sizeof(*lengths));
	if (!lengths) {
		rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < j->train.n; i++)
		lengths[i] = (size_t)j->train.in_len[i];
	rc = sp_batcher_new(&batcher, j->ctx, lengths, j->train.n, bs,
			    sp_kv_bool(j->kv_train, "shuffle"), sp_kv_bool(j->kv_train, "bucket"));
	if (rc < 0)
		goto done;

	for (size_t epoch = st->next_epoch; epoch < epochs; epoch++) {
		double t0 = now_s();
		size_t n_batches = 0, pos = 0;
		batch b;
		metric_sink sink;
		uint64_t clips0 = sp_optim_norm_clips(opt) + sp_optim_value_clips(opt);
		int show;

		h->metrics_reset(j->head.self);
		if (bptt) { /* windows go on from the state the last one ended in */
			rc = m->carry(j->model.self, j->ctx, 1, 1);
			/* or, overlapping, from the state stride steps into it */
			if (rc >= 0 && stride < bptt)
				rc = m->carry_at(j->model.self, j->ctx, stride);
		} else {
			sp_batcher_epoch(batcher, j->ctx);
		}
		while (rc >= 0 && (rc = next_train_batch(j, batcher, stride, bptt, &pos, &b)) > 0) {
			double loss;
			size_t n_loss;
			if (stop_requested(j)) {
				rc = sp_err(j->ctx, SP_EINTR, "interrupted in epoch %zu", epoch + 1);
				break;
			}
			if ((rc = train_step(j, opt, &b, &loss, &n_loss)) < 0)
				rc = sp_err_prefix(j->ctx, rc, "training epoch %zu, %s %zu", epoch + 1,
						   bptt ? "window" : "batch", n_batches + 1);
			n_batches++;
		}
		/* training's carried state ends with the epoch (the next one
		 * starts from zero); evaluate_stream carries its own */
		if (rc >= 0 && bptt)
			rc = m->carry(j->model.self, j->ctx, 0, 1);
		if (rc >= 0 && stride < bptt)
			rc = m->carry_at(j->model.self, j->ctx, 0);
		if (rc < 0)
			goto done;
		/* train: metrics accumulated while training this epoch */
		memset(&sink, 0, sizeof(sink));
		sink.j = j;
		sink.epoch = (int64_t)epoch;
		sink.split = "train";
		if ((rc = h->metrics(j->head.self, j->ctx, sink_metric, &sink)) < 0)
			goto done;
		show = epoch == 0 || epoch + 1 == epochs || (epoch + 1) % print_every == 0;
		if (show)
			say(j, "epoch %3zu/%zu  train%s", epoch + 1, epochs, sink.line);
		if (j->dev.n) {
			memset(&sink, 0, sizeof(sink));
			sink.j = j;
			sink.epoch = (int64_t)epoch;
			sink.split = "dev";
			sink.want = want;
			if ((rc = evaluate(j, &j->dev, &sink)) < 0)
				goto done;
			if (show)
				say(j, "  | dev%s", sink.line);
		}
		{
			uint64_t clips = sp_optim_norm_clips(opt) + sp_optim_value_clips(opt) - clips0;
			double secs = now_s() - t0;
			if (show)
				say(j, "  | %.2fs lr %.3g%s\n", secs, sp_optim_lr(opt),
				    clips ? " (clipped)" : "");
			if (j->log) {
				sp_runlog_metric(j->log, j->ctx, j->run_id, (int64_t)epoch, NULL, "lr", sp_optim_lr(opt));
				sp_runlog_metric(j->log, j->ctx, j->run_id, (int64_t)epoch, NULL, "seconds", secs);
				sp_runlog_metric(j->log, j->ctx, j->run_id, (int64_t)epoch, NULL, "clipped_steps", (double)clips);
				sp_runlog_metric(j->log, j->ctx, j->run_id, (int64_t)epoch, NULL, "grad_norm", sp_optim_last_norm(opt));
			}
		}
		if (instruments && (rc = log_instruments(j, epoch, show)) < 0)
			goto done;
		/* best epoch on dev: keep its model; stop early if asked */
		if (j->dev.n) {
			int better;
			if (!sink.found) {
				rc = sp_err(j->ctx, SP_EINVAL, "%s: the head reports no dev metric '%s'",
					    sp_kv_where(j->kv_train, "metric"), want);
				goto done;
			}
			better = isnan(best) || (higher_better ? sink.wanted > best : sink.wanted < best);
			if (better) {
				best = sink.wanted;
				best_epoch = epoch;
				bad_epochs = 0;
				if ((rc = save_model(j, model_path, (int64_t)epoch, NULL)) < 0)
					goto done;
				saved = 1;
			} else {
				bad_epochs++;
			}
			if ((rc = sp_optim_epoch_end(opt, j->ctx, sink.wanted)) < 0)
				goto done;
			if (patience && bad_epochs >= patience)
				say(j, "early stop: dev %s has not improved for %zu epochs (best %.4g in epoch %zu)\n",
				    want, patience, best, best_epoch + 1);
		} else if ((rc = sp_optim_epoch_end(opt, j->ctx, NAN)) < 0 && rc != SP_ENUMERIC) {
			goto done;
		}
		{
			/* the checkpoint of this epoch, to resume from */
			train_state now = {epoch + 1, best, best_epoch, bad_epochs, saved, opt,
					   NULL, 0, {0, 0, 0, 0}, 0};
			if ((rc = save_model(j, j->ckpt_path, (int64_t)epoch, &now)) < 0)
				goto done;
		}
		if (patience && bad_epochs >= patience)
			break;
	}
	rc = SP_OK;
	if (!saved) {
		/* no dev split: the last epoch's model */
		if ((rc = save_model(j, model_path, (int64_t)epochs - 1, NULL)) < 0)
			goto done;
	} else if (best_epoch + 1 != epochs) {
		/* evaluate the kept (best) model, not the last one */
		sp_modelfile *mf;
		if ((rc = sp_modelfile_open(&mf, j->ctx, model_path)) < 0)
			goto done;
		for (int s = 0; s < 2 && rc >= 0; s++) {
			stage *stg = s ? &j->head : &j->model;
			size_t off = stg->offset;
			for (size_t k = 0; k < stg->n_w && rc >= 0; k++) {
				char name[256];
				const float *data;
				snprintf(name, sizeof(name), "%s.%s", stg->section, stg->w[k].name);
				rc = sp_modelfile_tensor_expect(&data, mf, j->ctx, name,
								stg->w[k].ndim, stg->w[k].dim);
				if (rc >= 0)
					memcpy(j->value + off, data, weight_floats(&stg->w[k]) * sizeof(float));
				off += weight_floats(&stg->w[k]);
			}
		}
		sp_modelfile_free(mf);
		if (rc < 0)
			goto done;
		say(j, "best dev %s %.4g in epoch %zu: kept that model\n", want, best, best_epoch + 1);
	}
	if (j->log) {
		sp_runlog_metric(j->log, j->ctx, j->run_id, -1, NULL, "norm_clips", (double)sp_optim_norm_clips(opt));
		sp_runlog_metric(j->log, j->ctx, j->run_id, -1, NULL, "value_clips", (double)sp_optim_value_clips(opt));
		sp_runlog_metric(j->log, j->ctx, j->run_id, -1, NULL, "steps", (double)sp_optim_steps(opt));
	}
done:
	sp_batcher_free(batcher);
	free(lengths);
	sp_optim_free(opt);
	return rc;
}

/* ------------------------------------------------------------------ */
/* pipeline run                                                        */
/* ------------------------------------------------------------------ */

static int log_config(job *j)
{
	int rc;
	for (size_t s = 0; s < sp_pipe_count(j->pipe); s++) {
		sp_kv *kv = sp_pipe_section_at(j->pipe, s);
		for (size_t i = 0; i < sp_kv_count(kv); i++) {
			rc = sp_runlog_param(j->log, j->ctx, j->run_id, sp_kv_section(kv),
					     sp_kv_key_at(kv, i), sp_kv_text_at(kv, i));
			if (rc < 0)
				return rc;
		}
	}
	{
		stage *st[4] = {&j->tok, &j->enc, &j->model, &j->head};
		int idx = 0;
		for (int s = 0; s < 4; s++) {
			if (!st[s]->comp)
				continue;
			rc = sp_runlog_stage(j->log, j->ctx, j->run_id, idx++, st[s]->section,
					     st[s]->plugin->name, st[s]->comp->name,
					     st[s]->plugin->version, st[s]->plugin->abi);
			if (rc < 0)
				return rc;
		}
	}
	return SP_OK;
}

static int read_and_encode(job *j)
{
	sp_corpus *train = NULL, *dev = NULL, *test = NULL;
	int rc;
	if ((rc = read_split(j, "train", &train)) < 0 ||
	    (rc = read_split(j, "dev", &dev)) < 0 ||
	    (rc = read_split(j, "test", &test)) < 0)
		goto done;
	if ((rc = create_text_stages(j)) < 0)
		goto done;
	if (j->vocab) /* resuming: the checkpoint's vocabulary and labels */
		rc = ((const sp_encoder_ops *)j->enc.comp)->attach(j->enc.self, j->ctx, j->vocab);
	else
		rc = build_vocabularies(j, train, dev, test);
	if (rc < 0)
		goto done;
	if ((rc = encode_split(j, train, sp_kv_str(j->kv_data, "train"), &j->train)) < 0 ||
	    (dev && (rc = encode_split(j, dev, sp_kv_str(j->kv_data, "dev"), &j->dev)) < 0) ||
	    (test && (rc = encode_split(j, test, sp_kv_str(j->kv_data, "test"), &j->test)) < 0))
		goto done;
	if (j->train.n == 0)
		rc = sp_err(j->ctx, SP_EINPUT, "%s: no training examples, expected at least one",
			    sp_kv_where(j->kv_data, "train"));
done:
	sp_corpus_free(train);
	sp_corpus_free(dev);
	sp_corpus_free(test);
	return rc;
}

static int configure_from_model(job *j, sp_modelfile *mf, const char *path,
				const char *const *extra, size_t n_extra);
static int load_weights(job *j, sp_modelfile *mf);

/* Logs a file the run produced, by its absolute path and checksum. */
static int log_artifact(job *j, const char *kind, const char *path)
{
	char crc[SP_MODELFILE_CHECKSUM_LEN + 1], abs_path[4096];
	int64_t bytes;
	int rc = sp_modelfile_checksum(crc, &bytes, j->ctx, path);
	if (rc < 0)
		return rc;
	absolute_path(abs_path, sizeof(abs_path), path);
	return sp_runlog_artifact(j->log, j->ctx, j->run_id, kind, abs_path, bytes, crc);
}

/* Copies file src to dst (the best model of the run a checkpoint came
 * from becomes the resumed run's). */
static int copy_file(sp_ctx *ctx, const char *src, const char *dst)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(src, "rb"), *out;
	if (!in)
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", src, strerror(errno));
	out = fopen(dst, "wb");
	if (!out) {
		fclose(in);
		return sp_err(ctx, SP_EIO, "%s: cannot create: %s", dst, strerror(errno));
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(in) || fclose(out) != 0) {
		fclose(in);
		return sp_err(ctx, SP_EIO, "%s: cannot write: %s", dst, strerror(errno));
	}
	fclose(in);
	return SP_OK;
}

/* The training state a checkpoint holds (borrowing its blobs). */
static int resume_state(job *j, sp_modelfile *ck, const char *path, train_state *st)
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
	if (st->saved) {
		const char *best_model = sp_modelfile_meta(ck, "best_model");
		if (!best_model)
			return sp_err(j->ctx, SP_EINPUT, "%s: checkpoint names no best model file", path);
		if ((rc = copy_file(j->ctx, best_model, j->model_path)) < 0)
			return sp_err_prefix(j->ctx, rc, "resuming from %s", path);
	}
	return SP_OK;
}

int sp_runner_run(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		  const sp_runner_opts *opts, int64_t *out_run_id)
{
	job j;
	char model_path[4096];
	sp_modelfile *ck = NULL;
	train_state st = {0, NAN, 0, 0, 0, NULL, NULL, 0, {0, 0, 0, 0}, 0};
	const char *db;
	int rc;
	size_t len;

	job_init(&j, ctx, reg, opts);
	*out_run_id = 0;
	if (opts->resume_path) {
		/* the checkpoint's configuration, and --set on top of it */
		if ((rc = sp_modelfile_open(&ck, ctx, opts->resume_path)) < 0 ||
		    (rc = configure_from_model(&j, ck, opts->resume_path, opts->overrides,
					       opts->n_overrides)) < 0 ||
		    (rc = sp_modelfile_vocab(&j.vocab, ck, ctx, "input")) < 0 ||
		    (rc = sp_modelfile_vocab(&j.labels, ck, ctx, "labels")) < 0)
			goto done;
	} else {
		rc = job_configure(&j, pipe_path, NULL, opts->overrides, opts->n_overrides);
		if (rc < 0)
			goto done;
	}
	db = opts->db_path ? opts->db_path : sp_kv_str(j.kv_pipeline, "db");
	if ((rc = sp_runlog_open(&j.log, ctx, db)) < 0)
		goto done;
	{
		const char *text = sp_pipe_text(j.pipe, &len);
		rc = sp_runlog_begin(&j.run_id, j.log, ctx, j.name, sp_pipe_name(j.pipe), text, NULL,
				     j.seed, PACKAGE_VERSION);
		if (rc < 0)
			goto done;
		*out_run_id = j.run_id;
	}
	if ((rc = log_config(&j)) < 0)
		goto done;
	if (ck && (rc = sp_runlog_param(j.log, ctx, j.run_id, "resume", "from", opts->resume_path)) < 0)
		goto done;
	say(&j, "run %lld: pipeline %s (%s), seed %llu, log %s\n", (long long)j.run_id, j.name,
	    sp_pipe_name(j.pipe), (unsigned long long)j.seed, db);

	{
		const char *save = sp_kv_str(j.kv_train, "save");
		if (save && *save)
			snprintf(model_path, sizeof(model_path), "%s", save);
		else
			snprintf(model_path, sizeof(model_path), "models/%s-run%lld.spm", j.name,
				 (long long)j.run_id);
		if ((rc = make_parent_dirs(ctx, model_path)) < 0)
			goto done;
		j.model_path = model_path;
		/* "models/x.spm" -> "models/x.last.spm" */
		len = strlen(model_path);
		j.ckpt_path = malloc(len + 16);
		if (!j.ckpt_path) {
			rc = sp_err(ctx, SP_ENOMEM, "out of memory");
			goto done;
		}
		if (len > 4 && !strcmp(model_path + len - 4, ".spm"))
			snprintf(j.ckpt_path, len + 16, "%.*s.last.spm", (int)(len - 4), model_path);
		else
			snprintf(j.ckpt_path, len + 16, "%s.last.spm", model_path);
	}
	if ((rc = read_and_encode(&j)) < 0)
		goto done;
	if ((rc = build_model(&j)) < 0)
		goto done;
	if (ck) {
		if ((rc = load_weights(&j, ck)) < 0 ||
		    (rc = resume_state(&j, ck, opts->resume_path, &st)) < 0)
			goto done;
		say(&j, "resuming from %s after epoch %zu\n", opts->resume_path, st.next_epoch);
	} else if ((rc = load_vectors(&j)) < 0) {
		goto done;
	}
	say(&j, "data: %zu train, %zu dev, %zu test sequences; vocabulary %zu",
	    j.train.n, j.dev.n, j.test.n, sp_vocab_size(j.vocab));
	if (j.target != SP_TARGET_NEXT_TOKEN)
		say(&j, ", labels %zu", sp_vocab_size(j.labels));
	say(&j, "\nmodel: %s -> %s, %zu parameters\n", j.model.comp->name, j.head.comp->name,
	    j.n_params);
	sp_runlog_metric(j.log, ctx, j.run_id, -1, NULL, "parameters", (double)j.n_params);

	if ((rc = train(&j, model_path, &st)) < 0)
		goto done;

	/* final evaluation of the kept model */
	if ((rc = evaluate_splits(&j, 0, "final ")) < 0)
		goto done;
	if ((rc = log_artifact(&j, "model", model_path)) < 0)
		goto done;
	j.model_logged = 1;
	say(&j, "model saved to %s\n", model_path);
	rc = sp_runlog_end(j.log, ctx, j.run_id, SP_RUN_FINISHED, NULL);
	if (rc >= 0)
		say(&j, "run %lld finished\n", (long long)j.run_id);
done:
	if (rc < 0 && j.log && j.run_id > 0) {
		/* keep what was logged; record why it ended */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", sp_errmsg(ctx));
		sp_runlog_event(j.log, ctx, j.run_id, SP_LOG_WARN, msg);
		sp_runlog_end(j.log, ctx, j.run_id,
			      rc == SP_EINTR ? SP_RUN_INTERRUPTED : SP_RUN_FAILED, msg);
		sp_err(ctx, rc, "%s", msg);
	}
	if (j.log && j.run_id > 0 && j.ckpt_path) {
		/* the checkpoint, and a best model a failed run had saved,
		 * logged however the run ended: a failed or interrupted run
		 * resumes from them */
		char keep[1024];
		snprintf(keep, sizeof(keep), "%s", sp_errmsg(ctx));
		if (access(j.ckpt_path, F_OK) == 0)
			log_artifact(&j, "checkpoint", j.ckpt_path);
		if (!j.model_logged && access(model_path, F_OK) == 0)
			log_artifact(&j, "model", model_path);
		sp_err(ctx, rc, "%s", keep);
	}
	sp_modelfile_free(ck);
	job_fini(&j);
	return rc;
}

int sp_runner_check(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		    const sp_runner_opts *opts)
{
	job j;
	int rc;
	job_init(&j, ctx, reg, opts);
	rc = job_configure(&j, pipe_path, NULL, opts->overrides, opts->n_overrides);
	if (rc >= 0)
		rc = create_text_stages(&j);
	if (rc >= 0) {
		/* the model's and head's own checks of their values, on a
		 * stand-in vocabulary */
		void *self = NULL, *head = NULL;
		sp_vocab *v = NULL;
		sp_head_env env;
		static const char *const toks[] = {"a", "b", "c", "d"};
		if ((rc = sp_vocab_new(&v)) < 0)
			rc = sp_err(ctx, rc, "vocabulary: out of memory");
		for (int i = 0; i < 4 && rc >= 0; i++)
			rc = sp_vocab_add(v, ctx, toks[i], 1, 1, NULL);
		if (rc >= 0)
			rc = model_ops(&j)->create(&self, ctx, j.model.kv, 4);
		if (rc >= 0)
			rc = check_causal(&j, self);
		if (rc >= 0) {
			memset(&env, 0, sizeof(env));
			env.size = sizeof(env);
			env.input = v;
			env.labels = v;
			rc = head_ops(&j)->create(&head, ctx, j.head.kv,
						  model_ops(&j)->out_dim(self), &env);
		}
		head_ops(&j)->destroy(head);
		model_ops(&j)->destroy(self);
		sp_vocab_free(v);
	}
	job_fini(&j);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Loading a trained model (predict, trace --trained)                  */
/* ------------------------------------------------------------------ */

static int load_weights(job *j, sp_modelfile *mf)
{
	stage *st[2] = {&j->model, &j->head};
	for (int s = 0; s < 2; s++) {
		size_t off = st[s]->offset;
		for (size_t k = 0; k < st[s]->n_w; k++) {
			const sp_weight *w = &st[s]->w[k];
			char name[256];
			int rc;
			const float *data;
			snprintf(name, sizeof(name), "%s.%s", st[s]->section, w->name);
			rc = sp_modelfile_tensor_expect(&data, mf, j->ctx, name, w->ndim, w->dim);
			if (rc < 0)
				return rc;
			memcpy(j->value + off, data, weight_floats(w) * sizeof(float));
			off += weight_floats(w);
		}
	}
	return SP_OK;
}

/* Finds the model file: --model, else the latest finished run's. */
static int find_model_path(job *j, const char *pipe_path, char *out, size_t n)
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
	rc = job_configure(j, pipe_path, NULL, j->opts->overrides, j->opts->n_overrides);
	if (rc < 0)
		return rc;
	db = j->opts->db_path ? j->opts->db_path : sp_kv_str(j->kv_pipeline, "db");
	if (access(db, F_OK) != 0) /* reading must not create an empty log */
		return sp_err(j->ctx, SP_ENOTFOUND, "%s: no run log, expected one with a finished run of '%s': run `pipeline run %s` first (or give --model FILE)",
			      db, j->name, pipe_path);
	if ((rc = sp_runlog_open(&log, j->ctx, db)) < 0)
		return rc;
	rc = sp_runlog_find_latest(&run_id, log, j->ctx, j->name, SP_RUN_FINISHED);
	if (rc == SP_ENOTFOUND)
		rc = sp_err(j->ctx, rc, "%s: no finished run of pipeline '%s', expected one: run `pipeline run %s` first (or give --model FILE)",
			    db, j->name, pipe_path);
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
				    out, (long long)run_id, j->name, now, logged);
	}
	/* start again from the model's own configuration */
	job_fini(j);
	job_init(j, j->ctx, j->reg, j->opts);
	return rc;
}

/* Configures the job from a model file: its stored .pipe text and
 * overrides, then `extra` overrides on top. */
static int configure_from_model(job *j, sp_modelfile *mf, const char *path,
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
	rc = job_configure(j, pipe_path, text, ov, n_ov);
	free(ov);
	free(copy);
	return rc;
}

/* Rebuilds the job from a model file: its configuration, vocabularies
 * and weights. */
static int job_from_model(job *j, const char *path)
{
	sp_modelfile *mf = NULL;
	int rc;
	if ((rc = sp_modelfile_open(&mf, j->ctx, path)) < 0)
		return rc;
	if ((rc = configure_from_model(j, mf, path, NULL, 0)) < 0 ||
	    (rc = create_text_stages(j)) < 0 ||
	    (rc = sp_modelfile_vocab(&j->vocab, mf, j->ctx, "input")) < 0 ||
	    (rc = sp_modelfile_vocab(&j->labels, mf, j->ctx, "labels")) < 0 ||
	    (rc = ((const sp_encoder_ops *)j->enc.comp)->attach(j->enc.self, j->ctx, j->vocab)) < 0 ||
	    (rc = build_model(j)) < 0 || (rc = load_weights(j, mf)) < 0)
		goto done;
done:
	sp_modelfile_free(mf);
	return rc;
}

/* Tokenizes and encodes one input text into ids (caller frees). */
static int encode_input(job *j, const char *text, int32_t **out, size_t *n_out,
			toklist *t)
{
	int32_t *ids;
	size_t m = 0;
	int32_t bos = sp_vocab_special(j->vocab, SP_SPECIAL_BOS);
	int rc;
	t->ctx = j->ctx;
	toklist_clear(t);
	if (j->has_tok)
		rc = ((const sp_tokenizer_ops *)j->tok.comp)->tokenize(j->tok.self, j->ctx, text, strlen(text), toklist_push, t);
	else {
		/* conll pipelines: the input is split at white space */
		const char *p = text;
		rc = SP_OK;
		while (*p && rc >= 0) {
			size_t n;
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			n = strcspn(p, " \t\r\n");
			if (n)
				rc = toklist_push(t, p, n, (size_t)(p - text));
			p += n;
		}
	}
	if (rc < 0)
		return sp_err_prefix(j->ctx, rc, "--input");
	ids = malloc((t->n + 2) * sizeof(*ids));
	if (!ids)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	if (j->target == SP_TARGET_NEXT_TOKEN && bos >= 0)
		ids[m++] = bos;
	for (size_t k = 0; k < t->n; k++) {
		rc = encode_token(j, t->buf + t->off[k], t->tlen[k], &ids[m++]);
		if (rc < 0) {
			free(ids);
			return sp_err_prefix(j->ctx, rc, "--input");
		}
	}
	if (m == 0) {
		free(ids);
		return sp_err(j->ctx, SP_EINVAL, "--input: no tokens in '%s', expected some text", text);
	}
	*out = ids;
	*n_out = m;
	return SP_OK;
}

/* The model and head on one input sequence ids[0..n) (batch of one, no
 * targets); b is left describing it. */
static int run_input(job *j, const int32_t *ids, size_t n, batch *b)
{
	dataset d;
	size_t idx = 0;
	int32_t *tg = calloc(n, sizeof(*tg));
	sp_seq y;
	int rc;
	memset(&d, 0, sizeof(d));
	if (!tg)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	rc = dataset_add(j, &d, ids, n, tg, j->target == SP_TARGET_CLASS ? 1 : n);
	free(tg);
	if (rc >= 0) /* the batch buffers hold copies; d can go */
		rc = make_batch(j, &d, &idx, 1, b);
	dataset_fini(&d);
	if (rc >= 0)
		rc = model_ops(j)->forward(j->model.self, j->ctx, &b->x, &y, 0);
	if (rc >= 0)
		rc = head_ops(j)->forward(j->head.self, j->ctx, &y, NULL, NULL, NULL, 0);
	return rc;
}

/* Escapes a token for display: "\n" for newline, quotes kept. */
static void print_token(FILE *f, const char *tok)
{
	for (const char *p = tok; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else
			fputc(*p, f);
	}
}

typedef struct pred_sink {
	job *j;
	size_t want_t;      /* only this step (lm), or every step */
	int all_steps;
	const toklist *tokens;
	size_t last_t;
	int started;
} pred_sink;

static int print_pred(void *payload, size_t t, size_t b, size_t k, int32_t id, float p)
{
	pred_sink *s = payload;
	FILE *f = s->j->out;
	(void)b;
	if (!f || (!s->all_steps && t != s->want_t))
		return 0;
	if (s->all_steps && (!s->started || t != s->last_t)) {
		if (s->started)
			fputc('\n', f);
		if (s->tokens && t < s->tokens->n)
			fprintf(f, "%-20s", s->tokens->buf + s->tokens->off[t]);
		else
			fprintf(f, "%-20s", "");
		s->last_t = t;
		s->started = 1;
	}
	if (!s->all_steps && k == 0 && s->j->target == SP_TARGET_NEXT_TOKEN)
		fputs("next:", f);
	fputs(k ? "  " : (s->all_steps ? "" : " "), f);
	fputc('\'', f);
	print_token(f, sp_vocab_token(s->j->labels, id));
	fprintf(f, "' %.3f", p);
	return 0;
}

int sp_runner_eval(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		   const sp_runner_opts *opts)
{
	job j;
	char path[4096];
	sp_modelfile *mf = NULL;
	int rc;

	job_init(&j, ctx, reg, opts);
	/* the model's configuration, with --set on top (e.g. another
	 * data.test), its vocabularies and its weights */
	if ((rc = find_model_path(&j, pipe_path, path, sizeof(path))) < 0 ||
	    (rc = sp_modelfile_open(&mf, ctx, path)) < 0 ||
	    (rc = configure_from_model(&j, mf, path, opts->overrides, opts->n_overrides)) < 0 ||
	    (rc = sp_modelfile_vocab(&j.vocab, mf, ctx, "input")) < 0 ||
	    (rc = sp_modelfile_vocab(&j.labels, mf, ctx, "labels")) < 0 ||
	    (rc = read_and_encode(&j)) < 0 || (rc = build_model(&j)) < 0 ||
	    (rc = load_weights(&j, mf)) < 0)
		goto done;
	say(&j, "model %s\n", path);
	rc = evaluate_splits(&j, 1, "");
done:
	sp_modelfile_free(mf);
	job_fini(&j);
	return rc;
}

int sp_runner_predict(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		      const sp_runner_opts *opts)
{
	job j;
	char path[4096];
	int32_t *ids = NULL;
	size_t n = 0;
	toklist t = {0};
	batch b;
	sp_seq y;
	int rc;

	job_init(&j, ctx, reg, opts);
	if ((rc = find_model_path(&j, pipe_path, path, sizeof(path))) < 0 ||
	    (rc = job_from_model(&j, path)) < 0 ||
	    (rc = encode_input(&j, opts->input, &ids, &n, &t)) < 0)
		goto done;
	/* carried state lets generation feed one token at a time */
	if ((rc = model_ops(&j)->carry(j.model.self, ctx,
				       j.target == SP_TARGET_NEXT_TOKEN && opts->generate, 1)) < 0 ||
	    (rc = run_input(&j, ids, n, &b)) < 0)
		goto done;
	say(&j, "model %s\n", path);
	{
		pred_sink s;
		memset(&s, 0, sizeof(s));
		s.j = &j;
		s.want_t = n - 1;
		s.all_steps = j.target == SP_TARGET_TAGS;
		s.tokens = &t;
		if (j.target == SP_TARGET_CLASS) {
			s.want_t = 0;
			say(&j, "label:");
		}
		rc = head_ops(&j)->predict(j.head.self, ctx,
					   j.target == SP_TARGET_TAGS ? 1 : opts->top_k, print_pred, &s);
		if (rc < 0)
			goto done;
		say(&j, "\n");
	}
	if (j.target == SP_TARGET_NEXT_TOKEN && opts->generate) {
		/* sampling: feed each drawn token back in, state carried */
		int32_t eos = sp_vocab_special(j.vocab, SP_SPECIAL_EOS);
		size_t pos = n - 1;
		/* carried state: each drawn token is fed back alone */
		if (opts->seed >= 0)
			sp_rng_seed(ctx, (uint64_t)opts->seed);
		if (j.out) {
			fputs("generated: ", j.out);
			fputs(opts->input, j.out);
		}
		for (size_t g = 0; g < opts->generate; g++) {
			int32_t next;
			rc = head_ops(&j)->sample(j.head.self, ctx, pos, 0, opts->temperature, &next);
			if (rc < 0)
				goto done;
			/* the end of one text starts the next: a new line */
			if (j.out)
				fputs(next == eos ? "\n" : sp_vocab_token(j.vocab, next), j.out);
			j.b_ids[0] = next;
			j.b_mask[0] = 1;
			j.b_len[0] = 1;
			b.x.T = 1;
			b.y.T = 1;
			if ((rc = model_ops(&j)->forward(j.model.self, ctx, &b.x, &y, 0)) < 0 ||
			    (rc = head_ops(&j)->forward(j.head.self, ctx, &y, NULL, NULL, NULL, 0)) < 0)
				goto done;
			pos = 0;
		}
		say(&j, "\n");
	}
done:
	free(ids);
	toklist_fini(&t);
	job_fini(&j);
	return rc;
}

/* ------------------------------------------------------------------ */
/* pipeline trace                                                      */
/* ------------------------------------------------------------------ */

static void print_matrix(FILE *f, const char *indent, const float *v, size_t rows,
			 size_t cols)
{
	for (size_t r = 0; r < rows; r++) {
		fprintf(f, "%s%s", indent, r == 0 ? "[" : " ");
		for (size_t c = 0; c < cols; c++)
			fprintf(f, "%s%8.4f", c ? " " : "", v[r * cols + c]);
		fprintf(f, "%s\n", r + 1 == rows ? " ]" : "");
	}
}

typedef struct trace_sink {
	FILE *f;
	const sp_vocab *labels;
} trace_sink;

/* Prints s left-aligned in width columns, counting UTF-8 characters
 * (the course's "·" and "ᵀ" are one column, several bytes). */
static void print_padded(FILE *f, const char *s, int width)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	fputs(s, f);
	for (; n < width; n++)
		fputc(' ', f);
}

static int print_trace(void *payload, size_t t, const char *label, const float *v,
		       size_t rows, size_t cols)
{
	trace_sink *s = payload;
	char shape[32];
	(void)t;
	snprintf(shape, sizeof(shape), "(%zux%zu)", rows, cols);
	fputs("  ", s->f);
	print_padded(s->f, label, 28);
	if (cols == 1 && rows <= 16) {
		/* a column vector, written as a transposed row */
		print_padded(s->f, shape, 9);
		fputc('[', s->f);
		for (size_t r = 0; r < rows; r++)
			fprintf(s->f, "%s%7.4f", r ? " " : "", v[r]);
		fprintf(s->f, " ]ᵀ\n");
	} else if (rows * cols <= 400) {
		fprintf(s->f, "%s\n", shape);
		print_matrix(s->f, "      ", v, rows, cols);
	} else {
		fprintf(s->f, "%s  [%zu values, not shown]\n", shape, rows * cols);
	}
	return 0;
}

int sp_runner_trace(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		    const sp_runner_opts *opts)
{
	job j;
	char path[4096];
	int32_t *ids = NULL;
	size_t n = 0;
	toklist t = {0};
	batch b;
	FILE *f = opts->out ? opts->out : stdout;
	int rc;

	job_init(&j, ctx, reg, opts);
	if (opts->trained || opts->model_path) {
		if ((rc = find_model_path(&j, pipe_path, path, sizeof(path))) < 0 ||
		    (rc = job_from_model(&j, path)) < 0)
			goto done;
	} else {
		/* initial weights: the vocabulary from the training split,
		 * the weights from the seed, exactly as `run` starts */
		sp_corpus *train = NULL;
		if ((rc = job_configure(&j, pipe_path, NULL, opts->overrides, opts->n_overrides)) < 0 ||
		    (rc = read_split(&j, "train", &train)) < 0)
			goto done;
		rc = create_text_stages(&j);
		if (rc >= 0) {
			/* build, but do not store, the vocabulary */
			const sp_encoder_ops *enc = (const sp_encoder_ops *)j.enc.comp;
			t.ctx = ctx;
			for (size_t i = 0; i < sp_corpus_count(train) && rc >= 0; i++) {
				rc = example_tokens(&j, train, sp_kv_str(j.kv_data, "train"), i, &t);
				for (size_t k = 0; k < t.n && rc >= 0; k++)
					rc = enc->observe(j.enc.self, ctx, t.buf + t.off[k], t.tlen[k]);
			}
			if (rc >= 0 && (rc = sp_vocab_new(&j.vocab)) < 0)
				rc = sp_err(ctx, rc, "vocabulary: out of memory");
			if (rc >= 0 && (rc = enc->finish(j.enc.self, ctx, j.vocab)) >= 0)
				rc = enc->attach(j.enc.self, ctx, j.vocab);
			if (rc >= 0 && j.target == SP_TARGET_NEXT_TOKEN &&
			    (rc = sp_vocab_clone(&j.labels, j.vocab)) < 0)
				rc = sp_err(ctx, rc, "labels: out of memory");
			else if (rc >= 0 && j.target != SP_TARGET_NEXT_TOKEN)
				rc = sp_err(ctx, SP_EINVAL, "trace with initial weights works for language models; for head '%s' use --trained",
					    j.head.comp->name);
		}
		sp_corpus_free(train);
		if (rc < 0 || (rc = build_model(&j)) < 0)
			goto done;
		path[0] = '\0';
	}
	if ((rc = encode_input(&j, opts->input, &ids, &n, &t)) < 0)
		goto done;
	if ((rc = run_input(&j, ids, n, &b)) < 0)
		goto done;

	fprintf(f, "Forward propagation of %s (%s -> %s) on \"%s\"\n", j.name,
		j.model.comp->name, j.head.comp->name, opts->input);
	fprintf(f, "vocabulary (V = %zu): {", sp_vocab_size(j.vocab));
	for (size_t i = 0; i < sp_vocab_size(j.vocab); i++) {
		fputs(i ? ", " : "", f);
		print_token(f, sp_vocab_token(j.vocab, (int32_t)i));
	}
	fprintf(f, "}  (one-hot: token i is the V-vector with a 1 at row i)\n");
	if (path[0])
		fprintf(f, "weights: trained, from %s\n", path);
	else
		fprintf(f, "weights: initial, from seed %llu (use --trained for the trained ones)\n",
			(unsigned long long)j.seed);
	fprintf(f, "\nParameters (%zu in all)\n", j.n_params);
	{
		/* the model shows its weights in the course's orientation when
		 * it can; otherwise, and for the head, as stored */
		trace_sink ts = {f, j.labels};
		stage *st[2] = {&j.model, &j.head};
		for (int s = 0; s < 2; s++) {
			size_t off = st[s]->offset;
			if (s == 0 && model_ops(&j)->trace) {
				rc = model_ops(&j)->trace(j.model.self, ctx, SP_TRACE_PARAMS, 0,
							  print_trace, &ts);
				if (rc < 0)
					goto done;
				continue;
			}
			for (size_t k = 0; k < st[s]->n_w; k++) {
				const sp_weight *w = &st[s]->w[k];
				size_t rows = w->dim[0], cols = weight_floats(w) / w->dim[0];
				print_trace(&ts, SP_TRACE_PARAMS, w->name, j.value + off, rows, cols);
				off += weight_floats(w);
			}
		}
	}
	{
		trace_sink ts = {f, j.labels};
		for (size_t step = 0; step < n; step++) {
			fprintf(f, "\nt = %zu   input '", step + 1);
			print_token(f, sp_vocab_token(j.vocab, ids[step]));
			fprintf(f, "'\n");
			if (model_ops(&j)->trace &&
			    (rc = model_ops(&j)->trace(j.model.self, ctx, step, 0, print_trace, &ts)) < 0)
				goto done;
			if (head_ops(&j)->trace &&
			    (rc = head_ops(&j)->trace(j.head.self, ctx, step, 0, print_trace, &ts)) < 0)
				goto done;
			if (j.target == SP_TARGET_NEXT_TOKEN) {
				pred_sink s;
				memset(&s, 0, sizeof(s));
				s.j = &j;
				s.want_t = step;
				fprintf(f, "  prediction ");
				j.out = f;
				rc = head_ops(&j)->predict(j.head.self, ctx, 1, print_pred, &s);
				if (rc < 0)
					goto done;
				fprintf(f, "\n");
			}
		}
	}
done:
	free(ids);
	toklist_fini(&t);
	job_fini(&j);
	return rc;
}
