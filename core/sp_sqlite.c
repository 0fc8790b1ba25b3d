/*
 * sp_sqlite.c: SQLite helpers shared by the run log and the vocabulary
 * store.
 */
#include "sp_sqlite.h"

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

int sp_sqlite_enable_wal(sqlite3 *db, int timeout_ms)
{
	int waited = 0, rc;
	for (;;) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return rc;
		if (waited >= timeout_ms)
			return rc;
		/* a pseudo-random pause, so two waiting processes drift apart */
		{
			int ms = 5 + (int)(((uintptr_t)db / 64 + (uintptr_t)getpid() +
					    (uintptr_t)waited * 7919u) % 20u);
			sqlite3_sleep(ms);
			waited += ms;
		}
	}
}

void sp_sqlite_distrust_schema(sqlite3 *db)
{
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
}
