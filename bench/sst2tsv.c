/*
 * sst2tsv.c: a Stanford Sentiment Treebank tree file (PTB brackets, one
 * tree per line) to the `text<TAB>label` lines of the `tsv` reader, with
 * core/sp_ptb.c: the leaves joined by spaces, the root's label mapped to
 * SST-2 (0, 1 -> neg; 3, 4 -> pos; the neutral 2 dropped) or kept as
 * SST-5's 0..4.  bench/quality.sh converts $SEQPIPE_SHARED's SST into a
 * scratch folder with it, so SST (research use only) is never copied into
 * the tree.
 *
 *   sst2tsv [--phrases] binary|fine IN.txt OUT.tsv
 *
 * --phrases: every labelled phrase of every tree is a line (SST's phrase
 * labels, Socher et al. 2013), for the training split; dev and test are
 * scored on whole sentences.
 *
 * Prints "IN: kept K, dropped D" on standard error; exit 1 with the
 * parser's file:line:col message on bad input.
 */
#include <stdio.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_ptb.h"

int main(int argc, char **argv)
{
	sp_ptb_classes cls;
	sp_ctx *ctx = NULL;
	FILE *in = NULL, *out = NULL;
	size_t kept = 0, dropped = 0;
	int rc = 1, phrases = argc > 1 && !strcmp(argv[1], "--phrases");

	argc -= phrases;
	argv += phrases;
	if (argc != 4 || (strcmp(argv[1], "binary") && strcmp(argv[1], "fine"))) {
		fprintf(stderr, "usage: sst2tsv [--phrases] binary|fine IN.txt OUT.tsv\n");
		return 2;
	}
	cls = !strcmp(argv[1], "binary") ? SP_PTB_BINARY : SP_PTB_FINE;
	if (sp_ctx_new(&ctx, 1) < 0) {
		fprintf(stderr, "sst2tsv: out of memory\n");
		return 1;
	}
	if (!(in = fopen(argv[2], "rb"))) {
		fprintf(stderr, "sst2tsv: %s: cannot open\n", argv[2]);
		goto done;
	}
	if (!(out = fopen(argv[3], "wb"))) {
		fprintf(stderr, "sst2tsv: %s: cannot create\n", argv[3]);
		goto done;
	}
	if (sp_ptb_write_tsv(ctx, in, argv[2], cls, phrases, out, &kept, &dropped) < 0) {
		fprintf(stderr, "sst2tsv: %s\n", sp_errmsg(ctx));
		goto done;
	}
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "sst2tsv: %s: write error\n", argv[3]);
		goto done;
	}
	fprintf(stderr, "%s: kept %zu, dropped %zu\n", argv[2], kept, dropped);
	rc = 0;
done:
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "sst2tsv: %s: write error\n", argv[3]);
		rc = 1;
	}
	sp_ctx_free(ctx);
	return rc;
}
