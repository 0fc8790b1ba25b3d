/*
 * sp_fasta.h: a streaming FASTA reader.
 *
 * Many records per file, any line width (one line per record works, at a
 * memory cost of that line), either case, CRLF or LF, blank lines ignored,
 * plain or gzip-compressed (detected from the content, so `.gz` and
 * anything else are read alike).  N and the IUPAC ambiguity codes become
 * SP_BASE_UNKNOWN (see sp_dna.h), U reads as T.
 *
 * Errors name FILE:LINE (and :COL for a bad letter) and what was expected:
 * sequence before the first '>' header, a header without a name, a record
 * with no sequence, a letter that is not a nucleotide or IUPAC code.
 *
 *   sp_fasta *f; sp_dna_record rec; sp_dna_record_init(&rec);
 *   if (sp_fasta_open(&f, ctx, "genome.fa.gz") == 0)
 *       while ((rc = sp_fasta_next(f, ctx, &rec)) == 1) use(&rec);
 *   sp_fasta_close(f); sp_dna_record_free(&rec);
 */
#ifndef SP_FASTA_H
#define SP_FASTA_H

#include "sp_ctx.h"
#include "sp_dna.h"

typedef struct sp_fasta sp_fasta;

int sp_fasta_open(sp_fasta **out, sp_ctx *ctx, const char *path);
void sp_fasta_close(sp_fasta *f);

/* Reads the next record into rec (its buffers are reused): 1 when a
 * record was read, 0 at the end of the file, < 0 on error. */
int sp_fasta_next(sp_fasta *f, sp_ctx *ctx, sp_dna_record *rec);

#endif
