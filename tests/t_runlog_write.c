/*
 * t_runlog_write.c: writing the experiment log (core/sp_runlog.c) and the text
 * hash (core/sp_hash.c): a new log's schema, batches, files that are not a
 * run log, a writer killed mid-run, concurrent writers (fork()), tags and
 * deleting runs.  The rows are checked with plain SQL through sqlite3.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sp_hash.h"

#include "runlog_fix.h"
#include "tap.h"

static void test_hash(void)
{
	char buf[SP_HASH_HEX_LEN + 1];
	const char *h = buf; /* ok_str wants a pointer, not an array */
	/* Reference values of FNV-1a 64 (Fowler/Noll/Vo test vectors). */
	sp_hash_text(buf, "", 0);
	ok_str(h, "cbf29ce484222325", "fnv1a64 of the empty text");
	sp_hash_text(buf, "a", 1);
	ok_str(h, "af63dc4c8601ec8c", "fnv1a64 of \"a\"");
	sp_hash_text(buf, "foobar", 6);
	ok_str(h, "85944171f73967e8", "fnv1a64 of \"foobar\"");
	ok(sp_hash_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL,
	   "sp_hash_fnv1a64 gives the same number");
	sp_hash_text(buf, "foobar", 3);
	ok_str(h, "dcb27518fed9d577", "only len bytes are hashed (\"foo\")");
}

static void test_schema(sp_ctx *ctx, const char *db)
{
	sp_runlog *log = NULL;
	char buf[64];
	int rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK && log, "open creates a new run log (%s)",
	   why_(ctx, rc));
	ok(q_int_(db, "PRAGMA application_id") == SP_RUNLOG_APPLICATION_ID,
	   "application_id is 'SPR1'");
	ok(q_int_(db, "PRAGMA user_version") == SP_RUNLOG_SCHEMA_VERSION,
	   "user_version is the schema version");
	ok_str(q_text_(buf, sizeof(buf), db, "PRAGMA journal_mode"), "wal",
	       "the log is in WAL mode");
	ok(q_int_(db, "SELECT count(*) FROM sqlite_master WHERE type = "
		      "'table' AND name IN ('runs', 'params', 'stages', "
		      "'metrics', 'events', 'artifacts')") == 6,
	   "all six tables exist");
	ok(q_int_(db, "SELECT count(*) FROM pragma_index_list('metrics') "
		      "AS l, pragma_index_info(l.name) AS i "
		      "WHERE i.name = 'run_id'") == 1,
	   "metrics has an index on run_id");
	sp_runlog_close(log);
	sp_runlog_close(NULL);
	ok(1, "close accepts NULL");
}

static void test_batches(sp_ctx *ctx, const char *db)
{
	sp_runlog *log = NULL;
	int64_t id = 0;
	char sql[128];
	int rc = sp_runlog_open(&log, ctx, db);
	if (rc == SP_OK)
		rc = sp_runlog_begin(&id, log, ctx, "lm", NULL, NULL, NULL, 1,
				     NULL);
	ok(rc == SP_OK, "a run for batching");
	if (rc != SP_OK) {
		sp_runlog_close(log);
		return;
	}
	rc = sp_runlog_tx_begin(log, ctx);
	for (int i = 0; i < 100 && rc == SP_OK; i++)
		rc = sp_runlog_metric(log, ctx, id, i, "train", "loss", i);
	ok(rc == SP_OK && sp_runlog_tx_begin(log, ctx) == SP_EINVAL,
	   "batches do not nest");
	ok(sp_runlog_tx_commit(log, ctx) == SP_OK, "commit 100 metrics");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld", (long long)id);
	ok(q_int_(db, sql) == 100, "all 100 are in the file");
	rc = sp_runlog_tx_begin(log, ctx);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, id, 100, "train", "loss", 0);
	ok(rc == SP_OK && sp_runlog_tx_rollback(log, ctx) == SP_OK,
	   "roll a batch back");
	ok(q_int_(db, sql) == 100, "the rolled back metric is gone");
	ok(sp_runlog_tx_commit(log, ctx) == SP_EINVAL,
	   "commit without a batch is refused");
	/* An open batch at close is rolled back, not half-written. */
	rc = sp_runlog_tx_begin(log, ctx);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, id, 101, "train", "loss", 0);
	sp_runlog_close(log);
	ok(rc == SP_OK && q_int_(db, sql) == 100,
	   "closing with an open batch discards it");
}

