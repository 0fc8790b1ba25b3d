/*
 * sp_observer.h: where a run's record goes.  The training loop, the
 * evaluation and the model writer report what happens (metrics, events,
 * files written, the resolved configuration) to an observer and never
 * to a store themselves; the one observer shipped writes the run log
 * (sp_runlog).  An observer without ops (zeroed) drops everything, which
 * is what `pipeline eval`, `predict` and `trace` use.
 *
 * Host-only (not installed).
 */
#ifndef SP_OBSERVER_H
#define SP_OBSERVER_H

#include <stdint.h>

#include "sp_ctx.h"
#include "sp_runlog.h"

typedef struct sp_observer_ops {
	/* epoch < 0: a final value; split NULL: a value of no split */
	int (*metric)(void *self, sp_ctx *ctx, int64_t epoch, const char *split,
		      const char *name, double value);
	/* one resolved key of the configuration */
	int (*param)(void *self, sp_ctx *ctx, const char *section,
		     const char *key, const char *value);
	/* stage idx of the pipeline and the plugin that implements it */
	int (*stage)(void *self, sp_ctx *ctx, int idx, const char *section,
		     const char *plugin, const char *component,
		     const char *version, int abi);
	int (*event)(void *self, sp_ctx *ctx, sp_level level, const char *msg);
	/* a file the run wrote (kind "model", "checkpoint") */
	int (*artifact)(void *self, sp_ctx *ctx, const char *kind,
			const char *path);
	/* the run is over: finished, failed or interrupted */
	int (*end)(void *self, sp_ctx *ctx, sp_run_status status,
		   const char *error);
	void (*close)(void *self);
	/* --- optional (NULL drops them) --- */
	/* a confusion-matrix cell of an evaluation: gold predicted as pred */
	int (*confusion)(void *self, sp_ctx *ctx, int64_t epoch,
			 const char *split, const char *gold, const char *pred,
			 int64_t count);
	/* a sample prediction: input tokens, gold and predicted labels */
	int (*sample)(void *self, sp_ctx *ctx, int64_t epoch, const char *split,
		      const char *input, const char *gold, const char *pred);
} sp_observer;

/* An observer: its ops (NULL = drop everything) and their state. */
typedef struct sp_observer_ref {
	const sp_observer *ops;
	void *self;
} sp_observer_ref;

/* Each returns the observer's code, or 0 when there is no observer. */
int sp_observe_metric(const sp_observer_ref *o, sp_ctx *ctx, int64_t epoch,
		      const char *split, const char *name, double value);
int sp_observe_param(const sp_observer_ref *o, sp_ctx *ctx, const char *section,
		     const char *key, const char *value);
int sp_observe_stage(const sp_observer_ref *o, sp_ctx *ctx, int idx,
		     const char *section, const char *plugin,
		     const char *component, const char *version, int abi);
int sp_observe_event(const sp_observer_ref *o, sp_ctx *ctx, sp_level level,
		     const char *msg);
int sp_observe_artifact(const sp_observer_ref *o, sp_ctx *ctx,
			const char *kind, const char *path);
int sp_observe_end(const sp_observer_ref *o, sp_ctx *ctx,
		   sp_run_status status, const char *error);
int sp_observe_confusion(const sp_observer_ref *o, sp_ctx *ctx, int64_t epoch,
			 const char *split, const char *gold, const char *pred,
			 int64_t count);
int sp_observe_sample(const sp_observer_ref *o, sp_ctx *ctx, int64_t epoch,
		      const char *split, const char *input, const char *gold,
		      const char *pred);
/* Whether o records anything. */
int sp_observe_active(const sp_observer_ref *o);
/* Closes o (accepts an empty one) and empties it. */
void sp_observer_close(sp_observer_ref *o);

/*
 * The run-log observer: opens the run log at db_path and starts a run of
 * pipeline `name` in it (*out_run_id > 0 once it is started).  On failure
 * *out holds whatever was opened; sp_observer_close frees it.
 */
int sp_observer_runlog_start(sp_observer_ref *out, int64_t *out_run_id,
			     sp_ctx *ctx, const char *db_path,
			     const char *name, const char *pipe_path,
			     const char *pipe_text, uint64_t seed);

#endif /* SP_OBSERVER_H */
