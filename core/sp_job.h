/*
 * sp_job.h: one command's job: the .pipe as configured (overrides on
 * top), its four stages resolved to plugin components, and the parts
 * the other runner modules fill (the encoded splits, the parameter
 * arenas, the batch buffers, the observer of the run).  Each part is a
 * sub-struct, and a function takes the part it needs where it can.
 *
 * Host-only (not installed).
 */
#ifndef SP_JOB_H
#define SP_JOB_H

#include <stdint.h>
#include <stdio.h>

#include "sp_batch.h"
#include "sp_ctx.h"
#include "sp_dist.h"
#include "sp_extras.h"
#include "sp_kv.h"
#include "sp_modelfile.h"
#include "sp_observer.h"
#include "sp_params.h"
#include "sp_pipe.h"
#include "sp_plugin.h"
#include "sp_registry.h"
#include "sp_runner.h"
#include "sp_splits.h"
#include "sp_stack.h"
#include "sp_task.h"

/* A [section] resolved to a component, with the weights it declared. */
typedef struct sp_stage {
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
} sp_stage;

/* The configuration: the parsed .pipe with the overrides applied. */
typedef struct sp_job_config {
	sp_pipe *pipe;
	char **ov;               /* the --set overrides in effect (owned) */
	size_t n_ov;
	char *name;              /* pipeline name */
	sp_kv *kv_pipeline, *kv_data, *kv_train; /* borrowed */
	uint64_t seed;
	const sp_reader_ops *reader; /* [data] format (sp_readers.h) */
	sp_param_spec *data_spec;    /* host data keys + the reader's (owned) */
} sp_job_config;

/* The four stages and the task the head declares. */
typedef struct sp_stages {
	sp_stage tok, enc, model, head;
	int has_tok;
	sp_task task;
	/* Stacked model stages: [model2].. resolved here (their self stays
	 * NULL: the stack owns the instances), and `model` then drives the
	 * stack (sp_stack.h), `first` being [model]'s own component. */
	sp_stage more[SP_STACK_MAX - 1];
	size_t n_more;
	const sp_component *first;
	int chars;               /* a model stage reads each token's characters */
} sp_stages;

/* The files a run writes. */
typedef struct sp_run_files {
	const char *model;       /* where the kept (best or last) model goes */
	char *ckpt;              /* where the checkpoint of every epoch goes */
	int model_logged;        /* the model artifact is recorded */
} sp_run_files;

typedef struct sp_job {
	sp_ctx *ctx;
	sp_registry *reg;
	const sp_runner_opts *opts;
	FILE *out;               /* progress; NULL = quiet */
	sp_job_config cfg;
	sp_stages st;
	sp_splits data;
	sp_params par;
	sp_batchbuf buf;
	sp_observer_ref obs;     /* empty unless the job is a run */
	int64_t run_id;
	sp_run_files files;
	int diverged;            /* training stopped: the loss diverged */
	sp_dist *dist;           /* the ranks of a data-parallel run; NULL = alone */
	sp_extras extras;        /* counted, not trained: saved with the weights */
} sp_job;

static inline const sp_model_ops *sp_model_of(const sp_stages *s)
{
	return (const sp_model_ops *)s->model.comp;
}

static inline const sp_head_ops *sp_head_of(const sp_stages *s)
{
	return (const sp_head_ops *)s->head.comp;
}

/* An empty job for one command. */
void sp_job_init(sp_job *j, sp_ctx *ctx, sp_registry *reg,
		 const sp_runner_opts *opts);
/* Frees everything the job holds; accepts a half-built job. */
void sp_job_fini(sp_job *j);

/* Parses the pipe (from a file, or from text stored in a model file),
 * applies the overrides, resolves and validates every section. */
int sp_job_configure(sp_job *j, const char *pipe_path, const char *text,
		     const char *const *overrides, size_t n_overrides);
/* Configures the job from a model file: its stored .pipe text and
 * overrides, then `extra` overrides on top. */
int sp_job_configure_from_model(sp_job *j, sp_modelfile *mf, const char *path,
				const char *const *extra, size_t n_extra);
/* Creates the model (one stage, or the stack of [model]..) for inputs
 * of size in_dim into *out (caller owns; destroy through sp_model_of). */
int sp_job_model_create(sp_job *j, void **out, size_t in_dim);

/* The model's forward on batch b (its characters first, when a stage
 * reads them and b has them). */
int sp_job_forward(sp_job *j, const sp_batch *b, sp_seq *y, int train);

/* Creates the tokenizer (if any) and the encoder. */
int sp_job_create_text_stages(sp_job *j);

#endif /* SP_JOB_H */
