/*
 * t_ptb.c: bracketed trees (core/sp_ptb.c): leaves and root label of
 * small trees, SST's 5-class and binary labels, malformed trees refused
 * with FILE:LINE:COL, the tsv conversion, and (with $SEQPIPE_SHARED) the
 * Stanford Sentiment Treebank itself: 8,544 / 1,101 / 2,210 trees, of
 * which SST-2 keeps 6,920 / 872 / 1,821.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_ptb.h"
#include "tap.h"

typedef struct leaves {
	char buf[512];
	size_t used, n;
} leaves;

static int leaf_(void *payload, const char *tok, size_t len, size_t offset)
{
	leaves *l = payload;
	(void)offset;
	if (l->used + len + 2 > sizeof(l->buf))
		return SP_ERROR;
	if (l->n++)
		l->buf[l->used++] = '|';
	memcpy(l->buf + l->used, tok, len);
	l->used += len;
	l->buf[l->used] = '\0';
	return SP_OK;
}

static void tree_(sp_ctx *ctx, const char *text, const char *want_leaves,
		  const char *want_label)
{
	leaves l = {{0}, 0, 0};
	const char *label = NULL;
	size_t label_len = 0;
	int rc = sp_ptb_parse(ctx, text, strlen(text), "t.txt", 1, leaf_, &l,
			      &label, &label_len);
	ok(rc == 0 && !strcmp(l.buf, want_leaves) &&
	   label_len == strlen(want_label) &&
	   !strncmp(label, want_label, label_len),
	   "\"%s\": leaves %s, label %s (%s)", text, want_leaves, want_label,
	   rc ? sp_errmsg(ctx) : l.buf);
}

static void bad_(sp_ctx *ctx, const char *text, const char *where)
{
	const char *label;
	size_t label_len;
	int rc = sp_ptb_parse(ctx, text, strlen(text), "t.txt", 7, NULL, NULL,
			      &label, &label_len);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), where),
	   "\"%s\" refused at %s: %s", text, where, sp_errmsg(ctx));
}

static void test_trees(sp_ctx *ctx)
{
	const char *c;
	tree_(ctx, "(3 (2 It) (4 (2 's) (3 (2 a) (4 lovely))))",
	      "It|'s|a|lovely", "3");
	tree_(ctx, "(2 word)", "word", "2");
	tree_(ctx, "  (S (NP (DT the) (NN cat)) (VP (VBD sat)))  ",
	      "the|cat|sat", "S");
	tree_(ctx, "(1 (2 -LRB-) (1 bad) (2 -RRB-))", "-LRB-|bad|-RRB-", "1");
	bad_(ctx, "", "t.txt:7:1: expected '(' opening a node");
	bad_(ctx, "(3 (2 a) (4 b)", "t.txt:7:15: expected ')' closing a node");
	bad_(ctx, "(3 (2 a b))", "t.txt:7:9: expected ')' after a leaf");
	bad_(ctx, "(3 (2 a) b)", "t.txt:7:10: expected '(' or ')'");
	bad_(ctx, "(3 (2))", "t.txt:7:6: expected a leaf or a child node");
	bad_(ctx, "( (2 a))", "t.txt:7:2: expected the node's label");
	bad_(ctx, "(2 a) (2 b)", "t.txt:7:7: expected the end of the line");

	ok(sp_ptb_class(ctx, "0", 1, SP_PTB_BINARY, &c, "f", 1) == 0 &&
	   !strcmp(c, "neg") &&
	   sp_ptb_class(ctx, "1", 1, SP_PTB_BINARY, &c, "f", 1) == 0 &&
	   !strcmp(c, "neg") &&
	   sp_ptb_class(ctx, "3", 1, SP_PTB_BINARY, &c, "f", 1) == 0 &&
	   !strcmp(c, "pos") &&
	   sp_ptb_class(ctx, "4", 1, SP_PTB_BINARY, &c, "f", 1) == 0 &&
	   !strcmp(c, "pos"), "binary: 0, 1 -> neg; 3, 4 -> pos");
	ok(sp_ptb_class(ctx, "2", 1, SP_PTB_BINARY, &c, "f", 1) == 0 && !c,
	   "binary: 2 (neutral) is dropped");
	ok(sp_ptb_class(ctx, "2", 1, SP_PTB_FINE, &c, "f", 1) == 0 &&
	   !strcmp(c, "2"), "fine: 2 stays 2");
	ok(sp_ptb_class(ctx, "S", 1, SP_PTB_FINE, &c, "f.txt", 9) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "f.txt:9: label 'S'"),
	   "fine: a label outside 0-4 is refused: %s", sp_errmsg(ctx));
}

static void test_tsv(sp_ctx *ctx)
{
	const char in_text[] = "(3 (2 It) (4 works))\n\n(2 (2 so) (2 so))\n"
			       "(0 (1 awful) (2 .))\n";
	FILE *in = fmemopen((void *)in_text, sizeof(in_text) - 1, "r");
	char *out = NULL;
	size_t n = 0, kept = 0, dropped = 0;
	FILE *mem = open_memstream(&out, &n);
	int rc = sp_ptb_write_tsv(ctx, in, "x.txt", SP_PTB_BINARY, 0, mem, &kept,
				  &dropped);
	fclose(mem);
	fclose(in);
	ok(rc == 0 && kept == 2 && dropped == 1,
	   "tsv: 2 trees kept, the neutral one dropped");
	ok_str(out, "It works\tpos\nawful .\tneg\n", "tsv: text<TAB>class lines");
	free(out);
}

/* Phrase lines: every labelled node, the root first. */
static void test_phrases(sp_ctx *ctx)
{
	const char in_text[] = "(3 (2 It) (4 (1 not) (4 works)))\n"
			       "(2 (2 so) (0 bad))\n";
	char deep[2048], *out = NULL;
	size_t n = 0, kept = 0, dropped = 0, at = 0;
	FILE *in = fmemopen((void *)in_text, sizeof(in_text) - 1, "r");
	FILE *mem = open_memstream(&out, &n);
	int rc = sp_ptb_write_tsv(ctx, in, "p.txt", SP_PTB_BINARY, 1, mem,
				  &kept, &dropped);
	fclose(mem);
	fclose(in);
	ok(rc == 0 && kept == 5 && dropped == 3,
	   "phrases: 5 nodes kept, 3 neutral dropped (%zu, %zu)", kept, dropped);
	ok_str(out, "It not works\tpos\nnot works\tpos\nnot\tneg\n"
	       "works\tpos\nbad\tneg\n", "phrases: one line per node, in document order");
	free(out);
	/* 100 nested nodes: the open-node stack grows */
	for (int i = 0; i < 100; i++)
		at += (size_t)snprintf(deep + at, sizeof(deep) - at, "(4 ");
	at += (size_t)snprintf(deep + at, sizeof(deep) - at, "w");
	for (int i = 0; i < 100; i++)
		deep[at++] = ')';
	deep[at] = '\0';
	in = fmemopen(deep, at, "r");
	mem = open_memstream(&out, &n);
	rc = sp_ptb_write_tsv(ctx, in, "d.txt", SP_PTB_FINE, 1, mem, &kept,
			      &dropped);
	fclose(mem);
	fclose(in);
	ok(rc == 0 && kept == 100 && n == 100 * strlen("w\t4\n") &&
	   !strncmp(out, "w\t4\nw\t4\n", 8), "phrases: 100 nested nodes, 100 lines");
	free(out);
	/* a bad inner label names the file and line */
	in = fmemopen((void *)"(4 (4 a) (x b))\n", 16, "r");
	mem = open_memstream(&out, &n);
	rc = sp_ptb_write_tsv(ctx, in, "e.txt", SP_PTB_BINARY, 1, mem, NULL,
			      NULL);
	fclose(mem);
	fclose(in);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "e.txt:1: label 'x', expected 0-4"),
	   "phrases: a bad node label is refused: %s", sp_errmsg(ctx));
	free(out);
}

