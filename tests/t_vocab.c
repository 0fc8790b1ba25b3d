/*
 * t_vocab.c: vocab/sp_vocab.c (tables, counter and build, hash),
 * vocab/sp_vocab_store.c (the SQLite store), and the onehot encoder plugin
 * driven through its descriptor.
 *
 * Store files go to a fresh directory from mkdtemp under $TMPDIR (or /tmp),
 * removed at the end.  vocab/schema.sql is read from $srcdir (set by
 * Automake's test harness), or from the current directory.
 */
#define _POSIX_C_SOURCE 200809L

#include "sp_vocab.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "tap.h"

const sp_plugin *onehot_LTX_sp_plugin_entry(void);

static char dir_[256];

static const char *path_(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir_, name);
	return buf;
}

static int has_(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* Strict UTF-8 check, for messages that cut tokens. */
static int utf8_valid_(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2
			: (*p >> 3) == 30 ? 3 : -1;
		if (n < 0)
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

/* Runs one SQL statement on a file directly (fixtures and inspection). */
static int sql_(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static int64_t sql_int_(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t r = -12345;
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static int write_file_(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Whole file as a string (caller frees), or NULL. */
static char *read_file_(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* Same tokens, counts, specials and hash. */
static int same_vocab_(const sp_vocab *a, const sp_vocab *b)
{
	if (sp_vocab_size(a) != sp_vocab_size(b) ||
	    sp_vocab_hash(a) != sp_vocab_hash(b))
		return 0;
	for (int32_t i = 0; (size_t)i < sp_vocab_size(a); i++)
		if (strcmp(sp_vocab_token(a, i), sp_vocab_token(b, i)) != 0 ||
		    sp_vocab_count(a, i) != sp_vocab_count(b, i))
			return 0;
	for (int w = 0; w < SP_SPECIAL_N; w++)
		if (sp_vocab_special(a, w) != sp_vocab_special(b, w))
			return 0;
	return 1;
}

static int add_s_(sp_vocab *v, sp_ctx *ctx, const char *tok, int64_t count)
{
	return sp_vocab_add(v, ctx, tok, strlen(tok), count, NULL);
}

static int count_s_(sp_vocab_counter *c, sp_ctx *ctx, const char *text)
{
	/* Space-separated tokens. */
	int err = 0;
	while (*text && !err) {
		size_t n = strcspn(text, " ");
		if (n)
			err = sp_vocab_counter_add(c, ctx, text, n);
		text += n;
		text += strspn(text, " ");
	}
	return err;
}

/* Tokens of v in id order, space-separated, into buf. */
static const char *joined_(char *buf, size_t cap, const sp_vocab *v)
{
	buf[0] = '\0';
	for (int32_t i = 0; (size_t)i < sp_vocab_size(v); i++) {
		if (i)
			strncat(buf, " ", cap - strlen(buf) - 1);
		strncat(buf, sp_vocab_token(v, i), cap - strlen(buf) - 1);
	}
	return buf;
}

static void test_basics(sp_ctx *ctx)
{
	sp_vocab *v = NULL;
	int32_t id = -7;
	int err, all_found = 1;
	char buf[32];

	ok(sp_vocab_new(&v) == 0 && sp_vocab_size(v) == 0, "new vocab is empty");
	ok(sp_vocab_id(v, "h", 1) == -1, "lookup in an empty vocab is -1");
	ok(sp_vocab_add(v, ctx, "h", 1, 5, &id) == 0 && id == 0, "h is id 0");
	ok(add_s_(v, ctx, "e", 2) == 0 && add_s_(v, ctx, "l", 7) == 0 &&
		   add_s_(v, ctx, "o", 1) == 0, "e, l, o added");
	ok(sp_vocab_size(v) == 4, "size 4 (%zu)", sp_vocab_size(v));
	ok(sp_vocab_id(v, "l", 1) == 2 && sp_vocab_id(v, "o", 1) == 3,
	   "lookup l -> 2, o -> 3");
	ok(sp_vocab_id(v, "x", 1) == -1 && sp_vocab_id(v, "he", 2) == -1,
	   "absent tokens -> -1");
	ok(sp_vocab_id(v, "hello", 1) == 0, "lookup uses len, not NUL");
	ok_str(sp_vocab_token(v, 1), "e", "token of id 1");
	ok(sp_vocab_token(v, 4) == NULL && sp_vocab_token(v, -1) == NULL,
	   "token out of range is NULL");
	ok(sp_vocab_count(v, 2) == 7 && sp_vocab_count(v, 9) == -1,
	   "counts, -1 out of range");

	err = sp_vocab_add(v, ctx, "l", 1, 1, &id);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "already id 2"),
	   "duplicate token is SP_EINVAL: %s", sp_errmsg(ctx));
	ok(sp_vocab_add(v, ctx, "", 0, 1, NULL) == SP_EINVAL,
	   "empty token is SP_EINVAL");
	err = sp_vocab_add(v, ctx, "a\0b", 3, 1, NULL);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "NUL"),
	   "token with a NUL byte is SP_EINVAL: %s", sp_errmsg(ctx));
	ok(sp_vocab_id(v, "h\0", 2) == -1, "lookup with a NUL byte is -1");
	ok(add_s_(v, ctx, "z", -1) == SP_EINVAL, "negative count is SP_EINVAL");
	ok(sp_vocab_size(v) == 4, "failed adds add nothing");

	ok(sp_vocab_special(v, SP_SPECIAL_UNK) == -1, "no <unk> by default");
	ok(sp_vocab_set_special(v, ctx, SP_SPECIAL_UNK, 1) == 0 &&
		   sp_vocab_special(v, SP_SPECIAL_UNK) == 1, "set <unk> = 1");
	ok(sp_vocab_set_special(v, ctx, SP_SPECIAL_BOS, 3) == 0 &&
		   sp_vocab_set_special(v, ctx, SP_SPECIAL_EOS, 3) == 0,
	   "bos and eos may share an id");
	ok(sp_vocab_set_special(v, ctx, SP_SPECIAL_PAD, 4) == SP_EINVAL,
	   "special out of range is SP_EINVAL");
	ok(sp_vocab_set_special(v, ctx, (sp_special)7, 0) == SP_EINVAL,
	   "unknown special is SP_EINVAL");
	ok(sp_vocab_set_special(v, ctx, SP_SPECIAL_BOS, -1) == 0 &&
		   sp_vocab_special(v, SP_SPECIAL_BOS) == -1, "-1 unmarks");
	ok(sp_vocab_size(NULL) == 0 && sp_vocab_id(NULL, "a", 1) == -1 &&
		   sp_vocab_token(NULL, 0) == NULL &&
		   sp_vocab_special(NULL, SP_SPECIAL_UNK) == -1,
	   "getters accept NULL");
	ok_str(sp_special_name(SP_SPECIAL_EOS), "eos", "name of eos");
	ok_str(sp_special_token(SP_SPECIAL_BOS), "<s>", "token of bos");
	ok(sp_special_name((sp_special)4) == NULL, "no name for 4");
	sp_vocab_free(v);
	sp_vocab_free(NULL);

	/* Enough tokens for the table and the arrays to grow many times. */
	v = NULL;
	sp_vocab_new(&v);
	for (int i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "t%d", i);
		if (add_s_(v, ctx, buf, i))
			all_found = 0;
	}
	for (int i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "t%d", i);
		if (sp_vocab_id(v, buf, strlen(buf)) != i ||
		    sp_vocab_count(v, i) != i)
			all_found = 0;
	}
	ok(all_found && sp_vocab_size(v) == 20000,
	   "20000 tokens: every lookup right");
	sp_vocab_free(v);
}

