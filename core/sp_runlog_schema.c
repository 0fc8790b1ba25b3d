/*
 * sp_runlog_schema.c: the run log's schema, as the list of migrations
 * that builds it (see doc/schema.md).
 */
#include "sp_runlog_priv.h"

#include <stdbool.h>
#include <string.h>

/*
 * migrations_[v] turns schema version v into v + 1.  Append only: a log
 * written by an older seqpipe is brought up to date on open.  Keep
 * doc/schema.md in step with this text.
 */
/* Columns of the run_summary view: one parameter, one final metric. */
#define PARAM_COL_(section, key, as)                                        \
	"	(SELECT p.value FROM params p WHERE p.run_id = r.id AND "    \
	"p.section = '" section "' AND p.key = '" key "') AS " as
#define FINAL_COL_(split, name)                                             \
	"	(SELECT m.value FROM metrics m WHERE m.run_id = r.id AND "   \
	"m.name = '" name "' AND m.split = '" split "' ORDER BY m.epoch "   \
	"IS NOT NULL, m.epoch DESC, m.id DESC LIMIT 1) AS " split "_" name
/* The same from schema 3: one search of final_values' primary key. */
#define FINAL3_COL_(split, name)                                            \
	"	(SELECT f.value FROM final_values f WHERE f.run_id = r.id AND " \
	"f.name = '" name "' AND f.split = '" split "') AS " split "_" name

/* The runs table, named `name`, whose status is one of `statuses` (the
 * text of a parenthesised SQL list without its closing parenthesis):
 * schema 1 makes it, schema 3 makes it again with one status more. */
#define RUNS_TABLE_(name, statuses)                                         \
	"CREATE TABLE " name " (\n"                                         \
	"	id INTEGER PRIMARY KEY,\n"                                  \
	"	pipeline TEXT NOT NULL,\n"                                  \
	"	pipe_path TEXT,\n"                                          \
	"	pipe_text TEXT,\n"                                          \
	"	pipe_hash TEXT,\n"                                          \
	"	seed INTEGER,\n"                                            \
	"	status TEXT NOT NULL DEFAULT 'running' CHECK (status IN\n"  \
	statuses ")),\n"                                                    \
	"	started TEXT NOT NULL,\n"                                   \
	"	ended TEXT,\n"                                              \
	"	error TEXT,\n"                                              \
	"	seqpipe_version TEXT,\n"                                    \
	"	host TEXT,\n"                                               \
	"	pid INTEGER\n"                                              \
	");\n"
/* The run_summary view, whose final metrics come from FINAL_COL(split,
 * name): schema 2 makes it on metrics, schema 3 on final_values. */
#define RUN_SUMMARY_(FINAL_COL)                                             \
	"CREATE VIEW run_summary AS\n"                                      \
	"SELECT r.id AS run_id, r.pipeline, r.status, r.started, r.ended,\n" \
	"	r.seed,\n"                                                  \
	PARAM_COL_("model", "plugin", "model") ",\n"                        \
	PARAM_COL_("model", "hidden", "hidden") ",\n"                       \
	PARAM_COL_("model", "layers", "layers") ",\n"                       \
	PARAM_COL_("train", "optimizer", "optimizer") ",\n"                 \
	PARAM_COL_("train", "lr", "lr") ",\n"                               \
	PARAM_COL_("train", "epochs", "epochs") ",\n"                       \
	FINAL_COL("dev", "loss") ",\n" FINAL_COL("dev", "accuracy") ",\n"   \
	FINAL_COL("dev", "f1") ",\n" FINAL_COL("dev", "perplexity") ",\n"   \
	FINAL_COL("test", "loss") ",\n" FINAL_COL("test", "accuracy") ",\n" \
	FINAL_COL("test", "f1") ",\n" FINAL_COL("test", "perplexity") ",\n" \
	"	(SELECT group_concat(t.key || '=' || t.value, ' ') FROM tags t\n" \
	"		WHERE t.run_id = r.id) AS tags\n"                   \
	"FROM runs r;\n"

