/*
 * sp_bpe.c: byte-pair encoding with sentencepiece-style marking (see
 * sp_bpe.h for the contract).
 *
 * Data: symbols (and, while learning, distinct words) are interned in a
 * string table; a word is an array of symbol ids; pair counts and merge
 * ranks live in a hash map keyed by the two ids.  All tables are open
 * addressing with power-of-two capacity and load <= 1/2.
 */
#include "sp_bpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_hash.h"

#define MARK_LEN 3

/* ---- an interning string table ------------------------------------------ */

typedef struct strtab {
	sp_buf arena;   /* the strings, each followed by a NUL */
	size_t *off;    /* id -> offset in arena */
	size_t *len;    /* id -> length */
	size_t n, cap;  /* ids */
	int32_t *slots; /* hash slots: id or -1 */
	size_t n_slots;
} strtab;

static void strtab_free(strtab *t)
{
	sp_buf_free(&t->arena);
	free(t->off);
	free(t->len);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static const char *strtab_str(const strtab *t, int32_t id) { return t->arena.p + t->off[id]; }

static size_t strtab_slot(const strtab *t, const char *s, size_t n)
{
	size_t mask = t->n_slots - 1, i = (size_t)sp_hash_fnv1a64(s, n) & mask;
	for (;; i = (i + 1) & mask) {
		int32_t id = t->slots[i];
		if (id < 0 || (t->len[id] == n && memcmp(strtab_str(t, id), s, n) == 0))
			return i;
	}
}

/* id of s[0..n), or -1 */
static int32_t strtab_find(const strtab *t, const char *s, size_t n)
{
	return t->n_slots ? t->slots[strtab_slot(t, s, n)] : -1;
}

static int strtab_grow(strtab *t, sp_ctx *ctx)
{
	size_t ns = t->n_slots ? 2 * t->n_slots : 1024;
	int32_t *slots = malloc(ns * sizeof(*slots));
	if (!slots)
		return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
	for (size_t i = 0; i < ns; i++)
		slots[i] = -1;
	free(t->slots);
	t->slots = slots;
	t->n_slots = ns;
	for (size_t id = 0; id < t->n; id++)
		t->slots[strtab_slot(t, strtab_str(t, (int32_t)id), t->len[id])] = (int32_t)id;
	return SP_OK;
}

static int strtab_intern(strtab *t, sp_ctx *ctx, const char *s, size_t n, int32_t *id)
{
	size_t slot;
	int rc;
	if (2 * (t->n + 1) > t->n_slots && (rc = strtab_grow(t, ctx)) < 0)
		return rc;
	slot = strtab_slot(t, s, n);
	if (t->slots[slot] >= 0) {
		*id = t->slots[slot];
		return SP_OK;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		size_t *off = realloc(t->off, cap * sizeof(*off)), *len;
		if (!off)
			return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
		t->off = off;
		if (!(len = realloc(t->len, cap * sizeof(*len))))
			return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
		t->len = len;
		t->cap = cap;
	}
	t->off[t->n] = t->arena.len;
	t->len[t->n] = n;
	if ((rc = sp_buf_reserve(&t->arena, ctx, n + 1)) < 0)
		return rc; /* (s never points into this arena) */
	memcpy(t->arena.p + t->arena.len, s, n);
	t->arena.len += n;
	t->arena.p[t->arena.len++] = '\0';
	t->slots[slot] = (int32_t)t->n;
	*id = (int32_t)t->n++;
	return SP_OK;
}

/* ---- a map from a symbol pair to a number --------------------------------- */

typedef struct pairmap {
	uint64_t *key; /* (a << 32 | b) + 1; 0 = empty */
	int64_t *val;
	size_t cap;
} pairmap;

static void pairmap_free(pairmap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

static int pairmap_reset(pairmap *m, sp_ctx *ctx, size_t expected)
{
	size_t cap = m->cap ? m->cap : 1024;
	while (cap < 2 * expected + 2)
		cap *= 2;
	if (cap != m->cap) {
		uint64_t *k = malloc(cap * sizeof(*k));
		int64_t *v = malloc(cap * sizeof(*v));
		if (!k || !v) {
			free(k);
			free(v);
			return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
		}
		pairmap_free(m);
		m->key = k;
		m->val = v;
		m->cap = cap;
	}
	memset(m->key, 0, m->cap * sizeof(*m->key));
	return SP_OK;
}

static uint64_t pair_key(int32_t a, int32_t b) { return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1; }

/* The slot of (a, b): its own or the empty one where it belongs. */
static size_t pairmap_slot(const pairmap *m, uint64_t k)
{
	uint64_t h = k * 0x9e3779b97f4a7c15ull;
	size_t mask = m->cap - 1, i = (size_t)(h >> 17) & mask;
	while (m->key[i] && m->key[i] != k)
		i = (i + 1) & mask;
	return i;
}

/* ---- the model --------------------------------------------------------------- */

struct sp_bpe {
	strtab syms;
	int32_t *left, *right, *merged; /* rank -> symbol ids */
	size_t n_merges, cap_merges;
	pairmap ranks;                  /* (left, right) -> rank */
	/* encode scratch: the symbols of one word */
	int32_t *id;
	size_t *start, *end, scratch_cap;
	sp_buf marked;
};

void sp_bpe_opts_init(sp_bpe_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->merges = 8000;
	o->min_count = 2;
}

void sp_bpe_free(sp_bpe *b)
{
	if (!b)
		return;
	strtab_free(&b->syms);
	free(b->left);
	free(b->right);
	free(b->merged);
	pairmap_free(&b->ranks);
	free(b->id);
	free(b->start);
	free(b->end);
	sp_buf_free(&b->marked);
	free(b);
}

size_t sp_bpe_n_merges(const sp_bpe *b) { return b->n_merges; }

void sp_bpe_merge(const sp_bpe *b, size_t rank, const char **left, const char **right)
{
	*left = strtab_str(&b->syms, b->left[rank]);
	*right = strtab_str(&b->syms, b->right[rank]);
}

static int add_merge(sp_bpe *b, sp_ctx *ctx, int32_t l, int32_t r)
{
	char *joined;
	size_t nl = b->syms.len[l], nr = b->syms.len[r];
	int32_t m;
	int rc;
	if (b->n_merges == b->cap_merges) {
		size_t cap = b->cap_merges ? 2 * b->cap_merges : 256;
		int32_t *x = realloc(b->left, cap * sizeof(*x)), *y, *z;
		if (x)
			b->left = x;
		y = x ? realloc(b->right, cap * sizeof(*y)) : NULL;
		if (y)
			b->right = y;
		z = y ? realloc(b->merged, cap * sizeof(*z)) : NULL;
		if (!z)
			return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
		b->merged = z;
		b->cap_merges = cap;
	}
	if (!(joined = malloc(nl + nr)))
		return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
	memcpy(joined, strtab_str(&b->syms, l), nl);
	memcpy(joined + nl, strtab_str(&b->syms, r), nr);
	rc = strtab_intern(&b->syms, ctx, joined, nl + nr, &m);
	free(joined);
	if (rc < 0)
		return rc;
	b->left[b->n_merges] = l;
	b->right[b->n_merges] = r;
	b->merged[b->n_merges++] = m;
	return SP_OK;
}

static int build_ranks(sp_bpe *b, sp_ctx *ctx)
{
	int rc = pairmap_reset(&b->ranks, ctx, b->n_merges);
	if (rc < 0)
		return rc;
	for (size_t r = 0; r < b->n_merges; r++) {
		uint64_t k = pair_key(b->left[r], b->right[r]);
		size_t s = pairmap_slot(&b->ranks, k);
		if (!b->ranks.key[s]) { /* a repeated pair keeps its first rank */
			b->ranks.key[s] = k;
			b->ranks.val[s] = (int64_t)r;
		}
	}
	return SP_OK;
}

/* ---- words ------------------------------------------------------------------- */

/* b->marked = ▁ + text with every ' ' as ▁; SP_EINPUT if text has ▁. */
static int mark(sp_bpe *b, sp_ctx *ctx, const char *text, size_t len)
{
	size_t bad;
	int rc;
	if (sp_utf8_check(text, len, &bad) < 0)
		return sp_err(ctx, SP_EINPUT, "byte %zu: invalid UTF-8", bad + 1);
	sp_buf_clear(&b->marked);
	if ((rc = sp_buf_append(&b->marked, ctx, SP_BPE_MARK, MARK_LEN)) < 0)
		return rc;
	for (size_t i = 0; i < len; i++) {
		if (i + MARK_LEN <= len && memcmp(text + i, SP_BPE_MARK, MARK_LEN) == 0)
			return sp_err(ctx, SP_EINPUT,
				      "byte %zu: U+2581 is the word marker and cannot be encoded", i + 1);
		rc = text[i] == ' ' ? sp_buf_append(&b->marked, ctx, SP_BPE_MARK, MARK_LEN)
				    : sp_buf_append(&b->marked, ctx, text + i, 1);
		if (rc < 0)
			return rc;
	}
	return SP_OK;
}

/* The end of the word starting at i of the marked text (s[0..n)): a word
 * is a run of ▁ then a run of other characters. */
static size_t word_end(const char *s, size_t n, size_t i)
{
	while (i + MARK_LEN <= n && memcmp(s + i, SP_BPE_MARK, MARK_LEN) == 0)
		i += MARK_LEN;
	while (i < n && !(i + MARK_LEN <= n && memcmp(s + i, SP_BPE_MARK, MARK_LEN) == 0))
		i++;
	return i;
}

/* Length of the UTF-8 sequence led by byte c (valid text). */
static size_t cp_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }

/* ---- learning ----------------------------------------------------------------- */

typedef struct corpus {
	strtab words;
	int64_t *count;  /* word id -> occurrences */
	size_t count_cap;
	int32_t *seq;    /* the symbols of every word, word after word */
	size_t *wstart;  /* word id -> first symbol in seq */
	size_t *wlen;    /* word id -> current number of symbols */
} corpus;

static void corpus_free(corpus *c)
{
	strtab_free(&c->words);
	free(c->count);
	free(c->seq);
	free(c->wstart);
	free(c->wlen);
}

static int count_words(sp_bpe *b, sp_ctx *ctx, corpus *c, const char *const *texts,
		       const size_t *lens, size_t n)
{
	int rc;
	for (size_t t = 0; t < n; t++) {
		if ((rc = mark(b, ctx, texts[t], lens[t])) < 0)
			return sp_err_prefix(ctx, rc, "text %zu", t + 1);
		for (size_t i = 0; i < b->marked.len;) {
			size_t e = word_end(b->marked.p, b->marked.len, i);
			int32_t id;
			if ((rc = strtab_intern(&c->words, ctx, b->marked.p + i, e - i, &id)) < 0)
				return rc;
			if ((size_t)id >= c->count_cap) {
				size_t cap = c->count_cap ? 2 * c->count_cap : 1024;
				int64_t *p = realloc(c->count, cap * sizeof(*p));
				if (!p)
					return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
				memset(p + c->count_cap, 0, (cap - c->count_cap) * sizeof(*p));
				c->count = p;
				c->count_cap = cap;
			}
			c->count[id]++;
			i = e;
		}
	}
	return SP_OK;
}

/* Splits every distinct word into character symbols. */
static int split_words(sp_bpe *b, sp_ctx *ctx, corpus *c, size_t *total)
{
	size_t nw = c->words.n, k = 0;
	int rc;
	c->wstart = malloc((nw + 1) * sizeof(*c->wstart));
	c->wlen = malloc((nw + 1) * sizeof(*c->wlen));
	c->seq = malloc((c->words.arena.len + 1) * sizeof(*c->seq));
	if (!c->wstart || !c->wlen || !c->seq)
		return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
	for (size_t w = 0; w < nw; w++) {
		const char *s = strtab_str(&c->words, (int32_t)w);
		c->wstart[w] = k;
		for (size_t i = 0; i < c->words.len[w];) {
			size_t l = cp_len((unsigned char)s[i]);
			if ((rc = strtab_intern(&b->syms, ctx, s + i, l, &c->seq[k++])) < 0)
				return rc;
			i += l;
		}
		c->wlen[w] = k - c->wstart[w];
	}
	*total = k;
	return SP_OK;
}

/* Is pair (a, b) before (c, d) in byte order of left then right symbol? */
static int pair_less(const strtab *t, int32_t a, int32_t b, int32_t c, int32_t d)
{
	int x = strcmp(strtab_str(t, a), strtab_str(t, c));
	return x < 0 || (x == 0 && strcmp(strtab_str(t, b), strtab_str(t, d)) < 0);
}

/*
 * Pair counts kept up to date across merges (the recount of every pair
 * after each merge was quadratic in practice).  Each pair has its count and
 * a list of the words that hold (or held) it; a merge re-counts only the
 * words on the merged pair's list: their pairs are subtracted, the word is
 * merged, its pairs are added back.  Every pair that is new in a word holds
 * the merged symbol, so the word joins only those pairs' lists.  The best
 * pair comes from a max-heap ordered by count, then the byte order of
 * (left, right): the same total order as a full recount, so the merges are
 * the same.  Heap entries are not updated in place; an entry whose count
 * is no longer the pair's is dropped when it reaches the top (re-pushed with
 * the current count if that is lower), and a pair whose count grows during a
 * merge is pushed again.  So every live pair has an entry >= its count, and
 * the top entry whose count is current is the best pair.
 */
typedef struct wnode {
	int32_t word, next; /* a word holding the pair; the next node or -1 */
} wnode;

typedef struct hent {
	int64_t count;
	int32_t pair;
} hent;

typedef struct pairs {
	pairmap index;   /* (left, right) -> pair id */
	size_t n, cap;   /* pair ids */
	int32_t *l, *r;  /* pair id -> symbols */
	int64_t *count;  /* pair id -> occurrences in the corpus */
	int64_t *before; /* count when first touched by the current merge */
	uint32_t *stamp; /* the merge (1-based) that touched it last */
	int32_t *head;   /* first node of its word list, or -1 */
	wnode *node;
	size_t n_node, cap_node;
	hent *heap;
	size_t n_heap, cap_heap;
	int32_t *touched; /* pairs touched by the current merge */
	size_t n_touched;
	uint32_t merge;   /* the current merge, 1-based; 0 while counting */
} pairs;

static void pairs_free(pairs *p)
{
	pairmap_free(&p->index);
	free(p->l);
	free(p->r);
	free(p->count);
	free(p->before);
	free(p->stamp);
	free(p->head);
	free(p->node);
	free(p->heap);
	free(p->touched);
	memset(p, 0, sizeof(*p));
}

#define GROW(ptr, cap)                                                                   \
	do {                                                                             \
		void *grow_ = realloc((ptr), (cap) * sizeof(*(ptr)));                    \
		if (!grow_)                                                              \
			return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");             \
		(ptr) = grow_;                                                           \
	} while (0)

static int pairs_grow(pairs *p, sp_ctx *ctx)
{
	size_t cap = p->cap ? 2 * p->cap : 4096;
	pairmap m = {0};
	int rc;
	GROW(p->l, cap);
	GROW(p->r, cap);
	GROW(p->count, cap);
	GROW(p->before, cap);
	GROW(p->stamp, cap);
	GROW(p->head, cap);
	GROW(p->touched, cap);
	p->cap = cap;
	if ((rc = pairmap_reset(&m, ctx, cap)) < 0)
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		uint64_t k = pair_key(p->l[i], p->r[i]);
		size_t s = pairmap_slot(&m, k);
		m.key[s] = k;
		m.val[s] = (int64_t)i;
	}
	pairmap_free(&p->index);
	p->index = m;
	return SP_OK;
}

/* Adds delta occurrences of (a, b) (found or created); with `link`, word w
 * joins the pair's list unless it was the last to join. */
static int pairs_add(pairs *p, sp_ctx *ctx, int32_t a, int32_t b, int64_t delta, int32_t w,
		     int link)
{
	uint64_t k = pair_key(a, b);
	size_t s;
	int32_t id;
	int rc;
	if (p->n == p->cap && (rc = pairs_grow(p, ctx)) < 0)
		return rc;
	s = pairmap_slot(&p->index, k);
	if (p->index.key[s]) {
		id = (int32_t)p->index.val[s];
	} else {
		id = (int32_t)p->n++;
		p->index.key[s] = k;
		p->index.val[s] = id;
		p->l[id] = a;
		p->r[id] = b;
		p->count[id] = 0;
		p->stamp[id] = 0;
		p->head[id] = -1;
	}
	if (p->stamp[id] != p->merge) {
		p->stamp[id] = p->merge;
		p->before[id] = p->count[id];
		p->touched[p->n_touched++] = id;
	}
	p->count[id] += delta;
	if (link && (p->head[id] < 0 || p->node[p->head[id]].word != w)) {
		if (p->n_node == p->cap_node) {
			p->cap_node = p->cap_node ? 2 * p->cap_node : 4096;
			GROW(p->node, p->cap_node);
		}
		p->node[p->n_node].word = w;
		p->node[p->n_node].next = p->head[id];
		p->head[id] = (int32_t)p->n_node++;
	}
	return SP_OK;
}

static int hent_before(const pairs *p, const strtab *t, hent x, hent y)
{
	return x.count > y.count ||
	       (x.count == y.count && pair_less(t, p->l[x.pair], p->r[x.pair], p->l[y.pair],
						p->r[y.pair]));
}

static int heap_push(pairs *p, sp_ctx *ctx, const strtab *t, int32_t id)
{
	size_t i;
	if (p->n_heap == p->cap_heap) {
		p->cap_heap = p->cap_heap ? 2 * p->cap_heap : 4096;
		GROW(p->heap, p->cap_heap);
	}
	i = p->n_heap++;
	p->heap[i].count = p->count[id];
	p->heap[i].pair = id;
	while (i > 0 && hent_before(p, t, p->heap[i], p->heap[(i - 1) / 2])) {
		hent x = p->heap[i];
		p->heap[i] = p->heap[(i - 1) / 2];
		p->heap[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
	return SP_OK;
}

static void heap_pop(pairs *p, const strtab *t)
{
	size_t i = 0, n = --p->n_heap;
	p->heap[0] = p->heap[n];
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < n && hent_before(p, t, p->heap[c], p->heap[m]))
			m = c;
		if (c + 1 < n && hent_before(p, t, p->heap[c + 1], p->heap[m]))
			m = c + 1;
		if (m == i)
			return;
		hent x = p->heap[i];
		p->heap[i] = p->heap[m];
		p->heap[m] = x;
		i = m;
	}
}

/* The best pair into *id (-1 when none is left), its heap entry removed. */
static int heap_best(pairs *p, sp_ctx *ctx, const strtab *t, int32_t *id)
{
	int rc;
	*id = -1;
	while (p->n_heap) {
		hent top = p->heap[0];
		int64_t cur = p->count[top.pair];
		heap_pop(p, t);
		if (top.count == cur) {
			*id = top.pair;
			return SP_OK;
		}
		if (cur > 0 && cur < top.count && (rc = heap_push(p, ctx, t, top.pair)) < 0)
			return rc;
	}
	return SP_OK;
}

/* Adds (sign +1) or subtracts (-1) the pairs of word w; with `m` >= 0,
 * the word joins the lists of the pairs holding symbol m. */
static int count_word(pairs *p, sp_ctx *ctx, const corpus *c, int32_t w, int sign, int32_t m)
{
	const int32_t *s = c->seq + c->wstart[w];
	int rc;
	for (size_t j = 0; j + 1 < c->wlen[w]; j++)
		if ((rc = pairs_add(p, ctx, s[j], s[j + 1], sign * c->count[w], w,
				    m >= 0 && (s[j] == m || s[j + 1] == m))) < 0)
			return rc;
	return SP_OK;
}

static int holds(const corpus *c, int32_t w, int32_t l, int32_t r)
{
	const int32_t *s = c->seq + c->wstart[w];
	for (size_t j = 0; j + 1 < c->wlen[w]; j++)
		if (s[j] == l && s[j + 1] == r)
			return 1;
	return 0;
}

/* Merges (l, r) into m in word w, left to right. */
static void merge_word(corpus *c, int32_t w, int32_t l, int32_t r, int32_t m)
{
	int32_t *s = c->seq + c->wstart[w];
	size_t j = 0, k = 0, n = c->wlen[w];
	while (j < n) {
		if (j + 1 < n && s[j] == l && s[j + 1] == r) {
			s[k++] = m;
			j += 2;
		} else {
			s[k++] = s[j++];
		}
	}
	c->wlen[w] = k;
}

/* Applies merge `id` -> m to the words on its list, then pushes the pairs
 * whose count grew. */
static int apply_merge(pairs *p, sp_ctx *ctx, const strtab *t, corpus *c, uint32_t *wstamp,
		       int32_t id, int32_t m)
{
	int32_t l = p->l[id], r = p->r[id];
	int rc;
	p->merge++;
	p->n_touched = 0;
	for (int32_t nd = p->head[id]; nd >= 0; nd = p->node[nd].next) {
		int32_t w = p->node[nd].word;
		if (wstamp[w] == p->merge)
			continue;
		wstamp[w] = p->merge;
		if (!holds(c, w, l, r))
			continue; /* it did once */
		if ((rc = count_word(p, ctx, c, w, -1, -1)) < 0)
			return rc;
		merge_word(c, w, l, r, m);
		if ((rc = count_word(p, ctx, c, w, +1, m)) < 0)
			return rc;
	}
	p->head[id] = -1; /* no word holds (l, r) any more */
	for (size_t i = 0; i < p->n_touched; i++) {
		int32_t q = p->touched[i];
		if (p->count[q] > p->before[q] && (rc = heap_push(p, ctx, t, q)) < 0)
			return rc;
	}
	return SP_OK;
}

static int count_all(pairs *p, sp_ctx *ctx, const strtab *t, const corpus *c)
{
	int rc;
	for (size_t w = 0; w < c->words.n; w++) {
		const int32_t *s = c->seq + c->wstart[w];
		for (size_t j = 0; j + 1 < c->wlen[w]; j++)
			if ((rc = pairs_add(p, ctx, s[j], s[j + 1], c->count[w], (int32_t)w, 1)) < 0)
				return rc;
	}
	for (size_t i = 0; i < p->n; i++)
		if ((rc = heap_push(p, ctx, t, (int32_t)i)) < 0)
			return rc;
	return SP_OK;
}

int sp_bpe_learn(sp_bpe **out, sp_ctx *ctx, const char *const *texts, const size_t *lens,
		 size_t n, const sp_bpe_opts *o)
{
	sp_bpe *b;
	corpus c;
	pairs p;
	uint32_t *wstamp = NULL;
	size_t total = 0;
	int rc;
	*out = NULL;
	if (!o || o->size < sizeof(sp_bpe_opts))
		return sp_err(ctx, SP_EINVAL, "bpe: options not initialised (sp_bpe_opts_init)");
	if (o->min_count < 1)
		return sp_err(ctx, SP_EINVAL, "bpe: min_count %lld must be >= 1",
			      (long long)o->min_count);
	if (!(b = calloc(1, sizeof(*b))))
		return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	if ((rc = count_words(b, ctx, &c, texts, lens, n)) < 0 ||
	    (rc = split_words(b, ctx, &c, &total)) < 0 || (rc = count_all(&p, ctx, &b->syms, &c)) < 0)
		goto done;
	if (!(wstamp = calloc(c.words.n + 1, sizeof(*wstamp)))) {
		rc = sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
		goto done;
	}
	while (b->n_merges < o->merges) {
		int32_t id;
		if ((rc = heap_best(&p, ctx, &b->syms, &id)) < 0)
			goto done;
		if (id < 0 || p.count[id] < o->min_count)
			break;
		if ((rc = add_merge(b, ctx, p.l[id], p.r[id])) < 0 ||
		    (rc = apply_merge(&p, ctx, &b->syms, &c, wstamp, id,
				      b->merged[b->n_merges - 1])) < 0)
			goto done;
	}
	rc = build_ranks(b, ctx);
done:
	corpus_free(&c);
	pairs_free(&p);
	free(wstamp);
	if (rc < 0) {
		sp_bpe_free(b);
		return rc;
	}
	*out = b;
	return SP_OK;
}

/* ---- applying ------------------------------------------------------------------ */

static int reserve_scratch(sp_bpe *b, sp_ctx *ctx, size_t n)
{
	int32_t *id;
	size_t *st, *en;
	if (n <= b->scratch_cap)
		return SP_OK;
	id = realloc(b->id, n * sizeof(*id));
	if (id)
		b->id = id;
	st = id ? realloc(b->start, n * sizeof(*st)) : NULL;
	if (st)
		b->start = st;
	en = st ? realloc(b->end, n * sizeof(*en)) : NULL;
	if (!en)
		return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
	b->end = en;
	b->scratch_cap = n;
	return SP_OK;
}

static int64_t rank_of(const sp_bpe *b, int32_t l, int32_t r)
{
	size_t s;
	if (l < 0 || r < 0 || !b->ranks.cap)
		return -1;
	s = pairmap_slot(&b->ranks, pair_key(l, r));
	return b->ranks.key[s] ? b->ranks.val[s] : -1;
}

/* Merges the word s[0..n) and appends its pieces to out. */
static int encode_word(sp_bpe *b, sp_ctx *ctx, const char *s, size_t n, sp_buf *out)
{
	size_t k = 0;
	int rc;
	if ((rc = reserve_scratch(b, ctx, n)) < 0)
		return rc;
	for (size_t i = 0; i < n;) {
		size_t l = cp_len((unsigned char)s[i]);
		b->id[k] = strtab_find(&b->syms, s + i, l);
		b->start[k] = i;
		b->end[k++] = i + l;
		i += l;
	}
	for (;;) {
		int64_t best = -1;
		size_t j, w;
		for (j = 0; j + 1 < k; j++) {
			int64_t r = rank_of(b, b->id[j], b->id[j + 1]);
			if (r >= 0 && (best < 0 || r < best))
				best = r;
		}
		if (best < 0)
			break;
		for (j = 0, w = 0; j < k; w++) {
			if (j + 1 < k && b->id[j] == b->left[best] && b->id[j + 1] == b->right[best]) {
				b->id[w] = b->merged[best];
				b->start[w] = b->start[j];
				b->end[w] = b->end[j + 1];
				j += 2;
			} else {
				b->id[w] = b->id[j];
				b->start[w] = b->start[j];
				b->end[w] = b->end[j];
				j++;
			}
		}
		k = w;
	}
	for (size_t j = 0; j < k; j++) {
		if (out->len && (rc = sp_buf_append(out, ctx, " ", 1)) < 0)
			return rc;
		if ((rc = sp_buf_append(out, ctx, s + b->start[j], b->end[j] - b->start[j])) < 0)
			return rc;
	}
	return SP_OK;
}

int sp_bpe_encode(sp_bpe *b, sp_ctx *ctx, const char *text, size_t len, sp_buf *out)
{
	int rc;
	if (len == 0)
		return out->p ? SP_OK : sp_buf_append(out, ctx, "", 0);
	if ((rc = mark(b, ctx, text, len)) < 0)
		return rc;
	for (size_t i = 0; i < b->marked.len;) {
		size_t e = word_end(b->marked.p, b->marked.len, i);
		if ((rc = encode_word(b, ctx, b->marked.p + i, e - i, out)) < 0)
			return rc;
		i = e;
	}
	return SP_OK;
}

int sp_bpe_decode(sp_ctx *ctx, const char *pieces, size_t len, sp_buf *out)
{
	int dummy = 1, rc = sp_buf_reserve(out, ctx, len);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < len;) {
		if (pieces[i] == ' ') {
			i++;
		} else if (i + MARK_LEN <= len && memcmp(pieces + i, SP_BPE_MARK, MARK_LEN) == 0) {
			if (!dummy)
				out->p[out->len++] = ' ';
			dummy = 0;
			i += MARK_LEN;
		} else {
			out->p[out->len++] = pieces[i++];
			dummy = 0;
		}
	}
	out->p[out->len] = '\0';
	return SP_OK;
}

