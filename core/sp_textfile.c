/*
 * sp_textfile.c: the checked line reader (see sp_textfile.h).
 *
 * A chunked reader over stdio or zlib (gzread, so a line may be of any
 * length and a NUL byte is seen rather than silently ending the line as
 * with fgets/gzgets), then a strict UTF-8 check of every line.
 */
#include "sp_textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Bytes of a bad line quoted in error messages. */
#define EXCERPT_MAX 40

struct sp_textfile {

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
};

typedef sp_textfile reader_;

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


int sp_text_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

const char *sp_text_excerpt(char *out, const char *s, size_t len)
{
	return excerpt_(out, SP_EXCERPT_CAP, s, len);
}

int sp_textfile_open(sp_textfile **out, sp_ctx *ctx, const char *path,
		     size_t max_line, uint64_t max_file)
{
	sp_textfile *f = malloc(sizeof(*f));
	int rc;

	*out = NULL;
	if (!f)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	rc = reader_open_(f, ctx, path, max_line, max_file);
	if (rc < 0) {
		reader_close_(f);
		free(f);
		return rc;
	}
	*out = f;
	return SP_OK;
}

void sp_textfile_close(sp_textfile *f)
{
	if (!f)
		return;
	reader_close_(f);
	free(f);
}

size_t sp_textfile_lineno(const sp_textfile *f)
{
	return f->lineno;
}

int sp_textfile_line(sp_textfile *f, sp_ctx *ctx, const char **line,
		     size_t *len)
{
	char *s;
	size_t n, bad;
	int rc = reader_line_(f, ctx, &s, &n);

	if (rc <= 0)
		return rc;
	bad = utf8_check_((const unsigned char *)s, n);
	if (bad < n) {
		if (s[bad] == '\0')
			return sp_err(ctx, SP_EINPUT, "%s:%zu:%zu: NUL byte",
				      f->path, f->lineno, bad + 1);
		return sp_err(ctx, SP_EINPUT,
			      "%s:%zu:%zu: invalid UTF-8 (byte 0x%02x)",
			      f->path, f->lineno, bad + 1,
			      (unsigned char)s[bad]);
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (f->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	*line = s;
	*len = n;
	return 1;
}

int sp_textfile_each(sp_ctx *ctx, const char *path, size_t max_line,
		     uint64_t max_file, int skip_first, sp_textline_fn fn,
		     void *payload)
{
	sp_textfile *f = NULL;
	const char *s;
	size_t len;
	int rc = sp_textfile_open(&f, ctx, path, max_line, max_file);

	while (rc >= 0 && (rc = sp_textfile_line(f, ctx, &s, &len)) > 0) {
		size_t lineno = sp_textfile_lineno(f);
		if ((lineno == 1 && skip_first) || sp_text_blank(s, len))
			continue;
		/* the line lies in f's own buffer: fn may write */
		if ((rc = fn(payload, lineno, (char *)s, len)) != 0)
			break;
	}
	sp_textfile_close(f);
	return rc < 0 ? rc : SP_OK;
}
