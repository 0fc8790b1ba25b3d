/*
 * t_runlog.c: the experiment log (core/sp_runlog.c) and the text hash
 * (core/sp_hash.c).
 *
 * The rows are checked with plain SQL through sqlite3, the way a user
 * would query them (doc/schema.md), not only through the library's own
 * readers.  Crash survival and two concurrent writers use fork().
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_ctx.h"
#include "sp_hash.h"
#include "sp_runlog.h"
#include "tap.h"

static char dir_[256];

static void path_(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir_, name);
}

/* Removes a database with its WAL companions. */
static void remove_db_(const char *path)
{
	char p[512];
	remove(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	remove(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	remove(p);
}

/* First column of the first row of sql as an integer (-999 on error). */
static long long q_int_(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -999;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		diag("q_int_(%s): %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* First column of the first row as text, into buf ("" for NULL,
 * "<error>" on error). */
static const char *q_text_(char *buf, size_t n, const char *db_path,
			   const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(buf, n, "<error>");
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(buf, n, "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

static int exec_raw_(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(db_path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* "2024-05-01T12:00:00.123Z" */
static int is_iso_ms_(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	}
	return 1;
}

/* The message of a failed call, "ok" after a successful one (the context
 * keeps the last error, which would mislead after a success). */
static const char *why_(const sp_ctx *ctx, int rc)
{
	return rc == SP_OK ? "ok" : sp_errmsg(ctx);
}

/* ---- collecting callbacks ------------------------------------------------ */

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

static int collect_run_(void *payload, const sp_run_info *info)
{
	runs_seen *s = payload;
	run_copy *c;
	if (s->n == 32)
		return SP_ERROR;
	c = &s->r[s->n++];
	memset(c, 0, sizeof(*c));
	c->id = info->id;
	snprintf(c->pipeline, sizeof(c->pipeline), "%s", info->pipeline);
	snprintf(c->status, sizeof(c->status), "%s",
		 sp_run_status_name(info->status));
	snprintf(c->ended, sizeof(c->ended), "%s",
		 info->ended ? info->ended : "");
	snprintf(c->error, sizeof(c->error), "%s",
		 info->error ? info->error : "");
	c->has_key = info->has_key;
	if (info->has_key) {
		snprintf(c->key_name, sizeof(c->key_name), "%s", info->key_name);
		snprintf(c->key_split, sizeof(c->key_split), "%s",
			 info->key_split);
		c->key_epoch = info->key_epoch;
		c->key_value = info->key_value;
	}
	if (s->stop_after && s->n == s->stop_after)
		return SP_EINTR;
	return SP_OK;
}

typedef struct metrics_seen {
	int64_t epoch[64];
	char split[64][8], name[64][16];
	double value[64];
	size_t n;
} metrics_seen;

static int collect_metric_(void *payload, const sp_runlog_metric_row *row)
{
	metrics_seen *s = payload;
	if (s->n == 64)
		return SP_ERROR;
	s->epoch[s->n] = row->epoch;
	snprintf(s->split[s->n], 8, "%s", row->split ? row->split : "-");
	snprintf(s->name[s->n], 16, "%s", row->name);
	s->value[s->n] = row->value;
	s->n++;
	return SP_OK;
}

static int count_param_(void *payload, const char *section, const char *key,
			const char *value)
{
	(*(int *)payload)++;
	return SP_OK;
}

/* ---- tests --------------------------------------------------------------- */

static void test_hash(void)
{
	char buf[SP_HASH_HEX_LEN + 1];
	const char *h = buf; /* ok_str wants a pointer, not an array */
	/* Reference values of FNV-1a 64 (Fowler/Noll/Vo test vectors). */
	sp_hash_text(buf, "", 0);
	ok_str(h, "cbf29ce484222325", "fnv1a64 of the empty text");
	sp_hash_text(buf, "a", 1);
	ok_str(h, "af63dc4c8601ec8c", "fnv1a64 of \"a\"");
	sp_hash_text(buf, "foobar", 6);
	ok_str(h, "85944171f73967e8", "fnv1a64 of \"foobar\"");
	ok(sp_hash_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL,
	   "sp_hash_fnv1a64 gives the same number");
	sp_hash_text(buf, "foobar", 3);
	ok_str(h, "dcb27518fed9d577", "only len bytes are hashed (\"foo\")");
}

static void test_schema(sp_ctx *ctx, const char *db)
{
	sp_runlog *log = NULL;
	char buf[64];
	int rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK && log, "open creates a new run log (%s)",
	   why_(ctx, rc));
	ok(q_int_(db, "PRAGMA application_id") == SP_RUNLOG_APPLICATION_ID,
	   "application_id is 'SPR1'");
	ok(q_int_(db, "PRAGMA user_version") == SP_RUNLOG_SCHEMA_VERSION,
	   "user_version is the schema version");
	ok_str(q_text_(buf, sizeof(buf), db, "PRAGMA journal_mode"), "wal",
	       "the log is in WAL mode");
	ok(q_int_(db, "SELECT count(*) FROM sqlite_master WHERE type = "
		      "'table' AND name IN ('runs', 'params', 'stages', "
		      "'metrics', 'events', 'artifacts')") == 6,
	   "all six tables exist");
	ok(q_int_(db, "SELECT count(*) FROM pragma_index_list('metrics') "
		      "AS l, pragma_index_info(l.name) AS i "
		      "WHERE i.name = 'run_id'") == 1,
	   "metrics has an index on run_id");
	sp_runlog_close(log);
	sp_runlog_close(NULL);
	ok(1, "close accepts NULL");
}

static void test_full_run(sp_ctx *ctx, const char *db, int64_t *out_id)
{
	static const char pipe[] = "pipeline ner seed=42 epochs=3\n"
				   "layer rnn.lstm hidden=8\n";
	sp_runlog *log = NULL;
	int64_t id = 0;
	char buf[256], hash[SP_HASH_HEX_LEN + 1], sql[256];
	metrics_seen ms;
	int rc, n_params = 0;

	*out_id = 0;
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK, "reopen the log (%s)", why_(ctx, rc));
	if (rc != SP_OK)
		return;
	rc = sp_runlog_begin(&id, log, ctx, "ner", "pipelines/ner.pipe", pipe,
			     NULL, 42, "0.1.0");
	ok(rc == SP_OK && id > 0, "begin a run: id %lld", (long long)id);
	*out_id = id;
	ok(sp_runlog_param(log, ctx, id, "pipeline", "epochs", "3") == SP_OK &&
	   sp_runlog_param(log, ctx, id, "model", "hidden", "8") == SP_OK &&
	   sp_runlog_param(log, ctx, id, "model", "init", "xavier") == SP_OK,
	   "log three parameters");
	ok(sp_runlog_param(log, ctx, id, "model", "hidden", "16") == SP_OK,
	   "logging a parameter again replaces it");
	ok(sp_runlog_stage(log, ctx, id, 0, "tokenize", "tokenizers", "icu",
			   "0.1.0", 1) == SP_OK &&
	   sp_runlog_stage(log, ctx, id, 1, "model", "rnn", "lstm", "0.1.0",
			   1) == SP_OK,
	   "log two stages");
	rc = SP_OK;
	for (int e = 0; e < 3 && rc == SP_OK; e++) {
		rc = sp_runlog_metric(log, ctx, id, e, "train", "loss",
				      2.0 - 0.5 * e);
		if (rc == SP_OK)
			rc = sp_runlog_metric(log, ctx, id, e, "dev", "f1",
					      0.2 + 0.1 * e);
	}
	ok(rc == SP_OK, "log train loss and dev f1 per epoch (%s)",
	   why_(ctx, rc));
	ok(sp_runlog_metric(log, ctx, id, -1, "dev", "f1", 0.55) == SP_OK &&
	   sp_runlog_metric(log, ctx, id, -1, "test", "f1", 0.5) == SP_OK &&
	   sp_runlog_metric(log, ctx, id, -1, "train", "loss", 0.9) == SP_OK &&
	   sp_runlog_metric(log, ctx, id, -1, NULL, "seconds", 12.5) == SP_OK,
	   "log the final metrics");
	ok(sp_runlog_event(log, ctx, id, SP_LOG_INFO, "epoch 2: done") ==
		   SP_OK, "log an event");
	ok(sp_runlog_artifact(log, ctx, id, "model", "runs/ner-1.spm", 1234,
			      "0badf00d") == SP_OK, "log the model artifact");
	ok(sp_runlog_end(log, ctx, id, SP_RUN_FINISHED, NULL) == SP_OK,
	   "end the run as finished");

	snprintf(sql, sizeof(sql), "SELECT status FROM runs WHERE id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "finished",
	       "runs.status is finished");
	snprintf(sql, sizeof(sql), "SELECT started FROM runs WHERE id = %lld",
		 (long long)id);
	ok(is_iso_ms_(q_text_(buf, sizeof(buf), db, sql)),
	   "started is ISO-8601 UTC with ms: %s", buf);
	snprintf(sql, sizeof(sql), "SELECT ended FROM runs WHERE id = %lld",
		 (long long)id);
	ok(is_iso_ms_(q_text_(buf, sizeof(buf), db, sql)),
	   "ended is set: %s", buf);
	sp_hash_text(hash, pipe, strlen(pipe));
	snprintf(sql, sizeof(sql), "SELECT pipe_hash FROM runs WHERE id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), hash,
	       "pipe_hash is the FNV-1a of the pipe text");
	snprintf(sql, sizeof(sql), "SELECT pipe_text FROM runs WHERE id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), pipe,
	       "the pipe text is stored verbatim");
	snprintf(sql, sizeof(sql), "SELECT seed || ' ' || pipeline || ' ' || "
		 "seqpipe_version || ' ' || (pid > 0) || ' ' || (error IS NULL) "
		 "FROM runs WHERE id = %lld", (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "42 ner 0.1.0 1 1",
	       "seed, pipeline, version, pid and no error");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM params WHERE "
		 "run_id = %lld", (long long)id);
	ok(q_int_(db, sql) == 3, "three parameter rows");
	snprintf(sql, sizeof(sql), "SELECT value FROM params WHERE run_id = "
		 "%lld AND section = 'model' AND key = 'hidden'", (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "16",
	       "the replaced parameter holds the new value");
	snprintf(sql, sizeof(sql), "SELECT group_concat(plugin || '.' || "
		 "component || '@' || plugin_version || '/' || abi, ' ') FROM "
		 "(SELECT * FROM stages WHERE run_id = %lld ORDER BY idx)",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql),
	       "tokenizers.icu@0.1.0/1 rnn.lstm@0.1.0/1", "the stage rows");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld AND epoch IS NOT NULL", (long long)id);
	ok(q_int_(db, sql) == 6, "six per-epoch metric rows");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld AND epoch IS NULL", (long long)id);
	ok(q_int_(db, sql) == 4, "four final metric rows (epoch NULL)");
	snprintf(sql, sizeof(sql), "SELECT value FROM metrics WHERE run_id = "
		 "%lld AND epoch = 1 AND split = 'dev' AND name = 'f1'",
		 (long long)id);
	ok_near(atof(q_text_(buf, sizeof(buf), db, sql)), 0.3, 1e-12,
		"dev f1 of epoch 1");
	snprintf(sql, sizeof(sql), "SELECT level || ':' || message FROM "
		 "events WHERE run_id = %lld", (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "info:epoch 2: done",
	       "the event row");
	snprintf(sql, sizeof(sql), "SELECT kind || ' ' || path || ' ' || "
		 "bytes || ' ' || checksum FROM artifacts WHERE run_id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql),
	       "model runs/ner-1.spm 1234 0badf00d", "the artifact row");

	memset(&ms, 0, sizeof(ms));
	rc = sp_runlog_metrics(log, ctx, id, collect_metric_, &ms);
	ok(rc == SP_OK && ms.n == 10, "sp_runlog_metrics: %zu rows", ms.n);
	ok(ms.epoch[0] == 0 && strcmp(ms.name[0], "loss") == 0 &&
	   ms.epoch[5] == 2 && strcmp(ms.split[5], "dev") == 0 &&
	   ms.epoch[6] == -1 && ms.epoch[9] == -1 &&
	   strcmp(ms.name[9], "seconds") == 0 && strcmp(ms.split[9], "-") == 0,
	   "metrics come by epoch, finals last as epoch -1, in logged order");
	rc = sp_runlog_params(log, ctx, id, count_param_, &n_params);
	ok(rc == SP_OK && n_params == 3, "sp_runlog_params: %d", n_params);

	/* Misuse is refused with a message. */
	rc = sp_runlog_end(log, ctx, id, SP_RUN_FAILED, "late");
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "already ended"),
	   "ending a run twice: %s", sp_errmsg(ctx));
	rc = sp_runlog_end(log, ctx, 9999, SP_RUN_FINISHED, NULL);
	ok(rc == SP_ENOTFOUND, "ending an unknown run: %s", sp_errmsg(ctx));
	rc = sp_runlog_metric(log, ctx, 9999, 0, "dev", "f1", 1);
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "no run 9999"),
	   "a metric for an unknown run: %s", sp_errmsg(ctx));
	rc = sp_runlog_metric(log, ctx, id, 0, "valid", "f1", 1);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "valid"),
	   "an unknown split: %s", sp_errmsg(ctx));
	rc = sp_runlog_stage(log, ctx, id, 1, "model", "rnn", "gru", NULL, 1);
	ok(rc == SP_EDB, "a second stage 1: %s", sp_errmsg(ctx));
	rc = sp_runlog_end(log, ctx, id, SP_RUN_RUNNING, NULL);
	ok(rc == SP_EINVAL, "ending as running: %s", sp_errmsg(ctx));
	rc = sp_runlog_metrics(log, ctx, 9999, collect_metric_, &ms);
	ok(rc == SP_ENOTFOUND, "metrics of an unknown run: %s",
	   sp_errmsg(ctx));
	sp_runlog_close(log);
}

