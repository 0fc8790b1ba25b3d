/*
 * sp_runlog.h: the experiment log, one SQLite file of every run.
 *
 * `pipeline run` opens the log, begins a run (the .pipe text, its hash, the
 * seed), records every resolved parameter and every stage with its plugin
 * version, then one metric row per epoch and split, events, the saved model
 * as an artifact, and finally the status: finished, failed (with the error
 * message) or interrupted.  A failed or interrupted run keeps everything it
 * logged before it stopped.  `pipeline runs` lists the log, and `pipeline
 * predict` finds the latest finished model through it.  doc/schema.md
 * documents every table and column, with example queries.
 *
 * Durability: each write is its own transaction unless the caller batches
 * with sp_runlog_tx_begin/commit.  The file is in WAL mode with
 * synchronous=NORMAL, so a committed write survives a crash, kill -9 or
 * Ctrl-C of the process (a power cut may lose the last commits, but never
 * corrupts the file).  Several processes may log to one file at once.
 *
 * A locked file does not stop a run: a write (param, stage, metric,
 * event, artifact) waits up to 1 s for another process's transaction,
 * then keeps the row in memory and returns success; later writes queue
 * behind it and are retried with back-off (0.1 s doubling to 5 s), in
 * order, as one transaction.  sp_runlog_end writes the kept rows first,
 * waiting up to 15 minutes, and only then ends the run; sp_runlog_close
 * makes a last attempt.  Opening and sp_runlog_begin wait up to 10 s.
 *
 * Not here: what is logged when (sp_runner.c), the model file itself
 * (sp_modelfile.h).  A handle is for one thread at a time.
 */
#ifndef SP_RUNLOG_H
#define SP_RUNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PRAGMA application_id of a run log: "SPR1" (the vocabulary store is
 * 0x53507662 "SPvb"). */
#define SP_RUNLOG_APPLICATION_ID 0x53505231
/* PRAGMA user_version this code creates and reads; older logs are
 * migrated when opened, newer ones refused. */
#define SP_RUNLOG_SCHEMA_VERSION 3

typedef struct sp_runlog sp_runlog;

typedef enum sp_run_status {
	SP_RUN_RUNNING = 0,
	SP_RUN_FINISHED = 1,
	SP_RUN_FAILED = 2,
	SP_RUN_INTERRUPTED = 3,
	SP_RUN_DIVERGED = 4          /* stopped: the loss became NaN or inf, or passed the bound */
} sp_run_status;

/* "running", "finished", "failed", "interrupted", "diverged" (static), or
 * NULL for another value. */
const char *sp_run_status_name(sp_run_status status);

/*
 * Opens the run log at path, creating the file and its tables when missing
 * and migrating an older schema (caller owns; sp_runlog_close).
 * SP_EIO when the file cannot be opened or created; SP_EINPUT when it is
 * not a seqpipe run log (another SQLite database, or not SQLite at all;
 * such a file is left untouched) or has a newer schema; SP_EDB otherwise.
 */
int sp_runlog_open(sp_runlog **out, sp_ctx *ctx, const char *path);
/*
 * Opens an existing run log for reading only (caller owns;
 * sp_runlog_close): nothing is created, migrated or written, so a log in a
 * folder the user cannot write (or a write-protected file) can be listed.
 * Where SQLite cannot create its -shm index (a read-only folder) the file
 * is read as immutable, unless a -wal file holds writes not yet in the
 * main file (then SP_EIO says so).  Older schemas are read as they are;
 * the write calls on such a handle are SP_EINVAL.  SP_ENOTFOUND for a
 * missing file.
 */
int sp_runlog_open_readonly(sp_runlog **out, sp_ctx *ctx, const char *path);
/* PRAGMA user_version of the open file (an older one when opened
 * read-only), or -1. */
int sp_runlog_schema_version(const sp_runlog *log);
/* Closes the log; an open sp_runlog_tx_begin batch is rolled back.  Rows
 * still kept in memory get a last attempt (up to the flush wait).
 * Accepts NULL. */
void sp_runlog_close(sp_runlog *log);

/* How long a write waits for the lock before its row is kept in memory,
 * and how long sp_runlog_end/flush/close wait for the kept rows (ms;
 * a negative value keeps the current one).  Defaults 1000 and 900000. */
void sp_runlog_set_waits(sp_runlog *log, int write_wait_ms,
			 int flush_wait_ms);
/* Rows kept in memory because the file was locked (0 when all written). */
size_t sp_runlog_pending(const sp_runlog *log);
/* Writes the kept rows, waiting up to wait_ms for the lock; SP_EDB (the
 * rows stay kept) when it stayed locked. */
