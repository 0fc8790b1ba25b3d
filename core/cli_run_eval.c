/*
 * cli_run_eval.c: a run's confusion matrix and sample predictions, read
 * for the report (tables confusion and samples of schema 3).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_run.h"

#include <sqlite3.h>

#include <stdlib.h>
#include <string.h>

#include "sp_runlog_priv.h"

/* Samples shown at most. */
#define MAX_SAMPLES 20

/* The final matrix of one split: dev before test before train. */
static const char confusion_sql_[] =
	"SELECT split, gold, pred, sum(count) FROM confusion "
	"WHERE run_id = ?1 AND epoch IS NULL AND split = (SELECT split FROM "
	"confusion WHERE run_id = ?1 AND epoch IS NULL ORDER BY CASE split "
	"WHEN 'dev' THEN 0 WHEN 'test' THEN 1 ELSE 2 END LIMIT 1) "
	"GROUP BY gold, pred ORDER BY gold, pred";
static const char samples_sql_[] =
	"SELECT input, gold, pred FROM samples WHERE run_id = ?1 "
	"ORDER BY epoch IS NOT NULL, epoch DESC, id LIMIT ?2";

static char *col_(sqlite3_stmt *st, int i, int *oom)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = 1;
	return d;
}

/* Steps st (run id bound) into r's cells; SQLite's code at the end. */
static int read_cells_(cli_run *r, sqlite3_stmt *st, int *oom)
{
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !*oom) {
		cli_cell *c;
		if (r->n_cm == cap) {
			size_t n = cap ? 2 * cap : 64;
			cli_cell *p = realloc(r->cm, n * sizeof(*p));
			if (!p) {
				*oom = 1;
				break;
			}
			r->cm = p;
			cap = n;
		}
		if (!r->cm_split)
			r->cm_split = col_(st, 0, oom);
		c = &r->cm[r->n_cm++];
		c->gold = col_(st, 1, oom);
		c->pred = col_(st, 2, oom);
		c->count = sqlite3_column_int64(st, 3);
	}
	return rc;
}

static int read_samples_(cli_run *r, sqlite3_stmt *st, int *oom)
{
	int rc;
	if (!(r->smp = calloc(MAX_SAMPLES, sizeof(*r->smp)))) {
		*oom = 1;
		return SQLITE_NOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !*oom &&
	       r->n_smp < MAX_SAMPLES) {
		cli_sample *s = &r->smp[r->n_smp++];
		s->input = col_(st, 0, oom);
		s->gold = col_(st, 1, oom);
		s->pred = col_(st, 2, oom);
	}
	return rc;
}

int cli_run_load_eval(cli_run *r, sp_ctx *ctx, sp_runlog *log)
{
	sqlite3 *db = sp_runlog_db_(log);
	sqlite3_stmt *st = NULL;
	int rc, oom = 0;
	if (sp_runlog_schema_version(log) < 3)
		return SP_OK;
	rc = sqlite3_prepare_v2(db, confusion_sql_, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, r->id);
		rc = read_cells_(r, st, &oom);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!oom && (rc == SQLITE_DONE || rc == SQLITE_ROW))
		rc = sqlite3_prepare_v2(db, samples_sql_, -1, &st, NULL);
	if (!oom && rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int(st, 2, MAX_SAMPLES);
		rc = read_samples_(r, st, &oom);
	}
	sqlite3_finalize(st);
	if (oom)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sp_runlog_fail_(log, ctx, rc, "read the confusion matrix "
				       "and samples");
	return SP_OK;
}

void cli_run_free_eval(cli_run *r)
{
	for (size_t i = 0; i < r->n_cm; i++) {
		free(r->cm[i].gold);
		free(r->cm[i].pred);
	}
	for (size_t i = 0; i < r->n_smp; i++) {
		free(r->smp[i].input);
		free(r->smp[i].gold);
		free(r->smp[i].pred);
	}
	free(r->cm);
	free(r->smp);
	free(r->cm_split);
}
