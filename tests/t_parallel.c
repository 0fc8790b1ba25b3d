/*
 * t_parallel.c: the parallel-text reader.  Two line-aligned files (plain
 * and gzip, CRLF, byte order mark), TSV with chosen columns, the errors
 * (line counts naming both files and counts, missing columns, invalid
 * UTF-8, empty sides refused) with their exact FILE:LINE, empty sides kept
 * or skipped with counts, and the shipped Tatoeba split against
 * sp_parallel_split_of.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_parallel.h"
#include "tap.h"
#include "tmpdir.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void test_files(sp_ctx *ctx)
{
	sp_parallel_opts o;
	sp_parallel *p = NULL;
	size_t n;
	int rc;
	const char *s;

	sp_parallel_opts_init(&o);
	write_file("a.en", "\xef\xbb\xbfHello .\r\nThanks\nBye\n");
	write_gz("a.fr.gz", "Bonjour .\nMerci\nSalut\n");
	rc = sp_parallel_read_files(&p, ctx, path_of("a.en"), path_of("a.fr.gz"), &o);
	ok(rc == 0 && sp_parallel_count(p) == 3, "plain + gzip files: 3 pairs (%s)",
	   rc ? sp_errmsg(ctx) : "ok");
	if (rc == 0) {
		s = sp_parallel_src(p, 0, &n);
		ok(strcmp(s, "Hello .") == 0 && n == 7, "BOM and CR dropped: '%s'", s);
		ok_str(sp_parallel_tgt(p, 2, NULL), "Salut", "target 3 from the gzip file");
		ok(sp_parallel_line(p, 1) == 2, "pair 2 is line 2");
	}
	sp_parallel_free(p);

	write_file("b.fr", "Bonjour\nMerci\n");
	rc = sp_parallel_read_files(&p, ctx, path_of("a.en"), path_of("b.fr"), &o);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "a.en has 3 lines") &&
		   strstr(sp_errmsg(ctx), "b.fr has 2"),
	   "line counts differ: both files and counts named: %s", sp_errmsg(ctx));

	rc = sp_parallel_read_files(&p, ctx, path_of("a.en"), path_of("nope.fr"), &o);
	ok(rc == SP_EIO && strstr(sp_errmsg(ctx), "nope.fr: cannot open"),
	   "missing file: %s", sp_errmsg(ctx));

	write_file("c.en", "one\n\nthree\n  \nfive\n");
	write_file("c.fr", "un\ndeux\n\n\ncinq\n");
	rc = sp_parallel_read_files(&p, ctx, path_of("c.en"), path_of("c.fr"), &o);
	if (rc == 0) {
		const sp_parallel_counts *c = sp_parallel_counts_of(p);
		ok(sp_parallel_count(p) == 5 && c->empty_src == 1 && c->empty_tgt == 1 &&
			   c->empty_both == 1 && c->skipped == 0,
		   "KEEP: 5 pairs, empty source 1, target 1, both 1");
	} else {
		ok(0, "KEEP reads: %s", sp_errmsg(ctx));
	}
	sp_parallel_free(p);
	o.empty = SP_PARALLEL_SKIP;
	rc = sp_parallel_read_files(&p, ctx, path_of("c.en"), path_of("c.fr"), &o);
	ok(rc == 0 && sp_parallel_count(p) == 2 && sp_parallel_counts_of(p)->skipped == 3 &&
		   sp_parallel_line(p, 1) == 5 && strcmp(sp_parallel_tgt(p, 1, NULL), "cinq") == 0,
	   "SKIP: 2 pairs kept, 3 skipped, the second from line 5");
	sp_parallel_free(p);
	o.empty = SP_PARALLEL_REFUSE;
	rc = sp_parallel_read_files(&p, ctx, path_of("c.en"), path_of("c.fr"), &o);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "c.en:2: empty source"),
	   "REFUSE: FILE:LINE of the first empty side: %s", sp_errmsg(ctx));
	write_file("d.en", "one\ntwo\n");
	write_file("d.fr", "un\n\n");
	rc = sp_parallel_read_files(&p, ctx, path_of("d.en"), path_of("d.fr"), &o);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "d.fr:2: empty target"),
	   "REFUSE names the target file for an empty target: %s", sp_errmsg(ctx));

	sp_parallel_opts_init(&o);
	write_file("e.fr", "un\nd\xc3(x\n");
	rc = sp_parallel_read_files(&p, ctx, path_of("d.en"), path_of("e.fr"), &o);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "e.fr:2:2: invalid UTF-8"),
	   "invalid UTF-8: FILE:LINE:COL: %s", sp_errmsg(ctx));
	o.max_pairs = 2;
	rc = sp_parallel_read_files(&p, ctx, path_of("a.en"), path_of("a.fr.gz"), &o);
	ok(rc == 0 && sp_parallel_count(p) == 2, "max_pairs = 2 stops after 2");
	sp_parallel_free(p);
}

static void test_tsv(sp_ctx *ctx)
{
	sp_parallel_opts o;
	sp_parallel *p = NULL;
	int rc;

	sp_parallel_opts_init(&o);
	write_file("t.tsv", "Go.\tVa !\tCC-BY #1\nHi.\tSalut !\tCC-BY #2\n");
	rc = sp_parallel_read_tsv(&p, ctx, path_of("t.tsv"), &o);
	ok(rc == 0 && sp_parallel_count(p) == 2 &&
		   strcmp(sp_parallel_src(p, 1, NULL), "Hi.") == 0 &&
		   strcmp(sp_parallel_tgt(p, 1, NULL), "Salut !") == 0,
	   "tsv: columns 0 and 1, the third ignored");
	sp_parallel_free(p);
	o.src_col = 1;
	o.tgt_col = 0;
	rc = sp_parallel_read_tsv(&p, ctx, path_of("t.tsv"), &o);
	ok(rc == 0 && strcmp(sp_parallel_src(p, 0, NULL), "Va !") == 0 &&
		   strcmp(sp_parallel_tgt(p, 0, NULL), "Go.") == 0,
	   "tsv: columns swapped (French -> English)");
	sp_parallel_free(p);
	o.src_col = 0;
	o.tgt_col = 3;
	rc = sp_parallel_read_tsv(&p, ctx, path_of("t.tsv"), &o);
	ok(rc == SP_EINPUT &&
		   strstr(sp_errmsg(ctx), "t.tsv:1: expected at least 4 tab-separated columns, found 3"),
	   "tsv: a missing column names FILE:LINE: %s", sp_errmsg(ctx));
	o.tgt_col = 0;
	ok(sp_parallel_read_tsv(&p, ctx, path_of("t.tsv"), &o) == SP_EINVAL,
	   "the same column twice is refused: %s", sp_errmsg(ctx));
}

/* Reads a split file's first column into a NUL-separated list. */
static size_t count_split(const char *path, sp_ctx *ctx, sp_split want, size_t *wrong)
{
	sp_parallel_opts o;
	sp_parallel *p;
	size_t n;
	sp_parallel_opts_init(&o);
	if (sp_parallel_read_tsv(&p, ctx, path, &o) < 0) {
		diag("%s", sp_errmsg(ctx));
		return 0;
	}
	n = sp_parallel_count(p);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *s = sp_parallel_src(p, i, &len);
		*wrong += sp_parallel_split_of(s, len, 10, 10) != want;
	}
	sp_parallel_free(p);
	return n;
}