/* A failed, an interrupted and a metric-less run; the listing and the
 * lookups over all of them. */
static void test_other_runs(sp_ctx *ctx, const char *db, int64_t first)
{
	sp_runlog *log = NULL;
	int64_t failed = 0, intr = 0, bare = 0, second = 0, found = 0;
	char buf[256], sql[256];
	runs_seen seen;
	int rc;

	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK, "reopen an existing log (%s)", why_(ctx, rc));
	if (rc != SP_OK)
		return;

	rc = sp_runlog_begin(&failed, log, ctx, "ner", NULL, NULL, NULL, 7,
			     NULL);
	for (int e = 0; e < 2 && rc == SP_OK; e++) {
		rc = sp_runlog_metric(log, ctx, failed, e, "train", "loss",
				      1.5 - e);
		if (rc == SP_OK)
			rc = sp_runlog_metric(log, ctx, failed, e, "dev",
					      "accuracy", 0.6 + 0.1 * e);
	}
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, failed, 2, "train", "loss",
				      NAN);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, failed, SP_RUN_FAILED,
				   "numeric: loss is NaN at epoch 2");
	ok(rc == SP_OK, "a failed run (%s)", why_(ctx, rc));
	snprintf(sql, sizeof(sql), "SELECT status || ': ' || error FROM runs "
		 "WHERE id = %lld", (long long)failed);
	ok_str(q_text_(buf, sizeof(buf), db, sql),
	       "failed: numeric: loss is NaN at epoch 2",
	       "the failed run records its error");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld", (long long)failed);
	ok(q_int_(db, sql) == 5, "the failed run keeps its metrics");
	snprintf(sql, sizeof(sql), "SELECT value IS NULL FROM metrics WHERE "
		 "run_id = %lld AND epoch = 2", (long long)failed);
	ok(q_int_(db, sql) == 1, "a NaN metric is stored as NULL");

	rc = sp_runlog_begin(&intr, log, ctx, "sentiment", NULL, NULL, "abc",
			     1, NULL);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, intr, 0, "train", "loss", 0.7);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, intr, SP_RUN_INTERRUPTED, NULL);
	ok(rc == SP_OK, "an interrupted run (%s)", why_(ctx, rc));
	snprintf(sql, sizeof(sql), "SELECT status || ' ' || pipe_hash FROM "
		 "runs WHERE id = %lld", (long long)intr);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "interrupted abc",
	       "status interrupted, given pipe_hash kept");

	rc = sp_runlog_begin(&bare, log, ctx, "dna", NULL, NULL, NULL, 0,
			     NULL);
	ok(rc == SP_OK, "a run with no metrics, still running");

	rc = sp_runlog_begin(&second, log, ctx, "ner", NULL, NULL, NULL, 43,
			     NULL);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, second, -1, "test", "loss", 0.4);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, second, -1, "test", "f1", 0.6);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, second, 0, "dev", "f1", 0.9);
	if (rc == SP_OK)
		rc = sp_runlog_artifact(log, ctx, second, "model", "m2.spm", -1,
					NULL);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, second, SP_RUN_FINISHED, NULL);
	ok(rc == SP_OK, "a second finished ner run (%s)", why_(ctx, rc));

	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_list(log, ctx, NULL, 0, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 5, "list: %zu runs", seen.n);
	ok(seen.r[0].id == second && seen.r[4].id == first,
	   "newest first");
	ok(seen.r[4].has_key && strcmp(seen.r[4].key_name, "f1") == 0 &&
	   strcmp(seen.r[4].key_split, "dev") == 0 &&
	   seen.r[4].key_epoch == -1 && fabs(seen.r[4].key_value - 0.55) < 1e-12,
	   "key metric of a finished run: final dev f1 (%s %s %lld %g)",
	   seen.r[4].key_name, seen.r[4].key_split,
	   (long long)seen.r[4].key_epoch, seen.r[4].key_value);
	ok(seen.r[3].has_key && strcmp(seen.r[3].key_name, "accuracy") == 0 &&
	   strcmp(seen.r[3].key_split, "dev") == 0 &&
	   seen.r[3].key_epoch == 1 && fabs(seen.r[3].key_value - 0.7) < 1e-12,
	   "key metric of a failed run: its last dev score (%s %s %lld)",
	   seen.r[3].key_name, seen.r[3].key_split,
	   (long long)seen.r[3].key_epoch);
	ok(strcmp(seen.r[3].status, "failed") == 0 &&
	   strstr(seen.r[3].error, "NaN") && seen.r[3].ended[0],
	   "the listing carries status, error and end time");
	ok(seen.r[2].has_key && strcmp(seen.r[2].key_name, "loss") == 0 &&
	   strcmp(seen.r[2].key_split, "train") == 0,
	   "key metric of a run with only train loss: train loss");
	ok(!seen.r[1].has_key && strcmp(seen.r[1].status, "running") == 0 &&
	   seen.r[1].ended[0] == '\0',
	   "a running run without metrics has no key metric and no end");
	ok(seen.r[0].has_key && strcmp(seen.r[0].key_name, "f1") == 0 &&
	   strcmp(seen.r[0].key_split, "test") == 0 && seen.r[0].key_epoch == -1,
	   "final test f1 beats final test loss and per-epoch dev f1");

	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_list(log, ctx, "ner", 2, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 2 && seen.r[0].id == second &&
	   seen.r[1].id == failed, "list filtered by pipeline, with a limit");
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	rc = sp_runlog_list(log, ctx, NULL, 0, collect_run_, &seen);
	ok(rc == SP_EINTR && seen.n == 1,
	   "a callback's code stops the listing and comes back");
	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_get(log, ctx, failed, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 1 && seen.r[0].id == failed,
	   "get one run");
	rc = sp_runlog_get(log, ctx, 9999, collect_run_, &seen);
	ok(rc == SP_ENOTFOUND, "get an unknown run: %s", sp_errmsg(ctx));

	rc = sp_runlog_find_latest(&found, log, ctx, "ner", SP_RUN_FINISHED);
	ok(rc == SP_OK && found == second,
	   "latest finished ner run is the second one");
	rc = sp_runlog_find_latest(&found, log, ctx, NULL, SP_RUN_FAILED);
	ok(rc == SP_OK && found == failed, "latest failed run of any pipeline");
	rc = sp_runlog_find_latest(&found, log, ctx, "dna", SP_RUN_FINISHED);
	ok(rc == SP_ENOTFOUND && found == 0 && strstr(sp_errmsg(ctx), "dna"),
	   "no finished dna run: %s", sp_errmsg(ctx));
	rc = sp_runlog_artifact_path(buf, sizeof(buf), log, ctx, second,
				     "model");
	ok(rc == SP_OK && strcmp(buf, "m2.spm") == 0,
	   "the latest finished run's model path");
	rc = sp_runlog_artifact_path(buf, 4, log, ctx, second, "model");
	ok(rc == SP_EINVAL && buf[0] == '\0', "a too small buffer: %s",
	   sp_errmsg(ctx));
	rc = sp_runlog_artifact_path(buf, sizeof(buf), log, ctx, failed,
				     "model");
	ok(rc == SP_ENOTFOUND, "no model for the failed run: %s",
	   sp_errmsg(ctx));
	sp_runlog_close(log);
}

