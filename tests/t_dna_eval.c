/*
 * t_dna_eval.c: gene-prediction evaluation (dna/sp_geneeval.c) on cases
 * counted by hand, and the printed summary.
 */
#include "sp_geneeval.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Annotation: A (+) exons 10-20 30-40 50-60, B (-) 70-80 85-95.
 * Prediction: C (+) 2-8, A' (+) 10-20 30-42 50-60, B exactly.
 * By hand: exons TP 4 of 6 predicted, 5 annotated; FP part 1 (30-42),
 * wrng 1 (2-8); FN part 1 (30-40).  Genes TP 1 (B) of 3 / 2.  Coding
 * bases 50 annotated, 58 predicted, 50 both.  Bases (annotation ->
 * prediction): coding->coding 50, intron->coding 2 (40-42),
 * intron->intron 23, ig->coding 6 (2-8), ig->ig 19. */
static void test_hand(sp_ctx *ctx)
{
	sp_exon ea[3] = { { 10, 20 }, { 30, 40 }, { 50, 60 } };
	sp_exon eb[2] = { { 70, 80 }, { 85, 95 } };
	sp_exon ec[1] = { { 2, 8 } };
	sp_exon ea2[3] = { { 10, 20 }, { 30, 42 }, { 50, 60 } };
	sp_gene anno[2] = { { 1, 0, 0, 0, 3, ea, NULL },
			    { -1, 0, 0, 0, 2, eb, NULL } };
	sp_gene pred[3] = { { 1, 0, 0, 0, 1, ec, NULL },
			    { 1, 0, 0, 0, 3, ea2, NULL },
			    { -1, 0, 0, 0, 2, eb, NULL } };
	sp_geneeval ev = SP_GENEEVAL_INIT;
	int rc = sp_geneeval_add(&ev, ctx, 100, anno, 2, pred, 3);
	ok(rc == 0, "add (%s)", rc ? sp_errmsg(ctx) : "ok");
	ok(ev.exon_tp == 4 && ev.exon_pred == 6 && ev.exon_anno == 5,
	   "exons: TP %llu, predicted %llu, annotated %llu",
	   (unsigned long long)ev.exon_tp, (unsigned long long)ev.exon_pred,
	   (unsigned long long)ev.exon_anno);
	ok(ev.exon_fp[0] == 1 && ev.exon_fp[1] == 0 && ev.exon_fp[2] == 1 &&
	   ev.exon_fn[0] == 1 && ev.exon_fn[1] == 0 && ev.exon_fn[2] == 0,
	   "exon FP part/ovlp/wrng 1/0/1, FN 1/0/0");
	ok(ev.gene_tp == 1 && ev.gene_pred == 3 && ev.gene_anno == 2,
	   "genes: TP 1 of 3 predicted, 2 annotated");
	ok(ev.nuc_tp == 50 && ev.nuc_pred == 58 && ev.nuc_anno == 50,
	   "coding bases 50 / 58 / 50");
	ok_near(sp_geneeval_nuc_sp(&ev), 50.0 / 58, 1e-12, "nucleotide Sp");
	ok_near(sp_geneeval_exon_sn(&ev), 0.8, 1e-12, "exon Sn");
	ok_near(sp_geneeval_exon_sp(&ev), 4.0 / 6, 1e-12, "exon Sp");
	ok_near(sp_geneeval_gene_sp(&ev), 1.0 / 3, 1e-12, "gene Sp");
	ok(ev.confusion[1][1] == 50 && ev.confusion[2][1] == 2 &&
	   ev.confusion[2][2] == 23 && ev.confusion[0][1] == 6 &&
	   ev.confusion[0][0] == 19 && ev.confusion[1][0] == 0 &&
	   ev.confusion[1][2] == 0 && ev.confusion[0][2] == 0 &&
	   ev.confusion[2][0] == 0, "confusion matrix as counted");
	ok_near(sp_geneeval_base_acc(&ev), 0.92, 1e-12, "per-base accuracy");
}

/* The same exon on the other strand overlaps but is not "part"; a
 * shorter exon inside another is "ovlp"; sums over two sequences. */
static void test_strand(sp_ctx *ctx)
{
	sp_exon e1[1] = { { 10, 20 } }, e2[1] = { { 12, 18 } };
	sp_gene a = { 1, 0, 0, 0, 1, e1, NULL };
	sp_gene p_minus = { -1, 0, 0, 0, 1, e1, NULL };
	sp_gene p_in = { 1, 0, 0, 0, 1, e2, NULL };
	sp_geneeval ev = SP_GENEEVAL_INIT;
	int rc = sp_geneeval_add(&ev, ctx, 30, &a, 1, &p_minus, 1);
	rc = rc ? rc : sp_geneeval_add(&ev, ctx, 30, &a, 1, &p_in, 1);
	ok(rc == 0 && ev.exon_tp == 0 && ev.exon_fp[1] == 2 &&
	   ev.exon_fn[1] == 2 && ev.gene_tp == 0 && ev.nseq == 2,
	   "other strand and inside: both ovlp, no TP");
	ok(ev.nuc_tp == 16 && ev.nuc_anno == 20 && ev.nuc_pred == 16,
	   "nucleotide level ignores the strand (16 of 20)");
	rc = sp_geneeval_add(&ev, ctx, 15, &a, 1, &p_in, 1);
	ok(rc == SP_EINPUT, "a gene outside the sequence: %s", sp_errmsg(ctx));
}

static void test_print(sp_ctx *ctx)
{
	sp_exon e1[2] = { { 10, 20 }, { 30, 40 } };
	sp_gene a = { 1, 0, 0, 0, 2, e1, NULL };
	sp_geneeval ev = SP_GENEEVAL_INIT;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	sp_geneeval_add(&ev, ctx, 50, &a, 1, &a, 1);
	sp_geneeval_print(&ev, f);
	fclose(f);
	ok(buf && strstr(buf, "Evaluation of gene prediction") &&
	   strstr(buf, "nucleotide level |           1 |           1 |") &&
	   strstr(buf, "exon level |      2 |      2 |    2 |") &&
	   strstr(buf, "gene level |     1 |     1 |    1 |    0 |    0 |"
		  "           1 |           1 |") &&
	   strstr(buf, "per-base 3-class accuracy 1"),
	   "summary printed in AUGUSTUS's layout");
	for (char *l = buf, *e; l && *l; l = e + 1) { /* as TAP comments */
		e = strchr(l, '\n');
		if (!e)
			break;
		printf("# %.*s\n", (int)(e - l), l);
	}
	free(buf);
}

int main(void)
{
	sp_ctx *ctx;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	test_hand(ctx);
	test_strand(ctx);
	test_print(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
