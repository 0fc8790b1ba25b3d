/*
 * cli_show.c: `pipeline show`, `compare` and `report`: one or more runs
 * read whole (cli_run) and laid out as tables or an HTML page.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli_report.h"
#include "cli_run.h"
#include "cli_table.h"
#include "cli_verbs.h"
#include "sp_modelfile.h"
#include "sp_runlog.h"
#include "sp_runlog_priv.h"

/* ---- show ---------------------------------------------------------------- */

/* A value logged once at the end and never per epoch (parameters,
 * steps): shown on one line under the table, not as a column. */
static int final_only_(const cli_run *r, const cli_series *s)
{
	for (size_t e = 0; e < r->n_epochs; e++)
		if (!isnan(s->v[e]))
			return 0;
	return !s->split;
}

/* The per-epoch metrics table of a run: one column per split/metric
 * (instruments left to the report), the best epoch of the key metric
 * marked, and a last row with the final evaluation. */
static cli_table *epoch_table_(const cli_run *r)
{
	const char *cols[1 + 64];
	const cli_series *ser[64];
	size_t n = 0, best = (size_t)-1;
	const cli_series *key = r->key_name ?
		cli_run_series(r, r->key_split, r->key_name) : NULL;
	cli_table *t;
	int any_final = 0;
	cols[0] = "epoch";
	for (size_t i = 0; i < r->n_s && n < 64; i++)
		if (!cli_metric_is_instrument(r->s[i].name) &&
		    !final_only_(r, &r->s[i])) {
			ser[n] = &r->s[i];
			cols[1 + n++] = r->s[i].key;
			any_final |= r->s[i].has_final;
		}
	if (!(t = cli_table_new(1 + n, cols)))
		return NULL;
	if (key) {
		int hi = cli_metric_higher_better(key->name);
		for (size_t e = 0; e < r->n_epochs; e++)
			if (!isnan(key->v[e]) &&
			    (best == (size_t)-1 ||
			     (hi ? key->v[e] > key->v[best] : key->v[e] < key->v[best])))
				best = e;
	}
	for (size_t e = 0; e < r->n_epochs; e++) {
		cli_table_row(t);
		cli_table_int(t, (long long)e + 1);
		for (size_t k = 0; k < n; k++)
			cli_table_num(t, ser[k]->v[e]);
		if (e == best)
			cli_table_mark(t);
	}
	if (any_final) {
		cli_table_row(t);
		cli_table_text(t, "final");
		for (size_t k = 0; k < n; k++)
			cli_table_num(t, ser[k]->final);
	}
	return t;
}

typedef struct artifact_ {
	char kind[32], path[4096], logged[16], now[16], state[16];
	long long bytes, bytes_now;
} artifact_;

/* The run's artifacts and whether each file still has the logged
 * checksum: ok, changed, missing (or unchecked when none was logged).
 * (size_t)-1 when out of memory. */
static size_t artifacts_(sp_runlog *log, int64_t id, artifact_ *out,
			 size_t max)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int code;
	if (sqlite3_prepare_v2(sp_runlog_db_(log), "SELECT kind, path, bytes, "
			       "checksum FROM artifacts WHERE run_id = ? ORDER "
			       "BY id", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		artifact_ *a = &out[n++];
		sp_ctx *tmp = NULL;
		int64_t bytes = -1;
		memset(a, 0, sizeof(*a));
		snprintf(a->kind, sizeof(a->kind), "%s", sqlite3_column_text(st, 0));
		snprintf(a->path, sizeof(a->path), "%s", sqlite3_column_text(st, 1));
		a->bytes = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
			   sqlite3_column_int64(st, 2);
		snprintf(a->logged, sizeof(a->logged), "%s",
			 sqlite3_column_text(st, 3) ?
				 (const char *)sqlite3_column_text(st, 3) : "");
		a->bytes_now = -1;
		if (access(a->path, F_OK) != 0) {
			snprintf(a->state, sizeof(a->state), "missing");
			continue;
		}
		if (sp_ctx_new(&tmp, 0) != SP_OK) {
			n = (size_t)-1;
			break;
		}
		code = sp_modelfile_checksum(a->now, &bytes, tmp, a->path);
		if (code == SP_ENOMEM) {
			sp_ctx_free(tmp);
			n = (size_t)-1;
			break;
		}
		if (code == SP_OK) {
			a->bytes_now = bytes;
			snprintf(a->state, sizeof(a->state), "%s",
				 !a->logged[0] ? "unchecked" :
				 !strcmp(a->now, a->logged) ? "ok" : "changed");
		} else {
			snprintf(a->state, sizeof(a->state), "unreadable");
		}
		sp_ctx_free(tmp);
	}
	sqlite3_finalize(st);
	return n;
}

