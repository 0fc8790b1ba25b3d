/*
 * sp_module.h: a plugin module's file, read before it is opened (host only,
 * not installed).
 *
 * What the registry learns without running any of the module's code: which
 * shared object a libtool `.la` file names, and the plugin ABI that
 * SP_PLUGIN_DEFINE recorded in the object's ELF note ".note.seqpipe".  And
 * the one step that does run its code: opening it with every symbol
 * resolved, so that a symbol nothing defines is an error at load naming the
 * symbol, not a crash in the middle of a run (libltdl binds lazily).
 */
#ifndef SP_MODULE_H
#define SP_MODULE_H

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The shared object behind `path`: for "dir/x.la" the file its dlname
 * names (dir/.libs/ first when the .la says installed=no, as libtool's
 * uninstalled layout has it, else dir/), for any other file a copy of
 * path.  Caller frees *out.  SP_EINPUT when the .la is not a libtool
 * module file or its object is missing (the message says which). */
int sp_module_resolve(char **out, sp_ctx *ctx, const char *path);

/* Reads the ABI note of the shared object `file` without loading it:
 * *out_abi = the recorded SP_ABI_VERSION and 1 when the note is there, 0
 * when the object has none (built before the note existed, or not ELF),
 * negative with a message when the file cannot be read or its note is
 * malformed. */
int sp_module_abi_note(sp_ctx *ctx, const char *file, int *out_abi);

/* Opens `file` with every symbol bound now (dlopen RTLD_NOW | RTLD_LOCAL),
 * which runs its constructors; *out is the dlopen handle, for
 * sp_module_close once libltdl holds the module too.  A symbol neither the
 * module nor its libraries define is SP_EABI naming the symbol; another
 * failure to load is SP_ENOTFOUND with the loader's message. */
int sp_module_open_now(void **out, sp_ctx *ctx, const char *file);
void sp_module_close(void *handle);

#ifdef __cplusplus
}
#endif
#endif /* SP_MODULE_H */