static void test_build(sp_ctx *ctx)
{
	sp_vocab_counter *c = NULL;
	sp_vocab *v = NULL, *w = NULL;
	const sp_special all[] = {SP_SPECIAL_PAD, SP_SPECIAL_UNK,
				  SP_SPECIAL_BOS, SP_SPECIAL_EOS};
	const sp_special eos_unk[] = {SP_SPECIAL_EOS, SP_SPECIAL_UNK};
	const sp_special twice[] = {SP_SPECIAL_PAD, SP_SPECIAL_PAD};
	char buf[256];
	int err;

	ok(sp_vocab_counter_new(&c) == 0, "counter");
	/* counts c1 b2 a3 d1 e2 f1; first seen c b a d e f */
	ok(count_s_(c, ctx, "c b a b a a d e e f") == 0, "counted");
	ok(sp_vocab_counter_size(c) == 6, "6 distinct tokens");
	ok(sp_vocab_counter_add(c, ctx, "x\0y", 3) == SP_EINVAL,
	   "counter rejects a NUL byte");

	ok(sp_vocab_build(&v, ctx, c, 1, 0, NULL, 0) == 0, "build, no specials");
	ok_str(joined_(buf, sizeof(buf), v), "a b e c d f",
	       "by count, ties first-seen first");
	ok(sp_vocab_count(v, 0) == 3 && sp_vocab_count(v, 2) == 2 &&
		   sp_vocab_count(v, 5) == 1, "counts carried over");
	ok(sp_vocab_special(v, SP_SPECIAL_UNK) == -1, "no specials");
	sp_vocab_free(v);

	sp_vocab_build(&v, ctx, c, 2, 0, NULL, 0);
	ok_str(joined_(buf, sizeof(buf), v), "a b e", "min_count=2");
	sp_vocab_free(v);
	sp_vocab_build(&v, ctx, c, 1, 2, NULL, 0);
	ok_str(joined_(buf, sizeof(buf), v), "a b", "max_size=2");
	sp_vocab_free(v);

	ok(sp_vocab_build(&v, ctx, c, 1, 0, all, 4) == 0, "build, all specials");
	ok_str(joined_(buf, sizeof(buf), v), "<pad> <unk> <s> </s> a b e c d f",
	       "specials first");
	ok(sp_vocab_special(v, SP_SPECIAL_PAD) == 0 &&
		   sp_vocab_special(v, SP_SPECIAL_UNK) == 1 &&
		   sp_vocab_special(v, SP_SPECIAL_BOS) == 2 &&
		   sp_vocab_special(v, SP_SPECIAL_EOS) == 3, "special ids 0..3");
	ok(sp_vocab_count(v, 1) == 0, "unseen special has count 0");
	ok(sp_vocab_build(&w, ctx, c, 1, 0, all, 4) == 0 &&
		   same_vocab_(v, w), "building twice gives the same vocab");
	sp_vocab_free(w);
	w = NULL;
	sp_vocab_free(v);
	sp_vocab_build(&v, ctx, c, 1, 6, all, 4);
	ok_str(joined_(buf, sizeof(buf), v), "<pad> <unk> <s> </s> a b",
	       "max_size counts the specials");
	sp_vocab_free(v);

	sp_vocab_build(&v, ctx, c, 1, 0, eos_unk, 2);
	ok_str(joined_(buf, sizeof(buf), v), "</s> <unk> a b e c d f",
	       "specials in the order given");
	ok(sp_vocab_special(v, SP_SPECIAL_EOS) == 0 &&
		   sp_vocab_special(v, SP_SPECIAL_UNK) == 1 &&
		   sp_vocab_special(v, SP_SPECIAL_PAD) == -1, "their ids");
	sp_vocab_free(v);

	err = sp_vocab_build(&v, ctx, c, 0, 0, NULL, 0);
	ok(err == SP_EINVAL && v == NULL && has_(sp_errmsg(ctx), "min_count"),
	   "min_count=0 is SP_EINVAL: %s", sp_errmsg(ctx));
	err = sp_vocab_build(&v, ctx, c, 1, 3, all, 4);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "max_size"),
	   "max_size < specials is SP_EINVAL: %s", sp_errmsg(ctx));
	err = sp_vocab_build(&v, ctx, c, 1, 0, twice, 2);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "twice"),
	   "a special listed twice is SP_EINVAL: %s", sp_errmsg(ctx));

	sp_vocab_new(&v);
	err = sp_vocab_build_into(v, ctx, c, 1, 0, twice, 2);
	ok(err == SP_EINVAL && sp_vocab_size(v) == 0 &&
		   sp_vocab_special(v, SP_SPECIAL_PAD) == -1,
	   "failed build_into leaves the vocab empty");
	ok(sp_vocab_build_into(v, ctx, c, 2, 0, all, 4) == 0 &&
		   sp_vocab_size(v) == 7, "build_into an empty vocab");
	err = sp_vocab_build_into(v, ctx, c, 1, 0, NULL, 0);
	ok(err == SP_EINVAL && sp_vocab_size(v) == 7,
	   "build_into a non-empty vocab is SP_EINVAL");
	sp_vocab_free(v);
	sp_vocab_counter_free(c);

	/* A corpus that contains the text "<unk>" (PTB does). */
	sp_vocab_counter_new(&c);
	count_s_(c, ctx, "x <unk> y <unk> <unk> x");
	sp_vocab_build(&v, ctx, c, 1, 0, all, 4);
	ok_str(joined_(buf, sizeof(buf), v), "<pad> <unk> <s> </s> x y",
	       "counted <unk> is not listed twice");
	ok(sp_vocab_count(v, 1) == 3, "<unk> takes its count (%" PRId64 ")",
	   sp_vocab_count(v, 1));
	sp_vocab_free(v);
	sp_vocab_build(&v, ctx, c, 1, 0, NULL, 0);
	ok_str(joined_(buf, sizeof(buf), v), "<unk> x y",
	       "without specials it is an ordinary token");
	ok(sp_vocab_special(v, SP_SPECIAL_UNK) == -1, "... not marked special");
	sp_vocab_free(v);
	sp_vocab_counter_free(c);
	sp_vocab_counter_free(NULL);
}

