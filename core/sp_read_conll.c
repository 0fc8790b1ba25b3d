/*
 * sp_read_conll.c: [data] format = conll, one `token<TAB>label` per line
 * and a blank line between sentences (NER); one example per sentence.
 * The open sentence is gathered in a buffer of its own (strings, then
 * pointers made once it ends) and handed to the host as one example.
 *
 * `split_marks` aligns a training split's tokenization with the one the
 * model will read: WNUT-17's training tweets write "@user", "#tag" and
 * "don't" as one token, its dev and test splits split them ("@" "user",
 * "don" "'" "t").  A training token that holds one of the marks is split
 * around each (piece_label_ says how the pieces share its tag), so that
 * what the model learns from is what it will be asked to read.
 */
#include "sp_read_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_grow.h"
#include "sp_tags.h"
#include "sp_textfile.h"

typedef struct sent_ {
	char *buf;           /* token\0label\0 token\0label\0 ... */
	size_t len, cap;
	size_t *off;         /* 2 per token: token, label offsets in buf */
	const char **ptr;    /* tokens [0, n), labels [n, 2n) at the end */
	size_t n, ncap;
	size_t line;         /* of the first token */
	const char *marks;   /* split_marks (training split), or NULL */
	/* The last token line's own label (a split token's last piece has
	 * the same type and an inside or ending prefix alike): whether the
	 * next token continues its entity. */
	int has_prev;        /* prev_label holds it (it fits) */
	char prev_label[64];
} sent_;

