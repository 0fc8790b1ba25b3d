/*
 * sp_vocab.h: vocabularies: token <-> dense id, with counts, and their
 * store in SQLite.
 *
 * Ids are dense from 0.  Special tokens (<pad>, <unk>, <s>, </s>) are
 * ordinary entries that the vocabulary knows the ids of; a vocabulary may
 * have none of them (the course's "hello" vocabulary is exactly {h,e,l,o}).
 * "One-hot" is the interface: id i stands for the V-wide vector with a 1 at
 * i, which no code ever materialises.
 *
 * Tokens are byte strings (UTF-8 in practice; not validated here) of at
 * least one byte and without NUL bytes, so every token is also a C string.
 * Counts are informative (`pipeline vocab`) and do not enter the hash.
 *
 * Not here: tokenizing, case mapping (tokenizers), and the mapping of
 * unknown tokens to <unk> (encoders, e.g. plugins/onehot.c).
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
#define SP_SPECIAL_N 4

/* "pad", "unk", "bos", "eos" (static), or NULL for another value. */
const char *sp_special_name(sp_special which);
/* The token text sp_vocab_build gives a special: "<pad>", "<unk>", "<s>",
 * "</s>" (static), or NULL for another value. */
const char *sp_special_token(sp_special which);

/* Empty vocabulary (caller owns; sp_vocab_free). */
int sp_vocab_new(sp_vocab **out);
void sp_vocab_free(sp_vocab *v);
/* Deep copy (caller owns). */
int sp_vocab_clone(sp_vocab **out, const sp_vocab *v);

/* Appends tok with the given count (>= 0) and returns its id in *out_id
 * (may be NULL).  SP_EINVAL for a token already present, an empty token,
 * or one containing a NUL byte. */
int sp_vocab_add(sp_vocab *v, sp_ctx *ctx, const char *tok, size_t len,
		 int64_t count, int32_t *out_id);
/* Marks an existing id as a special token; id -1 unmarks.  One id may
 * hold several roles (bos = eos is common). */
int sp_vocab_set_special(sp_vocab *v, sp_ctx *ctx, sp_special which,
			 int32_t id);

/* Getters accept NULL (an empty vocabulary). */
size_t sp_vocab_size(const sp_vocab *v);
/* Id of tok, or -1. */
int32_t sp_vocab_id(const sp_vocab *v, const char *tok, size_t len);
/* Token of id (NUL-terminated, borrowed; valid until v is freed), or NULL
 * when out of range. */
const char *sp_vocab_token(const sp_vocab *v, int32_t id);
/* Count of id, or -1 when out of range. */
int64_t sp_vocab_count(const sp_vocab *v, int32_t id);
/* Id of a special token, or -1 when the vocabulary has none. */
int32_t sp_vocab_special(const sp_vocab *v, sp_special which);
/* FNV-1a 64 over tokens and specials: equal vocabularies, equal hashes.
 * The bytes hashed are: the size as 8 bytes little-endian; each token in
 * id order followed by one 0 byte; the ids of pad, unk, bos, eos as 4
 * bytes little-endian each (-1 for none).  Stable across platforms, since
 * it is stored in the vocabulary store and compared on load. */
uint64_t sp_vocab_hash(const sp_vocab *v);

/*
 * Counting tokens, then building a vocabulary from the counts: specials
 * first (in the order given), then tokens with count >= min_count by
 * descending count (ties: first seen first), at most max_size entries in
 * all (0 = no limit).
 *
 * A special's token text is sp_special_token(which).  When the text itself
 * was counted (corpora such as PTB contain "<unk>"), the special takes its
 * count and the token is not listed a second time; a special never seen
 * has count 0.  SP_EINVAL for min_count < 1, a special listed twice, or
 * max_size (when not 0) smaller than n_specials.
 */
typedef struct sp_vocab_counter sp_vocab_counter;
/* Empty counter (caller owns; sp_vocab_counter_free). */
int sp_vocab_counter_new(sp_vocab_counter **out);
void sp_vocab_counter_free(sp_vocab_counter *c);
/* Counts one occurrence; the token rules are those of sp_vocab_add. */
int sp_vocab_counter_add(sp_vocab_counter *c, sp_ctx *ctx, const char *tok,
			 size_t len);