/* FNV-1a 64 of the byte string sp_vocab.h documents, written out. */
static uint64_t fnv_(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void test_hash_clone(sp_ctx *ctx)
{
	sp_vocab *a = NULL, *b = NULL, *c = NULL;
	uint64_t want;
	const unsigned char bytes[] = {
		2, 0, 0, 0, 0, 0, 0, 0,     /* size */
		'h', 0, 'e', 0,             /* tokens */
		0xff, 0xff, 0xff, 0xff,     /* pad = -1 */
		1, 0, 0, 0,                 /* unk = 1 */
		0xff, 0xff, 0xff, 0xff,     /* bos */
		0xff, 0xff, 0xff, 0xff};    /* eos */

	sp_vocab_new(&a);
	add_s_(a, ctx, "h", 1);
	add_s_(a, ctx, "e", 1);
	sp_vocab_set_special(a, ctx, SP_SPECIAL_UNK, 1);
	want = fnv_(0xcbf29ce484222325ULL, bytes, sizeof(bytes));
	ok(sp_vocab_hash(a) == want, "hash is FNV-1a of the documented bytes "
	   "(%016" PRIx64 " vs %016" PRIx64 ")", sp_vocab_hash(a), want);

	sp_vocab_new(&b);
	add_s_(b, ctx, "h", 99);
	add_s_(b, ctx, "e", 0);
	ok(sp_vocab_hash(a) != sp_vocab_hash(b), "specials enter the hash");
	sp_vocab_set_special(b, ctx, SP_SPECIAL_UNK, 1);
	ok(sp_vocab_hash(a) == sp_vocab_hash(b), "counts do not");
	sp_vocab_free(b);

	sp_vocab_new(&b);
	add_s_(b, ctx, "e", 1);
	add_s_(b, ctx, "h", 1);
	sp_vocab_set_special(b, ctx, SP_SPECIAL_UNK, 1);
	ok(sp_vocab_hash(a) != sp_vocab_hash(b), "order enters the hash");
	sp_vocab_free(b);

	sp_vocab_new(&b);
	add_s_(b, ctx, "he", 1);
	sp_vocab_new(&c);
	add_s_(c, ctx, "h", 1);
	add_s_(c, ctx, "e", 1);
	ok(sp_vocab_hash(b) != sp_vocab_hash(c), "{he} and {h, e} differ");
	sp_vocab_free(b);
	sp_vocab_free(c);
	c = NULL;

	ok(sp_vocab_clone(&c, a) == 0 && same_vocab_(a, c), "clone is equal");
	ok(add_s_(c, ctx, "l", 1) == 0 && sp_vocab_size(a) == 2 &&
		   sp_vocab_id(a, "l", 1) == -1 && sp_vocab_id(c, "l", 1) == 2,
	   "clone is deep");
	ok(sp_vocab_hash(a) != sp_vocab_hash(c), "and then hashes differently");
	sp_vocab_free(a);
	sp_vocab_free(c);
}

static void test_utf8(sp_ctx *ctx)
{
	sp_vocab_counter *c = NULL;
	sp_vocab *v = NULL;
	char buf[256], longtok[512] = "";
	int err;

	sp_vocab_counter_new(&c);
	/* 日本語 (CJK), 😀 (4-byte emoji), é (2-byte) */
	count_s_(c, ctx, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
			 "\xf0\x9f\x98\x80 \xc3\xa9 \xf0\x9f\x98\x80");
	sp_vocab_build(&v, ctx, c, 1, 0, NULL, 0);
	ok_str(joined_(buf, sizeof(buf), v),
	       "\xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xc3\xa9",
	       "UTF-8 tokens counted and ordered");
	ok(sp_vocab_id(v, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9) == 1 &&
		   sp_vocab_id(v, "\xe6\x97\xa5", 3) == -1,
	   "CJK lookup is by whole token");
	ok(sp_vocab_count(v, 0) == 2, "emoji counted twice");

	/* 100 CJK characters: the message cuts at a character boundary. */
	for (int i = 0; i < 100; i++)
		strcat(longtok, "\xe8\xaa\x9e");
	ok(add_s_(v, ctx, longtok, 1) == 0, "a 300-byte token");
	err = add_s_(v, ctx, longtok, 1);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "...") &&
		   utf8_valid_(sp_errmsg(ctx)),
	   "long token in a message is cut as valid UTF-8");
	sp_vocab_free(v);
	sp_vocab_counter_free(c);
}

