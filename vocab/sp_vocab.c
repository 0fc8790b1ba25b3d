/*
 * sp_vocab.c: vocabularies (token <-> dense id), the token counter that
 * builds them, and their SQLite store.
 *
 * A vocabulary is dense arrays indexed by id (token, length, hash, count)
 * plus an open-addressing table (linear probing, FNV-1a 64) from token to
 * id.  The counter is a vocabulary whose ids are the first-seen order,
 * which is exactly the tie-break sp_vocab_build needs.
 *
 * The store opens one SQLite connection per call and closes it before
 * returning: calls are rare (once per run), and no connection state then
 * outlives a call.  Not here: what an unknown token maps to (encoders).
 */
#include "sp_vocab.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_sqlite.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* Busy timeout of a store connection: long enough for another run's save
 * (one transaction) to finish. */
/* A run saving its vocabulary waits this long for another writer: it
 * happens once per run, before training, so a long wait is cheap. */
#define STORE_BUSY_MS 30000

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

int sp_vocab_build_ordered(sp_vocab *v, sp_ctx *ctx, const sp_vocab_counter *c,
			   int64_t min_count, size_t max_size,
			   const sp_special *specials, size_t n_specials,
			   sp_vocab_order order)
{
	const sp_vocab *cv = c ? &c->v : NULL;
	sp_vocab tmp;
	ranked *r = NULL;
	size_t nr = 0;
	int err, seen[SP_SPECIAL_N] = {0};
	int32_t in_counter[SP_SPECIAL_N] = {-1, -1, -1, -1};
	vocab_init_(&tmp);
	if (!v || !c || (n_specials && !specials)) {
		err = sp_err(ctx, SP_EINVAL, "vocab: build with a NULL argument");
		goto fail;
	}
	if (v->n || v->special[0] >= 0 || v->special[1] >= 0 ||
	    v->special[2] >= 0 || v->special[3] >= 0) {
		err = sp_err(ctx, SP_EINVAL,
			     "vocab: build into a vocabulary that is not empty");
		goto fail;
	}
	if (min_count < 1) {
		err = sp_err(ctx, SP_EINVAL,
			     "vocab: min_count=%" PRId64 " must be >= 1",
			     min_count);
		goto fail;
	}
	if (max_size && max_size < n_specials) {
		err = sp_err(ctx, SP_EINVAL,
			     "vocab: max_size=%zu leaves no room for the %zu "
			     "special tokens", max_size, n_specials);
		goto fail;
	}
	for (size_t i = 0; i < n_specials; i++) {
		int w = (int)specials[i];
		const char *t;
		int32_t id;
		if (w < 0 || w >= SP_SPECIAL_N) {
			err = sp_err(ctx, SP_EINVAL,
				     "vocab: no special token %d", w);
			goto fail;
		}
		if (seen[w]++) {
			err = sp_err(ctx, SP_EINVAL,
				     "vocab: special <%s> listed twice",
				     special_name_[w]);
			goto fail;
		}
		t = special_token_[w];
		in_counter[w] = sp_vocab_id(cv, t, strlen(t));
		if ((err = sp_vocab_add(&tmp, ctx, t, strlen(t),
					in_counter[w] >= 0 ?
						cv->count[in_counter[w]] : 0,
					&id)))
			goto fail;
		tmp.special[w] = id;
	}
	if (cv->n && !(r = malloc(cv->n * sizeof(*r)))) {
		err = sp_err(ctx, SP_ENOMEM, "vocab: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < cv->n; i++) {
		int is_special = 0;
		for (int w = 0; w < SP_SPECIAL_N; w++)
			is_special |= seen[w] && in_counter[w] == (int32_t)i;
		if (cv->count[i] >= min_count && !is_special) {
			r[nr].count = cv->count[i];
			r[nr].id = (int32_t)i;
			nr++;
		}
	}
	/* r is NULL for an empty counter, and qsort's pointer must not be
	 * NULL even for 0 elements (C11 7.22.5) */
	if (nr > 0)
		qsort(r, nr, sizeof(*r), ranked_cmp_);
	/* max_size keeps the most frequent; then, if asked, first-seen order */
	if (max_size && nr > max_size - tmp.n)
		nr = max_size - tmp.n;
	if (order == SP_VOCAB_FIRST_SEEN && nr > 0)
		qsort(r, nr, sizeof(*r), first_seen_cmp_);
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

/* ------------------------------------------------------------------ */
/* The SQLite store                                                    */
/* ------------------------------------------------------------------ */

/* Kept identical to vocab/schema.sql (tests/t_vocab.c compares them). */
static const char schema_sql_[] =
	"-- seqpipe vocabulary store, schema version 1: many named vocabularies in\n"
	"-- one SQLite file.  Ids are dense from 0 within a vocabulary; pad_id ..\n"
	"-- eos_id are NULL when it has no such special token.  This text is kept\n"
	"-- identical in vocab/schema.sql and vocab/sp_vocab.c (sp_vocab_schema);\n"
	"-- tests/t_vocab.c compares the two.\n"
	"PRAGMA application_id = 1397782114; -- 0x53507662, \"SPvb\"\n"
	"PRAGMA user_version = 1;\n"
	"CREATE TABLE IF NOT EXISTS vocabularies (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tname TEXT UNIQUE NOT NULL,\n"
	"\tcreated TEXT NOT NULL, -- UTC, \"2024-05-01T12:00:00Z\"\n"
	"\tsize INTEGER NOT NULL,\n"
	"\thash TEXT NOT NULL, -- sp_vocab_hash as 16 hex digits\n"
	"\tpad_id INTEGER,\n"
	"\tunk_id INTEGER,\n"
	"\tbos_id INTEGER,\n"
	"\teos_id INTEGER\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS tokens (\n"
	"\tvocab_id INTEGER NOT NULL REFERENCES vocabularies(id) ON DELETE CASCADE,\n"
	"\tid INTEGER NOT NULL,\n"
	"\ttoken TEXT NOT NULL,\n"
	"\tcount INTEGER NOT NULL,\n"
	"\tPRIMARY KEY (vocab_id, id),\n"
	"\tUNIQUE (vocab_id, token)\n"
	") WITHOUT ROWID;\n";

const char *sp_vocab_schema(void)
{
	return schema_sql_;
}

/* An SQLite failure as an SP_E* code with a message naming the file; a
 * file that is not SQLite at all says so. */
static int db_err_(sp_ctx *ctx, sqlite3 *db, int rc, const char *path)
{
	if ((rc & 0xff) == SQLITE_NOTADB)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' is not a seqpipe vocabulary store "
			      "(not an SQLite database)", path);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return sp_err(ctx, SP_EDB,
			      "vocab: '%s': the vocabulary store stayed locked "
			      "by another process for %d s; try again when it "
			      "is done, or give another store with --vocab-db",
			      path, STORE_BUSY_MS / 1000);
	return sp_err(ctx, SP_EDB, "vocab: '%s': %s", path,
		      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int exec_(sqlite3 *db, sp_ctx *ctx, const char *path, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? SP_OK : db_err_(ctx, db, rc, path);
}

static int prepare_(sqlite3 *db, sp_ctx *ctx, const char *path,
		    const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? SP_OK : db_err_(ctx, db, rc, path);
}

/* The one integer a query such as "PRAGMA user_version" returns. */
static int query_int_(sqlite3 *db, sp_ctx *ctx, const char *path,
		      const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	if ((err = prepare_(db, ctx, path, sql, &st)))
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = db_err_(ctx, db, rc == SQLITE_DONE ? SQLITE_ERROR : rc,
			      path);
		goto fail;
	}
	*out = sqlite3_column_int64(st, 0);
	err = SP_OK;
fail:
	sqlite3_finalize(st);
	return err;
}

/* Refuses a store (or a new store's folder) this process cannot write
 * before SQLite opens it: reading the WAL file would leave -wal and -shm
 * files that a read-only connection cannot remove. */
static int check_writable_(sp_ctx *ctx, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
		return sp_err(ctx, SP_EIO, "vocab: '%s' is read-only (%s); "
			      "give another store with --vocab-db", path,
			      strerror(errno));
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path + (slash == path)) : 1,
		 slash ? path : ".");
	if (access(dir, W_OK) != 0)
		return sp_err(ctx, SP_EIO, "vocab: '%s': cannot write in the "
			      "folder %s (%s), which the store needs for its "
			      "-wal file; give another store with --vocab-db",
			      path, dir, strerror(errno));
	return SP_OK;
}

