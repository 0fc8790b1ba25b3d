/*
 * sp_conlleval.h: the CoNLL-2000 chunk scorer, byte for byte.
 *
 * Reads what the original `conlleval` Perl script reads (Tjong Kim Sang,
 * version 2004-01-26, default options: fields separated by single spaces,
 * the last two the gold and the guessed tag, sentences separated by empty
 * lines or lines whose first field is -X-) and writes exactly what it
 * prints: the totals line, the overall accuracy / precision / recall /
 * FB1 line, then one line per chunk type in byte order, with the same
 * arithmetic and number formatting.  Its quirks are kept, since a report
 * that claims to be conlleval's must match it:
 *
 *   - a tag is split at its FIRST hyphen ("B-creative-work" has type
 *     "creative-work"), and a type "0" reads as no type;
 *   - chunks follow the chunk rules of sp_tags.h (B, I, O and the IOE
 *     letters E, '[' and ']'; an S- tag is NOT read as a single-token
 *     chunk: convert IOBES to IOB2 before scoring);
 *   - fields are split on every single space, so a line that starts with
 *     a space has an empty first field; trailing empty fields are dropped;
 *   - only "\n" ends a line ("\r" stays part of the last tag).
 *
 * Where the script prints a message and exits (a line with another number
 * of fields than the first one, or with fewer than two), this module
 * returns SP_EINPUT with "FILE:LINE: ..." set in the context.
 *
 * Not here: the -l (LaTeX), -r (raw tags), -d and -o options.
 */
#ifndef SP_CONLLEVAL_H
#define SP_CONLLEVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_conlleval sp_conlleval;

/* The totals so far (the chunk open at the end counts as finished). */
typedef struct sp_conlleval_totals {
	uint64_t tokens;         /* tokens read (boundaries excluded) */
	uint64_t correct_tags;   /* tokens whose gold and guess are equal */
	uint64_t gold_chunks;    /* chunks in the gold tags ("phrases") */
	uint64_t guess_chunks;   /* chunks in the guesses ("found") */
	uint64_t correct_chunks; /* found with the same start, end and type */
} sp_conlleval_totals;

/* A new scorer, as the script at its start (caller owns; free with
 * sp_conlleval_free).  SP_ENOMEM when out of memory. */
int sp_conlleval_new(sp_conlleval **out, sp_ctx *ctx);
void sp_conlleval_free(sp_conlleval *ce);

/*
 * One input line text[0..len) without its "\n", read as the script reads
 * it.  `file` and `line` name it in error messages.
 */
int sp_conlleval_line(sp_conlleval *ce, sp_ctx *ctx, const char *text,
		      size_t len, const char *file, size_t line);

/* Every line of `in` (until EOF); `name` names it in messages. */
int sp_conlleval_read(sp_conlleval *ce, sp_ctx *ctx, FILE *in,
		      const char *name);

/* One token with its gold and guessed tags (NUL-terminated), or a
 * sentence boundary: what a host that holds the tags already calls. */
int sp_conlleval_token(sp_conlleval *ce, sp_ctx *ctx, const char *gold,
		       const char *guess);
void sp_conlleval_boundary(sp_conlleval *ce);

void sp_conlleval_get_totals(const sp_conlleval *ce,
			     sp_conlleval_totals *out);

/* The script's report on what was read so far.  SP_EIO when writing
 * fails. */
int sp_conlleval_write(const sp_conlleval *ce, sp_ctx *ctx, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* SP_CONLLEVAL_H */