static void test_foreign(sp_ctx *ctx)
{
	char db[512], sql[128], buf[32];
	sp_runlog *log = NULL;
	FILE *f;
	int rc;

	path_(db, sizeof(db), "other.db");
	exec_raw_(db, "CREATE TABLE foo(x); INSERT INTO foo VALUES (1);");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && !log &&
	   strstr(sp_errmsg(ctx), "not a seqpipe run log") &&
	   strstr(sp_errmsg(ctx), db),
	   "another SQLite database is refused: %s", sp_errmsg(ctx));
	ok_str(q_text_(buf, sizeof(buf), db, "PRAGMA journal_mode"), "delete",
	       "and left untouched (not switched to WAL)");
	ok(q_int_(db, "SELECT count(*) FROM sqlite_master") == 1,
	   "no tables were added to it");

	path_(db, sizeof(db), "vocab.db");
	exec_raw_(db, "PRAGMA application_id = 1397782114; "
		      "CREATE TABLE vocabularies(id);");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "vocabulary store"),
	   "a vocabulary store is refused by name: %s", sp_errmsg(ctx));

	path_(db, sizeof(db), "text.db");
	f = fopen(db, "w");
	if (f) {
		fputs("this is not a database, just some text that is long "
		      "enough to fill a header of one hundred bytes or so, "
		      "really it is.\n", f);
		fclose(f);
	}
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "not an SQLite"),
	   "a text file is refused: %s", sp_errmsg(ctx));

	path_(db, sizeof(db), "newer.db");
	rc = sp_runlog_open(&log, ctx, db);
	sp_runlog_close(log);
	log = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 SP_RUNLOG_SCHEMA_VERSION + 1);
	exec_raw_(db, sql);
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "reads up to"),
	   "a newer schema is refused: %s", sp_errmsg(ctx));

	path_(db, sizeof(db), "no/such/dir/runs.db");
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_EIO && strstr(sp_errmsg(ctx), db),
	   "an impossible path is SP_EIO: %s", sp_errmsg(ctx));
	rc = sp_runlog_open(&log, ctx, NULL);
	ok(rc == SP_EINVAL && !log, "no path is SP_EINVAL");
}

/* A child that logs and is then killed: what it committed stays. */
static void test_crash(sp_ctx *ctx)
{
	char db[512];
	runs_seen seen;
	sp_runlog *log = NULL;
	int status = 0, rc;
	pid_t pid;

	path_(db, sizeof(db), "crash.db");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sp_ctx *c = NULL;
		sp_runlog *l = NULL;
		int64_t id = 0;
		if (sp_ctx_new(&c, 1) != SP_OK ||
		    sp_runlog_open(&l, c, db) != SP_OK ||
		    sp_runlog_begin(&id, l, c, "ner", NULL, NULL, NULL, 1,
				    NULL) != SP_OK ||
		    sp_runlog_metric(l, c, id, 0, "dev", "f1", 0.25) != SP_OK ||
		    sp_runlog_metric(l, c, id, 1, "dev", "f1", 0.5) != SP_OK)
			_exit(1);
		/* No close, no end: the process dies here. */
		raise(SIGKILL);
		_exit(2);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "the logging child was killed");
	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_open(&log, ctx, db);
	if (rc == SP_OK)
		rc = sp_runlog_list(log, ctx, NULL, 0, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 1 &&
	   strcmp(seen.r[0].status, "running") == 0 && seen.r[0].has_key &&
	   seen.r[0].key_epoch == 1 && fabs(seen.r[0].key_value - 0.5) < 1e-12,
	   "its run and both metrics survived the kill (%s)", why_(ctx, rc));
	sp_runlog_close(log);
}

#ifndef N_WRITERS /* -DN_WRITERS=8 for a heavier run */
#define N_WRITERS 2
#endif
#define N_METRICS 200

/* Two processes write one new log at once (including creating it). */
static void test_concurrent(sp_ctx *ctx)
{
	char db[512], sql[128];
	pid_t pid[N_WRITERS];
	int good = 0;

	path_(db, sizeof(db), "shared.db");
	fflush(stdout);
	for (int k = 0; k < N_WRITERS; k++) {
		pid[k] = fork();
		if (pid[k] == 0) {
			sp_ctx *c = NULL;
			sp_runlog *l = NULL;
			int64_t id = 0;
			int rc = sp_ctx_new(&c, 1);
			if (rc == SP_OK)
				rc = sp_runlog_open(&l, c, db);
			if (rc == SP_OK)
				rc = sp_runlog_begin(&id, l, c, "par", NULL,
						     NULL, NULL, (uint64_t)k,
						     NULL);
			for (int i = 0; i < N_METRICS && rc == SP_OK; i++) {
				rc = sp_runlog_metric(l, c, id, i, "train",
						      "loss", i);
				/* Every tenth step also in a batch. */
				if (rc == SP_OK && i % 10 == 0) {
					rc = sp_runlog_tx_begin(l, c);
					if (rc == SP_OK)
						rc = sp_runlog_event(
							l, c, id, SP_LOG_INFO,
							"step");
					if (rc == SP_OK)
						rc = sp_runlog_tx_commit(l, c);
				}
			}
			if (rc == SP_OK)
				rc = sp_runlog_end(l, c, id, SP_RUN_FINISHED,
						   NULL);
			if (rc != SP_OK)
				fprintf(stderr, "writer %d: %s\n", k,
					sp_errmsg(c));
			sp_runlog_close(l);
			sp_ctx_free(c);
			_exit(rc == SP_OK ? 0 : 1);
		}
	}
	for (int k = 0; k < N_WRITERS; k++) {
		int status = 0;
		if (pid[k] > 0 && waitpid(pid[k], &status, 0) == pid[k] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good++;
	}
	ok(good == N_WRITERS, "%d of %d concurrent writers succeeded", good,
	   N_WRITERS);
	ok(q_int_(db, "SELECT count(*) FROM runs WHERE status = 'finished'")
		   == N_WRITERS, "both runs finished");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics");
	ok(q_int_(db, sql) == N_WRITERS * N_METRICS,
	   "every metric of both writers is there");
	ok(q_int_(db, "SELECT count(DISTINCT run_id) FROM events") ==
		   N_WRITERS, "both wrote events in batches");
	(void)ctx;
}

static int count_tag_(void *payload, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(int *)payload)++;
	return 0;
}