static void test_tatoeba(sp_ctx *ctx)
{
	char base[700], path[800];
	sp_parallel_opts o;
	sp_parallel *p;
	size_t n[3], wrong = 0, per[3] = {0, 0, 0};
	static const char *const names[] = {"train", "dev", "test"};
	int rc;
	snprintf(base, sizeof(base), "%.600s/data/translation/tatoeba_eng_fra_5k", SRCDIR);
	snprintf(path, sizeof(path), "%s/eng-fra.txt", base);
	sp_parallel_opts_init(&o);
	o.empty = SP_PARALLEL_REFUSE;
	rc = sp_parallel_read_tsv(&p, ctx, path, &o);
	ok(rc == 0 && sp_parallel_count(p) == 5000 &&
		   strcmp(sp_parallel_tgt(p, 0, NULL), "Va !") == 0,
	   "the shipped Tatoeba file: 5000 pairs, none empty, first 'Go.' -> 'Va !'");
	if (rc < 0)
		return;
	for (size_t i = 0; i < 5000; i++) {
		size_t len;
		const char *s = sp_parallel_src(p, i, &len);
		per[sp_parallel_split_of(s, len, 10, 10)]++;
	}
	sp_parallel_free(p);
	for (int k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/%s.tsv", base, names[k]);
		n[k] = count_split(path, ctx, (sp_split)k, &wrong);
	}
	ok(n[0] == per[0] && n[1] == per[1] && n[2] == per[2] && wrong == 0,
	   "train/dev/test.tsv = sp_parallel_split_of(10, 10): %zu/%zu/%zu pairs, %zu misplaced",
	   n[0], n[1], n[2], wrong);
	ok(n[0] == 4008 && n[1] == 463 && n[2] == 529, "split sizes 4008/463/529");
}

int main(void)
{
	sp_ctx *ctx;
	if (tmpdir_make("t_parallel") < 0 || sp_ctx_new(&ctx, 1) < 0)
		return 1;
	test_files(ctx);
	test_tsv(ctx);
	test_tatoeba(ctx);
	sp_ctx_free(ctx);
	tmpdir_remove();
	return tap_done();
}
