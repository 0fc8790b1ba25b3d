/*
 * sp_sqlite.h: what the run log and the vocabulary store share in their
 * use of SQLite.
 */
#ifndef SP_SQLITE_H
#define SP_SQLITE_H

#include <sqlite3.h>

/*
 * Switches db to WAL journal mode, retrying for up to timeout_ms while
 * another process holds a lock.  The switch needs an exclusive lock, and
 * when two processes open one new file at once SQLite can report
 * SQLITE_BUSY at once instead of calling the busy handler (each would wait
 * on the other); retrying from scratch, holding no lock in between, breaks
 * that tie.  Returns an SQLite result code.
 */
int sp_sqlite_enable_wal(sqlite3 *db, int timeout_ms);

/* Lets the views and triggers of db's files call only the functions
 * SQLite marks harmless: a file someone shared is data, not code. */
void sp_sqlite_distrust_schema(sqlite3 *db);

#endif /* SP_SQLITE_H */
