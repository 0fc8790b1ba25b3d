/*
 * sp_runlog.c: the experiment log in SQLite (see sp_runlog.h and
 * doc/schema.md).
 *
 * The file is identified by PRAGMA application_id and versioned by PRAGMA
 * user_version, like the vocabulary store.  Opening checks the identity
 * BEFORE changing anything (switching a stranger's database to WAL would
 * be rude), then creates or migrates the schema inside BEGIN IMMEDIATE so
 * that two processes opening a new file at once create it exactly once.
 *
 * Writes go through statements prepared once per handle.  Each one is its
 * own transaction unless a batch is open; BEGIN IMMEDIATE (not DEFERRED)
 * for batches, because a deferred transaction that upgrades from reading
 * to writing can fail with SQLITE_BUSY at once, without waiting.
 */
#define _POSIX_C_SOURCE 200809L

#include "sp_runlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_sqlite.h"

#include "sp_hash.h"

/* ISO-8601 UTC with milliseconds, computed by SQLite: "...T12:00:00.123Z".
 * Fixed width, so timestamps sort as strings. */
#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

/* How long a writer waits for another process's transaction (ms). */
#define BUSY_TIMEOUT_MS 10000

/* A vocabulary store's application_id, only to name it in a message. */
#define VOCAB_APPLICATION_ID 0x53507662

/*
 * migrations_[v] turns schema version v into v + 1.  Append only: a log
 * written by an older seqpipe is brought up to date on open.  Keep
 * doc/schema.md in step with this text.
 */
static const char *const migrations_[SP_RUNLOG_SCHEMA_VERSION] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE runs (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	pipeline TEXT NOT NULL,\n"
	"	pipe_path TEXT,\n"
	"	pipe_text TEXT,\n"
	"	pipe_hash TEXT,\n"
	"	seed INTEGER,\n"
	"	status TEXT NOT NULL DEFAULT 'running' CHECK (status IN\n"
	"		('running', 'finished', 'failed', 'interrupted')),\n"
	"	started TEXT NOT NULL,\n"
	"	ended TEXT,\n"
	"	error TEXT,\n"
	"	seqpipe_version TEXT,\n"
	"	host TEXT,\n"
	"	pid INTEGER\n"
	");\n"
	"CREATE INDEX runs_pipeline ON runs(pipeline, status);\n"
	"CREATE TABLE params (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	section TEXT NOT NULL,\n"
	"	key TEXT NOT NULL,\n"
	"	value TEXT,\n"
	"	PRIMARY KEY (run_id, section, key)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE stages (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	idx INTEGER NOT NULL,\n"
	"	section TEXT NOT NULL,\n"
	"	plugin TEXT NOT NULL,\n"
	"	component TEXT NOT NULL,\n"
	"	plugin_version TEXT,\n"
	"	abi INTEGER,\n"
	"	PRIMARY KEY (run_id, idx)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE metrics (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	epoch INTEGER CHECK (epoch IS NULL OR epoch >= 0),\n"
	"	split TEXT CHECK (split IS NULL OR split IN\n"
	"		('train', 'dev', 'test')),\n"
	"	name TEXT NOT NULL,\n"
	"	value REAL,\n"
	"	ts TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX metrics_run ON metrics(run_id);\n"
	"CREATE TABLE events (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	ts TEXT NOT NULL,\n"
	"	level TEXT NOT NULL CHECK (level IN\n"
	"		('debug', 'info', 'warn', 'error')),\n"
	"	message TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX events_run ON events(run_id);\n"
	"CREATE TABLE artifacts (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	kind TEXT NOT NULL,\n"
	"	path TEXT NOT NULL,\n"
	"	bytes INTEGER,\n"
	"	checksum TEXT,\n"
	"	ts TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX artifacts_run ON artifacts(run_id, kind);\n"
};

/* The write statements, prepared once per handle. */
enum {
	ST_BEGIN,
	ST_PARAM,
	ST_STAGE,
	ST_METRIC,
	ST_EVENT,
	ST_ARTIFACT,
	ST_END,
	ST_N
};

