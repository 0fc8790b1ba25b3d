/*
 * sp_task.h: the task a pipeline trains, as its head declares it
 * (sp_head_task: the field its targets come from, its metrics and their
 * directions, the default best-epoch metric), with the host's defaults
 * for a head that declares nothing: the one table of per-target cases.
 *
 * Host-only (not installed).
 */
#ifndef SP_TASK_H
#define SP_TASK_H

#include "sp_ctx.h"
#include "sp_plugin.h"

typedef struct sp_task {
	sp_label_field labels;         /* where the targets come from */
	const sp_metric_decl *metrics; /* {NULL}-terminated (static) */
	const char *best;              /* default best-epoch metric */
} sp_task;

/* The task of head h (its declaration, checked, or the defaults of its
 * target kind); `where` names the head in an error. */
int sp_task_resolve(sp_task *out, sp_ctx *ctx, const sp_head_ops *h,
		    const char *where);
/* The declaration of metric `name` ("f1.PER" matches "f1.*"), or NULL. */
const sp_metric_decl *sp_task_metric(const sp_task *t, const char *name);
/* The declared metric names, ", "-separated, into out[n]. */
void sp_task_metric_names(const sp_task *t, char *out, size_t n);

/* Derived properties, all from the label field. */
/* one target per sequence (classifiers) */
static inline int sp_task_one_target(const sp_task *t)
{
	return t->labels == SP_LABELS_TEXT;
}
/* a language model: predicts its input shifted by one, so it must not
 * see the future, can train as one stream, and can generate */
static inline int sp_task_next_token(const sp_task *t)
{
	return t->labels == SP_LABELS_NEXT_TOKEN;
}

#endif /* SP_TASK_H */
