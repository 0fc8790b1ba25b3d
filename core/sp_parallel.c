/*
 * sp_parallel.c: parallel text in memory (see sp_parallel.h).
 *
 * A file is read whole (gzread also passes plain files through) and its
 * lines are cut in place: '\n', '\r' and '\t' separators become NULs, so
 * every side is a C string inside the file's buffer and a pair is four
 * offsets.
 */
#include "sp_parallel.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sp_hash.h"
#include "sp_utf8.h"

typedef struct pair {
	size_t src, src_len, tgt, tgt_len; /* offsets into buf[0] / buf[1] */
	size_t line;
} pair;

struct sp_parallel {
	char *buf[2]; /* source file, target file (tsv: only buf[0]) */
	pair *pairs;
	size_t n, cap;
	int tsv;
	sp_parallel_counts counts;
};

/* One file's lines: offsets and lengths into its buffer. */
typedef struct span {
	size_t off, len;
} span;

void sp_parallel_opts_init(sp_parallel_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->src_col = 0;
	o->tgt_col = 1;
}

void sp_parallel_free(sp_parallel *p)
{
	if (!p)
		return;
	free(p->buf[0]);
	free(p->buf[1]);
	free(p->pairs);
	free(p);
}

/* Reads path ("-" = standard input) whole, through zlib. */
static int read_all(sp_ctx *ctx, const char *path, char **out, size_t *len)
{
	int fd = strcmp(path, "-") ? -1 : dup(STDIN_FILENO);
	gzFile gz;
	size_t cap = 1 << 16, n = 0;
	char *buf = NULL;
	*out = NULL;
	errno = 0; /* gzopen sets it when open() fails, not otherwise */
	gz = fd >= 0 ? gzdopen(fd, "rb") : strcmp(path, "-") ? gzopen(path, "rb") : NULL;
	if (!gz) {
		if (fd >= 0)
			close(fd);
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", path,
			      errno ? strerror(errno) : "not a readable file");
	}
	for (;;) {
		int k;
		if (n + 1 >= cap || !buf) {
			char *b;
			if (buf)
				cap *= 2;
			if (!(b = realloc(buf, cap))) {
				free(buf);
				gzclose(gz);
				return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
			}
			buf = b;
		}
		k = gzread(gz, buf + n, (unsigned)(cap - n - 1 > (1u << 30) ? 1u << 30 : cap - n - 1));
		if (k < 0) {
			int err;
			const char *msg = gzerror(gz, &err);
			sp_err(ctx, SP_EIO, "%s: read error: %s", path, msg);
			free(buf);
			gzclose(gz);
			return SP_EIO;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	gzclose(gz);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return SP_OK;
}

/* Cuts buf into lines (NUL-terminated in place, CR dropped, UTF-8
 * checked); *lines is malloc'ed. */
static int cut_lines(sp_ctx *ctx, const char *path, char *buf, size_t n, span **lines,
		     size_t *n_lines)
{
	size_t start = 0, k = 0, cap = 1024;
	span *l = malloc(cap * sizeof(*l));
	*lines = NULL;
	if (!l)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	while (start < n) {
		char *nl = memchr(buf + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - buf) : n, len = end - start, bad;
		if (len && buf[start + len - 1] == '\r')
			len--;
		buf[start + len] = '\0';
		if (sp_utf8_check(buf + start, len, &bad) < 0) {
			free(l);
			return sp_err(ctx, SP_EINPUT, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02x), expected UTF-8 text",
				      path, k + 1, bad + 1, (unsigned char)buf[start + bad]);
		}
		if (k == cap) {
			span *m = realloc(l, 2 * cap * sizeof(*l));
			if (!m) {
				free(l);
				return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
			}
			l = m;
			cap *= 2;
		}
		l[k].off = start;
		l[k++].len = len;
		start = end + 1;
	}
	*lines = l;
	*n_lines = k;
	return SP_OK;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Counts, skips or refuses a pair with an empty side, else keeps it. */
static int add_pair(sp_parallel *p, sp_ctx *ctx, const sp_parallel_opts *o,
		    const char *src_path, const char *tgt_path, pair pr)
{
	int es = blank(p->buf[0] + pr.src, pr.src_len);
	int et = blank(p->buf[p->tsv ? 0 : 1] + pr.tgt, pr.tgt_len);
	if (es || et) {
		if (o->empty == SP_PARALLEL_REFUSE)
			return sp_err(ctx, SP_EINPUT, "%s:%zu: empty %s", es ? src_path : tgt_path,
				      pr.line, es && et ? "source and target" : es ? "source" : "target");
		if (es && et)
			p->counts.empty_both++;
		else if (es)
			p->counts.empty_src++;
		else
			p->counts.empty_tgt++;
		if (o->empty == SP_PARALLEL_SKIP) {
			p->counts.skipped++;
			return SP_OK;
		}
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		pair *m = realloc(p->pairs, cap * sizeof(*m));
		if (!m)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory", src_path);
		p->pairs = m;
		p->cap = cap;
	}
	p->pairs[p->n++] = pr;
	p->counts.pairs = p->n;
	return SP_OK;
}

static int check_opts(sp_ctx *ctx, const sp_parallel_opts *o)
{
	if (!o || o->size < sizeof(sp_parallel_opts))
		return sp_err(ctx, SP_EINVAL, "parallel: options not initialised (sp_parallel_opts_init)");
	if (o->src_col < 0 || o->tgt_col < 0 || o->src_col == o->tgt_col)
		return sp_err(ctx, SP_EINVAL, "parallel: columns %d and %d must be distinct and >= 0",
			      o->src_col, o->tgt_col);
	if ((unsigned)o->empty > SP_PARALLEL_REFUSE)
		return sp_err(ctx, SP_EINVAL, "parallel: unknown empty-line policy %d", (int)o->empty);
	return SP_OK;
}

int sp_parallel_read_files(sp_parallel **out, sp_ctx *ctx, const char *src_path,
			   const char *tgt_path, const sp_parallel_opts *o)
{
	sp_parallel *p;
	span *ls = NULL, *lt = NULL;
	size_t ns = 0, nt = 0, len[2];
	int rc;
	*out = NULL;
	if ((rc = check_opts(ctx, o)) < 0)
		return rc;
	if (!(p = calloc(1, sizeof(*p))))
		return sp_err(ctx, SP_ENOMEM, "parallel: out of memory");
	if ((rc = read_all(ctx, src_path, &p->buf[0], &len[0])) < 0 ||
	    (rc = read_all(ctx, tgt_path, &p->buf[1], &len[1])) < 0 ||
	    (rc = cut_lines(ctx, src_path, p->buf[0], len[0], &ls, &ns)) < 0 ||
	    (rc = cut_lines(ctx, tgt_path, p->buf[1], len[1], &lt, &nt)) < 0)
		goto fail;
	if (ns != nt) {
		rc = sp_err(ctx, SP_EINPUT, "line counts differ: %s has %zu lines, %s has %zu",
			    src_path, ns, tgt_path, nt);
		goto fail;
	}
	p->counts.lines = ns;
	for (size_t i = 0; i < ns && (!o->max_pairs || p->n < o->max_pairs); i++) {
		pair pr = {ls[i].off, ls[i].len, lt[i].off, lt[i].len, i + 1};
		if ((rc = add_pair(p, ctx, o, src_path, tgt_path, pr)) < 0)
			goto fail;
	}
	free(ls);
	free(lt);
	*out = p;
	return SP_OK;
fail:
	free(ls);
	free(lt);
	sp_parallel_free(p);
	return rc;
}

/* The start and length of 0-based column `col` of a line, or -1. */
static int column(const char *s, size_t n, int col, size_t *off, size_t *len)
{
	size_t start = 0;
	for (int c = 0;; c++) {
		const char *tab = memchr(s + start, '\t', n - start);
		size_t end = tab ? (size_t)(tab - s) : n;
		if (c == col) {
			*off = start;
			*len = end - start;
			return 0;
		}
		if (!tab)
			return -1;
		start = end + 1;
	}
}

static size_t n_columns(const char *s, size_t n)
{
	size_t k = 1;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\t';
	return k;
}

int sp_parallel_read_tsv(sp_parallel **out, sp_ctx *ctx, const char *path,
			 const sp_parallel_opts *o)
{
	sp_parallel *p;
	span *l = NULL;
	size_t n = 0, len;
	int rc;
	*out = NULL;
	if ((rc = check_opts(ctx, o)) < 0)
		return rc;
	if (!(p = calloc(1, sizeof(*p))))
		return sp_err(ctx, SP_ENOMEM, "parallel: out of memory");
	p->tsv = 1;
	if ((rc = read_all(ctx, path, &p->buf[0], &len)) < 0 ||
	    (rc = cut_lines(ctx, path, p->buf[0], len, &l, &n)) < 0)
		goto fail;
	p->counts.lines = n;
	for (size_t i = 0; i < n && (!o->max_pairs || p->n < o->max_pairs); i++) {
		char *s = p->buf[0] + l[i].off;
		size_t so, sl, to, tl;
		pair pr;
		if (column(s, l[i].len, o->src_col, &so, &sl) < 0 ||
		    column(s, l[i].len, o->tgt_col, &to, &tl) < 0) {
			int need = (o->src_col > o->tgt_col ? o->src_col : o->tgt_col) + 1;
			rc = sp_err(ctx, SP_EINPUT,
				    "%s:%zu: expected at least %d tab-separated columns, found %zu",
				    path, i + 1, need, n_columns(s, l[i].len));
			goto fail;
		}
		pr = (pair){l[i].off + so, sl, l[i].off + to, tl, i + 1};
		if ((rc = add_pair(p, ctx, o, path, path, pr)) < 0)
			goto fail;
	}
	/* cut the columns only now: column() needs the tabs */
	for (size_t i = 0; i < p->n; i++) {
		p->buf[0][p->pairs[i].src + p->pairs[i].src_len] = '\0';
		p->buf[0][p->pairs[i].tgt + p->pairs[i].tgt_len] = '\0';
	}
	free(l);
	*out = p;
	return SP_OK;
fail:
	free(l);
	sp_parallel_free(p);
	return rc;
}

size_t sp_parallel_count(const sp_parallel *p) { return p->n; }

const char *sp_parallel_src(const sp_parallel *p, size_t i, size_t *len)
{
	if (len)
		*len = p->pairs[i].src_len;
	return p->buf[0] + p->pairs[i].src;
}

const char *sp_parallel_tgt(const sp_parallel *p, size_t i, size_t *len)
{
	if (len)
		*len = p->pairs[i].tgt_len;
	return p->buf[p->tsv ? 0 : 1] + p->pairs[i].tgt;
}

size_t sp_parallel_line(const sp_parallel *p, size_t i) { return p->pairs[i].line; }

const sp_parallel_counts *sp_parallel_counts_of(const sp_parallel *p) { return &p->counts; }

sp_split sp_parallel_split_of(const char *src, size_t len, unsigned dev_pct, unsigned test_pct)
{
	unsigned b = (unsigned)(sp_hash_fnv1a64(src, len) % 100);
	if (b < test_pct)
		return SP_SPLIT_TEST;
	if (b < test_pct + dev_pct)
		return SP_SPLIT_DEV;
	return SP_SPLIT_TRAIN;
}
