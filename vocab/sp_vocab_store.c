/*
 * sp_vocab_store.c: the SQLite store of vocabularies (save, load, list),
 * many named vocabularies in one file.  It reads and builds vocabularies
 * through sp_vocab.h only; the table itself is sp_vocab.c.
 *
 * The store opens one SQLite connection per call and closes it before
 * returning: calls are rare (once per run), and no connection state then
 * outlives a call.
 */
#include "sp_vocab.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_sqlite.h"

/* A run saving its vocabulary waits this long for another writer: it
 * happens once per run, before training, so a long wait is cheap. */
#define STORE_BUSY_MS 30000

/* Ceilings that keep a damaged or hostile store from costing without
 * bound (fuzz/regress/vocab): no value (token, name, schema text) longer
 * than this, which is what SQLite would allocate for a cell that claims
 * it, and a read may run this many SQLite VM steps per byte of the file
 * (plus a floor); an honest load takes a few per byte. */
#define STORE_MAX_VALUE (4 << 20)
#define STORE_STEPS_PER_BYTE 400
#define STORE_STEPS_FLOOR 20000000
#define STORE_STEP_CHECK 10000 /* the progress handler's period */

/* The budget of one read (store_begin_read_), in STORE_STEP_CHECK steps:
 * the progress handler's payload. */
typedef struct read_budget {
	int64_t left;
} read_budget;

static int budget_spent_(void *payload)
{
	read_budget *b = payload;
	return --b->left < 0;
}

/* Kept identical to vocab/schema.sql (tests/t_vocab.c compares them). */
static const char schema_sql_[] =
	"-- seqpipe vocabulary store, schema version 1: many named vocabularies in\n"
	"-- one SQLite file.  Ids are dense from 0 within a vocabulary; pad_id ..\n"
	"-- eos_id are NULL when it has no such special token.  This text is kept\n"
	"-- identical in vocab/schema.sql and vocab/sp_vocab_store.c (sp_vocab_schema);\n"
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
	if ((rc & 0xff) == SQLITE_TOOBIG)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' is a damaged vocabulary store: a "
			      "value longer than %d bytes, the ceiling of a "
			      "token or name", path, STORE_MAX_VALUE);
	if ((rc & 0xff) == SQLITE_INTERRUPT)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' is a damaged vocabulary store: "
			      "reading it took more than %d SQLite steps per "
			      "byte, the ceiling of a store", path,
			      STORE_STEPS_PER_BYTE);
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
	sp_sqlite_distrust_schema(db);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, STORE_MAX_VALUE);
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
	/* Its two tables must be tables: a view or a trigger would run SQL
	 * the file chose (a recursive view never ends) on every load. */
	if ((err = query_int_(db, ctx, path,
			      "SELECT count(*) FROM sqlite_master WHERE type "
			      "IN ('view', 'trigger') OR (name IN "
			      "('vocabularies', 'tokens') AND type <> 'table')",
			      &ntables)))
		return err;
	if (ntables)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' is a damaged vocabulary store: it "
			      "has views or triggers, expected only the tables "
			      "vocabularies and tokens", path);
	return SP_OK;
}

/* Runs a statement of one step that returns no row, with text ?1 or
 * integer ?1 bound (a DELETE). */
static int step_done_(sqlite3 *db, sp_ctx *ctx, const char *path,
		      const char *sql, const char *text, sqlite3_int64 num)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	if ((err = prepare_(db, ctx, path, sql, &st)))
		return err;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, num);
	rc = sqlite3_step(st);
	err = rc == SQLITE_DONE ? SP_OK : db_err_(ctx, db, rc, path);
	sqlite3_finalize(st);
	return err;
}

/* Ends a call: rolls back what is not committed, closes the store. */
static void store_close_(sqlite3 *db, sqlite3_stmt *st)
{
	sqlite3_finalize(st);
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
}

static void hash_hex_(char out[17], uint64_t h)
{
	snprintf(out, 17, "%016" PRIx64, h);
}