/* ---- saving and loading ---------------------------------------------------------- */

#define HEADER "#seqpipe-bpe 1 marker=U+2581"

int sp_bpe_save(const sp_bpe *b, sp_ctx *ctx, sp_buf *out)
{
	char head[96];
	int rc, k = snprintf(head, sizeof(head), HEADER " merges=%zu\n", b->n_merges);
	if ((rc = sp_buf_append(out, ctx, head, (size_t)k)) < 0)
		return rc;
	for (size_t r = 0; r < b->n_merges; r++) {
		const strtab *t = &b->syms;
		if ((rc = sp_buf_append(out, ctx, strtab_str(t, b->left[r]), t->len[b->left[r]])) < 0 ||
		    (rc = sp_buf_append(out, ctx, " ", 1)) < 0 ||
		    (rc = sp_buf_append(out, ctx, strtab_str(t, b->right[r]), t->len[b->right[r]])) < 0 ||
		    (rc = sp_buf_append(out, ctx, "\n", 1)) < 0)
			return rc;
	}
	return SP_OK;
}

static int load_line(sp_bpe *b, sp_ctx *ctx, const char *s, size_t n, const char *name,
		     size_t line)
{
	const char *sp = memchr(s, ' ', n);
	size_t bad;
	int32_t l, r;
	int rc;
	if (!sp || sp == s || sp + 1 == s + n || memchr(sp + 1, ' ', (size_t)(s + n - sp - 1)))
		return sp_err(ctx, SP_EINPUT, "%s:%zu: expected two symbols separated by one space",
			      name, line);
	if (sp_utf8_check(s, n, &bad) < 0)
		return sp_err(ctx, SP_EINPUT, "%s:%zu:%zu: invalid UTF-8", name, line, bad + 1);
	if ((rc = strtab_intern(&b->syms, ctx, s, (size_t)(sp - s), &l)) < 0 ||
	    (rc = strtab_intern(&b->syms, ctx, sp + 1, (size_t)(s + n - sp - 1), &r)) < 0)
		return rc;
	return add_merge(b, ctx, l, r);
}

