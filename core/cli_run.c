/*
 * cli_run.c: see cli_run.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_run.h"

#include <sqlite3.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_runlog_priv.h"

typedef struct loader_ {
	cli_run *r;
	sp_ctx *ctx;
	size_t cap_s, cap_p, cap_t;
} loader_;

/* strdup of an optional string; *oom set when it fails. */
static char *dup_(const char *s, int *oom)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = 1;
	return d;
}

static int oom_(sp_ctx *ctx)
{
	return sp_err(ctx, SP_ENOMEM, "out of memory");
}

static int on_info_(void *payload, const sp_run_info *i)
{
	loader_ *l = payload;
	cli_run *r = l->r;
	char me[256];
	int oom = 0;
	r->id = i->id;
	r->seed = i->seed;
	r->pid = i->pid;
	r->pipeline = dup_(i->pipeline, &oom);
	r->status = dup_(sp_run_status_name(i->status), &oom);
	r->started = dup_(i->started, &oom);
	r->ended = dup_(i->ended, &oom);
	r->error = dup_(i->error, &oom);
	r->pipe_path = dup_(i->pipe_path, &oom);
	r->pipe_hash = dup_(i->pipe_hash, &oom);
	r->version = dup_(i->seqpipe_version, &oom);
	r->host = dup_(i->host, &oom);
	if (i->has_key) {
		r->key_split = dup_(i->key_split, &oom);
		r->key_name = dup_(i->key_name, &oom);
	}
	if (i->status == SP_RUN_RUNNING && i->pid > 0 && i->host &&
	    gethostname(me, sizeof(me)) == 0) {
		me[sizeof(me) - 1] = '\0';
		r->died = !strcmp(me, i->host) && kill((pid_t)i->pid, 0) != 0 &&
			  errno == ESRCH;
	}
	return r->pipeline && r->status && !oom ? SP_OK : oom_(l->ctx);
}

static int on_param_(void *payload, const char *section, const char *key,
		     const char *value)
{
	loader_ *l = payload;
	cli_run *r = l->r;
	if (r->n_p == l->cap_p) {
		size_t cap = l->cap_p ? 2 * l->cap_p : 32;
		cli_param *p = realloc(r->p, cap * sizeof(*p));
		if (!p)
			return oom_(l->ctx);
		r->p = p;
		l->cap_p = cap;
	}
	int oom = 0;
	r->p[r->n_p] = (cli_param){dup_(section, &oom), dup_(key, &oom),
				   dup_(value, &oom)};
	r->n_p++;
	return oom ? oom_(l->ctx) : SP_OK;
}

static int on_tag_(void *payload, const char *key, const char *value)
{
	loader_ *l = payload;
	cli_run *r = l->r;
	if (r->n_tags == l->cap_t) {
		size_t cap = l->cap_t ? 2 * l->cap_t : 8;
		cli_param *p = realloc(r->tags, cap * sizeof(*p));
		if (!p)
			return oom_(l->ctx);
		r->tags = p;
		l->cap_t = cap;
	}
	int oom = 0;
	r->tags[r->n_tags++] = (cli_param){NULL, dup_(key, &oom),
					   dup_(value, &oom)};
	return oom ? oom_(l->ctx) : SP_OK;
}

