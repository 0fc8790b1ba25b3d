/*
 * cli_history.c: `pipeline runs`, `show`, `compare`, `best`, `tag`,
 * `delete` and `report`: the run log as people query it (doc/schema.md).
 *
 * Reading verbs open the log read-only (sp_runlog_open_readonly), so they
 * work on a log in a folder the user cannot write and never migrate or
 * create one.  Every filter built from user text goes through sp_where
 * (bound parameters); every listing prints through cli_table, so each
 * has --format table|csv|json.  Unknown runs, metrics, parameters,
 * pipelines and statuses are errors that list what exists.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_history.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli_report.h"
#include "cli_run.h"
#include "cli_table.h"
#include "sp_modelfile.h"
#include "sp_runlog.h"
#include "sp_runlog_priv.h"
#include "sp_where.h"

#define EXIT_USAGE 2
#define MAX_ARGS 64

typedef struct hopts_ {
	const char *db, *where, *order, *status, *pipeline, *metric, *split,
		*out;
	const char *tags[MAX_ARGS];
	size_t n_tags;
	const char *removes[MAX_ARGS];
	size_t n_removes;
	const char *pos[MAX_ARGS];
	size_t n_pos;
	long limit;          /* -1 = the verb's default */
	cli_format format;
	int yes, files, minimize, maximize;
} hopts_;

static const char *const verbs_[][2] = {
	{"runs", "usage: pipeline runs [--where EXPR] [--status S] [--pipeline NAME] [--tag KEY[=VALUE]]\n"
		 "                     [--order-by NAME [asc|desc]] [--limit N] [--format table|csv|json]\n"
		 "Lists logged runs, newest first (100 unless --limit; 0 = all): id, pipeline, status,\n"
		 "start, key metric, tags, and every metric or parameter the filter names.\n"
		 "  --where \"metrics.dev.f1 > 0.2 and params.model.plugin = 'lstm'\"\n"
		 "     names: metrics.SPLIT.NAME (final value, else last epoch), metrics.NAME,\n"
		 "     params.SECTION.KEY, tags.KEY, id, pipeline, status, started, ended, seed, host\n"
		 "     operators: = != < <= > >= like, not like; and, or, not, ( )\n"},
	{"show", "usage: pipeline show RUN [--format table|csv|json]\n"
		 "A run: status, parameters by section, metrics per epoch (one column per split and\n"
		 "metric, the best epoch marked *), final metrics, tags, artifacts and whether their\n"
		 "checksums still match.  csv gives the metrics table.\n"},
	{"compare", "usage: pipeline compare RUN RUN... [--metric SPLIT.NAME]... [--format table|csv|json]\n"
		    "Parameters that differ, final metrics side by side, and per-epoch curves aligned by\n"
		    "epoch (train.loss and the first run's key metric, or each --metric).\n"},
	{"best", "usage: pipeline best --metric [SPLIT.]NAME [--pipeline NAME] [--min|--max] [--format F]\n"
		 "The finished run with the best final value (else last epoch) of a metric; SPLIT\n"
		 "defaults to dev; loss and perplexity are minimised, others maximised.\n"},
	{"tag", "usage: pipeline tag RUN KEY=VALUE... [--remove KEY]...\n"
		"Sets (or removes) user labels on a run; pipeline runs --tag KEY=VALUE filters on them.\n"},
	{"delete", "usage: pipeline delete RUN... [--yes] [--files]\n"
		   "Deletes runs and all their rows from the log after asking (on a terminal) or with\n"
		   "--yes.  --files also removes the model and checkpoint files they wrote, unless\n"
		   "another run still names them.\n"},
	{"report", "usage: pipeline report RUN [RUN...] -o FILE.html\n"
		   "One self-contained HTML page (inline SVG, no scripts, no network): learning curves,\n"
		   "confusion matrix and per-type scores when logged, gradient norm per time step and\n"
		   "gate saturation from train.instruments, runs side by side.\n"},
};

int cli_history_handles(const char *cmd)
{
	for (size_t i = 0; i < sizeof(verbs_) / sizeof(verbs_[0]); i++)
		if (!strcmp(cmd, verbs_[i][0]))
			return 1;
	return 0;
}

static const char *help_(const char *cmd)
{
	for (size_t i = 0; i < sizeof(verbs_) / sizeof(verbs_[0]); i++)
		if (!strcmp(cmd, verbs_[i][0]))
			return verbs_[i][1];
	return "";
}

static int fail_(sp_ctx *ctx)
{
	fprintf(stderr, "pipeline: error: %s\n", sp_errmsg(ctx));
	return EXIT_FAILURE;
}

static int usage_(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "pipeline %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", help_(cmd));
	return EXIT_USAGE;
}

