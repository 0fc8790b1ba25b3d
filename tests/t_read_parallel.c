/*
 * t_read_parallel.c: [data] format = parallel.  The examples carry a
 * second text read through sp_corpus_target: two line-aligned files named
 * by src_suffix/tgt_suffix (one of them gzip), or one tsv file with chosen
 * columns; mismatched line counts name both files and both counts; an
 * empty side is refused at FILE:LINE or skipped and counted with
 * skip_bad; other formats have no second text.  Through the reader
 * component, as the runner reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_data.h"
#include "sp_kv_host.h"
#include "sp_readers.h"
#include "sp_runner.h"
#include "readerkv.h"
#include "tap.h"
#include "tmpdir.h"

static int read_with(sp_corpus **c, sp_ctx *ctx, const char *file,
		     const char *const *set, size_t n, size_t *skipped)
{
	const sp_reader_ops *r = NULL;
	sp_kv *kv = reader_kv(ctx, "parallel", set, n);
	int rc = -1;
	if (kv && sp_reader_find(&r, ctx, NULL, "parallel", "test") == 0)
		rc = sp_reader_read(c, ctx, r, kv, path_of(file), "train", 1);
	if (rc == 0 && skipped)
		*skipped = sp_corpus_skipped(*c);
	sp_kv_free(kv);
	return rc;
}

static void two_files(sp_ctx *ctx)
{
	const char *set[] = {"src_suffix=de", "tgt_suffix=en.gz"};
	sp_corpus *c = NULL;
	size_t len = 0;
	const char *t;
	write_file("pair.de", "\xEF\xBB\xBFHallo Welt\r\nGuten Tag\n");
	write_gz("pair.en.gz", "hello world\ngood day\n");
	ok(read_with(&c, ctx, "pair", set, 2, NULL) == 0, "two files (one gzip) read");
	ok(sp_corpus_count(c) == 2, "two pairs (%zu)", sp_corpus_count(c));
	t = sp_corpus_text(c, 0, &len);
	ok(t && len == 10 && !strcmp(t, "Hallo Welt"), "text 0 without BOM and CR ('%s')", t ? t : "(null)");
	t = sp_corpus_target(c, 1, &len);
	ok(t && len == 8 && !strcmp(t, "good day"), "target 1 is the second text ('%s')", t ? t : "(null)");
	ok(sp_corpus_line(c, 1) == 2, "line of pair 1");
	ok(sp_corpus_target(c, 2, &len) == NULL && len == 0, "out of range: NULL");
	ok(sp_corpus_format(c) == SP_DATA_PARALLEL, "format parallel");
	ok(sp_corpus_label(c, 0) == NULL && sp_corpus_tokens(c, 0, NULL) == NULL,
	   "no label, no tokens");
	sp_corpus_free(c);
}

static void mismatch(sp_ctx *ctx)
{
	const char *set[] = {"src_suffix=a", "tgt_suffix=b"};
	sp_corpus *c = NULL;
	char want[1400];
	write_file("mm.a", "one\ntwo\nthree\n");
	write_file("mm.b", "un\ndeux\n");
	ok(read_with(&c, ctx, "mm", set, 2, NULL) == SP_EINPUT && !c, "mismatched line counts refused");
	snprintf(want, sizeof(want), "line counts differ: %s has 3 lines, %s has 2", path_of("mm.a"),
		 path_of("mm.b"));
	ok(!strcmp(sp_errmsg(ctx), want), "names both files and counts: %s", sp_errmsg(ctx));
	{
		const char *one[] = {"src_suffix=a"};
		ok(read_with(&c, ctx, "mm", one, 1, NULL) == SP_EINVAL &&
		   strstr(sp_errmsg(ctx), "src_suffix and data.tgt_suffix go together"),
		   "one suffix alone refused: %s", sp_errmsg(ctx));
	}
}

static void tsv(sp_ctx *ctx)
{
	const char *cols[] = {"text_column=2", "label_column=0"};
	sp_corpus *c = NULL;
	size_t len, skipped = 9;
	const char *t;
	write_file("p.tsv", "hi\tx\tsalut\nbye\tx\tau revoir\n");
	ok(read_with(&c, ctx, "p.tsv", NULL, 0, NULL) == 0 && sp_corpus_count(c) == 2,
	   "tsv: columns 0 and 1 by default");
	t = sp_corpus_target(c, 0, &len);
	ok(t && !strcmp(t, "x"), "default target is column 1 ('%s')", t ? t : "(null)");
	sp_corpus_free(c);
	ok(read_with(&c, ctx, "p.tsv", cols, 2, NULL) == 0, "tsv: chosen columns");
	t = sp_corpus_text(c, 1, &len);
	ok(t && !strcmp(t, "au revoir"), "text from column 2 ('%s')", t ? t : "(null)");
	t = sp_corpus_target(c, 1, &len);
	ok(t && !strcmp(t, "bye") && len == 3, "target from column 0 ('%s')", t ? t : "(null)");
	sp_corpus_free(c);

	write_file("e.tsv", "a\tb\n\tc\nd\te\n");
	ok(read_with(&c, ctx, "e.tsv", NULL, 0, NULL) == SP_EINPUT, "empty side refused");
	ok(strstr(sp_errmsg(ctx), "e.tsv:2: empty") != NULL, "at FILE:LINE: %s", sp_errmsg(ctx));
	{
		const char *skip[] = {"skip_bad=true"};
		ok(read_with(&c, ctx, "e.tsv", skip, 1, &skipped) == 0 && sp_corpus_count(c) == 2 &&
		   skipped == 1, "skip_bad drops and counts it");
		ok(sp_corpus_line(c, 1) == 3, "the line of the pair after it stays 3");
		sp_corpus_free(c);
	}
	write_file("one.tsv", "only one column\n");
	ok(read_with(&c, ctx, "one.tsv", NULL, 0, NULL) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "one.tsv:1: expected at least 2 tab-separated columns"),
	   "a missing column: %s", sp_errmsg(ctx));
	write_file("none.tsv", "");
	ok(read_with(&c, ctx, "none.tsv", NULL, 0, NULL) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "none.tsv: no examples (parallel format)"),
	   "an empty file: %s", sp_errmsg(ctx));
	ok(read_with(&c, ctx, "missing.tsv", NULL, 0, NULL) == SP_EIO &&
	   strstr(sp_errmsg(ctx), "missing.tsv: cannot open"), "a missing file: %s", sp_errmsg(ctx));
}

static void other_formats(sp_ctx *ctx)
{
	sp_corpus *c = NULL;
	size_t len = 7;
	write_file("l.txt", "some text\n");
	ok(sp_corpus_read(&c, ctx, path_of("l.txt"), SP_DATA_LINES, NULL) == 0 &&
	   sp_corpus_target(c, 0, &len) == NULL && len == 0, "lines: no second text");
	sp_corpus_free(c);
	ok(sp_corpus_target(NULL, 0, NULL) == NULL, "a NULL corpus: NULL");
}

int main(void)
{
	sp_ctx *ctx = NULL;
	if (tmpdir_make("t_read_parallel") < 0 || sp_ctx_new(&ctx, 1) < 0)
		return 1;
	two_files(ctx);
	mismatch(ctx);
	tsv(ctx);
	other_formats(ctx);
	tmpdir_remove();
	sp_ctx_free(ctx);
	return tap_done();
}
