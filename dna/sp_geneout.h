/*
 * sp_geneout.h: gene structures written for genome browsers.
 *
 * GFF3 (1-based, inclusive): once per file "##gff-version 3"
 * (sp_gff3_header), then per sequence "##sequence-region SEQID 1 LEN" and
 * per gene four kinds of lines:
 *   gene    ID=SEQID.gK
 *   mRNA    ID=SEQID.gK.t1;Parent=SEQID.gK
 *   CDS     ID=SEQID.gK.t1.cds;Parent=SEQID.gK.t1   one line per exon,
 *           with its phase (bases to skip to the next codon start, counted
 *           from the exon's 5' end on its strand)
 *   intron  Parent=SEQID.gK.t1                       between CDS parts
 * in order of start.  The gene and mRNA span the CDS (the stop codon, which
 * the CDS excludes, is left out; no UTRs are predicted).  K counts genes
 * from 1 within the sequence, so IDs are unique when sequence names are.
 * Partial ends are marked with start_range / end_range (GFF3 spec).
 *
 * BED12 (0-based, half-open): one line per transcript, name SEQID.gK.t1,
 * thickStart..thickEnd = the CDS span, one block per CDS exon.
 *
 * Sequence names are percent-escaped where GFF3 requires it (in both
 * formats, so that their names agree).
 */
#ifndef SP_GENEOUT_H
#define SP_GENEOUT_H

#include <stdio.h>

#include "sp_ctx.h"
#include "sp_dna.h"

int sp_gff3_header(sp_ctx *ctx, FILE *out);
int sp_gff3_write(sp_ctx *ctx, FILE *out, const char *seqid, size_t len,
		  const sp_gene *genes, size_t ngene, const char *source);
int sp_bed_write(sp_ctx *ctx, FILE *out, const char *seqid,
		 const sp_gene *genes, size_t ngene);

/* GFF3 phase of exon k (index in the gene's sorted exon array). */
int sp_gene_exon_phase(const sp_gene *g, size_t k);

#endif