static void test_tags_delete(sp_ctx *ctx)
{
	char db[512];
	sp_runlog *log = NULL;
	int64_t a = 0, b = 0;
	int n = 0, rc;
	path_(db, sizeof(db), "tags.db");
	if (sp_runlog_open(&log, ctx, db) != SP_OK ||
	    sp_runlog_begin(&a, log, ctx, "x", NULL, NULL, NULL, 1, NULL) ||
	    sp_runlog_begin(&b, log, ctx, "x", NULL, NULL, NULL, 1, NULL) ||
	    sp_runlog_metric(log, ctx, a, 0, "dev", "f1", 0.5)) {
		ok(0, "set up: %s", sp_errmsg(ctx));
		sp_runlog_close(log);
		return;
	}
	ok(sp_runlog_tag(log, ctx, a, "note", "baseline") == SP_OK &&
	   sp_runlog_tag(log, ctx, a, "note", "best") == SP_OK &&
	   sp_runlog_tag(log, ctx, a, "who", "me") == SP_OK,
	   "tag a run, and again with a new value");
	ok(sp_runlog_tags(log, ctx, a, count_tag_, &n) == SP_OK && n == 2 &&
	   q_int_(db, "SELECT count(*) FROM tags WHERE value = 'best'") == 1,
	   "two tags, the second value kept");
	ok(sp_runlog_tag(log, ctx, a, "who", NULL) == SP_OK &&
	   q_int_(db, "SELECT count(*) FROM tags") == 1, "remove a tag");
	rc = sp_runlog_tag(log, ctx, 99, "k", "v");
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "no run 99"),
	   "tagging an unknown run names it (%s)", sp_errmsg(ctx));
	ok(sp_runlog_delete(log, ctx, a) == SP_OK &&
	   q_int_(db, "SELECT count(*) FROM runs") == 1 &&
	   q_int_(db, "SELECT count(*) FROM metrics") == 0 &&
	   q_int_(db, "SELECT count(*) FROM tags") == 0,
	   "delete removes the run and its rows");
	rc = sp_runlog_delete(log, ctx, a);
	ok(rc == SP_ENOTFOUND, "deleting it again: no run");
	sp_runlog_close(log);
	log = NULL;
	rc = sp_runlog_open_readonly(&log, ctx, db);
	ok(rc == SP_OK && sp_runlog_tag(log, ctx, b, "k", "v") == SP_EINVAL &&
	   sp_runlog_metric(log, ctx, b, 0, "dev", "f1", 1) == SP_EINVAL,
	   "a read-only handle refuses writes");
	sp_runlog_close(log);
	log = NULL;
	path_(db, sizeof(db), "missing.db");
	rc = sp_runlog_open_readonly(&log, ctx, db);
	ok(rc == SP_ENOTFOUND && access(db, F_OK) != 0,
	   "read-only open of a missing file creates nothing");
	path_(db, sizeof(db), "tags.db");
	remove_db_(db);
}

int main(void)
{
	sp_ctx *ctx = NULL;
	char db[512];

	if (runlog_fix_dir("t_runlog_write") != 0 || sp_ctx_new(&ctx, 1) != SP_OK) {
		printf("Bail out! no temporary folder or context\n");
		return 1;
	}
	path_(db, sizeof(db), "runs.db");

	test_hash();
	test_schema(ctx, db);
	test_batches(ctx, db);
	test_foreign(ctx);
	test_crash(ctx);
	test_concurrent(ctx);
	test_tags_delete(ctx);

	path_(db, sizeof(db), "runs.db");
	remove_db_(db);
	path_(db, sizeof(db), "other.db");
	remove_db_(db);
	path_(db, sizeof(db), "vocab.db");
	remove_db_(db);
	path_(db, sizeof(db), "text.db");
	remove_db_(db);
	path_(db, sizeof(db), "newer.db");
	remove_db_(db);
	path_(db, sizeof(db), "crash.db");
	remove_db_(db);
	path_(db, sizeof(db), "shared.db");
	remove_db_(db);
	ok(runlog_fix_rmdir() == 0, "the temporary folder is left empty");
	sp_ctx_free(ctx);
	return tap_done();
}
