/*
 * cli_edit.c: `pipeline tag` and `delete`, the verbs that change the run
 * log (opened for writing, so an older schema is upgraded first).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli_report.h"
#include "cli_run.h"
#include "cli_table.h"
#include "cli_verbs.h"
#include "sp_modelfile.h"
#include "sp_runlog.h"
#include "sp_runlog_priv.h"

/* ---- tag and delete ------------------------------------------------------ */

int cli_verb_tag(sp_ctx *ctx, const cli_hopts *o)
{
	sp_runlog *log = NULL;
	int64_t id;
	int status;
	if (o->n_pos < 1 || (o->n_pos < 2 && !o->n_removes))
		return cli_usage("tag", "expected a run id and KEY=VALUE%s", "");
	if ((status = cli_parse_id("tag", o->pos[0], &id)))
		return status;
	for (size_t i = 1; i < o->n_pos; i++)
		if (!strchr(o->pos[i], '=') || o->pos[i][0] == '=')
			return cli_usage("tag", "expected KEY=VALUE, got '%s'",
				      o->pos[i]);
	if (sp_runlog_open(&log, ctx, o->db ? o->db : "runs.db") ||
	    cli_need_run(log, ctx, id))
		goto fail;
	for (size_t i = 1; i < o->n_pos; i++) {
		const char *eq = strchr(o->pos[i], '=');
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->pos[i]), o->pos[i]);
		if (sp_runlog_tag(log, ctx, id, key, eq + 1))
			goto fail;
		printf("run %lld: %s = %s\n", (long long)id, key, eq + 1);
	}
	for (size_t i = 0; i < o->n_removes; i++) {
		if (sp_runlog_tag(log, ctx, id, o->removes[i], NULL))
			goto fail;
		printf("run %lld: %s removed\n", (long long)id, o->removes[i]);
	}
	sp_runlog_close(log);
	return 0;
fail:
	sp_runlog_close(log);
	return cli_fail(ctx);
}

/* Whether path is a seqpipe model or checkpoint file (its magic). */
static int is_model_file_(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	int yes = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "SPMODEL", 8);
	if (f)
		fclose(f);
	return yes;
}

/* Removes the files run id's artifacts name, when they are seqpipe model
 * files and no other run names them.  Call before deleting the rows. */
static void remove_files_(sp_runlog *log, int64_t id)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(sp_runlog_db_(log), "SELECT DISTINCT path, "
			       "(SELECT count(*) FROM artifacts b WHERE b.path = "
			       "a.path AND b.run_id != a.run_id) FROM artifacts a "
			       "WHERE run_id = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		if (sqlite3_column_int(st, 1) > 0)
			printf("  kept %s: another run names it\n", path);
		else if (access(path, F_OK) != 0)
			printf("  %s: already gone\n", path);
		else if (!is_model_file_(path))
			printf("  kept %s: not a seqpipe model file\n", path);
		else if (remove(path) != 0)
			printf("  could not remove %s: %s\n", path, strerror(errno));
		else
			printf("  removed %s\n", path);
	}
	sqlite3_finalize(st);
}

int cli_verb_delete(sp_ctx *ctx, const cli_hopts *o)
{
	sp_runlog *log = NULL;
	int64_t ids[MAX_ARGS];
	int status;
	if (!o->n_pos)
		return cli_usage("delete", "expected one or more run ids%s", "");
	for (size_t i = 0; i < o->n_pos; i++)
		if ((status = cli_parse_id("delete", o->pos[i], &ids[i])))
			return status;
	if (!o->yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "pipeline delete: not on a terminal, so not "
			"asking: add --yes to delete\n");
		return EXIT_USAGE;
	}
	if (sp_runlog_open(&log, ctx, o->db ? o->db : "runs.db"))
		return cli_fail(ctx);
	for (size_t i = 0; i < o->n_pos; i++)
		if (cli_need_run(log, ctx, ids[i])) {
			sp_runlog_close(log);
			return cli_fail(ctx);
		}
	if (!o->yes) {
		char line[16];
		printf("delete run%s", o->n_pos > 1 ? "s" : "");
		for (size_t i = 0; i < o->n_pos; i++)
			printf(" %lld", (long long)ids[i]);
		printf(" and all their rows%s? [y/N] ",
		       o->files ? " and model files" : "");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) ||
		    (line[0] != 'y' && line[0] != 'Y')) {
			printf("nothing deleted\n");
			sp_runlog_close(log);
			return EXIT_FAILURE;
		}
	}
	for (size_t i = 0; i < o->n_pos; i++) {
		if (o->files)
			remove_files_(log, ids[i]);
		if (sp_runlog_delete(log, ctx, ids[i])) {
			sp_runlog_close(log);
			return cli_fail(ctx);
		}
		printf("deleted run %lld\n", (long long)ids[i]);
	}
	sp_runlog_close(log);
	return 0;
}

