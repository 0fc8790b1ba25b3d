/*
 * sp_data_mem.h: building a corpus: from the examples a reader emits
 * (sp_readers.c), or in memory (the generated tasks of sp_synth).
 * Host-only (not installed).
 */
#ifndef SP_DATA_MEM_H
#define SP_DATA_MEM_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_plugin.h"

/* An empty corpus for the examples of reader `format` carrying `fields`
 * (sp_field bits); adding stops (sp_corpus_add returns 1) after
 * max_examples (0 = all).  ctx takes the errors until sp_corpus_finish. */
int sp_corpus_new(sp_corpus **out, sp_ctx *ctx, const char *format,
		  unsigned fields, size_t max_examples);
/* env->emit / skip / payload: examples go into c (sp_corpus_add copies
 * one; it refuses an example without a field its reader declared),
 * skipped lines are counted (sp_corpus_skip). */
void sp_corpus_sink(sp_corpus *c, sp_read_env *env);
int sp_corpus_add(void *corpus, const sp_example *ex);
int sp_corpus_skip(void *corpus, size_t line);
/* Done adding: makes the token pointers; no example at all is SP_EINPUT
 * "PATH: no examples (FORMAT format)". */
int sp_corpus_finish(sp_corpus *c, const char *path);

/* An empty tsv corpus (caller owns *out; free with sp_corpus_free). */
int sp_corpus_new_tsv(sp_corpus **out, sp_ctx *ctx);
/* Appends the example text[0, len) with its label (both copied); its
 * "line" is its 1-based number. */
int sp_corpus_add_tsv(sp_corpus *c, sp_ctx *ctx, const char *text,
		      size_t len, const char *label);

#endif /* SP_DATA_MEM_H */