/* Opens the store for a save, creating it (with its schema) when missing,
 * and takes the write lock. */
static int store_begin_write_(sqlite3 **out, sp_ctx *ctx, const char *path)
{
	sqlite3 *db = NULL;
	int err, rc, fresh;
	*out = NULL;
	if ((err = store_open_(&db, ctx, path, 1)))
		return err;
	/* Refuse a foreign file before anything writes to it: even the
	 * switch to WAL below would change it. */
	if ((err = store_check_(db, ctx, path, &fresh)))
		goto fail;
	/* WAL lets loads proceed while another run saves. */
	if ((rc = sp_sqlite_enable_wal(db, STORE_BUSY_MS)) != SQLITE_OK) {
		err = db_err_(ctx, db, rc, path);
		goto fail;
	}
	/* IMMEDIATE takes the write lock now: two runs saving at once, or
	 * creating one new store, then wait for each other (busy timeout)
	 * instead of failing when a read lock cannot be upgraded. */
	if ((err = exec_(db, ctx, path, "BEGIN IMMEDIATE")))
		goto fail;
	/* Again under the lock: another run may have created the schema. */
	if ((err = store_check_(db, ctx, path, &fresh)))
		goto fail;
	if (fresh && (err = exec_(db, ctx, path, sp_vocab_schema())))
		goto fail;
	*out = db;
	return SP_OK;
fail:
	store_close_(db, NULL);
	return err;
}

/* Replaces the row of vocabulary name by v's; its new id in *vid. */
static int save_row_(sqlite3 *db, sp_ctx *ctx, const char *path,
		     const sp_vocab *v, const char *name, sqlite3_int64 *vid)
{
	sqlite3_stmt *st = NULL;
	char hash[17];
	int err, rc;
	/* The tokens of a replaced vocabulary go by ON DELETE CASCADE. */
	if ((err = step_done_(db, ctx, path,
			      "DELETE FROM vocabularies WHERE name = ?1", name,
			      0)))
		return err;
	if ((err = prepare_(db, ctx, path,
			    "INSERT INTO vocabularies (name, created, size, "
			    "hash, pad_id, unk_id, bos_id, eos_id) VALUES "
			    "(?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?2, "
			    "?3, ?4, ?5, ?6, ?7)", &st)))
		return err;
	hash_hex_(hash, sp_vocab_hash(v));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)sp_vocab_size(v));
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	for (int w = 0; w < SP_SPECIAL_N; w++) {
		int32_t id = sp_vocab_special(v, (sp_special)w);
		if (id >= 0)
			sqlite3_bind_int64(st, 4 + w, id);
		else
			sqlite3_bind_null(st, 4 + w);
	}
	rc = sqlite3_step(st);
	err = rc == SQLITE_DONE ? SP_OK : db_err_(ctx, db, rc, path);
	*vid = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	return err;
}

/* Writes v's tokens under vocabulary id vid. */
static int save_tokens_(sqlite3 *db, sp_ctx *ctx, const char *path,
			const sp_vocab *v, sqlite3_int64 vid)
{
	sqlite3_stmt *st = NULL;
	size_t n = sp_vocab_size(v);
	int err, rc;
	/* Rows a delete without foreign keys on (say, in the sqlite3 shell)
	 * left behind would clash with ours, since ids get reused. */
	if ((err = step_done_(db, ctx, path,
			      "DELETE FROM tokens WHERE vocab_id = ?1", NULL,
			      vid)))
		return err;
	if ((err = prepare_(db, ctx, path,
			    "INSERT INTO tokens (vocab_id, id, token, count) "
			    "VALUES (?1, ?2, ?3, ?4)", &st)))
		return err;
	for (size_t i = 0; i < n; i++) {
		const char *tok = sp_vocab_token(v, (int32_t)i);
		sqlite3_bind_int64(st, 1, vid);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, tok, (int)strlen(tok), SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, sp_vocab_count(v, (int32_t)i));
		if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
			err = db_err_(ctx, db, rc, path);
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return err;
}