/* Parses the verb's arguments; returns 0, 1 for --help, or EXIT_USAGE. */
static int parse_(hopts_ *o, const char *cmd, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "--yes") || !strcmp(a, "-y")) {
			o->yes = 1;
			continue;
		}
		if (!strcmp(a, "--files")) {
			o->files = 1;
			continue;
		}
		if (!strcmp(a, "--min") || !strcmp(a, "--max")) {
			*(a[4] == 'i' ? &o->minimize : &o->maximize) = 1;
			continue;
		}
		if (!strcmp(a, "--db")) slot = &o->db;
		else if (!strcmp(a, "--where")) slot = &o->where;
		else if (!strcmp(a, "--order-by")) slot = &o->order;
		else if (!strcmp(a, "--status")) slot = &o->status;
		else if (!strcmp(a, "--pipeline")) slot = &o->pipeline;
		else if (!strcmp(a, "--split")) slot = &o->split;
		else if (!strcmp(a, "-o") || !strcmp(a, "--output")) slot = &o->out;
		else if (!strcmp(a, "--metric") || !strcmp(a, "--tag") ||
			 !strcmp(a, "--remove") || !strcmp(a, "--limit") ||
			 !strcmp(a, "--format")) slot = &v; /* below */
		else if (a[0] == '-' && a[1] && strcmp(a, "-"))
			return usage_(cmd, "unknown option '%s'", a);
		else {
			if (o->n_pos == MAX_ARGS)
				return usage_(cmd, "too many arguments (%s)", a);
			o->pos[o->n_pos++] = a;
			continue;
		}
		if (!v)
			return usage_(cmd, "%s expects a value", a);
		i++;
		if (slot != &v) {
			*slot = v;
		} else if (!strcmp(a, "--metric")) {
			/* compare takes several; the others use the first */
			if (!o->metric)
				o->metric = v;
			if (o->n_tags < MAX_ARGS && !strcmp(cmd, "compare"))
				o->tags[o->n_tags++] = v;
		} else if (!strcmp(a, "--tag") || !strcmp(a, "--remove")) {
			const char **list = a[2] == 't' ? o->tags : o->removes;
			size_t *n = a[2] == 't' ? &o->n_tags : &o->n_removes;
			if (*n == MAX_ARGS)
				return usage_(cmd, "too many %s", a);
			list[(*n)++] = v;
		} else if (!strcmp(a, "--limit")) {
			char *end;
			errno = 0;
			o->limit = strtol(v, &end, 10);
			if (errno || *end || end == v || o->limit < 0)
				return usage_(cmd, "--limit expects an integer >= 0 "
					      "(0 = all), got '%s'", v);
		} else if (cli_format_parse(v, &o->format) != 0) {
			return usage_(cmd, "--format expects table, csv or json, "
				      "got '%s'", v);
		}
	}
	return 0;
}

/* ---- looking things up, with errors that list what exists -------------- */

/* Appends the first column of every row of sql (one bound text, may be
 * NULL) to buf as "a, b, c", at most max items ("..." after). */
static void list_(sqlite3 *db, const char *sql, const char *bind, char *buf,
		  size_t n, int max)
{
	sqlite3_stmt *st = NULL;
	size_t k = 0;
	int i = 0;
	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	if (bind)
		sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && k + 1 < n) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		if (i++ == max) {
			snprintf(buf + k, n - k, ", ...");
			break;
		}
		k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "",
				      s ? s : "");
		if (k >= n)
			k = n - 1;
	}
	sqlite3_finalize(st);
	if (!buf[0])
		snprintf(buf, n, "none");
}

static int parse_id_(const char *cmd, const char *s, int64_t *id)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v <= 0)
		return usage_(cmd, "expected a run id (a number > 0), got '%s'",
			      s);
	*id = v;
	return 0;
}

/* SP_OK when run id exists; otherwise an error saying which ids exist. */
static int need_run_(sp_runlog *log, sp_ctx *ctx, int64_t id)
{
	sqlite3 *db = sp_runlog_db_(log);
	sqlite3_stmt *st = NULL;
	int found = 0;
	long long n = 0, lo = 0, hi = 0;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT 1 FROM runs WHERE id = ?), "
			       "count(*), min(id), max(id) FROM runs", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			found = sqlite3_column_int(st, 0);
			n = sqlite3_column_int64(st, 1);
			lo = sqlite3_column_int64(st, 2);
			hi = sqlite3_column_int64(st, 3);
		}
	}
	sqlite3_finalize(st);
	if (found)
		return SP_OK;
	if (n == 0)
		return sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld: the log has "
			      "no runs", sp_runlog_path_(log), (long long)id);
	return sp_err(ctx, SP_ENOTFOUND, "%s: no run %lld; the log has %lld "
		      "run%s, ids %lld to %lld (pipeline runs lists them)",
		      sp_runlog_path_(log), (long long)id, n, n == 1 ? "" : "s",
		      lo, hi);
}

/* The metric split.name exists in some run (split may be NULL); else an
 * error listing the metrics that do. */
static int need_metric_(sp_runlog *log, sp_ctx *ctx, const char *split,
			const char *name, const char *as_written)
{
	sqlite3 *db = sp_runlog_db_(log);
	sqlite3_stmt *st = NULL;
	char known[1024];
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM metrics WHERE name = ? AND "
			       "split IS ? LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, split, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	if (found)
		return SP_OK;
	list_(db, "SELECT DISTINCT coalesce(split || '.', '') || name FROM "
	      "metrics WHERE name NOT LIKE 'dh\\_norm.%' ESCAPE '\\' AND name "
	      "NOT LIKE 'gate.%' ORDER BY 1", NULL, known, sizeof(known), 40);
	return sp_err(ctx, SP_ENOTFOUND, "%s: no metric '%s' in any run; "
		      "metrics logged: %s", sp_runlog_path_(log), as_written,
		      known);
}