/*
 * Opens the store at path with the busy timeout and foreign keys on.
 * create != 0 (save) creates a missing file; otherwise a missing file is
 * SP_ENOTFOUND.
 */
static int store_open_(sqlite3 **out, sp_ctx *ctx, const char *path,
		       int create)
{
	sqlite3 *db = NULL;
	FILE *f;
	int err, rc;
	*out = NULL;
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "vocab: no store path given");
	if (!create) {
		/* SQLite's "unable to open database file" does not say
		 * whether the file is missing, which callers act on. */
		if (!(f = fopen(path, "rb"))) {
			if (errno == ENOENT)
				return sp_err(ctx, SP_ENOTFOUND,
					      "vocab: no vocabulary store '%s'",
					      path);
			return sp_err(ctx, SP_EIO, "vocab: cannot open '%s': %s",
				      path, strerror(errno));
		}
		fclose(f);
	} else if ((err = check_writable_(ctx, path))) {
		return err;
	}
	/* READWRITE falls back to read-only on a write-protected file, so
	 * load and list still work there. */
	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE |
				     (create ? SQLITE_OPEN_CREATE : 0),
			     NULL);
	if (rc != SQLITE_OK) {
		err = sp_err(ctx, SP_EIO, "vocab: cannot open '%s': %s", path,
			     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	/* Per connection, and needed for ON DELETE CASCADE. */
	if ((err = exec_(db, ctx, path, "PRAGMA foreign_keys = ON")))
		goto fail;
	*out = db;
	return SP_OK;
fail:
	sqlite3_close(db);
	return err;
}

/*
 * Checks that db is a seqpipe vocabulary store this code can read (0), or
 * an empty database (0 with *fresh = 1); anything else is SP_EINPUT.
 */
static int store_check_(sqlite3 *db, sp_ctx *ctx, const char *path,
			int *fresh)
{
	int64_t appid, version, ntables;
	int err;
	*fresh = 0;
	if ((err = query_int_(db, ctx, path, "PRAGMA application_id", &appid)))
		return err;
	if (appid == 0) {
		if ((err = query_int_(db, ctx, path,
				      "SELECT count(*) FROM sqlite_master",
				      &ntables)))
			return err;
		if (ntables == 0) {
			*fresh = 1;
			return SP_OK;
		}
	}
	if (appid != SP_VOCAB_STORE_APPID)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' is not a seqpipe vocabulary store "
			      "(SQLite application_id 0x%08" PRIx32
			      ", expected 0x%08x)", path, (uint32_t)appid,
			      (unsigned)SP_VOCAB_STORE_APPID);
	if ((err = query_int_(db, ctx, path, "PRAGMA user_version", &version)))
		return err;
	if (version > SP_VOCAB_STORE_VERSION)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' has schema version %" PRId64
			      "; this seqpipe reads version %d: upgrade "
			      "seqpipe", path, version, SP_VOCAB_STORE_VERSION);
	if (version < 1)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' is a damaged vocabulary store "
			      "(schema version %" PRId64 ")", path, version);
	return SP_OK;
}

