/*
 * sp_genbank.h: a streaming reader of GenBank-style annotated records, as
 * AUGUSTUS's training sets use them: each record gives a sequence and its
 * genes, and becomes a sequence plus per-base labels (sp_dna.h).
 *
 *   LOCUS       name   3662 bp  DNA          name and (checked) length
 *   FEATURES             Location/Qualifiers
 *        CDS             complement(join(447..2282,2343..2656,
 *                        3214..3552))        one gene per CDS feature
 *                        /gene="3688"        its name (else /locus_tag)
 *                        /codon_start=2      phase of a partial 5' end
 *   ORIGIN
 *           1 cattaaattg cgggcaagta ...    the sequence (numbers checked)
 *   //
 *
 * Locations: a..b, single bases, join(...), order(...) and complement(...)
 * nested either way (complement(join(..)) or join(complement(..),..)),
 * partial ends '<' and '>' (which end of the gene they open depends on its
 * strand).  Lines other than LOCUS, FEATURES, ORIGIN and // (DEFINITION,
 * BASE COUNT, ...) are skipped, and so are features other than CDS.
 *
 * Errors name FILE:LINE and what was expected: a location outside
 * 1..LENGTH, a location that mixes strands or has overlapping parts, two
 * genes whose spans overlap (the labels cannot express that), a letter in
 * ORIGIN that is not a nucleotide or IUPAC code, a sequence whose length
 * differs from LOCUS, a record not closed by //.  The gene grammar
 * (start/stop codons, splice sites) is not enforced here; sp_gene_check
 * tells whether an annotated gene obeys it.
 */
#ifndef SP_GENBANK_H
#define SP_GENBANK_H

#include "sp_ctx.h"
#include "sp_dna.h"

typedef struct sp_genbank sp_genbank;

int sp_genbank_open(sp_genbank **out, sp_ctx *ctx, const char *path);
void sp_genbank_close(sp_genbank *g);

/* Reads the next record into rec: sequence, genes (sorted by start) and
 * fine labels.  1 when a record was read, 0 at the end, < 0 on error. */
int sp_genbank_next(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec);

/* Parses one location string (exposed for tests): fills a gene's exons,
 * strand and partial flags.  seqlen bounds the coordinates (0 = no bound).
 * On error the message names the column of `loc`. */
int sp_genbank_location(sp_ctx *ctx, const char *loc, long seqlen,
			sp_gene *out);

#endif