static int need_param_(sp_runlog *log, sp_ctx *ctx, const char *section,
		       const char *key, const char *as_written)
{
	sqlite3 *db = sp_runlog_db_(log);
	sqlite3_stmt *st = NULL;
	char known[1024];
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM params WHERE section = ? AND "
			       "key = ? LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, section, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	if (found)
		return SP_OK;
	list_(db, "SELECT DISTINCT 'params.' || section || '.' || key FROM "
	      "params WHERE section = ?1 OR NOT EXISTS (SELECT 1 FROM params "
	      "WHERE section = ?1) ORDER BY 1", section, known, sizeof(known),
	      60);
	return sp_err(ctx, SP_ENOTFOUND, "%s: no parameter '%s' in any run; "
		      "parameters: %s", sp_runlog_path_(log), as_written, known);
}

static int need_tags_(sp_runlog *log, sp_ctx *ctx)
{
	if (sp_runlog_schema_version(log) >= 2)
		return SP_OK;
	return sp_err(ctx, SP_EINVAL, "%s: this run log has no tags yet "
		      "(schema %d; any pipeline run or pipeline tag upgrades "
		      "it)", sp_runlog_path_(log), sp_runlog_schema_version(log));
}

static int check_refs_(sp_runlog *log, sp_ctx *ctx, const sp_where *w)
{
	for (size_t i = 0; i < sp_where_n_refs(w); i++) {
		const sp_where_ref *r = sp_where_ref_at(w, i);
		int code = SP_OK;
		if (r->kind == SP_WHERE_METRIC)
			code = need_metric_(log, ctx, r->a, r->b, r->text);
		else if (r->kind == SP_WHERE_PARAM)
			code = need_param_(log, ctx, r->a, r->b, r->text);
		else if (r->kind == SP_WHERE_TAG)
			code = need_tags_(log, ctx);
		if (code != SP_OK)
			return code;
	}
	return SP_OK;
}

static int open_read_(sp_runlog **log, sp_ctx *ctx, const hopts_ *o)
{
	return sp_runlog_open_readonly(log, ctx, o->db ? o->db : "runs.db");
}