int sp_bpe_load(sp_bpe **out, sp_ctx *ctx, const char *text, size_t len, const char *name)
{
	sp_bpe *b;
	size_t line = 1, i;
	const char *nl = memchr(text, '\n', len);
	int rc = SP_OK;
	*out = NULL;
	if (!nl || (size_t)(nl - text) < strlen(HEADER) || memcmp(text, HEADER, strlen(HEADER)) != 0)
		return sp_err(ctx, SP_EINPUT, "%s:1: expected '" HEADER " merges=N'", name);
	if (!(b = calloc(1, sizeof(*b))))
		return sp_err(ctx, SP_ENOMEM, "bpe: out of memory");
	for (i = (size_t)(nl - text) + 1; i < len && rc >= 0;) {
		const char *e = memchr(text + i, '\n', len - i);
		size_t n = e ? (size_t)(e - text) - i : len - i;
		line++;
		if (n && text[i + n - 1] == '\r')
			n--;
		if (n)
			rc = load_line(b, ctx, text + i, n, name, line);
		i += (e ? (size_t)(e - text) - i + 1 : len - i);
	}
	if (rc >= 0)
		rc = build_ranks(b, ctx);
	if (rc < 0) {
		sp_bpe_free(b);
		return rc;
	}
	*out = b;
	return SP_OK;
}