static void test_batches(sp_ctx *ctx, const char *db)
{
	sp_runlog *log = NULL;
	int64_t id = 0;
	char sql[128];
	int rc = sp_runlog_open(&log, ctx, db);
	if (rc == SP_OK)
		rc = sp_runlog_begin(&id, log, ctx, "lm", NULL, NULL, NULL, 1,
				     NULL);
	ok(rc == SP_OK, "a run for batching");
	if (rc != SP_OK) {
		sp_runlog_close(log);
		return;
	}
	rc = sp_runlog_tx_begin(log, ctx);
	for (int i = 0; i < 100 && rc == SP_OK; i++)
		rc = sp_runlog_metric(log, ctx, id, i, "train", "loss", i);
	ok(rc == SP_OK && sp_runlog_tx_begin(log, ctx) == SP_EINVAL,
	   "batches do not nest");
	ok(sp_runlog_tx_commit(log, ctx) == SP_OK, "commit 100 metrics");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld", (long long)id);
	ok(q_int_(db, sql) == 100, "all 100 are in the file");
	rc = sp_runlog_tx_begin(log, ctx);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, id, 100, "train", "loss", 0);
	ok(rc == SP_OK && sp_runlog_tx_rollback(log, ctx) == SP_OK,
	   "roll a batch back");
	ok(q_int_(db, sql) == 100, "the rolled back metric is gone");
	ok(sp_runlog_tx_commit(log, ctx) == SP_EINVAL,
	   "commit without a batch is refused");
	/* An open batch at close is rolled back, not half-written. */
	rc = sp_runlog_tx_begin(log, ctx);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, id, 101, "train", "loss", 0);
	sp_runlog_close(log);
	ok(rc == SP_OK && q_int_(db, sql) == 100,
	   "closing with an open batch discards it");
}