/* Whether a run logged as running has lost its process on this host. */
static int run_died_(const char *status, const char *host, int64_t pid)
{
	char me[256];
	if (!status || strcmp(status, "running") || pid <= 0 || !host ||
	    gethostname(me, sizeof(me)) != 0)
		return 0;
	me[sizeof(me) - 1] = '\0';
	return !strcmp(me, host) && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* "2026-11-26T13:46:29.123Z" -> "2026-11-26 13:46:29" */
static void short_time_(char out[20], const char *iso)
{
	snprintf(out, 20, "%s", iso ? iso : "");
	if (strlen(out) > 10)
		out[10] = ' ';
}

/* ---- runs ---------------------------------------------------------------- */

static const char key_sql_[] =
	"SELECT name, split, epoch, value FROM metrics WHERE run_id = ? "
	"AND name IN ('f1', 'accuracy', 'bleu', 'perplexity', 'loss') "
	"AND split IN ('dev', 'test', 'train') "
	"ORDER BY epoch IS NOT NULL, "
	"CASE split WHEN 'dev' THEN 0 WHEN 'test' THEN 1 ELSE 2 END, "
	"CASE name WHEN 'f1' THEN 0 WHEN 'accuracy' THEN 1 WHEN 'bleu' THEN 2 "
	"WHEN 'perplexity' THEN 3 ELSE 4 END, epoch DESC, id DESC LIMIT 1";
static const char value_sql_[] =
	"SELECT value FROM metrics WHERE run_id = ? AND name = ? AND split IS ? "
	"ORDER BY epoch IS NOT NULL, epoch DESC, id DESC LIMIT 1";
static const char param_sql_[] =
	"SELECT value FROM params WHERE run_id = ? AND section = ? AND key = ?";

/* Appends to sql; fails quietly on overflow (checked by the caller). */
static void cat_(char *sql, size_t n, const char *s)
{
	size_t k = strlen(sql);
	snprintf(sql + k, n - k, "%s", s);
}

static int runs_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	sp_where *where = NULL, *order = NULL;
	sqlite3_stmt *st = NULL, *key = NULL, *val = NULL, *par = NULL;
	cli_table *t = NULL;
	const char *cols[8 + 16];
	size_t n_cols = 0, n_refs = 0;
	const sp_where_ref *refs[16];
	char *sql = NULL;
	size_t cap;
	long limit = o->limit < 0 ? 100 : o->limit;
	int code, rc, b = 1, has_tags, status = EXIT_FAILURE;
	sp_run_status s;

	if (o->n_pos)
		return usage_("runs", "unexpected argument '%s'", o->pos[0]);
	if (o->status && strcmp(o->status, "died") &&
	    sp_run_status_parse_(o->status, &s) != 0) {
		sp_err(ctx, SP_EINVAL, "--status '%s': expected running, "
		       "finished, failed, interrupted or died", o->status);
		return fail_(ctx);
	}
	if ((code = open_read_(&log, ctx, o)) != SP_OK)
		return fail_(ctx);
	has_tags = sp_runlog_schema_version(log) >= 2;
	if (o->where && ((code = sp_where_parse(&where, ctx, o->where)) ||
			 (code = check_refs_(log, ctx, where)))) {
		if (code == SP_EINVAL && !strstr(sp_errmsg(ctx), "schema"))
			sp_err_prefix(ctx, code, "--where");
		goto done;
	}
	if (o->order && ((code = sp_where_parse_order(&order, ctx, o->order)) ||
			 (code = check_refs_(log, ctx, order)))) {
		if (code == SP_EINVAL)
			sp_err_prefix(ctx, code, "--order-by");
		goto done;
	}
	if (o->n_tags && (code = need_tags_(log, ctx)))
		goto done;
	if (o->pipeline) {
		char known[1024];
		sqlite3_stmt *p = NULL;
		int found = 0;
		if (sqlite3_prepare_v2(sp_runlog_db_(log), "SELECT 1 FROM runs "
				       "WHERE pipeline = ? LIMIT 1", -1, &p,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_text(p, 1, o->pipeline, -1, SQLITE_STATIC);
			found = sqlite3_step(p) == SQLITE_ROW;
		}
		sqlite3_finalize(p);
		if (!found) {
			list_(sp_runlog_db_(log), "SELECT DISTINCT pipeline FROM "
			      "runs ORDER BY 1", NULL, known, sizeof(known), 40);
			code = sp_err(ctx, SP_ENOTFOUND, "%s: no runs of pipeline "
				      "'%s'; pipelines: %s", sp_runlog_path_(log),
				      o->pipeline, known);
			goto done;
		}
	}

	cap = 1024 + (where ? strlen(sp_where_sql(where)) : 0) +
	      (order ? strlen(sp_where_sql(order)) : 0) + 256 * o->n_tags;
	if (!(sql = calloc(1, cap))) {
		code = sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	cat_(sql, cap, "SELECT r.id, r.pipeline, r.status, r.started, r.host, "
	     "r.pid, ");
	cat_(sql, cap, has_tags ? "(SELECT group_concat(t.key || '=' || t.value, "
	     "' ') FROM tags t WHERE t.run_id = r.id)" : "NULL");
	cat_(sql, cap, " FROM runs r WHERE 1");
	if (o->status)
		cat_(sql, cap, " AND r.status = ?");
	if (o->pipeline)
		cat_(sql, cap, " AND r.pipeline = ?");
	for (size_t i = 0; i < o->n_tags; i++)
		cat_(sql, cap, strchr(o->tags[i], '=') ?
		     " AND EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id "
		     "AND t.key = ? AND t.value = ?)" :
		     " AND EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id "
		     "AND t.key = ?)");
	if (where) {
		cat_(sql, cap, " AND (");
		cat_(sql, cap, sp_where_sql(where));
		cat_(sql, cap, ")");
	}
	cat_(sql, cap, " ORDER BY ");
	if (order) {
		cat_(sql, cap, sp_where_sql(order));
		cat_(sql, cap, ", ");
	}
	cat_(sql, cap, "r.id DESC LIMIT ?");
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), sql, -1, &st, NULL);
	if (rc == SQLITE_OK && o->status)
		rc = sqlite3_bind_text(st, b++, strcmp(o->status, "died") ?
				       o->status : "running", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && o->pipeline)
		rc = sqlite3_bind_text(st, b++, o->pipeline, -1, SQLITE_STATIC);
	for (size_t i = 0; rc == SQLITE_OK && i < o->n_tags; i++) {
		const char *eq = strchr(o->tags[i], '=');
		rc = sqlite3_bind_text(st, b++, o->tags[i],
				       eq ? (int)(eq - o->tags[i]) : -1,
				       SQLITE_TRANSIENT);
		if (rc == SQLITE_OK && eq)
			rc = sqlite3_bind_text(st, b++, eq + 1, -1,
					       SQLITE_STATIC);
	}
	if (rc == SQLITE_OK && where) {
		rc = sp_where_bind(where, st, b);
		b += (int)sp_where_n_binds(where);
	}
	if (rc == SQLITE_OK && order) {
		rc = sp_where_bind(order, st, b);
		b += (int)sp_where_n_binds(order);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, b, limit ? limit : -1);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(sp_runlog_db_(log), key_sql_, -1, &key,
					NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(sp_runlog_db_(log), value_sql_, -1, &val,
					NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(sp_runlog_db_(log), param_sql_, -1, &par,
					NULL);
	if (rc != SQLITE_OK) {
		code = sp_runlog_fail_(log, ctx, rc, "list runs");
		goto done;
	}

	/* the columns: the run, its key metric, its tags, and each metric or
	 * parameter the filter or order names */
	cols[n_cols++] = "id";
	cols[n_cols++] = "pipeline";
	cols[n_cols++] = "status";
	cols[n_cols++] = "started";
	cols[n_cols++] = "key_metric";
	cols[n_cols++] = "value";
	cols[n_cols++] = "tags";
	for (int pass = 0; pass < 2; pass++) {
		const sp_where *w = pass ? order : where;
		for (size_t i = 0; i < sp_where_n_refs(w) && n_refs < 16; i++) {
			const sp_where_ref *r = sp_where_ref_at(w, i);
			int dup = 0;
			if (r->kind != SP_WHERE_METRIC && r->kind != SP_WHERE_PARAM)
				continue;
			for (size_t k = 0; k < n_refs; k++)
				dup |= !strcmp(refs[k]->text, r->text);
			if (dup)
				continue;
			refs[n_refs++] = r;
			cols[n_cols++] = r->text;
		}
	}
	if (!(t = cli_table_new(n_cols, cols))) {
		code = sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *stat = (const char *)sqlite3_column_text(st, 2);
		const char *host = (const char *)sqlite3_column_text(st, 4);
		int died = run_died_(stat, host, sqlite3_column_int64(st, 5));
		char when[20], kname[128] = "";
		double kval = NAN;
		if (o->status && !strcmp(o->status, "died") && !died)
			continue;
		short_time_(when, (const char *)sqlite3_column_text(st, 3));
		sqlite3_reset(key);
		sqlite3_bind_int64(key, 1, id);
		if (sqlite3_step(key) == SQLITE_ROW) {
			snprintf(kname, sizeof(kname), "%s %s%s",
				 sqlite3_column_text(key, 1),
				 sqlite3_column_text(key, 0),
				 sqlite3_column_type(key, 2) != SQLITE_NULL ?
					 " (last epoch)" : "");
			if (sqlite3_column_type(key, 3) != SQLITE_NULL)
				kval = sqlite3_column_double(key, 3);
		}
		if (cli_table_row(t) || cli_table_int(t, id) ||
		    cli_table_text(t, (const char *)sqlite3_column_text(st, 1)) ||
		    cli_table_text(t, died ? "died" : stat) ||
		    cli_table_text(t, when) ||
		    cli_table_text(t, kname[0] ? kname : NULL) ||
		    cli_table_num(t, kval) ||
		    cli_table_text(t, (const char *)sqlite3_column_text(st, 6))) {
			code = sp_err(ctx, SP_ENOMEM, "out of memory");
			goto done;
		}
		for (size_t k = 0; k < n_refs; k++) {
			sqlite3_stmt *q = refs[k]->kind == SP_WHERE_METRIC ? val : par;
			sqlite3_reset(q);
			sqlite3_bind_int64(q, 1, id);
			sqlite3_bind_text(q, 2, refs[k]->kind == SP_WHERE_METRIC ?
					  refs[k]->b : refs[k]->a, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 3, refs[k]->kind == SP_WHERE_METRIC ?
					  refs[k]->a : refs[k]->b, -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_ROW ||
			    sqlite3_column_type(q, 0) == SQLITE_NULL)
				cli_table_text(t, NULL);
			else if (q == val)
				cli_table_num(t, sqlite3_column_double(q, 0));
			else
				cli_table_text(t, (const char *)sqlite3_column_text(q, 0));
		}
	}
	if (rc != SQLITE_DONE) {
		code = sp_runlog_fail_(log, ctx, rc, "list runs");
		goto done;
	}
	if (cli_table_failed(t)) {
		code = sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	cli_table_print(t, stdout, o->format, NULL);
	if (o->format == CLI_JSON)
		printf("\n");
	if (o->format == CLI_TABLE && limit && cli_table_rows(t) == (size_t)limit)
		printf("(the newest %ld shown; --limit 0 lists all)\n", limit);
	status = 0;
	code = SP_OK;
done:
	if (code != SP_OK)
		status = fail_(ctx);
	sqlite3_finalize(st);
	sqlite3_finalize(key);
	sqlite3_finalize(val);
	sqlite3_finalize(par);
	cli_table_free(t);
	free(sql);
	sp_where_free(where);
	sp_where_free(order);
	sp_runlog_close(log);
	return status;
}

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

static int show_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	cli_run *r = NULL;
	cli_table *t = NULL;
	artifact_ *a = NULL;
	size_t n_a = 0;
	int64_t id;
	int status;
	if (o->n_pos != 1)
		return usage_("show", "expected one run id%s", "");
	if ((status = parse_id_("show", o->pos[0], &id)))
		return status;
	if (open_read_(&log, ctx, o) || need_run_(log, ctx, id) ||
	    cli_run_load(&r, ctx, log, id)) {
		sp_runlog_close(log);
		return fail_(ctx);
	}
	t = epoch_table_(r);
	a = calloc(16, sizeof(*a));
	if (cli_table_failed(t) || !a ||
	    (n_a = artifacts_(log, id, a, 16)) == (size_t)-1) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		status = fail_(ctx);
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

static int compare_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	cli_run *r[MAX_ARGS] = {NULL};
	cli_table *params = NULL, *finals = NULL, *curves = NULL, *tidy = NULL;
	const char *cols[MAX_ARGS + 1], *ccols[2 * MAX_ARGS + 1];
	char idname[MAX_ARGS][24], cname[2 * MAX_ARGS][160];
	const char *curve_keys[MAX_ARGS];
	size_t n = o->n_pos, n_curves = 0, max_epochs = 0;
	int status = EXIT_FAILURE;
	static const char *const tidy_cols[] = {"kind", "name", "epoch", "run",
						"value"};

	if (n < 2)
		return usage_("compare", "expected two or more run ids%s", "");
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		if ((status = parse_id_("compare", o->pos[i], &id)))
			return status;
	}
	status = EXIT_FAILURE;
	if (open_read_(&log, ctx, o))
		return fail_(ctx);
	for (size_t i = 0; i < n; i++) {
		int64_t id = strtoll(o->pos[i], NULL, 10);
		if (need_run_(log, ctx, id) || cli_run_load(&r[i], ctx, log, id))
			goto done;
		snprintf(idname[i], sizeof(idname[i]), "run %lld", (long long)id);
		cols[1 + i] = idname[i];
		if (r[i]->n_epochs > max_epochs)
			max_epochs = r[i]->n_epochs;
	}
	/* the curves: each --metric, else train.loss and the key metric */
	for (size_t k = 0; k < o->n_tags; k++)
		curve_keys[n_curves++] = o->tags[k];
	if (!n_curves) {
		static char keybuf[160];
		curve_keys[n_curves++] = "train.loss";
		if (r[0]->key_name && (!r[0]->key_split ||
				       strcmp(r[0]->key_split, "train") ||
				       strcmp(r[0]->key_name, "loss"))) {
			snprintf(keybuf, sizeof(keybuf), "%s.%s",
				 r[0]->key_split ? r[0]->key_split : "",
				 r[0]->key_name);
			curve_keys[n_curves++] = keybuf;
		}
	}
	for (size_t k = 0; k < n_curves; k++) {
		const char *dot = strchr(curve_keys[k], '.');
		char split[16] = "";
		int found = 0;
		if (dot && (size_t)(dot - curve_keys[k]) < sizeof(split))
			snprintf(split, sizeof(split), "%.*s",
				 (int)(dot - curve_keys[k]), curve_keys[k]);
		for (size_t i = 0; i < n; i++)
			found |= cli_run_series(r[i], dot ? split : NULL,
						dot ? dot + 1 : curve_keys[k]) != NULL;
		if (!found) {
			need_metric_(log, ctx, dot ? split : NULL,
				     dot ? dot + 1 : curve_keys[k], curve_keys[k]);
			goto done;
		}
	}
	cols[0] = "parameter";
	params = cli_table_new(n + 1, cols);
	cols[0] = "final metric";
	finals = cli_table_new(n + 1, cols);
	tidy = cli_table_new(5, tidy_cols);
	ccols[0] = "epoch";
	for (size_t k = 0; k < n_curves; k++)
		for (size_t i = 0; i < n; i++) {
			snprintf(cname[k * n + i], sizeof(cname[0]), "%lld %s",
				 (long long)r[i]->id, curve_keys[k]);
			ccols[1 + k * n + i] = cname[k * n + i];
		}
	curves = cli_table_new(1 + n_curves * n, ccols);
	if (!params || !finals || !curves || !tidy) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	/* parameters that differ, over the union of all runs' keys */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < r[i]->n_p; j++) {
			const cli_param *p = &r[i]->p[j];
			char name[256];
			int differ = 0, seen = 0;
			for (size_t q = 0; q < i; q++)
				seen |= cli_run_param(r[q], p->section, p->key) != NULL;
			if (seen)
				continue;
			for (size_t q = 0; q < n; q++) {
				const char *v = cli_run_param(r[q], p->section, p->key);
				differ |= !v || !p->value || strcmp(v, p->value);
			}
			if (!differ)
				continue;
			snprintf(name, sizeof(name), "%s.%s", p->section, p->key);
			cli_table_row(params);
			cli_table_text(params, name);
			for (size_t q = 0; q < n; q++) {
				const char *v = cli_run_param(r[q], p->section, p->key);
				cli_table_text(params, v);
				tidy_(tidy, "param", name, 0, r[q]->id, v ? v : "", 0);
			}
		}
	/* final metrics (final evaluation, else last epoch) */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < r[i]->n_s; j++) {
			const cli_series *s = &r[i]->s[j];
			int seen = 0;
			if (cli_metric_is_instrument(s->name))
				continue;
			for (size_t q = 0; q < i; q++)
				seen |= cli_run_series(r[q], s->split, s->name) != NULL;
			if (seen)
				continue;
			cli_table_row(finals);
			cli_table_text(finals, s->key);
			for (size_t q = 0; q < n; q++) {
				double v = cli_series_last(cli_run_series(r[q], s->split,
									  s->name),
							   r[q]->n_epochs);
				cli_table_num(finals, v);
				tidy_(tidy, "final", s->key, 0, r[q]->id, NULL, v);
			}
		}
	/* curves aligned by epoch */
	for (size_t e = 0; e < max_epochs; e++) {
		cli_table_row(curves);
		cli_table_int(curves, (long long)e + 1);
		for (size_t k = 0; k < n_curves; k++) {
			const char *dot = strchr(curve_keys[k], '.');
			char split[16] = "";
			if (dot && (size_t)(dot - curve_keys[k]) < sizeof(split))
				snprintf(split, sizeof(split), "%.*s",
					 (int)(dot - curve_keys[k]), curve_keys[k]);
			for (size_t i = 0; i < n; i++) {
				const cli_series *s = cli_run_series(
					r[i], dot ? split : NULL,
					dot ? dot + 1 : curve_keys[k]);
				double v = s && e < r[i]->n_epochs ? s->v[e] : NAN;
				cli_table_num(curves, v);
				if (s && !isnan(v))
					tidy_(tidy, "epoch", curve_keys[k],
					      (long long)e + 1, r[i]->id, NULL, v);
			}
		}
	}
	if (cli_table_failed(params) || cli_table_failed(finals) ||
	    cli_table_failed(curves) || cli_table_failed(tidy)) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	if (o->format == CLI_TABLE) {
		if (cli_table_rows(params))
			cli_table_print(params, stdout, CLI_TABLE,
					"parameters that differ:");
		else
			printf("parameters: all the same\n");
		printf("\n");
		cli_table_print(finals, stdout, CLI_TABLE, "final metrics:");
		printf("\n");
		cli_table_print(curves, stdout, CLI_TABLE, "per epoch:");
	} else {
		cli_table_print(tidy, stdout, o->format, NULL);
		if (o->format == CLI_JSON)
			printf("\n");
	}
	status = 0;