int sp_runlog_flush(sp_runlog *log, sp_ctx *ctx, int wait_ms);

/* ---- writing a run ----------------------------------------------------- */

/*
 * Starts a run with status "running" and the current UTC time, and returns
 * its id (> 0) in *out.  pipeline is the pipeline's name (required);
 * pipe_path, pipe_text and version (seqpipe's version) may be NULL.
 * pipe_hash NULL means sp_hash_text of pipe_text (NULL when that is NULL
 * too).  The host name and process id are recorded as well.
 */
int sp_runlog_begin(int64_t *out, sp_runlog *log, sp_ctx *ctx,
		    const char *pipeline, const char *pipe_path,
		    const char *pipe_text, const char *pipe_hash,
		    uint64_t seed, const char *version);

/* One resolved parameter: section ("model"), key ("hidden") and value as
 * text ("64").  Logging the same section.key again replaces the value. */
int sp_runlog_param(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		    const char *section, const char *key, const char *value);

/* Stage idx (0, 1, ... in .pipe order) of the run: its section, plugin
 * file, component, the plugin's version and the ABI it was built for.
 * plugin_version may be NULL. */
int sp_runlog_stage(sp_runlog *log, sp_ctx *ctx, int64_t run_id, int idx,
		    const char *section, const char *plugin,
		    const char *component, const char *plugin_version,
		    int abi);

/*
 * One metric value: epoch >= 0 for the value after that epoch (from 0), or
 * < 0 for the final evaluation (stored as epoch NULL).  split is "train",
 * "dev", "test", or NULL for a value that belongs to no split (learning
 * rate, seconds per epoch).  A NaN value is stored as NULL (SQLite has no
 * NaN) and read back as NaN.
 */
int sp_runlog_metric(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     int64_t epoch, const char *split, const char *name,
		     double value);

/* A line of the run's narrative ("epoch 3: lr halved"), stored with its
 * level ("debug", "info", "warn") and the current time. */
int sp_runlog_event(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		    sp_level level, const char *message);

/* A file the run produced: kind ("model"), path as given, size in bytes
 * (-1 = unknown, stored NULL) and checksum (e.g. the 8 hex digits of
 * sp_modelfile_checksum; may be NULL). */
int sp_runlog_artifact(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		       const char *kind, const char *path, int64_t bytes,
		       const char *checksum);

/*
 * Ends a running run: status FINISHED, FAILED, INTERRUPTED or DIVERGED, the
 * current time, and error (the message of a failed or diverged run; may be
 * NULL).  SP_EINVAL
 * for SP_RUN_RUNNING or a run that has already ended; SP_ENOTFOUND for an
 * unknown run.
 */
int sp_runlog_end(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  sp_run_status status, const char *error);

/* A cell of an evaluation's confusion matrix (schema 3): gold label
 * predicted as pred, count times; epoch < 0 for the final evaluation;
 * split "train", "dev" or "test". */
int sp_runlog_confusion(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
			int64_t epoch, const char *split, const char *gold,
			const char *pred, int64_t count);
/* A sample prediction (schema 3): the input's tokens, the gold output
 * (may be NULL) and the predicted one, space-separated. */
int sp_runlog_sample(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     int64_t epoch, const char *split, const char *input,
		     const char *gold, const char *pred);

/*
 * Batching: the writes between tx_begin and tx_commit are one transaction
 * (faster, and atomic), which holds the file's write lock until commit; a
 * crash before commit loses all of them.  Batches do not nest (SP_EINVAL).
 * tx_rollback discards the batch.
 */
int sp_runlog_tx_begin(sp_runlog *log, sp_ctx *ctx);
int sp_runlog_tx_commit(sp_runlog *log, sp_ctx *ctx);
int sp_runlog_tx_rollback(sp_runlog *log, sp_ctx *ctx);

/* A user label on a run (`pipeline tag RUN key=value`): sets key to value,
 * replacing its old value; value NULL removes the tag.  SP_ENOTFOUND for an
 * unknown run. */
int sp_runlog_tag(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  const char *key, const char *value);
/* Deletes run_id and every row of it (params, metrics, tags, ...); the
 * files its artifacts name are left alone.  SP_ENOTFOUND for an unknown
 * run. */
int sp_runlog_delete(sp_runlog *log, sp_ctx *ctx, int64_t run_id);

/* ---- reading ------------------------------------------------------------- */

