/*
 * sp_lines.c: whole lines from a plain or gzip file.  Reads in 64 KiB
 * chunks with gzread and splits them, so a 1 Mbp FASTA line costs one
 * buffer of that size and nothing per character.
 */
#include "sp_lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { CHUNK = 1 << 16 };

struct sp_lines {
	gzFile gz;
	char *path;
	char *buf;      /* bytes read, not yet returned: buf[beg..end) */
	size_t beg, end, cap;
	long lineno;
	int eof;
};

int sp_lines_open(sp_lines **out, sp_ctx *ctx, const char *path)
{
	sp_lines *r;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path)) || !(r->buf = malloc(CHUNK))) {
		if (r)
			free(r->path);
		free(r);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	}
	r->cap = CHUNK;
	r->gz = gzopen(path, "rb");
	if (!r->gz) {
		int e = errno;
		sp_lines_close(r);
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", path,
			      e ? strerror(e) : "out of memory");
	}
	gzbuffer(r->gz, CHUNK);
	*out = r;
	return SP_OK;
}

void sp_lines_close(sp_lines *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose(r->gz);
	free(r->buf);
	free(r->path);
	free(r);
}

long sp_lines_lineno(const sp_lines *r) { return r->lineno; }
const char *sp_lines_path(const sp_lines *r) { return r->path; }

/* Appends up to one chunk after buf[end]; 0 at the end of the file. */
static int fill_(sp_lines *r, sp_ctx *ctx)
{
	int got, zerr;
	if (r->beg > 0) { /* keep the pending bytes at the front */
		memmove(r->buf, r->buf + r->beg, r->end - r->beg);
		r->end -= r->beg;
		r->beg = 0;
	}
	if (r->cap - r->end < CHUNK + 1) { /* + 1: room for a final NUL */
		char *nb = realloc(r->buf, r->cap * 2);
		if (!nb)
			return sp_err(ctx, SP_ENOMEM, "%s:%ld: out of memory "
				      "(line longer than %zu bytes)", r->path,
				      r->lineno + 1, r->cap);
		r->buf = nb;
		r->cap *= 2;
	}
	got = gzread(r->gz, r->buf + r->end, CHUNK);
	if (got < 0) {
		const char *m = gzerror(r->gz, &zerr);
		return sp_err(ctx, SP_EIO, "%s:%ld: read error: %s", r->path,
			      r->lineno + 1, zerr == Z_ERRNO ? strerror(errno) : m);
	}
	r->end += (size_t)got;
	return got;
}

int sp_lines_next(sp_lines *r, sp_ctx *ctx, const char **line, size_t *len)
{
	size_t scan = r->beg;
	for (;;) {
		char *nl = memchr(r->buf + scan, '\n', r->end - scan);
		size_t n;
		int rc;
		if (nl || (r->eof && r->end > r->beg)) {
			n = nl ? (size_t)(nl - (r->buf + r->beg)) : r->end - r->beg;
			*line = r->buf + r->beg;
			r->beg += n + (nl != NULL);
			if (n > 0 && (*line)[n - 1] == '\r')
				n--;
			r->buf[(size_t)(*line - r->buf) + n] = '\0';
			*len = n;
			r->lineno++;
			return 1;
		}
		if (r->eof)
			return 0;
		scan = r->end - r->beg; /* fill_ moves the pending bytes to 0 */
		if ((rc = fill_(r, ctx)) < 0)
			return rc;
		if (rc == 0)
			r->eof = 1;
	}
}
