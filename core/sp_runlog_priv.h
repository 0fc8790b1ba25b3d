/*
 * sp_runlog_priv.h: what the run log's own files share (sp_runlog.c
 * writes, sp_runlog_read.c reads, sp_history.c queries).  Not installed,
 * not for plugins.
 */
#ifndef SP_RUNLOG_PRIV_H
#define SP_RUNLOG_PRIV_H

#include <sqlite3.h>

#include "sp_runlog.h"

/* The connection (borrowed; valid until sp_runlog_close). */
sqlite3 *sp_runlog_db_(const sp_runlog *log);
/* The file name as opened, for messages (borrowed). */
const char *sp_runlog_path_(const sp_runlog *log);
/* Sets the message for a failed SQLite call (rc) and returns the SP_E*
 * code; what says what was being done ("list runs"). */
int sp_runlog_fail_(const sp_runlog *log, sp_ctx *ctx, int rc,
		    const char *what);
/* The SQL that turns schema version v into v + 1 (sp_runlog_schema.c);
 * NULL outside 0 .. SP_RUNLOG_SCHEMA_VERSION - 1. */
const char *sp_runlog_migration_(int v);
/* Checks that the views and triggers of db (the file path, at schema
 * version 1 .. SP_RUNLOG_SCHEMA_VERSION) are the ones the migrations up
 * to that version create, SQL text and all: every trigger runs on the
 * run log's writes and every view of seqpipe's on its reads, so a shared
 * file must not bring its own.  Views of other names (a user's own
 * queries) are left alone; names compare in any case, as SQLite resolves
 * them; a missing one is refused too.  SP_OK, or SP_EINPUT naming the
 * object. */
int sp_runlog_schema_check_(sqlite3 *db, sp_ctx *ctx, const char *path,
			    int version);
/* The status named name (0), or -1 for an unknown name. */
int sp_run_status_parse_(const char *name, sp_run_status *out);

/* ---- the handle and its write path (sp_runlog.c, sp_runlog_queue.c) ---- */

#include <stdint.h>

/* How long opening, beginning a run and reading wait for another
 * process's transaction (ms). */
#define BUSY_TIMEOUT_MS 10000
/* How long a row written during training waits before it is kept in
 * memory instead (ms), and the back-off between later attempts. */
#define WRITE_WAIT_MS 1000
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000
/* How long ending a run waits for the kept rows to be written (ms). */
#define FLUSH_WAIT_MS (15 * 60 * 1000)
/* Values one write binds at most. */
#define MAX_BIND 9

/* The write statements, prepared once per handle. */
enum {
	ST_BEGIN,
	ST_PARAM,
	ST_STAGE,
	ST_METRIC,
	ST_EVENT,
	ST_ARTIFACT,
	ST_END,
	ST_CONFUSION,
	ST_SAMPLE,
	ST_N
};

/* One bound value of a write: kept in memory while the file is locked. */
typedef struct sp_runlog_bval_ {
	int type;          /* 0 = not bound, SQLITE_NULL, _INTEGER, _FLOAT, _TEXT */
	int64_t i;
	double d;
	char *s;           /* owned by a pending row; borrowed otherwise */
} sp_runlog_bval_;

/* A write: which statement and its values ?1..?MAX_BIND. */
typedef struct sp_runlog_row_ {
	int which;
	int64_t run_id;    /* for messages */
	sp_runlog_bval_ v[MAX_BIND + 1];
} sp_runlog_row_;

struct sp_runlog {
	sqlite3 *db;
	char *path;               /* for messages */
	int readonly;             /* opened by sp_runlog_open_readonly */
	sqlite3_stmt *st[ST_N];   /* prepared write statements */
	/* Rows that met a locked file, oldest first; written in this order
	 * at the next attempt, so the log keeps the order of events. */
	sp_runlog_row_ *pending;
	size_t n_pending, cap_pending;
	size_t batch_mark;        /* n_pending at a deferred tx_begin */
	int batch_deferred;       /* tx_begin met a lock: the batch queues */
	int64_t next_try_ms;      /* monotonic time of the next attempt */
	int retry_ms;             /* the back-off, doubling */
	int write_wait_ms, flush_wait_ms;
	size_t n_locked;          /* times a write met the lock */
};


/* Setting a row's values ?i (texts borrowed until written or kept). */
static inline void set_int_(sp_runlog_row_ *r, int i, int64_t v)
{
	r->v[i].type = SQLITE_INTEGER;
	r->v[i].i = v;
}

static inline void set_null_(sp_runlog_row_ *r, int i)
{
	r->v[i].type = SQLITE_NULL;
}

static inline void set_double_(sp_runlog_row_ *r, int i, double v)
{
	r->v[i].type = SQLITE_FLOAT;
	r->v[i].d = v;
}

/* Text binding where NULL stores NULL (SQLite's own rule); borrowed. */
static inline void set_text_(sp_runlog_row_ *r, int i, const char *s)
{
	r->v[i].type = s ? SQLITE_TEXT : SQLITE_NULL;
	r->v[i].s = (char *)s;
}

/* Monotonic milliseconds; whether an SQLite code means "locked". */
int64_t sp_runlog_mono_ms_(void);
int sp_runlog_is_busy_(int rc);
/* Binds and steps r: the SQLite code (SQLITE_DONE on success). */
int sp_runlog_step_row_(sp_runlog *log, const sp_runlog_row_ *r);
/* The message for a failed write of r. */
int sp_runlog_row_error_(sp_runlog *log, sp_ctx *ctx, const sp_runlog_row_ *r,
			 int rc, const char *what);
/* Keeps a copy of r in memory, after the rows already kept. */
int sp_runlog_keep_row_(sp_runlog *log, sp_ctx *ctx, const sp_runlog_row_ *r);
/* Drops the kept rows from index keep on. */
void sp_runlog_drop_pending_(sp_runlog *log, size_t keep);
/* One attempt to write the kept rows, waiting wait_ms for the lock. */
int sp_runlog_try_flush_(sp_runlog *log, sp_ctx *ctx, int wait_ms);
/* Writes r now, or keeps it while another process holds the lock. */
int sp_runlog_write_row_(sp_runlog *log, sp_ctx *ctx, const sp_runlog_row_ *r,
			 const char *what);

#endif /* SP_RUNLOG_PRIV_H */
