/*
 * sp_runlog_read.c: reading the run log back (see sp_runlog.h): the run
 * listing with each run's key metric, one run's metrics, parameters and
 * artifacts, the latest run of a pipeline, and the tags.  Writing is
 * sp_runlog.c; the filtered queries of `pipeline runs` are sp_history.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "sp_runlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sp_runlog_priv.h"

/* Text binding where NULL stores NULL (SQLite's own rule). */
static int bind_text_(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* The key metric rule of sp_run_info, in SQL. */
static const char key_metric_sql_[] =
	"SELECT name, split, epoch, value FROM metrics "
	"WHERE run_id = ?1 "
	"AND name IN ('f1', 'accuracy', 'bleu', 'perplexity', 'loss') "
	"AND split IN ('dev', 'test', 'train') "
	"ORDER BY epoch IS NOT NULL, "
	"CASE split WHEN 'dev' THEN 0 WHEN 'test' THEN 1 ELSE 2 END, "
	"CASE name WHEN 'f1' THEN 0 WHEN 'accuracy' THEN 1 WHEN 'bleu' THEN 2 "
	"WHEN 'perplexity' THEN 3 ELSE 4 END, "
	"epoch DESC, id DESC LIMIT 1";

static const char run_columns_sql_[] =
	"SELECT id, pipeline, pipe_path, pipe_hash, seed, status, started, "
	"ended, error, seqpipe_version, host, pid FROM runs ";


static const char *col_text_(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static double col_value_(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ?
		       NAN : sqlite3_column_double(st, i);
}

/*
 * Calls fn for each row of `runs` (run_columns_sql_ order) that st yields,
 * with its key metric.  *n_out counts the rows.  The key metric statement
 * is prepared here, not cached: fn may call back into the log.
 */
static int each_run_(sp_runlog *log, sp_ctx *ctx, sqlite3_stmt *st,
		     sp_runlog_run_fn fn, void *payload, size_t *n_out)
{
	sqlite3_stmt *key = NULL;
	int rc, code = SP_OK;

	*n_out = 0;
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), key_metric_sql_, -1, &key, NULL);
	if (rc != SQLITE_OK)
		return sp_runlog_fail_(log, ctx, rc, "list runs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sp_run_info info;
		int krc;
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		info.id = sqlite3_column_int64(st, 0);
		info.pipeline = col_text_(st, 1);
		info.pipe_path = col_text_(st, 2);
		info.pipe_hash = col_text_(st, 3);
		info.seed = (uint64_t)sqlite3_column_int64(st, 4);
		if (sp_run_status_parse_(col_text_(st, 5), &info.status) != 0) {
			code = sp_err(ctx, SP_EDB, "%s: run %lld: unknown "
				      "status", sp_runlog_path_(log), (long long)info.id);
			goto fail;
		}
		info.started = col_text_(st, 6);
		info.ended = col_text_(st, 7);
		info.error = col_text_(st, 8);
		info.seqpipe_version = col_text_(st, 9);
		info.host = col_text_(st, 10);
		info.pid = sqlite3_column_int64(st, 11);
		info.key_epoch = -1;

		sqlite3_reset(key);
		krc = sqlite3_bind_int64(key, 1, info.id);
		if (krc == SQLITE_OK)
			krc = sqlite3_step(key);
		if (krc == SQLITE_ROW) {
			info.has_key = 1;
			info.key_name = col_text_(key, 0);
			info.key_split = col_text_(key, 1);
			if (sqlite3_column_type(key, 2) != SQLITE_NULL)
				info.key_epoch = sqlite3_column_int64(key, 2);
			info.key_value = col_value_(key, 3);
		} else if (krc != SQLITE_DONE) {
			code = sp_runlog_fail_(log, ctx, krc, "find a key metric");
			goto fail;
		}
		(*n_out)++;
		code = fn(payload, &info);
		if (code != SP_OK)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		code = sp_runlog_fail_(log, ctx, rc, "list runs");
fail:
	sqlite3_finalize(key);
	return code;
}

int sp_runlog_list(sp_runlog *log, sp_ctx *ctx, const char *pipeline,
		   size_t limit, sp_runlog_run_fn fn, void *payload)
{
	static const char where[] =
		"WHERE ?1 IS NULL OR pipeline = ?1 ORDER BY id DESC LIMIT ?2";
	char sql[sizeof(run_columns_sql_) + sizeof(where)];
	sqlite3_stmt *st = NULL;
	size_t n;
	int rc, code;

	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: list: no callback");
	snprintf(sql, sizeof(sql), "%s%s", run_columns_sql_, where);
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_text_(st, 1, pipeline);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, limit == 0 || limit > INT64_MAX ?
						       -1 : (sqlite3_int64)limit);
	if (rc != SQLITE_OK) {
		code = sp_runlog_fail_(log, ctx, rc, "list runs");
		goto fail;
	}
	code = each_run_(log, ctx, st, fn, payload, &n);
fail:
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_get(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  sp_runlog_run_fn fn, void *payload)
{
	static const char where[] = "WHERE id = ?1";
	char sql[sizeof(run_columns_sql_) + sizeof(where)];
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc, code;

	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: get: no callback");
	snprintf(sql, sizeof(sql), "%s%s", run_columns_sql_, where);
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc != SQLITE_OK) {
		code = sp_runlog_fail_(log, ctx, rc, "read a run");
		goto fail;
	}
	code = each_run_(log, ctx, st, fn, payload, &n);
	if (code == SP_OK && n == 0)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld", sp_runlog_path_(log),
			      (long long)run_id);
