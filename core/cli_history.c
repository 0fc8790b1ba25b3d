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
#include "cli_verbs.h"
#include "sp_modelfile.h"
#include "sp_runlog.h"
#include "sp_runlog_priv.h"
#include "sp_where.h"



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

int cli_fail(sp_ctx *ctx)
{
	fprintf(stderr, "pipeline: error: %s\n", sp_errmsg(ctx));
	return EXIT_FAILURE;
}

int cli_usage(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "pipeline %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", help_(cmd));
	return EXIT_USAGE;
}

/* Parses the verb's arguments; returns 0, 1 for --help, or EXIT_USAGE. */
static int parse_(cli_hopts *o, const char *cmd, int argc, char **argv)
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
			return cli_usage(cmd, "unknown option '%s'", a);
		else {
			if (o->n_pos == MAX_ARGS)
				return cli_usage(cmd, "too many arguments (%s)", a);
			o->pos[o->n_pos++] = a;
			continue;
		}
		if (!v)
			return cli_usage(cmd, "%s expects a value", a);
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
				return cli_usage(cmd, "too many %s", a);
			list[(*n)++] = v;
		} else if (!strcmp(a, "--limit")) {
			char *end;
			errno = 0;
			o->limit = strtol(v, &end, 10);
			if (errno || *end || end == v || o->limit < 0)
				return cli_usage(cmd, "--limit expects an integer >= 0 "
					      "(0 = all), got '%s'", v);
		} else if (cli_format_parse(v, &o->format) != 0) {
			return cli_usage(cmd, "--format expects table, csv or json, "
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

int cli_parse_id(const char *cmd, const char *s, int64_t *id)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE && !*end && end != s) {
		/* one line, not the usage: the id is well formed, only too big */
		fprintf(stderr, "pipeline %s: run id %s is out of range, expected 1..%lld\n",
			cmd, s, (long long)INT64_MAX);
		return EXIT_FAILURE;
	}
	if (errno || *end || end == s || v <= 0)
		return cli_usage(cmd, "expected a run id (a number > 0), got '%s'",
			      s);
	*id = v;
	return 0;
}

/* SP_OK when run id exists; otherwise an error saying which ids exist. */
int cli_need_run(sp_runlog *log, sp_ctx *ctx, int64_t id)
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
int cli_need_metric(sp_runlog *log, sp_ctx *ctx, const char *split,
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
			code = cli_need_metric(log, ctx, r->a, r->b, r->text);
		else if (r->kind == SP_WHERE_PARAM)
			code = need_param_(log, ctx, r->a, r->b, r->text);
		else if (r->kind == SP_WHERE_TAG)
			code = need_tags_(log, ctx);
		if (code != SP_OK)
			return code;
	}
	return SP_OK;
}

int cli_open_read(sp_runlog **log, sp_ctx *ctx, const cli_hopts *o)
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

/* What `pipeline runs` works with: the log, the compiled filter and
 * order, the statements, and the metric and parameter columns. */
typedef struct runs_q_ {
	const cli_hopts *o;
	sp_runlog *log;
	sp_where *where, *order;
	sqlite3_stmt *st, *key, *val, *par;
	cli_table *t;
	const char *cols[8 + 16];
	size_t n_cols, n_refs;
	const sp_where_ref *refs[16];
	long limit;
} runs_q_;

/* The pipeline named by --pipeline has runs, else an error listing them. */
static int need_pipeline_(sp_runlog *log, sp_ctx *ctx, const char *pipeline)
{
	char known[1024];
	sqlite3_stmt *p = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(sp_runlog_db_(log), "SELECT 1 FROM runs WHERE "
			       "pipeline = ? LIMIT 1", -1, &p, NULL) == SQLITE_OK) {
		sqlite3_bind_text(p, 1, pipeline, -1, SQLITE_STATIC);
		found = sqlite3_step(p) == SQLITE_ROW;
	}
	sqlite3_finalize(p);
	if (found)
		return SP_OK;
	list_(sp_runlog_db_(log), "SELECT DISTINCT pipeline FROM runs ORDER BY 1",
	      NULL, known, sizeof(known), 40);
	return sp_err(ctx, SP_ENOTFOUND, "%s: no runs of pipeline '%s'; "
		      "pipelines: %s", sp_runlog_path_(log), pipeline, known);
}

