/*
 * sp_runlog_queue.c: the run log's write path while another process holds
 * the lock.  A row that cannot be written within the write wait is kept
 * in memory, the rows after it queue behind it, and the queue is retried
 * with back-off as one transaction (sp_runlog.h, "A locked file").
 */
#define _POSIX_C_SOURCE 200809L

#include "sp_runlog.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "sp_runlog_priv.h"

int64_t sp_runlog_mono_ms_(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int sp_runlog_is_busy_(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static void free_row_(sp_runlog_row_ *r)
{
	for (int i = 1; i <= MAX_BIND; i++)
		if (r->v[i].type == SQLITE_TEXT)
			free(r->v[i].s);
}

void sp_runlog_drop_pending_(sp_runlog *log, size_t keep)
{
	for (size_t i = keep; i < log->n_pending; i++)
		free_row_(&log->pending[i]);
	log->n_pending = keep;
}

void sp_runlog_set_waits(sp_runlog *log, int write_wait_ms,
			 int flush_wait_ms)
{
	if (!log)
		return;
	if (write_wait_ms >= 0)
		log->write_wait_ms = write_wait_ms;
	if (flush_wait_ms >= 0)
		log->flush_wait_ms = flush_wait_ms;
}

size_t sp_runlog_pending(const sp_runlog *log)
{
	return log ? log->n_pending : 0;
}

static int bind_row_(sqlite3_stmt *st, const sp_runlog_row_ *r)
{
	int b = SQLITE_OK;
	for (int i = 1; i <= MAX_BIND; i++) {
		const sp_runlog_bval_ *v = &r->v[i];
		switch (v->type) {
		case SQLITE_NULL: b |= sqlite3_bind_null(st, i); break;
		case SQLITE_INTEGER: b |= sqlite3_bind_int64(st, i, v->i); break;
		case SQLITE_FLOAT: b |= sqlite3_bind_double(st, i, v->d); break;
		case SQLITE_TEXT:
			b |= sqlite3_bind_text(st, i, v->s, -1, SQLITE_STATIC);
			break;
		default: break;
		}
	}
	return b;
}

/* Steps one write; returns the SQLite code (SQLITE_DONE on success). */
int sp_runlog_step_row_(sp_runlog *log, const sp_runlog_row_ *r)
{
	sqlite3_stmt *st = log->st[r->which];
	int rc = bind_row_(st, r);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int sp_runlog_row_error_(sp_runlog *log, sp_ctx *ctx, const sp_runlog_row_ *r, int rc,
		      const char *what)
{
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return sp_err(ctx, SP_ENOTFOUND, "%s: %s: no run %lld",
			      log->path, what, (long long)r->run_id);
	return sp_runlog_fail_(log, ctx, rc, what);
}

/* Appends a copy of r (its texts duplicated) to the rows kept in memory. */
int sp_runlog_keep_row_(sp_runlog *log, sp_ctx *ctx, const sp_runlog_row_ *r)
{
	sp_runlog_row_ *k;
	if (log->n_pending == log->cap_pending) {
		size_t cap = log->cap_pending ? 2 * log->cap_pending : 64;
		sp_runlog_row_ *p = realloc(log->pending, cap * sizeof(*p));
		if (!p)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory keeping "
				      "a row while the run log is locked",
				      log->path);
		log->pending = p;
		log->cap_pending = cap;
	}
	k = &log->pending[log->n_pending];
	*k = *r;
	for (int i = 1; i <= MAX_BIND; i++) {
		if (k->v[i].type != SQLITE_TEXT)
			continue;
		if (!(k->v[i].s = strdup(r->v[i].s))) {
			for (int j = 1; j < i; j++)
				if (k->v[j].type == SQLITE_TEXT)
					free(k->v[j].s);
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory "
				      "keeping a row", log->path);
		}
	}
	log->n_pending++;
	return SP_OK;
}

/*
 * One attempt to write the rows kept in memory, in one transaction,
 * waiting at most wait_ms for the lock.  SP_OK when none is left;
 * SP_EDB with the lock still held elsewhere (rows kept, next attempt
 * after the back-off); another error for a row the file refuses (that
 * row is dropped, so the others are not held back by it).
 */
int sp_runlog_try_flush_(sp_runlog *log, sp_ctx *ctx, int wait_ms)
{
	size_t i;
	int rc, code = SP_OK;
	if (!log->n_pending)
		return SP_OK;
	sqlite3_busy_timeout(log->db, wait_ms);
	rc = sqlite3_exec(log->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		goto busy;
	for (i = 0; i < log->n_pending; i++) {
		rc = sp_runlog_step_row_(log, &log->pending[i]);
		if (sp_runlog_is_busy_(rc)) {
			sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
			goto busy;
		}
		if (rc != SQLITE_DONE && code == SP_OK)
			code = sp_runlog_row_error_(log, ctx, &log->pending[i], rc,
					  "write a row kept while locked");
	}
	rc = sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		goto busy;
	}
	sp_runlog_drop_pending_(log, 0);
	log->retry_ms = 0;
	if (log->n_locked)
		sp_log(ctx, SP_LOG_INFO, "%s: the run log is writable again; "
		       "the rows kept in memory are written", log->path);
	log->n_locked = 0;
	return code;
busy:
	log->retry_ms = log->retry_ms ? 2 * log->retry_ms : RETRY_FIRST_MS;
	if (log->retry_ms > RETRY_MAX_MS)
		log->retry_ms = RETRY_MAX_MS;
	log->next_try_ms = sp_runlog_mono_ms_() + log->retry_ms;
	if (!sp_runlog_is_busy_(rc))
		return sp_runlog_fail_(log, ctx, rc, "write kept rows");
	return sp_err(ctx, SP_EDB, "%s: the run log stays locked by another "
		      "process; %zu rows kept in memory", log->path,
		      log->n_pending);
}

int sp_runlog_flush(sp_runlog *log, sp_ctx *ctx, int wait_ms)
{
	int64_t deadline;
	int code;
	if (!log)
		return sp_err(ctx, SP_EINVAL, "run log: flush: no log");
	if (log->batch_deferred)
		return SP_OK;
	deadline = sp_runlog_mono_ms_() + (wait_ms < 0 ? 0 : wait_ms);
	for (;;) {
		int64_t now = sp_runlog_mono_ms_();
		code = sp_runlog_try_flush_(log, ctx, (int)(deadline - now < 200 ?
					       (deadline > now ? deadline - now : 0) :
					       200));
		if (code == SP_OK || !log->n_pending)
			return code;
		if (sp_runlog_mono_ms_() >= deadline)
			return sp_err(ctx, SP_EDB, "%s: %zu rows could not be "
				      "written: the run log stayed locked by "
				      "another process for %d s", log->path,
				      log->n_pending, wait_ms / 1000);
		sqlite3_sleep(log->retry_ms);
	}
}

/*
 * Writes r now, or keeps it in memory while another process holds the
 * lock: a locked log must not stop training, and no row may be lost.
 * Rows already kept go first, so the order of events is kept.
 */
int sp_runlog_write_row_(sp_runlog *log, sp_ctx *ctx, const sp_runlog_row_ *r,
		      const char *what)
{
	int rc, code;
	if (log->readonly)
		return sp_err(ctx, SP_EINVAL, "%s: opened read-only", log->path);
	if (log->n_pending || log->batch_deferred) {
		code = sp_runlog_keep_row_(log, ctx, r);
		if (code != SP_OK || log->batch_deferred ||
		    sp_runlog_mono_ms_() < log->next_try_ms)
			return code;
		code = sp_runlog_try_flush_(log, ctx, 0);
		/* still locked: the row is safe in memory */
		return log->n_pending ? SP_OK : code;
	}
	sqlite3_busy_timeout(log->db, log->write_wait_ms);
	rc = sp_runlog_step_row_(log, r);
	sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
	if (rc == SQLITE_DONE)
		return SP_OK;
	if (!sp_runlog_is_busy_(rc) || !sqlite3_get_autocommit(log->db))
		return sp_runlog_row_error_(log, ctx, r, rc, what);
	if ((code = sp_runlog_keep_row_(log, ctx, r)) != SP_OK)
		return code;
	log->n_locked++;
	log->retry_ms = RETRY_FIRST_MS;
	log->next_try_ms = sp_runlog_mono_ms_() + log->retry_ms;
	sp_log(ctx, SP_LOG_WARN, "%s: %s: the run log is locked by another "
	       "process; keeping the rows in memory and retrying while "
	       "training goes on", log->path, what);
	return SP_OK;
}

