/*
 * sp_data.c: the lines / conll / tsv readers and the batcher.
 *
 * Reading: a chunked line reader over stdio or zlib (gzread, so a line
 * may be of any length and a NUL byte is seen rather than silently ending
 * the line as with fgets/gzgets), a strict UTF-8 check of every line, then
 * one small parser per format.  All strings of a corpus go into one
 * growing byte arena and are referred to by offset while it grows; for
 * CoNLL the token and label pointers are made once at the end.  So a
 * corpus is five allocations however big the file.
 *
 * Batching: a stable sort by (length, index), shuffles drawn from the
 * context's RNG only, never from time or addresses, so a seed gives the
 * same batches everywhere.
 */
#include "sp_data.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Bytes of a bad line quoted in error messages. */
#define EXCERPT_MAX 40

typedef struct example_ {
	size_t a;     /* lines/tsv: text offset; conll: index of 1st token */
	size_t n;     /* lines/tsv: text length; conll: token count */
	size_t label; /* tsv: label offset */
	size_t line;  /* 1-based source line */
	size_t t_off; /* parallel: target text offset */
	size_t t_len; /*           and length */
} example_;

struct sp_corpus {
	sp_data_format format;
	char *arena;        /* every string, NUL-terminated */
	size_t alen, acap;
	example_ *ex;
	size_t n, ncap;
	size_t *tok;        /* while reading (conll): token, label offsets */
	size_t ntok, tcap;  /* tokens (pairs in tok) */
	const char **ptr;   /* conll, once read: tokens [0, ntok), labels
			       [ntok, 2 ntok) */
	size_t skipped;
	size_t skipped_first; /* line of the first skipped line */
};

/* ------------------------------------------------------------------ */
/* Formats and options                                                 */
/* ------------------------------------------------------------------ */

int sp_data_format_parse(sp_data_format *out, sp_ctx *ctx, const char *name)
{
	if (strcmp(name, "lines") == 0)
		*out = SP_DATA_LINES;
	else if (strcmp(name, "conll") == 0)
		*out = SP_DATA_CONLL;
	else if (strcmp(name, "tsv") == 0)
		*out = SP_DATA_TSV;
	else
		return sp_err(ctx, SP_EINVAL,
			      "data: unknown format '%s' (lines | conll | tsv)",
			      name);
	return SP_OK;
}

const char *sp_data_format_name(sp_data_format format)
{
	switch (format) {
	case SP_DATA_LINES: return "lines";
	case SP_DATA_CONLL: return "conll";
	case SP_DATA_TSV: return "tsv";
	case SP_DATA_PARALLEL: return "parallel";
	}
	return "?";
}

void sp_data_opts_init(sp_data_opts *opts)
{
	const sp_data_opts def = SP_DATA_OPTS_INIT;
	*opts = def;
}

/* ------------------------------------------------------------------ */
/* Line reader                                                         */
/* ------------------------------------------------------------------ */

typedef struct reader_ {
	const char *path;
	FILE *f;       /* plain file, or */
	gzFile gz;     /* a .gz file */
	char *buf;
	size_t cap;
	size_t beg;    /* unread data is buf[beg, end) */
	size_t end;
	size_t scan;   /* buf[beg, scan) is known to hold no '\n' */
	int eof;
	size_t lineno;     /* of the line being read, 1-based */
	size_t max_line;   /* ceilings (sp_data_opts) */
	uint64_t max_file;
	uint64_t total;    /* bytes read so far (decompressed) */
} reader_;

static int reader_open_(reader_ *r, sp_ctx *ctx, const char *path,
			size_t max_line, uint64_t max_file)
{
	size_t n = strlen(path);

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->max_line = max_line;
	r->max_file = max_file;
	errno = 0;
	if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
		r->gz = gzopen(path, "rb");
	else
		r->f = fopen(path, "rb");
	if (!r->f && !r->gz)
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", path,
			      errno ? strerror(errno) : "out of memory");
	r->cap = (size_t)1 << 16;
	if (r->cap > max_line + 1)
		r->cap = max_line + 1;
	r->buf = malloc(r->cap);
	if (!r->buf)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	return SP_OK;
}

