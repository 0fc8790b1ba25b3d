/*
 * sp_where.h: the filter language of `pipeline runs --where` and
 * `--order-by`, compiled to SQL over the run log with bound values.
 *
 *   metrics.dev.f1 > 0.2 and params.model.plugin = 'lstm'
 *   (status = 'finished' or tags.note like 'base%') and not seed = 3
 *
 * Names: metrics.SPLIT.NAME (SPLIT train, dev or test; the run's final
 * evaluation, else its last epoch), metrics.NAME (a metric of no split,
 * such as lr), params.SECTION.KEY, tags.KEY, and the run's own columns
 * id, pipeline, status, started, ended, seed, host, error (also written
 * run.X or attributes.X).  A part holding other characters is quoted
 * with backquotes: metrics.dev.`f1-micro`.  Values: numbers, or text in
 * '...' or "..." (a doubled quote inside is one quote).  Operators: =, ==,
 * !=, <>, <, <=, >, >=, like, not like; and, or, not, parentheses.
 *
 * User text never becomes SQL: names are matched against this grammar and
 * every name part and value is a bound parameter.  The SQL reads the
 * run's row as alias r (`FROM runs r`).
 */
#ifndef SP_WHERE_H
#define SP_WHERE_H

#include <stddef.h>

#include <sqlite3.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_where sp_where;

typedef enum sp_where_kind {
	SP_WHERE_ATTR = 0,   /* a column of runs: name in b */
	SP_WHERE_METRIC = 1, /* a = split or NULL, b = metric name */
	SP_WHERE_PARAM = 2,  /* a = section, b = key */
	SP_WHERE_TAG = 3     /* b = key */
} sp_where_kind;

/* A name the expression refers to (borrowed from its sp_where). */
typedef struct sp_where_ref {
	sp_where_kind kind;
	const char *a, *b;
	const char *text;    /* as written, for messages */
} sp_where_ref;

/*
 * Compiles a --where expression (caller owns; sp_where_free).  SP_EINVAL
 * with a message naming the column of text where it went wrong and what
 * was expected.
 */
int sp_where_parse(sp_where **out, sp_ctx *ctx, const char *text);
/*
 * Compiles an --order-by list: NAME [asc|desc] [, NAME [asc|desc]]...
 * (descending by default for metrics, ascending otherwise).  Runs without
 * the value sort last.
 */
int sp_where_parse_order(sp_where **out, sp_ctx *ctx, const char *text);
/* The same for a log of schema version `schema` (sp_where_parse: 2).
 * From schema 3 metrics are read from final_values, and a metric
 * compared with a number (outside NOT) becomes `r.id IN (...)` over its
 * index, so a selective filter does not visit every run. */
int sp_where_parse_for(sp_where **out, sp_ctx *ctx, const char *text,
		       int schema);
int sp_where_parse_order_for(sp_where **out, sp_ctx *ctx, const char *text,
			     int schema);
void sp_where_free(sp_where *w);

/* The SQL: a condition for WHERE, or the list for ORDER BY (borrowed). */
const char *sp_where_sql(const sp_where *w);
/* The SQL holds plain `?` placeholders, numbered by SQLite left to right:
 * write the rest of the statement with `?` too, and bind these values at
 * the index of the first one.  Returns the SQLite code. */
int sp_where_bind(const sp_where *w, sqlite3_stmt *st, int first);
size_t sp_where_n_binds(const sp_where *w);

size_t sp_where_n_refs(const sp_where *w);
const sp_where_ref *sp_where_ref_at(const sp_where *w, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* SP_WHERE_H */