static int same_(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* First pass: count the epochs. */
static int on_epoch_(void *payload, const sp_runlog_metric_row *m)
{
	cli_run *r = payload;
	if (m->epoch >= 0 && (size_t)m->epoch + 1 > r->n_epochs)
		r->n_epochs = (size_t)m->epoch + 1;
	return SP_OK;
}

static int on_metric_(void *payload, const sp_runlog_metric_row *m)
{
	loader_ *l = payload;
	cli_run *r = l->r;
	cli_series *s = NULL;
	int oom = 0;
	for (size_t i = 0; i < r->n_s; i++)
		if (same_(r->s[i].split, m->split) && !strcmp(r->s[i].name, m->name))
			s = &r->s[i];
	if (!s) {
		size_t klen;
		if (r->n_s == l->cap_s) {
			size_t cap = l->cap_s ? 2 * l->cap_s : 32;
			cli_series *p = realloc(r->s, cap * sizeof(*p));
			if (!p)
				return oom_(l->ctx);
			r->s = p;
			l->cap_s = cap;
		}
		s = &r->s[r->n_s++];
		memset(s, 0, sizeof(*s));
		s->final = NAN;
		s->split = dup_(m->split, &oom);
		s->name = dup_(m->name, &oom);
		klen = strlen(m->name) + (m->split ? strlen(m->split) + 2 : 1);
		s->key = malloc(klen);
		s->v = malloc((r->n_epochs ? r->n_epochs : 1) * sizeof(double));
		if (oom || !s->name || !s->key || !s->v)
			return oom_(l->ctx);
		snprintf(s->key, klen, "%s%s%s", m->split ? m->split : "",
			 m->split ? "." : "", m->name);
		for (size_t e = 0; e < r->n_epochs; e++)
			s->v[e] = NAN;
	}
	if (m->epoch < 0) {
		s->final = m->value;
		s->has_final = 1;
	} else if ((size_t)m->epoch < r->n_epochs) {
		s->v[m->epoch] = m->value;
	}
	return SP_OK;
}

int cli_run_load(cli_run **out, sp_ctx *ctx, sp_runlog *log, int64_t id)
{
	loader_ l;
	int code, begun;
	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.ctx = ctx;
	if (!(l.r = calloc(1, sizeof(*l.r))))
		return oom_(ctx);
	/* one snapshot for all the reads, while a run may be writing */
	begun = sqlite3_exec(sp_runlog_db_(log), "BEGIN", NULL, NULL, NULL) ==
		SQLITE_OK;
	code = sp_runlog_get(log, ctx, id, on_info_, &l);
	if (code == SP_OK)
		code = sp_runlog_params(log, ctx, id, on_param_, &l);
	if (code == SP_OK)
		code = sp_runlog_tags(log, ctx, id, on_tag_, &l);
	if (code == SP_OK)
		code = sp_runlog_metrics(log, ctx, id, on_epoch_, l.r);
	if (code == SP_OK)
		code = sp_runlog_metrics(log, ctx, id, on_metric_, &l);
	if (code == SP_OK)
		code = cli_run_load_eval(l.r, ctx, log);
	if (begun)
		sqlite3_exec(sp_runlog_db_(log), "COMMIT", NULL, NULL, NULL);
	if (code != SP_OK) {
		cli_run_free(l.r);
		return code;
	}
	*out = l.r;
	return SP_OK;
}

void cli_run_free(cli_run *r)
{
	if (!r)
		return;
	free(r->pipeline);
	free(r->status);
	free(r->started);
	free(r->ended);
	free(r->error);
	free(r->pipe_path);
	free(r->pipe_hash);
	free(r->version);
	free(r->host);
	free(r->key_split);
	free(r->key_name);
	for (size_t i = 0; i < r->n_s; i++) {
		free(r->s[i].split);
		free(r->s[i].name);
		free(r->s[i].key);
		free(r->s[i].v);
	}
	for (size_t i = 0; i < r->n_p; i++) {
		free(r->p[i].section);
		free(r->p[i].key);
		free(r->p[i].value);
	}
	for (size_t i = 0; i < r->n_tags; i++) {
		free(r->tags[i].key);
		free(r->tags[i].value);
	}
	free(r->s);
	free(r->p);
	free(r->tags);
	cli_run_free_eval(r);
	free(r);
}

const cli_series *cli_run_series(const cli_run *r, const char *split,
				 const char *name)
{
	for (size_t i = 0; r && i < r->n_s; i++)
		if (same_(r->s[i].split, split) && !strcmp(r->s[i].name, name))
			return &r->s[i];
	return NULL;
}

const char *cli_run_param(const cli_run *r, const char *section,
			  const char *key)
{
	for (size_t i = 0; r && i < r->n_p; i++)
		if (!strcmp(r->p[i].section, section) && !strcmp(r->p[i].key, key))
			return r->p[i].value;
	return NULL;
}

double cli_series_last(const cli_series *s, size_t n_epochs)
{
	if (!s)
		return NAN;
	if (s->has_final)
		return s->final;
	for (size_t e = n_epochs; e-- > 0;)
		if (!isnan(s->v[e]))
			return s->v[e];
	return NAN;
}

int cli_metric_higher_better(const char *name)
{
	return strcmp(name, "loss") && strcmp(name, "perplexity") &&
	       !strstr(name, "loss");
}

int cli_metric_is_instrument(const char *name)
{
	return !strncmp(name, "dh_norm.", 8) || !strncmp(name, "gate.", 5);
}
