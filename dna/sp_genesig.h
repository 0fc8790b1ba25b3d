/*
 * sp_genesig.h: signal and content sensors for the gene Viterbi, learned from
 * annotated records: how much more likely the bases around a candidate
 * donor, acceptor, start or stop codon are under true sites than under
 * the other places with the same consensus (GT or GC, AG, ATG, a stop
 * codon).
 *
 * A per-base tagger sees splice signals blurred over its context; a gene
 * finder (GENSCAN, AUGUSTUS) scores each candidate boundary with a model
 * of the bases around it.  Each sensor here is a weight array model
 * (Zhang and Marr 1993): position-specific first-order Markov chains, one
 * for true sites and one for the decoys, and the score of a window is the
 * log-ratio of the two, so a decoy-like site scores below 0.  Windows,
 * relative to the anchor (the consensus' first base, read on the site's
 * strand):
 *   donor     3 exon bases, GT or GC, 4 intron bases   [-3, +6)
 *   acceptor  25 intron bases, AG, 3 exon bases        [-25, +5)
 *   start     8 bases before ATG, ATG, 3 more          [-8, +6)
 *   stop      3 last coding bases, the stop codon, 3   [-3, +6)
 * Counts get a pseudo-count of 1; unknown or off-record bases add 0.
 *
 * Content models: fifth-order Markov chains of intergenic bases, coding
 * bases at each codon position and intron bases, each read on its
 * label's strand (intergenic bases are counted both ways).  And the share
 * of bases of every fine label, so that a decoder can turn a tagger's
 * posteriors into scaled likelihoods.
 *
 * Intron lengths: fly's are sharply peaked (half are 55-70 bases) with a
 * long tail, which a decoder's self-loop (a geometric length) cannot say.
 * Lengths up to SP_GENESIG_INTRON_MAX get a histogram smoothed by a
 * triangular kernel that widens with the length; longer ones a geometric
 * tail with the mean of the long introns counted.
 *
 * Stored in a model file as one float tensor (sp_genesig_pack).
 */
#ifndef SP_GENESIG_H
#define SP_GENESIG_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_dna.h"

enum { SP_SIG_DONOR, SP_SIG_ACCEPTOR, SP_SIG_START, SP_SIG_STOP, SP_NSIG };

/* Intron lengths modelled one by one (fits a byte: the decoder keeps
 * one per base and intron kind). */
#define SP_GENESIG_INTRON_MAX 250

typedef struct sp_genesig sp_genesig;

int sp_genesig_new(sp_genesig **out, sp_ctx *ctx);
void sp_genesig_free(sp_genesig *s);

/* Counts the true sites of a record's complete genes (both strands) and
 * every other place with their consensus as a decoy; and the labels. */
int sp_genesig_add(sp_genesig *s, sp_ctx *ctx, const uint8_t *seq, size_t len,
		   const sp_gene *genes, size_t ngene, const uint8_t *labels);

/* Turns the counts into log-ratio tables (after the last add). */
void sp_genesig_finish(sp_genesig *s);

/* Sites of each kind counted (true, decoy). */
void sp_genesig_counts(const sp_genesig *s, int kind, double *sites, double *decoys);

/* The score of a kind's window anchored at oriented position pos of the
 * strand (+1: seq as is; -1: its reverse complement, position 0 being
 * the complement of seq[len - 1]). */
double sp_genesig_score(const sp_genesig *s, int kind, const uint8_t *seq,
			size_t len, long pos, int strand);

/* log P(base i | the 5 bases before it) under the content model of
 * label's kind (intergenic, coding at its codon position, intron), read
 * on the label's strand; 0 for an unknown base. */
double sp_genesig_content(const sp_genesig *s, int label, const uint8_t *seq,
			  size_t len, long i);

/* log P(an intron is len bases long), len >= 0: the smoothed histogram up
 * to SP_GENESIG_INTRON_MAX, then the geometric tail. */
double sp_genesig_intron_logp(const sp_genesig *s, long len);

/* Introns counted: up to SP_GENESIG_INTRON_MAX bases, and longer. */
void sp_genesig_intron_counts(const sp_genesig *s, double *short_introns, double *long_introns);

/* log of the share of bases labelled l (fine label) in the records. */
double sp_genesig_logprior(const sp_genesig *s, int l);

/* The tables as floats (for a model file) and back. */
size_t sp_genesig_packed_len(void);
void sp_genesig_pack(const sp_genesig *s, float *out);
int sp_genesig_unpack(sp_genesig **out, sp_ctx *ctx, const float *v, size_t n);

#endif
