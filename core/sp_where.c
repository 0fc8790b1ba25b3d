/*
 * sp_where.c: a recursive-descent parser for the --where and --order-by
 * language (sp_where.h) that emits SQL with `?` placeholders and a list of
 * values to bind.  Names are resolved here to fixed SQL templates; nothing
 * the user typed is copied into the SQL text.
 *
 *   expr   := term { OR term }
 *   term   := factor { AND factor }
 *   factor := NOT factor | '(' expr ')' | name op value
 *   op     := = | == | != | <> | < | <= | > | >= | LIKE | NOT LIKE
 */
#define _POSIX_C_SOURCE 200809L

#include "sp_where.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct bind_ {
	int is_num;
	double num;
	char *text;
} bind_;

struct sp_where {
	char *sql;
	size_t len, cap;
	bind_ *binds;
	size_t n_binds, cap_binds;
	sp_where_ref *refs;
	char **ref_strings;     /* a, b, text of each ref (owned) */
	size_t n_refs, cap_refs;
};

typedef struct parser_ {
	sp_where *w;
	sp_ctx *ctx;
	const char *text, *p;
	int code;               /* first error */
	int schema;             /* the log's schema version */
	int neg;                /* inside a NOT */
} parser_;

/* The run's own columns that a filter may name. */
static const char *const attrs_[] = {"id", "pipeline", "status", "started",
				     "ended", "seed", "host", "error", NULL};