static void hash_hex_(char out[17], uint64_t h)
{
	snprintf(out, 17, "%016" PRIx64, h);
}

int sp_vocab_save(const sp_vocab *v, sp_ctx *ctx, const char *db_path,
		  const char *name)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_int64 vid;
	char hash[17];
	int err, rc, fresh;
	if (!v || !name || !*name)
		return sp_err(ctx, SP_EINVAL,
			      "vocab: save needs a vocabulary and a name");
	if ((err = store_open_(&db, ctx, db_path, 1)))
		goto fail;
	/* Refuse a foreign file before anything writes to it: even the
	 * switch to WAL below would change it. */
	if ((err = store_check_(db, ctx, db_path, &fresh)))
		goto fail;
	/* WAL lets loads proceed while another run saves. */
	if ((rc = sp_sqlite_enable_wal(db, STORE_BUSY_MS)) != SQLITE_OK) {
		err = db_err_(ctx, db, rc, db_path);
		goto fail;
	}
	/* IMMEDIATE takes the write lock now: two runs saving at once, or
	 * creating one new store, then wait for each other (busy timeout)
	 * instead of failing when a read lock cannot be upgraded. */
	if ((err = exec_(db, ctx, db_path, "BEGIN IMMEDIATE")))
		goto fail;
	/* Again under the lock: another run may have created the schema. */
	if ((err = store_check_(db, ctx, db_path, &fresh)))
		goto fail;
	if (fresh && (err = exec_(db, ctx, db_path, schema_sql_)))
		goto fail;
	/* The tokens of a replaced vocabulary go by ON DELETE CASCADE. */
	if ((err = prepare_(db, ctx, db_path,
			    "DELETE FROM vocabularies WHERE name = ?1", &st)))
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		err = db_err_(ctx, db, rc, db_path);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((err = prepare_(db, ctx, db_path,
			    "INSERT INTO vocabularies (name, created, size, "
			    "hash, pad_id, unk_id, bos_id, eos_id) VALUES "
			    "(?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?2, "
			    "?3, ?4, ?5, ?6, ?7)", &st)))
		goto fail;
	hash_hex_(hash, sp_vocab_hash(v));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)v->n);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	for (int w = 0; w < SP_SPECIAL_N; w++) {
		if (v->special[w] >= 0)
			sqlite3_bind_int64(st, 4 + w, v->special[w]);
		else
			sqlite3_bind_null(st, 4 + w);
	}
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		err = db_err_(ctx, db, rc, db_path);
		goto fail;
	}
	vid = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	st = NULL;
	/* Rows a delete without foreign keys on (say, in the sqlite3 shell)
	 * left behind would clash with ours, since ids get reused. */
	if ((err = prepare_(db, ctx, db_path,
			    "DELETE FROM tokens WHERE vocab_id = ?1", &st)))
		goto fail;
	sqlite3_bind_int64(st, 1, vid);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		err = db_err_(ctx, db, rc, db_path);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((err = prepare_(db, ctx, db_path,
			    "INSERT INTO tokens (vocab_id, id, token, count) "
			    "VALUES (?1, ?2, ?3, ?4)", &st)))
		goto fail;
	for (size_t i = 0; i < v->n; i++) {
		sqlite3_bind_int64(st, 1, vid);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, v->tok[i], (int)v->len[i],
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, v->count[i]);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
			err = db_err_(ctx, db, rc, db_path);
			goto fail;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((err = exec_(db, ctx, db_path, "COMMIT")))
		goto fail;
	sqlite3_close(db);
	return SP_OK;
