/*
 * runlog_fix.h: what the run log's tests share (t_runlog_write,
 * t_runlog_read, t_runlog_migrate, t_runlog_queue): a scratch folder for
 * their log files, plain-SQL queries through sqlite3 (the way a user reads
 * the log, doc/schema.md), and a listing callback that copies the runs.
 * The folder is one per program: its path lives in runlog_fix.c.
 */
#ifndef TESTS_RUNLOG_FIX_H
#define TESTS_RUNLOG_FIX_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_runlog.h"

/* Makes the folder <$TMPDIR or /tmp>/<prefix>.XXXXXX; 0 or -1. */
int runlog_fix_dir(const char *prefix);
/* rmdir of the folder: 0 once every file in it is removed. */
int runlog_fix_rmdir(void);
/* The folder's `name` into out[n]. */
void path_(char *out, size_t n, const char *name);
/* Removes a database with its WAL companions. */
void remove_db_(const char *path);
/* First column of the first row of sql as an integer (-999 on error,
 * with a diagnostic). */
long long q_int_(const char *db_path, const char *sql);
/* First column of the first row as text, into buf ("" for NULL,
 * "<error>" on error). */
const char *q_text_(char *buf, size_t n, const char *db_path, const char *sql);
/* Runs sql on the file, creating it; an SQLite code. */
int exec_raw_(const char *db_path, const char *sql);
/* The message of a failed call, "ok" after a successful one (the context
 * keeps the last error, which would mislead after a success). */
const char *why_(const sp_ctx *ctx, int rc);

/* A run as sp_runlog_list gives it, copied. */
typedef struct run_copy {
	int64_t id;
	char pipeline[64], status[16], ended[32], error[128];
	int has_key;
	char key_name[32], key_split[16];
	int64_t key_epoch;
	double key_value;
} run_copy;

typedef struct runs_seen {
	run_copy r[32];
	size_t n;
	size_t stop_after; /* 0 = never */
} runs_seen;

/* An sp_runlog_list callback: copies each run into the runs_seen payload,
 * SP_EINTR after stop_after runs. */
int collect_run_(void *payload, const sp_run_info *info);

#endif