static void show_json_(const cli_run *r, cli_table *t, const artifact_ *a,
		       size_t n_a)
{
	printf("{\"id\": %lld, \"pipeline\": ", (long long)r->id);
	cli_json_string(stdout, r->pipeline);
	printf(", \"status\": ");
	cli_json_string(stdout, r->died ? "died" : r->status);
	printf(", \"started\": ");
	cli_json_string(stdout, r->started);
	printf(", \"ended\": ");
	cli_json_string(stdout, r->ended);
	printf(", \"error\": ");
	cli_json_string(stdout, r->error);
	printf(", \"seed\": %llu, \"params\": {", (unsigned long long)r->seed);
	for (size_t i = 0; i < r->n_p; i++) {
		int new_section = !i || strcmp(r->p[i].section, r->p[i - 1].section);
		if (new_section) {
			if (i)
				printf("}, ");
			cli_json_string(stdout, r->p[i].section);
			printf(": {");
		} else {
			printf(", ");
		}
		cli_json_string(stdout, r->p[i].key);
		printf(": ");
		cli_json_string(stdout, r->p[i].value);
	}
	printf("%s}, \"tags\": {", r->n_p ? "}" : "");
	for (size_t i = 0; i < r->n_tags; i++) {
		printf("%s", i ? ", " : "");
		cli_json_string(stdout, r->tags[i].key);
		printf(": ");
		cli_json_string(stdout, r->tags[i].value);
	}
	printf("}, \"metrics\": ");
	cli_table_print(t, stdout, CLI_JSON, NULL);
	printf(", \"artifacts\": [");
	for (size_t i = 0; i < n_a; i++) {
		printf("%s{\"kind\": ", i ? ", " : "");
		cli_json_string(stdout, a[i].kind);
		printf(", \"path\": ");
		cli_json_string(stdout, a[i].path);
		printf(", \"bytes\": %lld, \"checksum\": ", a[i].bytes);
		cli_json_string(stdout, a[i].logged);
		printf(", \"state\": ");
		cli_json_string(stdout, a[i].state);
		printf("}");
	}
	printf("]}\n");
}

static void show_table_(const cli_run *r, cli_table *t, const artifact_ *a,
			size_t n_a)
{
	size_t n_instr = 0;
	printf("run %lld: %s, %s\n", (long long)r->id, r->pipeline, r->status);
	printf("  file %s (hash %s), seed %llu, seqpipe %s\n",
	       r->pipe_path ? r->pipe_path : "-", r->pipe_hash ? r->pipe_hash : "-",
	       (unsigned long long)r->seed, r->version ? r->version : "-");
	printf("  started %s, ended %s\n", r->started, r->ended ? r->ended : "-");
	if (r->error)
		printf("  error: %s\n", r->error);
	if (r->died)
		printf("  died: logged as running, but its process %lld on "
		       "this host is gone\n", (long long)r->pid);
	if (r->n_tags) {
		printf("  tags:");
		for (size_t i = 0; i < r->n_tags; i++)
			printf(" %s=%s", r->tags[i].key, r->tags[i].value);
		printf("\n");
	}
	printf("parameters:\n");
	for (size_t i = 0; i < r->n_p; i++) {
		if (!i || strcmp(r->p[i].section, r->p[i - 1].section))
			printf("  [%s]\n", r->p[i].section);
		printf("    %s = %s\n", r->p[i].key, r->p[i].value ? r->p[i].value : "");
	}
	printf("metrics%s:\n", r->key_name ? " (* = best epoch by the key metric)" : "");
	cli_table_print(t, stdout, CLI_TABLE, NULL);
	for (size_t i = 0, k = 0; i < r->n_s; i++) {
		char v[32];
		if (!final_only_(r, &r->s[i]) || cli_metric_is_instrument(r->s[i].name))
			continue;
		cli_num4(v, sizeof(v), r->s[i].final);
		printf("%s%s = %s", k++ ? ", " : "  totals: ", r->s[i].name, v);
	}
	printf("\n");
	for (size_t i = 0; i < r->n_s; i++)
		n_instr += cli_metric_is_instrument(r->s[i].name);
	if (n_instr)
		printf("  (and %zu instrument series, dh_norm.* and gate.*: "
		       "pipeline report %lld -o report.html draws them)\n",
		       n_instr, (long long)r->id);
	if (n_a)
		printf("artifacts:\n");
	for (size_t i = 0; i < n_a; i++) {
		printf("  %-10s %s  %lld bytes  checksum %s: %s\n", a[i].kind,
		       a[i].path, a[i].bytes, a[i].logged[0] ? a[i].logged : "-",
		       a[i].state);
	}
}

