/*
 * t_runlog_migrate.c: run logs of older schemas (tests/data/runs-v1.db, runs-v2.db)
 * upgraded in place by sp_runlog_open (core/sp_runlog_schema.c), every
 * row kept; read-only opens leave them as they are.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runlog_fix.h"
#include "tap.h"

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

int main(void)
{
	sp_ctx *ctx = NULL;

	if (runlog_fix_dir("t_runlog_migrate") != 0 || sp_ctx_new(&ctx, 1) != SP_OK) {
		printf("Bail out! no temporary folder or context\n");
		return 1;
	}
	test_migration(ctx);

	ok(runlog_fix_rmdir() == 0, "the temporary folder is left empty");
	sp_ctx_free(ctx);
	return tap_done();
}
