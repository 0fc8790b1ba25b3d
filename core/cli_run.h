/*
 * cli_run.h: one run of the log read into memory for show, compare and
 * report: its header, parameters, tags, and every metric as a series
 * (one value per epoch, plus the final evaluation).
 */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "sp_runlog.h"

typedef struct cli_series {
	char *split;        /* NULL for a metric of no split */
	char *name;
	char *key;          /* "dev.f1", or "lr" */
	double *v;          /* [n_epochs] of the run, NaN where not logged */
	double final;       /* NaN when there was no final evaluation */
	int has_final;
} cli_series;

typedef struct cli_param {
	char *section, *key, *value;
} cli_param;

/* A cell of the final evaluation's confusion matrix. */
typedef struct cli_cell {
	char *gold, *pred;
	int64_t count;
} cli_cell;

/* A sample prediction: space-separated input tokens, gold, predicted. */
typedef struct cli_sample {
	char *input, *gold, *pred;
} cli_sample;

typedef struct cli_run {
	int64_t id;
	char *pipeline, *status, *started, *ended, *error, *pipe_path,
		*pipe_hash, *version, *host;
	uint64_t seed;
	int died;           /* logged as running, its process here gone */
	int64_t pid;
	char *key_split, *key_name;  /* the key metric (sp_run_info) or NULL */
	cli_series *s;
	size_t n_s, n_epochs;
	cli_param *p;
	size_t n_p;
	cli_param *tags;    /* section unused */
	size_t n_tags;
	/* schema 3: the final confusion matrix of one split (dev, else
	 * test, else train; cm_split NULL when none), and the samples */
	char *cm_split;
	cli_cell *cm;
	size_t n_cm;
	cli_sample *smp;
	size_t n_smp;
} cli_run;

/* Reads run id (caller owns; cli_run_free).  SP_ENOTFOUND for no run. */
int cli_run_load(cli_run **out, sp_ctx *ctx, sp_runlog *log, int64_t id);
void cli_run_free(cli_run *r);
/* Reads r's confusion matrix and samples (cli_run_eval.c); a log before
 * schema 3 has none (SP_OK). */
int cli_run_load_eval(cli_run *r, sp_ctx *ctx, sp_runlog *log);
/* Frees what cli_run_load_eval read. */
void cli_run_free_eval(cli_run *r);
/* The series split.name (split may be NULL), or NULL. */
const cli_series *cli_run_series(const cli_run *r, const char *split,
				 const char *name);
/* The value of param section.key, or NULL. */
const char *cli_run_param(const cli_run *r, const char *section,
			  const char *key);
/* The series' last value: final, else the last epoch logged; NaN. */
double cli_series_last(const cli_series *s, size_t n_epochs);
/* Whether bigger is better for a metric name (not loss, perplexity). */
int cli_metric_higher_better(const char *name);
/* dh_norm.* and gate.*: per-step instruments, shown by report only. */
int cli_metric_is_instrument(const char *name);

#endif /* CLI_RUN_H */
