/*
 * t_data.c: tests of core/sp_data.c (readers and batcher).
 *
 * Fixture files are written at test time into a mkdtemp directory under
 * $TMPDIR (removed at the end).  Each error path is checked against the
 * whole message, so FILE:LINE(:COL) must be exact.  When SEQPIPE_SHARED
 * names the shared directory (the one holding data/), a few shipped data
 * sets are read too; otherwise those checks are TAP skips.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, unlink, rmdir */
#endif

#include "sp_data.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_FILES 64

static char dir_[512];
static char files_[MAX_FILES][600];
static int n_files_;

static void skip_(const char *why)
{
	tap_n_++;
	printf("ok %d # SKIP %s\n", tap_n_, why);
}

/* Path of fixture `name` (in a rotating static buffer). */
static const char *fx(const char *name)
{
	static char buf[4][600];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir_, name);
	return buf[k];
}

static void remember_(const char *path)
{
	for (int i = 0; i < n_files_; i++)
		if (strcmp(files_[i], path) == 0)
			return;
	if (n_files_ < MAX_FILES)
		snprintf(files_[n_files_++], sizeof(files_[0]), "%s", path);
}

/* Writes len bytes (len = -1: strlen) to fixture `name`; returns its path. */
static const char *put(const char *name, const char *data, long len)
{
	const char *path = fx(name);
	size_t n = len < 0 ? strlen(data) : (size_t)len;
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n)
		diag("cannot write %s", path);
	if (f)
		fclose(f);
	remember_(path);
	return path;
}

static const char *put_gz(const char *name, const char *data, size_t n)
{
	const char *path = fx(name);
	gzFile g = gzopen(path, "wb");
	if (!g || gzwrite(g, data, (unsigned)n) != (int)n)
		diag("cannot write %s", path);
	if (g)
		gzclose(g);
	remember_(path);
	return path;
}

/* Reads and expects failure with `code` and exactly message `want`. */
static void expect_err(sp_ctx *ctx, const char *path, sp_data_format fmt,
		       const sp_data_opts *o, int code, const char *want,
		       const char *what)
{
	sp_corpus *c = (sp_corpus *)&code;
	int rc = sp_corpus_read(&c, ctx, path, fmt, o);
	ok(rc == code && c == NULL, "%s: code %d (want %d), *out NULL", what,
	   rc, code);
	ok_str(sp_errmsg(ctx), want, "%s: message", what);
}

static sp_corpus *read_ok(sp_ctx *ctx, const char *path, sp_data_format fmt,
			  const sp_data_opts *o, const char *what)
{
	sp_corpus *c = NULL;
	int rc = sp_corpus_read(&c, ctx, path, fmt, o);
	if (!ok(rc == SP_OK && c != NULL, "%s: read ok", what))
		diag("%s", sp_errmsg(ctx));
	return c;
}

static void test_lines(sp_ctx *ctx)
{
	static const char text[] = "\xEF\xBB\xBFhello world\n\n  \t\n"
				   "second line\r\nt\xC3\xA9rc\xE2\x82\xAC\n"
				   "\r\nno newline at end";
	sp_data_opts o = SP_DATA_OPTS_INIT;
	const char *path = put("a.txt", text, -1);
	sp_corpus *c = read_ok(ctx, path, SP_DATA_LINES, NULL, "lines");
	size_t len = 99;

	if (!c)
		return;
	ok(sp_corpus_count(c) == 4, "lines: 4 examples, blanks skipped (%zu)",
	   sp_corpus_count(c));
	ok_str(sp_corpus_text(c, 0, &len), "hello world", "lines: BOM stripped");
	ok(len == 11, "lines: length 11 (%zu)", len);
	ok_str(sp_corpus_text(c, 1, &len), "second line", "lines: CRLF");
	ok(len == 11, "lines: CR not counted (%zu)", len);
	ok_str(sp_corpus_text(c, 2, NULL), "t\xC3\xA9rc\xE2\x82\xAC",
	       "lines: UTF-8 kept");
	ok_str(sp_corpus_text(c, 3, NULL), "no newline at end",
	       "lines: last line without newline");
	ok(sp_corpus_line(c, 0) == 1 && sp_corpus_line(c, 1) == 4 &&
		   sp_corpus_line(c, 2) == 5 && sp_corpus_line(c, 3) == 7,
	   "lines: source lines 1 4 5 7");
	ok(sp_corpus_text(c, 4, &len) == NULL && len == 0,
	   "lines: out of range -> NULL");
	ok(sp_corpus_label(c, 0) == NULL && sp_corpus_tokens(c, 0, NULL) == NULL,
	   "lines: no label, no tokens");
	ok(sp_corpus_format(c) == SP_DATA_LINES, "lines: format");
	sp_corpus_free(c);

	o.max_examples = 2;
	c = read_ok(ctx, path, SP_DATA_LINES, &o, "lines max 2");
	ok(c && sp_corpus_count(c) == 2, "lines: max_examples 2");
	sp_corpus_free(c);

	/* the same through zlib */
	path = put_gz("a.txt.gz", text, strlen(text));
	c = read_ok(ctx, path, SP_DATA_LINES, NULL, "lines.gz");
	ok(c && sp_corpus_count(c) == 4 &&
		   strcmp(sp_corpus_text(c, 3, NULL), "no newline at end") == 0,
	   "lines.gz: same 4 examples");
	sp_corpus_free(c);
}