/* Number of distinct tokens counted so far. */
size_t sp_vocab_counter_size(const sp_vocab_counter *c);
/* The counts as a vocabulary in first-seen order (borrowed; valid until
 * the next add or free): sp_vocab_token and sp_vocab_count read it. */
const sp_vocab *sp_vocab_counter_view(const sp_vocab_counter *c);
/* specials: which of pad, unk, bos, eos to include (array of n_specials).
 * New vocabulary (caller owns; sp_vocab_free). */
int sp_vocab_build(sp_vocab **out, sp_ctx *ctx, const sp_vocab_counter *c,
		   int64_t min_count, size_t max_size,
		   const sp_special *specials, size_t n_specials);
/* The same into v, which must be empty (no tokens, no specials); this is
 * what an encoder's finish() does with the host's vocabulary.  On error v
 * is left empty. */
int sp_vocab_build_into(sp_vocab *v, sp_ctx *ctx, const sp_vocab_counter *c,
			int64_t min_count, size_t max_size,
			const sp_special *specials, size_t n_specials);

/* Order of the non-special tokens: by descending count (ties: first seen
 * first), or in the order they first appear in the training data (the
 * course's {h, e, l, o} for "hello").  max_size keeps the most frequent
 * either way. */
typedef enum sp_vocab_order {
	SP_VOCAB_BY_COUNT = 0,
	SP_VOCAB_FIRST_SEEN = 1
} sp_vocab_order;
int sp_vocab_build_ordered(sp_vocab *v, sp_ctx *ctx,
			   const sp_vocab_counter *c, int64_t min_count,
			   size_t max_size, const sp_special *specials,
			   size_t n_specials, sp_vocab_order order);

/* --- the SQLite store (many named vocabularies in one file) --------- */

/*
 * The store is an SQLite file marked by PRAGMA application_id =
 * SP_VOCAB_STORE_APPID and user_version = SP_VOCAB_STORE_VERSION; its
 * schema is sp_vocab_schema() (also vocab/schema.sql).  It runs in WAL mode
 * with a 5 s busy timeout, so two runs can share one file.
 *
 * Errors: a file that is not SQLite, or an SQLite file of another
 * application, is SP_EINPUT naming the file; a store made by a newer
 * seqpipe (higher user_version) is SP_EINPUT; other SQLite failures are
 * SP_EDB; a missing file is SP_ENOTFOUND for load and list (so "load, or
 * build and save" needs no special case), and is created by save.  An
 * empty file, or an SQLite database without any table, is an empty store.
 */
#define SP_VOCAB_STORE_APPID 0x53507662 /* "SPvb" */
#define SP_VOCAB_STORE_VERSION 1

/* The schema SQL (static), executed when save initialises a new store. */
const char *sp_vocab_schema(void);

/* Saves v under `name` in one transaction, replacing a vocabulary of that
 * name (its `created` time becomes now). */
int sp_vocab_save(const sp_vocab *v, sp_ctx *ctx, const char *db_path,
		  const char *name);
/* Loads vocabulary `name` (caller owns); SP_ENOTFOUND when absent.  The
 * stored hash is checked: a mismatch (an edited store) is SP_EINPUT. */
int sp_vocab_load(sp_vocab **out, sp_ctx *ctx, const char *db_path,
		  const char *name);

/* Calls fn for every vocabulary of the store, by name: its size, creation
 * time (UTC, "2024-05-01T12:00:00Z") and hash (16 hex digits), all
 * borrowed for the call.  fn returns 0 to continue or a negative SP_E*
 * code to stop, which sp_vocab_list returns. */
typedef int (*sp_vocab_list_fn)(void *payload, const char *name, size_t size,
				const char *created, const char *hash);
int sp_vocab_list(sp_ctx *ctx, const char *db_path, sp_vocab_list_fn fn,
		  void *payload);

#ifdef __cplusplus
}
#endif
#endif /* SP_VOCAB_H */
