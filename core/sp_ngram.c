/*
 * sp_ngram.c: an open-addressing hash table (linear probing, power-of-two
 * capacity, load <= 1/2) keyed by (order, bytes).  Entries of an older
 * generation count as empty, which makes reset O(1).
 */
#include "sp_ngram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_hash.h"

typedef struct entry {
	const char *key;
	size_t len;
	uint64_t hash;
	uint32_t gen; /* the table's generation when filled; else empty */
	uint32_t n;
	int64_t ref;  /* occurrences in the reference */
	int64_t hyp;  /* occurrences offered from the hypothesis so far */
} entry;

struct sp_ngrams {
	entry *tab;
	size_t cap; /* power of two */
	size_t used;
	uint32_t gen;
};

int sp_ngrams_new(sp_ngrams **out, sp_ctx *ctx)
{
	sp_ngrams *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return sp_err(ctx, SP_ENOMEM, "n-gram table: out of memory");
	t->gen = 1;
	*out = t;
	return SP_OK;
}

void sp_ngrams_free(sp_ngrams *t)
{
	if (!t)
		return;
	free(t->tab);
	free(t);
}

int sp_ngrams_reset(sp_ngrams *t, sp_ctx *ctx, size_t expected)
{
	size_t cap = t->cap ? t->cap : 64;
	while (cap < 2 * expected + 2)
		cap *= 2;
	t->used = 0;
	if (cap > t->cap || t->gen == UINT32_MAX) {
		entry *tab = calloc(cap, sizeof(*tab));
		if (!tab)
			return sp_err(ctx, SP_ENOMEM, "n-gram table: out of memory (%zu entries)", cap);
		free(t->tab);
		t->tab = tab;
		t->cap = cap;
		t->gen = 0;
	}
	t->gen++;
	return SP_OK;
}

/* The entry of (s, len, n): found, or the empty slot where it belongs. */
static entry *slot(sp_ngrams *t, const char *s, size_t len, unsigned n)
{
	uint64_t h = sp_hash_fnv1a64(s, len) ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
	size_t mask = t->cap - 1, i = (size_t)(h ^ (h >> 29)) & mask;
	for (;; i = (i + 1) & mask) {
		entry *e = &t->tab[i];
		if (e->gen != t->gen) {
			e->gen = t->gen;
			e->key = s;
			e->len = len;
			e->hash = h;
			e->n = n;
			e->ref = e->hyp = 0;
			t->used++;
			return e;
		}
		if (e->hash == h && e->n == n && e->len == len && memcmp(e->key, s, len) == 0)
			return e;
	}
}

void sp_ngrams_add_ref(sp_ngrams *t, const char *s, size_t len, unsigned n)
{
	slot(t, s, len, n)->ref++;
}

int sp_ngrams_offer_hyp(sp_ngrams *t, const char *s, size_t len, unsigned n)
{
	entry *e = slot(t, s, len, n);
	return ++e->hyp <= e->ref;
}