/* A file bigger than the reader's 64 KiB buffer: a 200 kB line, then
 * 20000 short ones (grows the line buffer, the arena, the examples). */
static void test_big(sp_ctx *ctx)
{
	size_t n = 200000 + 20000 * 8, o = 0;
	char *big = malloc(n + 1);
	sp_corpus *c;
	const char *path, *last;
	size_t len;

	memset(big, 'x', 200000);
	o = 200000;
	big[o++] = '\n';
	for (int i = 0; i < 20000; i++)
		o += (size_t)snprintf(big + o, n + 1 - o, "l%05d\n", i);
	path = put_gz("big.txt.gz", big, o);
	c = read_ok(ctx, path, SP_DATA_LINES, NULL, "big.gz");
	ok(c && sp_corpus_count(c) == 20001, "big: 20001 examples");
	ok(c && sp_corpus_text(c, 0, &len) && len == 200000,
	   "big: 200000-byte line intact");
	last = c ? sp_corpus_text(c, 20000, NULL) : NULL;
	ok_str(last, "l19999", "big: last line");
	ok(c && sp_corpus_line(c, 20000) == 20001, "big: its line number");
	sp_corpus_free(c);
	free(big);
}

static void test_conll(sp_ctx *ctx)
{
	static const char text[] =
		"-DOCSTART- -X- O O\n"      /* 1 */
		"\n"                        /* 2 */
		"EU\tB-ORG\n"               /* 3 */
		"rejects\tO\r\n"            /* 4 */
		"\t\n"                      /* 5: wnut17 uses "\t" as blank */
		"German B-MISC\n"           /* 6 */
		"\n\n"                      /* 7, 8 */
		"call NN I-NP O  \n"        /* 9: 4 columns, trailing blanks */
		"last\t\tO";                /* 10: no final newline */
	sp_data_opts o = SP_DATA_OPTS_INIT;
	const char *path = put("a.conll", text, -1);
	sp_corpus *c = read_ok(ctx, path, SP_DATA_CONLL, NULL, "conll");
	const char *const *tok, *const *lab;
	size_t n = 0, m = 0;

	if (!c)
		return;
	ok(sp_corpus_count(c) == 3, "conll: 3 sentences (%zu)",
	   sp_corpus_count(c));
	tok = sp_corpus_tokens(c, 0, &n);
	lab = sp_corpus_labels(c, 0, &m);
	ok(n == 2 && m == 2, "conll: sentence 1 has 2 tokens");
	ok(tok && lab && strcmp(tok[0], "EU") == 0 &&
		   strcmp(tok[1], "rejects") == 0 &&
		   strcmp(lab[0], "B-ORG") == 0 && strcmp(lab[1], "O") == 0,
	   "conll: EU/B-ORG rejects/O (CR stripped)");
	tok = sp_corpus_tokens(c, 1, &n);
	lab = sp_corpus_labels(c, 1, NULL);
	ok(n == 1 && strcmp(tok[0], "German") == 0 &&
		   strcmp(lab[0], "B-MISC") == 0,
	   "conll: space-separated columns");
	tok = sp_corpus_tokens(c, 2, &n);
	lab = sp_corpus_labels(c, 2, NULL);
	ok(n == 2 && strcmp(tok[0], "call") == 0 && strcmp(lab[0], "O") == 0 &&
		   strcmp(tok[1], "last") == 0 && strcmp(lab[1], "O") == 0,
	   "conll: first column token, last column label");
	ok(sp_corpus_line(c, 0) == 3 && sp_corpus_line(c, 1) == 6 &&
		   sp_corpus_line(c, 2) == 9,
	   "conll: sentence start lines 3 6 9");
	ok(sp_corpus_text(c, 0, NULL) == NULL &&
		   sp_corpus_tokens(c, 3, &n) == NULL && n == 0,
	   "conll: no text; out of range -> NULL");
	sp_corpus_free(c);

	o.max_examples = 1;
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "conll max 1");
	ok(c && sp_corpus_count(c) == 1, "conll: max_examples 1");
	sp_corpus_free(c);

	path = put_gz("a.conll.gz", text, strlen(text));
	c = read_ok(ctx, path, SP_DATA_CONLL, NULL, "conll.gz");
	ok(c && sp_corpus_count(c) == 3, "conll.gz: 3 sentences");
	sp_corpus_free(c);
}