fail:
	sqlite3_finalize(st);
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return err;
}

int sp_vocab_load(sp_vocab **out, sp_ctx *ctx, const char *db_path,
		  const char *name)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	sp_vocab *v = NULL;
	sqlite3_int64 vid, size;
	int64_t special[SP_SPECIAL_N];
	char hash[17], stored[17];
	int err, rc, fresh;
	*out = NULL;
	if (!name || !*name)
		return sp_err(ctx, SP_EINVAL, "vocab: load needs a name");
	if ((err = store_open_(&db, ctx, db_path, 0)))
		goto fail;
	/* One read transaction: the row and its tokens from one save. */
	if ((err = exec_(db, ctx, db_path, "BEGIN")))
		goto fail;
	if ((err = store_check_(db, ctx, db_path, &fresh)))
		goto fail;
	if (fresh) {
		err = sp_err(ctx, SP_ENOTFOUND,
			     "vocab: no vocabulary '%s' in '%s' (empty store)",
			     name, db_path);
		goto fail;
	}
	if ((err = prepare_(db, ctx, db_path,
			    "SELECT id, size, hash, pad_id, unk_id, bos_id, "
			    "eos_id FROM vocabularies WHERE name = ?1", &st)))
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		err = sp_err(ctx, SP_ENOTFOUND,
			     "vocab: no vocabulary '%s' in '%s'", name,
			     db_path);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		err = db_err_(ctx, db, rc, db_path);
		goto fail;
	}
	vid = sqlite3_column_int64(st, 0);
	size = sqlite3_column_int64(st, 1);
	if (sqlite3_column_text(st, 2))
		snprintf(stored, sizeof(stored), "%s",
			 (const char *)sqlite3_column_text(st, 2));
	else
		stored[0] = '\0';
	for (int w = 0; w < SP_SPECIAL_N; w++)
		special[w] = sqlite3_column_type(st, 3 + w) == SQLITE_NULL ?
				     -1 : sqlite3_column_int64(st, 3 + w);
	sqlite3_finalize(st);
	st = NULL;
	if ((err = sp_vocab_new(&v))) {
		err = sp_err(ctx, err, "vocab: out of memory");
		goto fail;
	}
	if ((err = prepare_(db, ctx, db_path,
			    "SELECT id, token, count FROM tokens "
			    "WHERE vocab_id = ?1 ORDER BY id", &st)))
		goto fail;
	sqlite3_bind_int64(st, 1, vid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tok = (const char *)sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		if (sqlite3_column_int64(st, 0) != (sqlite3_int64)v->n) {
			err = sp_err(ctx, SP_EINPUT,
				     "vocab: '%s' in '%s' is damaged: id %zu "
				     "is missing", name, db_path, v->n);
			goto fail;
		}
		if ((err = sp_vocab_add(v, ctx, tok, len,
					sqlite3_column_int64(st, 2), NULL))) {
			if (err != SP_ENOMEM)
				err = sp_err(ctx, SP_EINPUT,
					     "vocab: '%s' in '%s' is damaged: "
					     "bad token or count at id %zu",
					     name, db_path, v->n);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		err = db_err_(ctx, db, rc, db_path);
		goto fail;
	}
	if (size < 0 || (size_t)size != v->n) {
		err = sp_err(ctx, SP_EINPUT,
			     "vocab: '%s' in '%s' is damaged: size %lld but "
			     "%zu tokens", name, db_path, (long long)size, v->n);
		goto fail;
	}
	for (int w = 0; w < SP_SPECIAL_N; w++) {
		if (special[w] < -1 || special[w] >= size) {
			err = sp_err(ctx, SP_EINPUT,
				     "vocab: '%s' in '%s' is damaged: %s_id %"
				     PRId64 " out of range", name, db_path,
				     special_name_[w], special[w]);
			goto fail;
		}
		v->special[w] = (int32_t)special[w];
	}
	hash_hex_(hash, sp_vocab_hash(v));
	if (strcmp(hash, stored) != 0) {
		err = sp_err(ctx, SP_EINPUT,
			     "vocab: '%s' in '%s' is damaged: hash %s, "
			     "stored %s", name, db_path, hash, stored);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((err = exec_(db, ctx, db_path, "COMMIT")))
		goto fail;
	sqlite3_close(db);
	*out = v;
	return SP_OK;
fail:
	sqlite3_finalize(st);
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	sp_vocab_free(v);
	return err;
}

int sp_vocab_list(sp_ctx *ctx, const char *db_path, sp_vocab_list_fn fn,
		  void *payload)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int err, rc, fresh;
	if (!fn)
		return sp_err(ctx, SP_EINVAL, "vocab: list needs a callback");
	if ((err = store_open_(&db, ctx, db_path, 0)))
		goto fail;
	if ((err = exec_(db, ctx, db_path, "BEGIN")))
		goto fail;
	if ((err = store_check_(db, ctx, db_path, &fresh)) || fresh)
		goto fail;
	if ((err = prepare_(db, ctx, db_path,
			    "SELECT name, size, created, hash FROM "
			    "vocabularies ORDER BY name", &st)))
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 size = sqlite3_column_int64(st, 1);
		const char *vname = (const char *)sqlite3_column_text(st, 0);
		const char *created = (const char *)sqlite3_column_text(st, 2);
		const char *hash = (const char *)sqlite3_column_text(st, 3);
		/* the schema says NOT NULL, but an edited or foreign store
		 * need not: callbacks get strings, never NULL */
		if (!vname || !created || !hash) {
			err = sp_err(ctx, SP_EINPUT,
				     "vocab: '%s' is damaged: a vocabulary row "
				     "without a %s", db_path,
				     !vname ? "name" : !created ? "creation time"
								: "hash");
			goto fail;
		}
		if ((err = fn(payload, vname, size > 0 ? (size_t)size : 0,
			      created, hash)))
			goto fail;
	}
	if (rc != SQLITE_DONE)
		err = db_err_(ctx, db, rc, db_path);
fail:
	sqlite3_finalize(st);
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return err;
}