typedef struct listed {
	int n;
	char names[4][32];
	size_t sizes[4];
	char hashes[4][17];
	int created_ok;
	int stop_with;
} listed;

static int list_cb_(void *payload, const char *name, size_t size,
		    const char *created, const char *hash)
{
	listed *l = payload;
	if (l->n < 4) {
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
		l->sizes[l->n] = size;
		snprintf(l->hashes[l->n], sizeof(l->hashes[0]), "%s", hash);
	}
	l->n++;
	if (!created || strlen(created) != 20 || created[4] != '-' ||
	    created[10] != 'T' || created[19] != 'Z')
		l->created_ok = 0;
	return l->stop_with;
}

static void test_store(sp_ctx *ctx)
{
	char db[300], other[300], text[300], empty[300], hex[17];
	sp_vocab *v = NULL, *w = NULL, *got = NULL;
	sp_vocab_counter *c = NULL;
	const sp_special all[] = {SP_SPECIAL_PAD, SP_SPECIAL_UNK,
				  SP_SPECIAL_BOS, SP_SPECIAL_EOS};
	listed l;
	char *before, *after;
	int err;

	path_(db, sizeof(db), "store.sqlite");
	path_(other, sizeof(other), "other.sqlite");
	path_(text, sizeof(text), "notes.txt");
	path_(empty, sizeof(empty), "empty.sqlite");

	sp_vocab_counter_new(&c);
	count_s_(c, ctx, "the cat sat on the mat \xe6\x97\xa5 \xf0\x9f\x98\x80 "
			 "the");
	sp_vocab_build(&v, ctx, c, 1, 0, all, 4);
	sp_vocab_counter_free(c);
	c = NULL;
	sp_vocab_counter_new(&c);
	count_s_(c, ctx, "a b b");
	sp_vocab_build(&w, ctx, c, 1, 0, NULL, 0);
	sp_vocab_counter_free(c);

	err = sp_vocab_load(&got, ctx, db, "en");
	ok(err == SP_ENOTFOUND && got == NULL && has_(sp_errmsg(ctx), db),
	   "load from a missing file is SP_ENOTFOUND: %s", sp_errmsg(ctx));
	ok(sp_vocab_list(ctx, db, list_cb_, &l) == SP_ENOTFOUND,
	   "list of a missing file is SP_ENOTFOUND");

	err = sp_vocab_save(v, ctx, db, "en");
	ok(err == 0, "save creates the store: %s",
	   err ? sp_errmsg(ctx) : "ok");
	ok(sql_int_(db, "PRAGMA application_id") == SP_VOCAB_STORE_APPID &&
		   sql_int_(db, "PRAGMA user_version") == SP_VOCAB_STORE_VERSION,
	   "application_id and user_version set");
	ok(sql_int_(db, "SELECT journal_mode = 'wal' FROM "
			"pragma_journal_mode") == 1, "WAL journal mode");
	err = sp_vocab_load(&got, ctx, db, "en");
	ok(err == 0 && same_vocab_(v, got),
	   "load gives identical tokens, counts, specials, hash");
	sp_vocab_free(got);
	got = NULL;

	err = sp_vocab_load(&got, ctx, db, "fr");
	ok(err == SP_ENOTFOUND && got == NULL && has_(sp_errmsg(ctx), "'fr'"),
	   "missing name is SP_ENOTFOUND: %s", sp_errmsg(ctx));

	ok(sp_vocab_save(w, ctx, db, "en") == 0, "save again under one name");
	sp_vocab_load(&got, ctx, db, "en");
	ok(same_vocab_(w, got), "the second save replaced the first");
	sp_vocab_free(got);
	got = NULL;
	ok(sql_int_(db, "SELECT count(*) FROM vocabularies") == 1 &&
		   sql_int_(db, "SELECT count(*) FROM tokens") ==
			   (int64_t)sp_vocab_size(w),
	   "old rows are gone (cascade)");

	ok(sp_vocab_save(v, ctx, db, "big") == 0, "a second name");
	ok(sp_vocab_load(&got, ctx, db, "big") == 0 && same_vocab_(v, got),
	   "name big loads");
	sp_vocab_free(got);
	got = NULL;
	ok(sp_vocab_load(&got, ctx, db, "en") == 0 && same_vocab_(w, got),
	   "name en still loads");
	sp_vocab_free(got);
	got = NULL;

	memset(&l, 0, sizeof(l));
	l.created_ok = 1;
	ok(sp_vocab_list(ctx, db, list_cb_, &l) == 0 && l.n == 2, "list: 2");
	snprintf(hex, sizeof(hex), "%016" PRIx64, sp_vocab_hash(v));
	ok(!strcmp(l.names[0], "big") && !strcmp(l.names[1], "en"),
	   "by name: %s %s", l.names[0], l.names[1]);
	ok(l.sizes[0] == sp_vocab_size(v) && l.sizes[1] == sp_vocab_size(w),
	   "sizes");
	ok_str(l.hashes[0], hex, "hash as 16 hex digits");
	ok(l.created_ok, "created is YYYY-MM-DDTHH:MM:SSZ");
	memset(&l, 0, sizeof(l));
	l.stop_with = SP_EINTR;
	ok(sp_vocab_list(ctx, db, list_cb_, &l) == SP_EINTR && l.n == 1,
	   "a callback's error stops the list and comes back");

	{
		/* WAL: a reader holding a snapshot does not block a save,
		 * and keeps seeing its snapshot. */
		sqlite3 *rd = NULL;
		sqlite3_stmt *st = NULL;
		int64_t n0 = -1, n1 = -1;
		sqlite3_open(db, &rd);
		sqlite3_exec(rd, "BEGIN", NULL, NULL, NULL);
		sqlite3_prepare_v2(rd, "SELECT count(*) FROM vocabularies", -1,
				   &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			n0 = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		err = sp_vocab_save(w, ctx, db, "de");
		ok(err == 0, "save while another connection reads: %s",
		   err ? sp_errmsg(ctx) : "ok");
		if (sqlite3_step(st) == SQLITE_ROW)
			n1 = sqlite3_column_int64(st, 0);
		ok(n0 == 2 && n1 == 2, "the reader keeps its snapshot");
		sqlite3_finalize(st);
		sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL);
		/* and a writer holding the lock does not block a load */
		sqlite3_exec(rd, "BEGIN IMMEDIATE; DELETE FROM tokens;", NULL,
			     NULL, NULL);
		err = sp_vocab_load(&got, ctx, db, "de");
		ok(err == 0 && same_vocab_(w, got),
		   "load while another connection writes");
		sp_vocab_free(got);
		got = NULL;
		sqlite3_exec(rd, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(rd);
	}

	/* A delete in a shell without foreign keys leaves orphan tokens;
	 * a save that reuses the id (de was saved last) must still work. */
	sql_(db, "DELETE FROM vocabularies WHERE name = 'de'");
	err = sp_vocab_save(w, ctx, db, "de");
	ok(err == 0 && sp_vocab_load(&got, ctx, db, "de") == 0 &&
		   same_vocab_(w, got),
	   "save over orphan tokens: %s", err ? sp_errmsg(ctx) : "ok");
	sp_vocab_free(got);
	got = NULL;

	/* An edited store fails its hash check. */
	sql_(db, "UPDATE tokens SET token = 'cow' WHERE token = 'cat'");
	err = sp_vocab_load(&got, ctx, db, "big");
	ok(err == SP_EINPUT && got == NULL && has_(sp_errmsg(ctx), "damaged"),
	   "edited tokens are detected: %s", sp_errmsg(ctx));
	sql_(db, "PRAGMA user_version = 99");
	err = sp_vocab_load(&got, ctx, db, "en");
	ok(err == SP_EINPUT && has_(sp_errmsg(ctx), "upgrade"),
	   "newer schema is SP_EINPUT: %s", sp_errmsg(ctx));

	/* Another application's SQLite file is left alone. */
	sql_(other, "CREATE TABLE notes (x TEXT)");
	err = sp_vocab_load(&got, ctx, other, "en");
	ok(err == SP_EINPUT && has_(sp_errmsg(ctx), other) &&
		   has_(sp_errmsg(ctx), "not a seqpipe vocabulary store"),
	   "foreign SQLite file: %s", sp_errmsg(ctx));
	err = sp_vocab_save(v, ctx, other, "en");
	ok(err == SP_EINPUT, "save refuses it too");
	ok(sql_int_(other, "SELECT count(*) FROM sqlite_master") == 1 &&
		   sql_int_(other, "SELECT journal_mode = 'delete' FROM "
				   "pragma_journal_mode") == 1,
	   "and does not change it");
	ok(sp_vocab_list(ctx, other, list_cb_, &l) == SP_EINPUT,
	   "list refuses it");
	sql_(other, "DROP TABLE notes; PRAGMA application_id = 42");
	err = sp_vocab_load(&got, ctx, other, "en");
	ok(err == SP_EINPUT && has_(sp_errmsg(ctx), "0x0000002a"),
	   "empty file of another application: %s", sp_errmsg(ctx));

	/* Not SQLite at all. */
	write_file_(text, "# my notes\nThis is not a database, but it is "
			  "long enough to hold an SQLite header, surely.\n"
			  "0123456789012345678901234567890123456789\n");
	err = sp_vocab_load(&got, ctx, text, "en");
	ok(err == SP_EINPUT && has_(sp_errmsg(ctx), text) &&
		   has_(sp_errmsg(ctx), "not an SQLite database"),
	   "text file: %s", sp_errmsg(ctx));
	before = read_file_(text);
	err = sp_vocab_save(v, ctx, text, "en");
	after = read_file_(text);
	ok(err == SP_EINPUT && before && after && !strcmp(before, after),
	   "save refuses a text file and leaves it as it was");
	free(before);
	free(after);

	/* An empty file is an empty store. */
	write_file_(empty, "");
	err = sp_vocab_load(&got, ctx, empty, "en");
	ok(err == SP_ENOTFOUND, "empty file: name not found");
	memset(&l, 0, sizeof(l));
	ok(sp_vocab_list(ctx, empty, list_cb_, &l) == 0 && l.n == 0,
	   "empty file: empty list");
	sp_vocab_free(w);
	sp_vocab_new(&w);
	ok(sp_vocab_save(w, ctx, empty, "nothing") == 0 &&
		   sp_vocab_load(&got, ctx, empty, "nothing") == 0 &&
		   sp_vocab_size(got) == 0 && same_vocab_(w, got),
	   "an empty vocabulary round-trips");
	sp_vocab_free(got);
	got = NULL;

	sp_vocab_free(v);
	sp_vocab_free(w);
}

static void test_schema(void)
{
	const char *srcdir = getenv("srcdir");
	char path[1024];
	char *text;
	snprintf(path, sizeof(path), "%s/vocab/schema.sql",
		 srcdir ? srcdir : ".");
	text = read_file_(path);
	ok(text != NULL, "read %s", path);
	ok(text && strcmp(text, sp_vocab_schema()) == 0,
	   "vocab/schema.sql is the SQL in sp_vocab_store.c");
	free(text);
}

/* ------------------------------------------------------------------ */
/* The onehot plugin                                                   */
/* ------------------------------------------------------------------ */

/* create() with args "k=v" pairs (NULL-terminated), each from line 3 of
 * test.pipe. */
static int make_(void **out, sp_ctx *ctx, const sp_encoder_ops *ops, ...)
{
	sp_kv *kv = NULL;
	va_list ap;
	const char *arg;
	int err, col = 10;
	*out = NULL;
	if ((err = sp_kv_new(&kv, "encode")))
		return err;
	va_start(ap, ops);
	while (!err && (arg = va_arg(ap, const char *))) {
		char key[64], where[64];
		size_t n = strcspn(arg, "=");
		snprintf(key, sizeof(key), "%.*s", (int)n, arg);
		snprintf(where, sizeof(where), "test.pipe:3:%d", col);
		col += 10;
		err = sp_kv_set(kv, ctx, key, arg + n + 1, 0, where);
	}
	va_end(ap);
	if (!err)
		err = sp_kv_validate(kv, ctx, ops->base.params, ".");
	if (!err)
		err = ops->create(out, ctx, kv);
	sp_kv_free(kv);
	return err;
}

static int observe_s_(const sp_encoder_ops *ops, void *self, sp_ctx *ctx,
		      const char *text)
{
	int err = 0;
	while (*text && !err) {
		size_t n = strcspn(text, " ");
		if (n)
			err = ops->observe(self, ctx, text, n);
		text += n;
		text += strspn(text, " ");
	}
	return err;
}

static int32_t enc_(const sp_encoder_ops *ops, void *self, sp_ctx *ctx,
		    const char *tok)
{
	int32_t id = -99;
	int err = ops->encode(self, ctx, tok, strlen(tok), &id);
	return err ? err : id;
}

static void test_onehot(sp_ctx *ctx, const char *db)
{
	const sp_plugin *p = onehot_LTX_sp_plugin_entry();
	const sp_encoder_ops *ops;
	const sp_param_spec *ps;
	sp_vocab *v = NULL, *loaded = NULL;
	void *self = NULL;
	char buf[256], longtok[512] = "";
	int err, documented = 1;

	ok(p && p->abi == SP_ABI_VERSION && !strcmp(p->name, "onehot") &&
		   p->version && p->doc, "descriptor");
	ok(p->components[0] && p->components[1] == NULL &&
		   p->components[0]->kind == SP_KIND_ENCODER &&
		   p->components[0]->size == sizeof(sp_encoder_ops) &&
		   !strcmp(p->components[0]->name, "onehot"),
	   "one encoder component, onehot");
	ops = (const sp_encoder_ops *)p->components[0];
	for (ps = ops->base.params; ps->key; ps++)
		documented &= ps->doc && *ps->doc && ps->def;
	ok(documented && ps - ops->base.params == 7,
	   "7 documented params with defaults");
	ops->destroy(NULL);

	/* Defaults: all specials, min_count 1. */
	ok(make_(&self, ctx, ops, (char *)NULL) == 0 && self, "create");
	ok(enc_(ops, self, ctx, "the") == SP_EINVAL,
	   "encode before finish is SP_EINVAL");
	ok(observe_s_(ops, self, ctx, "the cat sat on the mat the") == 0,
	   "observe");
	sp_vocab_new(&v);
	ok(ops->finish(self, ctx, v) == 0, "finish");
	ok_str(joined_(buf, sizeof(buf), v),
	       "<pad> <unk> <s> </s> the cat sat on mat", "vocabulary");
	ok(enc_(ops, self, ctx, "the") == 4 && enc_(ops, self, ctx, "mat") == 8,
	   "encode known tokens");
	ok(enc_(ops, self, ctx, "dog") == 1, "unknown -> <unk> = 1");
	ok(ops->observe(self, ctx, "x", 1) == SP_EINVAL,
	   "observe after finish is SP_EINVAL");
	ok(ops->finish(self, ctx, v) == SP_EINVAL, "finish twice is SP_EINVAL");
	ops->destroy(self);
	self = NULL;

	/* finish into a vocabulary that is not empty */
	make_(&self, ctx, ops, (char *)NULL);
	observe_s_(ops, self, ctx, "a b");
	err = ops->finish(self, ctx, v);
	ok(err == SP_EINVAL && !strncmp(sp_errmsg(ctx), "onehot: ", 8),
	   "finish into a full vocab: %s", sp_errmsg(ctx));
	ops->destroy(self);
	self = NULL;
	sp_vocab_free(v);

	/* No specials: an unknown token is an input error. */
	make_(&self, ctx, ops, "specials=none", "min_count=2", (char *)NULL);
	observe_s_(ops, self, ctx, "the cat sat on the mat the");
	sp_vocab_new(&v);
	ok(ops->finish(self, ctx, v) == 0 && sp_vocab_size(v) == 1,
	   "specials=none min_count=2: {the}");
	ok(enc_(ops, self, ctx, "the") == 0, "the -> 0");
	ok(enc_(ops, self, ctx, "dog") == SP_EINPUT &&
		   has_(sp_errmsg(ctx), "unknown token 'dog'") &&
		   has_(sp_errmsg(ctx), "no <unk>"),
	   "unknown without <unk>: %s", sp_errmsg(ctx));
	for (int i = 0; i < 100; i++)
		strcat(longtok, "\xf0\x9f\x98\x80");
	ok(enc_(ops, self, ctx, longtok) == SP_EINPUT &&
		   utf8_valid_(sp_errmsg(ctx)) && has_(sp_errmsg(ctx), "..."),
	   "a long unknown token is cut as valid UTF-8");
	ops->destroy(self);
	self = NULL;
	sp_vocab_free(v);

	/* A comma list in its own order, and max_size. */
	ok(make_(&self, ctx, ops, "specials= eos , pad", "max_size=3",
		 (char *)NULL) == 0, "specials=\"eos , pad\" max_size=3");
	observe_s_(ops, self, ctx, "b a a");
	sp_vocab_new(&v);
	ops->finish(self, ctx, v);
	ok_str(joined_(buf, sizeof(buf), v), "</s> <pad> a", "their vocabulary");
	ok(enc_(ops, self, ctx, "b") == SP_EINPUT, "no <unk>: b is an error");
	ops->destroy(self);
	self = NULL;

	/* attach() a stored vocabulary */
	sp_vocab_save(v, ctx, db, "tiny");
	sp_vocab_free(v);
	v = NULL;
	ok(sp_vocab_load(&loaded, ctx, db, "tiny") == 0, "load for attach");
	make_(&self, ctx, ops, (char *)NULL);
	ok(ops->attach(self, ctx, loaded) == 0, "attach");
	ok(enc_(ops, self, ctx, "a") == 2 && enc_(ops, self, ctx, "</s>") == 0,
	   "encode through the attached vocab");
	ok(ops->observe(self, ctx, "x", 1) == SP_EINVAL,
	   "observe after attach is SP_EINVAL");
	ops->destroy(self);
	self = NULL;
	sp_vocab_free(loaded);

	/* Bad params name where they came from. */
	err = make_(&self, ctx, ops, "min_count=0", (char *)NULL);
	ok(err == SP_EINVAL && self == NULL &&
		   has_(sp_errmsg(ctx), "test.pipe:3:10") &&
		   has_(sp_errmsg(ctx), "min_count"),
	   "min_count=0: %s", sp_errmsg(ctx));
	err = make_(&self, ctx, ops, "specials=all", "max_size=-1",
		    (char *)NULL);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "test.pipe:3:20") &&
		   has_(sp_errmsg(ctx), "max_size"),
	   "max_size=-1: %s", sp_errmsg(ctx));
	err = make_(&self, ctx, ops, "max_size=3", (char *)NULL);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "no room"),
	   "max_size=3 with 4 specials: %s", sp_errmsg(ctx));
	err = make_(&self, ctx, ops, "specials=pad,foo", (char *)NULL);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "test.pipe:3:10") &&
		   has_(sp_errmsg(ctx), "'foo'"),
	   "specials=pad,foo: %s", sp_errmsg(ctx));
	err = make_(&self, ctx, ops, "specials=unk,unk", (char *)NULL);
	ok(err == SP_EINVAL && has_(sp_errmsg(ctx), "twice"),
	   "specials=unk,unk: %s", sp_errmsg(ctx));
	err = make_(&self, ctx, ops, "specials=", (char *)NULL);
	ok(err == SP_EINVAL, "specials= (empty): %s", sp_errmsg(ctx));
	err = make_(&self, ctx, ops, "lowercase=true", (char *)NULL);
	ok(err == SP_EINVAL && self == NULL, "unknown key lowercase: %s",
	   sp_errmsg(ctx));
}