static void test_foreign(sp_ctx *ctx)
{
	char db[512], sql[128], buf[32];
	sp_runlog *log = NULL;
	FILE *f;
	int rc;

	path_(db, sizeof(db), "other.db");
	exec_raw_(db, "CREATE TABLE foo(x); INSERT INTO foo VALUES (1);");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && !log &&
	   strstr(sp_errmsg(ctx), "not a seqpipe run log") &&
	   strstr(sp_errmsg(ctx), db),
	   "another SQLite database is refused: %s", sp_errmsg(ctx));
	ok_str(q_text_(buf, sizeof(buf), db, "PRAGMA journal_mode"), "delete",
	       "and left untouched (not switched to WAL)");
	ok(q_int_(db, "SELECT count(*) FROM sqlite_master") == 1,
	   "no tables were added to it");

	path_(db, sizeof(db), "vocab.db");
	exec_raw_(db, "PRAGMA application_id = 1397782114; "
		      "CREATE TABLE vocabularies(id);");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "vocabulary store"),
	   "a vocabulary store is refused by name: %s", sp_errmsg(ctx));

	path_(db, sizeof(db), "text.db");
	f = fopen(db, "w");
	if (f) {
		fputs("this is not a database, just some text that is long "
		      "enough to fill a header of one hundred bytes or so, "
		      "really it is.\n", f);
		fclose(f);
	}
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "not an SQLite"),
	   "a text file is refused: %s", sp_errmsg(ctx));

	path_(db, sizeof(db), "newer.db");
	rc = sp_runlog_open(&log, ctx, db);
	sp_runlog_close(log);
	log = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 SP_RUNLOG_SCHEMA_VERSION + 1);
	exec_raw_(db, sql);
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "reads up to"),
	   "a newer schema is refused: %s", sp_errmsg(ctx));

	path_(db, sizeof(db), "no/such/dir/runs.db");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EIO && strstr(sp_errmsg(ctx), db),
	   "an impossible path is SP_EIO: %s", sp_errmsg(ctx));
	rc = sp_runlog_open(&log, ctx, NULL);
	ok(rc == SP_EINVAL && !log, "no path is SP_EINVAL");
}

