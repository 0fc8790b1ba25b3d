/*
 * sp_kv_host.h: building and validating the key = value arguments of a
 * stage: the host's side of sp_kv.h (not installed: plugins only read
 * their keys, through sp_kv.h).
 */
#ifndef SP_KV_HOST_H
#define SP_KV_HOST_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_kv.h"
#include "sp_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Empty set for the section `section` (caller owns; sp_kv_free). */
int sp_kv_new(sp_kv **out, const char *section);
void sp_kv_free(sp_kv *kv);
/* Adds or replaces key with the raw value text as written (`quoted` says
 * whether it was a "string"), remembering where it came from. */
int sp_kv_set(sp_kv *kv, sp_ctx *ctx, const char *key, const char *text,
	      int quoted, const char *where);
/* Checks every key against spec (NULL-terminated), converts values to
 * their types, resolves paths against base_dir, adds defaults.  On error
 * the message names where the bad value came from and what was expected. */
int sp_kv_validate(sp_kv *kv, sp_ctx *ctx, const sp_param_spec *spec,
		   const char *base_dir);
/* Iteration in key order, for logging the resolved configuration. */
size_t sp_kv_count(const sp_kv *kv);
const char *sp_kv_key_at(const sp_kv *kv, size_t i);
/* The value as canonical text ("3", "0.1", "true", "hello") (borrowed). */
const char *sp_kv_text_at(const sp_kv *kv, size_t i);
const char *sp_kv_section(const sp_kv *kv);

/* --- for the .pipe parser (sp_pipe.c) ----------------------------- */

/* Before sp_kv_validate, sp_kv_str and sp_kv_text_at give the raw text as
 * written (so the host can read `plugin` before it knows the spec) and the
 * typed getters give 0.  sp_kv_float also reads SP_T_INT keys. */

/* As sp_kv_set, also remembering where the key itself was written
 * (key_where; NULL means the same as where): an unknown key is reported
 * at the key, a bad value at the value. */
int sp_kv_set_at(sp_kv *kv, sp_ctx *ctx, const char *key, const char *text,
		 int quoted, const char *where, const char *key_where);
/* Where the key (not its value) was written (borrowed; NULL if absent). */
const char *sp_kv_key_where(const sp_kv *kv, const char *key);
/* Where the section's header is ("hello.pipe:10:1"), named by "missing
 * key" errors; copied.  Without one they name just the section. */
int sp_kv_set_section_where(sp_kv *kv, sp_ctx *ctx, const char *where);
const char *sp_kv_section_where(const sp_kv *kv);
/* Where the i-th value (in key order) came from (borrowed). */
const char *sp_kv_where_at(const sp_kv *kv, size_t i);
/* The number syntax of .pipe values, shared by the parser and the
 * validator: [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?.
 * Returns 1 for an integer (digits only), 2 for a float, 0 otherwise
 * (so "nan", "inf", "0x10" and " 1" are not numbers). */
int sp_kv_number_syntax(const char *s, size_t len);
/* Of the n names in cand, the one nearest to word if it is 1 or 2 edits
 * away (for "did you mean" hints), else NULL (borrowed from cand). */
const char *sp_kv_suggest(const char *word, const char *const *cand,
			  size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SP_KV_HOST_H */
