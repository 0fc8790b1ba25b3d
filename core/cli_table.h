/*
 * cli_table.h: a table of text cells printed as an aligned table, CSV or
 * JSON: the one output path of the `pipeline` history verbs (runs, show,
 * compare, best), so every listing supports --format table|csv|json.
 *
 * Numbers are added as numbers (cli_table_num) and printed with 4
 * significant digits in the table, and in full (%.17g) in CSV and JSON;
 * NaN and a missing value print as "-" (table), an empty field (CSV) or
 * null (JSON).
 */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stdio.h>

typedef enum cli_format { CLI_TABLE = 0, CLI_CSV = 1, CLI_JSON = 2 } cli_format;

typedef struct cli_table cli_table;

/* Columns beyond this are dropped. */
#define CLI_TABLE_MAX_COLS 256

/* 0 and *out set for "table", "csv" or "json"; -1 otherwise. */
int cli_format_parse(const char *s, cli_format *out);

/* A table with n_cols columns named by cols (copied; caller frees with
 * cli_table_free).  NULL when out of memory. */
cli_table *cli_table_new(size_t n_cols, const char *const *cols);
void cli_table_free(cli_table *t);
/* Starts a row; the cells follow, left to right.  -1 when out of memory. */
int cli_table_row(cli_table *t);
int cli_table_text(cli_table *t, const char *s);       /* NULL = missing */
int cli_table_num(cli_table *t, double v);             /* NaN = missing */
int cli_table_int(cli_table *t, long long v);
/* Marks the last row (the best epoch: "*" before it in a table, a
 * "best": true field in JSON, a last column in CSV). */
void cli_table_mark(cli_table *t);
size_t cli_table_rows(const cli_table *t);
/* Nonzero when t is NULL or an add ran out of memory. */
int cli_table_failed(const cli_table *t);

/* Prints the table to f.  title (may be NULL) is a heading line in table
 * format and ignored otherwise.  -1 (nothing printed) when an add ran out
 * of memory, or t is NULL. */
int cli_table_print(const cli_table *t, FILE *f, cli_format fmt,
		    const char *title);
/* JSON text of s, quoted and escaped, to f. */
void cli_json_string(FILE *f, const char *s);
/* A number with 4 significant digits into out ("-" for NaN). */
void cli_num4(char *out, size_t n, double v);

#endif /* CLI_TABLE_H */