static void test_conll_errors(sp_ctx *ctx)
{
	char want[1024];
	sp_data_opts o = SP_DATA_OPTS_INIT;
	const char *path;
	sp_corpus *c;

	path = put("e1.conll", "a\tO\nb\tO\n\nlonely\nc\tO\n", -1);
	snprintf(want, sizeof(want),
		 "%s:4: expected 'token<TAB>label', got 'lonely'", path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll one column");

	path = put("e2.conll", "a\tO\n\tO\n", -1);
	snprintf(want, sizeof(want),
		 "%s:2: expected 'token<TAB>label', got '\\tO'", path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll empty token");

	path = put("e3.conll",
		   "a\tO\r\n"
		   "0123456789012345678901234567890123456789overflow\r\n",
		   -1);
	snprintf(want, sizeof(want),
		 "%s:2: expected 'token<TAB>label', got "
		 "'0123456789012345678901234567890123456789...'",
		 path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll long line cut at 40");

	/* a cut never splits a character: 39 x + e-acute */
	path = put("e4.conll",
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xC3\xA9yyy\n", -1);
	snprintf(want, sizeof(want),
		 "%s:1: expected 'token<TAB>label', got "
		 "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'",
		 path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll cut on a character boundary");

	path = put("e5.conll", "a\tO\nb\t\xC3(\n", -1);
	snprintf(want, sizeof(want), "%s:2:3: invalid UTF-8 (byte 0xc3)", path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll invalid UTF-8");

	path = put("e6.conll", "-DOCSTART- O\n\n \t\n", -1);
	snprintf(want, sizeof(want), "%s: no examples (conll format)", path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll without sentences");

	/* skip_bad: BTC-style lines with an empty token are dropped */
	o.skip_bad = 1;
	path = put("e7.conll", "a\tO\n\tO\n \tO\nb\tO\nlonely\n\nc\tO\n", -1);
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "conll skip_bad");
	ok(c && sp_corpus_count(c) == 2 && sp_corpus_skipped(c) == 3,
	   "conll skip_bad: 2 sentences, 3 lines skipped");
	if (c) {
		size_t n;
		sp_corpus_tokens(c, 0, &n);
		ok(n == 2, "conll skip_bad: a b kept in one sentence");
	}
	sp_corpus_free(c);
}

static void test_tsv(sp_ctx *ctx)
{
	char want[1024];
	sp_data_opts o = SP_DATA_OPTS_INIT;
	const char *path;
	sp_corpus *c;
	size_t len;

	path = put("a.tsv",
		   "sentence\tlabel\n"
		   "good movie , really\t1\n"
		   "\n"
		   "bad\t0\r\n"
		   "with\ta tab\tnot here", -1);
	o.header = 1;
	o.label_col = -1;
	c = read_ok(ctx, path, SP_DATA_TSV, &o, "tsv");
	if (c) {
		ok(sp_corpus_count(c) == 3, "tsv: 3 examples after header");
		ok_str(sp_corpus_text(c, 0, &len), "good movie , really",
		       "tsv: text with spaces");
		ok(len == 19, "tsv: text length");
		ok_str(sp_corpus_label(c, 0), "1", "tsv: label 1");
		ok_str(sp_corpus_label(c, 1), "0", "tsv: CRLF label 0");
		ok_str(sp_corpus_label(c, 2), "not here", "tsv: -1 = last");
		ok(sp_corpus_line(c, 0) == 2 && sp_corpus_line(c, 1) == 4,
		   "tsv: lines 2 and 4");
		ok(sp_corpus_tokens(c, 0, NULL) == NULL, "tsv: no tokens");
	}
	sp_corpus_free(c);

	/* poem_sentiment layout: id, verse, label */
	path = put("p.tsv", "0\twith pale blue berries.\t1\n"
			    "1\tit flows so long,\t-1\n", -1);
	o = (sp_data_opts)SP_DATA_OPTS_INIT;
	o.text_col = 1;
	o.label_col = 2;
	c = read_ok(ctx, path, SP_DATA_TSV, &o, "tsv cols 1,2");
	ok(c && sp_corpus_count(c) == 2 &&
		   strcmp(sp_corpus_text(c, 1, NULL), "it flows so long,") == 0 &&
		   strcmp(sp_corpus_label(c, 1), "-1") == 0,
	   "tsv: text_col 1, label_col 2");
	sp_corpus_free(c);

	/* label first (statlog DNA: CLASS\tSEQ) */
	path = put("d.tsv", "EI\tACGT\n", -1);
	o.text_col = -1;
	o.label_col = 0;
	c = read_ok(ctx, path, SP_DATA_TSV, &o, "tsv label first");
	ok(c && strcmp(sp_corpus_text(c, 0, NULL), "ACGT") == 0 &&
		   strcmp(sp_corpus_label(c, 0), "EI") == 0,
	   "tsv: text_col -1, label_col 0");
	sp_corpus_free(c);

	/* errors */
	path = put("e1.tsv", "fine\t1\nno label here\n", -1);
	snprintf(want, sizeof(want),
		 "%s:2: expected 2 tab-separated columns (text_col=0, "
		 "label_col=1), got 1: 'no label here'",
		 path);
	expect_err(ctx, path, SP_DATA_TSV, NULL, SP_EINPUT, want,
		   "tsv missing column");
	o = (sp_data_opts)SP_DATA_OPTS_INIT;
	o.text_col = 1;
	o.label_col = -1;
	path = put("e2.tsv", "0\tverse\t1\n1\tverse\n", -1);
	snprintf(want, sizeof(want),
		 "%s:2: expected 3 tab-separated columns (text_col=1, "
		 "label_col=-1), got 2: '1\\tverse'",
		 path);
	expect_err(ctx, path, SP_DATA_TSV, &o, SP_EINPUT, want,
		   "tsv -1 needs a column past text");
	path = put("e3.tsv", "text\t\n", -1);
	snprintf(want, sizeof(want), "%s:1: empty label in column 1: 'text\\t'",
		 path);
	expect_err(ctx, path, SP_DATA_TSV, NULL, SP_EINPUT, want,
		   "tsv empty label");
	path = put("e4.tsv", "a\t1\n\t1\n", -1);
	snprintf(want, sizeof(want), "%s:2: empty text in column 0: '\\t1'",
		 path);
	expect_err(ctx, path, SP_DATA_TSV, NULL, SP_EINPUT, want,
		   "tsv empty text");
	o = (sp_data_opts)SP_DATA_OPTS_INIT;
	o.skip_bad = 1;
	path = put("e5.tsv", "a\t1\nbad\n\tx\nb\t0\n", -1);
	c = read_ok(ctx, path, SP_DATA_TSV, &o, "tsv skip_bad");
	ok(c && sp_corpus_count(c) == 2 && sp_corpus_skipped(c) == 2,
	   "tsv skip_bad: 2 kept, 2 skipped");
	sp_corpus_free(c);
	o = (sp_data_opts)SP_DATA_OPTS_INIT;
	o.label_col = 0;
	c = (sp_corpus *)&o;
	ok(sp_corpus_read(&c, ctx, path, SP_DATA_TSV, &o) == SP_EINVAL &&
		   c == NULL,
	   "tsv: text_col == label_col refused: %s", sp_errmsg(ctx));
	o.label_col = -2;
	ok(sp_corpus_read(&c, ctx, path, SP_DATA_TSV, &o) == SP_EINVAL,
	   "tsv: label_col -2 refused");
	o = (sp_data_opts)SP_DATA_OPTS_INIT;
	o.version = 7;
	ok(sp_corpus_read(&c, ctx, path, SP_DATA_TSV, &o) == SP_EINVAL,
	   "opts version 7 refused: %s", sp_errmsg(ctx));
}

static void test_common_errors(sp_ctx *ctx)
{
	static const struct {
		const char *bytes;
		int col;
		int byte;
		const char *what;
	} bad[] = {
		{"ab\x80", 3, 0x80, "lone continuation byte"},
		{"ab\xC0\xAF", 3, 0xc0, "overlong 2-byte (C0 AF)"},
		{"ab\xC1\xBF", 3, 0xc1, "overlong 2-byte (C1 BF)"},
		{"ab\xE0\x80\xAF", 3, 0xe0, "overlong 3-byte (E0 80 AF)"},
		{"ab\xF0\x80\x80\xAF", 3, 0xf0, "overlong 4-byte (F0 80 80 AF)"},
		{"ab\xED\xA0\x80", 3, 0xed, "surrogate U+D800"},
		{"ab\xED\xBF\xBF", 3, 0xed, "surrogate U+DFFF"},
		{"ab\xF4\x90\x80\x80", 3, 0xf4, "U+110000"},
		{"ab\xF5\x80\x80\x80", 3, 0xf5, "F5 lead byte"},
		{"ab\xFF", 3, 0xff, "FF byte"},
		{"ab\xE2\x82", 3, 0xe2, "sequence cut by the line end"},
		{"ab\xE2\x82z", 3, 0xe2, "sequence cut by ASCII"},
		{"\xC3\xA9\xC3", 3, 0xc3, "cut after a valid character"},
	};
	static const char *good[] = {
		"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
		"\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
		"\xF4\x8F\xBF\xBF", "\xF0\x9F\x98\x80",
	};
	char want[1024], data[64];
	sp_data_format fmt;
	const char *path;
	sp_corpus *c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(data, sizeof(data), "fine\n%s\n", bad[i].bytes);
		path = put("u.txt", data, -1);
		snprintf(want, sizeof(want),
			 "%s:2:%d: invalid UTF-8 (byte 0x%02x)", path,
			 bad[i].col, bad[i].byte);
		expect_err(ctx, path, SP_DATA_LINES, NULL, SP_EINPUT, want,
			   bad[i].what);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(data, sizeof(data), "x%sy\n", good[i]);
		path = put("v.txt", data, -1);
		data[strlen(data) - 1] = '\0';
		c = NULL;
		ok(sp_corpus_read(&c, ctx, path, SP_DATA_LINES, NULL) == SP_OK &&
			   strcmp(sp_corpus_text(c, 0, NULL), data) == 0,
		   "valid UTF-8 boundary case %zu accepted", i);
		sp_corpus_free(c);
	}
	path = put("nul.txt", "ok\nab\0cd\n", 9);
	snprintf(want, sizeof(want), "%s:2:3: NUL byte", path);
	expect_err(ctx, path, SP_DATA_LINES, NULL, SP_EINPUT, want, "NUL byte");

	/* invalid UTF-8 in tsv, columns count bytes from 1, past a tab */
	path = put("u.tsv", "a\t1\nbad\t\xF8\n", -1);
	snprintf(want, sizeof(want), "%s:2:5: invalid UTF-8 (byte 0xf8)", path);
	expect_err(ctx, path, SP_DATA_TSV, NULL, SP_EINPUT, want, "tsv UTF-8");
	/* and in a gzip file */
	path = put_gz("u.txt.gz", "ok\n\xC0\x80\n", 6);
	snprintf(want, sizeof(want), "%s:2:1: invalid UTF-8 (byte 0xc0)", path);
	expect_err(ctx, path, SP_DATA_LINES, NULL, SP_EINPUT, want,
		   "gzip UTF-8");

	/* missing files, every format, plain and gzip */
	for (int k = 0; k < 4; k++) {
		const char *name = k == 3 ? "missing.txt.gz" : "missing.txt";
		path = fx(name);
		snprintf(want, sizeof(want),
			 "%s: cannot open: No such file or directory", path);
		expect_err(ctx, path, k == 1 ? SP_DATA_CONLL
				      : k == 2 ? SP_DATA_TSV
					       : SP_DATA_LINES,
			   NULL, SP_EIO, want, "missing file");
	}

	/* truncated gzip stream */
	{
		static const char text[] =
			"a long enough line of text to compress\n"
			"and another line of text to compress\n";
		FILE *f;
		long size;
		char raw[512];
		path = put_gz("t.txt.gz", text, strlen(text));
		f = fopen(path, "rb");
		size = f ? (long)fread(raw, 1, sizeof(raw), f) : 0;
		if (f)
			fclose(f);
		path = put("trunc.txt.gz", raw, size - 12);
		c = (sp_corpus *)&size;
		ok(sp_corpus_read(&c, ctx, path, SP_DATA_LINES, NULL) ==
				   SP_EIO &&
			   c == NULL,
		   "truncated gzip -> SP_EIO: %s", sp_errmsg(ctx));
		snprintf(want, sizeof(want), "%s: gzip: ", path);
		ok(strncmp(sp_errmsg(ctx), want, strlen(want)) == 0 &&
			   strstr(sp_errmsg(ctx) + strlen(want), path) == NULL,
		   "truncated gzip message names the file once");
	}

	path = put("empty.txt", "", 0);
	snprintf(want, sizeof(want), "%s: no examples (lines format)", path);
	expect_err(ctx, path, SP_DATA_LINES, NULL, SP_EINPUT, want,
		   "empty file");

	ok(sp_data_format_parse(&fmt, ctx, "conll") == SP_OK &&
		   fmt == SP_DATA_CONLL,
	   "format parse conll");
	ok(sp_data_format_parse(&fmt, ctx, "csv") == SP_EINVAL,
	   "format parse csv refused: %s", sp_errmsg(ctx));
	ok_str(sp_data_format_name(SP_DATA_TSV), "tsv", "format name");
	sp_corpus_free(NULL);
	ok(1, "sp_corpus_free(NULL) is a no-op");
}

/* Issue 12: an empty path, NULL corpora, ceilings, the CoNLL label
 * column, the skip count of the Broad Twitter Corpus lines. */
static void test_hardening(sp_ctx *ctx)
{
	char want[1024], *big;
	sp_data_opts o = SP_DATA_OPTS_INIT;
	const char *path;
	const char *const *tok, *const *lab;
	sp_corpus *c;
	size_t n = 9, len = 9;

	expect_err(ctx, "", SP_DATA_LINES, NULL, SP_EINVAL,
		   "data: empty file name, expected the path of a lines file",
		   "empty path");
	expect_err(ctx, NULL, SP_DATA_CONLL, NULL, SP_EINVAL,
		   "data: empty file name, expected the path of a conll file",
		   "NULL path");
	ok(sp_corpus_count(NULL) == 0 && sp_corpus_skipped(NULL) == 0 &&
		   sp_corpus_text(NULL, 0, &len) == NULL && len == 0 &&
		   sp_corpus_tokens(NULL, 0, &n) == NULL && n == 0 &&
		   sp_corpus_label(NULL, 0) == NULL &&
		   sp_corpus_line(NULL, 0) == 0,
	   "a NULL corpus reads as an empty one");

	/* /dev/zero: one endless line, stopped at the line ceiling */
	if (access("/dev/zero", R_OK) == 0)
		expect_err(ctx, "/dev/zero", SP_DATA_LINES, NULL, SP_EINPUT,
			   "/dev/zero:1: line longer than 16777216 bytes, the "
			   "ceiling of one line (max_line_bytes)",
			   "/dev/zero");
	else
		skip_("no /dev/zero"), skip_("no /dev/zero");

	o.max_line_bytes = 8;
	path = put("ceil.txt", "12345678\nabc\n123456789\n", -1);
	snprintf(want, sizeof(want),
		 "%s:3: line longer than 8 bytes, the ceiling of one line "
		 "(max_line_bytes)", path);
	expect_err(ctx, path, SP_DATA_LINES, &o, SP_EINPUT, want,
		   "a 9-byte line over a ceiling of 8");
	o.max_examples = 2;
	c = read_ok(ctx, path, SP_DATA_LINES, &o, "8-byte lines under 8");
	ok(c && sp_corpus_count(c) == 2, "lines at the ceiling are read");
	sp_corpus_free(c);
	o = (sp_data_opts)SP_DATA_OPTS_INIT;

	big = malloc(3000);
	if (big) {
		memset(big, 'a', 3000);
		for (int i = 99; i < 3000; i += 100)
			big[i] = '\n';
		o.max_file_bytes = 2500;
		path = put_gz("ceil.txt.gz", big, 3000);
		snprintf(want, sizeof(want),
			 "%s: more than 2500 bytes, the ceiling of a data file "
			 "(max_file_bytes)", path);
		expect_err(ctx, path, SP_DATA_LINES, &o, SP_EINPUT, want,
			   "the file ceiling counts decompressed bytes");
		o.max_file_bytes = 3000;
		c = read_ok(ctx, path, SP_DATA_LINES, &o, "a file at its ceiling");
		ok(c && sp_corpus_count(c) == 30, "30 lines at the ceiling");
		sp_corpus_free(c);
		free(big);
		o = (sp_data_opts)SP_DATA_OPTS_INIT;
	}

	/* the CoNLL label: 3 columns are ambiguous by default */
	path = put("three.conll", "EU\tNNP\tB-ORG\nrejects\tVBZ\tO\n", -1);
	snprintf(want, sizeof(want),
		 "%s:1: 3 columns, expected 2 (token label) or 4 (CoNLL-2003: "
		 "token POS chunk label); for another layout name the label "
		 "column: 'EU\\tNNP\\tB-ORG'", path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "conll 3 columns refused by default");
	o.conll_label_col = 2;
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "conll label column 2");
	lab = c ? sp_corpus_labels(c, 0, &n) : NULL;
	ok(lab && n == 2 && strcmp(lab[0], "B-ORG") == 0, "label column 2");
	sp_corpus_free(c);
	o.conll_label_col = 1;
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "conll label column 1");
	lab = c ? sp_corpus_labels(c, 0, &n) : NULL;
	ok(lab && strcmp(lab[0], "NNP") == 0 && strcmp(lab[1], "VBZ") == 0,
	   "label column 1");
	sp_corpus_free(c);
	o.conll_label_col = -1;
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "conll label -1");
	lab = c ? sp_corpus_labels(c, 0, &n) : NULL;
	ok(lab && strcmp(lab[1], "O") == 0, "label -1: the last column");
	sp_corpus_free(c);
	o.conll_label_col = 3;
	snprintf(want, sizeof(want),
		 "%s:1: 3 columns, expected at least 4 (the label is column 3, "
		 "counted from 0): 'EU\\tNNP\\tB-ORG'", path);
	expect_err(ctx, path, SP_DATA_CONLL, &o, SP_EINPUT, want,
		   "conll label column past the line");
	o.conll_label_col = 0;
	expect_err(ctx, path, SP_DATA_CONLL, &o, SP_EINVAL,
		   "data: conll label column 0, expected >= 1, -1 (last) or "
		   "SP_DATA_LABEL_AUTO (-2)",
		   "conll label column 0 is the token");
	o = (sp_data_opts)SP_DATA_OPTS_INIT;

	/* BTC: a tab-separated token may hold spaces; empty or white-space
	 * tokens are skipped and counted under skip_bad */
	path = put("btc.conll",
		   "a\tO\n\tO\n \tO\nke s\tO\n\nb\tB-PER\n\tO\n", -1);
	snprintf(want, sizeof(want),
		 "%s:2: expected 'token<TAB>label', got '\\tO'", path);
	expect_err(ctx, path, SP_DATA_CONLL, NULL, SP_EINPUT, want,
		   "btc empty token refused by default");
	o.skip_bad = 1;
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "btc skip_bad");
	tok = c ? sp_corpus_tokens(c, 0, &n) : NULL;
	ok(c && sp_corpus_count(c) == 2 && sp_corpus_skipped(c) == 3 &&
		   sp_corpus_skipped_first(c) == 2,
	   "btc: 2 sentences, 3 lines skipped, the first on line 2");
	ok(tok && n == 2 && strcmp(tok[1], "ke s") == 0,
	   "btc: the token 'ke s' keeps its space");
	sp_corpus_free(c);
	o = (sp_data_opts)SP_DATA_OPTS_INIT;

	/* an options struct of version 1 still works, with the defaults */
	{
		sp_data_opts v1 = SP_DATA_OPTS_INIT;
		v1.version = 1;
		v1.skip_bad = 1;
		v1.conll_label_col = 12345; /* past a v1 struct: ignored */
		c = read_ok(ctx, path, SP_DATA_CONLL, &v1, "options version 1");
		ok(c && sp_corpus_skipped(c) == 3, "version 1: skip_bad read");
		sp_corpus_free(c);
	}
}

static void test_shared(sp_ctx *ctx)
{
	const char *root = getenv("SEQPIPE_SHARED");
	char path[1024], want[1200];
	sp_data_opts o = SP_DATA_OPTS_INIT;
	sp_corpus *c;
	const char *const *tok;
	size_t n;

	snprintf(path, sizeof(path), "%s/data/ner/wnut17/wnut17train.conll",
		 root ? root : "");
	if (!root || access(path, R_OK) != 0) {
		for (int i = 0; i < 10; i++)
			skip_("SEQPIPE_SHARED not set or data absent");
		return;
	}
	c = read_ok(ctx, path, SP_DATA_CONLL, NULL, "wnut17 train");
	tok = c ? sp_corpus_tokens(c, 0, &n) : NULL;
	ok(c && sp_corpus_count(c) == 3394 && tok &&
		   strcmp(tok[0], "@paulwalk") == 0,
	   "wnut17 train: 3394 sentences, first token @paulwalk (%zu)",
	   c ? sp_corpus_count(c) : 0);
	sp_corpus_free(c);

	/* BTC f.conll has a line "\tO" (empty token) at 13046 */
	snprintf(path, sizeof(path), "%s/data/ner/btc/f.conll", root);
	snprintf(want, sizeof(want),
		 "%s:13046: expected 'token<TAB>label', got '\\tO'", path);
	c = NULL;
	sp_corpus_read(&c, ctx, path, SP_DATA_CONLL, NULL);
	ok_str(sp_errmsg(ctx), want, "btc f.conll: empty token reported");
	sp_corpus_free(c);
	o.skip_bad = 1;
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "btc f.conll skip_bad");
	ok(c && sp_corpus_skipped(c) == 3 &&
		   sp_corpus_skipped_first(c) == 13046,
	   "btc f.conll: 3 empty tokens skipped, the first at 13046 (%zu)",
	   c ? sp_corpus_skipped(c) : 0);
	sp_corpus_free(c);
	snprintf(path, sizeof(path), "%s/data/ner/btc/h.conll", root);
	c = read_ok(ctx, path, SP_DATA_CONLL, &o, "btc h.conll skip_bad");
	ok(c && sp_corpus_skipped(c) == 4 &&
		   sp_corpus_skipped_first(c) == 22918,
	   "btc h.conll: 4 empty tokens skipped, the first at 22918 (%zu)",
	   c ? sp_corpus_skipped(c) : 0);
	sp_corpus_free(c);
	o.skip_bad = 0;

	snprintf(path, sizeof(path), "%s/data/translation/multi30k/val.de.gz",
		 root);
	c = read_ok(ctx, path, SP_DATA_LINES, NULL, "multi30k val.de.gz");
	ok(c && sp_corpus_count(c) == 1014, "multi30k val.de: 1014 lines");
	sp_corpus_free(c);

	snprintf(path, sizeof(path), "%s/data/sentiment/poem_sentiment/train.tsv",
		 root);
	o.text_col = 1;
	o.label_col = 2;
	c = NULL;
	ok(sp_corpus_read(&c, ctx, path, SP_DATA_TSV, &o) == SP_OK &&
		   sp_corpus_count(c) == 892,
	   "poem_sentiment train: 892 verses");
	sp_corpus_free(c);
}