/* Compiles --where and --order-by and checks every name they use, the
 * tags and the pipeline against the log. */
static int runs_check_(runs_q_ *q, sp_ctx *ctx)
{
	const cli_hopts *o = q->o;
	int schema = sp_runlog_schema_version(q->log), code;
	if (o->where && ((code = sp_where_parse_for(&q->where, ctx, o->where,
						    schema)) ||
			 (code = check_refs_(q->log, ctx, q->where)))) {
		if (code == SP_EINVAL && !strstr(sp_errmsg(ctx), "schema"))
			sp_err_prefix(ctx, code, "--where");
		return code;
	}
	if (o->order && ((code = sp_where_parse_order_for(&q->order, ctx,
							  o->order, schema)) ||
			 (code = check_refs_(q->log, ctx, q->order)))) {
		if (code == SP_EINVAL)
			sp_err_prefix(ctx, code, "--order-by");
		return code;
	}
	if (o->n_tags && (code = need_tags_(q->log, ctx)))
		return code;
	return o->pipeline ? need_pipeline_(q->log, ctx, o->pipeline) : SP_OK;
}

/* The listing's SQL (caller frees), its values bound by runs_bind_. */
static char *runs_sql_(const runs_q_ *q)
{
	const cli_hopts *o = q->o;
	size_t cap = 1024 + (q->where ? strlen(sp_where_sql(q->where)) : 0) +
		     (q->order ? strlen(sp_where_sql(q->order)) : 0) +
		     256 * o->n_tags;
	char *sql = calloc(1, cap);
	if (!sql)
		return NULL;
	cat_(sql, cap, "SELECT r.id, r.pipeline, r.status, r.started, r.host, "
	     "r.pid, ");
	cat_(sql, cap, sp_runlog_schema_version(q->log) >= 2 ?
	     "(SELECT group_concat(t.key || '=' || t.value, ' ') FROM tags t "
	     "WHERE t.run_id = r.id)" : "NULL");
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
	if (q->where) {
		cat_(sql, cap, " AND (");
		cat_(sql, cap, sp_where_sql(q->where));
		cat_(sql, cap, ")");
	}
	cat_(sql, cap, " ORDER BY ");
	if (q->order) {
		cat_(sql, cap, sp_where_sql(q->order));
		cat_(sql, cap, ", ");
	}
	cat_(sql, cap, "r.id DESC LIMIT ?");
	return sql;
}

/* Binds the listing's values in the order runs_sql_ wrote them. */
static int runs_bind_(const runs_q_ *q)
{
	const cli_hopts *o = q->o;
	int rc = SQLITE_OK, b = 1;
	if (o->status)
		rc = sqlite3_bind_text(q->st, b++, strcmp(o->status, "died") ?
				       o->status : "running", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && o->pipeline)
		rc = sqlite3_bind_text(q->st, b++, o->pipeline, -1, SQLITE_STATIC);
	for (size_t i = 0; rc == SQLITE_OK && i < o->n_tags; i++) {
		const char *eq = strchr(o->tags[i], '=');
		rc = sqlite3_bind_text(q->st, b++, o->tags[i],
				       eq ? (int)(eq - o->tags[i]) : -1,
				       SQLITE_TRANSIENT);
		if (rc == SQLITE_OK && eq)
			rc = sqlite3_bind_text(q->st, b++, eq + 1, -1,
					       SQLITE_STATIC);
	}
	if (rc == SQLITE_OK && q->where) {
		rc = sp_where_bind(q->where, q->st, b);
		b += (int)sp_where_n_binds(q->where);
	}
	if (rc == SQLITE_OK && q->order) {
		rc = sp_where_bind(q->order, q->st, b);
		b += (int)sp_where_n_binds(q->order);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q->st, b, q->limit ? q->limit : -1);
	return rc;
}

