/*
 * sp_read_text.h: the built-in readers of text formats, each in its own
 * file: lines (sp_read_lines.c), conll (sp_read_conll.c), tsv
 * (sp_read_tsv.c).  Each is a reader component (sp_reader_ops, the [data]
 * keys it takes) and a function taking the options as a struct, which
 * sp_corpus_read calls.  The formats and their errors are described at
 * sp_corpus_read (sp_data.h).  Host-only (not installed).
 */
#ifndef SP_READ_TEXT_H
#define SP_READ_TEXT_H

#include "sp_data.h"
#include "sp_plugin.h"

extern const sp_reader_ops sp_reader_lines;
extern const sp_reader_ops sp_reader_conll;
extern const sp_reader_ops sp_reader_tsv;

/* opts are checked and complete (ceilings set); examples go to env. */
int sp_read_lines(sp_ctx *ctx, const char *path, const sp_data_opts *opts,
		  const sp_read_env *env);
int sp_read_conll(sp_ctx *ctx, const char *path, const sp_data_opts *opts,
		  const sp_read_env *env);
int sp_read_tsv(sp_ctx *ctx, const char *path, const sp_data_opts *opts,
		const sp_read_env *env);

/* The reader options of the [data] keys in args (max_examples is the
 * host's, not set here). */
void sp_read_text_opts(sp_data_opts *o, const sp_kv *args,
		       const sp_read_env *env);

#endif /* SP_READ_TEXT_H */
