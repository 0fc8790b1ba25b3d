/*
 * sp_geneeval.c: counts for sp_geneeval.h.  Exons are compared by sorting
 * both lists by start and sweeping, so a sequence costs O(n log n) in its
 * exons plus one pass over its bases for the per-base counts.
 */
#include "sp_geneeval.h"

#include <stdlib.h>
#include <string.h>

typedef struct sexon {
	long beg, end;
	int strand;
} sexon;

static int by_beg_(const void *a, const void *b)
{
	const sexon *x = a, *y = b;
	if (x->beg != y->beg)
		return (x->beg > y->beg) - (x->beg < y->beg);
	return (x->end > y->end) - (x->end < y->end);
}

static sexon *exons_(const sp_gene *g, size_t n, size_t *count)
{
	size_t m = 0, w = 0;
	sexon *e;
	for (size_t i = 0; i < n; i++)
		m += g[i].nexon;
	if (!(e = malloc((m ? m : 1) * sizeof(*e))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < g[i].nexon; k++)
			e[w++] = (sexon){ g[i].exon[k].beg, g[i].exon[k].end,
					  g[i].strand };
	qsort(e, m, sizeof(*e), by_beg_);
	*count = m;
	return e;
}

/* 0 = exact match, 1 = part, 2 = ovlp, 3 = wrng, for exon x against the
 * sorted list o (the other side's exons are disjoint per side, so the
 * overlapping ones are a short run found from the start). */
static int classify_(const sexon *x, const sexon *o, size_t n)
{
	size_t lo = 0, hi = n;
	int best = 3;
	while (lo < hi) { /* first exon ending after x starts */
		size_t mid = (lo + hi) / 2;
		if (o[mid].beg < x->beg)
			lo = mid + 1;
		else
			hi = mid;
	}
	lo = lo > 0 ? lo - 1 : 0;
	for (size_t i = lo; i < n && o[i].beg < x->end; i++) {
		if (o[i].end <= x->beg)
			continue;
		if (o[i].beg == x->beg && o[i].end == x->end &&
		    o[i].strand == x->strand)
			return 0;
		if (o[i].strand == x->strand &&
		    (o[i].beg == x->beg || o[i].end == x->end))
			best = 1;
		else if (best > 2)
			best = 2;
	}
	return best;
}

static int same_gene_(const sp_gene *a, const sp_gene *b)
{
	if (a->strand != b->strand || a->nexon != b->nexon ||
	    a->partial5 != b->partial5 || a->partial3 != b->partial3)
		return 0;
	for (size_t k = 0; k < a->nexon; k++)
		if (a->exon[k].beg != b->exon[k].beg ||
		    a->exon[k].end != b->exon[k].end)
			return 0;
	return 1;
}

static void count_exons_(sp_geneeval *ev, const sexon *a, size_t na,
			 const sexon *p, size_t np)
{
	for (size_t i = 0; i < np; i++) {
		int c = classify_(&p[i], a, na);
		if (c == 0)
			ev->exon_tp++;
		else
			ev->exon_fp[c - 1]++;
	}
	for (size_t i = 0; i < na; i++) {
		int c = classify_(&a[i], p, np);
		if (c > 0)
			ev->exon_fn[c - 1]++;
	}
	ev->exon_pred += np;
	ev->exon_anno += na;
}

int sp_geneeval_add(sp_geneeval *ev, sp_ctx *ctx, size_t len,
		    const sp_gene *anno, size_t nanno, const sp_gene *pred,
		    size_t npred)
{
	uint8_t *la = malloc(len ? len : 1), *lp = malloc(len ? len : 1);
	sexon *ea = NULL, *ep = NULL;
	size_t na = 0, np = 0;
	int rc = SP_OK;
	if (!la || !lp || !(ea = exons_(anno, nanno, &na)) ||
	    !(ep = exons_(pred, npred, &np))) {
		rc = sp_err(ctx, SP_ENOMEM, "evaluation: out of memory");
		goto out;
	}
	if ((rc = sp_genes_paint(ctx, anno, nanno, len, la)))
		goto out;
	if ((rc = sp_genes_paint(ctx, pred, npred, len, lp)))
		goto out;
	for (size_t i = 0; i < len; i++) {
		int a = sp_label_class(la[i]), p = sp_label_class(lp[i]);
		ev->confusion[a][p]++;
		ev->nuc_anno += a == SP_CLASS_CODING;
		ev->nuc_pred += p == SP_CLASS_CODING;
		ev->nuc_tp += a == SP_CLASS_CODING && p == SP_CLASS_CODING;
	}
	count_exons_(ev, ea, na, ep, np);
	for (size_t i = 0; i < npred; i++)
		for (size_t j = 0; j < nanno; j++)
			if (same_gene_(&pred[i], &anno[j])) {
				ev->gene_tp++;
				break;
			}
	ev->gene_pred += npred;
	ev->gene_anno += nanno;
	ev->nseq++;
out:
	free(la);
	free(lp);
	free(ea);
	free(ep);
	return rc;
}

static double ratio_(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0.0; }

double sp_geneeval_nuc_sn(const sp_geneeval *ev) { return ratio_(ev->nuc_tp, ev->nuc_anno); }
double sp_geneeval_nuc_sp(const sp_geneeval *ev) { return ratio_(ev->nuc_tp, ev->nuc_pred); }
double sp_geneeval_exon_sn(const sp_geneeval *ev) { return ratio_(ev->exon_tp, ev->exon_anno); }
double sp_geneeval_exon_sp(const sp_geneeval *ev) { return ratio_(ev->exon_tp, ev->exon_pred); }
double sp_geneeval_gene_sn(const sp_geneeval *ev) { return ratio_(ev->gene_tp, ev->gene_anno); }
double sp_geneeval_gene_sp(const sp_geneeval *ev) { return ratio_(ev->gene_tp, ev->gene_pred); }

double sp_geneeval_base_acc(const sp_geneeval *ev)
{
	uint64_t right = 0, all = 0;
	for (int a = 0; a < SP_NCLASS; a++)
		for (int p = 0; p < SP_NCLASS; p++) {
			all += ev->confusion[a][p];
			right += a == p ? ev->confusion[a][p] : 0;
		}
	return ratio_(right, all);
}

/* AUGUSTUS prints ratios with 3 significant digits (C++ default float
 * format, precision 3): 0.975, 0.89, 1. */
static void g3_(char *buf, size_t n, double x) { snprintf(buf, n, "%.3g", x); }

static void print_nuc_(const sp_geneeval *ev, FILE *out)
{
	char sn[32], sp[32];
	g3_(sn, sizeof(sn), sp_geneeval_nuc_sn(ev));
	g3_(sp, sizeof(sp), sp_geneeval_nuc_sp(ev));
	fprintf(out, "---------------------------------------------\\\n"
		"                 | sensitivity | specificity |\n"
		"---------------------------------------------|\n"
		"nucleotide level | %11s | %11s |\n"
		"---------------------------------------------/\n\n", sn, sp);
}

static void print_exon_(const sp_geneeval *ev, FILE *out)
{
	static const char *rule = "----------------------------------------"
		"------------------------------------------------------------------";
	char sn[32], sp[32];
	unsigned long long fp = ev->exon_fp[0] + ev->exon_fp[1] + ev->exon_fp[2];
	unsigned long long fn = ev->exon_fn[0] + ev->exon_fn[1] + ev->exon_fn[2];
	g3_(sn, sizeof(sn), sp_geneeval_exon_sn(ev));
	g3_(sp, sizeof(sp), sp_geneeval_exon_sp(ev));
	fprintf(out, "%s\\\n", rule);
	fprintf(out, "           |  #pred |  #anno |      |    FP = false pos. |"
		"    FN = false neg. |             |             |\n"
		"           | total/ | total/ |   TP |--------------------|"
		"--------------------| sensitivity | specificity |\n"
		"           | unique | unique |      | part | ovlp | wrng |"
		" part | ovlp | wrng |             |             |\n");
	fprintf(out, "%s|\n", rule);
	fprintf(out, "           |        |        |      | %18llu | %18llu |"
		"             |             |\n", fp, fn);
	fprintf(out, "exon level | %6llu | %6llu | %4llu | ------------------ |"
		" ------------------ | %11s | %11s |\n",
		(unsigned long long)ev->exon_pred,
		(unsigned long long)ev->exon_anno,
		(unsigned long long)ev->exon_tp, sn, sp);
	fprintf(out, "           | %6llu | %6llu |      | %4llu | %4llu | %4llu |"
		" %4llu | %4llu | %4llu |             |             |\n",
		(unsigned long long)ev->exon_pred,
		(unsigned long long)ev->exon_anno,
		(unsigned long long)ev->exon_fp[0],
		(unsigned long long)ev->exon_fp[1],
		(unsigned long long)ev->exon_fp[2],
		(unsigned long long)ev->exon_fn[0],
		(unsigned long long)ev->exon_fn[1],
		(unsigned long long)ev->exon_fn[2]);
	fprintf(out, "%s/\n\n", rule);
}

static void print_gene_(const sp_geneeval *ev, FILE *out)
{
	static const char *rule = "-------------------------------------"
		"---------------------------------------";
	char sn[32], sp[32];
	g3_(sn, sizeof(sn), sp_geneeval_gene_sn(ev));
	g3_(sp, sizeof(sp), sp_geneeval_gene_sp(ev));
	fprintf(out, "%s\\\n"
		"transcript | #pred | #anno |   TP |   FP |   FN |"
		" sensitivity | specificity |\n%s|\n", rule, rule);
	fprintf(out, "gene level | %5llu | %5llu | %4llu | %4llu | %4llu |"
		" %11s | %11s |\n",
		(unsigned long long)ev->gene_pred,
		(unsigned long long)ev->gene_anno,
		(unsigned long long)ev->gene_tp,
		(unsigned long long)(ev->gene_pred - ev->gene_tp),
		(unsigned long long)(ev->gene_anno - ev->gene_tp), sn, sp);
	fprintf(out, "%s/\n\n", rule);
}

void sp_geneeval_print(const sp_geneeval *ev, FILE *out)
{
	fprintf(out, "*******      Evaluation of gene prediction     *******\n\n");
	print_nuc_(ev, out);
	print_exon_(ev, out);
	print_gene_(ev, out);
	fprintf(out, "per-base 3-class accuracy %.4g\n", sp_geneeval_base_acc(ev));
	fprintf(out, "confusion (rows: annotation, columns: prediction)\n"
		"%-10s %10s %10s %10s\n", "", "intergenic", "coding", "intron");
	for (int a = 0; a < SP_NCLASS; a++)
		fprintf(out, "%-10s %10llu %10llu %10llu\n", sp_class_name(a),
			(unsigned long long)ev->confusion[a][0],
			(unsigned long long)ev->confusion[a][1],
			(unsigned long long)ev->confusion[a][2]);
}