/* The SST files: tree and class counts. */
static void test_sst(sp_ctx *ctx)
{
	const char *root = getenv("SEQPIPE_SHARED");
	static const char *const split[3] = {"train", "dev", "test"};
	static const size_t all[3] = {8544, 1101, 2210};
	static const size_t binary[3] = {6920, 872, 1821};
	for (int s = 0; s < 3; s++) {
		char path[1024];
		FILE *in, *sink;
		size_t kept = 0, dropped = 0, k5 = 0;
		int rc;
		snprintf(path, sizeof(path), "%s/data/sentiment/sst/%s.txt",
			 root ? root : "", split[s]);
		if (!root || !(in = fopen(path, "r"))) {
			for (int k = 0; k < 2; k++)
				printf("ok %d # SKIP SEQPIPE_SHARED not set or SST "
				       "absent\n", ++tap_n_);
			continue;
		}
		sink = fopen("/dev/null", "w");
		rc = sp_ptb_write_tsv(ctx, in, path, SP_PTB_BINARY, 0, sink, &kept,
				      &dropped);
		ok(rc == 0 && kept + dropped == all[s] && kept == binary[s],
		   "SST %s: %zu trees, SST-2 keeps %zu (%s)", split[s],
		   kept + dropped, kept, rc ? sp_errmsg(ctx) : "ok");
		rewind(in);
		rc = sp_ptb_write_tsv(ctx, in, path, SP_PTB_FINE, 0, sink, &k5, NULL);
		ok(rc == 0 && k5 == all[s], "SST %s: 5 classes keep all %zu",
		   split[s], k5);
		fclose(sink);
		fclose(in);
	}
}

int main(void)
{
	sp_ctx *ctx = NULL;
	sp_ctx_new(&ctx, 1);
	test_trees(ctx);
	test_tsv(ctx);
	test_phrases(ctx);
	test_sst(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
