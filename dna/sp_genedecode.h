/*
 * sp_genedecode.h: gene structures from per-base scores, by a Viterbi
 * search constrained by the gene grammar.
 *
 * Input: the sequence (codes, sp_dna.h) and, for every base, the
 * log-probabilities of the SP_NLABEL fine labels (row-major, len x 9; a
 * model's log-softmax).  Output: the highest-scoring labelling that is a
 * sequence of valid genes on either strand, as gene structures.
 *
 * The grammar (one state machine over both strands, 40 states):
 *   intergenic -> start codon ATG -> coding exons and introns alternating
 *   -> the CDS ends with a complete codon followed by a stop codon
 *   (TAA/TAG/TGA, labelled intergenic: the CDS excludes it) -> intergenic.
 *   The codon phase is carried across introns, and so are the one or two
 *   bases of a codon split by an intron, so no in-frame stop codon can
 *   appear, not even across a splice.  Introns read GT...AG on their
 *   strand (GC...AG too with gc_donor).  The first codon (ATG) lies in
 *   one exon; a gene has at least two codons.  The minus strand is the
 *   same grammar on the reverse complement (forward: stop codon revcomp
 *   TTA/CTA/TCA on the left, introns CT...AC, CAT on the right).
 *   Introns are at least 4 bases long (an intron's first base has states
 *   of its own, so GT and AG cannot share a G), or min_intron: a per-base
 *   tagger's blurred scores otherwise cut exons with introns of a few
 *   bases that no genome has (fly's shortest are about 50).  The sequence begins and
 *   ends intergenic: no partial genes.
 * Every gene emitted passes sp_gene_check (with SP_GRAMMAR_GC_DONOR when
 * gc_donor is set).
 *
 * With sensors (opts->signals, sp_genesig.h), a base's score for a label
 * is tagger_weight times (its log-probability less prior_weight times the
 * label's log prior), plus content_weight times the base's log-likelihood
 * under the label's content model; and signal_weight times a site's sensor score is added
 * on each transition that starts a gene at a start codon, ends one at a
 * stop codon, or enters or leaves an intron at a splice site.
 *
 * With intron_length_weight (and sensors), an intron of len bases adds
 * that weight times log P(len) (sp_genesig_intron_logp).  Introns of up
 * to SP_GENESIG_INTRON_MAX bases are scored whole where an acceptor could
 * end them: the best first base among the last SP_GENESIG_INTRON_MAX,
 * from a ring of first-base scores and running sums of the intron
 * label's scores, with the length taken kept for the traceback (a byte
 * per base and intron kind, 12 more bytes per base).  Longer ones pass
 * through the loop state after a run of SP_GENESIG_INTRON_MAX - 1 bases
 * (like min_intron's), which adds the tail's log-probability on entry
 * and its per-base decay on each step.  That costs up to 12 x 200 more
 * steps at each acceptor consensus (AG, or AC on the minus strand): about
 * twice the time of a decoding without lengths.
 *
 * Cost: time linear in len (about 60 transitions per base); memory one
 * byte per state per base for the back-pointers plus one per base for the
 * path, 41 bytes per base (53 with intron lengths): 41 MB for 1 Mbp, on
 * top of the caller's score matrix (36 MB of floats for 1 Mbp).  min_intron adds no state: the
 * min_intron - 2 bases after an intron's first are a fixed run, and its
 * loop state at base i is entered from the first-base score of base
 * i - min_intron + 1, kept in a ring (O(12 min_intron) memory, no
 * back-pointers).  A record too short for such an intron has none.
 */
#ifndef SP_GENEDECODE_H
#define SP_GENEDECODE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_dna.h"
#include "sp_genesig.h"

typedef struct sp_genedecode_opts {
	double gene_logp;   /* added at every gene start (<= 0 discourages
			       genes) */
	double intron_logp; /* added at every intron start */
	int gc_donor;       /* != 0: GC donors are valid as well as GT */
	size_t min_intron;  /* > 4: no intron shorter (bases); 0..4: the
			       grammar's own minimum, 4 */
	const sp_genesig *signals; /* may be NULL: no sensors, no priors */
	double signal_weight; /* times each site's sensor score, added where
				 the path enters or leaves an exon there */
	double prior_weight;  /* times the log prior of a label, subtracted
				 from its score at every base */
	double content_weight; /* times the content model's log-likelihood of
				  each base under each label, added */
	double tagger_weight;  /* with signals: times the tagger's scores (less
				  their priors); without, 1 */
	double intron_length_weight; /* with signals: times the log-probability
					of each intron's length (0: none) */
} sp_genedecode_opts;

#define SP_GENEDECODE_OPTS_INIT { 0.0, 0.0, 0, 0, NULL, 0.0, 0.0, 0.0, 1.0, 0.0 }

/* Decodes one sequence.  On success *genes (caller frees with
 * sp_genes_free) holds *ngene genes sorted by start, and *score (may be
 * NULL) the path's total score (log-probabilities, penalties and sensor
 * terms).  opts may be NULL (defaults). */
int sp_genedecode(sp_ctx *ctx, const uint8_t *seq, size_t len,
		  const float *logp, const sp_genedecode_opts *opts,
		  sp_gene **genes, size_t *ngene, double *score);

#endif
