/*
 * t_runlog_read.c: a logged run read back (core/sp_runlog.c,
 * core/sp_runlog_read.c): its rows as plain SQL through sqlite3 sees
 * them, sp_runlog_metrics and _params, misuse refused; then failed, interrupted and running runs, the
 * listing with each run's key metric, get, find_latest, artifact paths.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_hash.h"

#include "runlog_fix.h"
#include "tap.h"

/* "2024-05-01T12:00:00.123Z" */
static int is_iso_ms_(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	}
	return 1;
}

typedef struct metrics_seen {
	int64_t epoch[64];
	char split[64][8], name[64][16];
	double value[64];
	size_t n;
} metrics_seen;

static int collect_metric_(void *payload, const sp_runlog_metric_row *row)
{
	metrics_seen *s = payload;
	if (s->n == 64)
		return SP_ERROR;
	s->epoch[s->n] = row->epoch;
	snprintf(s->split[s->n], 8, "%s", row->split ? row->split : "-");
	snprintf(s->name[s->n], 16, "%s", row->name);
	s->value[s->n] = row->value;
	s->n++;
	return SP_OK;
}

static int count_param_(void *payload, const char *section, const char *key,
			const char *value)
{
	(*(int *)payload)++;
	return SP_OK;
}

static void test_full_run(sp_ctx *ctx, const char *db, int64_t *out_id)
{
	static const char pipe[] = "pipeline ner seed=42 epochs=3\n"
				   "layer rnn.lstm hidden=8\n";
	sp_runlog *log = NULL;
	int64_t id = 0;
	char buf[256], hash[SP_HASH_HEX_LEN + 1], sql[256];
	metrics_seen ms;
	int rc, n_params = 0;

	*out_id = 0;
	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK, "open a new log (%s)", why_(ctx, rc));
	if (rc != SP_OK)
		return;
	rc = sp_runlog_begin(&id, log, ctx, "ner", "pipelines/ner.pipe", pipe,
			     NULL, 42, "0.1.0");
	ok(rc == SP_OK && id > 0, "begin a run: id %lld", (long long)id);
	*out_id = id;
	ok(sp_runlog_param(log, ctx, id, "pipeline", "epochs", "3") == SP_OK &&
	   sp_runlog_param(log, ctx, id, "model", "hidden", "8") == SP_OK &&
	   sp_runlog_param(log, ctx, id, "model", "init", "xavier") == SP_OK,
	   "log three parameters");
	ok(sp_runlog_param(log, ctx, id, "model", "hidden", "16") == SP_OK,
	   "logging a parameter again replaces it");
	ok(sp_runlog_stage(log, ctx, id, 0, "tokenize", "tokenizers", "icu",
			   "0.1.0", 1) == SP_OK &&
	   sp_runlog_stage(log, ctx, id, 1, "model", "rnn", "lstm", "0.1.0",
			   1) == SP_OK,
	   "log two stages");
	rc = SP_OK;
	for (int e = 0; e < 3 && rc == SP_OK; e++) {
		rc = sp_runlog_metric(log, ctx, id, e, "train", "loss",
				      2.0 - 0.5 * e);
		if (rc == SP_OK)
			rc = sp_runlog_metric(log, ctx, id, e, "dev", "f1",
					      0.2 + 0.1 * e);
	}
	ok(rc == SP_OK, "log train loss and dev f1 per epoch (%s)",
	   why_(ctx, rc));
	ok(sp_runlog_metric(log, ctx, id, -1, "dev", "f1", 0.55) == SP_OK &&
	   sp_runlog_metric(log, ctx, id, -1, "test", "f1", 0.5) == SP_OK &&
	   sp_runlog_metric(log, ctx, id, -1, "train", "loss", 0.9) == SP_OK &&
	   sp_runlog_metric(log, ctx, id, -1, NULL, "seconds", 12.5) == SP_OK,
	   "log the final metrics");
	ok(sp_runlog_event(log, ctx, id, SP_LOG_INFO, "epoch 2: done") ==
		   SP_OK, "log an event");
	ok(sp_runlog_artifact(log, ctx, id, "model", "runs/ner-1.spm", 1234,
			      "0badf00d") == SP_OK, "log the model artifact");
	ok(sp_runlog_end(log, ctx, id, SP_RUN_FINISHED, NULL) == SP_OK,
	   "end the run as finished");

	snprintf(sql, sizeof(sql), "SELECT status FROM runs WHERE id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "finished",
	       "runs.status is finished");
	snprintf(sql, sizeof(sql), "SELECT started FROM runs WHERE id = %lld",
		 (long long)id);
	ok(is_iso_ms_(q_text_(buf, sizeof(buf), db, sql)),
	   "started is ISO-8601 UTC with ms: %s", buf);
	snprintf(sql, sizeof(sql), "SELECT ended FROM runs WHERE id = %lld",
		 (long long)id);
	ok(is_iso_ms_(q_text_(buf, sizeof(buf), db, sql)),
	   "ended is set: %s", buf);
	sp_hash_text(hash, pipe, strlen(pipe));
	snprintf(sql, sizeof(sql), "SELECT pipe_hash FROM runs WHERE id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), hash,
	       "pipe_hash is the FNV-1a of the pipe text");
	snprintf(sql, sizeof(sql), "SELECT pipe_text FROM runs WHERE id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), pipe,
	       "the pipe text is stored verbatim");
	snprintf(sql, sizeof(sql), "SELECT seed || ' ' || pipeline || ' ' || "
		 "seqpipe_version || ' ' || (pid > 0) || ' ' || (error IS NULL) "
		 "FROM runs WHERE id = %lld", (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "42 ner 0.1.0 1 1",
	       "seed, pipeline, version, pid and no error");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM params WHERE "
		 "run_id = %lld", (long long)id);
	ok(q_int_(db, sql) == 3, "three parameter rows");
	snprintf(sql, sizeof(sql), "SELECT value FROM params WHERE run_id = "
		 "%lld AND section = 'model' AND key = 'hidden'", (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "16",
	       "the replaced parameter holds the new value");
	snprintf(sql, sizeof(sql), "SELECT group_concat(plugin || '.' || "
		 "component || '@' || plugin_version || '/' || abi, ' ') FROM "
		 "(SELECT * FROM stages WHERE run_id = %lld ORDER BY idx)",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql),
	       "tokenizers.icu@0.1.0/1 rnn.lstm@0.1.0/1", "the stage rows");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld AND epoch IS NOT NULL", (long long)id);
	ok(q_int_(db, sql) == 6, "six per-epoch metric rows");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld AND epoch IS NULL", (long long)id);
	ok(q_int_(db, sql) == 4, "four final metric rows (epoch NULL)");
	snprintf(sql, sizeof(sql), "SELECT value FROM metrics WHERE run_id = "
		 "%lld AND epoch = 1 AND split = 'dev' AND name = 'f1'",
		 (long long)id);
	ok_near(atof(q_text_(buf, sizeof(buf), db, sql)), 0.3, 1e-12,
		"dev f1 of epoch 1");
	snprintf(sql, sizeof(sql), "SELECT level || ':' || message FROM "
		 "events WHERE run_id = %lld", (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "info:epoch 2: done",
	       "the event row");
	snprintf(sql, sizeof(sql), "SELECT kind || ' ' || path || ' ' || "
		 "bytes || ' ' || checksum FROM artifacts WHERE run_id = %lld",
		 (long long)id);
	ok_str(q_text_(buf, sizeof(buf), db, sql),
	       "model runs/ner-1.spm 1234 0badf00d", "the artifact row");

	memset(&ms, 0, sizeof(ms));
	rc = sp_runlog_metrics(log, ctx, id, collect_metric_, &ms);
	ok(rc == SP_OK && ms.n == 10, "sp_runlog_metrics: %zu rows", ms.n);
	ok(ms.epoch[0] == 0 && strcmp(ms.name[0], "loss") == 0 &&
	   ms.epoch[5] == 2 && strcmp(ms.split[5], "dev") == 0 &&
	   ms.epoch[6] == -1 && ms.epoch[9] == -1 &&
	   strcmp(ms.name[9], "seconds") == 0 && strcmp(ms.split[9], "-") == 0,
	   "metrics come by epoch, finals last as epoch -1, in logged order");
	rc = sp_runlog_params(log, ctx, id, count_param_, &n_params);
	ok(rc == SP_OK && n_params == 3, "sp_runlog_params: %d", n_params);

	/* Misuse is refused with a message. */
	rc = sp_runlog_end(log, ctx, id, SP_RUN_FAILED, "late");
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "already ended"),
	   "ending a run twice: %s", sp_errmsg(ctx));
	rc = sp_runlog_end(log, ctx, 9999, SP_RUN_FINISHED, NULL);
	ok(rc == SP_ENOTFOUND, "ending an unknown run: %s", sp_errmsg(ctx));
	rc = sp_runlog_metric(log, ctx, 9999, 0, "dev", "f1", 1);
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "no run 9999"),
	   "a metric for an unknown run: %s", sp_errmsg(ctx));
	rc = sp_runlog_metric(log, ctx, id, 0, "valid", "f1", 1);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "valid"),
	   "an unknown split: %s", sp_errmsg(ctx));
	rc = sp_runlog_stage(log, ctx, id, 1, "model", "rnn", "gru", NULL, 1);
	ok(rc == SP_EDB, "a second stage 1: %s", sp_errmsg(ctx));
	rc = sp_runlog_end(log, ctx, id, SP_RUN_RUNNING, NULL);
	ok(rc == SP_EINVAL, "ending as running: %s", sp_errmsg(ctx));
	rc = sp_runlog_metrics(log, ctx, 9999, collect_metric_, &ms);
	ok(rc == SP_ENOTFOUND, "metrics of an unknown run: %s",
	   sp_errmsg(ctx));
	sp_runlog_close(log);
}