static int is_ws_(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int put_(sent_ *s, const char *str, size_t len, size_t *off)
{
	if (len >= SIZE_MAX - s->len - 1 ||
	    sp_grow(&s->buf, &s->cap, s->len + len + 1, 1) < 0)
		return -1;
	memcpy(s->buf + s->len, str, len);
	s->buf[s->len + len] = '\0';
	*off = s->len;
	s->len += len + 1;
	return 0;
}

/* Adds token tok[0, nt) with label lab[0, nl) to the open sentence. */
static int sent_add_(sent_ *s, sp_ctx *ctx, const char *path, size_t lineno,
		     const char *tok, size_t nt, const char *lab, size_t nl)
{
	if (sp_grow(&s->off, &s->ncap, 2 * (s->n + 1), sizeof(size_t)) < 0 ||
	    put_(s, tok, nt, &s->off[2 * s->n]) < 0 ||
	    put_(s, lab, nl, &s->off[2 * s->n + 1]) < 0)
		return sp_err(ctx, SP_ENOMEM, "%s:%zu: out of memory", path, lineno);
	if (s->n++ == 0)
		s->line = lineno;
	return SP_OK;
}

/* The prefix of a tag of a scheme (B, I, E, S) and its type, or 0 for O
 * and labels of no scheme (sp_tag_parse). */
static char tag_prefix_(const char *label, const char **type)
{
	char p = 0;
	if (!sp_tag_parse(label, &p, type) || p == 'O')
		return 0;
	return p;
}

/* Whether byte c is one of the marks. */
static int is_mark_(const sent_ *s, char c)
{
	return c != '\0' && (unsigned char)c < 0x80 && strchr(s->marks, c);
}

/*
 * The label of piece i of n of a token labelled lab[0, nl) (prefix p);
 * f is its first piece that is not a mark.  Marks before f are outside
 * the entity (O) unless it goes on through them (cont: an I-X or E-X
 * token after one of type X: I-X).  f starts the token's part of the
 * entity (B-X for a B-X or S-X token); the pieces after it are inside,
 * the last one E-X for an E-X or S-X token; a lone entity piece keeps the
 * token's prefix.  IOB1 data, whose B-X starts an entity right after one
 * of its type, would get B-X after an O mark: a CRF with that scheme
 * refuses it in one line.  Into buf.
 */
static const char *piece_label_(char p, const char *lab, size_t nl, size_t i,
				size_t f, size_t n, int cont, char *buf)
{
	char q;
	if (i < f)
		q = cont ? 'I' : 0;
	else if (i == f && i + 1 == n)
		q = p;
	else if (i == f)
		q = p == 'S' ? 'B' : p == 'E' ? 'I' : p;
	else
		q = i + 1 == n && (p == 'E' || p == 'S') ? 'E' : 'I';
	if (!q)
		return "O";
	/* B-X, I-X, E-X: the token's type after another prefix */
	memcpy(buf, lab, nl);
	buf[0] = q;
	buf[nl] = '\0';
	return buf;
}

/* The pieces of tok[0, nt): each mark alone, the runs between them, as
 * [b, e) pairs; how many, or 0 when more than cap. */
static size_t pieces_(const sent_ *s, const char *tok, size_t nt, size_t *b,
		      size_t *e, size_t cap)
{
	size_t n = 0, k = 0;
	while (k < nt) {
		if (n == cap)
			return 0;
		b[n] = k;
		if (is_mark_(s, tok[k]))
			k++;
		else
			while (k < nt && !is_mark_(s, tok[k]))
				k++;
		e[n++] = k;
	}
	return n;
}

/* Whether a token of prefix p and type continues the entity of the
 * token before it (I-X or E-X after B-X or I-X). */
static int continues_(const sent_ *s, char p, const char *type)
{
	const char *ptype = NULL;
	const char pp = s->has_prev ? tag_prefix_(s->prev_label, &ptype) : 0;
	return (p == 'I' || p == 'E') && (pp == 'B' || pp == 'I') && strcmp(type, ptype) == 0;
}

/* Adds the pieces of a token split around its marks. */
static int add_pieces_(sent_ *s, sp_ctx *ctx, const char *path, size_t lineno,
		       const char *tok, const size_t *b, const size_t *e, size_t n,
		       const char *lab, size_t nl)
{
	size_t f = 0;
	const char *type = NULL;
	char cur[64], buf[64], p;
	int cont;
	memcpy(cur, lab, nl); /* nl < 64: the caller checked */
	cur[nl] = '\0';
	p = tag_prefix_(cur, &type);
	cont = p && continues_(s, p, type);
	int rc = SP_OK;
	while (f < n && e[f] - b[f] == 1 && is_mark_(s, tok[b[f]]))
		f++;
	if (f == n)
		f = 0; /* marks only: the first starts the entity */
	for (size_t i = 0; i < n && rc >= 0; i++) {
		/* O and labels of no scheme: every piece the same */
		const char *l = p ? piece_label_(p, lab, nl, i, f, n, cont, buf) : NULL;
		rc = sent_add_(s, ctx, path, lineno, tok + b[i], e[i] - b[i],
			       l ? l : lab, l ? strlen(l) : nl);
	}
	return rc;
}

/* Adds a token line, split around its marks (split_marks): "@user" is
 * "@" "user", "don't" is "don" "'" "t".  A token of more than 64 pieces,
 * or with a label of 64 bytes or more, is added whole. */
static int sent_add_marked_(sent_ *s, sp_ctx *ctx, const char *path,
			    size_t lineno, const char *tok, size_t nt,
			    const char *lab, size_t nl)
{
	size_t b[64], e[64], n;
	int rc;
	if (!s->marks)
		return sent_add_(s, ctx, path, lineno, tok, nt, lab, nl);
	n = nl < sizeof(s->prev_label) ? pieces_(s, tok, nt, b, e, 64) : 0;
	if (n < 2)
		rc = sent_add_(s, ctx, path, lineno, tok, nt, lab, nl);
	else
		rc = add_pieces_(s, ctx, path, lineno, tok, b, e, n, lab, nl);
	s->has_prev = nl < sizeof(s->prev_label);
	if (s->has_prev) {
		memcpy(s->prev_label, lab, nl);
		s->prev_label[nl] = '\0';
	}
	return rc;
}

/* Hands the open sentence, if any, to the host and empties the buffer. */
static int sent_end_(sent_ *s, sp_ctx *ctx, const char *path,
		     const sp_read_env *env)
{
	sp_example e = SP_EXAMPLE_INIT;
	const char **p;

	if (s->n == 0)
		return SP_OK;
	p = realloc(s->ptr, 2 * s->n * sizeof(*p));
	if (!p)
		return sp_err(ctx, SP_ENOMEM, "%s:%zu: out of memory", path, s->line);
	s->ptr = p;
	for (size_t i = 0; i < s->n; i++) {
		p[i] = s->buf + s->off[2 * i];
		p[s->n + i] = s->buf + s->off[2 * i + 1];
	}
	e.line = s->line;
	e.tokens = p;
	e.tags = p + s->n;
	e.n_tokens = s->n;
	s->n = 0;
	s->len = 0;
	s->has_prev = 0;
	return env->emit(env->payload, &e);
}

/* Bounds of the next column of s[0, len) from *i, which is moved past
 * it: columns are separated by runs of tabs when tabs (a line holding a
 * tab: a column may then contain spaces, and is trimmed of them), by runs
 * of spaces and tabs otherwise.  Returns 0 when no column is left. */
static int conll_col_(const char *s, size_t len, size_t *i, int tabs,
		      size_t *b, size_t *e)
{
	size_t k = *i;

	if (k > 0) /* not the first column: skip the separator */
		while (k < len && (tabs ? s[k] == '\t' : is_ws_(s[k])))
			k++;
	if (k >= len && *i > 0)
		return 0;
	*b = k;
	while (k < len && (tabs ? s[k] != '\t' : !is_ws_(s[k])))
		k++;
	*e = k;
	*i = k > *i ? k : len; /* an empty first column ends the line */
	if (tabs) {
		while (*b < *e && s[*b] == ' ')
			(*b)++;
		while (*e > *b && s[*e - 1] == ' ')
			(*e)--;
	}
	return 1;
}

/* The columns of a token line: the token (first), the label (column
 * `want`, or the last when want < 0) and their count. */
typedef struct cols_ {
	size_t ncol, tb, te, lb, le;
} cols_;

static void split_cols_(const char *s, size_t len, int want, cols_ *c)
{
	int tabs = memchr(s, '\t', len) != NULL;
	size_t i = 0, b, e, end = len;

	memset(c, 0, sizeof(*c));
	while (is_ws_(s[end - 1])) /* not blank: the caller checked */
		end--;
	while (conll_col_(s, end, &i, tabs, &b, &e)) {
		if (c->ncol == 0) {
			c->tb = b;
			c->te = e;
		} else if (want < 0 || c->ncol == (size_t)want) {
			c->lb = b;
			c->le = e;
		}
		c->ncol++;
	}
}

/*
 * One token line: the token is the first column, the label column
 * conll_label_col; -1 is the last, and AUTO (the default) the last of 2
 * or 4 columns.  Under AUTO, 3 or 5+ columns are refused: which one is the
 * label would be a guess ("token POS label" and "token label extra" look
 * alike).
 */
static int conll_line_(sent_ *st, sp_ctx *ctx, const char *path, size_t lineno,
		       const sp_data_opts *o, const sp_read_env *env,
		       const char *s, size_t len)
{
	int want = o->conll_label_col;
	char ex[SP_EXCERPT_CAP];
	cols_ c;

	if (sp_text_blank(s, len) ||
	    (len >= 10 && memcmp(s, "-DOCSTART-", 10) == 0))
		return sent_end_(st, ctx, path, env);
	split_cols_(s, len, want, &c);
	if (c.te == c.tb || c.ncol < 2 ||
	    (c.le == c.lb && (want < 0 || c.ncol > (size_t)want))) {
		if (o->skip_bad)
			return env->skip(env->payload, lineno);
		return sp_err(ctx, SP_EINPUT,
			      "%s:%zu: expected 'token<TAB>label', got '%s'",
			      path, lineno, sp_text_excerpt(ex, s, len));
	}
	if (want == SP_DATA_LABEL_AUTO && c.ncol != 2 && c.ncol != 4)
		return sp_err(ctx, SP_EINPUT,
			      "%s:%zu: %zu columns, expected 2 (token label) or "
			      "4 (CoNLL-2003: token POS chunk label); for another "
			      "layout name the label column: '%s'",
			      path, lineno, c.ncol, sp_text_excerpt(ex, s, len));
	if (want >= 0 && c.ncol <= (size_t)want) {
		if (o->skip_bad)
			return env->skip(env->payload, lineno);
		return sp_err(ctx, SP_EINPUT,
			      "%s:%zu: %zu columns, expected at least %d "
			      "(the label is column %d, counted from 0): '%s'",
			      path, lineno, c.ncol, want + 1, want,
			      sp_text_excerpt(ex, s, len));
	}
	return sent_add_marked_(st, ctx, path, lineno, s + c.tb, c.te - c.tb,
				s + c.lb, c.le - c.lb);
}

static int read_conll_(sp_ctx *ctx, const char *path, const sp_data_opts *o,
		       const sp_read_env *env, const char *marks)
{
	sent_ st = {0};
	sp_textfile *f = NULL;
	const char *s;
	size_t len;
	int rc = sp_textfile_open(&f, ctx, path, o->max_line_bytes,
				  o->max_file_bytes);

	st.marks = marks;

	while (rc >= 0 && (rc = sp_textfile_line(f, ctx, &s, &len)) > 0)
		if ((rc = conll_line_(&st, ctx, path, sp_textfile_lineno(f), o,
				      env, s, len)) != 0)
			break; /* > 0: the host has enough */
	/* a last sentence without a blank line after it */
	if (rc == 0)
		rc = sent_end_(&st, ctx, path, env);
	sp_textfile_close(f);
	free(st.buf);
	free(st.off);
	free(st.ptr);
	return rc < 0 ? rc : SP_OK;
}

int sp_read_conll(sp_ctx *ctx, const char *path, const sp_data_opts *o,
		  const sp_read_env *env)
{
	return read_conll_(ctx, path, o, env, NULL);
}

static int conll_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		       const sp_read_env *env)
{
	sp_data_opts o;
	const char *marks = sp_kv_str(args, "split_marks");
	sp_read_text_opts(&o, args, env);
	/* the training split only: dev and test are scored token for token */
	if (!marks || !*marks || !env->split || strcmp(env->split, "train") != 0)
		marks = NULL;
	return read_conll_(ctx, path, &o, env, marks);
}