static void reader_close_(reader_ *r)
{
	if (r->f)
		fclose(r->f);
	if (r->gz)
		gzclose(r->gz);
	free(r->buf);
}

/* Counts k bytes just read against the file ceiling; returns k (as the
 * int reader_fill_ returns: k <= 2^30) or the error. */
static int reader_count_(reader_ *r, sp_ctx *ctx, size_t k)
{
	r->total += k;
	if (r->total > r->max_file)
		return sp_err(ctx, SP_EINPUT,
			      "%s: more than %llu bytes, the ceiling of a data "
			      "file (max_file_bytes)",
			      r->path, (unsigned long long)r->max_file);
	return (int)k;
}

/* Reads more bytes after buf[end].  Returns the count, 0 at the end of
 * the file, or a negative code. */
static int reader_fill_(reader_ *r, sp_ctx *ctx)
{
	size_t want;

	if (r->beg > 0) {
		/* Keep the partial line at the front. */
		memmove(r->buf, r->buf + r->beg, r->end - r->beg);
		r->end -= r->beg;
		r->scan -= r->beg;
		r->beg = 0;
	}
	if (r->end == r->cap) {
		char *nb;
		size_t nc;
		/* the buffer holds only the line being read: past the
		 * ceiling, that line is too long */
		if (r->end > r->max_line)
			return sp_err(ctx, SP_EINPUT,
				      "%s:%zu: line longer than %zu bytes, the "
				      "ceiling of one line (max_line_bytes)",
				      r->path, r->lineno, r->max_line);
		nc = r->cap > SIZE_MAX / 2 ? SIZE_MAX : r->cap * 2;
		if (nc > r->max_line + 1)
			nc = r->max_line + 1;
		nb = realloc(r->buf, nc);
		if (!nb)
			return sp_err(ctx, SP_ENOMEM,
				      "%s: out of memory for a %zu-byte line",
				      r->path, r->end);
		r->buf = nb;
		r->cap = nc;
	}
	want = r->cap - r->end;
	if (want > (size_t)1 << 30)
		want = (size_t)1 << 30; /* gzread counts in int */
	if (r->gz) {
		int err, k = gzread(r->gz, r->buf + r->end, (unsigned)want);
		if (k > 0) {
			r->end += (size_t)k;
			return reader_count_(r, ctx, (size_t)k);
		}
		/* A truncated stream ends like a short read: only gzerror
		 * tells (Z_BUF_ERROR, "unexpected end of file"). */
		const char *msg = gzerror(r->gz, &err);
		size_t np = strlen(r->path);
		if (k == 0 && err == Z_OK)
			return 0;
		/* zlib's message starts with the path already */
		if (strncmp(msg, r->path, np) == 0 && msg[np] == ':')
			msg += np + (msg[np + 1] == ' ' ? 2 : 1);
		return sp_err(ctx, SP_EIO, "%s: gzip: %s", r->path,
			      err == Z_ERRNO ? strerror(errno) : msg);
	} else {
		size_t k = fread(r->buf + r->end, 1, want, r->f);
		if (k > 0) {
			r->end += k;
			return reader_count_(r, ctx, k);
		}
		if (ferror(r->f))
			return sp_err(ctx, SP_EIO, "%s: read error: %s",
				      r->path, strerror(errno));
		return 0;
	}
}

/* The next line without its '\n' (borrowed until the next call).
 * Returns 1, 0 at the end, or a negative code. */
static int reader_line_(reader_ *r, sp_ctx *ctx, char **line, size_t *len)
{
	r->lineno++;
	for (;;) {
		size_t from = r->scan > r->beg ? r->scan : r->beg;
		char *nl = memchr(r->buf + from, '\n', r->end - from);
		if (nl) {
			*line = r->buf + r->beg;
			*len = (size_t)(nl - *line);
			r->beg = (size_t)(nl - r->buf) + 1;
			r->scan = r->beg;
			return 1;
		}
		r->scan = r->end;
		if (r->eof) {
			if (r->beg == r->end)
				return 0;
			/* last line without a final newline */
			*line = r->buf + r->beg;
			*len = r->end - r->beg;
			r->beg = r->scan = r->end;
			return 1;
		}
		int rc = reader_fill_(r, ctx);
		if (rc < 0)
			return rc;
		if (rc == 0)
			r->eof = 1;
	}
}

