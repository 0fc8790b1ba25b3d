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
/* The status named name (0), or -1 for an unknown name. */
int sp_run_status_parse_(const char *name, sp_run_status *out);

#endif /* SP_RUNLOG_PRIV_H */
