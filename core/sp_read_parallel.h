/*
 * sp_read_parallel.h: [data] format = parallel, a text and its
 * translation per example, read through sp_parallel into a corpus whose
 * examples carry a second text (sp_corpus_target).
 *
 * Keys of [data] (see doc/pipe-format.md):
 *   src_suffix, tgt_suffix  both set: two line-aligned files per split,
 *                           PATH.SRC_SUFFIX and PATH.TGT_SUFFIX (`.gz`
 *                           read through zlib); their line counts must be
 *                           equal, else the error names both files and
 *                           both counts;
 *                           both empty: one tab-separated file, the text
 *                           in text_column, the translation in
 *                           label_column (-1: column 1);
 *   skip_bad                drop pairs with an empty side (else such a
 *                           pair is an error naming FILE:LINE);
 *   max_examples            stop after this many pairs (0 = all).
 * Host-only (not installed).
 */
#ifndef SP_READ_PARALLEL_H
#define SP_READ_PARALLEL_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_kv.h"

/* Reads split file `path` with the [data] keys of kv (caller owns *out;
 * free with sp_corpus_free).  *skipped gets the pairs dropped by
 * skip_bad (may be NULL). */
int sp_read_parallel(sp_corpus **out, sp_ctx *ctx, const char *path,
		     const sp_kv *kv, size_t *skipped);

#endif /* SP_READ_PARALLEL_H */