static const char *const migrations_[SP_RUNLOG_SCHEMA_VERSION] = {
	/* 0 -> 1: the first schema. */
	RUNS_TABLE_("runs",
		    "		('running', 'finished', 'failed', 'interrupted'")
	"CREATE INDEX runs_pipeline ON runs(pipeline, status);\n"
	"CREATE TABLE params (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	section TEXT NOT NULL,\n"
	"	key TEXT NOT NULL,\n"
	"	value TEXT,\n"
	"	PRIMARY KEY (run_id, section, key)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE stages (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	idx INTEGER NOT NULL,\n"
	"	section TEXT NOT NULL,\n"
	"	plugin TEXT NOT NULL,\n"
	"	component TEXT NOT NULL,\n"
	"	plugin_version TEXT,\n"
	"	abi INTEGER,\n"
	"	PRIMARY KEY (run_id, idx)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE metrics (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	epoch INTEGER CHECK (epoch IS NULL OR epoch >= 0),\n"
	"	split TEXT CHECK (split IS NULL OR split IN\n"
	"		('train', 'dev', 'test')),\n"
	"	name TEXT NOT NULL,\n"
	"	value REAL,\n"
	"	ts TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX metrics_run ON metrics(run_id);\n"
	"CREATE TABLE events (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	ts TEXT NOT NULL,\n"
	"	level TEXT NOT NULL CHECK (level IN\n"
	"		('debug', 'info', 'warn', 'error')),\n"
	"	message TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX events_run ON events(run_id);\n"
	"CREATE TABLE artifacts (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	kind TEXT NOT NULL,\n"
	"	path TEXT NOT NULL,\n"
	"	bytes INTEGER,\n"
	"	checksum TEXT,\n"
	"	ts TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX artifacts_run ON artifacts(run_id, kind);\n",
	/* 1 -> 2: tags, the indexes that keep filtering fast at 100,000
	 * runs, and the views of doc/schema.md. */
	"CREATE TABLE tags (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	key TEXT NOT NULL,\n"
	"	value TEXT NOT NULL DEFAULT '',\n"
	"	PRIMARY KEY (run_id, key)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX tags_key ON tags(key, value);\n"
	"CREATE INDEX runs_status ON runs(status);\n"
	"DROP INDEX metrics_run;\n"
	"CREATE INDEX metrics_run ON metrics(run_id, name, split, epoch);\n"
	"CREATE INDEX metrics_name ON metrics(name, split);\n"
	"CREATE INDEX params_key ON params(section, key, value);\n"
	/* the final evaluation's value, else the last epoch's */
	"CREATE VIEW final_metrics AS\n"
	"SELECT m.run_id, m.split, m.name, m.epoch, m.value FROM metrics m\n"
	"WHERE m.id = (SELECT l.id FROM metrics l WHERE l.run_id = m.run_id\n"
	"	AND l.name = m.name AND l.split IS m.split\n"
	"	ORDER BY l.epoch IS NOT NULL, l.epoch DESC, l.id DESC LIMIT 1);\n"
	"CREATE VIEW metric_curve AS\n"
	"SELECT run_id, name, epoch,\n"
	"	max(CASE WHEN split = 'train' THEN value END) AS train,\n"
	"	max(CASE WHEN split = 'dev' THEN value END) AS dev,\n"
	"	max(CASE WHEN split = 'test' THEN value END) AS test,\n"
	"	max(CASE WHEN split IS NULL THEN value END) AS value\n"
	"FROM metrics WHERE epoch IS NOT NULL GROUP BY run_id, name, epoch;\n"
	RUN_SUMMARY_(FINAL_COL_),
	/* 2 -> 3: status 'diverged'; confusion matrices and sample
	 * predictions; final_values, kept by a trigger, whose
	 * index makes a filter on a final metric one index range.  SQLite
	 * cannot change a CHECK in place, so runs is rebuilt (foreign keys
	 * are off during migrations, so dropping the old table cascades
	 * nothing; the view that names runs is dropped and made again). */
	RUNS_TABLE_("runs_v3",
		    "		('running', 'finished', 'failed', 'interrupted',\n"
		    "		 'diverged'")
	"INSERT INTO runs_v3 SELECT id, pipeline, pipe_path, pipe_text,\n"
	"	pipe_hash, seed, status, started, ended, error, seqpipe_version,\n"
	"	host, pid FROM runs;\n"
	"DROP VIEW run_summary;\n"
	"DROP TABLE runs;\n"
	"ALTER TABLE runs_v3 RENAME TO runs;\n"
	"CREATE INDEX runs_pipeline ON runs(pipeline, status);\n"
	"CREATE INDEX runs_status ON runs(status);\n"
	"CREATE TABLE confusion (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	epoch INTEGER CHECK (epoch IS NULL OR epoch >= 0),\n"
	"	split TEXT NOT NULL CHECK (split IN ('train', 'dev', 'test')),\n"
	"	gold TEXT NOT NULL,\n"
	"	pred TEXT NOT NULL,\n"
	"	count INTEGER NOT NULL CHECK (count >= 0)\n"
	");\n"
	"CREATE INDEX confusion_run ON confusion(run_id, split, epoch);\n"
	"CREATE TABLE samples (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	epoch INTEGER CHECK (epoch IS NULL OR epoch >= 0),\n"
	"	split TEXT NOT NULL CHECK (split IN ('train', 'dev', 'test')),\n"
	"	input TEXT NOT NULL,\n"
	"	gold TEXT,\n"
	"	pred TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX samples_run ON samples(run_id, split, epoch);\n"
	/* split '' stands for none: a primary key column cannot be NULL */
	"CREATE TABLE final_values (\n"
	"	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	name TEXT NOT NULL,\n"
	"	split TEXT NOT NULL,\n"
	"	epoch INTEGER,\n"
	"	metric_id INTEGER NOT NULL,\n"
	"	value REAL,\n"
	"	PRIMARY KEY (run_id, name, split)\n"
	") WITHOUT ROWID;\n"
	"INSERT INTO final_values SELECT run_id, name, ifnull(split, ''),\n"
	"	epoch, (SELECT max(l.id) FROM metrics l WHERE l.run_id =\n"
	"	f.run_id AND l.name = f.name AND l.split IS f.split AND\n"
	"	l.epoch IS f.epoch), value FROM final_metrics f;\n"
	"CREATE INDEX final_values_value ON final_values(name, split, value);\n"
	/* the rule of final_metrics: a final value replaces anything, an
	 * epoch's value replaces an earlier or equal epoch's */
	"CREATE TRIGGER metrics_final AFTER INSERT ON metrics BEGIN\n"
	"	INSERT INTO final_values (run_id, name, split, epoch,\n"
	"		metric_id, value)\n"
	"	VALUES (new.run_id, new.name, ifnull(new.split, ''), new.epoch,\n"
	"		new.id, new.value)\n"
	"	ON CONFLICT (run_id, name, split) DO UPDATE SET\n"
	"		epoch = excluded.epoch, metric_id = excluded.metric_id,\n"
	"		value = excluded.value\n"
	"	WHERE excluded.epoch IS NULL OR (final_values.epoch IS NOT NULL\n"
	"		AND excluded.epoch >= final_values.epoch);\n"
	"END;\n"
	"DROP VIEW final_metrics;\n"
	"CREATE VIEW final_metrics AS\n"
	"SELECT run_id, nullif(split, '') AS split, name, epoch, value\n"
	"FROM final_values;\n"
	RUN_SUMMARY_(FINAL3_COL_),
};