/* case = lower: one entry per lower-cased word, encode() looks the
 * lower case up, and unknown words keep the shape of their capitals. */
static void test_onehot_lower(sp_ctx *ctx)
{
	const sp_encoder_ops *ops =
		(const sp_encoder_ops *)onehot_LTX_sp_plugin_entry()->components[0];
	sp_vocab *v = NULL;
	void *self = NULL;
	char buf[256];
	ok(make_(&self, ctx, ops, "case=lower", "specials=unk", "min_count=2",
		 "unk_shapes=true", (char *)NULL) == 0, "case=lower unk_shapes=true");
	ok(observe_s_(ops, self, ctx, "The the THE Paris paris \xc3\x89t\xc3\xa9 "
		      "\xc3\xa9t\xc3\xa9 London Oslo") == 0, "observe");
	sp_vocab_new(&v);
	ok(ops->finish(self, ctx, v) == 0, "finish");
	/* London and Oslo (once each) are known by their shape only */
	ok_str(joined_(buf, sizeof(buf), v),
	       "<unk> the paris \xc3\xa9t\xc3\xa9 <unk:Aa>", "vocabulary of lower-cased words");
	ok(enc_(ops, self, ctx, "THE") == 1 && enc_(ops, self, ctx, "tHe") == 1,
	   "any case of the -> the");
	ok(enc_(ops, self, ctx, "\xc3\x89T\xc3\x89") == 3, "\xc3\x89T\xc3\x89 -> \xc3\xa9t\xc3\xa9 (not ASCII only)");
	ok(enc_(ops, self, ctx, "Berlin") == 4, "an unknown Berlin -> <unk:Aa>");
	ok(enc_(ops, self, ctx, "berlin") == 0, "an unknown berlin -> <unk> (no <unk:a> was seen)");
	ops->destroy(self);
	sp_vocab_free(v);
	ok(make_(&self, ctx, ops, "case=upper", (char *)NULL) == SP_EINVAL && !self,
	   "case=upper: %s", sp_errmsg(ctx));
}

