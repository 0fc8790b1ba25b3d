/*
 * sp_ngram.h: clipped n-gram matching between a reference and a hypothesis,
 * the counting at the heart of BLEU and chrF.
 *
 * An n-gram is a byte span of a caller's string plus its order n (words
 * joined by one space for BLEU, code points for chrF).  Fill the table with
 * the reference's n-grams, then offer the hypothesis's: each offer says
 * whether it is a clipped match, so that the matches add up to
 * sum over n-grams of min(count in hyp, count in ref).
 *
 * The spans are borrowed: the strings must outlive the table's use until
 * the next sp_ngrams_reset.  Reset is O(1) (a generation stamp), so one
 * table serves a whole corpus.
 */
#ifndef SP_NGRAM_H
#define SP_NGRAM_H

#include <stddef.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_ngrams sp_ngrams;

/* (caller owns; free with sp_ngrams_free) */
int sp_ngrams_new(sp_ngrams **out, sp_ctx *ctx);
void sp_ngrams_free(sp_ngrams *t);

/* Empties the table and makes room for `expected` distinct n-grams. */
int sp_ngrams_reset(sp_ngrams *t, sp_ctx *ctx, size_t expected);

/* Counts one reference n-gram s[0..len) of order n. */
void sp_ngrams_add_ref(sp_ngrams *t, const char *s, size_t len, unsigned n);

/* Counts one hypothesis n-gram; returns 1 if it is a clipped match (this
 * occurrence is within the reference's count of it), else 0. */
int sp_ngrams_offer_hyp(sp_ngrams *t, const char *s, size_t len, unsigned n);

#ifdef __cplusplus
}
#endif
#endif /* SP_NGRAM_H */
