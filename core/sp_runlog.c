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

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_runlog_priv.h"
#include "sp_sqlite.h"

#include "sp_hash.h"

/* A vocabulary store's application_id, only to name it in a message. */
#define VOCAB_APPLICATION_ID 0x53507662

static const char *const stmt_sql_[ST_N] = {
	[ST_BEGIN] = "INSERT INTO runs (pipeline, pipe_path, pipe_text, "
		     "pipe_hash, seed, status, started, seqpipe_version, host, "
		     "pid) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?9, ?6, ?7, "
		     "?8)",
	[ST_PARAM] = "INSERT INTO params (run_id, section, key, value) "
		     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (run_id, section, key) "
		     "DO UPDATE SET value = excluded.value",
	[ST_STAGE] = "INSERT INTO stages (run_id, idx, section, plugin, "
		     "component, plugin_version, abi) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_METRIC] = "INSERT INTO metrics (run_id, epoch, split, name, value, "
		      "ts) VALUES (?1, ?2, ?3, ?4, ?5, ?9)",
	[ST_EVENT] = "INSERT INTO events (run_id, ts, level, message) "
		     "VALUES (?1, ?9, ?2, ?3)",
	[ST_ARTIFACT] = "INSERT INTO artifacts (run_id, kind, path, bytes, "
			"checksum, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?9)",
	/* Only a running run can end: ending twice is a caller bug. */
	[ST_END] = "UPDATE runs SET status = ?2, ended = ?9, error = ?3 "
		   "WHERE id = ?1 AND status = 'running'",
	[ST_CONFUSION] = "INSERT INTO confusion (run_id, epoch, split, gold, "
			 "pred, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_SAMPLE] = "INSERT INTO samples (run_id, epoch, split, input, gold, "
		      "pred) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

const char *sp_run_status_name(sp_run_status status)
{
	switch (status) {
	case SP_RUN_RUNNING: return "running";
	case SP_RUN_FINISHED: return "finished";
	case SP_RUN_FAILED: return "failed";
	case SP_RUN_INTERRUPTED: return "interrupted";
	case SP_RUN_DIVERGED: return "diverged";
	}
	return NULL;
}

int sp_run_status_parse_(const char *name, sp_run_status *out)
{
	for (int s = SP_RUN_RUNNING; s <= SP_RUN_DIVERGED; s++) {
		if (name && strcmp(name, sp_run_status_name(s)) == 0) {
			*out = s;
			return 0;
		}
	}
	return -1;
}

sqlite3 *sp_runlog_db_(const sp_runlog *log)
{
	return log->db;
}

const char *sp_runlog_path_(const sp_runlog *log)
{
	return log->path;
}

/* Now as "2024-05-01T12:00:00.123Z" (UTC): taken when a row is logged, so
 * a row written late still says when it happened.  Fixed width, so
 * timestamps sort as strings. */
static void now_iso_(char out[32])
{
	struct timespec t;
	struct tm tm;
	char buf[24];
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", buf, (int)(t.tv_nsec / 1000000));
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
int sp_runlog_fail_(const sp_runlog *log, sp_ctx *ctx, int rc,
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
		return sp_runlog_fail_(log, ctx, rc, what);
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
		code = sp_runlog_fail_(log, ctx, rc, "read the file header");
	}
	sqlite3_finalize(st);
	if (code != SP_OK)
		return code;
	if ((app_id == 0 || app_id == SP_RUNLOG_APPLICATION_ID) && version == 0 &&
	    n_objects == 0) {
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
	/* stamped as ours but never migrated: whatever it holds was not made
	 * by seqpipe, and its triggers would be refused only on the next open */
	if (version == 0)
		return sp_err(ctx, SP_EINPUT,
			      "%s: a seqpipe run log of schema version 0 that "
			      "holds %lld objects; expected an empty file or a "
			      "run log seqpipe created", log->path, (long long)n_objects);
	*out_version = (int)version;
	return sp_runlog_schema_check_(log->db, ctx, log->path, (int)version);
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
		code = exec_(log, ctx, sp_runlog_migration_(v), "create the tables");
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


/* Refuses a file (or a new file's folder) this process cannot write,
 * before SQLite opens it: SQLite would fall back to reading, and reading
 * a WAL file creates -wal and -shm files that a read-only connection
 * cannot remove again. */
static int check_writable_(sp_ctx *ctx, const char *path)
{
	char *dir = strdup(path), *slash;
	int code = SP_OK;
	if (!dir)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
		code = sp_err(ctx, SP_EIO, "%s: the run log is read-only (%s); "
			      "pipeline runs and show can still read it, or "
			      "give another file with --db", path,
			      strerror(errno));
	else if (access(slash ? dir : ".", W_OK) != 0)
		code = sp_err(ctx, SP_EIO, "%s: cannot write in the folder %s "
			      "(%s), which the run log needs for its -wal "
			      "file; give another file with --db", path,
			      slash ? dir : ".", strerror(errno));
	free(dir);
	return code;
}

/* Whether this process may write path and its folder. */
static int writable_(const char *path)
{
	char *dir = strdup(path), *slash;
	int ok;
	if (!dir)
		return 0;
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	ok = access(path, W_OK) == 0 && access(slash ? dir : ".", W_OK) == 0;
	free(dir);
	return ok;
}

static int prepare_writes_(sp_runlog *log, sp_ctx *ctx)
{
	for (int i = 0; i < ST_N; i++) {
		int rc = sqlite3_prepare_v3(log->db, stmt_sql_[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &log->st[i], NULL);
		if (rc != SQLITE_OK)
			return sp_runlog_fail_(log, ctx, rc,
					       "prepare a statement");
	}
	return SP_OK;
}

static int new_handle_(sp_runlog **out, sp_ctx *ctx, const char *path)
{
	sp_runlog *log;
	*out = NULL;
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "run log: no file name");
	log = calloc(1, sizeof(*log));
	if (!log || !(log->path = strdup(path))) {
		free(log);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	}
	log->write_wait_ms = WRITE_WAIT_MS;
	log->flush_wait_ms = FLUSH_WAIT_MS;
	*out = log;
	return SP_OK;
}

int sp_runlog_open(sp_runlog **out, sp_ctx *ctx, const char *path)
{
	sp_runlog *log = NULL;
	int rc, code, version = 0;

	*out = NULL;
	if ((code = new_handle_(&log, ctx, path)) != SP_OK)
		return code;
	if ((code = check_writable_(ctx, path)) != SP_OK)
		goto fail;
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
	sp_sqlite_distrust_schema(log->db);
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
	code = rc == SQLITE_OK ? SP_OK :
				 sp_runlog_fail_(log, ctx, rc, "enable WAL");
	if (code == SP_OK)
		code = exec_(log, ctx, "PRAGMA synchronous = NORMAL",
			     "set up the connection");
	/* Foreign keys only after migrating: a migration that rebuilds a
	 * table must drop the old one without cascading (and the pragma
	 * cannot change inside the migration's transaction). */
	if (code == SP_OK && version < SP_RUNLOG_SCHEMA_VERSION)
		code = migrate_(log, ctx);
	if (code == SP_OK)
		code = exec_(log, ctx, "PRAGMA foreign_keys = ON",
			     "set up the connection");
	if (code == SP_OK)
		code = prepare_writes_(log, ctx);
	if (code != SP_OK)
		goto fail;
	*out = log;
	return SP_OK;
fail:
	sp_runlog_close(log);
	return code;
}

/* "file:PATH?mode=ro" or "?immutable=1", with the characters a URI path
 * may not hold percent-encoded (caller frees). */
static char *ro_uri_(const char *path, const char *query)
{
	size_t n = strlen(path), k = 0;
	char *u = malloc(3 * n + strlen(query) + 16);
	if (!u)
		return NULL;
	k += (size_t)sprintf(u, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '?' || *p == '#' || *p == '%')
			k += (size_t)sprintf(u + k, "%%%02X", (unsigned char)*p);
		else
			u[k++] = *p;
	}
	sprintf(u + k, "?%s", query);
	return u;
}

static int open_ro_(sp_runlog *log, sp_ctx *ctx, const char *query,
		    int *version)
{
	char *uri = ro_uri_(log->path, query);
	int rc;
	if (!uri)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", log->path);
	sqlite3_close_v2(log->db);
	log->db = NULL;
	rc = sqlite3_open_v2(uri, &log->db,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return sp_err(ctx, SP_EIO, "%s: cannot open the run log: %s",
			      log->path, log->db ? sqlite3_errmsg(log->db) :
						   sqlite3_errstr(rc));
	sqlite3_extended_result_codes(log->db, 1);
	sp_sqlite_distrust_schema(log->db);
	sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
	return identify_(log, ctx, version);
}

int sp_runlog_open_readonly(sp_runlog **out, sp_ctx *ctx, const char *path)
{
	sp_runlog *log = NULL;
	char *wal = NULL;
	int code, version = 0;

	*out = NULL;
	if ((code = new_handle_(&log, ctx, path)) != SP_OK)
		return code;
	log->readonly = 1;
	if (access(path, F_OK) != 0) {
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no run log here (pipeline "
			      "run FILE.pipe creates it, or --db FILE)", path);
		goto fail;
	}
	wal = malloc(strlen(path) + 5);
	if (!wal) {
		code = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	sprintf(wal, "%s-wal", path);
	if (!writable_(path) && access(wal, F_OK) != 0) {
		/* We cannot write the file or its folder, so SQLite could not
		 * create (or later remove) the -shm index a WAL file needs;
		 * with no -wal file, all there is to read is the main file,
		 * which immutable reads with no lock and no side file. */
		code = open_ro_(log, ctx, "immutable=1", &version);
	} else {
		code = open_ro_(log, ctx, "mode=ro", &version);
		if (code != SP_OK && !writable_(path))
			code = sp_err(ctx, SP_EIO, "%s: cannot read: the folder "
				      "is read-only and %s holds writes not yet "
				      "in the main file (open it once where it "
				      "can be written)", path, wal);
	}
	if (code != SP_OK)
		goto fail;
	if (version == 0) {
		code = sp_err(ctx, SP_EINPUT, "%s: an empty file, not a run "
			      "log", path);
		goto fail;
	}
	if (version < SP_RUNLOG_SCHEMA_VERSION) {
		/* Read as it is: the listing does not need what later
		 * versions added; sp_history reports what is missing. */
	}
	free(wal);
	*out = log;
	return SP_OK;
fail:
	free(wal);
	sp_runlog_close(log);
	return code;
}

int sp_runlog_schema_version(const sp_runlog *log)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (log && sqlite3_prepare_v2(log->db, "PRAGMA user_version", -1, &st,
				      NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

void sp_runlog_close(sp_runlog *log)
{
	if (!log)
		return;
	/* Last chance for rows kept in memory; sp_runlog_end already
	 * waited for them, and reports what it could not write. */
	if (log->n_pending && !log->batch_deferred) {
		sp_ctx *tmp = NULL;
		if (sp_ctx_new(&tmp, 0) == SP_OK)
			sp_runlog_flush(log, tmp, log->flush_wait_ms);
		sp_ctx_free(tmp);
	}
	sp_runlog_drop_pending_(log, 0);
	free(log->pending);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(log->st[i]);
	/* Rolls back an open batch; the last connection to close also
	 * checkpoints the WAL into the main file and removes -wal/-shm. */
	sqlite3_close_v2(log->db);
	free(log->path);
	free(log);
}

int sp_runlog_begin(int64_t *out, sp_runlog *log, sp_ctx *ctx,
		    const char *pipeline, const char *pipe_path,
		    const char *pipe_text, const char *pipe_hash,
		    uint64_t seed, const char *version)
{
	sp_runlog_row_ r;
	char hash[SP_HASH_HEX_LEN + 1], host[256], ts[32];
	int rc;

	*out = 0;
	if (!log || !pipeline || !*pipeline)
		return sp_err(ctx, SP_EINVAL, "run log: begin: no pipeline "
			      "name");
	if (log->readonly)
		return sp_err(ctx, SP_EINVAL, "%s: opened read-only", log->path);
	if (!pipe_hash && pipe_text) {
		sp_hash_text(hash, pipe_text, strlen(pipe_text));
		pipe_hash = hash;
	}
	/* The host tells runs of a shared log apart; without it, NULL. */
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	now_iso_(ts);

	memset(&r, 0, sizeof(r));
	r.which = ST_BEGIN;
	set_text_(&r, 1, pipeline);
	set_text_(&r, 2, pipe_path);
	set_text_(&r, 3, pipe_text);
	set_text_(&r, 4, pipe_hash);
	/* SQLite integers are signed: seeds >= 2^63 read back through
	 * sp_run_info unchanged, but show negative in the sqlite3 shell. */
	set_int_(&r, 5, (int64_t)seed);
	set_text_(&r, 6, version);
	set_text_(&r, 7, host[0] ? host : NULL);
	set_int_(&r, 8, (int64_t)getpid());
	set_text_(&r, 9, ts);
	/* The id is needed now: wait for the lock (with the rows kept from
	 * an earlier run of this handle written first). */
	if (log->n_pending && (rc = sp_runlog_flush(log, ctx,
						    log->flush_wait_ms)) < 0)
		return rc;
	rc = sp_runlog_step_row_(log, &r);
	if (rc != SQLITE_DONE)
		return sp_runlog_row_error_(log, ctx, &r, rc, "begin a run");
	*out = sqlite3_last_insert_rowid(log->db);
	return SP_OK;
}

int sp_runlog_param(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		    const char *section, const char *key, const char *value)
{
	sp_runlog_row_ r;
	if (!log || !section || !key)
		return sp_err(ctx, SP_EINVAL, "run log: param: section and "
			      "key are required");
	memset(&r, 0, sizeof(r));
	r.which = ST_PARAM;
	r.run_id = run_id;
	set_int_(&r, 1, run_id);
	set_text_(&r, 2, section);
	set_text_(&r, 3, key);
	set_text_(&r, 4, value);
	return sp_runlog_write_row_(log, ctx, &r, "log a parameter");
}

int sp_runlog_stage(sp_runlog *log, sp_ctx *ctx, int64_t run_id, int idx,
		    const char *section, const char *plugin,
		    const char *component, const char *plugin_version,
		    int abi)
{
	sp_runlog_row_ r;
	if (!log || idx < 0 || !section || !plugin || !component)
		return sp_err(ctx, SP_EINVAL, "run log: stage: idx >= 0, "
			      "section, plugin and component are required");
	memset(&r, 0, sizeof(r));
	r.which = ST_STAGE;
	r.run_id = run_id;
	set_int_(&r, 1, run_id);
	set_int_(&r, 2, idx);
	set_text_(&r, 3, section);
	set_text_(&r, 4, plugin);
	set_text_(&r, 5, component);
	set_text_(&r, 6, plugin_version);
	set_int_(&r, 7, abi);
	return sp_runlog_write_row_(log, ctx, &r, "log a stage");
}

int sp_runlog_metric(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     int64_t epoch, const char *split, const char *name,
		     double value)
{
	sp_runlog_row_ r;
	char ts[32];
	if (!log || !name || !*name)
		return sp_err(ctx, SP_EINVAL, "run log: metric: no name");
	if (split && strcmp(split, "train") != 0 && strcmp(split, "dev") != 0
	    && strcmp(split, "test") != 0)
		return sp_err(ctx, SP_EINVAL, "run log: metric %s: split "
			      "'%s' is not train, dev or test", name, split);
	now_iso_(ts);
	memset(&r, 0, sizeof(r));
	r.which = ST_METRIC;
	r.run_id = run_id;
	set_int_(&r, 1, run_id);
	if (epoch < 0)
		set_null_(&r, 2);
	else
		set_int_(&r, 2, epoch);
	set_text_(&r, 3, split);
	set_text_(&r, 4, name);
	/* SQLite would turn a NaN into NULL anyway; say so explicitly. */
	if (isnan(value))
		set_null_(&r, 5);
	else
		set_double_(&r, 5, value);
	set_text_(&r, 9, ts);
	return sp_runlog_write_row_(log, ctx, &r, "log a metric");
}

int sp_runlog_event(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		    sp_level level, const char *message)
{
	sp_runlog_row_ r;
	char ts[32];
	const char *lv = level_name_(level);
	if (!log || !message || !lv)
		return sp_err(ctx, SP_EINVAL, "run log: event: bad level or "
			      "no message");
	now_iso_(ts);
	memset(&r, 0, sizeof(r));
	r.which = ST_EVENT;
	r.run_id = run_id;
	set_int_(&r, 1, run_id);
	set_text_(&r, 2, lv);
	set_text_(&r, 3, message);
	set_text_(&r, 9, ts);
	return sp_runlog_write_row_(log, ctx, &r, "log an event");
}

int sp_runlog_artifact(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		       const char *kind, const char *path, int64_t bytes,
		       const char *checksum)
{
	sp_runlog_row_ r;
	char ts[32];
	if (!log || !kind || !*kind || !path || !*path)
		return sp_err(ctx, SP_EINVAL, "run log: artifact: kind and "
			      "path are required");
	now_iso_(ts);
	memset(&r, 0, sizeof(r));
	r.which = ST_ARTIFACT;
	r.run_id = run_id;
	set_int_(&r, 1, run_id);
	set_text_(&r, 2, kind);
	set_text_(&r, 3, path);
	if (bytes < 0)
		set_null_(&r, 4);
	else
		set_int_(&r, 4, bytes);
	set_text_(&r, 5, checksum);
	set_text_(&r, 9, ts);
	return sp_runlog_write_row_(log, ctx, &r, "log an artifact");
}

static int split_ok_(const char *split)
{
	return split && (!strcmp(split, "train") || !strcmp(split, "dev") ||
			 !strcmp(split, "test"));
}

/* ?1 run, ?2 epoch (NULL when < 0), ?3 split: the start of a row of the
 * evaluation tables. */
static void eval_row_(sp_runlog_row_ *r, int which, int64_t run_id,
		      int64_t epoch, const char *split)
{
	memset(r, 0, sizeof(*r));
	r->which = which;
	r->run_id = run_id;
	set_int_(r, 1, run_id);
	if (epoch < 0)
		set_null_(r, 2);
	else
		set_int_(r, 2, epoch);
	set_text_(r, 3, split);
}

int sp_runlog_confusion(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
			int64_t epoch, const char *split, const char *gold,
			const char *pred, int64_t count)
{
	sp_runlog_row_ r;
	if (!log || !split_ok_(split) || !gold || !pred || count < 0)
		return sp_err(ctx, SP_EINVAL, "run log: confusion: a split of "
			      "train, dev or test, both labels and a count >= 0 "
			      "are required");
	eval_row_(&r, ST_CONFUSION, run_id, epoch, split);
	set_text_(&r, 4, gold);
	set_text_(&r, 5, pred);
	set_int_(&r, 6, count);
	return sp_runlog_write_row_(log, ctx, &r, "log a confusion cell");
}

int sp_runlog_sample(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		     int64_t epoch, const char *split, const char *input,
		     const char *gold, const char *pred)
{
	sp_runlog_row_ r;
	if (!log || !split_ok_(split) || !input || !pred)
		return sp_err(ctx, SP_EINVAL, "run log: sample: a split of "
			      "train, dev or test, the input and the prediction "
			      "are required");
	eval_row_(&r, ST_SAMPLE, run_id, epoch, split);
	set_text_(&r, 4, input);
	set_text_(&r, 5, gold);
	set_text_(&r, 6, pred);
	return sp_runlog_write_row_(log, ctx, &r, "log a sample prediction");
}

int sp_runlog_end(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  sp_run_status status, const char *error)
{
	sqlite3_stmt *st = NULL;
	const char *name = sp_run_status_name(status);
	char ts[32];
	sp_runlog_row_ r;
	int code, rc;

	if (!log || !name || status == SP_RUN_RUNNING)
		return sp_err(ctx, SP_EINVAL, "run log: end: status must be "
			      "finished, failed, interrupted or diverged");
	if (log->readonly)
		return sp_err(ctx, SP_EINVAL, "%s: opened read-only", log->path);
	now_iso_(ts);
	/* The end comes after every row of the run: wait for the kept
	 * ones (the end time is when the run ended, not when written). */
	if (log->n_pending && !log->batch_deferred &&
	    (code = sp_runlog_flush(log, ctx, log->flush_wait_ms)) < 0)
		return code;
	memset(&r, 0, sizeof(r));
	r.which = ST_END;
	r.run_id = run_id;
	set_int_(&r, 1, run_id);
	set_text_(&r, 2, name);
	set_text_(&r, 3, error);
	set_text_(&r, 9, ts);
	if (log->batch_deferred)
		return sp_runlog_keep_row_(log, ctx, &r);
	rc = sp_runlog_step_row_(log, &r);
	if (rc != SQLITE_DONE)
		return sp_runlog_row_error_(log, ctx, &r, rc, "end a run");
	if (sqlite3_changes(log->db) == 1)
		return SP_OK;

	/* Nothing changed: say whether the run is unknown or over. */
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
		code = sp_runlog_fail_(log, ctx, rc, "end a run");
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_tx_begin(sp_runlog *log, sp_ctx *ctx)
{
	int rc;
	if (!log || !sqlite3_get_autocommit(log->db) || log->batch_deferred)
		return sp_err(ctx, SP_EINVAL, "run log: a batch is already "
			      "open");
	if (!log->n_pending) {
		sqlite3_busy_timeout(log->db, log->write_wait_ms);
		rc = sqlite3_exec(log->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
		if (rc == SQLITE_OK)
			return SP_OK;
		if (!sp_runlog_is_busy_(rc))
			return sp_runlog_fail_(log, ctx, rc, "begin a batch");
	}
	/* Locked (or rows already waiting): the batch is kept in memory
	 * and written as one transaction when the lock is free. */
	log->batch_deferred = 1;
	log->batch_mark = log->n_pending;
	return SP_OK;
}

int sp_runlog_tx_commit(sp_runlog *log, sp_ctx *ctx)
{
	if (log && log->batch_deferred) {
		log->batch_deferred = 0;
		if (sp_runlog_mono_ms_() >= log->next_try_ms)
			sp_runlog_try_flush_(log, ctx, 0);
		return SP_OK;
	}
	if (!log || sqlite3_get_autocommit(log->db))
		return sp_err(ctx, SP_EINVAL, "run log: no batch is open");
	return exec_(log, ctx, "COMMIT", "commit a batch");
}

int sp_runlog_tx_rollback(sp_runlog *log, sp_ctx *ctx)
{
	if (log && log->batch_deferred) {
		sp_runlog_drop_pending_(log, log->batch_mark);
		log->batch_deferred = 0;
		return SP_OK;
	}
	if (!log || sqlite3_get_autocommit(log->db))
		return sp_err(ctx, SP_EINVAL, "run log: no batch is open");
	return exec_(log, ctx, "ROLLBACK", "roll back a batch");
}

/* ---- tags and deleting ---------------------------------------------------- */

/* One statement on run_id that must change a row, else "no run". */
static int exec_on_run_(sp_runlog *log, sp_ctx *ctx, const char *sql,
			int64_t run_id, const char *a, const char *b,
			const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc, code = SP_OK;
	if (log->readonly)
		return sp_err(ctx, SP_EINVAL, "%s: opened read-only", log->path);
	rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, run_id);
	if (rc == SQLITE_OK && a)
		rc = sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && b)
		rc = sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: %s: no run %lld",
			      log->path, what, (long long)run_id);
	else if (rc != SQLITE_DONE)
		code = sp_runlog_fail_(log, ctx, rc, what);
	sqlite3_finalize(st);
	return code;
}

int sp_runlog_tag(sp_runlog *log, sp_ctx *ctx, int64_t run_id,
		  const char *key, const char *value)
{
	if (!log || !key || !*key)
		return sp_err(ctx, SP_EINVAL, "run log: tag: no key");
	if (!value)
		return exec_on_run_(log, ctx, "DELETE FROM tags WHERE "
				    "run_id = ?1 AND key = ?2", run_id, key,
				    NULL, "remove a tag");
	return exec_on_run_(log, ctx, "INSERT INTO tags (run_id, key, value) "
			    "VALUES (?1, ?2, ?3) ON CONFLICT (run_id, key) "
			    "DO UPDATE SET value = excluded.value", run_id,
			    key, value, "tag a run");
}

int sp_runlog_delete(sp_runlog *log, sp_ctx *ctx, int64_t run_id)
{
	int code;
	if (!log)
		return sp_err(ctx, SP_EINVAL, "run log: delete: no log");
	code = exec_on_run_(log, ctx, "DELETE FROM runs WHERE id = ?1",
			    run_id, NULL, NULL, "delete a run");
	if (code == SP_OK && sqlite3_changes(log->db) != 1)
		code = sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld", log->path,
			      (long long)run_id);
	return code;
}