/* A failed, an interrupted and a metric-less run; the listing and the
 * lookups over all of them. */
static void test_other_runs(sp_ctx *ctx, const char *db, int64_t first)
{
	sp_runlog *log = NULL;
	int64_t failed = 0, intr = 0, bare = 0, second = 0, found = 0;
	char buf[256], sql[256];
	runs_seen seen;
	int rc;

	rc = sp_runlog_open(&log, ctx, db);
	ok(rc == SP_OK, "reopen an existing log (%s)", why_(ctx, rc));
	if (rc != SP_OK)
		return;

	rc = sp_runlog_begin(&failed, log, ctx, "ner", NULL, NULL, NULL, 7,
			     NULL);
	for (int e = 0; e < 2 && rc == SP_OK; e++) {
		rc = sp_runlog_metric(log, ctx, failed, e, "train", "loss",
				      1.5 - e);
		if (rc == SP_OK)
			rc = sp_runlog_metric(log, ctx, failed, e, "dev",
					      "accuracy", 0.6 + 0.1 * e);
	}
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, failed, 2, "train", "loss",
				      NAN);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, failed, SP_RUN_FAILED,
				   "numeric: loss is NaN at epoch 2");
	ok(rc == SP_OK, "a failed run (%s)", why_(ctx, rc));
	snprintf(sql, sizeof(sql), "SELECT status || ': ' || error FROM runs "
		 "WHERE id = %lld", (long long)failed);
	ok_str(q_text_(buf, sizeof(buf), db, sql),
	       "failed: numeric: loss is NaN at epoch 2",
	       "the failed run records its error");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE "
		 "run_id = %lld", (long long)failed);
	ok(q_int_(db, sql) == 5, "the failed run keeps its metrics");
	snprintf(sql, sizeof(sql), "SELECT value IS NULL FROM metrics WHERE "
		 "run_id = %lld AND epoch = 2", (long long)failed);
	ok(q_int_(db, sql) == 1, "a NaN metric is stored as NULL");

	rc = sp_runlog_begin(&intr, log, ctx, "sentiment", NULL, NULL, "abc",
			     1, NULL);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, intr, 0, "train", "loss", 0.7);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, intr, SP_RUN_INTERRUPTED, NULL);
	ok(rc == SP_OK, "an interrupted run (%s)", why_(ctx, rc));
	snprintf(sql, sizeof(sql), "SELECT status || ' ' || pipe_hash FROM "
		 "runs WHERE id = %lld", (long long)intr);
	ok_str(q_text_(buf, sizeof(buf), db, sql), "interrupted abc",
	       "status interrupted, given pipe_hash kept");

	rc = sp_runlog_begin(&bare, log, ctx, "dna", NULL, NULL, NULL, 0,
			     NULL);
	ok(rc == SP_OK, "a run with no metrics, still running");

	rc = sp_runlog_begin(&second, log, ctx, "ner", NULL, NULL, NULL, 43,
			     NULL);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, second, -1, "test", "loss", 0.4);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, second, -1, "test", "f1", 0.6);
	if (rc == SP_OK)
		rc = sp_runlog_metric(log, ctx, second, 0, "dev", "f1", 0.9);
	if (rc == SP_OK)
		rc = sp_runlog_artifact(log, ctx, second, "model", "m2.spm", -1,
					NULL);
	if (rc == SP_OK)
		rc = sp_runlog_end(log, ctx, second, SP_RUN_FINISHED, NULL);
	ok(rc == SP_OK, "a second finished ner run (%s)", why_(ctx, rc));

	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_list(log, ctx, NULL, 0, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 5, "list: %zu runs", seen.n);
	ok(seen.r[0].id == second && seen.r[4].id == first,
	   "newest first");
	ok(seen.r[4].has_key && strcmp(seen.r[4].key_name, "f1") == 0 &&
	   strcmp(seen.r[4].key_split, "dev") == 0 &&
	   seen.r[4].key_epoch == -1 && fabs(seen.r[4].key_value - 0.55) < 1e-12,
	   "key metric of a finished run: final dev f1 (%s %s %lld %g)",
	   seen.r[4].key_name, seen.r[4].key_split,
	   (long long)seen.r[4].key_epoch, seen.r[4].key_value);
	ok(seen.r[3].has_key && strcmp(seen.r[3].key_name, "accuracy") == 0 &&
	   strcmp(seen.r[3].key_split, "dev") == 0 &&
	   seen.r[3].key_epoch == 1 && fabs(seen.r[3].key_value - 0.7) < 1e-12,
	   "key metric of a failed run: its last dev score (%s %s %lld)",
	   seen.r[3].key_name, seen.r[3].key_split,
	   (long long)seen.r[3].key_epoch);
	ok(strcmp(seen.r[3].status, "failed") == 0 &&
	   strstr(seen.r[3].error, "NaN") && seen.r[3].ended[0],
	   "the listing carries status, error and end time");
	ok(seen.r[2].has_key && strcmp(seen.r[2].key_name, "loss") == 0 &&
	   strcmp(seen.r[2].key_split, "train") == 0,
	   "key metric of a run with only train loss: train loss");
	ok(!seen.r[1].has_key && strcmp(seen.r[1].status, "running") == 0 &&
	   seen.r[1].ended[0] == '\0',
	   "a running run without metrics has no key metric and no end");
	ok(seen.r[0].has_key && strcmp(seen.r[0].key_name, "f1") == 0 &&
	   strcmp(seen.r[0].key_split, "test") == 0 && seen.r[0].key_epoch == -1,
	   "final test f1 beats final test loss and per-epoch dev f1");

	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_list(log, ctx, "ner", 2, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 2 && seen.r[0].id == second &&
	   seen.r[1].id == failed, "list filtered by pipeline, with a limit");
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	rc = sp_runlog_list(log, ctx, NULL, 0, collect_run_, &seen);
	ok(rc == SP_EINTR && seen.n == 1,
	   "a callback's code stops the listing and comes back");
	memset(&seen, 0, sizeof(seen));
	rc = sp_runlog_get(log, ctx, failed, collect_run_, &seen);
	ok(rc == SP_OK && seen.n == 1 && seen.r[0].id == failed,
	   "get one run");
	rc = sp_runlog_get(log, ctx, 9999, collect_run_, &seen);
	ok(rc == SP_ENOTFOUND, "get an unknown run: %s", sp_errmsg(ctx));

	rc = sp_runlog_find_latest(&found, log, ctx, "ner", SP_RUN_FINISHED);
	ok(rc == SP_OK && found == second,
	   "latest finished ner run is the second one");
	rc = sp_runlog_find_latest(&found, log, ctx, NULL, SP_RUN_FAILED);
	ok(rc == SP_OK && found == failed, "latest failed run of any pipeline");
	rc = sp_runlog_find_latest(&found, log, ctx, "dna", SP_RUN_FINISHED);
	ok(rc == SP_ENOTFOUND && found == 0 && strstr(sp_errmsg(ctx), "dna"),
	   "no finished dna run: %s", sp_errmsg(ctx));
	rc = sp_runlog_artifact_path(buf, sizeof(buf), log, ctx, second,
				     "model");
	ok(rc == SP_OK && strcmp(buf, "m2.spm") == 0,
	   "the latest finished run's model path");
	rc = sp_runlog_artifact_path(buf, 4, log, ctx, second, "model");
	ok(rc == SP_EINVAL && buf[0] == '\0', "a too small buffer: %s",
	   sp_errmsg(ctx));
	rc = sp_runlog_artifact_path(buf, sizeof(buf), log, ctx, failed,
				     "model");
	ok(rc == SP_ENOTFOUND, "no model for the failed run: %s",
	   sp_errmsg(ctx));
	sp_runlog_close(log);
}

int main(void)
{
	sp_ctx *ctx = NULL;
	char db[512];
	int64_t first = 0;

	if (runlog_fix_dir("t_runlog_read") != 0 || sp_ctx_new(&ctx, 1) != SP_OK) {
		printf("Bail out! no temporary folder or context\n");
		return 1;
	}
	path_(db, sizeof(db), "runs.db");

	test_full_run(ctx, db, &first);
	test_other_runs(ctx, db, first);

	path_(db, sizeof(db), "runs.db");
	remove_db_(db);
	ok(runlog_fix_rmdir() == 0, "the temporary folder is left empty");
	sp_ctx_free(ctx);
	return tap_done();
}
