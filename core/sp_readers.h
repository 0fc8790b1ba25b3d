/*
 * sp_readers.h: data formats as components.  `[data] format = NAME`
 * names a reader (sp_reader_ops, sp_plugin.h): one of the built-in
 * readers below, or a plugin's, as "module.name" (or a bare name that an
 * open module defines).  A built-in name always means the built-in, so a
 * module cannot silently replace one.
 *
 * Built-in readers, one file each:
 *   lines      sp_read_lines.c    conll      sp_read_conll.c
 *   tsv        sp_read_tsv.c      parallel   sp_read_parallel.c
 *   synthetic  sp_read_synth.c    ptb        sp_read_ptb.c
 * The DNA formats fasta and genbank come as a reader plugin
 * (plugins/dnaread.c), found by their bare names as a shipped module.
 * Host-only (not installed).
 */
#ifndef SP_READERS_H
#define SP_READERS_H

#include <stdint.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_plugin.h"
#include "sp_registry.h"

extern const sp_reader_ops sp_reader_parallel;
extern const sp_reader_ops sp_reader_synthetic;
extern const sp_reader_ops sp_reader_ptb;

/* The reader `name` (borrowed, static or from reg's modules; reg may be
 * NULL for the built-ins only).  An unknown name is SP_EINVAL
 * "WHERE: data.format = NAME is not a data format, expected one of: lines,
 * conll, ...". */
int sp_reader_find(const sp_reader_ops **out, sp_ctx *ctx, sp_registry *reg,
		   const char *name, const char *where);
/* The built-in readers, NULL-terminated. */
const sp_reader_ops *const *sp_readers_builtin(void);

/* host keys, then the reader's keys that the host does not have
 * ({NULL}-terminated; caller frees *out). */
int sp_reader_spec(const sp_reader_ops *r, sp_ctx *ctx,
		   const sp_param_spec *host, sp_param_spec **out);

/* The label field a head may read from the reader's examples: a label
 * per token, per text, a second sequence, or none (SP_LABELS_NEXT_TOKEN). */
sp_label_field sp_reader_label_field(const sp_reader_ops *r);

/*
 * Reads split `split` ("train", "dev", "test") from `path` with the
 * validated [data] keys args (max_examples is read there), into a new
 * corpus (caller owns *out).  A generated reader's dev or test split
 * without examples gives *out = NULL; any other split without examples
 * is SP_EINPUT "PATH: no examples (FORMAT format)".
 */
int sp_reader_read(sp_corpus **out, sp_ctx *ctx, const sp_reader_ops *r,
		   const sp_kv *args, const char *path, const char *split,
		   uint64_t seed);

#endif /* SP_READERS_H */
