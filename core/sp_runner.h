/*
 * sp_runner.h: what `pipeline run | check | predict | trace` do with a
 * .pipe file: resolve its stages to plugins, read and encode the data,
 * build the model, train it with backpropagation through time, evaluate,
 * save it, and log everything to the run log.
 *
 * The runner writes human-readable progress to opts->out (the caller's
 * stream; NULL = quiet).  Errors are returned with a one-line message in
 * ctx that names the file, line and what was expected.
 */
#ifndef SP_RUNNER_H
#define SP_RUNNER_H

#include <stdint.h>
#include <stdio.h>

#include "sp_ctx.h"
#include "sp_registry.h"
#include "sp_runlog.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_RUNNER_OPTS_VERSION 1

struct sp_job; /* sp_job.h */

typedef struct sp_runner_opts {
	unsigned int version;        /* SP_RUNNER_OPTS_VERSION */
	const char *db_path;         /* run log; NULL = [pipeline] db */
	const char *vocab_db;        /* vocabulary store; NULL = [encode] store */
	const char *const *overrides;/* "section.key=value" (--set) */
	size_t n_overrides;
	/* Polled between batches; non-zero stops the run, which is then
	 * logged as interrupted (Ctrl-C). */
	int (*should_stop)(void *payload);
	void *stop_payload;
	FILE *out;                   /* progress and results; NULL = quiet */
	/* predict / trace */
	const char *input;           /* text to run the model on */
	const char *model_path;      /* NULL = latest finished run's model */
	/* predict --file of a tagger: more models (of the same pipeline,
	 * other seeds) averaged with model_path's, an ensemble */
	const char *const *ensemble;
	size_t n_ensemble;
	int trained;                 /* trace: trained weights, not initial */
	size_t top_k;                /* predict: outputs per position */
	size_t generate;             /* predict (lm): tokens to sample */
	double temperature;          /* predict (lm): sampling temperature */
	int64_t seed;                /* predict: sampling seed; < 0 = pipe's */
	/* run: go on from this checkpoint (its configuration, weights,
	 * optimizer and RNG state; overrides apply on top) */
	const char *resume_path;
	/* predict: every example of this file ("-" = standard input), in
	 * batches, in place of input (sp_predict_file.h) */
	const char *input_file;
	/* predict --file, eval: "conlleval" prints conlleval's report of a
	 * tagger on the labelled file / the test split; NULL = the usual */
	const char *report;
	/* run: print no progress (no per-epoch lines, no live line), only
	 * the run id and the final results */
	int quiet;
	/* run: let train.save overwrite a file that is not a seqpipe model */
	int force;
	/* translate, eval of a translation model: beam size (1 = greedy),
	 * maximum length ratio (0 = the head's), a file for the attention */
	size_t beam;
	double max_ratio;
	const char *attention;
	/* predict --file --format NAME: the file through job_hook (verb
	 * "predict") instead of the usual output; eval calls job_hook (verb
	 * "eval") after the usual metrics, and run (verb "train") before
	 * training, to fill the job's extras.  The program sets the hook (the
	 * gene decoder of dna/sp_genejob.h), so the core knows no domain;
	 * it returns 0 doing nothing for a job that is not its kind. */
	const char *out_format;
	/* predict --file: a tagger's tags (predicted and gold) rewritten in
	 * this scheme ("iob1", "iob2", "iobes"); NULL = as trained */
	const char *scheme;
	int (*job_hook)(struct sp_job *j, const char *verb, const char *file,
			const char *format);
} sp_runner_opts;

void sp_runner_opts_init(sp_runner_opts *opts);

/* The keys `pipeline` itself reads in a section ("pipeline", "data",
 * "train", and the host keys of "tokenize", "encode", "model", "head"),
 * {NULL}-terminated; NULL for another name.  Static. */
const struct sp_param_spec *sp_runner_host_spec(const char *section);

/* Parses and validates the .pipe and loads its plugins, running nothing. */
int sp_runner_check(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		    const sp_runner_opts *opts);
/* Trains and logs one run; *out_run_id is set as soon as the run is
 * logged (so a failed run still has an id; 0 = none).  *out_status (may
 * be NULL) gets how it ended, as the run log records it: finished,
 * failed, interrupted or diverged. */
int sp_runner_run(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		  const sp_runner_opts *opts, int64_t *out_run_id,
		  sp_run_status *out_status);
int sp_runner_predict(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		      const sp_runner_opts *opts);
/* Evaluates the latest trained model (or opts->model_path) on the data
 * splits of its configuration (overrides may name other files) and
 * prints every metric with all its digits. */
int sp_runner_eval(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		   const sp_runner_opts *opts);
int sp_runner_trace(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
		    const sp_runner_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* SP_RUNNER_H */
