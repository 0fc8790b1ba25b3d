-- seqpipe vocabulary store, schema version 1: many named vocabularies in
-- one SQLite file.  Ids are dense from 0 within a vocabulary; pad_id ..
-- eos_id are NULL when it has no such special token.  This text is kept
-- identical in vocab/schema.sql and vocab/sp_vocab_store.c (sp_vocab_schema);
-- tests/t_vocab.c compares the two.
PRAGMA application_id = 1397782114; -- 0x53507662, "SPvb"
PRAGMA user_version = 1;
CREATE TABLE IF NOT EXISTS vocabularies (
	id INTEGER PRIMARY KEY,
	name TEXT UNIQUE NOT NULL,
	created TEXT NOT NULL, -- UTC, "2024-05-01T12:00:00Z"
	size INTEGER NOT NULL,
	hash TEXT NOT NULL, -- sp_vocab_hash as 16 hex digits
	pad_id INTEGER,
	unk_id INTEGER,
	bos_id INTEGER,
	eos_id INTEGER
);
CREATE TABLE IF NOT EXISTS tokens (
	vocab_id INTEGER NOT NULL REFERENCES vocabularies(id) ON DELETE CASCADE,
	id INTEGER NOT NULL,
	token TEXT NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (vocab_id, id),
	UNIQUE (vocab_id, token)
) WITHOUT ROWID;