int sp_vocab_save(const sp_vocab *v, sp_ctx *ctx, const char *db_path,
		  const char *name)
{
	sqlite3 *db = NULL;
	sqlite3_int64 vid;
	int err;
	if (!v || !name || !*name)
		return sp_err(ctx, SP_EINVAL,
			      "vocab: save needs a vocabulary and a name");
	if ((err = store_begin_write_(&db, ctx, db_path)))
		return err;
	if (!(err = save_row_(db, ctx, db_path, v, name, &vid)) &&
	    !(err = save_tokens_(db, ctx, db_path, v, vid)))
		err = exec_(db, ctx, db_path, "COMMIT");
	store_close_(db, NULL);
	return err;
}

/* The row of a stored vocabulary: what load checks the tokens against. */
typedef struct stored_row {
	sqlite3_int64 vid, size;
	int64_t special[SP_SPECIAL_N];
	char hash[17];
} stored_row;

/* Opens the store for a load or a list, in one read transaction (the row
 * and its tokens from one save); *fresh = 1 for an empty store. */
static int store_begin_read_(sqlite3 **out, sp_ctx *ctx, const char *path,
			     int *fresh, read_budget *budget)
{
	sqlite3 *db = NULL;
	struct stat sb;
	int64_t bytes;
	int err;
	*out = NULL;
	if ((err = store_open_(&db, ctx, path, 0)))
		return err;
	bytes = stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
	budget->left = (STORE_STEPS_FLOOR + bytes * STORE_STEPS_PER_BYTE) /
		       STORE_STEP_CHECK;
	sqlite3_progress_handler(db, STORE_STEP_CHECK, budget_spent_, budget);
	if ((err = exec_(db, ctx, path, "BEGIN")) ||
	    (err = store_check_(db, ctx, path, fresh))) {
		store_close_(db, NULL);
		return err;
	}
	*out = db;
	return SP_OK;
}

static int load_row_(sqlite3 *db, sp_ctx *ctx, const char *path,
		     const char *name, stored_row *row)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	if ((err = prepare_(db, ctx, path,
			    "SELECT id, size, hash, pad_id, unk_id, bos_id, "
			    "eos_id FROM vocabularies WHERE name = ?1", &st)))
		return err;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		err = sp_err(ctx, SP_ENOTFOUND,
			     "vocab: no vocabulary '%s' in '%s'", name, path);
	} else if (rc != SQLITE_ROW) {
		err = db_err_(ctx, db, rc, path);
	} else {
		row->vid = sqlite3_column_int64(st, 0);
		row->size = sqlite3_column_int64(st, 1);
		snprintf(row->hash, sizeof(row->hash), "%s",
			 sqlite3_column_text(st, 2) ?
				 (const char *)sqlite3_column_text(st, 2) : "");
		for (int w = 0; w < SP_SPECIAL_N; w++)
			row->special[w] =
				sqlite3_column_type(st, 3 + w) == SQLITE_NULL ?
					-1 : sqlite3_column_int64(st, 3 + w);
		err = SP_OK;
	}
	sqlite3_finalize(st);
	return err;
}

/* Appends the tokens of vocabulary vid to v, checking that ids are dense. */
static int load_tokens_(sqlite3 *db, sp_ctx *ctx, const char *path,
			const char *name, sqlite3_int64 vid, sp_vocab *v)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	if ((err = prepare_(db, ctx, path,
			    "SELECT id, token, count FROM tokens "
			    "WHERE vocab_id = ?1 ORDER BY id", &st)))
		return err;
	sqlite3_bind_int64(st, 1, vid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tok = (const char *)sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		size_t n = sp_vocab_size(v);
		if (sqlite3_column_int64(st, 0) != (sqlite3_int64)n) {
			err = sp_err(ctx, SP_EINPUT,
				     "vocab: '%s' in '%s' is damaged: id %zu "
				     "is missing", name, path, n);
			goto done;
		}
		if ((err = sp_vocab_add(v, ctx, tok, len,
					sqlite3_column_int64(st, 2), NULL))) {
			if (err != SP_ENOMEM)
				err = sp_err(ctx, SP_EINPUT,
					     "vocab: '%s' in '%s' is damaged: "
					     "bad token or count at id %zu",
					     name, path, n);
			goto done;
		}
	}
	err = rc == SQLITE_DONE ? SP_OK : db_err_(ctx, db, rc, path);
