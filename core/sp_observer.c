/*
 * sp_observer.c: the observer calls, and the observer that writes a run
 * into the run log (the only code of a run that calls sp_runlog's
 * writers).
 */
#include "config.h"

#include "sp_observer.h"

#include <stdlib.h>
#include <string.h>

#include "sp_modelfile.h"
#include "sp_paths.h"

int sp_observe_metric(const sp_observer_ref *o, sp_ctx *ctx, int64_t epoch,
		      const char *split, const char *name, double value)
{
	return o->ops ? o->ops->metric(o->self, ctx, epoch, split, name, value) : 0;
}

int sp_observe_param(const sp_observer_ref *o, sp_ctx *ctx, const char *section,
		     const char *key, const char *value)
{
	return o->ops ? o->ops->param(o->self, ctx, section, key, value) : 0;
}

int sp_observe_stage(const sp_observer_ref *o, sp_ctx *ctx, int idx,
		     const char *section, const char *plugin,
		     const char *component, const char *version, int abi)
{
	return o->ops ? o->ops->stage(o->self, ctx, idx, section, plugin, component,
				      version, abi)
		      : 0;
}

int sp_observe_event(const sp_observer_ref *o, sp_ctx *ctx, sp_level level,
		     const char *msg)
{
	return o->ops ? o->ops->event(o->self, ctx, level, msg) : 0;
}

int sp_observe_artifact(const sp_observer_ref *o, sp_ctx *ctx,
			const char *kind, const char *path)
{
	return o->ops ? o->ops->artifact(o->self, ctx, kind, path) : 0;
}

int sp_observe_end(const sp_observer_ref *o, sp_ctx *ctx,
		   sp_run_status status, const char *error)
{
	return o->ops ? o->ops->end(o->self, ctx, status, error) : 0;
}

int sp_observe_confusion(const sp_observer_ref *o, sp_ctx *ctx, int64_t epoch,
			 const char *split, const char *gold, const char *pred,
			 int64_t count)
{
	return o->ops && o->ops->confusion ?
		       o->ops->confusion(o->self, ctx, epoch, split, gold, pred,
					 count) : 0;
}

int sp_observe_sample(const sp_observer_ref *o, sp_ctx *ctx, int64_t epoch,
		      const char *split, const char *input, const char *gold,
		      const char *pred)
{
	return o->ops && o->ops->sample ?
		       o->ops->sample(o->self, ctx, epoch, split, input, gold,
				      pred) : 0;
}

int sp_observe_active(const sp_observer_ref *o)
{
	return o->ops != NULL;
}

void sp_observer_close(sp_observer_ref *o)
{
	if (o->ops)
		o->ops->close(o->self);
	o->ops = NULL;
	o->self = NULL;
}

/* ---- the run-log observer ------------------------------------------- */

typedef struct runlog_obs {
	sp_runlog *log;
	int64_t run_id;
} runlog_obs;

static int rl_metric(void *self, sp_ctx *ctx, int64_t epoch, const char *split,
		     const char *name, double value)
{
	runlog_obs *r = self;
	return sp_runlog_metric(r->log, ctx, r->run_id, epoch, split, name, value);
}

static int rl_param(void *self, sp_ctx *ctx, const char *section,
		    const char *key, const char *value)
{
	runlog_obs *r = self;
	return sp_runlog_param(r->log, ctx, r->run_id, section, key, value);
}

static int rl_stage(void *self, sp_ctx *ctx, int idx, const char *section,
		    const char *plugin, const char *component,
		    const char *version, int abi)
{
	runlog_obs *r = self;
	return sp_runlog_stage(r->log, ctx, r->run_id, idx, section, plugin,
			       component, version, abi);
}

static int rl_event(void *self, sp_ctx *ctx, sp_level level, const char *msg)
{
	runlog_obs *r = self;
	return sp_runlog_event(r->log, ctx, r->run_id, level, msg);
}

/* A file by its absolute path (a log read from another folder still
 * finds it) and its checksum. */
static int rl_artifact(void *self, sp_ctx *ctx, const char *kind,
		       const char *path)
{
	runlog_obs *r = self;
	char crc[SP_MODELFILE_CHECKSUM_LEN + 1], abs_path[4096];
	int64_t bytes;
	int rc = sp_modelfile_checksum(crc, &bytes, ctx, path);
	if (rc < 0)
		return rc;
	sp_path_absolute(abs_path, sizeof(abs_path), path);
	return sp_runlog_artifact(r->log, ctx, r->run_id, kind, abs_path, bytes, crc);
}

static int rl_end(void *self, sp_ctx *ctx, sp_run_status status,
		  const char *error)
{
	runlog_obs *r = self;
	return sp_runlog_end(r->log, ctx, r->run_id, status, error);
}

static int rl_confusion(void *self, sp_ctx *ctx, int64_t epoch,
			const char *split, const char *gold, const char *pred,
			int64_t count)
{
	runlog_obs *r = self;
	return sp_runlog_confusion(r->log, ctx, r->run_id, epoch, split, gold,
				   pred, count);
}

static int rl_sample(void *self, sp_ctx *ctx, int64_t epoch, const char *split,
		     const char *input, const char *gold, const char *pred)
{
	runlog_obs *r = self;
	return sp_runlog_sample(r->log, ctx, r->run_id, epoch, split, input,
				gold, pred);
}

static void rl_close(void *self)
{
	runlog_obs *r = self;
	if (!r)
		return;
	sp_runlog_close(r->log);
	free(r);
}

static const sp_observer runlog_observer = {
	rl_metric, rl_param, rl_stage, rl_event, rl_artifact, rl_end, rl_close,
	rl_confusion, rl_sample};

int sp_observer_runlog_start(sp_observer_ref *out, int64_t *out_run_id,
			     sp_ctx *ctx, const char *db_path,
			     const char *name, const char *pipe_path,
			     const char *pipe_text, uint64_t seed)
{
	runlog_obs *r = calloc(1, sizeof(*r));
	int rc;
	*out_run_id = 0;
	if (!r)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	out->ops = &runlog_observer;
	out->self = r;
	if ((rc = sp_runlog_open(&r->log, ctx, db_path)) < 0)
		return rc;
	rc = sp_runlog_begin(&r->run_id, r->log, ctx, name, pipe_path, pipe_text,
			     NULL, seed, PACKAGE_VERSION);
	if (rc < 0)
		return rc;
	*out_run_id = r->run_id;
	return SP_OK;
}