done:
	if (status)
		fail_(ctx);
	for (size_t i = 0; i < n; i++)
		cli_run_free(r[i]);
	cli_table_free(params);
	cli_table_free(finals);
	cli_table_free(curves);
	cli_table_free(tidy);
	sp_runlog_close(log);
	return status;
}

/* ---- best ------------------------------------------------------------------ */

static int best_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	sqlite3_stmt *st = NULL;
	cli_table *t = NULL;
	char split[16] = "dev", key[160], when[20];
	const char *name, *dot;
	int hi, rc, status = EXIT_FAILURE, b = 1;
	static const char *const cols[] = {"id", "pipeline", "status",
					   "started", "metric", "value"};

	if (!o->metric)
		return usage_("best", "--metric NAME is required%s", "");
	if (o->n_pos)
		return usage_("best", "unexpected argument '%s'", o->pos[0]);
	dot = strchr(o->metric, '.');
	name = o->metric;
	if (dot && (size_t)(dot - o->metric) < sizeof(split) &&
	    (!strncmp(o->metric, "train.", 6) || !strncmp(o->metric, "dev.", 4) ||
	     !strncmp(o->metric, "test.", 5))) {
		snprintf(split, sizeof(split), "%.*s", (int)(dot - o->metric),
			 o->metric);
		name = dot + 1;
	} else if (o->split) {
		snprintf(split, sizeof(split), "%s", o->split);
	}
	hi = o->maximize || (!o->minimize && cli_metric_higher_better(name));
	snprintf(key, sizeof(key), "%s.%s", split, name);
	if (open_read_(&log, ctx, o) || need_metric_(log, ctx, split, name, key))
		goto done;
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), hi ?
		"SELECT id, pipeline, status, started, v FROM (SELECT r.id, "
		"r.pipeline, r.status, r.started, (SELECT m.value FROM metrics m "
		"WHERE m.run_id = r.id AND m.name = ? AND m.split = ? ORDER BY "
		"m.epoch IS NOT NULL, m.epoch DESC, m.id DESC LIMIT 1) AS v FROM "
		"runs r WHERE r.status = 'finished' AND (? IS NULL OR r.pipeline "
		"= ?)) WHERE v IS NOT NULL ORDER BY v DESC, id DESC LIMIT 1" :
		"SELECT id, pipeline, status, started, v FROM (SELECT r.id, "
		"r.pipeline, r.status, r.started, (SELECT m.value FROM metrics m "
		"WHERE m.run_id = r.id AND m.name = ? AND m.split = ? ORDER BY "
		"m.epoch IS NOT NULL, m.epoch DESC, m.id DESC LIMIT 1) AS v FROM "
		"runs r WHERE r.status = 'finished' AND (? IS NULL OR r.pipeline "
		"= ?)) WHERE v IS NOT NULL ORDER BY v ASC, id DESC LIMIT 1",
		-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, b++, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, b++, split, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, b++, o->pipeline, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, b++, o->pipeline, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		char known[1024];
		list_(sp_runlog_db_(log), "SELECT DISTINCT pipeline FROM runs "
		      "ORDER BY 1", NULL, known, sizeof(known), 40);
		sp_err(ctx, SP_ENOTFOUND, "%s: no finished run%s%s%s has %s; "
		       "pipelines: %s", sp_runlog_path_(log),
		       o->pipeline ? " of pipeline '" : "",
		       o->pipeline ? o->pipeline : "", o->pipeline ? "'" : "",
		       key, known);
		goto done;
	}
	if (rc != SQLITE_ROW) {
		sp_runlog_fail_(log, ctx, rc, "find the best run");
		goto done;
	}
	if (!(t = cli_table_new(6, cols))) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	short_time_(when, (const char *)sqlite3_column_text(st, 3));
	cli_table_row(t);
	cli_table_int(t, sqlite3_column_int64(st, 0));
	cli_table_text(t, (const char *)sqlite3_column_text(st, 1));
	cli_table_text(t, (const char *)sqlite3_column_text(st, 2));
	cli_table_text(t, when);
	cli_table_text(t, key);
	cli_table_num(t, sqlite3_column_double(st, 4));
	if (cli_table_failed(t)) {
		sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	cli_table_print(t, stdout, o->format, NULL);
	if (o->format == CLI_JSON)
		printf("\n");
	status = 0;
done:
	if (status)
		fail_(ctx);
	cli_table_free(t);
	sqlite3_finalize(st);
	sp_runlog_close(log);
	return status;
}

