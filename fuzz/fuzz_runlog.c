/*
 * fuzz_runlog.c: opening a `runs.db` that is corrupt or not seqpipe's
 * (core/sp_runlog.c), then reading it as `pipeline runs` and `show` do.
 *
 * Input: the bytes of the SQLite file.  A log that opens is listed, and
 * each run (at most 16) is read in full: its row, metrics, parameters and
 * model artifact; then the latest finished run is looked up.
 */
#include "fuzz.h"

#include <string.h>

#include "sp_ctx.h"
#include "sp_runlog.h"

typedef struct ids_ {
	int64_t id[16];
	size_t n;
	volatile size_t sum;
} ids_;

static size_t len_(const char *s)
{
	return s ? strlen(s) : 0;
}

static int run_(void *payload, const sp_run_info *r)
{
	ids_ *ids = payload;
	ids->sum += len_(r->pipeline) + len_(r->pipe_path) +
		    len_(r->pipe_hash) + len_(r->started) + len_(r->ended) +
		    len_(r->error) + len_(r->seqpipe_version) + len_(r->host) +
		    len_(sp_run_status_name(r->status));
	if (r->has_key)
		ids->sum += len_(r->key_name) + len_(r->key_split);
	if (ids->n < 16)
		ids->id[ids->n++] = r->id;
	return 0;
}

static int metric_(void *payload, const sp_runlog_metric_row *m)
{
	ids_ *ids = payload;
	ids->sum += len_(m->split) + len_(m->name) + len_(m->ts);
	return 0;
}

static int param_(void *payload, const char *section, const char *key,
		  const char *value)
{
	ids_ *ids = payload;
	ids->sum += len_(section) + len_(key) + len_(value);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sp_ctx *ctx = NULL;
	sp_runlog *log = NULL;
	ids_ ids;
	const char *path = fuzz_scratch(data, size, ".db");

	memset(&ids, 0, sizeof(ids));
	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 0;
	if (sp_runlog_open(&log, ctx, path) == SP_OK) {
		char p[256], sum[64];
		int64_t latest;
		size_t n;
		(void)sp_runlog_list(log, ctx, NULL, 0, run_, &ids);
		n = ids.n;
		for (size_t i = 0; i < n; i++) {
			int64_t id = ids.id[i];
			(void)sp_runlog_get(log, ctx, id, run_, &ids);
			(void)sp_runlog_metrics(log, ctx, id, metric_, &ids);
			(void)sp_runlog_params(log, ctx, id, param_, &ids);
			(void)sp_runlog_artifact_find(p, sizeof(p), sum,
						      sizeof(sum), log, ctx,
						      id, "model");
		}
		(void)sp_runlog_list(log, ctx, "hello", 2, run_, &ids);
		(void)sp_runlog_find_latest(&latest, log, ctx, NULL,
					    SP_RUN_FINISHED);
		sp_runlog_close(log);
	}
	(void)sp_errmsg(ctx);
	sp_ctx_free(ctx);
	return 0;
}