static int conll_check_(sp_ctx *ctx, const sp_kv *args)
{
	const char *where = sp_kv_where(args, "label_column");
	const char *marks = sp_kv_str(args, "split_marks");
	for (const char *m = marks; m && *m; m++)
		if ((unsigned char)*m >= 0x80 || *m == ' ' || *m == '\t')
			return sp_err(ctx, SP_EINVAL, "%s: data.split_marks = \"%s\": expected ASCII characters other than space and tab, such as \"@#\"",
				      sp_kv_where(args, "split_marks"), marks);
	if (where && strcmp(where, "default") != 0 && sp_kv_int(args, "label_column") == 0)
		return sp_err(ctx, SP_EINVAL, "%s: data.label_column = 0 is the token, expected the label's column (>= 1, or -1 for the last)",
			      where);
	return SP_OK;
}

static const sp_param_spec conll_params_[] = {
	{"label_column", SP_T_INT, "-1", "conll: column of the label (0-based, -1 = the last); when not given, lines must have 2 columns (token label) or 4 (CoNLL-2003)", NULL},
	{"skip_bad", SP_T_BOOL, "false", "conll, tsv: skip (and count) malformed lines, such as an empty token, instead of failing; encoding errors still fail", NULL},
	{"split_marks", SP_T_STRING, "", "conll: in the training split, a token that holds one of these ASCII characters is split around each, as many tokenizers do (\"@#'\": @user -> @ user, don't -> don ' t); a leading mark is outside the entity unless the entity goes on through it, the pieces after it carry the entity (B-X .. I-X .. E-X as the token's tag says); dev and test are read as they are", NULL},
	{NULL, 0, NULL, NULL, NULL}};

const sp_reader_ops sp_reader_conll = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "conll",
		 "token<TAB>label per line, a blank line between sentences (tagging)",
		 conll_params_},
	.fields = SP_FIELD_TOKENS | SP_FIELD_TAGS,
	.check = conll_check_,
	.read = conll_read_,
};