/* A child that logs and is then killed: what it committed stays. */
static void test_crash(sp_ctx *ctx)
{
	char db[512];
	runs_seen seen;
	sp_runlog *log = NULL;
	int status = 0, rc;
	pid_t pid;

	path_(db, sizeof(db), "crash.db");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sp_ctx *c = NULL;
		sp_runlog *l = NULL;
		int64_t id = 0;
		if (sp_ctx_new(&c, 1) != SP_OK ||
		    sp_runlog_open(&l, c, db) != SP_OK ||
		    sp_runlog_begin(&id, l, c, "ner", NULL, NULL, NULL, 1,
				    NULL) != SP_OK ||
		    sp_runlog_metric(l, c, id, 0, "dev", "f1", 0.25) != SP_OK ||
		    sp_runlog_metric(l, c, id, 1, "dev", "f1", 0.5) != SP_OK)
			_exit(1);
		/* No close, no end: the process dies here. */
		raise(SIGKILL);
		_exit(2);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "the logging child was killed");
	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_open(&log, ctx, db);
	if (rc == SP_OK)
		rc = sp_runlog_list(log, ctx, NULL, 0, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 1 &&
	   strcmp(seen.r[0].status, "running") == 0 && seen.r[0].has_key &&
	   seen.r[0].key_epoch == 1 && fabs(seen.r[0].key_value - 0.5) < 1e-12,
	   "its run and both metrics survived the kill (%s)", why_(ctx, rc));
	sp_runlog_close(log);
}

#ifndef N_WRITERS /* -DN_WRITERS=8 for a heavier run */
#define N_WRITERS 2
#endif
#define N_METRICS 200

