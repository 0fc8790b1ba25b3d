/*
 * t_runlog_queue.c: the run log's locked-file queue (core/sp_runlog_queue.c): while
 * another process holds the write lock, rows return at once, wait in
 * memory in order, and end writes them all (fork()).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "runlog_fix.h"
#include "tap.h"

/* Another process holds the write lock for 1.5 s: rows logged meanwhile
 * return at once, wait in memory, and end writes them all, in order. */
static void test_locked(sp_ctx *ctx)
{
	char db[512];
	sp_runlog *log = NULL;
	int64_t id = 0;
	int fds[2], rc, status = 0, all_ok = 1;
	pid_t pid;
	char c;

	path_(db, sizeof(db), "locked.db");
	if (sp_runlog_open(&log, ctx, db) != SP_OK ||
	    sp_runlog_begin(&id, log, ctx, "locked", NULL, NULL, NULL, 1,
			    NULL) != SP_OK || pipe(fds) != 0) {
		ok(0, "set up the locked log: %s", sp_errmsg(ctx));
		sp_runlog_close(log);
		return;
	}
	sp_runlog_set_waits(log, 50, 20000);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sqlite3 *h = NULL;
		close(fds[0]);
		if (sqlite3_open(db, &h) != SQLITE_OK ||
		    sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			    SQLITE_OK)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		usleep(1500 * 1000);
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(h);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		all_ok = 0;
	close(fds[0]);
	for (int e = 0; e < 20; e++)
		all_ok &= sp_runlog_metric(log, ctx, id, e, "train", "loss",
					   1.0 / (e + 1)) == SP_OK;
	all_ok &= sp_runlog_event(log, ctx, id, SP_LOG_INFO, "while locked")
		  == SP_OK;
	ok(all_ok, "20 metrics and an event logged while locked return ok");
	ok(sp_runlog_pending(log) == 21, "and are kept in memory (%zu)",
	   sp_runlog_pending(log));
	rc = sp_runlog_end(log, ctx, id, SP_RUN_FINISHED, NULL);
	ok(rc == SP_OK && sp_runlog_pending(log) == 0,
	   "end waits for the lock and writes them (%s)",
	   rc ? sp_errmsg(ctx) : "ok");
	sp_runlog_close(log);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the lock holder held it and let go");
	ok(q_int_(db, "SELECT count(*) FROM metrics WHERE name = 'loss'") == 20
	   && q_int_(db, "SELECT count(*) FROM events") == 1 &&
	   q_int_(db, "SELECT status = 'finished' FROM runs") == 1,
	   "all 20 metrics, the event and the end are in the file");
	ok(q_int_(db, "SELECT count(*) FROM metrics a JOIN metrics b ON "
		  "b.id = a.id + 1 WHERE b.epoch = a.epoch + 1") == 19,
	   "in the order they were logged");
	ok(q_int_(db, "SELECT max(ts) <= (SELECT ended FROM runs) FROM "
		  "metrics") == 1 &&
	   q_int_(db, "SELECT (julianday(ended) - julianday(started)) * "
		  "86400 < 1.0 FROM runs") == 1,
	   "timestamps say when rows were logged, not when written");
	remove_db_(db);
}

int main(void)
{
	sp_ctx *ctx = NULL;

	if (runlog_fix_dir("t_runlog_queue") != 0 || sp_ctx_new(&ctx, 1) != SP_OK) {
		printf("Bail out! no temporary folder or context\n");
		return 1;
	}
	test_locked(ctx);

	ok(runlog_fix_rmdir() == 0, "the temporary folder is left empty");
	sp_ctx_free(ctx);
	return tap_done();
}
