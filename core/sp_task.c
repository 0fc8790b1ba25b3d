/*
 * sp_task.c: reading and checking a head's task declaration; the
 * defaults for heads that declare none.
 */
#include "config.h"

#include "sp_task.h"

#include <stdio.h>
#include <string.h>

/* The defaults of a head without a task table: what the shipped heads
 * emitted before heads declared their metrics. */
static const sp_metric_decl next_token_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"perplexity", 0, "exp(loss)"},
	{"accuracy", 1, "top-1 accuracy"},
	{NULL, 0, NULL}};
static const sp_metric_decl tags_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"accuracy", 1, "top-1 accuracy per token"},
	{"precision", 1, "entity precision"},
	{"recall", 1, "entity recall"},
	{"f1", 1, "entity F1"},
	{"f1.*", 1, "entity F1 of one type"},
	{NULL, 0, NULL}};
static const sp_metric_decl class_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"accuracy", 1, "top-1 accuracy"},
	{"macro_f1", 1, "mean F1 over the classes"},
	{"f1.*", 1, "F1 of one class"},
	{NULL, 0, NULL}};

static const struct {
	sp_target target;
	sp_head_task task;
} defaults[] = {
	{SP_TARGET_NEXT_TOKEN, {sizeof(sp_head_task), SP_LABELS_NEXT_TOKEN, next_token_metrics, "loss"}},
	{SP_TARGET_TAGS, {sizeof(sp_head_task), SP_LABELS_TOKEN, tags_metrics, "f1"}},
	{SP_TARGET_CLASS, {sizeof(sp_head_task), SP_LABELS_TEXT, class_metrics, "accuracy"}},
	{SP_TARGET_SEQUENCE, {sizeof(sp_head_task), SP_LABELS_SEQUENCE, next_token_metrics, "loss"}},
};

static int name_matches(const char *decl, const char *name)
{
	size_t n = strlen(decl);
	if (n >= 2 && !strcmp(decl + n - 2, ".*"))
		return !strncmp(decl, name, n - 1) && name[n - 1] != '\0';
	return !strcmp(decl, name);
}

const sp_metric_decl *sp_task_metric(const sp_task *t, const char *name)
{
	for (const sp_metric_decl *m = t->metrics; m && m->name; m++)
		if (name_matches(m->name, name))
			return m;
	return NULL;
}

void sp_task_metric_names(const sp_task *t, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (const sp_metric_decl *m = t->metrics; m && m->name && used < n; m++) {
		int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", m->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* A declaration must name a known field, at least one metric, each once
 * with a direction, and a best metric among them. */
static int check_decl(sp_ctx *ctx, const sp_head_task *d, const char *name,
		      const char *where)
{
	const sp_metric_decl *m;
	sp_task t = {d->labels, d->metrics, d->best};
	if (d->size < sizeof(sp_head_task))
		return sp_err(ctx, SP_EABI, "%s: head '%s' declares a task table of %zu bytes, expected %zu",
			      where, name, d->size, sizeof(sp_head_task));
	if (d->labels < SP_LABELS_NEXT_TOKEN || d->labels > SP_LABELS_SEQUENCE)
		return sp_err(ctx, SP_EINVAL, "%s: head '%s' declares label field %d, expected 1..4",
			      where, name, (int)d->labels);
	if (!d->metrics || !d->metrics[0].name)
		return sp_err(ctx, SP_EINVAL, "%s: head '%s' declares no metrics, expected at least one",
			      where, name);
	for (m = d->metrics; m->name; m++) {
		if (m->higher_is_better != 0 && m->higher_is_better != 1)
			return sp_err(ctx, SP_EINVAL, "%s: head '%s' declares metric '%s' with direction %d, expected 1 (higher is better) or 0 (lower)",
				      where, name, m->name, m->higher_is_better);
		for (const sp_metric_decl *k = d->metrics; k < m; k++)
			if (!strcmp(k->name, m->name))
				return sp_err(ctx, SP_EINVAL, "%s: head '%s' declares metric '%s' twice, expected each once",
					      where, name, m->name);
	}
	if (!d->best || !sp_task_metric(&t, d->best))
		return sp_err(ctx, SP_EINVAL, "%s: head '%s' picks the best epoch by '%s', which it does not declare",
			      where, name, d->best ? d->best : "(none)");
	return SP_OK;
}

int sp_task_resolve(sp_task *out, sp_ctx *ctx, const sp_head_ops *h,
		    const char *where)
{
	const sp_head_task *d = NULL;
	int rc;
	if (SP_HAS_OP(sp_head_ops, h, task)) {
		d = h->task;
		if ((rc = check_decl(ctx, d, h->base.name, where)) < 0)
			return rc;
	} else {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			if (defaults[i].target == h->target)
				d = &defaults[i].task;
		if (!d)
			return sp_err(ctx, SP_EINVAL, "%s: head '%s' has target kind %d and no task table, expected one",
				      where, h->base.name, (int)h->target);
	}
	out->labels = d->labels;
	out->metrics = d->metrics;
	out->best = d->best;
	return SP_OK;
}