int cli_verb_show(sp_ctx *ctx, const cli_hopts *o)
{
	sp_runlog *log = NULL;
	cli_run *r = NULL;
	cli_table *t = NULL;
	artifact_ *a = NULL;
	size_t n_a = 0;
	int64_t id;
	int status;
	if (o->n_pos != 1)
		return cli_usage("show", "expected one run id%s", "");
	if ((status = cli_parse_id("show", o->pos[0], &id)))
		return status;
	if (cli_open_read(&log, ctx, o) || cli_need_run(log, ctx, id) ||
	    cli_run_load(&r, ctx, log, id)) {
		sp_runlog_close(log);
		return cli_fail(ctx);
	}
	t = epoch_table_(r);
	a = calloc(16, sizeof(*a));
	if (cli_table_failed(t) || !a ||
	    (n_a = artifacts_(log, id, a, 16)) == (size_t)-1) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		status = cli_fail(ctx);
		goto done;
	}
	if (o->format == CLI_CSV)
		cli_table_print(t, stdout, CLI_CSV, NULL);
	else if (o->format == CLI_JSON)
		show_json_(r, t, a, n_a);
	else
		show_table_(r, t, a, n_a);
	status = 0;
done:
	free(a);
	cli_table_free(t);
	cli_run_free(r);
	sp_runlog_close(log);
	return status;
}

/* ---- compare --------------------------------------------------------------- */

/* Adds one row to the tidy table of compare's csv and json output. */
static void tidy_(cli_table *t, const char *what, const char *name,
		  long long epoch, int64_t run, const char *text, double v)
{
	cli_table_row(t);
	cli_table_text(t, what);
	cli_table_text(t, name);
	if (epoch > 0)
		cli_table_int(t, epoch);
	else
		cli_table_text(t, NULL);
	cli_table_int(t, (long long)run);
	if (text)
		cli_table_text(t, text);
	else
		cli_table_num(t, v);
}

/* What compare works with: the runs, the curves to align and the four
 * tables (three to read, one tidy for csv and json). */
typedef struct compare_ {
	cli_run *r[MAX_ARGS];
	size_t n, n_curves, max_epochs;
	const char *curve_keys[MAX_ARGS];
	char keybuf[160];
	cli_table *params, *finals, *curves, *tidy;
	char idname[MAX_ARGS][24], cname[2 * MAX_ARGS][160];
} compare_;

/* "dev.f1" -> split "dev" (into split[16]) and the name after the dot;
 * "lr" -> no split (NULL) and "lr". */
static const char *split_key_(const char *key, char split[16],
			      const char **name)
{
	const char *dot = strchr(key, '.');
	split[0] = '\0';
	if (dot && (size_t)(dot - key) < 16)
		snprintf(split, 16, "%.*s", (int)(dot - key), key);
	*name = dot ? dot + 1 : key;
	return dot ? split : NULL;
}

/* The curves: each --metric, else train.loss and the first run's key
 * metric; one that no run has is an error listing what exists. */