/* Two processes write one new log at once (including creating it). */
static void test_concurrent(sp_ctx *ctx)
{
	char db[512], sql[128];
	pid_t pid[N_WRITERS];
	int good = 0;

	path_(db, sizeof(db), "shared.db");
	fflush(stdout);
	for (int k = 0; k < N_WRITERS; k++) {
		pid[k] = fork();
		if (pid[k] == 0) {
			sp_ctx *c = NULL;
			sp_runlog *l = NULL;
			int64_t id = 0;
			int rc = sp_ctx_new(&c, 1);
			if (rc == SP_OK)
				rc = sp_runlog_open(&l, c, db);
			if (rc == SP_OK)
				rc = sp_runlog_begin(&id, l, c, "par", NULL,
						     NULL, NULL, (uint64_t)k,
						     NULL);
			for (int i = 0; i < N_METRICS && rc == SP_OK; i++) {
				rc = sp_runlog_metric(l, c, id, i, "train",
						      "loss", i);
				/* Every tenth step also in a batch. */
				if (rc == SP_OK && i % 10 == 0) {
					rc = sp_runlog_tx_begin(l, c);
					if (rc == SP_OK)
						rc = sp_runlog_event(
							l, c, id, SP_LOG_INFO,
							"step");
					if (rc == SP_OK)
						rc = sp_runlog_tx_commit(l, c);
				}
			}
			if (rc == SP_OK)
				rc = sp_runlog_end(l, c, id, SP_RUN_FINISHED,
						   NULL);
			if (rc != SP_OK)
				fprintf(stderr, "writer %d: %s\n", k,
					sp_errmsg(c));
			sp_runlog_close(l);
			sp_ctx_free(c);
			_exit(rc == SP_OK ? 0 : 1);
		}
	}
	for (int k = 0; k < N_WRITERS; k++) {
		int status = 0;
		if (pid[k] > 0 && waitpid(pid[k], &status, 0) == pid[k] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good++;
	}
	ok(good == N_WRITERS, "%d of %d concurrent writers succeeded", good,
	   N_WRITERS);
	ok(q_int_(db, "SELECT count(*) FROM runs WHERE status = 'finished'")
		   == N_WRITERS, "both runs finished");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics");
	ok(q_int_(db, sql) == N_WRITERS * N_METRICS,
	   "every metric of both writers is there");
	ok(q_int_(db, "SELECT count(DISTINCT run_id) FROM events") ==
		   N_WRITERS, "both wrote events in batches");
	(void)ctx;
}


/* Copies a file byte for byte (0 on success). */
static int copy_file_(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[8192];
	size_t n;
	int bad = !in || !out;
	while (!bad && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		bad = fwrite(buf, 1, n, out) != n;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		bad = 1;
	return bad ? -1 : 0;
}

/* Copies tests/data/NAME to the test folder as db; 0 on success. */
static int fixture_(char *db, size_t n, const char *name)
{
	const char *src = getenv("srcdir");
	char from[512];
	snprintf(from, sizeof(from), "%s/tests/data/%s",
		 src && *src ? src : ".", name);
	path_(db, n, name);
	if (copy_file_(from, db) != 0) {
		ok(0, "copy the fixture %s", from);
		return -1;
	}
	return 0;
}

/* Opens db read-only (it stays at version `was`), then for writing,
 * which upgrades it to the current schema; 1 when both did. */
static int upgrade_(sp_ctx *ctx, const char *db, int was)
{
	sp_runlog *log = NULL;
	int rc, good;
	ok(q_int_(db, "PRAGMA user_version") == was, "the fixture is schema %d",
	   was);
	rc = sp_runlog_open_readonly(&log, ctx, db);
	ok(rc == SP_OK && sp_runlog_schema_version(log) == was,
	   "read-only open reads schema %d as it is (%s)", was,
	   rc ? sp_errmsg(ctx) : "ok");
	sp_runlog_close(log);
	log = NULL;
	rc = sp_runlog_open(&log, ctx, db);
	good = rc == SP_OK;
	ok(good, "open upgrades schema %d (%s)", was, rc ? sp_errmsg(ctx) : "ok");
	sp_runlog_close(log);
	ok(q_int_(db, "PRAGMA user_version") == SP_RUNLOG_SCHEMA_VERSION,
	   "user_version is now %d", SP_RUNLOG_SCHEMA_VERSION);
	return good;
}

/* What schema 3 adds, on an upgraded log with n_runs runs: status
 * diverged, the new tables, final_values in step with the old rule,
 * and rows of a run deleted with it (foreign keys still hold). */
static void check_v3_(sp_ctx *ctx, const char *db, int n_runs)
{
	sp_runlog *log = NULL;
	int64_t id = 0;
	int rc;
	ok(q_int_(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
		  "('confusion', 'samples', 'final_values', "
		  "'final_values_value', 'metrics_final', 'runs_status', "
		  "'runs_pipeline', 'run_summary')") == 8,
	   "schema 3: the new tables, index and trigger, and the runs "
		  "indexes and view made again");
	ok(q_int_(db, "SELECT count(*) FROM run_summary") == n_runs,
	   "run_summary: still one row per run (%d)", n_runs);
	/* the old view's rule, written out, against the table */
	ok(q_int_(db, "SELECT count(*) FROM metrics m WHERE m.id = (SELECT "
		  "l.id FROM metrics l WHERE l.run_id = m.run_id AND l.name = "
		  "m.name AND l.split IS m.split ORDER BY l.epoch IS NOT NULL, "
		  "l.epoch DESC, l.id DESC LIMIT 1)") ==
		   q_int_(db, "SELECT count(*) FROM final_values f JOIN "
			  "metrics m ON m.id = f.metric_id AND m.value IS "
			  "f.value AND m.epoch IS f.epoch") &&
	   q_int_(db, "SELECT count(*) FROM final_values") ==
		   q_int_(db, "SELECT count(*) FROM (SELECT DISTINCT run_id, "
			  "name, split FROM metrics)"),
	   "final_values holds each metric's final (else last) row");
	rc = sp_runlog_open(&log, ctx, db);
	if (rc == SP_OK)
		rc = sp_runlog_begin(&id, log, ctx, "up", NULL, NULL, NULL, 1,
				     NULL);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, id, 0, "dev", "f1", 0.25);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, id, 1, "dev", "f1", 0.5);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, id, SP_RUN_DIVERGED, "loss nan");
	ok(rc == SP_OK, "a run on the upgraded log ends as diverged (%s)",
	   rc ? sp_errmsg(ctx) : "ok");
	ok(q_int_(db, "SELECT count(*) FROM runs WHERE status = 'diverged'") ==
		   1 && q_int_(db, "SELECT count(*) FROM final_metrics WHERE "
			       "name = 'f1' AND split = 'dev' AND epoch = 1 "
			       "AND value = 0.5") == 1,
	   "status diverged is stored; final_metrics follows the new rows");
	rc = rc == SP_OK ? sp_runlog_delete(log, ctx, 1) : rc;
	ok(rc == SP_OK && q_int_(db, "SELECT (SELECT count(*) FROM metrics "
				 "WHERE run_id = 1) + (SELECT count(*) FROM "
				 "final_values WHERE run_id = 1)") == 0,
	   "deleting run 1 still deletes its rows");
	sp_runlog_close(log);
}

