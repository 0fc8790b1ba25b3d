/*
 * dna_eval.c: evaluates a gene prediction in GFF3 or GTF against the genes
 * of a GenBank file, with dna/sp_geneeval (AUGUSTUS's definitions, plus
 * per-base 3-class accuracy and the confusion matrix).  bench/augustus.sh
 * uses it to score AUGUSTUS's output the way seqpipe's is scored.
 *
 *   dna_eval TRUTH.gb PREDICTION.gff [SOURCE]
 *
 * SOURCE keeps only the CDS lines of that source (column 2), e.g.
 * AUGUSTUS, whose output also repeats the annotation as "database".
 */
#include <stdio.h>

#include "sp_genbank.h"
#include "sp_geneeval.h"
#include "sp_gffread.h"

int main(int argc, char **argv)
{
	sp_ctx *ctx;
	sp_genbank *gb = NULL;
	sp_gffgenes *pred = NULL;
	sp_dna_record r;
	sp_geneeval ev = SP_GENEEVAL_INIT;
	int rc;
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: dna_eval TRUTH.gb PREDICTION.gff [SOURCE]\n");
		return 2;
	}
	if (sp_ctx_new(&ctx, 1))
		return 1;
	sp_dna_record_init(&r);
	rc = sp_gff_read(&pred, ctx, argv[2], argc == 4 ? argv[3] : NULL);
	rc = rc ? rc : sp_genbank_open(&gb, ctx, argv[1]);
	while (rc == 0 && (rc = sp_genbank_next(gb, ctx, &r)) == 1) {
		sp_gene *g;
		size_t ng;
		rc = sp_gff_genes(pred, ctx, r.name, &g, &ng);
		rc = rc ? rc : sp_geneeval_add(&ev, ctx, r.len, r.gene, r.ngene,
					       g, ng);
		if (rc)
			sp_err_prefix(ctx, rc, "%s", r.name);
		sp_genes_free(g, ng);
	}
	if (rc == 0)
		sp_geneeval_print(&ev, stdout);
	else
		fprintf(stderr, "dna_eval: %s\n", sp_errmsg(ctx));
	sp_genbank_close(gb);
	sp_gff_free(pred);
	sp_dna_record_free(&r);
	sp_ctx_free(ctx);
	return rc ? 1 : 0;
}
