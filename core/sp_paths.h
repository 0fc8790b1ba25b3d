/*
 * sp_paths.h: the file-system chores of a run: absolute paths for the
 * run log, the folders of a model file, copying a file.  Host-only.
 */
#ifndef SP_PATHS_H
#define SP_PATHS_H

#include <stddef.h>

#include "sp_ctx.h"

/* path made absolute into out[n], so a run log read from another folder
 * still finds the files it names (the file itself need not exist yet);
 * path itself when that fails. */
void sp_path_absolute(char *out, size_t n, const char *path);
/* Makes the folders of path ("models/x.spm" -> "models"). */
int sp_path_make_parents(sp_ctx *ctx, const char *path);
/* Copies file src to dst. */
int sp_path_copy(sp_ctx *ctx, const char *src, const char *dst);

#endif /* SP_PATHS_H */