/* unk_replace: every word has its vector (min_count = 1), and a word seen
 * once names the shape class it reads as at times; that class is in the
 * vocabulary though no word fell below min_count. */
static void test_onehot_unknown(sp_ctx *ctx)
{
	const sp_encoder_ops *ops =
		(const sp_encoder_ops *)onehot_LTX_sp_plugin_entry()->components[0];
	sp_vocab *v = NULL;
	void *self = NULL;
	char buf[256];
	int32_t id = -9;
	float p = -1;
	int err;
	ok(SP_HAS_OP(sp_encoder_ops, ops, unknown), "onehot has the unknown op");
	ok(make_(&self, ctx, ops, "case=lower", "specials=unk", "unk_shapes=true",
		 "unk_replace=0.25", (char *)NULL) == 0, "unk_replace=0.25");
	ok(observe_s_(ops, self, ctx, "the The Paris") == 0, "observe");
	sp_vocab_new(&v);
	ok(ops->finish(self, ctx, v) == 0, "finish");
	ok_str(joined_(buf, sizeof(buf), v), "<unk> the paris <unk:Aa>",
	       "every word, and the shape of the word seen once");
	ok(enc_(ops, self, ctx, "Paris") == 2, "Paris reads as itself");
	err = ops->unknown(self, ctx, "Paris", 5, &id, &p);
	ok(err == 0 && id == 3 && p == 0.25f,
	   "Paris (seen once) reads as <unk:Aa> with chance 0.25 (id %d, p %g)", id, (double)p);
	err = ops->unknown(self, ctx, "THE", 3, &id, &p);
	ok(err == 0 && p == 0, "the (seen twice) always reads as itself (p %g)", (double)p);
	err = ops->unknown(self, ctx, "Oslo", 4, &id, &p);
	ok(err == 0 && p == 0, "an unknown word has no replacement (p %g)", (double)p);
	ops->destroy(self);
	sp_vocab_free(v);
	ok(make_(&self, ctx, ops, "unk_replace=1.5", (char *)NULL) == SP_EINVAL && !self &&
	   strstr(sp_errmsg(ctx), "unk_replace=1.5: expected a chance in 0..1"),
	   "unk_replace=1.5: %s", sp_errmsg(ctx));
}