/* Prepares and binds the listing and the per-row lookups. */
static int runs_prepare_(runs_q_ *q, sp_ctx *ctx)
{
	sqlite3 *db = sp_runlog_db_(q->log);
	char *sql = runs_sql_(q);
	int rc;
	if (!sql)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(db, sql, -1, &q->st, NULL);
	free(sql);
	if (rc == SQLITE_OK)
		rc = runs_bind_(q);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, key_sql_, -1, &q->key, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, value_sql_, -1, &q->val, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, param_sql_, -1, &q->par, NULL);
	return rc == SQLITE_OK ? SP_OK :
				 sp_runlog_fail_(q->log, ctx, rc, "list runs");
}

/* The columns: the run, its key metric, its tags, and each metric or
 * parameter the filter or order names (once). */
static int runs_columns_(runs_q_ *q, sp_ctx *ctx)
{
	static const char *const fixed[] = {"id", "pipeline", "status",
		"started", "key_metric", "value", "tags"};
	for (size_t i = 0; i < 7; i++)
		q->cols[q->n_cols++] = fixed[i];
	for (int pass = 0; pass < 2; pass++) {
		const sp_where *w = pass ? q->order : q->where;
		for (size_t i = 0; i < sp_where_n_refs(w) && q->n_refs < 16; i++) {
			const sp_where_ref *r = sp_where_ref_at(w, i);
			int dup = 0;
			if (r->kind != SP_WHERE_METRIC && r->kind != SP_WHERE_PARAM)
				continue;
			for (size_t k = 0; k < q->n_refs; k++)
				dup |= !strcmp(q->refs[k]->text, r->text);
			if (dup)
				continue;
			q->refs[q->n_refs++] = r;
			q->cols[q->n_cols++] = r->text;
		}
	}
	if (!(q->t = cli_table_new(q->n_cols, q->cols)))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	return SP_OK;
}

/* The key metric of run id: "dev f1" (with " (last epoch)") and value. */
static void runs_key_(const runs_q_ *q, int64_t id, char *kname, size_t n,
		      double *kval)
{
	sqlite3_reset(q->key);
	sqlite3_bind_int64(q->key, 1, id);
	*kval = NAN;
	kname[0] = '\0';
	if (sqlite3_step(q->key) != SQLITE_ROW)
		return;
	snprintf(kname, n, "%s %s%s", sqlite3_column_text(q->key, 1),
		 sqlite3_column_text(q->key, 0),
		 sqlite3_column_type(q->key, 2) != SQLITE_NULL ?
			 " (last epoch)" : "");
	if (sqlite3_column_type(q->key, 3) != SQLITE_NULL)
		*kval = sqlite3_column_double(q->key, 3);
}

/* The values of the named metrics and parameters of run id. */
static void runs_refs_(const runs_q_ *q, int64_t id)
{
	for (size_t k = 0; k < q->n_refs; k++) {
		const sp_where_ref *r = q->refs[k];
		int metric = r->kind == SP_WHERE_METRIC;
		sqlite3_stmt *s = metric ? q->val : q->par;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, metric ? r->b : r->a, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, metric ? r->a : r->b, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW ||
		    sqlite3_column_type(s, 0) == SQLITE_NULL)
			cli_table_text(q->t, NULL);
		else if (metric)
			cli_table_num(q->t, sqlite3_column_double(s, 0));
		else
			cli_table_text(q->t, (const char *)sqlite3_column_text(s, 0));
	}
}

/* One listed run as a table row (skipped for --status died unless it
 * died); SP_ENOMEM when the table could not grow. */
