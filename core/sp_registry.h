/*
 * sp_registry.h: finding, loading and checking plugin modules (libltdl).
 *
 * A registry owns every module it opened and closes them only in
 * sp_registry_free, after the caller destroyed every component instance
 * (code of a closed module must never run again).  Modules are searched in
 * the directories added with sp_registry_add_dir, in the order added; the
 * first directory holding a module of a given name wins.
 *
 * Checks on load.  Before any of the module's code runs: the ABI in its
 * ELF note (SP_PLUGIN_DEFINE writes it) equals SP_ABI_VERSION.  Then the
 * module is opened with every symbol bound (its constructors run here): a
 * symbol nothing defines refuses it, naming the symbol.  Then, through its
 * entry function: the module exports <name>_LTX_sp_plugin_entry (or
 * sp_plugin_entry), the descriptor's ABI equals SP_ABI_VERSION (the only
 * ABI check for modules built before the note), its name equals the
 * module's file name, and each component's ops table is at least as large
 * as this host's.
 *
 * Which modules are opened: a component named "module.component" opens
 * that module only; a bare "component" is searched in the built-in modules
 * (sp_registry_set_builtins) and the modules already open, never in a
 * module nobody named, so a module dropped on the search path changes no
 * pipeline that does not name it.  Two open modules defining the searched
 * name is an error naming both files.  Listing (sp_registry_load_all) opens
 * every module.
 */
#ifndef SP_REGISTRY_H
#define SP_REGISTRY_H

#include "sp_ctx.h"
#include "sp_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_registry sp_registry;

/* Caller owns; free with sp_registry_free. */
int sp_registry_new(sp_registry **out, sp_ctx *ctx);
void sp_registry_free(sp_registry *reg);

/* Appends dir to the search path (a missing directory is skipped later,
 * not an error here).  `origin` says why it is there, for messages:
 * "SEQPIPE_PLUGIN_PATH", "build tree", "install dir". */
int sp_registry_add_dir(sp_registry *reg, sp_ctx *ctx, const char *dir,
			const char *origin);
/* The search path as one line "dir (origin), dir (origin)" (borrowed). */
const char *sp_registry_search_path(sp_registry *reg);

/* Loads module `name` (e.g. "rnn") from the search path, or from a file
 * when name contains '/'.  *out is borrowed from the registry. */
int sp_registry_load(sp_registry *reg, sp_ctx *ctx, const char *name,
		     const sp_plugin **out);
/* Loads every module in the search path.  Modules that fail to load are
 * reported through sp_log as warnings and skipped, as is each component
 * name two modules define; returns the number of such failures and clashes
 * (>= 0) or a negative code (SP_ENOMEM: out of memory, which skips no
 * module silently). */
int sp_registry_load_all(sp_registry *reg, sp_ctx *ctx);

/* The modules a bare component name is searched in: `names` is a
 * space-separated list ("tokenizers onehot rnn heads"), opened by name
 * from the search path at the first bare lookup. */
int sp_registry_set_builtins(sp_registry *reg, sp_ctx *ctx, const char *names);

/* Finds a component of `kind` by "module.name" (that module only) or
 * "name" (the built-in modules and those already open; defined by two of
 * them is SP_EINVAL naming both files).  Borrowed results. */
int sp_registry_find(sp_registry *reg, sp_ctx *ctx, sp_kind kind,
		     const char *name, const sp_component **out,
		     const sp_plugin **out_plugin);

/* Loaded modules, for `pipeline plugins`. */
size_t sp_registry_count(const sp_registry *reg);
const sp_plugin *sp_registry_plugin_at(const sp_registry *reg, size_t i);
/* The file the module came from (borrowed). */
const char *sp_registry_path_at(const sp_registry *reg, size_t i);

const char *sp_kind_name(sp_kind kind);

#ifdef __cplusplus
}
#endif
#endif /* SP_REGISTRY_H */
