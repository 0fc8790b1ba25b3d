/*
 * sp_chrf.h: chrF (Popović 2015) as sacreBLEU 2.x computes it: character
 * n-grams of orders 1..6 over the text with all whitespace removed
 * (Python's str.split() whitespace), beta = 2, scores averaged over the
 * "effective" orders (sacreBLEU's default, eff:yes), corpus statistics
 * summed over segments.  Characters are Unicode code points.
 *
 * Two details that change figures and are kept: a hypothesis's n-grams of
 * an order the reference is too short to have are not counted; an order
 * counts only when both sides have n-grams of it.
 *
 * Signature: nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:
 * seqpipe-X.Y.Z (the version names seqpipe; see sp_bleu.h).
 * Not here: word n-grams (chrF++, nw > 0) and eps smoothing.
 */
#ifndef SP_CHRF_H
#define SP_CHRF_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_CHRF_MAX_ORDER 10

typedef struct sp_chrf_opts {
	size_t size;     /* sizeof(sp_chrf_opts) */
	int char_order;  /* 6 */
	int beta;        /* 2 */
	int lowercase;   /* case:lc */
	int whitespace;  /* space:yes keeps whitespace in the n-grams */
} sp_chrf_opts;

void sp_chrf_opts_init(sp_chrf_opts *o);

/* Per order n: hypothesis n-grams, reference n-grams, clipped matches. */
typedef struct sp_chrf_stats {
	int64_t hyp[SP_CHRF_MAX_ORDER];
	int64_t ref[SP_CHRF_MAX_ORDER];
	int64_t match[SP_CHRF_MAX_ORDER];
} sp_chrf_stats;

typedef struct sp_chrf sp_chrf;

/* (caller owns; free with sp_chrf_free) */
int sp_chrf_new(sp_chrf **out, sp_ctx *ctx, const sp_chrf_opts *opts);
void sp_chrf_free(sp_chrf *c);

/* Adds one segment's statistics to *acc; SP_EINPUT for invalid UTF-8. */
int sp_chrf_add(sp_chrf *c, sp_ctx *ctx, const char *hyp, size_t hyp_len,
		const char *ref, size_t ref_len, sp_chrf_stats *acc);

/* chrF in 0..100 of accumulated statistics. */
double sp_chrf_compute(const sp_chrf_opts *opts, const sp_chrf_stats *st);

/* The signature into buf (see sp_bleu_signature for the contract). */
size_t sp_chrf_signature(const sp_chrf_opts *opts, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SP_CHRF_H */