/* order = first: tokens as first seen ("hello" -> h e l o), while
 * max_size still keeps the most frequent. */
static void test_first_seen(sp_ctx *ctx)
{
	sp_vocab_counter *c = NULL;
	sp_vocab *v = NULL, *w = NULL;
	const char *word = "hello";
	sp_vocab_counter_new(&c);
	for (const char *p = word; *p; p++)
		sp_vocab_counter_add(c, ctx, p, 1);
	sp_vocab_new(&v);
	ok(sp_vocab_build_ordered(v, ctx, c, 1, 0, NULL, 0, SP_VOCAB_FIRST_SEEN) == SP_OK &&
	   sp_vocab_size(v) == 4 && !strcmp(sp_vocab_token(v, 0), "h") &&
	   !strcmp(sp_vocab_token(v, 1), "e") && !strcmp(sp_vocab_token(v, 2), "l") &&
	   !strcmp(sp_vocab_token(v, 3), "o"),
	   "first-seen order of hello is h e l o");
	sp_vocab_new(&w);
	ok(sp_vocab_build_ordered(w, ctx, c, 1, 2, NULL, 0, SP_VOCAB_FIRST_SEEN) == SP_OK &&
	   sp_vocab_size(w) == 2 && !strcmp(sp_vocab_token(w, 0), "h") &&
	   !strcmp(sp_vocab_token(w, 1), "l"),
	   "max_size 2 keeps l (most frequent) and h (first tie), in first-seen order");
	sp_vocab_free(v);
	sp_vocab_free(w);
	sp_vocab_counter_free(c);
}