done:
	sqlite3_finalize(st);
	return err;
}

/* Checks the loaded tokens against their row (size, hash) and sets the
 * specials the row names. */
static int load_verify_(sp_ctx *ctx, const char *path, const char *name,
			const stored_row *row, sp_vocab *v)
{
	size_t n = sp_vocab_size(v);
	char hash[17];
	int err;
	if (row->size < 0 || (size_t)row->size != n)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' in '%s' is damaged: size %lld but "
			      "%zu tokens", name, path, (long long)row->size,
			      n);
	for (int w = 0; w < SP_SPECIAL_N; w++) {
		if (row->special[w] < -1 || row->special[w] >= row->size)
			return sp_err(ctx, SP_EINPUT,
				      "vocab: '%s' in '%s' is damaged: %s_id %"
				      PRId64 " out of range", name, path,
				      sp_special_name((sp_special)w),
				      row->special[w]);
		if ((err = sp_vocab_set_special(v, ctx, (sp_special)w,
						(int32_t)row->special[w])))
			return err;
	}
	hash_hex_(hash, sp_vocab_hash(v));
	if (strcmp(hash, row->hash) != 0)
		return sp_err(ctx, SP_EINPUT,
			      "vocab: '%s' in '%s' is damaged: hash %s, "
			      "stored %s", name, path, hash, row->hash);
	return SP_OK;
}

int sp_vocab_load(sp_vocab **out, sp_ctx *ctx, const char *db_path,
		  const char *name)
{
	sqlite3 *db = NULL;
	sp_vocab *v = NULL;
	stored_row row;
	read_budget budget;
	int err, fresh;
	*out = NULL;
	if (!name || !*name)
		return sp_err(ctx, SP_EINVAL, "vocab: load needs a name");
	if ((err = store_begin_read_(&db, ctx, db_path, &fresh, &budget)))
		return err;
	if (fresh)
		err = sp_err(ctx, SP_ENOTFOUND,
			     "vocab: no vocabulary '%s' in '%s' (empty store)",
			     name, db_path);
	else if (!(err = load_row_(db, ctx, db_path, name, &row)) &&
		 (err = sp_vocab_new(&v)))
		err = sp_err(ctx, err, "vocab: out of memory");
	if (!err &&
	    !(err = load_tokens_(db, ctx, db_path, name, row.vid, v)) &&
	    !(err = load_verify_(ctx, db_path, name, &row, v)))
		err = exec_(db, ctx, db_path, "COMMIT");
	store_close_(db, NULL);
	if (err) {
		sp_vocab_free(v);
		return err;
	}
	*out = v;
	return SP_OK;
}

int sp_vocab_list(sp_ctx *ctx, const char *db_path, sp_vocab_list_fn fn,
		  void *payload)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	read_budget budget;
	int err, rc, fresh;
	if (!fn)
		return sp_err(ctx, SP_EINVAL, "vocab: list needs a callback");
	if ((err = store_begin_read_(&db, ctx, db_path, &fresh, &budget)))
		return err;
	if (fresh)
		goto done;
	if ((err = prepare_(db, ctx, db_path,
			    "SELECT name, size, created, hash FROM "
			    "vocabularies ORDER BY name", &st)))
		goto done;
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
			goto done;
		}
		if ((err = fn(payload, vname, size > 0 ? (size_t)size : 0,
			      created, hash)))
			goto done;
	}
	if (rc != SQLITE_DONE)
		err = db_err_(ctx, db, rc, db_path);
done:
	store_close_(db, st);
	return err;
}
