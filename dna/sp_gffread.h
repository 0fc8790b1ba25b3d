/*
 * sp_gffread.h: gene structures read back from GFF3 or GTF, to evaluate a
 * prediction (seqpipe's own, AUGUSTUS's) against annotated records.
 *
 * Only CDS, start_codon and stop_codon lines count.  They are grouped by
 * sequence and transcript (the value of Parent= in GFF3, of
 * transcript_id "..." in GTF); each transcript becomes one gene (sp_dna.h),
 * its CDS lines its exons.  When the file has start_codon / stop_codon
 * lines at all (AUGUSTUS writes them), a transcript without one is partial
 * at that end (AUGUSTUS predicts genes cut by the sequence's end).  Lines
 * starting with '#' and blank lines are skipped; so are lines of another
 * source when a source is given (AUGUSTUS prints the annotation it was
 * given with source "database" next to its own).  Errors name FILE:LINE:
 * fewer than 9 tab-separated columns, bad coordinates or strand, a CDS
 * without a transcript.
 */
#ifndef SP_GFFREAD_H
#define SP_GFFREAD_H

#include "sp_ctx.h"
#include "sp_dna.h"

typedef struct sp_gffgenes sp_gffgenes;

/* Reads path; source NULL keeps every source.  Caller owns *out. */
int sp_gff_read(sp_gffgenes **out, sp_ctx *ctx, const char *path,
		const char *source);
void sp_gff_free(sp_gffgenes *g);

/* The genes on sequence seqid, sorted by start (caller frees with
 * sp_genes_free; none is not an error). */
int sp_gff_genes(const sp_gffgenes *g, sp_ctx *ctx, const char *seqid,
		 sp_gene **genes, size_t *ngene);

#endif
