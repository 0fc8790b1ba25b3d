/*
 * sp_vocab.c: vocabularies (token <-> dense id) and the token counter
 * that builds them.  Their SQLite store is sp_vocab_store.c.
 *
 * A vocabulary is dense arrays indexed by id (token, length, hash, count)
 * plus an open-addressing table (linear probing, FNV-1a 64) from token to
 * id.  The counter is a vocabulary whose ids are the first-seen order,
 * which is exactly the tie-break sp_vocab_build needs.
 *
 * Not here: what an unknown token maps to (encoders).
 */
#include "sp_vocab.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

struct sp_vocab {
	char **tok;       /* [n] token of each id, NUL-terminated (owned) */
	size_t *len;      /* [n] its length in bytes */
	uint64_t *h;      /* [n] its FNV-1a hash, so growing never rehashes */
	int64_t *count;   /* [n] */
	size_t n, cap;    /* entries used / allocated in the arrays above */
	int32_t *slot;    /* [nslot] ids, -1 = empty; nslot a power of 2 */
	size_t nslot;
	int32_t special[SP_SPECIAL_N]; /* id of pad, unk, bos, eos, or -1 */
};

/* A counter is a vocabulary in first-seen order whose counts grow. */
struct sp_vocab_counter {
	sp_vocab v;
};

static const char *const special_name_[SP_SPECIAL_N] = {"pad", "unk", "bos",
							 "eos"};
static const char *const special_token_[SP_SPECIAL_N] = {"<pad>", "<unk>",
							  "<s>", "</s>"};

const char *sp_special_name(sp_special which)
{
	if ((int)which < 0 || (int)which >= SP_SPECIAL_N)
		return NULL;
	return special_name_[which];
}

const char *sp_special_token(sp_special which)
{
	if ((int)which < 0 || (int)which >= SP_SPECIAL_N)
		return NULL;
	return special_token_[which];
}