static int runs_row_(const runs_q_ *q, sp_ctx *ctx)
{
	sqlite3_stmt *st = q->st;
	int64_t id = sqlite3_column_int64(st, 0);
	const char *stat = (const char *)sqlite3_column_text(st, 2);
	const char *host = (const char *)sqlite3_column_text(st, 4);
	int died = run_died_(stat, host, sqlite3_column_int64(st, 5));
	char when[20], kname[128];
	double kval;
	if (q->o->status && !strcmp(q->o->status, "died") && !died)
		return SP_OK;
	short_time_(when, (const char *)sqlite3_column_text(st, 3));
	runs_key_(q, id, kname, sizeof(kname), &kval);
	if (cli_table_row(q->t) || cli_table_int(q->t, id) ||
	    cli_table_text(q->t, (const char *)sqlite3_column_text(st, 1)) ||
	    cli_table_text(q->t, died ? "died" : stat) ||
	    cli_table_text(q->t, when) ||
	    cli_table_text(q->t, kname[0] ? kname : NULL) ||
	    cli_table_num(q->t, kval) ||
	    cli_table_text(q->t, (const char *)sqlite3_column_text(st, 6)))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	runs_refs_(q, id);
	return SP_OK;
}

/* Steps the listing into the table and prints it. */
static int runs_print_(runs_q_ *q, sp_ctx *ctx)
{
	const cli_hopts *o = q->o;
	int rc, code;
	while ((rc = sqlite3_step(q->st)) == SQLITE_ROW)
		if ((code = runs_row_(q, ctx)) != SP_OK)
			return code;
	if (rc != SQLITE_DONE)
		return sp_runlog_fail_(q->log, ctx, rc, "list runs");
	if (cli_table_failed(q->t))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	cli_table_print(q->t, stdout, o->format, NULL);
	if (o->format == CLI_JSON)
		printf("\n");
	if (o->format == CLI_TABLE && q->limit &&
	    cli_table_rows(q->t) == (size_t)q->limit)
		printf("(the newest %ld shown; --limit 0 lists all)\n", q->limit);
	return SP_OK;
}

static int runs_(sp_ctx *ctx, const cli_hopts *o)
{
	runs_q_ q;
	sp_run_status s;
	int code;

	if (o->n_pos)
		return cli_usage("runs", "unexpected argument '%s'", o->pos[0]);
	if (o->status && strcmp(o->status, "died") &&
	    sp_run_status_parse_(o->status, &s) != 0) {
		sp_err(ctx, SP_EINVAL, "--status '%s': expected running, "
		       "finished, failed, interrupted, diverged or died", o->status);
		return cli_fail(ctx);
	}
	memset(&q, 0, sizeof(q));
	q.o = o;
	q.limit = o->limit < 0 ? 100 : o->limit;
	code = cli_open_read(&q.log, ctx, o);
	if (code == SP_OK)
		code = runs_check_(&q, ctx);
	if (code == SP_OK)
		code = runs_prepare_(&q, ctx);
	if (code == SP_OK)
		code = runs_columns_(&q, ctx);
	if (code == SP_OK)
		code = runs_print_(&q, ctx);
	sqlite3_finalize(q.st);
	sqlite3_finalize(q.key);
	sqlite3_finalize(q.val);
	sqlite3_finalize(q.par);
	cli_table_free(q.t);
	sp_where_free(q.where);
	sp_where_free(q.order);
	sp_runlog_close(q.log);
	return code == SP_OK ? 0 : cli_fail(ctx);
}

/* ---- best ------------------------------------------------------------------ */


/* The best finished run by metric ?1 on split ?2 (of pipeline ?3 = ?4
 * unless NULL).  From schema 3 the index on final_values (name, split,
 * value) is read from its best end, so only the runs at the top of the
 * order are visited; before, each run's value is looked up. */
static const char *best_sql_(sp_runlog *log, int hi)
{
	if (sp_runlog_schema_version(log) >= 3)
		return hi ?
			"SELECT r.id, r.pipeline, r.status, r.started, f.value "
			"FROM final_values f JOIN runs r ON r.id = f.run_id "
			"WHERE f.name = ? AND f.split = ? AND f.value IS NOT "
			"NULL AND r.status = 'finished' AND (? IS NULL OR "
			"r.pipeline = ?) ORDER BY f.value DESC, f.run_id DESC "
			"LIMIT 1" :
			"SELECT r.id, r.pipeline, r.status, r.started, f.value "
			"FROM final_values f JOIN runs r ON r.id = f.run_id "
			"WHERE f.name = ? AND f.split = ? AND f.value IS NOT "
			"NULL AND r.status = 'finished' AND (? IS NULL OR "
			"r.pipeline = ?) ORDER BY f.value ASC, f.run_id DESC "
			"LIMIT 1";
	return hi ?
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
		"= ?)) WHERE v IS NOT NULL ORDER BY v ASC, id DESC LIMIT 1";
}

