/*
 * runlog_fix.c: what the run log's tests share (see runlog_fix.h).
 */
#include "runlog_fix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

static char dir_[256];

int runlog_fix_dir(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir_, sizeof(dir_), "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	return mkdtemp(dir_) ? 0 : -1;
}

int runlog_fix_rmdir(void)
{
	return rmdir(dir_);
}

void path_(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir_, name);
}

void remove_db_(const char *path)
{
	char p[512];
	remove(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	remove(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	remove(p);
}

long long q_int_(const char *db_path, const char *sql)
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
		printf("# q_int_(%s): %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

const char *q_text_(char *buf, size_t n, const char *db_path,
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

int exec_raw_(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(db_path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

const char *why_(const sp_ctx *ctx, int rc)
{
	return rc == SP_OK ? "ok" : sp_errmsg(ctx);
}

int collect_run_(void *payload, const sp_run_info *info)
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