/* ------------------------------------------------------------------ */
/* Batcher                                                             */
/* ------------------------------------------------------------------ */

/* Runs one epoch; appends the indices to seq (if not NULL), checks each
 * index appears once, returns the padding computed from the batches. */
static size_t run_epoch(sp_batcher *b, sp_ctx *ctx, const size_t *len,
			size_t n, size_t batch, size_t *seq, int *once)
{
	char *seen = calloc(n, 1);
	const size_t *idx;
	size_t cnt, pos = 0, pad = 0, nb = 0;
	int good = 1;

	sp_batcher_epoch(b, ctx);
	while (sp_batcher_next(&idx, &cnt, b)) {
		size_t max = 0, sum = 0;
		nb++;
		if (cnt == 0 || cnt > batch)
			good = 0;
		for (size_t i = 0; i < cnt; i++) {
			if (idx[i] >= n || seen[idx[i]]++)
				good = 0;
			if (seq && pos < n)
				seq[pos] = idx[i];
			pos++;
			if (len) {
				max = len[idx[i]] > max ? len[idx[i]] : max;
				sum += len[idx[i]];
			}
		}
		pad += max * cnt - sum;
	}
	*once = good && pos == n && nb == sp_batcher_count(b);
	free(seen);
	return pad;
}

static void test_batcher(void)
{
	enum { N = 103, B = 10 };
	size_t len[N], s1[N], s2[N], s3[N];
	size_t pad_bucket, pad_plain;
	sp_ctx *a, *b2;
	sp_batcher *b, *bb;
	const size_t *idx;
	size_t cnt;
	int once, rc;

	/* skewed: most short, every 10th long */
	for (size_t i = 0; i < N; i++)
		len[i] = i % 10 == 3 ? 80 + i % 7 : 1 + (i * 37) % 12;
	sp_ctx_new(&a, 42);
	sp_ctx_new(&b2, 42);

	rc = sp_batcher_new(&b, a, len, N, B, 1, 1);
	ok(rc == SP_OK && sp_batcher_count(b) == 11, "batcher: 11 batches");
	pad_bucket = run_epoch(b, a, len, N, B, s1, &once);
	ok(once, "bucket+shuffle: each index once in epoch 1");
	ok(pad_bucket == sp_batcher_padding(b),
	   "sp_batcher_padding matches the batches (%zu)", pad_bucket);
	run_epoch(b, a, len, N, B, s2, &once);
	ok(once, "bucket+shuffle: each index once in epoch 2");
	ok(memcmp(s1, s2, sizeof(s1)) != 0, "epoch 2 order differs from 1");
	ok(sp_batcher_next(&idx, &cnt, b) == 0 && cnt == 0 && idx == NULL,
	   "next after the end: 0");

	/* same seed, same batches */
	rc = sp_batcher_new(&bb, b2, len, N, B, 1, 1);
	run_epoch(bb, b2, len, N, B, s3, &once);
	ok(rc == SP_OK && memcmp(s1, s3, sizeof(s1)) == 0,
	   "same seed: same epoch-1 order");
	run_epoch(bb, b2, len, N, B, s3, &once);
	ok(memcmp(s2, s3, sizeof(s2)) == 0, "same seed: same epoch-2 order");
	sp_batcher_free(bb);
	sp_rng_seed(b2, 43);
	bb = NULL;
	sp_batcher_new(&bb, b2, len, N, B, 1, 1);
	run_epoch(bb, b2, len, N, B, s3, &once);
	ok(memcmp(s1, s3, sizeof(s1)) != 0, "other seed: other order");
	sp_batcher_free(bb);

	/* no bucketing: plain shuffle, far more padding */
	sp_rng_seed(a, 42);
	bb = NULL;
	sp_batcher_new(&bb, a, len, N, B, 1, 0);
	pad_plain = run_epoch(bb, a, len, N, B, s3, &once);
	ok(once, "plain shuffle: each index once");
	ok(pad_bucket * 4 < pad_plain,
	   "bucketing cuts padding: %zu vs %zu without", pad_bucket, pad_plain);
	sp_batcher_free(bb);

	/* no shuffle, bucketing: ascending lengths, stable by index */
	bb = NULL;
	sp_batcher_new(&bb, a, len, N, B, 0, 1);
	run_epoch(bb, a, len, N, B, s3, &once);
	{
		int asc = once;
		for (size_t i = 1; i < N; i++)
			if (len[s3[i]] < len[s3[i - 1]] ||
			    (len[s3[i]] == len[s3[i - 1]] && s3[i] < s3[i - 1]))
				asc = 0;
		ok(asc, "bucket without shuffle: sorted by (length, index)");
	}
	sp_batcher_free(bb);

	/* no shuffle, no bucketing, no lengths: 0..n-1 */
	bb = NULL;
	sp_batcher_new(&bb, a, NULL, N, B, 0, 0);
	run_epoch(bb, a, NULL, N, B, s3, &once);
	{
		int id = once;
		for (size_t i = 0; i < N; i++)
			id &= s3[i] == i;
		ok(id, "no shuffle: identity order");
	}
	ok(sp_batcher_padding(bb) == 0, "no lengths: padding 0");
	sp_batcher_free(bb);

	/* all lengths distinct: batches are fixed runs of the sorted
	 * order, so only the batch order can vary, and must */
	{
		size_t dl[50], prev = 0;
		int sorted = 1, content = 1;
		for (size_t i = 0; i < 50; i++)
			dl[i] = 100 - 2 * i;
		bb = NULL;
		sp_batcher_new(&bb, a, dl, 50, B, 1, 1);
		sp_batcher_epoch(bb, a);
		while (sp_batcher_next(&idx, &cnt, bb)) {
			size_t lo = SIZE_MAX, hi = 0;
			for (size_t i = 0; i < cnt; i++) {
				lo = dl[idx[i]] < lo ? dl[idx[i]] : lo;
				hi = dl[idx[i]] > hi ? dl[idx[i]] : hi;
			}
			content &= hi - lo == 2 * (B - 1);
			sorted &= lo >= prev;
			prev = lo;
		}
		ok(content, "distinct lengths: each batch a run of 10");
		ok(!sorted, "bucket+shuffle: batch order shuffled");
		sp_batcher_free(bb);
	}
	/* all lengths equal: one group, so the partition into batches
	 * (not only their order) must change between epochs */
	{
		size_t el[50], part[2][50];
		for (size_t i = 0; i < 50; i++)
			el[i] = 7;
		bb = NULL;
		sp_batcher_new(&bb, a, el, 50, B, 1, 1);
		for (int e = 0; e < 2; e++) {
			sp_batcher_epoch(bb, a);
			while (sp_batcher_next(&idx, &cnt, bb)) {
				size_t lo = SIZE_MAX;
				for (size_t i = 0; i < cnt; i++)
					lo = idx[i] < lo ? idx[i] : lo;
				for (size_t i = 0; i < cnt; i++)
					part[e][idx[i]] = lo;
			}
		}
		ok(memcmp(part[0], part[1], sizeof(part[0])) != 0,
		   "bucket+shuffle: equal lengths shuffled within the group");
		sp_batcher_free(bb);
	}

	/* batch larger than n: one batch */
	bb = NULL;
	sp_batcher_new(&bb, a, len, 5, 64, 1, 1);
	sp_batcher_epoch(bb, a);
	ok(sp_batcher_next(&idx, &cnt, bb) == 1 && cnt == 5 &&
		   sp_batcher_next(&idx, &cnt, bb) == 0,
	   "batch > n: one batch of 5");
	sp_batcher_free(bb);

	bb = (sp_batcher *)&cnt;
	ok(sp_batcher_new(&bb, a, len, 0, B, 1, 1) == SP_EINVAL && bb == NULL,
	   "batcher: n = 0 refused");
	ok(sp_batcher_new(&bb, a, len, N, 0, 1, 1) == SP_EINVAL,
	   "batcher: batch 0 refused");
	ok(sp_batcher_new(&bb, a, NULL, N, B, 1, 1) == SP_EINVAL,
	   "batcher: bucketing without lengths refused: %s", sp_errmsg(a));
	sp_batcher_free(NULL);
	sp_batcher_free(b);
	sp_ctx_free(a);
	sp_ctx_free(b2);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	sp_ctx *ctx;

	snprintf(dir_, sizeof(dir_), "%s/t_data.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir_) || sp_ctx_new(&ctx, 1) < 0) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_lines(ctx);
	test_big(ctx);
	test_conll(ctx);
	test_conll_errors(ctx);
	test_tsv(ctx);
	test_common_errors(ctx);
	test_hardening(ctx);
	test_shared(ctx);
	test_batcher();
	sp_ctx_free(ctx);
	for (int i = 0; i < n_files_; i++)
		unlink(files_[i]);
	rmdir(dir_);
	return tap_done();
}