/* Logs written by the releases before schema 2 (tests/data/runs-v1.db:
 * four hello runs, one failed, one with instruments) and before schema 3
 * (runs-v2.db: the same upgraded, two tags, a fifth run with instruments)
 * are upgraded in place with every row kept. */
static void test_migration(sp_ctx *ctx)
{
	char db[512];
	sp_runlog *log = NULL;
	int rc;
	if (fixture_(db, sizeof(db), "runs-v1.db") != 0)
		return;
	if (!upgrade_(ctx, db, 1))
		return;
	ok(q_int_(db, "SELECT count(*) FROM runs") == 4 &&
	   q_int_(db, "SELECT count(*) FROM metrics") == 109 &&
	   q_int_(db, "SELECT count(*) FROM runs WHERE status = 'failed'") == 1,
	   "every run and metric row is kept (4 runs, 109 metrics)");
	ok(q_int_(db, "SELECT count(*) FROM tags") == 0 &&
	   q_int_(db, "SELECT count(*) FROM sqlite_master WHERE type = "
		  "'index' AND name IN ('metrics_run', 'metrics_name', "
		  "'tags_key', 'params_key', 'runs_status')") == 5,
	   "tags table and the new indexes exist");
	ok(q_int_(db, "SELECT count(*) FROM run_summary") == 4 &&
	   q_int_(db, "SELECT count(*) FROM run_summary WHERE run_id = 1 "
		  "AND model = 'rnn' AND hidden = '3' AND epochs = '5'") == 1,
	   "run_summary: one row per run with its key params");
	ok(q_int_(db, "SELECT count(*) FROM metric_curve WHERE run_id = 1 "
		  "AND name = 'loss' AND train IS NOT NULL") == 5,
	   "metric_curve: the train loss of run 1 per epoch (5 epochs)");
	ok(q_int_(db, "SELECT count(*) FROM final_metrics WHERE run_id = 1 "
		  "AND split = 'train' AND name = 'loss' AND epoch IS NULL") == 1,
	   "final_metrics: the final train loss of run 1");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK && sp_runlog_schema_version(log) ==
				  SP_RUNLOG_SCHEMA_VERSION,
	   "a second open finds nothing to migrate");
	sp_runlog_close(log);
	check_v3_(ctx, db, 4);
	remove_db_(db);

	if (fixture_(db, sizeof(db), "runs-v2.db") != 0)
		return;
	if (!upgrade_(ctx, db, 2))
		return;
	ok(q_int_(db, "SELECT count(*) FROM runs") == 5 &&
	   q_int_(db, "SELECT count(*) FROM metrics") == 2216 &&
	   q_int_(db, "SELECT count(*) FROM params") == 338 &&
	   q_int_(db, "SELECT count(*) FROM artifacts") == 8 &&
	   q_int_(db, "SELECT count(*) FROM tags") == 2 &&
	   q_int_(db, "SELECT count(*) FROM runs WHERE status = 'failed' AND "
		  "id = 3 AND error IS NOT NULL") == 1,
	   "every row of schema 2 is kept (5 runs, 2216 metrics, 338 params, "
	   "8 artifacts, 2 tags, the failed run's error)");
	check_v3_(ctx, db, 5);
	remove_db_(db);
}

/* Another process holds the write lock for 1.5 s: rows logged meanwhile
 * return at once, wait in memory, and end writes them all, in order. */
static void test_locked(sp_ctx *ctx)
{
	char db[512];
	sp_runlog *log = NULL;
	int64_t id = 0;
	int fds[2], rc, status = 0, all_ok = 1;
	pid_t pid;
	char c;

	path_(db, sizeof(db), "locked.db");
	if (sp_runlog_open(&log, ctx, db) != SP_OK ||
	    sp_runlog_begin(&id, log, ctx, "locked", NULL, NULL, NULL, 1,
			    NULL) != SP_OK || pipe(fds) != 0) {
		ok(0, "set up the locked log: %s", sp_errmsg(ctx));
		sp_runlog_close(log);
		return;
	}
	sp_runlog_set_waits(log, 50, 20000);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sqlite3 *h = NULL;
		close(fds[0]);
		if (sqlite3_open(db, &h) != SQLITE_OK ||
		    sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			    SQLITE_OK)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		usleep(1500 * 1000);
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(h);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		all_ok = 0;
	close(fds[0]);
	for (int e = 0; e < 20; e++)
		all_ok &= sp_runlog_metric(log, ctx, id, e, "train", "loss",
					   1.0 / (e + 1)) == SP_OK;
	all_ok &= sp_runlog_event(log, ctx, id, SP_LOG_INFO, "while locked")
		  == SP_OK;
	ok(all_ok, "20 metrics and an event logged while locked return ok");
	ok(sp_runlog_pending(log) == 21, "and are kept in memory (%zu)",
	   sp_runlog_pending(log));
	rc = sp_runlog_end(log, ctx, id, SP_RUN_FINISHED, NULL);
	ok(rc == SP_OK && sp_runlog_pending(log) == 0,
	   "end waits for the lock and writes them (%s)",
	   rc ? sp_errmsg(ctx) : "ok");
	sp_runlog_close(log);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the lock holder held it and let go");
	ok(q_int_(db, "SELECT count(*) FROM metrics WHERE name = 'loss'") == 20
	   && q_int_(db, "SELECT count(*) FROM events") == 1 &&
	   q_int_(db, "SELECT status = 'finished' FROM runs") == 1,
	   "all 20 metrics, the event and the end are in the file");
	ok(q_int_(db, "SELECT count(*) FROM metrics a JOIN metrics b ON "
		  "b.id = a.id + 1 WHERE b.epoch = a.epoch + 1") == 19,
	   "in the order they were logged");
	ok(q_int_(db, "SELECT max(ts) <= (SELECT ended FROM runs) FROM "
		  "metrics") == 1 &&
	   q_int_(db, "SELECT (julianday(ended) - julianday(started)) * "
		  "86400 < 1.0 FROM runs") == 1,
	   "timestamps say when rows were logged, not when written");
	remove_db_(db);
}

