/*
 * sp_pipe.h: the .pipe file parser.
 *
 * A .pipe file is [section] headers followed by `key = value` lines, with
 * '#' comments (doc/pipe-format.md).  The parser checks the syntax, that
 * each section is one of pipeline, data, tokenize, encode, model (and
 * model2..model4, stacked model stages), head,
 * train and appears at most once, and that no key repeats within a
 * section.  It yields one sp_kv per section, in file order, holding the
 * raw values with where-strings "FILE:LINE:COL" (1-based, columns in
 * bytes).
 *
 * It is not a validator: it knows nothing of plugins or of which keys a
 * section accepts.  The host looks up the component a section names
 * (sp_kv_str(kv, "plugin")) and checks the section against its spec with
 * sp_kv_validate(kv, ctx, spec, sp_pipe_dir(pipe)).
 *
 * Every syntax error is SP_EINVAL with a message of the form
 *   "FILE:LINE:COL: <what was wrong>, expected <what>"
 * and a malformed override "--set TEXT: <what was wrong>, expected <what>".
 */
#ifndef SP_PIPE_H
#define SP_PIPE_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_kv_host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_pipe sp_pipe;

/* The ceiling of a .pipe file's size: a real one is a few kB, and one
 * that is /dev/zero must not be read until memory runs out. */
#define SP_PIPE_MAX_BYTES (1 << 20)

/* Reads and parses the file at `path` (caller owns *out; free with
 * sp_pipe_free).  A file that cannot be read is SP_EIO with
 * "PATH: cannot open: <reason>"; where-strings start with `path` as given.
 * A file of more than SP_PIPE_MAX_BYTES is SP_EINPUT "PATH: more than
 * 1048576 bytes, the ceiling of a .pipe file". */
int sp_pipe_parse_file(sp_pipe **out, sp_ctx *ctx, const char *path);
/* Parses text[0..len) as if it were the file `name` (used in messages and
 * where-strings, and for sp_pipe_dir).  text is copied (caller owns *out;
 * free with sp_pipe_free). */
int sp_pipe_parse_mem(sp_pipe **out, sp_ctx *ctx, const char *name,
		      const char *text, size_t len);
void sp_pipe_free(sp_pipe *pipe);

/* The name or path given to the parse function (borrowed). */
const char *sp_pipe_name(const sp_pipe *pipe);
/* The text exactly as read, BOM and CRLF included, for the run log and
 * hashing; NUL-terminated, its length in *len when len != NULL
 * (borrowed). */
const char *sp_pipe_text(const sp_pipe *pipe, size_t *len);
/* The folder of the file ("pipelines" for "pipelines/ner.pipe", "." for
 * "ner.pipe"): the base of relative paths in it (borrowed). */
const char *sp_pipe_dir(const sp_pipe *pipe);

/* Sections in file order; sections added by overrides come last.  The
 * sp_kv are borrowed and valid while pipe lives; the host may validate
 * them in place.  sp_kv_section(kv) is the name, sp_kv_section_where(kv)
 * where the header is. */
size_t sp_pipe_count(const sp_pipe *pipe);
sp_kv *sp_pipe_section_at(const sp_pipe *pipe, size_t i);
/* The section called `name`, or NULL when the file has none. */
sp_kv *sp_pipe_section(const sp_pipe *pipe, const char *name);

/* The section called `name`, created empty (after the others) when the
 * file has none, so that the host can validate it and fill in defaults.
 * A created section's where is the file name, so a missing required key
 * reads "hello.pipe: missing key 'x' in [train], ...".  An unknown name is
 * SP_EINVAL.  *out is borrowed like sp_pipe_section's. */
int sp_pipe_section_ensure(sp_pipe *pipe, sp_ctx *ctx, const char *name,
			   sp_kv **out);

/* Applies one --set override "section.key=value" (spaces around '=' are
 * allowed; the value has the file's value syntax, with no comment).  It
 * replaces the key's value, or adds the key, or creates the section; the
 * where-string of what it sets is "--set TEXT".  Apply overrides before
 * sp_kv_validate. */
int sp_pipe_override(sp_pipe *pipe, sp_ctx *ctx, const char *text);
/* The section and key an override "section.key=value" would set, read
 * as sp_pipe_override reads them (and refused with its errors): *section
 * is a static name, *key the caller's to free.  The value is not read. */
int sp_pipe_override_target(sp_ctx *ctx, const char *text, const char **section,
			    char **key);

#ifdef __cplusplus
}
#endif
#endif /* SP_PIPE_H */