/* An empty counter (a training split with no tokens) builds an empty
 * vocabulary, without handing qsort a NULL array (UBSan reported it on
 * `pipeline run --set 'data.train=""'`, issue 12). */
static void test_empty_counter(sp_ctx *ctx)
{
	sp_vocab_counter *c = NULL;
	sp_vocab *v = NULL;

	ok(sp_vocab_counter_new(&c) == 0, "empty counter");
	ok(sp_vocab_new(&v) == 0 &&
		   sp_vocab_build_ordered(v, ctx, c, 1, 0, NULL, 0,
					  SP_VOCAB_FIRST_SEEN) == 0 &&
		   sp_vocab_size(v) == 0,
	   "an empty counter builds an empty vocabulary");
	sp_vocab_free(v);
	sp_vocab_counter_free(c);
}

int main(void)
{
	sp_ctx *ctx = NULL;
	const char *tmp = getenv("TMPDIR");
	char db[300];
	const char *files[] = {"store.sqlite", "store.sqlite-wal",
			       "store.sqlite-shm", "other.sqlite", "notes.txt",
			       "notes.txt-wal", "notes.txt-shm", "empty.sqlite",
			       "empty.sqlite-wal", "empty.sqlite-shm",
			       "plugin.sqlite", "plugin.sqlite-wal",
			       "plugin.sqlite-shm", NULL};

	snprintf(dir_, sizeof(dir_), "%s/t_vocab.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir_) || sp_ctx_new(&ctx, 1)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_basics(ctx);
	test_build(ctx);
	test_first_seen(ctx);
	test_empty_counter(ctx);
	test_hash_clone(ctx);
	test_utf8(ctx);
	test_store(ctx);
	test_schema();
	test_onehot(ctx, path_(db, sizeof(db), "plugin.sqlite"));
	test_onehot_unknown(ctx);
	test_onehot_lower(ctx);

	for (int i = 0; files[i]; i++) {
		char path[300];
		remove(path_(path, sizeof(path), files[i]));
	}
	ok(rmdir(dir_) == 0, "temporary directory cleaned up");
	sp_ctx_free(ctx);
	return tap_done();
}