/* ------------------------------------------------------------------ */
/* Text checks                                                         */
/* ------------------------------------------------------------------ */

/*
 * Offset of the first byte of the first ill-formed sequence (or NUL) in
 * s[0, len), or len if there is none.  Well-formed UTF-8 as in Unicode
 * 15, table 3-7: no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no
 * surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF).
 */
static size_t utf8_check_(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		unsigned lo = 0x80, hi = 0xBF;
		size_t need, k;

		if (c < 0x80) {
			if (c == 0)
				return i;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return i;
		}
		if (len - i <= need || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (k = 2; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
		i += need + 1;
	}
	return len;
}

/* Up to EXCERPT_MAX bytes of s as printable text for a message: tabs as
 * \t, other control bytes as \xHH, cut on a character boundary, "..."
 * when cut.  s is valid UTF-8 by the time a message quotes it. */
static const char *excerpt_(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = len, o = 0;

	if (n > EXCERPT_MAX) {
		n = EXCERPT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\t')
			o += (size_t)snprintf(out + o, cap - o, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	if (n < len && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int is_ws_(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int is_blank_(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_ws_(s[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Corpus storage                                                      */
/* ------------------------------------------------------------------ */

/* Makes room for `need` elements of `elem` bytes in *p (doubling). */
static int grow_(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	size_t nc = *cap ? *cap : 256;
	void *q;

	if (need <= *cap)
		return 0;
	while (nc < need) {
		if (nc > SIZE_MAX / 2 / elem)
			return -1;
		nc *= 2;
	}
	q = realloc(*p, nc * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

/* Copies s[0, len) into the arena; *off gets its offset. */
static int arena_put_(sp_corpus *c, const char *s, size_t len, size_t *off)
{
	if (len >= SIZE_MAX - c->alen - 1)
		return -1;
	if (grow_(&c->arena, &c->acap, c->alen + len + 1, 1) < 0)
		return -1;
	memcpy(c->arena + c->alen, s, len);
	c->arena[c->alen + len] = '\0';
	*off = c->alen;
	c->alen += len + 1;
	return 0;
}

static example_ *example_add_(sp_corpus *c)
{
	if (grow_(&c->ex, &c->ncap, c->n + 1, sizeof(*c->ex)) < 0)
		return NULL;
	memset(&c->ex[c->n], 0, sizeof(c->ex[0]));
	return &c->ex[c->n++];
}

/* ------------------------------------------------------------------ */
/* Parsers: one line at a time                                         */
/* ------------------------------------------------------------------ */

typedef struct parse_ {
	sp_corpus *c;
	sp_ctx *ctx;
	const char *path;
	const sp_data_opts *o;
	size_t lineno;
	size_t sent_first; /* conll: first token of the open sentence */
	size_t sent_n;     /*        its tokens so far (0 = none open) */
	size_t sent_line;
} parse_;

static int nomem_(parse_ *p)
{
	return sp_err(p->ctx, SP_ENOMEM, "%s:%zu: out of memory", p->path,
		      p->lineno);
}

/* opts.skip_bad: a malformed line is counted instead of failing. */
static int skip_line_(parse_ *p)
{
	if (p->c->skipped++ == 0)
		p->c->skipped_first = p->lineno;
	return SP_OK;
}

static int parse_lines_(parse_ *p, const char *s, size_t len)
{
	example_ *e;

	if (is_blank_(s, len))
		return SP_OK;
	e = example_add_(p->c);
	if (!e || arena_put_(p->c, s, len, &e->a) < 0)
		return nomem_(p);
	e->n = len;
	e->line = p->lineno;
	return SP_OK;
}

/* Bounds of 0-based tab-separated field k of s[0, len). */
static void field_(const char *s, size_t len, size_t k, size_t *beg,
		   size_t *end)
{
	size_t i = 0;
	for (; k > 0 && i < len; i++)
		if (s[i] == '\t')
			k--;
	*beg = i;
	while (i < len && s[i] != '\t')
		i++;
	*end = i;
}

/* Columns a tsv line needs: one past the larger column, and when one of
 * them is -1 (last), one past the other so that the two differ. */
static size_t tsv_need_(const sp_data_opts *o)
{
	if (o->text_col < 0)
		return (size_t)o->label_col + 2;
	if (o->label_col < 0)
		return (size_t)o->text_col + 2;
	return (size_t)(o->text_col > o->label_col ? o->text_col
						   : o->label_col) + 1;
}

static int parse_tsv_(parse_ *p, const char *s, size_t len)
{
	const sp_data_opts *o = p->o;
	char ex[4 * EXCERPT_MAX + 8];
	size_t nf = 1, tc, lc, tb, te, lb, le;
	example_ *e;

	if (is_blank_(s, len))
		return SP_OK;
	for (size_t i = 0; i < len; i++)
		nf += s[i] == '\t';
	tc = o->text_col < 0 ? nf - 1 : (size_t)o->text_col;
	lc = o->label_col < 0 ? nf - 1 : (size_t)o->label_col;
	if (tc >= nf || lc >= nf || tc == lc) {
		size_t need = tsv_need_(o);
		if (o->skip_bad)
			return skip_line_(p);
		return sp_err(p->ctx, SP_EINPUT,
			      "%s:%zu: expected %zu tab-separated columns "
			      "(text_col=%d, label_col=%d), got %zu: '%s'",
			      p->path, p->lineno, need, o->text_col,
			      o->label_col, nf,
			      excerpt_(ex, sizeof(ex), s, len));
	}
	field_(s, len, tc, &tb, &te);
	field_(s, len, lc, &lb, &le);
	if (tb == te || lb == le) {
		if (o->skip_bad)
			return skip_line_(p);
		return sp_err(p->ctx, SP_EINPUT,
			      "%s:%zu: empty %s in column %zu: '%s'", p->path,
			      p->lineno, tb == te ? "text" : "label",
			      tb == te ? tc : lc,
			      excerpt_(ex, sizeof(ex), s, len));
	}
	e = example_add_(p->c);
	if (!e || arena_put_(p->c, s + tb, te - tb, &e->a) < 0 ||
	    arena_put_(p->c, s + lb, le - lb, &e->label) < 0)
		return nomem_(p);
	e->n = te - tb;
	e->line = p->lineno;
	return SP_OK;
}

/* Closes the open CoNLL sentence, if any, as an example. */
static int conll_end_(parse_ *p)
{
	example_ *e;

	if (p->sent_n == 0)
		return SP_OK;
	e = example_add_(p->c);
	if (!e)
		return nomem_(p);
	e->a = p->sent_first;
	e->n = p->sent_n;
	e->line = p->sent_line;
	p->sent_n = 0;
	return SP_OK;
}

/* Adds token tok[0, nt) with label lab[0, nl) to the open sentence. */
static int conll_add_(parse_ *p, const char *tok, size_t nt,
		      const char *lab, size_t nl)
{
	sp_corpus *c = p->c;

	if (grow_(&c->tok, &c->tcap, 2 * (c->ntok + 1), sizeof(size_t)) < 0 ||
	    arena_put_(c, tok, nt, &c->tok[2 * c->ntok]) < 0 ||
	    arena_put_(c, lab, nl, &c->tok[2 * c->ntok + 1]) < 0)
		return nomem_(p);
	if (p->sent_n == 0) {
		p->sent_first = c->ntok;
		p->sent_line = p->lineno;
	}
	c->ntok++;
	p->sent_n++;
	return SP_OK;
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

/*
 * One token line: the token is the first column, the label column
 * conll_label_col; -1 is the last, and AUTO (the default) the last of 2
 * or 4 columns.  Under AUTO, 3 or 5+ columns are refused: which one is the
 * label would be a guess ("token POS label" and "token label extra" look
 * alike).
 */
static int parse_conll_(parse_ *p, const char *s, size_t len)
{
	int want = p->o->conll_label_col;
	int tabs = memchr(s, '\t', len) != NULL;
	char ex[4 * EXCERPT_MAX + 8];
	size_t i = 0, ncol = 0, b, e, tb = 0, te = 0, lb = 0, le = 0;
	size_t end = len;

	if (is_blank_(s, len) ||
	    (len >= 10 && memcmp(s, "-DOCSTART-", 10) == 0))
		return conll_end_(p);
	while (is_ws_(s[end - 1])) /* a blank line returned above */
		end--;
	while (conll_col_(s, end, &i, tabs, &b, &e)) {
		if (ncol == 0) {
			tb = b;
			te = e;
		} else if (want < 0 || ncol == (size_t)want) {
			lb = b;
			le = e;
		}
		ncol++;
	}
	if (te == tb || ncol < 2 ||
	    (le == lb && (want < 0 || ncol > (size_t)want))) {
		if (p->o->skip_bad)
			return skip_line_(p);
		return sp_err(p->ctx, SP_EINPUT,
			      "%s:%zu: expected 'token<TAB>label', got '%s'",
			      p->path, p->lineno,
			      excerpt_(ex, sizeof(ex), s, len));
	}
	if (want == SP_DATA_LABEL_AUTO && ncol != 2 && ncol != 4)
		return sp_err(p->ctx, SP_EINPUT,
			      "%s:%zu: %zu columns, expected 2 (token label) or "
			      "4 (CoNLL-2003: token POS chunk label); for another "
			      "layout name the label column: '%s'",
			      p->path, p->lineno, ncol,
			      excerpt_(ex, sizeof(ex), s, len));
	if (want >= 0 && ncol <= (size_t)want) {
		if (p->o->skip_bad)
			return skip_line_(p);
		return sp_err(p->ctx, SP_EINPUT,
			      "%s:%zu: %zu columns, expected at least %d "
			      "(the label is column %d, counted from 0): '%s'",
			      p->path, p->lineno, ncol, want + 1, want,
			      excerpt_(ex, sizeof(ex), s, len));
	}
	return conll_add_(p, s + tb, te - tb, s + lb, le - lb);
}

/* Turns the CoNLL offsets into pointers, now that the arena is final. */
static int conll_finish_(sp_corpus *c)
{
	if (c->ntok == 0)
		return 0;
	c->ptr = malloc(2 * c->ntok * sizeof(*c->ptr));
	if (!c->ptr)
		return -1;
	for (size_t i = 0; i < c->ntok; i++) {
		c->ptr[i] = c->arena + c->tok[2 * i];
		c->ptr[c->ntok + i] = c->arena + c->tok[2 * i + 1];
	}
	free(c->tok);
	c->tok = NULL;
	c->tcap = 0;
	return 0;
}

/* Copies the caller's options into *o, a version-1 struct (the fields
 * up to skip_bad) with the defaults of the later ones, and puts the
 * default ceilings in for 0. */
static int check_opts_(sp_ctx *ctx, sp_data_format format,
		       const sp_data_opts *in, sp_data_opts *o)
{
	sp_data_opts_init(o);
	if (in->version == 1) {
		memcpy(o, in, offsetof(sp_data_opts, skip_bad) +
				      sizeof(in->skip_bad));
		o->version = SP_DATA_OPTS_VERSION;
	} else if (in->version == SP_DATA_OPTS_VERSION) {
		*o = *in;
	} else {
		return sp_err(ctx, SP_EINVAL,
			      "data: options version %u, expected %d "
			      "(start from SP_DATA_OPTS_INIT)",
			      in->version, SP_DATA_OPTS_VERSION);
	}
	if (o->max_line_bytes == 0)
		o->max_line_bytes = SP_DATA_MAX_LINE_DEFAULT;
	if (o->max_file_bytes == 0)
		o->max_file_bytes = SP_DATA_MAX_FILE_DEFAULT;
	if (o->max_line_bytes > SIZE_MAX / 4)
		o->max_line_bytes = SIZE_MAX / 4;
	if (o->conll_label_col < SP_DATA_LABEL_AUTO ||
	    o->conll_label_col == 0)
		return sp_err(ctx, SP_EINVAL,
			      "data: conll label column %d, expected >= 1, -1 "
			      "(last) or SP_DATA_LABEL_AUTO (-2)",
			      o->conll_label_col);
	if (format != SP_DATA_LINES && format != SP_DATA_CONLL &&
	    format != SP_DATA_TSV)
		return sp_err(ctx, SP_EINVAL, "data: unknown format %d",
			      (int)format);
	if (format == SP_DATA_TSV &&
	    (o->text_col < -1 || o->label_col < -1 ||
	     o->text_col == o->label_col))
		return sp_err(ctx, SP_EINVAL,
			      "data: tsv needs two different columns >= 0 "
			      "or -1 (last), got text_col=%d label_col=%d",
			      o->text_col, o->label_col);
	return SP_OK;
}

int sp_corpus_read(sp_corpus **out, sp_ctx *ctx, const char *path,
		   sp_data_format format, const sp_data_opts *in)
{
	const sp_data_opts def = SP_DATA_OPTS_INIT;
	sp_data_opts o;
	const sp_data_opts *opts = &o;
	sp_corpus *c = NULL;
	reader_ r = {0};
	parse_ p = {0};
	char *s;
	size_t len;
	int rc;

	*out = NULL;
	rc = check_opts_(ctx, format, in ? in : &def, &o);
	if (rc < 0)
		goto fail;
	/* "" is how a .pipe says "no file": never a file to read */
	if (!path || !*path) {
		rc = sp_err(ctx, SP_EINVAL, "data: empty file name, expected "
			    "the path of a %s file", sp_data_format_name(format));
		goto fail;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	c->format = format;
	rc = reader_open_(&r, ctx, path, o.max_line_bytes, o.max_file_bytes);
	if (rc < 0)
		goto fail;
	p.c = c;
	p.ctx = ctx;
	p.path = path;
	p.o = opts;
	while ((rc = reader_line_(&r, ctx, &s, &len)) > 0) {
		size_t bad;
		p.lineno++;
		bad = utf8_check_((const unsigned char *)s, len);
		if (bad < len) {
			if (s[bad] == '\0')
				rc = sp_err(ctx, SP_EINPUT, "%s:%zu:%zu: NUL byte",
					    path, p.lineno, bad + 1);
			else
				rc = sp_err(ctx, SP_EINPUT,
					    "%s:%zu:%zu: invalid UTF-8 "
					    "(byte 0x%02x)",
					    path, p.lineno, bad + 1,
					    (unsigned char)s[bad]);
			goto fail;
		}
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (p.lineno == 1 && len >= 3 &&
		    memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			len -= 3;
		}
		if (format == SP_DATA_LINES) {
			rc = parse_lines_(&p, s, len);
		} else if (format == SP_DATA_TSV) {
			if (p.lineno == 1 && opts->header)
				continue;
			rc = parse_tsv_(&p, s, len);
		} else {
			rc = parse_conll_(&p, s, len);
		}
		if (rc < 0)
			goto fail;
		if (opts->max_examples && c->n >= opts->max_examples)
			break;
	}
	if (rc < 0)
		goto fail;
	if (format == SP_DATA_CONLL) {
		/* a last sentence without a blank line after it (after a
		 * max_examples stop, none is open) */
		rc = conll_end_(&p);
		if (rc < 0)
			goto fail;
		if (conll_finish_(c) < 0) {
			rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
			goto fail;
		}
	}
	if (c->n == 0) {
		rc = sp_err(ctx, SP_EINPUT, "%s: no examples (%s format)",
			    path, sp_data_format_name(format));
		goto fail;
	}
	reader_close_(&r);
	*out = c;
	return SP_OK;
fail:
	reader_close_(&r);
	sp_corpus_free(c);
	return rc;
}

void sp_corpus_free(sp_corpus *c)
{
	if (!c)
		return;
	free(c->arena);
	free(c->ex);
	free(c->tok);
	free(c->ptr);
	free(c);
}

size_t sp_corpus_count(const sp_corpus *c)
{
	return c ? c->n : 0;
}

sp_data_format sp_corpus_format(const sp_corpus *c)
{
	return c ? c->format : (sp_data_format)0;
}

const char *sp_corpus_text(const sp_corpus *c, size_t i, size_t *len)
{
	if (len)
		*len = 0;
	if (!c || i >= c->n || c->format == SP_DATA_CONLL)
		return NULL;
	if (len)
		*len = c->ex[i].n;
	return c->arena + c->ex[i].a;
}

const char *sp_corpus_target(const sp_corpus *c, size_t i, size_t *len)
{
	if (len)
		*len = 0;
	if (!c || i >= c->n || c->format != SP_DATA_PARALLEL)
		return NULL;
	if (len)
		*len = c->ex[i].t_len;
	return c->arena + c->ex[i].t_off;
}

const char *sp_corpus_label(const sp_corpus *c, size_t i)
{
	if (!c || i >= c->n || c->format != SP_DATA_TSV)
		return NULL;
	return c->arena + c->ex[i].label;
}

static const char *const *conll_ptrs_(const sp_corpus *c, size_t i,
				      size_t *n, size_t base)
{
	if (n)
		*n = 0;
	if (!c || i >= c->n || c->format != SP_DATA_CONLL)
		return NULL;
	if (n)
		*n = c->ex[i].n;
	return c->ptr + base + c->ex[i].a;
}

const char *const *sp_corpus_tokens(const sp_corpus *c, size_t i, size_t *n)
{
	return conll_ptrs_(c, i, n, 0);
}

const char *const *sp_corpus_labels(const sp_corpus *c, size_t i, size_t *n)
{
	return conll_ptrs_(c, i, n, c->ntok);
}

size_t sp_corpus_line(const sp_corpus *c, size_t i)
{
	return c && i < c->n ? c->ex[i].line : 0;
}

size_t sp_corpus_skipped(const sp_corpus *c)
{
	return c ? c->skipped : 0;
}

size_t sp_corpus_skipped_first(const sp_corpus *c)
{
	return c ? c->skipped_first : 0;
}

/* ------------------------------------------------------------------ */
/* Batcher                                                             */
/* ------------------------------------------------------------------ */

struct sp_batcher {
	size_t n, batch;
	int shuffle, bucket;
	size_t *len;    /* (n) copied lengths, or NULL */
	size_t *sorted; /* (n) indices by (length, index) when bucketing */
	size_t *order;  /* (n) this epoch's indices; batch k is a run */
	size_t *border; /* (nb) this epoch's batch order */
	size_t nb;      /* batches per epoch */
	size_t next;    /* position in border */
};

typedef struct lenidx_ {
	size_t len, idx;
} lenidx_;

static int lenidx_cmp_(const void *a, const void *b)
{
	const lenidx_ *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Fisher-Yates over v[0, n) with the context's RNG. */
static void shuffle_(sp_ctx *ctx, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)sp_rng_below(ctx, i), t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* The unshuffled order of an epoch. */
static void batcher_base_(sp_batcher *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->order[i] = b->bucket ? b->sorted[i] : i;
	for (size_t k = 0; k < b->nb; k++)
		b->border[k] = k;
	b->next = 0;
}

int sp_batcher_new(sp_batcher **out, sp_ctx *ctx, const size_t *lengths,
		   size_t n, size_t batch_size, int shuffle, int bucket)
{
	sp_batcher *b = NULL;
	lenidx_ *tmp = NULL;
	int rc;

	*out = NULL;
	if (n == 0 || batch_size == 0) {
		rc = sp_err(ctx, SP_EINVAL,
			    "batcher: needs examples and a batch size > 0 "
			    "(n=%zu, batch=%zu)",
			    n, batch_size);
		goto fail;
	}
	if (bucket && !lengths) {
		rc = sp_err(ctx, SP_EINVAL,
			    "batcher: bucketing needs the lengths");
		goto fail;
	}
	rc = SP_ENOMEM;
	if (n > SIZE_MAX / sizeof(lenidx_))
		goto fail;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto fail;
	b->n = n;
	b->batch = batch_size;
	b->shuffle = shuffle;
	b->bucket = bucket;
	b->nb = n / batch_size + (n % batch_size != 0);
	b->order = malloc(n * sizeof(size_t));
	b->border = malloc(b->nb * sizeof(size_t));
	if (!b->order || !b->border)
		goto fail;
	if (lengths) {
		b->len = malloc(n * sizeof(size_t));
		if (!b->len)
			goto fail;
		memcpy(b->len, lengths, n * sizeof(size_t));
	}
	if (bucket) {
		tmp = malloc(n * sizeof(*tmp));
		b->sorted = malloc(n * sizeof(size_t));
		if (!tmp || !b->sorted)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			tmp[i].len = lengths[i];
			tmp[i].idx = i;
		}
		/* (length, index) is a total order: qsort's instability
		 * cannot show. */
		qsort(tmp, n, sizeof(*tmp), lenidx_cmp_);
		for (size_t i = 0; i < n; i++)
			b->sorted[i] = tmp[i].idx;
		free(tmp);
		tmp = NULL;
	}
	batcher_base_(b);
	*out = b;
	return SP_OK;
fail:
	if (rc == SP_ENOMEM)
		sp_err(ctx, rc, "batcher: out of memory for %zu examples", n);
	free(tmp);
	sp_batcher_free(b);
	return rc;
}

void sp_batcher_free(sp_batcher *b)
{
	if (!b)
		return;
	free(b->len);
	free(b->sorted);
	free(b->order);
	free(b->border);
	free(b);
}

void sp_batcher_epoch(sp_batcher *b, sp_ctx *ctx)
{
	batcher_base_(b);
	if (!b->shuffle)
		return;
	if (!b->bucket) {
		shuffle_(ctx, b->order, b->n);
		return;
	}
	/* Shuffle within runs of equal length, then the batch order: the
	 * batches stay length-homogeneous but vary in content and order. */
	for (size_t i = 0; i < b->n;) {
		size_t j = i + 1;
		while (j < b->n && b->len[b->order[j]] == b->len[b->order[i]])
			j++;
		shuffle_(ctx, b->order + i, j - i);
		i = j;
	}
	shuffle_(ctx, b->border, b->nb);
}

int sp_batcher_next(const size_t **idx, size_t *count, sp_batcher *b)
{
	size_t k, start;

	if (b->next >= b->nb) {
		*idx = NULL;
		*count = 0;
		return 0;
	}
	k = b->border[b->next++];
	start = k * b->batch;
	*idx = b->order + start;
	*count = b->n - start < b->batch ? b->n - start : b->batch;
	return 1;
}

size_t sp_batcher_count(const sp_batcher *b)
{
	return b->nb;
}

size_t sp_batcher_padding(const sp_batcher *b)
{
	size_t pad = 0;

	if (!b->len)
		return 0;
	for (size_t start = 0; start < b->n; start += b->batch) {
		size_t end = start + b->batch < b->n ? start + b->batch : b->n;
		size_t max = 0, sum = 0;
		for (size_t i = start; i < end; i++) {
			size_t l = b->len[b->order[i]];
			max = l > max ? l : max;
			sum += l;
		}
		pad += max * (end - start) - sum;
	}
	return pad;
}

/* ------------------------------------------------------------------ */
/* Corpora built in memory (sp_data_mem.h)                             */
/* ------------------------------------------------------------------ */

int sp_corpus_new_tsv(sp_corpus **out, sp_ctx *ctx)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	(*out)->format = SP_DATA_TSV;
	return SP_OK;
}

int sp_corpus_add_tsv(sp_corpus *c, sp_ctx *ctx, const char *text,
		      size_t len, const char *label)
{
	example_ *e = example_add_(c);
	if (!e || arena_put_(c, text, len, &e->a) < 0 ||
	    arena_put_(c, label, strlen(label), &e->label) < 0)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	e->n = len;
	e->line = c->n; /* the example's 1-based number */
	return SP_OK;
}

int sp_corpus_new_parallel(sp_corpus **out, sp_ctx *ctx)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	(*out)->format = SP_DATA_PARALLEL;
	return SP_OK;
}

int sp_corpus_add_pair(sp_corpus *c, sp_ctx *ctx, const char *text, size_t len,
		       const char *target, size_t tlen, size_t line)
{
	example_ *e = example_add_(c);
	if (!e || arena_put_(c, text, len, &e->a) < 0 ||
	    arena_put_(c, target, tlen, &e->t_off) < 0)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	e->n = len;
	e->t_len = tlen;
	e->line = line;
	return SP_OK;
}
