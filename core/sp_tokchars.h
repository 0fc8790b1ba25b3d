/*
 * sp_tokchars.h: the characters of every input token of an encoded split,
 * kept only when a model stage reads them (sp_model_ops.chars), and laid
 * out per batch as an sp_chars.
 *
 * Host-only (not installed).
 */
#ifndef SP_TOKCHARS_H
#define SP_TOKCHARS_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

/* Example e's tokens are tok[ex[e]] ..; token k's code points are
 * cp[tok[k] .. tok[k+1]) (at most SP_CHARS_MAX: a longer token keeps its
 * first and last SP_CHARS_MAX/2).  All zero = nothing recorded. */
typedef struct sp_tokchars {
	size_t *ex, n_ex, cap_ex;
	size_t *tok, n_tok, cap_tok;   /* n_tok + 1 entries in use */
	int32_t *cp;
	size_t n_cp, cap_cp;
} sp_tokchars;

void sp_tokchars_fini(sp_tokchars *c);

/* Records the next example's tokens: n tokens, token k the UTF-8 bytes
 * text + off[k] of tlen[k] bytes (invalid bytes read as U+FFFD). */
int sp_tokchars_add(sp_tokchars *c, sp_ctx *ctx, const char *text,
		    const size_t *off, const size_t *tlen, size_t n);

/* Token k of example e: its code points (*n of them). */
const int32_t *sp_tokchars_token(const sp_tokchars *c, size_t e, size_t k,
				 size_t *n);

#endif /* SP_TOKCHARS_H */
