/*
 * sp_geneeval.h: gene-prediction accuracy, as AUGUSTUS's evaluation
 * counts it, accumulated over sequences and printed in its layout.
 *
 *   nucleotide level  a base is a true positive when it is coding in both
 *                     the annotation and the prediction (strand ignored);
 *                     Sn = TP / annotated coding, Sp = TP / predicted coding
 *   exon level        a predicted CDS exon is correct when an annotated one
 *                     has the same start, end and strand.  Wrong ones are
 *                     split as AUGUSTUS does: "part" (one end right, same
 *                     strand), "ovlp" (overlaps an exon, no end right),
 *                     "wrng" (overlaps none); likewise for missed ones
 *   gene level        a predicted gene is correct when an annotated gene
 *                     has the same strand and exactly its CDS exons, and
 *                     both are complete (or partial) at the same ends
 *   per base          three-class (intergenic / coding / intron) accuracy
 *                     and the 3x3 confusion matrix (rows: annotation)
 */
#ifndef SP_GENEEVAL_H
#define SP_GENEEVAL_H

#include <stdint.h>
#include <stdio.h>

#include "sp_ctx.h"
#include "sp_dna.h"

typedef struct sp_geneeval {
	uint64_t nuc_tp, nuc_pred, nuc_anno;
	uint64_t exon_tp, exon_pred, exon_anno;
	uint64_t exon_fp[3], exon_fn[3];  /* part, ovlp, wrng */
	uint64_t gene_tp, gene_pred, gene_anno;
	uint64_t confusion[SP_NCLASS][SP_NCLASS]; /* [annotated][predicted] */
	uint64_t nseq;
} sp_geneeval;

#define SP_GENEEVAL_INIT { 0 }

/* Adds one sequence of len bases: annotated and predicted genes (each set
 * non-overlapping, inside the sequence).  SP_EINPUT if not. */
int sp_geneeval_add(sp_geneeval *ev, sp_ctx *ctx, size_t len,
		    const sp_gene *anno, size_t nanno, const sp_gene *pred,
		    size_t npred);

/* Ratios (0 when the denominator is 0). */
double sp_geneeval_nuc_sn(const sp_geneeval *ev);
double sp_geneeval_nuc_sp(const sp_geneeval *ev);
double sp_geneeval_exon_sn(const sp_geneeval *ev);
double sp_geneeval_exon_sp(const sp_geneeval *ev);
double sp_geneeval_gene_sn(const sp_geneeval *ev);
double sp_geneeval_gene_sp(const sp_geneeval *ev);
double sp_geneeval_base_acc(const sp_geneeval *ev);

/* The summary in AUGUSTUS's layout ("Evaluation of gene prediction"),
 * followed by the per-base accuracy and the confusion matrix. */
void sp_geneeval_print(const sp_geneeval *ev, FILE *out);

#endif