/* The metric of `best --metric`: "dev.f1" names its split; a bare name
 * takes --split (default dev), written into split[n]. */
static const char *best_metric_(const cli_hopts *o, char *split, size_t n)
{
	const char *dot = strchr(o->metric, '.');
	if (dot && (size_t)(dot - o->metric) < n &&
	    (!strncmp(o->metric, "train.", 6) || !strncmp(o->metric, "dev.", 4) ||
	     !strncmp(o->metric, "test.", 5))) {
		snprintf(split, n, "%.*s", (int)(dot - o->metric), o->metric);
		return dot + 1;
	}
	if (o->split)
		snprintf(split, n, "%s", o->split);
	return o->metric;
}

/* The best run's row (st on it) as a one-row table; 0 or EXIT_FAILURE. */
static int best_print_(sp_ctx *ctx, sqlite3_stmt *st, const char *key,
		       cli_format format)
{
	static const char *const cols[] = {"id", "pipeline", "status",
					   "started", "metric", "value"};
	cli_table *t = cli_table_new(6, cols);
	char when[20];
	if (!t)
		return sp_err(ctx, SP_ENOMEM, "out of memory"), EXIT_FAILURE;
	short_time_(when, (const char *)sqlite3_column_text(st, 3));
	cli_table_row(t);
	cli_table_int(t, sqlite3_column_int64(st, 0));
	cli_table_text(t, (const char *)sqlite3_column_text(st, 1));
	cli_table_text(t, (const char *)sqlite3_column_text(st, 2));
	cli_table_text(t, when);
	cli_table_text(t, key);
	cli_table_num(t, sqlite3_column_double(st, 4));
	if (cli_table_failed(t)) {
		cli_table_free(t);
		return sp_err(ctx, SP_ENOMEM, "out of memory"), EXIT_FAILURE;
	}
	cli_table_print(t, stdout, format, NULL);
	if (format == CLI_JSON)
		printf("\n");
	cli_table_free(t);
	return 0;
}

static int best_(sp_ctx *ctx, const cli_hopts *o)
{
	sp_runlog *log = NULL;
	sqlite3_stmt *st = NULL;
	char split[16] = "dev", key[160];
	const char *name;
	int hi, rc, status = EXIT_FAILURE, b = 1;

	if (!o->metric)
		return cli_usage("best", "--metric NAME is required%s", "");
	if (o->n_pos)
		return cli_usage("best", "unexpected argument '%s'", o->pos[0]);
	name = best_metric_(o, split, sizeof(split));
	hi = o->maximize || (!o->minimize && cli_metric_higher_better(name));
	snprintf(key, sizeof(key), "%s.%s", split, name);
	if (cli_open_read(&log, ctx, o) || cli_need_metric(log, ctx, split, name, key))
		goto done;
	rc = sqlite3_prepare_v2(sp_runlog_db_(log), best_sql_(log, hi), -1,
				&st, NULL);
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
	status = best_print_(ctx, st, key, o->format);
done:
	if (status)
		cli_fail(ctx);
	sqlite3_finalize(st);
	sp_runlog_close(log);
	return status;
}

int cli_history_main(const char *cmd, int argc, char **argv, const char *db)
{
	cli_hopts o;
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
		status = cli_verb_show(ctx, &o);
	else if (!strcmp(cmd, "compare"))
		status = cli_verb_compare(ctx, &o);
	else if (!strcmp(cmd, "best"))
		status = best_(ctx, &o);
	else if (!strcmp(cmd, "tag"))
		status = cli_verb_tag(ctx, &o);
	else if (!strcmp(cmd, "delete"))
		status = cli_verb_delete(ctx, &o);
	else
		status = cli_verb_report(ctx, &o);
	sp_ctx_free(ctx);
	return status;
}
