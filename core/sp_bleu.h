/*
 * sp_bleu.h: corpus and sentence BLEU computed the way sacreBLEU 2.x
 * computes it (Post 2018, "A Call for Clarity in Reporting BLEU Scores"),
 * so that a seqpipe score and a sacreBLEU score of the same files agree.
 *
 * What "the same" covers, and is tested against sacreBLEU 2.6.0's output
 * (tests/t_bleu.c, tests/data/bleu/):
 *   - the 13a tokenizer (mteval-v13a): "<skipped>" removed, "-\n" joined,
 *     &quot; &amp; &lt; &gt; unescaped in that order, then its four regular
 *     expressions (ASCII punctuation split off; '.' and ',' split unless
 *     between digits; '-' split after a digit), then Python's str.split(),
 *     whose whitespace includes U+00A0, U+202F and the other Unicode spaces;
 *   - optional lowercasing before tokenizing (Python's str.lower());
 *   - clipped n-gram counts for n = 1..4, hypothesis and reference lengths,
 *     brevity penalty exp(1 - r/c) when c < r;
 *   - smoothing: exp (default; mteval's: the k-th zero precision becomes
 *     100 / (2^k * total)), floor (zero counts become `value`, 0.1 by
 *     default), add-k (k added to counts and totals of n >= 2, 1 by
 *     default) and none;  effective order (off by default; sentence BLEU
 *     of sacreBLEU's `sentence_bleu()` turns it on);
 *   - one reference per segment; an empty reference is an error, as there.
 *
 * The signature says what was computed: nrefs:1|case:mixed|eff:no|tok:13a|
 * smooth:exp|version:seqpipe-X.Y.Z.  Its version field names seqpipe, never
 * a sacreBLEU version: seqpipe reimplements sacreBLEU, it is not it (every
 * other field means what it means in sacreBLEU's signature).
 *
 * Not here: chrF (sp_chrf.h), reading files (sp_parallel.h), several
 * references per segment, the intl/zh/char tokenizers.
 */
#ifndef SP_BLEU_H
#define SP_BLEU_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_BLEU_ORDER 4

typedef enum sp_bleu_tok {
	SP_BLEU_TOK_13A = 0, /* sacreBLEU's default */
	SP_BLEU_TOK_NONE = 1 /* the text is split on whitespace only */
} sp_bleu_tok;

typedef enum sp_bleu_smooth {
	SP_BLEU_SMOOTH_EXP = 0, /* sacreBLEU's default */
	SP_BLEU_SMOOTH_NONE = 1,
	SP_BLEU_SMOOTH_FLOOR = 2,
	SP_BLEU_SMOOTH_ADDK = 3
} sp_bleu_smooth;

/* Options; start from sp_bleu_opts_init().  Fields are only appended. */
typedef struct sp_bleu_opts {
	size_t size;              /* sizeof(sp_bleu_opts) */
	int lowercase;            /* case:lc */
	sp_bleu_tok tokenize;
	sp_bleu_smooth smooth;
	double smooth_value;      /* < 0: the method's default (floor 0.1, add-k 1) */
	int effective_order;      /* eff:yes */
} sp_bleu_opts;

/* sacreBLEU's corpus defaults: mixed case, 13a, exp, no effective order. */
void sp_bleu_opts_init(sp_bleu_opts *o);
/* "13a" | "none"; "exp" | "none" | "floor" | "add-k"; SP_EINVAL otherwise. */
int sp_bleu_tok_parse(sp_bleu_tok *out, sp_ctx *ctx, const char *name);
int sp_bleu_smooth_parse(sp_bleu_smooth *out, sp_ctx *ctx, const char *name);

/* Sufficient statistics: they add up over segments. */
typedef struct sp_bleu_stats {
	int64_t sys_len; /* hypothesis tokens */
	int64_t ref_len; /* reference tokens */
	int64_t correct[SP_BLEU_ORDER]; /* clipped matches of n = 1..4 */
	int64_t total[SP_BLEU_ORDER];   /* hypothesis n-grams of n = 1..4 */
} sp_bleu_stats;

typedef struct sp_bleu_score {
	double score;                     /* 0..100 */
	double precisions[SP_BLEU_ORDER]; /* percent, after smoothing */
	double bp;                        /* brevity penalty */
	double ratio;                     /* sys_len / ref_len (0 if ref_len = 0) */
	sp_bleu_stats stats;
} sp_bleu_score;

typedef struct sp_bleu sp_bleu;

/* A scorer with its own scratch buffers (caller owns; free with
 * sp_bleu_free).  One per thread. */
int sp_bleu_new(sp_bleu **out, sp_ctx *ctx, const sp_bleu_opts *opts);
void sp_bleu_free(sp_bleu *b);

/* Tokenizes text[0..len) as the scorer's options say (lowercase, then 13a
 * or whitespace): tokens joined by one space, in *out (borrowed; valid
 * until the next call on b).  SP_EINPUT for invalid UTF-8 (the message
 * gives the byte offset). */
int sp_bleu_tokenize(sp_bleu *b, sp_ctx *ctx, const char *text, size_t len,
		     const char **out, size_t *out_len);

/* Adds the statistics of one segment (hypothesis, reference) to *acc.
 * SP_EINPUT for invalid UTF-8 or an empty reference. */
int sp_bleu_add(sp_bleu *b, sp_ctx *ctx, const char *hyp, size_t hyp_len,
		const char *ref, size_t ref_len, sp_bleu_stats *acc);

/* The score of accumulated statistics (sacreBLEU's compute_bleu). */
void sp_bleu_compute(const sp_bleu_opts *opts, const sp_bleu_stats *stats,
		     sp_bleu_score *out);

/* Sentence BLEU of one pair with b's options (sacreBLEU's sentence_bleu()
 * sets opts.effective_order = 1). */
int sp_bleu_sentence(sp_bleu *b, sp_ctx *ctx, const char *hyp, size_t hyp_len,
		     const char *ref, size_t ref_len, sp_bleu_score *out);

/* "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:seqpipe-<v>" into
 * buf (truncated to n - 1 bytes; returns the length it needs). */
size_t sp_bleu_signature(const sp_bleu_opts *opts, char *buf, size_t n);

/* sacreBLEU's text line: "BLEU = 19.51 61.5/29.7/13.2/6.0 (BP = 1.000
 * ratio = 1.003 hyp_len = 4766 ref_len = 4750)". */
size_t sp_bleu_format(const sp_bleu_score *s, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SP_BLEU_H */