static uint64_t fnv1a_(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* Little-endian bytes, so that hashes agree across platforms. */
static uint64_t fnv1a_u64_(uint64_t h, uint64_t x, int nbytes)
{
	unsigned char b[8];
	for (int i = 0; i < nbytes; i++)
		b[i] = (unsigned char)(x >> (8 * i));
	return fnv1a_(h, b, (size_t)nbytes);
}

/* Copies a token into buf for a message: at most ~60 bytes, cut at a UTF-8
 * character boundary, with "..." when cut. */
static const char *tok_for_msg_(char *buf, size_t cap, const char *tok,
				size_t len)
{
	size_t n = len;
	if (n + 1 > cap) {
		n = cap - 4;
		while (n > 0 && ((unsigned char)tok[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, tok, n);
	strcpy(buf + n, n < len ? "..." : "");
	return buf;
}

static void vocab_init_(sp_vocab *v)
{
	memset(v, 0, sizeof(*v));
	for (int i = 0; i < SP_SPECIAL_N; i++)
		v->special[i] = -1;
}

/* Frees what v holds, not v itself. */
static void vocab_clear_(sp_vocab *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->tok[i]);
	free(v->tok);
	free(v->len);
	free(v->h);
	free(v->count);
	free(v->slot);
	vocab_init_(v);
}

int sp_vocab_new(sp_vocab **out)
{
	sp_vocab *v = malloc(sizeof(*v));
	*out = NULL;
	if (!v)
		return SP_ENOMEM;
	vocab_init_(v);
	*out = v;
	return SP_OK;
}

void sp_vocab_free(sp_vocab *v)
{
	if (!v)
		return;
	vocab_clear_(v);
	free(v);
}

/* Slot holding tok, or the empty slot where it would go. */
static size_t find_slot_(const sp_vocab *v, const char *tok, size_t len,
			 uint64_t h)
{
	size_t mask = v->nslot - 1, i = (size_t)h & mask;
	for (;;) {
		int32_t id = v->slot[i];
		if (id < 0 || (v->h[id] == h && v->len[id] == len &&
			       memcmp(v->tok[id], tok, len) == 0))
			return i;
		i = (i + 1) & mask;
	}
}

/* Keeps the table at most half full, so probe runs stay short. */
static int grow_table_(sp_vocab *v)
{
	size_t nslot = v->nslot ? v->nslot * 2 : 16;
	int32_t *slot, *old = v->slot;
	size_t nold = v->nslot;
	if (v->nslot >= 2 * (v->n + 1))
		return SP_OK;
	slot = malloc(nslot * sizeof(*slot));
	if (!slot)
		return SP_ENOMEM;
	for (size_t i = 0; i < nslot; i++)
		slot[i] = -1;
	v->slot = slot;
	v->nslot = nslot;
	for (size_t i = 0; i < nold; i++) {
		int32_t id = old[i];
		if (id >= 0)
			slot[find_slot_(v, v->tok[id], v->len[id], v->h[id])] =
				id;
	}
	free(old);
	return SP_OK;
}

/* A failed realloc leaves the arrays valid, only some of them longer. */
static int grow_arrays_(sp_vocab *v)
{
	size_t cap = v->cap ? v->cap * 2 : 16;
	void *p;
	if (v->n < v->cap)
		return SP_OK;
	if (!(p = realloc(v->tok, cap * sizeof(*v->tok))))
		return SP_ENOMEM;
	v->tok = p;
	if (!(p = realloc(v->len, cap * sizeof(*v->len))))
		return SP_ENOMEM;
	v->len = p;
	if (!(p = realloc(v->h, cap * sizeof(*v->h))))
		return SP_ENOMEM;
	v->h = p;
	if (!(p = realloc(v->count, cap * sizeof(*v->count))))
		return SP_ENOMEM;
	v->count = p;
	v->cap = cap;
	return SP_OK;
}

static int check_token_(sp_ctx *ctx, const char *tok, size_t len)
{
	const char *nul;
	if (!tok || len == 0)
		return sp_err(ctx, SP_EINVAL, "vocab: empty token");
	if (len > INT_MAX)
		return sp_err(ctx, SP_EINVAL, "vocab: token of %zu bytes", len);
	/* Tokens double as C strings (sp_vocab_token, the store's TEXT). */
	if ((nul = memchr(tok, '\0', len)))
		return sp_err(ctx, SP_EINVAL,
			      "vocab: token of %zu bytes has a NUL byte at "
			      "byte %zu", len, (size_t)(nul - tok));
	return SP_OK;
}

/* Appends a token already checked, and known to be absent. */
static int append_(sp_vocab *v, sp_ctx *ctx, const char *tok, size_t len,
		   uint64_t h, int64_t count, int32_t *out_id)
{
	char *copy;
	int err;
	if (v->n >= INT32_MAX)
		return sp_err(ctx, SP_EINVAL, "vocab: more than %d tokens",
			      INT32_MAX);
	if ((err = grow_table_(v)) || (err = grow_arrays_(v)))
		return sp_err(ctx, err, "vocab: out of memory");
	if (!(copy = malloc(len + 1)))
		return sp_err(ctx, SP_ENOMEM, "vocab: out of memory");
	memcpy(copy, tok, len);
	copy[len] = '\0';
	v->tok[v->n] = copy;
	v->len[v->n] = len;
	v->h[v->n] = h;
	v->count[v->n] = count;
	v->slot[find_slot_(v, tok, len, h)] = (int32_t)v->n;
	if (out_id)
		*out_id = (int32_t)v->n;
	v->n++;
	return SP_OK;
}

int sp_vocab_add(sp_vocab *v, sp_ctx *ctx, const char *tok, size_t len,
		 int64_t count, int32_t *out_id)
{
	char buf[64];
	uint64_t h;
	int32_t id;
	int err;
	if (!v)
		return sp_err(ctx, SP_EINVAL, "vocab: add to a NULL vocabulary");
	if ((err = check_token_(ctx, tok, len)))
		return err;
	if (count < 0)
		return sp_err(ctx, SP_EINVAL, "vocab: token '%s': count %" PRId64
			      " < 0", tok_for_msg_(buf, sizeof(buf), tok, len),
			      count);
	h = fnv1a_(FNV_OFFSET, tok, len);
	id = v->nslot ? v->slot[find_slot_(v, tok, len, h)] : -1;
	if (id >= 0)
		return sp_err(ctx, SP_EINVAL,
			      "vocab: token '%s' is already id %" PRId32,
			      tok_for_msg_(buf, sizeof(buf), tok, len), id);
	return append_(v, ctx, tok, len, h, count, out_id);
}

int sp_vocab_set_special(sp_vocab *v, sp_ctx *ctx, sp_special which,
			 int32_t id)
{
	if (!v || (int)which < 0 || (int)which >= SP_SPECIAL_N)
		return sp_err(ctx, SP_EINVAL, "vocab: no special token %d",
			      (int)which);
	if (id < -1 || (id >= 0 && (size_t)id >= v->n))
		return sp_err(ctx, SP_EINVAL,
			      "vocab: <%s> id %" PRId32 " is not in [0, %zu)",
			      special_name_[which], id, v->n);
	v->special[which] = id;
	return SP_OK;
}

int sp_vocab_clone(sp_vocab **out, const sp_vocab *v)
{
	sp_vocab *c = NULL;
	int err;
	*out = NULL;
	if (!v)
		return SP_EINVAL;
	if ((err = sp_vocab_new(&c)))
		goto fail;
	for (size_t i = 0; i < v->n; i++)
		if ((err = append_(c, NULL, v->tok[i], v->len[i], v->h[i],
				   v->count[i], NULL)))
			goto fail;
	memcpy(c->special, v->special, sizeof(c->special));
	*out = c;
	return SP_OK;
fail:
	sp_vocab_free(c);
	return err;
}

size_t sp_vocab_size(const sp_vocab *v)
{
	return v ? v->n : 0;
}

int32_t sp_vocab_id(const sp_vocab *v, const char *tok, size_t len)
{
	int32_t id;
	if (!v || !v->nslot || !tok)
		return -1;
	id = v->slot[find_slot_(v, tok, len, fnv1a_(FNV_OFFSET, tok, len))];
	return id;
}

const char *sp_vocab_token(const sp_vocab *v, int32_t id)
{
	if (!v || id < 0 || (size_t)id >= v->n)
		return NULL;
	return v->tok[id];
}

int64_t sp_vocab_count(const sp_vocab *v, int32_t id)
{
	if (!v || id < 0 || (size_t)id >= v->n)
		return -1;
	return v->count[id];
}

int32_t sp_vocab_special(const sp_vocab *v, sp_special which)
{
	if (!v || (int)which < 0 || (int)which >= SP_SPECIAL_N)
		return -1;
	return v->special[which];
}

uint64_t sp_vocab_hash(const sp_vocab *v)
{
	/* The 0 after each token (which never holds one) and the size up
	 * front make the byte string unambiguous. */
	size_t n = v ? v->n : 0;
	uint64_t h = fnv1a_u64_(FNV_OFFSET, n, 8);
	for (size_t i = 0; i < n; i++)
		h = fnv1a_(h, v->tok[i], v->len[i] + 1);
	for (int i = 0; i < SP_SPECIAL_N; i++)
		h = fnv1a_u64_(h, (uint32_t)(v ? v->special[i] : -1), 4);
	return h;
}

/* ------------------------------------------------------------------ */
/* Counter and build                                                   */
/* ------------------------------------------------------------------ */

int sp_vocab_counter_new(sp_vocab_counter **out)
{
	sp_vocab_counter *c = malloc(sizeof(*c));
	*out = NULL;
	if (!c)
		return SP_ENOMEM;
	vocab_init_(&c->v);
	*out = c;
	return SP_OK;
}

void sp_vocab_counter_free(sp_vocab_counter *c)
{
	if (!c)
		return;
	vocab_clear_(&c->v);
	free(c);
}

int sp_vocab_counter_add(sp_vocab_counter *c, sp_ctx *ctx, const char *tok,
			 size_t len)
{
	uint64_t h;
	int32_t id;
	int err;
	if (!c)
		return sp_err(ctx, SP_EINVAL, "vocab: count into a NULL counter");
	if ((err = check_token_(ctx, tok, len)))
		return err;
	h = fnv1a_(FNV_OFFSET, tok, len);
	id = c->v.nslot ? c->v.slot[find_slot_(&c->v, tok, len, h)] : -1;
	if (id >= 0) {
		c->v.count[id]++;
		return SP_OK;
	}
	return append_(&c->v, ctx, tok, len, h, 1, NULL);
}

size_t sp_vocab_counter_size(const sp_vocab_counter *c)
{
	return c ? c->v.n : 0;
}

const sp_vocab *sp_vocab_counter_view(const sp_vocab_counter *c)
{
	return c ? &c->v : NULL;
}

typedef struct ranked {
	int64_t count;
	int32_t id; /* in the counter: first-seen order */
} ranked;

/* Descending count, then ascending first-seen id: a total order, so the
 * result does not depend on qsort's (unstable) algorithm. */
static int ranked_cmp_(const void *pa, const void *pb)
{
	const ranked *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

/* Ascending first-seen id. */
static int first_seen_cmp_(const void *pa, const void *pb)
{
	const ranked *a = pa, *b = pb;
	return (a->id > b->id) - (a->id < b->id);
}

int sp_vocab_build_into(sp_vocab *v, sp_ctx *ctx, const sp_vocab_counter *c,
			int64_t min_count, size_t max_size,
			const sp_special *specials, size_t n_specials)
{
	return sp_vocab_build_ordered(v, ctx, c, min_count, max_size, specials,
				      n_specials, SP_VOCAB_BY_COUNT);
}

/* The arguments of a build, checked before anything is built. */
static int check_build_(sp_ctx *ctx, const sp_vocab *v,
			const sp_vocab_counter *c, int64_t min_count,
			size_t max_size, const sp_special *specials,
			size_t n_specials)
{
	if (!v || !c || (n_specials && !specials))
		return sp_err(ctx, SP_EINVAL, "vocab: build with a NULL argument");
	if (v->n || v->special[0] >= 0 || v->special[1] >= 0 ||
	    v->special[2] >= 0 || v->special[3] >= 0)
		return sp_err(ctx, SP_EINVAL,
			      "vocab: build into a vocabulary that is not empty");
	if (min_count < 1)
		return sp_err(ctx, SP_EINVAL,
			      "vocab: min_count=%" PRId64 " must be >= 1",
			      min_count);
	if (max_size && max_size < n_specials)
		return sp_err(ctx, SP_EINVAL,
			      "vocab: max_size=%zu leaves no room for the %zu "
			      "special tokens", max_size, n_specials);
	return SP_OK;
}

/* Adds the specials to the empty tmp, first, in the order given, with the
 * count the counter has for their text; in_counter[w] is that text's id in
 * the counter (-1 when absent or not asked for). */
static int add_specials_(sp_vocab *tmp, sp_ctx *ctx, const sp_vocab *cv,
			 const sp_special *specials, size_t n_specials,
			 int32_t in_counter[SP_SPECIAL_N])
{
	int seen[SP_SPECIAL_N] = {0};
	int err;
	for (size_t i = 0; i < n_specials; i++) {
		int w = (int)specials[i];
		const char *t;
		int32_t id;
		if (w < 0 || w >= SP_SPECIAL_N)
			return sp_err(ctx, SP_EINVAL,
				      "vocab: no special token %d", w);
		if (seen[w]++)
			return sp_err(ctx, SP_EINVAL,
				      "vocab: special <%s> listed twice",
				      special_name_[w]);
		t = special_token_[w];
		in_counter[w] = sp_vocab_id(cv, t, strlen(t));
		if ((err = sp_vocab_add(tmp, ctx, t, strlen(t),
					in_counter[w] >= 0 ?
						cv->count[in_counter[w]] : 0,
					&id)))
			return err;
		tmp->special[w] = id;
	}
	return SP_OK;
}

/* The counter's entries that go in after the specials, in *out (caller
 * frees) and *nr: those of count >= min_count that are not the text of a
 * special; the room most frequent of them, then in the order asked for. */
static int rank_(sp_ctx *ctx, const sp_vocab *cv, int64_t min_count,
		 const int32_t in_counter[SP_SPECIAL_N], size_t room,
		 sp_vocab_order order, ranked **out, size_t *nr)
{
	ranked *r = NULL;
	size_t n = 0;
	*out = NULL;
	*nr = 0;
	if (cv->n && !(r = malloc(cv->n * sizeof(*r))))
		return sp_err(ctx, SP_ENOMEM, "vocab: out of memory");
	for (size_t i = 0; i < cv->n; i++) {
		int is_special = 0;
		for (int w = 0; w < SP_SPECIAL_N; w++)
			is_special |= in_counter[w] == (int32_t)i;
		if (cv->count[i] >= min_count && !is_special) {
			r[n].count = cv->count[i];
			r[n].id = (int32_t)i;
			n++;
		}
	}
	/* r is NULL for an empty counter, and qsort's pointer must not be
	 * NULL even for 0 elements (C11 7.22.5) */
	if (n > 0)
		qsort(r, n, sizeof(*r), ranked_cmp_);
	/* the room keeps the most frequent; then, if asked, first-seen order */
	if (n > room)
		n = room;
	if (order == SP_VOCAB_FIRST_SEEN && n > 0)
		qsort(r, n, sizeof(*r), first_seen_cmp_);
	*out = r;
	*nr = n;
	return SP_OK;
}

int sp_vocab_build_ordered(sp_vocab *v, sp_ctx *ctx, const sp_vocab_counter *c,
			   int64_t min_count, size_t max_size,
			   const sp_special *specials, size_t n_specials,
			   sp_vocab_order order)
{
	const sp_vocab *cv = c ? &c->v : NULL;
	sp_vocab tmp;
	ranked *r = NULL;
	size_t nr = 0;
	int err;
	int32_t in_counter[SP_SPECIAL_N] = {-1, -1, -1, -1};
	vocab_init_(&tmp);
	if ((err = check_build_(ctx, v, c, min_count, max_size, specials,
				n_specials)) ||
	    (err = add_specials_(&tmp, ctx, cv, specials, n_specials,
				 in_counter)) ||
	    (err = rank_(ctx, cv, min_count, in_counter,
			 max_size ? max_size - tmp.n : SIZE_MAX, order, &r,
			 &nr)))
		goto fail;
	for (size_t i = 0; i < nr; i++) {
		int32_t id = r[i].id;
		if ((err = append_(&tmp, ctx, cv->tok[id], cv->len[id],
				   cv->h[id], cv->count[id], NULL)))
			goto fail;
	}
	/* v is empty, so taking over tmp's arrays loses nothing. */
	vocab_clear_(v);
	*v = tmp;
	free(r);
	return SP_OK;
fail:
	vocab_clear_(&tmp);
	free(r);
	return err;
}

int sp_vocab_build(sp_vocab **out, sp_ctx *ctx, const sp_vocab_counter *c,
		   int64_t min_count, size_t max_size,
		   const sp_special *specials, size_t n_specials)
{
	sp_vocab *v = NULL;
	int err;
	*out = NULL;
	if ((err = sp_vocab_new(&v))) {
		err = sp_err(ctx, err, "vocab: out of memory");
		goto fail;
	}
	if ((err = sp_vocab_build_into(v, ctx, c, min_count, max_size,
				       specials, n_specials)))
		goto fail;
	*out = v;
	return SP_OK;
fail:
	sp_vocab_free(v);
	return err;
}