static int compare_keys_(compare_ *c, sp_runlog *log, sp_ctx *ctx,
			 const cli_hopts *o)
{
	cli_run *r0 = c->r[0];
	for (size_t k = 0; k < o->n_tags; k++)
		c->curve_keys[c->n_curves++] = o->tags[k];
	if (!c->n_curves) {
		c->curve_keys[c->n_curves++] = "train.loss";
		if (r0->key_name && (!r0->key_split || strcmp(r0->key_split, "train") ||
				     strcmp(r0->key_name, "loss"))) {
			snprintf(c->keybuf, sizeof(c->keybuf), "%s.%s",
				 r0->key_split ? r0->key_split : "", r0->key_name);
			c->curve_keys[c->n_curves++] = c->keybuf;
		}
	}
	for (size_t k = 0; k < c->n_curves; k++) {
		char buf[16];
		const char *name, *split = split_key_(c->curve_keys[k], buf, &name);
		int found = 0;
		for (size_t i = 0; i < c->n; i++)
			found |= cli_run_series(c->r[i], split, name) != NULL;
		if (!found) {
			cli_need_metric(log, ctx, split, name, c->curve_keys[k]);
			return SP_ENOTFOUND;
		}
	}
	return SP_OK;
}

static int compare_tables_(compare_ *c, sp_ctx *ctx)
{
	static const char *const tidy_cols[] = {"kind", "name", "epoch", "run",
						"value"};
	const char *cols[MAX_ARGS + 1], *ccols[2 * MAX_ARGS + 1];
	size_t n = c->n;
	for (size_t i = 0; i < n; i++) {
		snprintf(c->idname[i], sizeof(c->idname[i]), "run %lld",
			 (long long)c->r[i]->id);
		cols[1 + i] = c->idname[i];
	}
	cols[0] = "parameter";
	c->params = cli_table_new(n + 1, cols);
	cols[0] = "final metric";
	c->finals = cli_table_new(n + 1, cols);
	c->tidy = cli_table_new(5, tidy_cols);
	ccols[0] = "epoch";
	for (size_t k = 0; k < c->n_curves; k++)
		for (size_t i = 0; i < n; i++) {
			snprintf(c->cname[k * n + i], sizeof(c->cname[0]), "%lld %s",
				 (long long)c->r[i]->id, c->curve_keys[k]);
			ccols[1 + k * n + i] = c->cname[k * n + i];
		}
	c->curves = cli_table_new(1 + c->n_curves * n, ccols);
	if (!c->params || !c->finals || !c->curves || !c->tidy)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	return SP_OK;
}

/* Parameters that differ, over the union of all runs' keys. */
static void compare_params_(compare_ *c)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->r[i]->n_p; j++) {
			const cli_param *p = &c->r[i]->p[j];
			char name[256];
			int differ = 0, seen = 0;
			for (size_t q = 0; q < i; q++)
				seen |= cli_run_param(c->r[q], p->section, p->key) != NULL;
			for (size_t q = 0; !seen && q < c->n; q++) {
				const char *v = cli_run_param(c->r[q], p->section, p->key);
				differ |= !v || !p->value || strcmp(v, p->value);
			}
			if (seen || !differ)
				continue;
			snprintf(name, sizeof(name), "%s.%s", p->section, p->key);
			cli_table_row(c->params);
			cli_table_text(c->params, name);
			for (size_t q = 0; q < c->n; q++) {
				const char *v = cli_run_param(c->r[q], p->section, p->key);
				cli_table_text(c->params, v);
				tidy_(c->tidy, "param", name, 0, c->r[q]->id, v ? v : "", 0);
			}
		}
}

/* Final metrics (final evaluation, else last epoch), instruments aside. */
static void compare_finals_(compare_ *c)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->r[i]->n_s; j++) {
			const cli_series *s = &c->r[i]->s[j];
			int seen = 0;
			if (cli_metric_is_instrument(s->name))
				continue;
			for (size_t q = 0; q < i; q++)
				seen |= cli_run_series(c->r[q], s->split, s->name) != NULL;
			if (seen)
				continue;
			cli_table_row(c->finals);
			cli_table_text(c->finals, s->key);
			for (size_t q = 0; q < c->n; q++) {
				double v = cli_series_last(
					cli_run_series(c->r[q], s->split, s->name),
					c->r[q]->n_epochs);
				cli_table_num(c->finals, v);
				tidy_(c->tidy, "final", s->key, 0, c->r[q]->id, NULL, v);
			}
		}
}

