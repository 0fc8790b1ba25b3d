/*
 * sp_bpe.h: byte-pair encoding (Sennrich et al. 2016, "Neural Machine
 * Translation of Rare Words with Subword Units"): merges learned from a
 * training split, applied to text, and undone.
 *
 * Marking: sentencepiece style.  A word carries the spaces before it as
 * U+2581 '▁' (and the text gets one "dummy" ▁ in front, so a word looks
 * the same at the start of a sentence as inside it):
 *
 *     "the cat"  ->  "▁the" "▁cat"  ->  after merges e.g. "▁the ▁c at"
 *
 * Decoding concatenates the pieces, turns every ▁ back into a space and
 * drops the dummy one, so text -> pieces -> text is the identity for any
 * UTF-8 text without U+2581 (such text is refused).  Only U+0020 is a
 * space here; tabs and other whitespace are ordinary characters.  (The
 * `</w>` marking of subword-nmt cannot say how many spaces there were.)
 *
 * Units are Unicode code points.  Merges never cross a word.  Learning
 * repeats: count adjacent symbol pairs over the distinct words weighted by
 * their counts, merge the most frequent pair; ties go to the pair whose
 * left symbol, then right symbol, is smallest in byte order, so the merges
 * depend on the data only.  It stops after `merges` merges or when the best
 * pair is seen fewer than `min_count` times.  Each step recounts (time
 * O(merges x symbols)): fine for tens of thousands of sentences.
 *
 * Saved form (text, one merge per line, in rank order; fits in a model
 * file as a blob):
 *     #seqpipe-bpe 1 marker=U+2581 merges=N
 *     e s
 *     es t
 * Characters never merged need no line: an unseen character is its own
 * piece (the vocabulary maps it to <unk>).
 */
#ifndef SP_BPE_H
#define SP_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_utf8.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_BPE_MARK "\xe2\x96\x81" /* U+2581 LOWER ONE EIGHTH BLOCK */

typedef struct sp_bpe_opts {
	size_t size;       /* sizeof(sp_bpe_opts) */
	size_t merges;     /* at most this many merges (8000) */
	int64_t min_count; /* stop when the best pair is rarer (2) */
} sp_bpe_opts;

void sp_bpe_opts_init(sp_bpe_opts *o);

typedef struct sp_bpe sp_bpe;

/* Learns merges from texts[0..n) (lengths in lens) (caller owns; free with
 * sp_bpe_free).  SP_EINPUT names the text index for invalid UTF-8 or ▁. */
int sp_bpe_learn(sp_bpe **out, sp_ctx *ctx, const char *const *texts, const size_t *lens,
		 size_t n, const sp_bpe_opts *opts);
void sp_bpe_free(sp_bpe *b);

size_t sp_bpe_n_merges(const sp_bpe *b);
/* Merge `rank` (0 = first learned): its two symbols (borrowed). */
void sp_bpe_merge(const sp_bpe *b, size_t rank, const char **left, const char **right);

/* Appends the pieces of text[0..len) to out, separated by one space
 * (pieces never contain U+0020).  Empty text gives nothing. */
int sp_bpe_encode(sp_bpe *b, sp_ctx *ctx, const char *text, size_t len, sp_buf *out);

/* Appends the text of space-separated pieces[0..len) to out (the inverse
 * of sp_bpe_encode; needs no merges). */
int sp_bpe_decode(sp_ctx *ctx, const char *pieces, size_t len, sp_buf *out);

/* The saved form, appended to out. */
int sp_bpe_save(const sp_bpe *b, sp_ctx *ctx, sp_buf *out);
/* From the saved form; `name` (a file name) prefixes errors "NAME:LINE: ...". */
int sp_bpe_load(sp_bpe **out, sp_ctx *ctx, const char *text, size_t len, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SP_BPE_H */
