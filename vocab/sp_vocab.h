/*
 * sp_vocab.h: vocabularies: token <-> dense id, with counts, and their
 * store in SQLite.
 *
 * Ids are dense from 0.  Special tokens (<pad>, <unk>, <s>, </s>) are
 * ordinary entries that the vocabulary knows the ids of; a vocabulary may
 * have none of them (the course's "hello" vocabulary is exactly {h,e,l,o}).
 * "One-hot" is the interface: id i stands for the V-wide vector with a 1 at
 * i, which no code ever materialises.
 */
#ifndef SP_VOCAB_H
#define SP_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_vocab sp_vocab;

typedef enum sp_special {
	SP_SPECIAL_PAD = 0,
	SP_SPECIAL_UNK = 1,
	SP_SPECIAL_BOS = 2,
	SP_SPECIAL_EOS = 3
} sp_special;

/* Empty vocabulary (caller owns; sp_vocab_free). */
int sp_vocab_new(sp_vocab **out);
void sp_vocab_free(sp_vocab *v);
/* Deep copy (caller owns). */
int sp_vocab_clone(sp_vocab **out, const sp_vocab *v);

/* Appends tok with the given count and returns its id in *out_id (may be
 * NULL); a token already present is SP_EINVAL. */
int sp_vocab_add(sp_vocab *v, sp_ctx *ctx, const char *tok, size_t len,
		 int64_t count, int32_t *out_id);
/* Marks an existing id as a special token. */
int sp_vocab_set_special(sp_vocab *v, sp_ctx *ctx, sp_special which,
			 int32_t id);

size_t sp_vocab_size(const sp_vocab *v);
/* Id of tok, or -1. */
int32_t sp_vocab_id(const sp_vocab *v, const char *tok, size_t len);
/* Token of id (NUL-terminated, borrowed), or NULL when out of range. */
const char *sp_vocab_token(const sp_vocab *v, int32_t id);
int64_t sp_vocab_count(const sp_vocab *v, int32_t id);
/* Id of a special token, or -1 when the vocabulary has none. */
int32_t sp_vocab_special(const sp_vocab *v, sp_special which);
/* FNV-1a 64 over tokens and specials: equal vocabularies, equal hashes. */
uint64_t sp_vocab_hash(const sp_vocab *v);

/*
 * Counting tokens, then building a vocabulary from the counts: specials
 * first (in the order given), then tokens with count >= min_count by
 * descending count (ties: first seen first), at most max_size entries in
 * all (0 = no limit).
 */
typedef struct sp_vocab_counter sp_vocab_counter;
int sp_vocab_counter_new(sp_vocab_counter **out);
void sp_vocab_counter_free(sp_vocab_counter *c);
int sp_vocab_counter_add(sp_vocab_counter *c, sp_ctx *ctx, const char *tok,
			 size_t len);
/* specials: which of pad, unk, bos, eos to include (array of n_specials). */
int sp_vocab_build(sp_vocab **out, sp_ctx *ctx, const sp_vocab_counter *c,
		   int64_t min_count, size_t max_size,
		   const sp_special *specials, size_t n_specials);

/* --- the SQLite store (many named vocabularies in one file) --------- */

/* Saves v under `name`, replacing a vocabulary of that name. */
int sp_vocab_save(const sp_vocab *v, sp_ctx *ctx, const char *db_path,
		  const char *name);
/* Loads vocabulary `name` (caller owns); SP_ENOTFOUND when absent. */
int sp_vocab_load(sp_vocab **out, sp_ctx *ctx, const char *db_path,
		  const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SP_VOCAB_H */
