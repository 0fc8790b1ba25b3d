/*
 * sp_dna.h: DNA sequences, gene structures on them, and the per-base
 * labels derived from the structures.
 *
 * Bases are stored as codes, one byte each: A=0 C=1 G=2 T=3, and
 * SP_BASE_UNKNOWN (4) for N and every IUPAC ambiguity code (R Y S W K M
 * B D H V) -- a base known to exist whose identity is not given.  Case is
 * ignored (soft-masked repeats read like the rest).
 *
 * Coordinates are 0-based, half-open [beg, end) on the forward strand
 * everywhere in memory; the writers convert (GFF3 1-based inclusive).
 *
 * A gene is one coding transcript: its CDS exons sorted by position, the
 * strand, and whether either end is partial (GenBank '<' / '>').  The CDS
 * excludes the stop codon, as in AUGUSTUS's training records: the three
 * bases after the CDS (on its strand) are the stop codon and are labelled
 * intergenic.
 *
 * Labels.  The fine labels are what a model learns (SP_NLABEL of them):
 *   0          intergenic
 *   1, 2, 3    coding, plus strand, codon position 0, 1, 2
 *   4, 5, 6    coding, minus strand, codon position 0, 1, 2 (positions
 *              counted along the minus strand, i.e. right to left)
 *   7, 8       intron, plus / minus strand
 * The evaluation folds them into three classes (intergenic, coding,
 * intron) with sp_label_class; strand comes from sp_label_strand.
 */
#ifndef SP_DNA_H
#define SP_DNA_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

enum { SP_BASE_A, SP_BASE_C, SP_BASE_G, SP_BASE_T, SP_BASE_UNKNOWN };

/* The code of letter c (either case), or -1 if c is not a nucleotide or
 * IUPAC letter. */
int sp_base_code(int c);
/* "ACGTN"[code] */
char sp_base_letter(int code);

/* The token a model reads for base i with k-mer inputs: the k bases
 * centred on i (k / 2 before it), "ACGT" letters, into out (k + 1
 * bytes); "N" when one of them is unknown or off the record.  k <= 1:
 * the base's own letter.  Returns the token's length. */
#define SP_KMER_MAX 9
size_t sp_kmer_token(const uint8_t *seq, size_t len, size_t i, int k, char *out);

enum {
	SP_LABEL_IG = 0,
	SP_LABEL_CDS_PLUS = 1,  /* + codon position 0..2 */
	SP_LABEL_CDS_MINUS = 4, /* + codon position 0..2 */
	SP_LABEL_INTRON_PLUS = 7,
	SP_LABEL_INTRON_MINUS = 8,
	SP_NLABEL = 9
};
enum { SP_CLASS_IG, SP_CLASS_CODING, SP_CLASS_INTRON, SP_NCLASS };

/* Three-class fold of a fine label; strand +1 / -1, 0 for intergenic. */
int sp_label_class(int label);
int sp_label_strand(int label);
/* Short names: "ig", "cds+0" ... "cds-2", "intron+", "intron-";
 * classes "intergenic", "coding", "intron". */
const char *sp_label_name(int label);
const char *sp_class_name(int cls);

typedef struct sp_exon {
	long beg, end; /* [beg, end), forward strand */
} sp_exon;

typedef struct sp_gene {
	int strand;     /* +1 or -1 */
	int partial5;   /* the CDS start is outside the record ('<' on +) */
	int partial3;   /* the CDS end is outside the record */
	int phase;      /* bases before the first full codon at the 5' end
			   (GenBank /codon_start - 1); 0 for complete genes */
	size_t nexon;
	sp_exon *exon;  /* owned; sorted by beg, disjoint */
	char *name;     /* owned, may be NULL */
} sp_gene;

/* Frees what a gene owns (not the gene itself). */
void sp_gene_clear(sp_gene *g);
/* Frees n genes and the array. */
void sp_genes_free(sp_gene *g, size_t n);
/* Span [beg, end) of the gene (first exon start .. last exon end). */
long sp_gene_beg(const sp_gene *g);
long sp_gene_end(const sp_gene *g);
/* Number of coding bases. */
long sp_gene_cds_len(const sp_gene *g);

/* Writes the fine label of every base of [0, len) into labels (len
 * bytes): intergenic, then each gene's exons (with codon position) and
 * the introns between them.  Genes must lie inside the sequence and their
 * spans must not overlap (SP_EINPUT otherwise, naming both genes). */
int sp_genes_paint(sp_ctx *ctx, const sp_gene *genes, size_t ngene,
		   size_t len, uint8_t *labels);

/* Grammar options: also accept GC donors (introns GC...AG, about 1 % of
 * real introns; 4 of the 100 AUGUSTUS fly test genes have one). */
#define SP_GRAMMAR_GC_DONOR 1u

/* Checks a gene against the gene grammar on sequence seq (codes):
 * start codon ATG at the 5' end with the first codon inside one exon
 * (unless partial5), CDS length a multiple of 3 and at least two codons,
 * no in-frame stop codon, a stop codon TAA/TAG/TGA right after the 3' end
 * (unless partial3), every intron GT...AG on the gene's strand.
 * 0 if valid, SP_EINPUT with the first violation in ctx otherwise. */
int sp_gene_check(sp_ctx *ctx, const uint8_t *seq, size_t len,
		  const sp_gene *g, unsigned flags);

/* A record: a named sequence, with genes and labels for annotated
 * formats.  Readers reuse the buffers from one record to the next. */
typedef struct sp_dna_record {
	char *name;       /* first word of the header / LOCUS name */
	char *desc;       /* the rest of the header line, may be "" */
	uint8_t *seq;     /* len codes */
	size_t len, cap;
	size_t nunknown;  /* bases read as SP_BASE_UNKNOWN */
	sp_gene *gene;    /* annotated genes sorted by start (GenBank) */
	size_t ngene, gcap;
	uint8_t *label;   /* len fine labels (GenBank), else NULL */
	long line;        /* line of the record's header in its file */
} sp_dna_record;

void sp_dna_record_init(sp_dna_record *r);
void sp_dna_record_free(sp_dna_record *r);
/* Empties the record, keeping its buffers. */
void sp_dna_record_reset(sp_dna_record *r);
/* Appends one base code (grows the buffer). */
int sp_dna_record_push(sp_dna_record *r, sp_ctx *ctx, uint8_t code);

#endif