static const char *const stmt_sql_[ST_N] = {
	[ST_BEGIN] = "INSERT INTO runs (pipeline, pipe_path, pipe_text, "
		     "pipe_hash, seed, status, started, seqpipe_version, host, "
		     "pid) VALUES (?1, ?2, ?3, ?4, ?5, 'running', " NOW_SQL
		     ", ?6, ?7, ?8)",
	[ST_PARAM] = "INSERT INTO params (run_id, section, key, value) "
		     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (run_id, section, key) "
		     "DO UPDATE SET value = excluded.value",
	[ST_STAGE] = "INSERT INTO stages (run_id, idx, section, plugin, "
		     "component, plugin_version, abi) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_METRIC] = "INSERT INTO metrics (run_id, epoch, split, name, value, "
		      "ts) VALUES (?1, ?2, ?3, ?4, ?5, " NOW_SQL ")",
	[ST_EVENT] = "INSERT INTO events (run_id, ts, level, message) "
		     "VALUES (?1, " NOW_SQL ", ?2, ?3)",
	[ST_ARTIFACT] = "INSERT INTO artifacts (run_id, kind, path, bytes, "
			"checksum, ts) VALUES (?1, ?2, ?3, ?4, ?5, " NOW_SQL
			")",
	/* Only a running run can end: ending twice is a caller bug. */
	[ST_END] = "UPDATE runs SET status = ?2, ended = " NOW_SQL
		   ", error = ?3 WHERE id = ?1 AND status = 'running'",
};

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

struct sp_runlog {
	sqlite3 *db;
	char *path;               /* for messages */
	sqlite3_stmt *st[ST_N];   /* prepared write statements */
};

const char *sp_run_status_name(sp_run_status status)
{
	switch (status) {
	case SP_RUN_RUNNING: return "running";
	case SP_RUN_FINISHED: return "finished";
	case SP_RUN_FAILED: return "failed";
	case SP_RUN_INTERRUPTED: return "interrupted";
	}
	return NULL;
}

static int status_from_name_(const char *name, sp_run_status *out)
{
	for (int s = SP_RUN_RUNNING; s <= SP_RUN_INTERRUPTED; s++) {
		if (name && strcmp(name, sp_run_status_name(s)) == 0) {
			*out = s;
			return 0;
		}
	}
	return -1;
}

static const char *level_name_(sp_level level)
{
	switch (level) {
	case SP_LOG_DEBUG: return "debug";
	case SP_LOG_INFO: return "info";
	case SP_LOG_WARN: return "warn";
	}
	return NULL;
}

/* Sets the message for a failed SQLite call and returns the code: the
 * connection's own message is the most precise one there is. */
static int db_fail_(const sp_runlog *log, sp_ctx *ctx, int rc,
		    const char *what)
{
	int prim = rc & 0xff;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return sp_err(ctx, SP_EDB,
			      "%s: %s: the run log stayed locked by another "
			      "process for %d s", log->path, what,
			      BUSY_TIMEOUT_MS / 1000);
	if (prim == SQLITE_NOTADB)
		return sp_err(ctx, SP_EINPUT,
			      "%s: not a seqpipe run log (not an SQLite "
			      "database)", log->path);
	return sp_err(ctx, SP_EDB, "%s: %s: %s", log->path, what,
		      sqlite3_errmsg(log->db));
}

static int exec_(sp_runlog *log, sp_ctx *ctx, const char *sql,
		 const char *what)
{
	int rc = sqlite3_exec(log->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail_(log, ctx, rc, what);
	return SP_OK;
}

/*
 * What the open file is.  *out_version = its schema version, or 0 for an
 * empty database (a new file).  Anything else with the wrong application
 * id, or a newer schema, is refused.  One statement reads all three
 * values, so they come from one snapshot even while another process is
 * creating the schema.
 */
static int identify_(sp_runlog *log, sp_ctx *ctx, int *out_version)
{
	static const char sql[] =
		"SELECT (SELECT application_id FROM pragma_application_id), "
		"(SELECT user_version FROM pragma_user_version), "
		"(SELECT count(*) FROM sqlite_master)";
	sqlite3_stmt *st = NULL;
	int64_t app_id = 0, version = 0, n_objects = 0;
	int rc, code = SP_OK;

	rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		app_id = sqlite3_column_int64(st, 0);
		version = sqlite3_column_int64(st, 1);
		n_objects = sqlite3_column_int64(st, 2);
	} else {
		code = db_fail_(log, ctx, rc, "read the file header");
	}
	sqlite3_finalize(st);
	if (code != SP_OK)
		return code;
	if (app_id == 0 && version == 0 && n_objects == 0) {
		*out_version = 0;
		return SP_OK;
	}
	if (app_id != SP_RUNLOG_APPLICATION_ID)
		return sp_err(ctx, SP_EINPUT,
			      "%s: not a seqpipe run log (application_id "
			      "0x%08llx, expected 0x%08x)%s", log->path,
			      (unsigned long long)(uint32_t)app_id,
			      SP_RUNLOG_APPLICATION_ID,
			      app_id == VOCAB_APPLICATION_ID ?
				      "; it is a seqpipe vocabulary store" : "");
	if (version > SP_RUNLOG_SCHEMA_VERSION || version < 0)
		return sp_err(ctx, SP_EINPUT,
			      "%s: run log schema version %lld, this seqpipe "
			      "reads up to %d", log->path, (long long)version,
			      SP_RUNLOG_SCHEMA_VERSION);
	*out_version = (int)version;
	return SP_OK;
}

/* Creates or upgrades the schema.  Identifies the file again under the
 * write lock: another process may have created it since we looked. */
static int migrate_(sp_runlog *log, sp_ctx *ctx)
{
	char sql[128];
	int version = 0;
	int code = exec_(log, ctx, "BEGIN IMMEDIATE", "lock the run log");
	if (code != SP_OK)
		return code;
	code = identify_(log, ctx, &version);
	if (code != SP_OK)
		goto fail;
	for (int v = version; v < SP_RUNLOG_SCHEMA_VERSION; v++) {
		code = exec_(log, ctx, migrations_[v], "create the tables");
		if (code != SP_OK)
			goto fail;
	}
	if (version < SP_RUNLOG_SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; "
			 "PRAGMA user_version = %d", SP_RUNLOG_APPLICATION_ID,
			 SP_RUNLOG_SCHEMA_VERSION);
		code = exec_(log, ctx, sql, "stamp the schema version");
		if (code != SP_OK)
			goto fail;
	}
	code = exec_(log, ctx, "COMMIT", "commit the schema");
	if (code != SP_OK)
		goto fail;
	return SP_OK;
fail:
	sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return code;
}

