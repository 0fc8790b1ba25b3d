/*
 * cli_history.h: the `pipeline` verbs that read and edit the run log:
 * runs, show, compare, best, tag, delete and report (doc/schema.md; the
 * report itself is cli_report.h).
 */
#ifndef CLI_HISTORY_H
#define CLI_HISTORY_H

/* 1 when cmd is one of the verbs below, else 0. */
int cli_history_handles(const char *cmd);

/*
 * Runs verb cmd with its arguments argv[0..argc) (after the verb) on the
 * run log db (NULL = runs.db; a --db among argv wins).  Returns the exit
 * status: 0, 1 failure (one line on stderr), 2 bad command line.
 */
int cli_history_main(const char *cmd, int argc, char **argv, const char *db);

#endif /* CLI_HISTORY_H */