static int perr_(parser_ *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int perr_(parser_ *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (ps->code)
		return ps->code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps->code = sp_err(ps->ctx, SP_EINVAL, "at column %d of '%s': %s",
			  (int)(ps->p - ps->text) + 1, ps->text, msg);
	return ps->code;
}

static int emit_(parser_ *ps, const char *s)
{
	sp_where *w = ps->w;
	size_t n = strlen(s);
	if (ps->code)
		return ps->code;
	if (w->len + n + 1 > w->cap) {
		size_t cap = (w->len + n + 1) * 2;
		char *p = realloc(w->sql, cap);
		if (!p)
			return ps->code = sp_err(ps->ctx, SP_ENOMEM,
						 "out of memory");
		w->sql = p;
		w->cap = cap;
	}
	memcpy(w->sql + w->len, s, n + 1);
	w->len += n;
	return SP_OK;
}

static int add_bind_(parser_ *ps, const char *text, int is_num, double num)
{
	sp_where *w = ps->w;
	bind_ *b;
	if (ps->code)
		return ps->code;
	if (w->n_binds == w->cap_binds) {
		size_t cap = w->cap_binds ? 2 * w->cap_binds : 8;
		bind_ *p = realloc(w->binds, cap * sizeof(*p));
		if (!p)
			return ps->code = sp_err(ps->ctx, SP_ENOMEM,
						 "out of memory");
		w->binds = p;
		w->cap_binds = cap;
	}
	b = &w->binds[w->n_binds];
	memset(b, 0, sizeof(*b));
	b->is_num = is_num;
	b->num = num;
	if (text && !(b->text = strdup(text)))
		return ps->code = sp_err(ps->ctx, SP_ENOMEM, "out of memory");
	w->n_binds++;
	return emit_(ps, "?");
}

static void skip_ws_(parser_ *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

/* Matches a keyword (case-insensitive) followed by a non-word character. */
static int keyword_(parser_ *ps, const char *kw)
{
	size_t n = strlen(kw);
	skip_ws_(ps);
	if (strncasecmp(ps->p, kw, n) == 0 &&
	    !isalnum((unsigned char)ps->p[n]) && ps->p[n] != '_') {
		ps->p += n;
		return 1;
	}
	return 0;
}

static int is_word_(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/*
 * Reads a dotted name into parts (each malloc'd): plain parts of
 * [A-Za-z0-9_-], or `backquoted` ones.  Returns the count, or -1.
 */
static int read_name_(parser_ *ps, char **parts, int max_parts)
{
	int n = 0;
	skip_ws_(ps);
	for (;;) {
		const char *start = ps->p;
		char *part;
		if (n == max_parts) {
			perr_(ps, "a name has at most %d parts", max_parts);
			goto fail;
		}
		if (*ps->p == '`') {
			const char *end = strchr(ps->p + 1, '`');
			if (!end) {
				perr_(ps, "a backquote that is never closed");
				goto fail;
			}
			part = strndup(ps->p + 1, (size_t)(end - ps->p - 1));
			ps->p = end + 1;
		} else {
			while (is_word_((unsigned char)*ps->p))
				ps->p++;
			if (ps->p == start) {
				perr_(ps, "expected a name such as "
				      "metrics.dev.f1, params.model.hidden, "
				      "tags.KEY or status, got '%.20s'",
				      *start ? start : "the end");
				goto fail;
			}
			part = strndup(start, (size_t)(ps->p - start));
		}
		if (!part) {
			ps->code = sp_err(ps->ctx, SP_ENOMEM, "out of memory");
			goto fail;
		}
		parts[n++] = part;
		if (*ps->p != '.')
			return n;
		ps->p++;
	}
fail:
	while (n > 0)
		free(parts[--n]);
	return -1;
}

static char *join_(char **parts, int from, int to)
{
	size_t len = 1;
	char *s;
	for (int i = from; i < to; i++)
		len += strlen(parts[i]) + 1;
	if (!(s = malloc(len)))
		return NULL;
	s[0] = '\0';
	for (int i = from; i < to; i++) {
		if (i > from)
			strcat(s, ".");
		strcat(s, parts[i]);
	}
	return s;
}

static int is_split_(const char *s)
{
	return !strcmp(s, "train") || !strcmp(s, "dev") || !strcmp(s, "test");
}

/* Records a ref; takes ownership of a and b (either may be NULL). */
static int add_ref_(parser_ *ps, sp_where_kind kind, char *a, char *b,
		    const char *start)
{
	sp_where *w = ps->w;
	char *text = strndup(start, (size_t)(ps->p - start));
	if (w->n_refs == w->cap_refs) {
		size_t cap = w->cap_refs ? 2 * w->cap_refs : 8;
		sp_where_ref *r = realloc(w->refs, cap * sizeof(*r));
		char **s = r ? realloc(w->ref_strings, 3 * cap * sizeof(*s))
			     : NULL;
		if (r)
			w->refs = r;
		if (s)
			w->ref_strings = s;
		if (!r || !s) {
			free(a);
			free(b);
			free(text);
			return ps->code = sp_err(ps->ctx, SP_ENOMEM,
						 "out of memory");
		}
		w->cap_refs = cap;
	}
	w->refs[w->n_refs] = (sp_where_ref){kind, a, b, text};
	w->ref_strings[3 * w->n_refs] = a;
	w->ref_strings[3 * w->n_refs + 1] = b;
	w->ref_strings[3 * w->n_refs + 2] = text;
	w->n_refs++;
	return text ? SP_OK : (ps->code = sp_err(ps->ctx, SP_ENOMEM,
						 "out of memory"));
}

/* The value of metric split.name of run r: the final (else last) one.
 * From schema 3 one search of final_values' primary key. */
static void metric_value_(parser_ *ps, const char *split, const char *name)
{
	if (ps->schema >= 3) {
		emit_(ps, "(SELECT f.value FROM final_values f WHERE f.run_id = "
		      "r.id AND f.name = ");
		add_bind_(ps, name, 0, 0);
		emit_(ps, " AND f.split = ");
		if (split)
			add_bind_(ps, split, 0, 0);
		else
			emit_(ps, "''");
		emit_(ps, ")");
		return;
	}
	emit_(ps, "(SELECT m.value FROM metrics m WHERE m.run_id = r.id "
	      "AND m.name = ");
	add_bind_(ps, name, 0, 0);
	if (split) {
		emit_(ps, " AND m.split = ");
		add_bind_(ps, split, 0, 0);
	} else {
		emit_(ps, " AND m.split IS NULL");
	}
	emit_(ps, " ORDER BY m.epoch IS NOT NULL, m.epoch DESC, "
	      "m.id DESC LIMIT 1)");
}

/*
 * A metric compared with a number, outside any NOT, from schema 3: the
 * runs whose value matches, read from the index on final_values (name,
 * split, value) in one range, so a selective filter reads only the runs
 * it finds.  (Under NOT the scalar form stays: a run without the metric
 * must not match there either.)  Rewrites what name_ emitted from mark
 * on, keeping its binds (name, then split) in their order.
 */
static void metric_in_(parser_ *ps, size_t mark, int has_split, const char *op)
{
	ps->w->len = mark;
	ps->w->sql[mark] = '\0';
	emit_(ps, "r.id IN (SELECT f.run_id FROM final_values f WHERE "
	      "f.name = ? AND f.split = ");
	emit_(ps, has_split ? "?" : "''");
	emit_(ps, " AND f.value");
	emit_(ps, op);
}

/*
 * Parses a name and emits the SQL expression of its value, with the name
 * parts bound.  *kind_out tells the caller what it is (metrics are
 * numbers, params text).
 */
/* The name's parts as read (parts[0..n)), where it starts in the text,
 * and the kind found, for the helpers of name_. */
typedef struct name_parts_ {
	char **parts;
	int n;
	const char *start;
	sp_where_kind *kind;
} name_parts_;

/* metrics.SPLIT.NAME or metrics.NAME (a value of no split). */
static int name_metric_(parser_ *ps, const name_parts_ *np)
{
	char **parts = np->parts;
	int n = np->n, has_split = n >= 3 && is_split_(parts[1]);
	char *split, *name;
	if (n < 2)
		return perr_(ps, "'%s' needs a metric: metrics.dev.f1 or "
			     "metrics.lr", parts[0]);
	split = has_split ? strdup(parts[1]) : NULL;
	name = join_(parts, has_split ? 2 : 1, n);
	*np->kind = SP_WHERE_METRIC;
	metric_value_(ps, split, name);
	return add_ref_(ps, SP_WHERE_METRIC, split, name, np->start);
}

/* params.SECTION.KEY (the key may hold dots). */
static int name_param_(parser_ *ps, const name_parts_ *np)
{
	char *key;
	if (np->n < 3)
		return perr_(ps, "'%.*s' needs a section and a key: "
			     "params.model.hidden", (int)(ps->p - np->start),
			     np->start);
	*np->kind = SP_WHERE_PARAM;
	emit_(ps, "(SELECT p.value FROM params p WHERE p.run_id = r.id "
	      "AND p.section = ");
	add_bind_(ps, np->parts[1], 0, 0);
	emit_(ps, " AND p.key = ");
	key = join_(np->parts, 2, np->n);
	add_bind_(ps, key, 0, 0);
	emit_(ps, ")");
	return add_ref_(ps, SP_WHERE_PARAM, strdup(np->parts[1]), key,
			np->start);
}

/* tags.KEY */
static int name_tag_(parser_ *ps, const name_parts_ *np)
{
	char *key = np->n >= 2 ? join_(np->parts, 1, np->n) : NULL;
	if (!key)
		return perr_(ps, "'tags' needs a key: tags.note");
	*np->kind = SP_WHERE_TAG;
	emit_(ps, "(SELECT t.value FROM tags t WHERE t.run_id = r.id "
	      "AND t.key = ");
	add_bind_(ps, key, 0, 0);
	emit_(ps, ")");
	return add_ref_(ps, SP_WHERE_TAG, NULL, key, np->start);
}

/* A run column of attrs_ (parts[first]), else an error listing them. */
static int name_attr_(parser_ *ps, const name_parts_ *np, int first)
{
	int k;
	for (k = 0; attrs_[k]; k++)
		if (!strcmp(np->parts[first], attrs_[k]))
			break;
	if (!attrs_[k])
		return perr_(ps, "unknown name '%.*s'; expected "
			     "metrics.SPLIT.NAME, params.SECTION.KEY, "
			     "tags.KEY or one of id, pipeline, status, "
			     "started, ended, seed, host, error",
			     (int)(ps->p - np->start), np->start);
	*np->kind = SP_WHERE_ATTR;
	/* attrs_[k] is a fixed string of this file, not user text */
	emit_(ps, "r.");
	emit_(ps, attrs_[k]);
	return add_ref_(ps, SP_WHERE_ATTR, NULL, strdup(attrs_[k]), np->start);
}

static int name_(parser_ *ps, sp_where_kind *kind_out)
{
	char *parts[16];
	name_parts_ np;
	int first = 0, code;
	const char *p0;
	skip_ws_(ps);
	np.start = ps->p;
	np.parts = parts;
	np.kind = kind_out;
	np.n = read_name_(ps, parts, 16);
	if (np.n < 0)
		return ps->code;
	p0 = parts[0];
	if (np.n >= 2 && (!strcmp(p0, "run") || !strcmp(p0, "attributes") ||
			  !strcmp(p0, "attribute")))
		first = 1;
	if (!strcmp(p0, "metrics") || !strcmp(p0, "metric"))
		code = name_metric_(ps, &np);
	else if (!strcmp(p0, "params") || !strcmp(p0, "param"))
		code = name_param_(ps, &np);
	else if (!strcmp(p0, "tags") || !strcmp(p0, "tag"))
		code = name_tag_(ps, &np);
	else if (np.n == first + 1)
		code = name_attr_(ps, &np, first);
	else
		code = perr_(ps, "unknown name '%.*s'; expected "
			     "metrics.SPLIT.NAME, params.SECTION.KEY, tags.KEY "
			     "or a run column (id, pipeline, status, ...)",
			     (int)(ps->p - np.start), np.start);
	for (int i = 0; i < np.n; i++)
		free(parts[i]);
	return ps->code ? ps->code : code;
}

/* A value: a number or a quoted text.  *is_num tells which. */
static int value_(parser_ *ps, int *is_num, double *num, char **text)
{
	char q;
	skip_ws_(ps);
	*text = NULL;
	q = *ps->p;
	if (q == '\'' || q == '"') {
		size_t cap = strlen(ps->p) + 1, k = 0;
		char *s = malloc(cap);
		if (!s)
			return ps->code = sp_err(ps->ctx, SP_ENOMEM,
						 "out of memory");
		ps->p++;
		for (;;) {
			if (!*ps->p) {
				free(s);
				return perr_(ps, "a text value that is never "
					     "closed with %c", q);
			}
			if (*ps->p == q) {
				if (ps->p[1] != q)
					break;
				ps->p++;
			}
			s[k++] = *ps->p++;
		}
		ps->p++;
		s[k] = '\0';
		*is_num = 0;
		*text = s;
		return SP_OK;
	} else {
		char *end;
		errno = 0;
		*num = strtod(ps->p, &end);
		if (end == ps->p || errno || !isfinite(*num) ||
		    is_word_((unsigned char)*end))
			return perr_(ps, "expected a number or a 'quoted' "
				     "value, got '%.20s'",
				     *ps->p ? ps->p : "the end");
		ps->p = end;
		*is_num = 1;
		return SP_OK;
	}
}

static const char *op_(parser_ *ps)
{
	skip_ws_(ps);
	if (keyword_(ps, "like"))
		return " LIKE ";
	if (keyword_(ps, "not")) {
		if (keyword_(ps, "like"))
			return " NOT LIKE ";
		perr_(ps, "expected 'like' after 'not'");
		return NULL;
	}
	static const struct { const char *tok, *sql; } ops[] = {
		{"==", " = "}, {"!=", " != "}, {"<>", " != "}, {"<=", " <= "},
		{">=", " >= "}, {"=", " = "}, {"<", " < "}, {">", " > "}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].tok);
		if (!strncmp(ps->p, ops[i].tok, n)) {
			ps->p += n;
			return ops[i].sql;
		}
	}
	perr_(ps, "expected an operator (=, !=, <, <=, >, >=, like), got "
	      "'%.20s'", *ps->p ? ps->p : "the end");
	return NULL;
}

static int expr_(parser_ *ps, int depth);

static int comparison_(parser_ *ps)
{
	size_t mark = ps->w->len;
	sp_where_kind kind = SP_WHERE_ATTR;
	const char *op;
	char *text = NULL;
	int is_num = 0;
	double num = 0;
	char *lhs;

	if (name_(ps, &kind))
		return ps->code;
	if (!(op = op_(ps)))
		return ps->code;
	if (value_(ps, &is_num, &num, &text))
		return ps->code;
	if (is_num && !strstr(op, "LIKE") && kind == SP_WHERE_METRIC &&
	    ps->schema >= 3 && !ps->neg) {
		const sp_where_ref *ref = &ps->w->refs[ps->w->n_refs - 1];
		metric_in_(ps, mark, ref->a != NULL, op);
		add_bind_(ps, text, is_num, num);
		free(text);
		return emit_(ps, ")");
	}
	/* Parameters and tags are text: against a number (hidden > 32,
	 * lr = 1e-3) they compare as numbers. */
	if (is_num && !strstr(op, "LIKE")) {
		if (kind == SP_WHERE_PARAM || kind == SP_WHERE_TAG) {
			lhs = strdup(ps->w->sql + mark);
			if (!lhs) {
				free(text);
				return ps->code = sp_err(ps->ctx, SP_ENOMEM,
							 "out of memory");
			}
			ps->w->len = mark;
			ps->w->sql[mark] = '\0';
			emit_(ps, "CAST(");
			emit_(ps, lhs);
			emit_(ps, " AS REAL)");
			free(lhs);
		}
	}
	emit_(ps, op);
	add_bind_(ps, text, is_num, num);
	free(text);
	return ps->code;
}

static int factor_(parser_ *ps, int depth)
{
	if (depth > 64)
		return perr_(ps, "parentheses nested too deep");
	skip_ws_(ps);
	if (keyword_(ps, "not")) {
		emit_(ps, "NOT (");
		ps->neg++;
		factor_(ps, depth + 1);
		ps->neg--;
		return emit_(ps, ")");
	}
	if (*ps->p == '(') {
		ps->p++;
		emit_(ps, "(");
		if (expr_(ps, depth + 1))
			return ps->code;
		skip_ws_(ps);
		if (*ps->p != ')')
			return perr_(ps, "expected ')', got '%.20s'",
				     *ps->p ? ps->p : "the end");
		ps->p++;
		return emit_(ps, ")");
	}
	return comparison_(ps);
}

static int term_(parser_ *ps, int depth)
{
	if (factor_(ps, depth))
		return ps->code;
	while (keyword_(ps, "and")) {
		emit_(ps, " AND ");
		if (factor_(ps, depth))
			return ps->code;
	}
	return ps->code;
}

static int expr_(parser_ *ps, int depth)
{
	if (term_(ps, depth))
		return ps->code;
	while (keyword_(ps, "or")) {
		emit_(ps, " OR ");
		if (term_(ps, depth))
			return ps->code;
	}
	return ps->code;
}

static int start_(sp_where **out, sp_ctx *ctx, const char *text,
		  parser_ *ps)
{
	*out = NULL;
	memset(ps, 0, sizeof(*ps));
	if (!text)
		return sp_err(ctx, SP_EINVAL, "no expression");
	ps->w = calloc(1, sizeof(*ps->w));
	if (!ps->w)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	ps->ctx = ctx;
	ps->text = text;
	ps->p = text;
	return emit_(ps, "");
}

static int finish_(sp_where **out, parser_ *ps)
{
	skip_ws_(ps);
	if (!ps->code && *ps->p)
		perr_(ps, "unexpected '%.20s' (join conditions with 'and' "
		      "or 'or')", ps->p);
	if (ps->code) {
		sp_where_free(ps->w);
		return ps->code;
	}
	*out = ps->w;
	return SP_OK;
}

int sp_where_parse(sp_where **out, sp_ctx *ctx, const char *text)
{
	return sp_where_parse_for(out, ctx, text, 2);
}

int sp_where_parse_for(sp_where **out, sp_ctx *ctx, const char *text,
		       int schema)
{
	parser_ ps;
	int code = start_(out, ctx, text, &ps);
	if (code)
		return code;
	ps.schema = schema;
	skip_ws_(&ps);
	if (!*ps.p)
		perr_(&ps, "empty expression");
	else
		expr_(&ps, 0);
	return finish_(out, &ps);
}

int sp_where_parse_order(sp_where **out, sp_ctx *ctx, const char *text)
{
	return sp_where_parse_order_for(out, ctx, text, 2);
}

int sp_where_parse_order_for(sp_where **out, sp_ctx *ctx, const char *text,
			     int schema)
{
	parser_ ps;
	int code = start_(out, ctx, text, &ps);
	if (code)
		return code;
	ps.schema = schema;
	do {
		sp_where_kind kind = SP_WHERE_ATTR;
		int desc;
		if (ps.w->len)
			emit_(&ps, ", ");
		if (name_(&ps, &kind))
			break;
		desc = kind == SP_WHERE_METRIC;
		if (keyword_(&ps, "desc"))
			desc = 1;
		else if (keyword_(&ps, "asc"))
			desc = 0;
		/* runs without the value last, whatever the direction */
		emit_(&ps, desc ? " DESC NULLS LAST" : " ASC NULLS LAST");
		skip_ws_(&ps);
	} while (!ps.code && *ps.p == ',' && ps.p++);
	return finish_(out, &ps);
}

void sp_where_free(sp_where *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_binds; i++)
		free(w->binds[i].text);
	for (size_t i = 0; i < 3 * w->n_refs; i++)
		free(w->ref_strings[i]);
	free(w->binds);
	free(w->refs);
	free(w->ref_strings);
	free(w->sql);
	free(w);
}

const char *sp_where_sql(const sp_where *w)
{
	return w ? w->sql : "";
}

size_t sp_where_n_binds(const sp_where *w)
{
	return w ? w->n_binds : 0;
}

int sp_where_bind(const sp_where *w, sqlite3_stmt *st, int first)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; w && i < w->n_binds && rc == SQLITE_OK; i++) {
		const bind_ *b = &w->binds[i];
		int at = first + (int)i;
		if (b->is_num)
			rc = sqlite3_bind_double(st, at, b->num);
		else
			rc = sqlite3_bind_text(st, at, b->text, -1,
					       SQLITE_TRANSIENT);
	}
	return rc;
}

size_t sp_where_n_refs(const sp_where *w)
{
	return w ? w->n_refs : 0;
}

const sp_where_ref *sp_where_ref_at(const sp_where *w, size_t i)
{
	return w && i < w->n_refs ? &w->refs[i] : NULL;
}
