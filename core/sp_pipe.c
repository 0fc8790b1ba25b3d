/*
 * sp_pipe.c: the .pipe parser, a hand-written line lexer.
 *
 * The grammar is small enough that a lexer with one character of
 * lookahead beats a generated parser: each line is blank, a comment, a
 * [section] header or `key = value`, and every error can point at the
 * exact byte that is wrong.  The text is checked for UTF-8 (and NUL bytes)
 * up front so that later stages can print any part of it.
 *
 * Not here: what the keys mean, their types and defaults (sp_kv.c,
 * against a component's spec), and loading plugins (the host).
 */
#include "sp_pipe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The only section names a .pipe file may use, in pipeline order. */
static const char *const sections_[] = {
	"pipeline", "data", "tokenize", "encode", "model", "model2", "model3",
	"model4", "head", "train"
};
#define N_SECTIONS (sizeof(sections_) / sizeof(sections_[0]))
#define SECTION_LIST \
	"pipeline, data, tokenize, encode, model, model2, model3, model4, head, train"

struct sp_pipe {
	char *name;                 /* as given to the parse function */
	char *dir;                  /* folder of name */
	char *text;                 /* the bytes as read, NUL-terminated */
	size_t len;
	sp_kv *sec[N_SECTIONS];     /* each name at most once, so this fits */
	size_t n_sec;
};