static int count_tag_(void *payload, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(int *)payload)++;
	return 0;
}

static void test_tags_delete(sp_ctx *ctx)
{
	char db[512];
	sp_runlog *log = NULL;
	int64_t a = 0, b = 0;
	int n = 0, rc;
	path_(db, sizeof(db), "tags.db");
	if (sp_runlog_open(&log, ctx, db) != SP_OK ||
	    sp_runlog_begin(&a, log, ctx, "x", NULL, NULL, NULL, 1, NULL) ||
	    sp_runlog_begin(&b, log, ctx, "x", NULL, NULL, NULL, 1, NULL) ||
	    sp_runlog_metric(log, ctx, a, 0, "dev", "f1", 0.5)) {
		ok(0, "set up: %s", sp_errmsg(ctx));
		sp_runlog_close(log);
		return;
	}
	ok(sp_runlog_tag(log, ctx, a, "note", "baseline") == SP_OK &&
	   sp_runlog_tag(log, ctx, a, "note", "best") == SP_OK &&
	   sp_runlog_tag(log, ctx, a, "who", "me") == SP_OK,
	   "tag a run, and again with a new value");
	ok(sp_runlog_tags(log, ctx, a, count_tag_, &n) == SP_OK && n == 2 &&
	   q_int_(db, "SELECT count(*) FROM tags WHERE value = 'best'") == 1,
	   "two tags, the second value kept");
	ok(sp_runlog_tag(log, ctx, a, "who", NULL) == SP_OK &&
	   q_int_(db, "SELECT count(*) FROM tags") == 1, "remove a tag");
	rc = sp_runlog_tag(log, ctx, 99, "k", "v");
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "no run 99"),
	   "tagging an unknown run names it (%s)", sp_errmsg(ctx));
	ok(sp_runlog_delete(log, ctx, a) == SP_OK &&
	   q_int_(db, "SELECT count(*) FROM runs") == 1 &&
	   q_int_(db, "SELECT count(*) FROM metrics") == 0 &&
	   q_int_(db, "SELECT count(*) FROM tags") == 0,
	   "delete removes the run and its rows");
	rc = sp_runlog_delete(log, ctx, a);
	ok(rc == SP_ENOTFOUND, "deleting it again: no run");
	sp_runlog_close(log);
	log = NULL;
	rc = sp_runlog_open_readonly(&log, ctx, db);
	ok(rc == SP_OK && sp_runlog_tag(log, ctx, b, "k", "v") == SP_EINVAL &&
	   sp_runlog_metric(log, ctx, b, 0, "dev", "f1", 1) == SP_EINVAL,
	   "a read-only handle refuses writes");
	sp_runlog_close(log);
	log = NULL;
	path_(db, sizeof(db), "missing.db");
	rc = sp_runlog_open_readonly(&log, ctx, db);
	ok(rc == SP_ENOTFOUND && access(db, F_OK) != 0,
	   "read-only open of a missing file creates nothing");
	path_(db, sizeof(db), "tags.db");
	remove_db_(db);
}

int main(void)
{
	sp_ctx *ctx = NULL;
	char db[512];
	const char *tmp = getenv("TMPDIR");
	int64_t first = 0;

	snprintf(dir_, sizeof(dir_), "%s/t_runlog.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir_) || sp_ctx_new(&ctx, 1) != SP_OK) {
		printf("Bail out! no temporary folder or context\n");
		return 1;
	}
	path_(db, sizeof(db), "runs.db");

	test_hash();
	test_schema(ctx, db);
	test_full_run(ctx, db, &first);
	test_other_runs(ctx, db, first);
	test_batches(ctx, db);
	test_foreign(ctx);
	test_crash(ctx);
	test_concurrent(ctx);
	test_migration(ctx);
	test_locked(ctx);
	test_tags_delete(ctx);

	remove_db_(db);
	path_(db, sizeof(db), "other.db");
	remove_db_(db);
	path_(db, sizeof(db), "vocab.db");
	remove_db_(db);
	path_(db, sizeof(db), "text.db");
	remove_db_(db);
	path_(db, sizeof(db), "newer.db");
	remove_db_(db);
	path_(db, sizeof(db), "crash.db");
	remove_db_(db);
	path_(db, sizeof(db), "shared.db");
	remove_db_(db);
	ok(rmdir(dir_) == 0, "the temporary folder is left empty");
	sp_ctx_free(ctx);
	return tap_done();
}