/*
 * One run, as listed.  Strings are borrowed for the duration of the
 * callback only; optional ones are NULL when not set.
 *
 * The key metric is the one number that summarises a run in a listing.
 * Among the run's metrics named f1, accuracy, bleu, perplexity or loss on
 * split dev, test or train, the first in this order wins:
 *   1. final values (epoch NULL) before per-epoch ones;
 *   2. split dev before test before train;
 *   3. name f1 before accuracy before bleu before perplexity before loss;
 *   4. a later epoch before an earlier one (then the later row).
 * So a finished run shows its final dev score, and a failed run the last
 * score it reached.  has_key is 0 when no metric qualifies.
 */
typedef struct sp_run_info {
	size_t size;                 /* sizeof(sp_run_info): grows at the end */
	int64_t id;
	const char *pipeline;
	const char *pipe_path;       /* optional */
	const char *pipe_hash;       /* optional */
	uint64_t seed;
	sp_run_status status;
	const char *started;         /* "2024-05-01T12:00:00.123Z" (UTC) */
	const char *ended;           /* NULL while running */
	const char *error;           /* optional */
	const char *seqpipe_version; /* optional */
	const char *host;            /* optional */
	int has_key;
	const char *key_name;        /* "f1" */
	const char *key_split;       /* "dev" */
	int64_t key_epoch;           /* -1 = final */
	double key_value;            /* NaN when a NaN was logged */
	int64_t pid;                 /* of the process that ran it; 0 = unknown */
} sp_run_info;

/* Called once per run; returns 0 to go on, or a negative SP_E* code to stop
 * the listing, which then returns that code. */
typedef int (*sp_runlog_run_fn)(void *payload, const sp_run_info *info);

/* Runs newest first (highest id first), only those of pipeline when it is
 * not NULL, at most limit of them (0 = all). */
int sp_runlog_list(sp_runlog *log, sp_ctx *ctx, const char *pipeline,
		   size_t limit, sp_runlog_run_fn fn, void *payload);
/* The one run run_id; SP_ENOTFOUND when there is none. */
int sp_runlog_get(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  sp_runlog_run_fn fn, void *payload);

/* One metric row (strings borrowed for the callback only). */
typedef struct sp_runlog_metric_row {
	size_t size;       /* sizeof(sp_runlog_metric_row) */
	int64_t epoch;     /* -1 = final */
	const char *split; /* NULL when logged without one */
	const char *name;
	double value;      /* NaN when a NaN was logged */
	const char *ts;    /* when it was logged */
} sp_runlog_metric_row;
typedef int (*sp_runlog_metric_fn)(void *payload,
				   const sp_runlog_metric_row *row);

/* The metrics of run_id by epoch, the final ones last, each group in the
 * order logged.  SP_ENOTFOUND when there is no such run. */
int sp_runlog_metrics(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		      sp_runlog_metric_fn fn, void *payload);

typedef int (*sp_runlog_param_fn)(void *payload, const char *section,
				  const char *key, const char *value);
/* The parameters of run_id ordered by section and key.  SP_ENOTFOUND when
 * there is no such run. */
int sp_runlog_params(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     sp_runlog_param_fn fn, void *payload);

/* Id of the most recently begun run (highest id) with this status, of
 * pipeline (NULL = any).  SP_ENOTFOUND when there is none. */
int sp_runlog_find_latest(int64_t *out, sp_runlog *log, sp_ctx *ctx,
			  const char *pipeline, sp_run_status status);

/* Path of the last artifact of this kind that run_id logged, copied with
 * its NUL into out[0..out_size).  SP_ENOTFOUND when there is none,
 * SP_EINVAL when it does not fit. */
int sp_runlog_artifact_path(char *out, size_t out_size, sp_runlog *log,
			    sp_ctx *ctx, int64_t run_id, const char *kind);

/* As sp_runlog_artifact_path, also copying the logged checksum ("" when
 * none was logged) into checksum[0..checksum_size) when not NULL. */
int sp_runlog_artifact_find(char *out, size_t out_size, char *checksum,
			    size_t checksum_size, sp_runlog *log, sp_ctx *ctx,
			    int64_t run_id, const char *kind);

typedef int (*sp_runlog_tag_fn)(void *payload, const char *key,
				const char *value);
/* The tags of run_id ordered by key (none on a schema-1 log).
 * SP_ENOTFOUND when there is no such run. */
int sp_runlog_tags(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		   sp_runlog_tag_fn fn, void *payload);

#ifdef __cplusplus
}
#endif
#endif /* SP_RUNLOG_H */