/* A cursor over a .pipe text or over one --set override. */
typedef struct lexer {
	sp_ctx *ctx;
	const char *s;
	size_t n, pos;
	size_t line, bol;  /* current line (1-based) and its first byte */
	const char *name;  /* file name; NULL when lexing an override */
	const char *set;   /* the override text when name == NULL */
} lexer;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static char *dupn_(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static char *fmt_alloc_(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static char *fmt_alloc_(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static int alnum_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int digit_(char c)
{
	return c >= '0' && c <= '9';
}

/* Characters of a key or section-name token.  Wider than what is valid
 * (uppercase, '-', '.') so that "Hidden" or "max-len" is reported as a
 * bad key, not as a missing '='. */
static int name_char_(char c, int dot)
{
	return alnum_(c) || c == '_' || c == '-' || (dot && c == '.');
}

static int bare_char_(char c)
{
	return alnum_(c) || c == '_' || c == '.' || c == '/' || c == '-' ||
	       c == '+' || c == ':';
}

/* [a-z_][a-z0-9_]* */
static int key_ok_(const char *k)
{
	if (!((*k >= 'a' && *k <= 'z') || *k == '_'))
		return 0;
	for (k++; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || *k == '_' || digit_(*k)))
			return 0;
	return 1;
}

static int section_index_(const char *s, size_t len)
{
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (strlen(sections_[i]) == len &&
		    strncmp(sections_[i], s, len) == 0)
			return (int)i;
	return -1;
}

static char *dir_of_(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return dupn_(".", 1);
	if (slash == path)
		return dupn_("/", 1);
	return dupn_(path, (size_t)(slash - path));
}

/* ------------------------------------------------------------------ */
/* Lexer                                                               */
/* ------------------------------------------------------------------ */

static int lex_err_(const lexer *lx, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lex_err_(const lexer *lx, size_t pos, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lx->name)
		return sp_err(lx->ctx, SP_EINVAL, "%s:%zu:%zu: %s", lx->name,
			      lx->line, pos - lx->bol + 1, msg);
	return sp_err(lx->ctx, SP_EINVAL, "--set %s: %s", lx->set, msg);
}

static int nomem_(const lexer *lx)
{
	return sp_err(lx->ctx, SP_ENOMEM, "%s: out of memory",
		      lx->name ? lx->name : "--set");
}

/* "FILE:LINE:COL" of pos, or "--set TEXT" (caller frees). */
static char *where_alloc_(const lexer *lx, size_t pos)
{
	if (lx->name)
		return fmt_alloc_("%s:%zu:%zu", lx->name, lx->line,
				  pos - lx->bol + 1);
	return fmt_alloc_("--set %s", lx->set);
}

/* An override is one line: only its end ends it. */
static int eol_at_(const lexer *lx, size_t p)
{
	if (p >= lx->n)
		return 1;
	if (!lx->name)
		return 0;
	return lx->s[p] == '\n' ||
	       (lx->s[p] == '\r' && p + 1 < lx->n && lx->s[p + 1] == '\n');
}

/* Overrides have no comments: `--set data.train=a#b` must not quietly
 * become "a". */
static int comment_at_(const lexer *lx, size_t p)
{
	return lx->name && p < lx->n && lx->s[p] == '#';
}

static void skip_ws_(lexer *lx)
{
	while (lx->pos < lx->n && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t'))
		lx->pos++;
}

/* The character at p for a message: "'x'", "'é'", "control character
 * 0x01" or "end of line". */
static const char *desc_(const lexer *lx, size_t p, char *buf, size_t size)
{
	unsigned char c;
	size_t len;
	if (eol_at_(lx, p))
		return lx->name ? "end of line" : "end of the override";
	c = (unsigned char)lx->s[p];
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, size, "control character 0x%02x", c);
	} else if (c < 0x80) {
		snprintf(buf, size, "'%c'", c);
	} else {
		/* the text is valid UTF-8 by now: print the whole character */
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (len > lx->n - p)
			len = lx->n - p;
		snprintf(buf, size, "'%.*s'", (int)len, lx->s + p);
	}
	return buf;
}

static int cont_(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len_(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && cont_(s[1]) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || !cont_(s[1]) || !cont_(s[2]))
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || !cont_(s[1]) || !cont_(s[2]) || !cont_(s[3]))
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* Rejects NUL bytes and invalid UTF-8 anywhere, comments included. */
static int check_text_(const lexer *lx)
{
	const unsigned char *s = (const unsigned char *)lx->s;
	lexer at = *lx;
	size_t p = lx->pos, k;
	while (p < lx->n) {
		if (s[p] == '\0')
			return lex_err_(&at, p, "NUL byte, expected UTF-8 text");
		k = utf8_len_(s + p, lx->n - p);
		if (!k)
			return lex_err_(&at, p,
					"invalid UTF-8 byte 0x%02x, expected UTF-8 text",
					s[p]);
		if (s[p] == '\n') {
			at.line++;
			at.bol = p + 1;
		}
		p += k;
	}
	return SP_OK;
}

/* A "quoted string" starting at lx->pos; *out is the decoded text
 * (caller frees). */
static int lex_string_(lexer *lx, char **out)
{
	size_t open = lx->pos, p = open + 1, len = 0;
	char *buf = NULL, d[32];
	int rc;

	/* Find the closing quote first, so an unterminated string is
	 * reported at its opening quote rather than at some escape. */
	for (;;) {
		if (eol_at_(lx, p))
			return lex_err_(lx, open,
					"unterminated string, expected a closing '\"'");
		if (lx->s[p] == '"')
			break;
		if (lx->s[p] == '\\' && eol_at_(lx, p + 1))
			return lex_err_(lx, open,
					"unterminated string, expected a closing '\"'");
		p += lx->s[p] == '\\' ? 2 : 1;
	}
	/* decoding only shortens the text */
	buf = malloc(p - open);
	if (!buf) {
		rc = nomem_(lx);
		goto fail;
	}
	for (size_t i = open + 1; i < p; i++) {
		unsigned char c = (unsigned char)lx->s[i];
		if (c == '\\') {
			char e = lx->s[++i];
			switch (e) {
			case '"': buf[len++] = '"'; break;
			case '\\': buf[len++] = '\\'; break;
			case 'n': buf[len++] = '\n'; break;
			case 't': buf[len++] = '\t'; break;
			default:
				if (e > 0x20 && e < 0x7f)
					rc = lex_err_(lx, i - 1,
						      "unknown escape '\\%c' in string, expected one of \\\" \\\\ \\n \\t",
						      e);
				else
					rc = lex_err_(lx, i - 1,
						      "backslash before %s in string, expected one of \\\" \\\\ \\n \\t",
						      desc_(lx, i, d, sizeof(d)));
				goto fail;
			}
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			rc = lex_err_(lx, i,
				      "%s in string, expected printable text or an escape such as \\n",
				      desc_(lx, i, d, sizeof(d)));
			goto fail;
		} else {
			buf[len++] = (char)c;
		}
	}
	buf[len] = '\0';
	lx->pos = p + 1;
	*out = buf;
	return SP_OK;
fail:
	free(buf);
	return rc;
}

/* A value (number, bare word or "string") starting at lx->pos, for
 * `key`; *out is its text with escapes decoded (caller frees). */
static int lex_value_(lexer *lx, const char *key, char **out, int *quoted)
{
	const char *s = lx->s;
	size_t start = lx->pos, end = start;
	char d[32];
	int numeric;

	*out = NULL;
	*quoted = 0;
	if (eol_at_(lx, start) || comment_at_(lx, start))
		return lex_err_(lx, start,
				"missing value for '%s', expected a value after '='",
				key);
	if (s[start] == '"') {
		*quoted = 1;
		return lex_string_(lx, out);
	}
	while (end < lx->n && s[end] != ' ' && s[end] != '\t' &&
	       !eol_at_(lx, end) && !comment_at_(lx, end))
		end++;
	/* A digit or sign commits to a number, so "3x" is a bad number
	 * rather than the string "3x". */
	numeric = digit_(s[start]) || s[start] == '+' || s[start] == '-' ||
		  (s[start] == '.' && start + 1 < end && digit_(s[start + 1]));
	if (numeric) {
		if (!sp_kv_number_syntax(s + start, end - start))
			return lex_err_(lx, start,
					"bad number '%.*s', expected an integer or a float such as 3, -0.5 or 1e-3 (or a \"quoted string\")",
					(int)(end - start), s + start);
	} else {
		for (size_t i = start; i < end; i++)
			if (!bare_char_(s[i]))
				return lex_err_(lx, i,
						"unexpected %s in value, expected letters, digits, _ . / - + : or a \"quoted string\"",
						desc_(lx, i, d, sizeof(d)));
	}
	*out = dupn_(s + start, end - start);
	if (!*out)
		return nomem_(lx);
	lx->pos = end;
	return SP_OK;
}

/* After a header or a value: spaces, an optional comment, the line end
 * (which it consumes). */
static int finish_line_(lexer *lx, const char *after, const char *hint)
{
	char d[32];
	skip_ws_(lx);
	if (comment_at_(lx, lx->pos))
		while (!eol_at_(lx, lx->pos))
			lx->pos++;
	if (!eol_at_(lx, lx->pos))
		return lex_err_(lx, lx->pos,
				"unexpected %s after %s, expected end of line or a comment%s",
				desc_(lx, lx->pos, d, sizeof(d)), after, hint);
	if (lx->pos < lx->n) {
		lx->pos += lx->s[lx->pos] == '\r' ? 2 : 1;
		lx->line++;
		lx->bol = lx->pos;
	}
	return SP_OK;
}

static int unknown_section_(const lexer *lx, size_t at, size_t len)
{
	char tok[64];
	const char *best = NULL;
	const char *l = lx->name ? "[" : "'", *r = lx->name ? "]" : "'";
	if (len < sizeof(tok)) {
		memcpy(tok, lx->s + at, len);
		tok[len] = '\0';
		best = sp_kv_suggest(tok, sections_, N_SECTIONS);
	}
	if (best)
		return lex_err_(lx, at,
				"unknown section %s%.*s%s, expected one of: " SECTION_LIST " (did you mean %s%s%s?)",
				l, (int)len, lx->s + at, r, l, best, r);
	return lex_err_(lx, at,
			"unknown section %s%.*s%s, expected one of: " SECTION_LIST,
			l, (int)len, lx->s + at, r);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

static int add_section_(sp_pipe *p, sp_ctx *ctx, const char *name,
			const char *where, sp_kv **out)
{
	sp_kv *kv = NULL;
	int rc;
	/* cannot overflow: names are checked and unique */
	rc = sp_kv_new(&kv, name);
	if (rc) {
		rc = sp_err(ctx, rc, "[%s]: out of memory", name);
		goto fail;
	}
	rc = sp_kv_set_section_where(kv, ctx, where);
	if (rc)
		goto fail;
	p->sec[p->n_sec++] = kv;
	*out = kv;
	return SP_OK;
fail:
	sp_kv_free(kv);
	return rc;
}

/* "[name]" at lx->pos; makes it the current section. */
static int parse_header_(sp_pipe *p, lexer *lx, sp_kv **cur)
{
	size_t open = lx->pos, start, len;
	char *where = NULL, d[32];
	sp_kv *prev;
	int idx, rc;

	lx->pos++;
	skip_ws_(lx);
	start = lx->pos;
	while (lx->pos < lx->n && name_char_(lx->s[lx->pos], 1))
		lx->pos++;
	len = lx->pos - start;
	if (len == 0) {
		if (eol_at_(lx, start) || comment_at_(lx, start) ||
		    lx->s[start] == ']')
			return lex_err_(lx, start,
					"missing section name, expected one of: " SECTION_LIST);
		return lex_err_(lx, start,
				"unexpected %s in section header, expected a section name (one of: " SECTION_LIST ")",
				desc_(lx, start, d, sizeof(d)));
	}
	idx = section_index_(lx->s + start, len);
	if (idx < 0)
		return unknown_section_(lx, start, len);
	skip_ws_(lx);
	if (lx->pos >= lx->n || lx->s[lx->pos] != ']') {
		if (eol_at_(lx, lx->pos) || comment_at_(lx, lx->pos))
			return lex_err_(lx, lx->pos,
					"unterminated section header, expected ']'");
		return lex_err_(lx, lx->pos,
				"unexpected %s in section header, expected ']'",
				desc_(lx, lx->pos, d, sizeof(d)));
	}
	lx->pos++;
	prev = sp_pipe_section(p, sections_[idx]);
	if (prev)
		return lex_err_(lx, open,
				"duplicate section [%s] (first at %s), expected each section at most once",
				sections_[idx], sp_kv_section_where(prev));
	where = where_alloc_(lx, open);
	if (!where) {
		rc = nomem_(lx);
		goto fail;
	}
	rc = add_section_(p, lx->ctx, sections_[idx], where, cur);
	if (rc)
		goto fail;
	rc = finish_line_(lx, "the section header", "");
fail:
	free(where);
	return rc;
}

/* "key = value" at lx->pos, into the current section cur. */
static int parse_assignment_(lexer *lx, sp_kv *cur)
{
	size_t key_at = lx->pos, val_at;
	char *key = NULL, *val = NULL, *where = NULL, *key_where = NULL;
	const char *first;
	int quoted, rc;

	while (lx->pos < lx->n && name_char_(lx->s[lx->pos], 1))
		lx->pos++;
	key = dupn_(lx->s + key_at, lx->pos - key_at);
	if (!key) {
		rc = nomem_(lx);
		goto fail;
	}
	if (!cur) {
		rc = lex_err_(lx, key_at,
			      "key '%s' before any section, expected a [section] header first (one of: " SECTION_LIST ")",
			      key);
		goto fail;
	}
	if (!key_ok_(key)) {
		rc = lex_err_(lx, key_at,
			      "bad key '%s', expected lowercase letters, digits and _, not starting with a digit",
			      key);
		goto fail;
	}
	skip_ws_(lx);
	if (lx->pos >= lx->n || lx->s[lx->pos] != '=') {
		rc = lex_err_(lx, lx->pos,
			      "missing '=' after key '%s', expected key = value",
			      key);
		goto fail;
	}
	lx->pos++;
	skip_ws_(lx);
	first = sp_kv_key_where(cur, key);
	if (first) {
		rc = lex_err_(lx, key_at,
			      "duplicate key '%s' in [%s] (first at %s), expected each key at most once",
			      key, sp_kv_section(cur), first);
		goto fail;
	}
	val_at = lx->pos;
	rc = lex_value_(lx, key, &val, &quoted);
	if (rc)
		goto fail;
	where = where_alloc_(lx, val_at);
	key_where = where_alloc_(lx, key_at);
	if (!where || !key_where) {
		rc = nomem_(lx);
		goto fail;
	}
	rc = sp_kv_set_at(cur, lx->ctx, key, val, quoted, where, key_where);
	if (rc)
		goto fail;
	rc = finish_line_(lx, "the value",
			  quoted ? "" : " (quote a value that contains spaces)");
fail:
	free(key);
	free(val);
	free(where);
	free(key_where);
	return rc;
}

static int parse_(sp_pipe *p, sp_ctx *ctx)
{
	lexer lx;
	sp_kv *cur = NULL;
	char d[32];
	int rc;

	memset(&lx, 0, sizeof(lx));
	lx.ctx = ctx;
	lx.s = p->text;
	lx.n = p->len;
	lx.line = 1;
	lx.name = p->name;
	/* A BOM is not part of line 1: columns count from after it. */
	if (lx.n >= 3 && memcmp(lx.s, "\xef\xbb\xbf", 3) == 0)
		lx.pos = lx.bol = 3;
	rc = check_text_(&lx);
	if (rc)
		return rc;
	while (lx.pos < lx.n) {
		char c;
		skip_ws_(&lx);
		c = lx.pos < lx.n ? lx.s[lx.pos] : '\0';
		if (eol_at_(&lx, lx.pos) || comment_at_(&lx, lx.pos))
			rc = finish_line_(&lx, "", "");
		else if (c == '[')
			rc = parse_header_(p, &lx, &cur);
		else if (name_char_(c, 1))
			rc = parse_assignment_(&lx, cur);
		else
			rc = lex_err_(&lx, lx.pos,
				      "unexpected %s, expected a key, a [section] header or a comment",
				      desc_(&lx, lx.pos, d, sizeof(d)));
		if (rc)
			return rc;
	}
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

int sp_pipe_parse_mem(sp_pipe **out, sp_ctx *ctx, const char *name,
		      const char *text, size_t len)
{
	sp_pipe *p = NULL;
	int rc;

	*out = NULL;
	if (!name || (!text && len))
		return sp_err(ctx, SP_EINVAL, "sp_pipe_parse_mem: NULL argument");
	p = calloc(1, sizeof(*p));
	if (p) {
		p->name = dupn_(name, strlen(name));
		p->dir = dir_of_(name);
		p->text = dupn_(text, len);
		p->len = len;
	}
	if (!p || !p->name || !p->dir || !p->text) {
		rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", name);
		goto fail;
	}
	rc = parse_(p, ctx);
	if (rc)
		goto fail;
	*out = p;
	return SP_OK;
fail:
	sp_pipe_free(p);
	return rc;
}

int sp_pipe_parse_file(sp_pipe **out, sp_ctx *ctx, const char *path)
{
	FILE *f = NULL;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;
	int rc;

	*out = NULL;
	if (!path)
		return sp_err(ctx, SP_EINVAL, "sp_pipe_parse_file: NULL path");
	f = fopen(path, "rb");
	if (!f)
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", path,
			      strerror(errno));
	for (;;) {
		if (len > SP_PIPE_MAX_BYTES) {
			rc = sp_err(ctx, SP_EINPUT, "%s: more than %d bytes, the "
				    "ceiling of a .pipe file", path,
				    SP_PIPE_MAX_BYTES);
			goto fail;
		}
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0 || feof(f) || ferror(f))
			break;
	}
	if (ferror(f)) {
		rc = sp_err(ctx, SP_EIO, "%s: cannot read: %s", path,
			    strerror(errno));
		goto fail;
	}
	rc = sp_pipe_parse_mem(out, ctx, path, buf, len);
fail:
	free(buf);
	fclose(f);
	return rc;
}

void sp_pipe_free(sp_pipe *pipe)
{
	if (!pipe)
		return;
	for (size_t i = 0; i < pipe->n_sec; i++)
		sp_kv_free(pipe->sec[i]);
	free(pipe->name);
	free(pipe->dir);
	free(pipe->text);
	free(pipe);
}

const char *sp_pipe_name(const sp_pipe *pipe)
{
	return pipe ? pipe->name : NULL;
}

const char *sp_pipe_text(const sp_pipe *pipe, size_t *len)
{
	if (len)
		*len = pipe ? pipe->len : 0;
	return pipe ? pipe->text : NULL;
}

const char *sp_pipe_dir(const sp_pipe *pipe)
{
	return pipe ? pipe->dir : NULL;
}

size_t sp_pipe_count(const sp_pipe *pipe)
{
	return pipe ? pipe->n_sec : 0;
}

sp_kv *sp_pipe_section_at(const sp_pipe *pipe, size_t i)
{
	return pipe && i < pipe->n_sec ? pipe->sec[i] : NULL;
}

sp_kv *sp_pipe_section(const sp_pipe *pipe, const char *name)
{
	if (!pipe || !name)
		return NULL;
	for (size_t i = 0; i < pipe->n_sec; i++)
		if (strcmp(sp_kv_section(pipe->sec[i]), name) == 0)
			return pipe->sec[i];
	return NULL;
}

int sp_pipe_section_ensure(sp_pipe *pipe, sp_ctx *ctx, const char *name,
			   sp_kv **out)
{
	int idx;
	*out = NULL;
	if (!pipe || !name)
		return sp_err(ctx, SP_EINVAL, "sp_pipe_section_ensure: NULL argument");
	idx = section_index_(name, strlen(name));
	if (idx < 0)
		return sp_err(ctx, SP_EINVAL,
			      "%s: unknown section [%s], expected one of: " SECTION_LIST,
			      pipe->name, name);
	*out = sp_pipe_section(pipe, name);
	if (*out)
		return SP_OK;
	return add_section_(pipe, ctx, sections_[idx], pipe->name, out);
}

/* The "section." of an override: *idx of the section, lx left at the
 * '.'. */
static int override_section_(lexer *lx, int *idx)
{
	const char *text = lx->s;
	size_t sec_at;
	skip_ws_(lx);
	sec_at = lx->pos;
	while (lx->pos < lx->n && name_char_(text[lx->pos], 0))
		lx->pos++;
	if (lx->pos == sec_at)
		return lex_err_(lx, lx->pos,
				"missing section name, expected section.key=value");
	*idx = section_index_(text + sec_at, lx->pos - sec_at);
	if (*idx < 0)
		return unknown_section_(lx, sec_at, lx->pos - sec_at);
	if (lx->pos >= lx->n || text[lx->pos] != '.')
		return lex_err_(lx, lx->pos,
				"missing '.' after the section name, expected section.key=value");
	return 0;
}

/* The section (an index into sections_) and the key of the override in
 * lx, checked; lx->pos is left after the key.  *key is the caller's. */
static int override_target_(lexer *lx, int *idx, char **key)
{
	const char *text = lx->s;
	size_t key_at;
	int rc = check_text_(lx);
	if (rc || (rc = override_section_(lx, idx)) != 0)
		return rc;
	key_at = ++lx->pos;
	while (lx->pos < lx->n && name_char_(text[lx->pos], 1))
		lx->pos++;
	if (lx->pos == key_at)
		return lex_err_(lx, lx->pos,
				"missing key after '%s.', expected section.key=value",
				sections_[*idx]);
	if (!(*key = dupn_(text + key_at, lx->pos - key_at)))
		return nomem_(lx);
	if (!key_ok_(*key))
		return lex_err_(lx, key_at,
				"bad key '%s', expected lowercase letters, digits and _, not starting with a digit",
				*key);
	return 0;
}

static void override_lexer_(lexer *lx, sp_ctx *ctx, const char *text)
{
	memset(lx, 0, sizeof(*lx));
	lx->ctx = ctx;
	lx->s = text;
	lx->n = strlen(text);
	lx->line = 1;
	lx->set = text;
}

int sp_pipe_override_target(sp_ctx *ctx, const char *text, const char **section,
			    char **key)
{
	lexer lx;
	int idx = -1, rc;
	*key = NULL;
	if (!text)
		return sp_err(ctx, SP_EINVAL, "sp_pipe_override_target: NULL argument");
	override_lexer_(&lx, ctx, text);
	if ((rc = override_target_(&lx, &idx, key)) != 0) {
		free(*key);
		*key = NULL;
		return rc;
	}
	*section = sections_[idx];
	return 0;
}

int sp_pipe_override(sp_pipe *pipe, sp_ctx *ctx, const char *text)
{
	lexer lx;
	char *key = NULL, *val = NULL, *where = NULL, d[32];
	sp_kv *kv;
	int idx = -1, quoted, rc;

	if (!pipe || !text)
		return sp_err(ctx, SP_EINVAL, "sp_pipe_override: NULL argument");
	override_lexer_(&lx, ctx, text);
	if ((rc = override_target_(&lx, &idx, &key)) != 0)
		goto fail;
	skip_ws_(&lx);
	if (lx.pos >= lx.n || text[lx.pos] != '=') {
		rc = lex_err_(&lx, lx.pos,
			      "missing '=' after '%s.%s', expected section.key=value",
			      sections_[idx], key);
		goto fail;
	}
	lx.pos++;
	skip_ws_(&lx);
	rc = lex_value_(&lx, key, &val, &quoted);
	if (rc)
		goto fail;
	skip_ws_(&lx);
	if (lx.pos < lx.n) {
		rc = lex_err_(&lx, lx.pos,
			      "unexpected %s after the value, expected the end of the override%s",
			      desc_(&lx, lx.pos, d, sizeof(d)),
			      quoted ? "" : " (quote a value that contains spaces)");
		goto fail;
	}
	where = fmt_alloc_("--set %s", text);
	if (!where) {
		rc = nomem_(&lx);
		goto fail;
	}
	kv = sp_pipe_section(pipe, sections_[idx]);
	if (!kv) {
		rc = add_section_(pipe, ctx, sections_[idx], where, &kv);
		if (rc)
			goto fail;
	}
	rc = sp_kv_set_at(kv, ctx, key, val, quoted, where, where);
fail:
	free(key);
	free(val);
	free(where);
	return rc;
}
