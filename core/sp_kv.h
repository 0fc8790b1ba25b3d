/*
 * sp_kv.h: the validated key = value arguments of one .pipe stage.
 *
 * The host builds an sp_kv from a section of a .pipe file (plus --set
 * overrides), checks it against the component's sp_param_spec list
 * (unknown keys, wrong types, values outside `choices` are errors naming
 * file:line:column) and fills in the defaults, so a plugin can read every
 * key of its spec without checking for presence or type.
 *
 * The getters below are for keys of the stage's spec; asking for any other
 * key is a programming error and returns 0 / NULL.  Building and checking
 * an sp_kv is the host's business (core/sp_kv_host.h, not installed).
 */
#ifndef SP_KV_H
#define SP_KV_H

#include <stddef.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_kv sp_kv;

long sp_kv_int(const sp_kv *kv, const char *key);
double sp_kv_float(const sp_kv *kv, const char *key);
int sp_kv_bool(const sp_kv *kv, const char *key);
/* Strings and paths (paths are already resolved relative to the .pipe
 * file's folder).  Borrowed; valid while kv lives. */
const char *sp_kv_str(const sp_kv *kv, const char *key);
/* Where the value came from, for messages: "pipelines/ner.pipe:12:9",
 * "--set model.hidden=3" or "default" (borrowed). */
const char *sp_kv_where(const sp_kv *kv, const char *key);

#ifdef __cplusplus
}
#endif
#endif /* SP_KV_H */