/* ---- tag and delete ------------------------------------------------------ */

static int tag_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	int64_t id;
	int status;
	if (o->n_pos < 1 || (o->n_pos < 2 && !o->n_removes))
		return usage_("tag", "expected a run id and KEY=VALUE%s", "");
	if ((status = parse_id_("tag", o->pos[0], &id)))
		return status;
	for (size_t i = 1; i < o->n_pos; i++)
		if (!strchr(o->pos[i], '=') || o->pos[i][0] == '=')
			return usage_("tag", "expected KEY=VALUE, got '%s'",
				      o->pos[i]);
	if (sp_runlog_open(&log, ctx, o->db ? o->db : "runs.db") ||
	    need_run_(log, ctx, id))
		goto fail;
	for (size_t i = 1; i < o->n_pos; i++) {
		const char *eq = strchr(o->pos[i], '=');
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->pos[i]), o->pos[i]);
		if (sp_runlog_tag(log, ctx, id, key, eq + 1))
			goto fail;
		printf("run %lld: %s = %s\n", (long long)id, key, eq + 1);
	}
	for (size_t i = 0; i < o->n_removes; i++) {
		if (sp_runlog_tag(log, ctx, id, o->removes[i], NULL))
			goto fail;
		printf("run %lld: %s removed\n", (long long)id, o->removes[i]);
	}
	sp_runlog_close(log);
	return 0;
