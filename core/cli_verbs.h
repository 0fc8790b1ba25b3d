/*
 * cli_verbs.h: what the files of the history verbs share (cli_history.c
 * parses and dispatches, and holds runs and best; cli_show.c show,
 * compare and report; cli_edit.c tag and delete).  Private to `pipeline`.
 */
#ifndef CLI_VERBS_H
#define CLI_VERBS_H

#include <stdint.h>

#include "cli_table.h"
#include "sp_runlog.h"

#define EXIT_USAGE 2
#define MAX_ARGS 64

typedef struct cli_hopts {
	const char *db, *where, *order, *status, *pipeline, *metric, *split,
		*out;
	const char *tags[MAX_ARGS];
	size_t n_tags;
	const char *removes[MAX_ARGS];
	size_t n_removes;
	const char *pos[MAX_ARGS];
	size_t n_pos;
	long limit;          /* -1 = the verb's default */
	cli_format format;
	int yes, files, minimize, maximize;
} cli_hopts;

/* Prints the error of ctx on one line; returns the exit status 1. */
int cli_fail(sp_ctx *ctx);
/* A command-line error of cmd (fmt with one %s): exit status 2. */
int cli_usage(const char *cmd, const char *fmt, const char *arg);
/* A run id (> 0) from s: 0, or the usage exit status. */
int cli_parse_id(const char *cmd, const char *s, int64_t *id);
/* SP_OK when run id exists, else an error saying which ids exist. */
int cli_need_run(sp_runlog *log, sp_ctx *ctx, int64_t id);
/* SP_OK when some run logged split.name, else an error listing the
 * metrics logged. */
int cli_need_metric(sp_runlog *log, sp_ctx *ctx, const char *split,
		    const char *name, const char *as_written);
/* Opens the log of o read-only. */
int cli_open_read(sp_runlog **log, sp_ctx *ctx, const cli_hopts *o);

int cli_verb_show(sp_ctx *ctx, const cli_hopts *o);
int cli_verb_compare(sp_ctx *ctx, const cli_hopts *o);
int cli_verb_report(sp_ctx *ctx, const cli_hopts *o);
int cli_verb_tag(sp_ctx *ctx, const cli_hopts *o);
int cli_verb_delete(sp_ctx *ctx, const cli_hopts *o);

#endif /* CLI_VERBS_H */