const char *sp_runlog_migration_(int v)
{
	return v >= 0 && v < SP_RUNLOG_SCHEMA_VERSION ? migrations_[v] : NULL;
}

/* The type and SQL of the view or trigger `name` (any case, as SQLite
 * resolves names) that statement st looks up, or NULL when there is none;
 * both are st's until its next use. */
static const char *ref_sql_(sqlite3_stmt *st, const char *name, const char **type)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		return NULL;
	*type = (const char *)sqlite3_column_text(st, 0);
	return (const char *)sqlite3_column_text(st, 1);
}

/* Walks the views and triggers of `from` and looks each up by name in
 * `to`.  From the file to the replay, an object seqpipe does not create
 * (a user's own view excepted: seqpipe never reads it) or one that differs
 * is refused; from the replay to the file, one the file lacks (without
 * metrics_final, say, final_values would go stale unseen). */
static int walk_(sqlite3 *from, sqlite3 *to, bool from_file, sp_ctx *ctx, const char *path)
{
	static const char list[] = "SELECT type, name, coalesce(sql, '') FROM "
				   "main.sqlite_master WHERE type IN ('view', 'trigger')";
	static const char find[] = "SELECT type, coalesce(sql, '') FROM main.sqlite_master "
				   "WHERE name = ?1 COLLATE NOCASE AND type IN ('view', 'trigger')";
	sqlite3_stmt *each = NULL, *other = NULL;
	int rc, code = SP_OK;
	rc = sqlite3_prepare_v2(from, list, -1, &each, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(to, find, -1, &other, NULL);
	if (rc != SQLITE_OK)
		code = sp_err(ctx, SP_EIO, "%s: read the schema: %s", path,
			      sqlite3_errmsg(each ? to : from));
	while (code == SP_OK && (rc = sqlite3_step(each)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(each, 0);
		const char *name = (const char *)sqlite3_column_text(each, 1);
		const char *sql = (const char *)sqlite3_column_text(each, 2);
		const char *otype = NULL, *osql = ref_sql_(other, name, &otype);
		if (!from_file) {
			if (!osql)
				code = sp_err(ctx, SP_EINPUT, "%s: the %s %s is missing; expected "
					      "the views and triggers seqpipe creates "
					      "(doc/schema.md)", path, type, name);
		} else if (!osql && !strcmp(type, "view")) {
			continue;
		} else if (!osql || strcmp(type, otype) || strcmp(sql, osql)) {
			code = sp_err(ctx, SP_EINPUT,
				      "%s: the %s %s %s; expected only the views and "
				      "triggers seqpipe creates (doc/schema.md)", path,
				      type, name, osql ? "is not the one seqpipe creates" :
				      "is not seqpipe's, and would run on every write");
		}
	}
	if (code == SP_OK && rc != SQLITE_DONE)
		code = sp_err(ctx, SP_EIO, "%s: read the schema: %s", path, sqlite3_errmsg(from));
	sqlite3_finalize(each);
	sqlite3_finalize(other);
	return code;
}

int sp_runlog_schema_check_(sqlite3 *db, sp_ctx *ctx, const char *path,
			    int version)
{
	sqlite3 *ref = NULL;
	int rc, code;
	rc = sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL);
	for (int v = 0; rc == SQLITE_OK && v < version; v++)
		rc = sqlite3_exec(ref, sp_runlog_migration_(v), NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		code = sp_err(ctx, rc == SQLITE_NOMEM ? SP_ENOMEM : SP_EIO,
			      "%s: replay the schema: %s", path,
			      ref ? sqlite3_errmsg(ref) : sqlite3_errstr(rc));
	else if ((code = walk_(db, ref, true, ctx, path)) == SP_OK)
		code = walk_(ref, db, false, ctx, path);
	sqlite3_close(ref);
	return code;
}