fail:
	sp_runlog_close(log);
	return fail_(ctx);
}

/* Whether path is a seqpipe model or checkpoint file (its magic). */
static int is_model_file_(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	int yes = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "SPMODEL", 8);
	if (f)
		fclose(f);
	return yes;
}

/* Removes the files run id's artifacts name, when they are seqpipe model
 * files and no other run names them.  Call before deleting the rows. */
static void remove_files_(sp_runlog *log, int64_t id)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(sp_runlog_db_(log), "SELECT DISTINCT path, "
			       "(SELECT count(*) FROM artifacts b WHERE b.path = "
			       "a.path AND b.run_id != a.run_id) FROM artifacts a "
			       "WHERE run_id = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		if (sqlite3_column_int(st, 1) > 0)
			printf("  kept %s: another run names it\n", path);
		else if (access(path, F_OK) != 0)
			printf("  %s: already gone\n", path);
		else if (!is_model_file_(path))
			printf("  kept %s: not a seqpipe model file\n", path);
		else if (remove(path) != 0)
			printf("  could not remove %s: %s\n", path, strerror(errno));
		else
			printf("  removed %s\n", path);
	}
	sqlite3_finalize(st);
}

static int delete_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	int64_t ids[MAX_ARGS];
	int status;
	if (!o->n_pos)
		return usage_("delete", "expected one or more run ids%s", "");
	for (size_t i = 0; i < o->n_pos; i++)
		if ((status = parse_id_("delete", o->pos[i], &ids[i])))
			return status;
	if (!o->yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "pipeline delete: not on a terminal, so not "
			"asking: add --yes to delete\n");
		return EXIT_USAGE;
	}
	if (sp_runlog_open(&log, ctx, o->db ? o->db : "runs.db"))
		return fail_(ctx);
	for (size_t i = 0; i < o->n_pos; i++)
		if (need_run_(log, ctx, ids[i])) {
			sp_runlog_close(log);
			return fail_(ctx);
		}
	if (!o->yes) {
		char line[16];
		printf("delete run%s", o->n_pos > 1 ? "s" : "");
		for (size_t i = 0; i < o->n_pos; i++)
			printf(" %lld", (long long)ids[i]);
		printf(" and all their rows%s? [y/N] ",
		       o->files ? " and model files" : "");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) ||
		    (line[0] != 'y' && line[0] != 'Y')) {
			printf("nothing deleted\n");
			sp_runlog_close(log);
			return EXIT_FAILURE;
		}
	}
	for (size_t i = 0; i < o->n_pos; i++) {
		if (o->files)
			remove_files_(log, ids[i]);
		if (sp_runlog_delete(log, ctx, ids[i])) {
			sp_runlog_close(log);
			return fail_(ctx);
		}
		printf("deleted run %lld\n", (long long)ids[i]);
	}
	sp_runlog_close(log);
	return 0;
}