fail:
	sqlite3_finalize(st);
	return code;
}

/* SP_OK when run_id exists, SP_ENOTFOUND (with a message) when not. */
static int run_exists_(sp_runlog *log, sp_ctx *ctx, int64_t run_id)
{
	sqlite3_stmt *st = NULL;
	int rc, code = SP_OK;
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), "SELECT 1 FROM runs WHERE id = ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld", sp_runlog_path_(log),
			      (long long)run_id);
	else if (rc != SQLITE_ROW)
		code = sp_runlog_fail_(log, ctx, rc, "read a run");
	sqlite3_finalize(st);
	return code;
}

/* The caller's callback for the rows of a per-run query (one is set). */
typedef struct per_row_ {
	sp_runlog_metric_fn metric;
	sp_runlog_param_fn param;
	sp_runlog_tag_fn tag;
	void *payload;
} per_row_;

typedef int (*row_fn_)(sqlite3_stmt *st, const per_row_ *p);

/* Runs sql (?1 = run_id) and hands each row to row; `what` names the
 * read in an error.  The one step-and-collect loop of the readers. */
static int each_row_(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     const char *sql, const char *what, row_fn_ row,
		     const per_row_ *p)
{
	sqlite3_stmt *st = NULL;
	int rc, code = SP_OK;

	rc = sqlite3_prepare_v2(sp_runlog_db_(log), sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc != SQLITE_OK) {
		code = sp_runlog_fail_(log, ctx, rc, what);
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((code = row(st, p)) != SP_OK)
			goto done;
	if (rc != SQLITE_DONE)
		code = sp_runlog_fail_(log, ctx, rc, what);
done:
	sqlite3_finalize(st);
	return code;
}

static int metric_row_(sqlite3_stmt *st, const per_row_ *p)
{
	sp_runlog_metric_row row;
	memset(&row, 0, sizeof(row));
	row.size = sizeof(row);
	row.epoch = sqlite3_column_type(st, 0) == SQLITE_NULL ?
			    -1 : sqlite3_column_int64(st, 0);
	row.split = col_text_(st, 1);
	row.name = col_text_(st, 2);
	row.value = col_value_(st, 3);
	row.ts = col_text_(st, 4);
	return p->metric(p->payload, &row);
}

static int param_row_(sqlite3_stmt *st, const per_row_ *p)
{
	return p->param(p->payload, col_text_(st, 0), col_text_(st, 1),
			col_text_(st, 2));
}

static int tag_row_(sqlite3_stmt *st, const per_row_ *p)
{
	return p->tag(p->payload, col_text_(st, 0), col_text_(st, 1));
}

int sp_runlog_metrics(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		      sp_runlog_metric_fn fn, void *payload)
{
	per_row_ p = {fn, NULL, NULL, payload};
	int code;
	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: metrics: no callback");
	if ((code = run_exists_(log, ctx, run_id)) != SP_OK)
		return code;
	return each_row_(log, ctx, run_id, "SELECT epoch, split, name, value, "
			 "ts FROM metrics WHERE run_id = ?1 ORDER BY epoch IS "
			 "NULL, epoch, id", "read metrics", metric_row_, &p);
}

int sp_runlog_params(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     sp_runlog_param_fn fn, void *payload)
{
	per_row_ p = {NULL, fn, NULL, payload};
	int code;
	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: params: no callback");
	if ((code = run_exists_(log, ctx, run_id)) != SP_OK)
		return code;
	return each_row_(log, ctx, run_id, "SELECT section, key, value FROM "
			 "params WHERE run_id = ?1 ORDER BY section, key",
			 "read parameters", param_row_, &p);
}

int sp_runlog_find_latest(int64_t *out, sp_runlog *log, sp_ctx *ctx,
			  const char *pipeline, sp_run_status status)
{
	sqlite3_stmt *st = NULL;
	const char *name = sp_run_status_name(status);
	int rc, code = SP_OK;

	*out = 0;
	if (!log || !name)
		return sp_err(ctx, SP_EINVAL, "run log: find: bad status");
	rc = sqlite3_prepare_v2(sp_runlog_db_(log),
				"SELECT id FROM runs WHERE (?1 IS NULL OR "
				"pipeline = ?1) AND status = ?2 "
				"ORDER BY id DESC LIMIT 1", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_text_(st, 1, pipeline);
	if (rc == SQLITE_OK)
		rc = bind_text_(st, 2, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no %s run%s%s%s",
			      sp_runlog_path_(log), name, pipeline ? " of pipeline '" : "",
			      pipeline ? pipeline : "", pipeline ? "'" : "");
	else
		code = sp_runlog_fail_(log, ctx, rc, "find a run");
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_artifact_path(char *out, size_t out_size, sp_runlog *log,
			    sp_ctx *ctx, int64_t run_id, const char *kind)
{
	return sp_runlog_artifact_find(out, out_size, NULL, 0, log, ctx,
				       run_id, kind);
}

int sp_runlog_artifact_find(char *out, size_t out_size, char *checksum,
			    size_t checksum_size, sp_runlog *log, sp_ctx *ctx,
			    int64_t run_id, const char *kind)
{
	sqlite3_stmt *st = NULL;
	int rc, code = SP_OK;

	if (out && out_size)
		out[0] = '\0';
	if (checksum && checksum_size)
		checksum[0] = '\0';
	if (!out || !log || !kind)
		return sp_err(ctx, SP_EINVAL, "run log: artifact path: bad "
			      "arguments");
	rc = sqlite3_prepare_v2(sp_runlog_db_(log),
				"SELECT path, checksum FROM artifacts WHERE "
				"run_id = ?1 AND kind = ?2 ORDER BY id DESC "
				"LIMIT 1",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc == SQLITE_OK)
		rc = bind_text_(st, 2, kind);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *p = col_text_(st, 0);
		size_t n = p ? strlen(p) : 0;
		if (n >= out_size)
			code = sp_err(ctx, SP_EINVAL, "%s: run %lld: %s path "
				      "is %zu bytes, buffer holds %zu",
				      sp_runlog_path_(log), (long long)run_id, kind, n,
				      out_size ? out_size - 1 : 0);
		else
			memcpy(out, p ? p : "", n + 1);
		if (checksum && checksum_size)
			snprintf(checksum, checksum_size, "%s",
				 col_text_(st, 1) ? col_text_(st, 1) : "");
	} else if (rc == SQLITE_DONE) {
		code = sp_err(ctx, SP_ENOTFOUND, "%s: run %lld has no '%s' "
			      "artifact", sp_runlog_path_(log), (long long)run_id, kind);
	} else {
		code = sp_runlog_fail_(log, ctx, rc, "find an artifact");
	}
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_tags(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		   sp_runlog_tag_fn fn, void *payload)
{
	per_row_ p = {NULL, NULL, fn, payload};
	int code;
	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: tags: no callback");
	code = run_exists_(log, ctx, run_id);
	if (code != SP_OK || sp_runlog_schema_version(log) < 2)
		return code;
	return each_row_(log, ctx, run_id, "SELECT key, value FROM tags WHERE "
			 "run_id = ?1 ORDER BY key", "read tags", tag_row_, &p);
}
