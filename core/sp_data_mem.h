/*
 * sp_data_mem.h: corpora built in memory rather than read from a file
 * (the generated tasks of sp_synth, the parallel text of sp_parallel).  Host-only (not installed).
 */
#ifndef SP_DATA_MEM_H
#define SP_DATA_MEM_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_data.h"

/* An empty tsv corpus (caller owns *out; free with sp_corpus_free). */
int sp_corpus_new_tsv(sp_corpus **out, sp_ctx *ctx);
/* Appends the example text[0, len) with its label (both copied); its
 * "line" is its 1-based number. */
int sp_corpus_add_tsv(sp_corpus *c, sp_ctx *ctx, const char *text,
		      size_t len, const char *label);

/* An empty parallel corpus; sp_corpus_add_pair appends the example
 * text[0, len) with its translation target[0, tlen) (both copied), read
 * from 1-based source line `line`. */
int sp_corpus_new_parallel(sp_corpus **out, sp_ctx *ctx);
int sp_corpus_add_pair(sp_corpus *c, sp_ctx *ctx, const char *text, size_t len,
		       const char *target, size_t tlen, size_t line);

#endif /* SP_DATA_MEM_H */