/* ---- report ---------------------------------------------------------------- */

static int report_(sp_ctx *ctx, const hopts_ *o)
{
	sp_runlog *log = NULL;
	cli_run *r[MAX_ARGS] = {NULL};
	size_t n = o->n_pos;
	int status = EXIT_FAILURE;
	if (!n)
		return usage_("report", "expected one or more run ids%s", "");
	if (!o->out)
		return usage_("report", "-o FILE.html is required%s", "");
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		if ((status = parse_id_("report", o->pos[i], &id)))
			return status;
	}
	status = EXIT_FAILURE;
	if (open_read_(&log, ctx, o))
		goto done;
	for (size_t i = 0; i < n; i++) {
		int64_t id = strtoll(o->pos[i], NULL, 10);
		if (need_run_(log, ctx, id) || cli_run_load(&r[i], ctx, log, id))
			goto done;
	}
	if (cli_report_write(ctx, (const cli_run *const *)r, n, o->out))
		goto done;
	printf("report of %zu run%s written to %s\n", n, n > 1 ? "s" : "", o->out);
	status = 0;
done:
	if (status)
		fail_(ctx);
	for (size_t i = 0; i < n; i++)
		cli_run_free(r[i]);
	sp_runlog_close(log);
	return status;
}

int cli_history_main(const char *cmd, int argc, char **argv, const char *db)
{
	hopts_ o;
	sp_ctx *ctx = NULL;
	int status;
	memset(&o, 0, sizeof(o));
	o.db = db;
	o.limit = -1;
	status = parse_(&o, cmd, argc, argv);
	if (status == 1) {
		fputs(help_(cmd), stdout);
		return 0;
	}
	if (status)
		return status;
	if (sp_ctx_new(&ctx, 0) != SP_OK) {
		fprintf(stderr, "pipeline: error: out of memory\n");
		return EXIT_FAILURE;
	}
	if (!strcmp(cmd, "runs"))
		status = runs_(ctx, &o);
	else if (!strcmp(cmd, "show"))
		status = show_(ctx, &o);
	else if (!strcmp(cmd, "compare"))
		status = compare_(ctx, &o);
	else if (!strcmp(cmd, "best"))
		status = best_(ctx, &o);
	else if (!strcmp(cmd, "tag"))
		status = tag_(ctx, &o);
	else if (!strcmp(cmd, "delete"))
		status = delete_(ctx, &o);
	else
		status = report_(ctx, &o);
	sp_ctx_free(ctx);
	return status;
}