int sp_runlog_open(sp_runlog **out, sp_ctx *ctx, const char *path)
{
	sp_runlog *log = NULL;
	int rc, code, version = 0;

	*out = NULL;
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "run log: no file name");
	log = calloc(1, sizeof(*log));
	if (!log || !(log->path = strdup(path))) {
		code = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	rc = sqlite3_open_v2(path, &log->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		code = sp_err(ctx, rc == SQLITE_NOMEM ? SP_ENOMEM : SP_EIO,
			      "%s: cannot open the run log: %s", path,
			      log->db ? sqlite3_errmsg(log->db) :
					sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(log->db, 1);
	sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);

	code = identify_(log, ctx, &version);
	if (code != SP_OK)
		goto fail;
	if (sqlite3_db_readonly(log->db, "main") == 1) {
		code = sp_err(ctx, SP_EIO, "%s: the run log is read-only",
			      path);
		goto fail;
	}
	/* WAL: readers never block the writer, and a commit is one append
	 * to the -wal file.  NORMAL syncs at checkpoints only, which keeps
	 * every commit across a process crash (not across a power cut). */
	rc = sp_sqlite_enable_wal(log->db, BUSY_TIMEOUT_MS);
	code = rc == SQLITE_OK ? SP_OK : db_fail_(log, ctx, rc, "enable WAL");
	if (code == SP_OK)
		code = exec_(log, ctx,
			     "PRAGMA synchronous = NORMAL; "
			     "PRAGMA foreign_keys = ON", "set up the connection");
	if (code == SP_OK && version < SP_RUNLOG_SCHEMA_VERSION)
		code = migrate_(log, ctx);
	if (code != SP_OK)
		goto fail;
	for (int i = 0; i < ST_N; i++) {
		rc = sqlite3_prepare_v3(log->db, stmt_sql_[i], -1,
					SQLITE_PREPARE_PERSISTENT, &log->st[i],
					NULL);
		if (rc != SQLITE_OK) {
			code = db_fail_(log, ctx, rc, "prepare a statement");
			goto fail;
		}
	}
	*out = log;
	return SP_OK;
fail:
	sp_runlog_close(log);
	return code;
}

void sp_runlog_close(sp_runlog *log)
{
	if (!log)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(log->st[i]);
	/* Rolls back an open batch; the last connection to close also
	 * checkpoints the WAL into the main file and removes -wal/-shm. */
	sqlite3_close_v2(log->db);
	free(log->path);
	free(log);
}

/*
 * Runs one prepared write statement with its bound values and makes it
 * ready for the next use.  A foreign-key failure means run_id names no
 * run.  The message is taken before the reset, which may change it.
 */
static int step_write_(sp_runlog *log, sp_ctx *ctx, int which,
		       int64_t run_id, int bind_rc, const char *what)
{
	sqlite3_stmt *st = log->st[which];
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
	int code = SP_OK;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: %s: no run %lld",
			      log->path, what, (long long)run_id);
	else if (rc != SQLITE_DONE)
		code = db_fail_(log, ctx, rc, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return code;
}

/* Text binding where NULL stores NULL (SQLite's own rule). */
static int bind_text_(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int sp_runlog_begin(int64_t *out, sp_runlog *log, sp_ctx *ctx,
		    const char *pipeline, const char *pipe_path,
		    const char *pipe_text, const char *pipe_hash,
		    uint64_t seed, const char *version)
{
	sqlite3_stmt *st;
	char hash[SP_HASH_HEX_LEN + 1], host[256];
	int b = SQLITE_OK, code;

	*out = 0;
	if (!log || !pipeline || !*pipeline)
		return sp_err(ctx, SP_EINVAL, "run log: begin: no pipeline "
			      "name");
	if (!pipe_hash && pipe_text) {
		sp_hash_text(hash, pipe_text, strlen(pipe_text));
		pipe_hash = hash;
	}
	/* The host tells runs of a shared log apart; without it, NULL. */
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';

	st = log->st[ST_BEGIN];
	b |= bind_text_(st, 1, pipeline);
	b |= bind_text_(st, 2, pipe_path);
	b |= bind_text_(st, 3, pipe_text);
	b |= bind_text_(st, 4, pipe_hash);
	/* SQLite integers are signed: seeds >= 2^63 read back through
	 * sp_run_info unchanged, but show negative in the sqlite3 shell. */
	b |= sqlite3_bind_int64(st, 5, (sqlite3_int64)seed);
	b |= bind_text_(st, 6, version);
	b |= bind_text_(st, 7, host[0] ? host : NULL);
	b |= sqlite3_bind_int64(st, 8, (sqlite3_int64)getpid());
	code = step_write_(log, ctx, ST_BEGIN, 0, b, "begin a run");
	if (code == SP_OK)
		*out = sqlite3_last_insert_rowid(log->db);
	return code;
}

int sp_runlog_param(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		    const char *section, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int b = SQLITE_OK;
	if (!log || !section || !key)
		return sp_err(ctx, SP_EINVAL, "run log: param: section and "
			      "key are required");
	st = log->st[ST_PARAM];
	b |= sqlite3_bind_int64(st, 1, run_id);
	b |= bind_text_(st, 2, section);
	b |= bind_text_(st, 3, key);
	b |= bind_text_(st, 4, value);
	return step_write_(log, ctx, ST_PARAM, run_id, b, "log a parameter");
}

int sp_runlog_stage(sp_runlog *log, sp_ctx *ctx, int64_t run_id, int idx,
		    const char *section, const char *plugin,
		    const char *component, const char *plugin_version,
		    int abi)
{
	sqlite3_stmt *st;
	int b = SQLITE_OK;
	if (!log || idx < 0 || !section || !plugin || !component)
		return sp_err(ctx, SP_EINVAL, "run log: stage: idx >= 0, "
			      "section, plugin and component are required");
	st = log->st[ST_STAGE];
	b |= sqlite3_bind_int64(st, 1, run_id);
	b |= sqlite3_bind_int(st, 2, idx);
	b |= bind_text_(st, 3, section);
	b |= bind_text_(st, 4, plugin);
	b |= bind_text_(st, 5, component);
	b |= bind_text_(st, 6, plugin_version);
	b |= sqlite3_bind_int(st, 7, abi);
	return step_write_(log, ctx, ST_STAGE, run_id, b, "log a stage");
}

int sp_runlog_metric(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     int64_t epoch, const char *split, const char *name,
		     double value)
{
	sqlite3_stmt *st;
	int b = SQLITE_OK;
	if (!log || !name || !*name)
		return sp_err(ctx, SP_EINVAL, "run log: metric: no name");
	if (split && strcmp(split, "train") != 0 && strcmp(split, "dev") != 0
	    && strcmp(split, "test") != 0)
		return sp_err(ctx, SP_EINVAL, "run log: metric %s: split "
			      "'%s' is not train, dev or test", name, split);
	st = log->st[ST_METRIC];
	b |= sqlite3_bind_int64(st, 1, run_id);
	b |= epoch < 0 ? sqlite3_bind_null(st, 2) :
			 sqlite3_bind_int64(st, 2, epoch);
	b |= bind_text_(st, 3, split);
	b |= bind_text_(st, 4, name);
	/* SQLite would turn a NaN into NULL anyway; say so explicitly. */
	b |= isnan(value) ? sqlite3_bind_null(st, 5) :
			    sqlite3_bind_double(st, 5, value);
	return step_write_(log, ctx, ST_METRIC, run_id, b, "log a metric");
}

int sp_runlog_event(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		    sp_level level, const char *message)
{
	sqlite3_stmt *st;
	const char *lv = level_name_(level);
	int b = SQLITE_OK;
	if (!log || !message || !lv)
		return sp_err(ctx, SP_EINVAL, "run log: event: bad level or "
			      "no message");
	st = log->st[ST_EVENT];
	b |= sqlite3_bind_int64(st, 1, run_id);
	b |= bind_text_(st, 2, lv);
	b |= bind_text_(st, 3, message);
	return step_write_(log, ctx, ST_EVENT, run_id, b, "log an event");
}

int sp_runlog_artifact(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		       const char *kind, const char *path, int64_t bytes,
		       const char *checksum)
{
	sqlite3_stmt *st;
	int b = SQLITE_OK;
	if (!log || !kind || !*kind || !path || !*path)
		return sp_err(ctx, SP_EINVAL, "run log: artifact: kind and "
			      "path are required");
	st = log->st[ST_ARTIFACT];
	b |= sqlite3_bind_int64(st, 1, run_id);
	b |= bind_text_(st, 2, kind);
	b |= bind_text_(st, 3, path);
	b |= bytes < 0 ? sqlite3_bind_null(st, 4) :
			 sqlite3_bind_int64(st, 4, bytes);
	b |= bind_text_(st, 5, checksum);
	return step_write_(log, ctx, ST_ARTIFACT, run_id, b,
			   "log an artifact");
}

int sp_runlog_end(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  sp_run_status status, const char *error)
{
	sqlite3_stmt *st = NULL;
	const char *name = sp_run_status_name(status);
	int b = SQLITE_OK, code, rc;

	if (!log || !name || status == SP_RUN_RUNNING)
		return sp_err(ctx, SP_EINVAL, "run log: end: status must be "
			      "finished, failed or interrupted");
	st = log->st[ST_END];
	b |= sqlite3_bind_int64(st, 1, run_id);
	b |= bind_text_(st, 2, name);
	b |= bind_text_(st, 3, error);
	code = step_write_(log, ctx, ST_END, run_id, b, "end a run");
	if (code != SP_OK || sqlite3_changes(log->db) == 1)
		return code;

	/* Nothing changed: say whether the run is unknown or over. */
	st = NULL;
	rc = sqlite3_prepare_v2(log->db,
				"SELECT status FROM runs WHERE id = ?1", -1,
				&st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		code = sp_err(ctx, SP_EINVAL, "%s: run %lld has already "
			      "ended (%s)", log->path, (long long)run_id,
			      (const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: end a run: no run %lld",
			      log->path, (long long)run_id);
	else
		code = db_fail_(log, ctx, rc, "end a run");
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_tx_begin(sp_runlog *log, sp_ctx *ctx)
{
	if (!log || !sqlite3_get_autocommit(log->db))
		return sp_err(ctx, SP_EINVAL, "run log: a batch is already "
			      "open");
	return exec_(log, ctx, "BEGIN IMMEDIATE", "begin a batch");
}

int sp_runlog_tx_commit(sp_runlog *log, sp_ctx *ctx)
{
	if (!log || sqlite3_get_autocommit(log->db))
		return sp_err(ctx, SP_EINVAL, "run log: no batch is open");
	return exec_(log, ctx, "COMMIT", "commit a batch");
}

int sp_runlog_tx_rollback(sp_runlog *log, sp_ctx *ctx)
{
	if (!log || sqlite3_get_autocommit(log->db))
		return sp_err(ctx, SP_EINVAL, "run log: no batch is open");
	return exec_(log, ctx, "ROLLBACK", "roll back a batch");
}

/* ---- reading ------------------------------------------------------------- */

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
	rc = sqlite3_prepare_v2(log->db, key_metric_sql_, -1, &key, NULL);
	if (rc != SQLITE_OK)
		return db_fail_(log, ctx, rc, "list runs");
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
		if (status_from_name_(col_text_(st, 5), &info.status) != 0) {
			code = sp_err(ctx, SP_EDB, "%s: run %lld: unknown "
				      "status", log->path, (long long)info.id);
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
			code = db_fail_(log, ctx, krc, "find a key metric");
			goto fail;
		}
		(*n_out)++;
		code = fn(payload, &info);
		if (code != SP_OK)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		code = db_fail_(log, ctx, rc, "list runs");
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
	rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_text_(st, 1, pipeline);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, limit == 0 || limit > INT64_MAX ?
						       -1 : (sqlite3_int64)limit);
	if (rc != SQLITE_OK) {
		code = db_fail_(log, ctx, rc, "list runs");
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
	rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc != SQLITE_OK) {
		code = db_fail_(log, ctx, rc, "read a run");
		goto fail;
	}
	code = each_run_(log, ctx, st, fn, payload, &n);
	if (code == SP_OK && n == 0)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld", log->path,
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
	rc = sqlite3_prepare_v2(log->db, "SELECT 1 FROM runs WHERE id = ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld", log->path,
			      (long long)run_id);
	else if (rc != SQLITE_ROW)
		code = db_fail_(log, ctx, rc, "read a run");
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_metrics(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		      sp_runlog_metric_fn fn, void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, code;

	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: metrics: no callback");
	code = run_exists_(log, ctx, run_id);
	if (code != SP_OK)
		return code;
	rc = sqlite3_prepare_v2(log->db,
				"SELECT epoch, split, name, value, ts "
				"FROM metrics WHERE run_id = ?1 "
				"ORDER BY epoch IS NULL, epoch, id",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc != SQLITE_OK) {
		code = db_fail_(log, ctx, rc, "read metrics");
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sp_runlog_metric_row row;
		memset(&row, 0, sizeof(row));
		row.size = sizeof(row);
		row.epoch = sqlite3_column_type(st, 0) == SQLITE_NULL ?
				    -1 : sqlite3_column_int64(st, 0);
		row.split = col_text_(st, 1);
		row.name = col_text_(st, 2);
		row.value = col_value_(st, 3);
		row.ts = col_text_(st, 4);
		code = fn(payload, &row);
		if (code != SP_OK)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		code = db_fail_(log, ctx, rc, "read metrics");
fail:
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_params(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     sp_runlog_param_fn fn, void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, code;

	if (!log || !fn)
		return sp_err(ctx, SP_EINVAL, "run log: params: no callback");
	code = run_exists_(log, ctx, run_id);
	if (code != SP_OK)
		return code;
	rc = sqlite3_prepare_v2(log->db,
				"SELECT section, key, value FROM params "
				"WHERE run_id = ?1 ORDER BY section, key",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc != SQLITE_OK) {
		code = db_fail_(log, ctx, rc, "read parameters");
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		code = fn(payload, col_text_(st, 0), col_text_(st, 1),
			  col_text_(st, 2));
		if (code != SP_OK)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		code = db_fail_(log, ctx, rc, "read parameters");
fail:
	sqlite3_finalize(st);
	return code;
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
	rc = sqlite3_prepare_v2(log->db,
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
			      log->path, name, pipeline ? " of pipeline '" : "",
			      pipeline ? pipeline : "", pipeline ? "'" : "");
	else
		code = db_fail_(log, ctx, rc, "find a run");
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
	rc = sqlite3_prepare_v2(log->db,
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
				      log->path, (long long)run_id, kind, n,
				      out_size ? out_size - 1 : 0);
		else
			memcpy(out, p ? p : "", n + 1);
		if (checksum && checksum_size)
			snprintf(checksum, checksum_size, "%s",
				 col_text_(st, 1) ? col_text_(st, 1) : "");
	} else if (rc == SQLITE_DONE) {
		code = sp_err(ctx, SP_ENOTFOUND, "%s: run %lld has no '%s' "
			      "artifact", log->path, (long long)run_id, kind);
	} else {
		code = db_fail_(log, ctx, rc, "find an artifact");
	}
	sqlite3_finalize(st);
	return code;
}