/* The curves aligned by epoch. */
static void compare_curves_(compare_ *c)
{
	for (size_t e = 0; e < c->max_epochs; e++) {
		cli_table_row(c->curves);
		cli_table_int(c->curves, (long long)e + 1);
		for (size_t k = 0; k < c->n_curves; k++) {
			char buf[16];
			const char *name, *split = split_key_(c->curve_keys[k], buf,
							      &name);
			for (size_t i = 0; i < c->n; i++) {
				const cli_series *s = cli_run_series(c->r[i], split, name);
				double v = s && e < c->r[i]->n_epochs ? s->v[e] : NAN;
				cli_table_num(c->curves, v);
				if (s && !isnan(v))
					tidy_(c->tidy, "epoch", c->curve_keys[k],
					      (long long)e + 1, c->r[i]->id, NULL, v);
			}
		}
	}
}

static int compare_print_(const compare_ *c, sp_ctx *ctx, cli_format format)
{
	if (cli_table_failed(c->params) || cli_table_failed(c->finals) ||
	    cli_table_failed(c->curves) || cli_table_failed(c->tidy))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	if (format != CLI_TABLE) {
		cli_table_print(c->tidy, stdout, format, NULL);
		if (format == CLI_JSON)
			printf("\n");
		return SP_OK;
	}
	if (cli_table_rows(c->params))
		cli_table_print(c->params, stdout, CLI_TABLE,
				"parameters that differ:");
	else
		printf("parameters: all the same\n");
	printf("\n");
	cli_table_print(c->finals, stdout, CLI_TABLE, "final metrics:");
	printf("\n");
	cli_table_print(c->curves, stdout, CLI_TABLE, "per epoch:");
	return SP_OK;
}

int cli_verb_compare(sp_ctx *ctx, const cli_hopts *o)
{
	sp_runlog *log = NULL;
	compare_ *c;
	int code = SP_OK, status;

	if (o->n_pos < 2)
		return cli_usage("compare", "expected two or more run ids%s", "");
	for (size_t i = 0; i < o->n_pos; i++) {
		int64_t id;
		if ((status = cli_parse_id("compare", o->pos[i], &id)))
			return status;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		return cli_fail(ctx);
	}
	c->n = o->n_pos;
	if (cli_open_read(&log, ctx, o))
		code = SP_EIO;
	for (size_t i = 0; code == SP_OK && i < c->n; i++) {
		int64_t id = strtoll(o->pos[i], NULL, 10);
		if (cli_need_run(log, ctx, id) || cli_run_load(&c->r[i], ctx, log, id))
			code = SP_ENOTFOUND;
		else if (c->r[i]->n_epochs > c->max_epochs)
			c->max_epochs = c->r[i]->n_epochs;
	}
	if (code == SP_OK)
		code = compare_keys_(c, log, ctx, o);
	if (code == SP_OK)
		code = compare_tables_(c, ctx);
	if (code == SP_OK) {
		compare_params_(c);
		compare_finals_(c);
		compare_curves_(c);
		code = compare_print_(c, ctx, o->format);
	}
	for (size_t i = 0; i < c->n; i++)
		cli_run_free(c->r[i]);
	cli_table_free(c->params);
	cli_table_free(c->finals);
	cli_table_free(c->curves);
	cli_table_free(c->tidy);
	free(c);
	sp_runlog_close(log);
	return code == SP_OK ? 0 : cli_fail(ctx);
}

/* ---- report ---------------------------------------------------------------- */

int cli_verb_report(sp_ctx *ctx, const cli_hopts *o)
{
	sp_runlog *log = NULL;
	cli_run *r[MAX_ARGS] = {NULL};
	size_t n = o->n_pos;
	int status = EXIT_FAILURE;
	if (!n)
		return cli_usage("report", "expected one or more run ids%s", "");
	if (!o->out)
		return cli_usage("report", "-o FILE.html is required%s", "");
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		if ((status = cli_parse_id("report", o->pos[i], &id)))
			return status;
	}
	status = EXIT_FAILURE;
	if (cli_open_read(&log, ctx, o))
		goto done;
	for (size_t i = 0; i < n; i++) {
		int64_t id = strtoll(o->pos[i], NULL, 10);
		if (cli_need_run(log, ctx, id) || cli_run_load(&r[i], ctx, log, id))
			goto done;
	}
	if (cli_report_write(ctx, (const cli_run *const *)r, n, o->out))
		goto done;
	printf("report of %zu run%s written to %s\n", n, n > 1 ? "s" : "", o->out);
	status = 0;
done:
	if (status)
		cli_fail(ctx);
	for (size_t i = 0; i < n; i++)
		cli_run_free(r[i]);
	sp_runlog_close(log);
	return status;
}

