/*
 * cli_table.c: see cli_table.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CELL_TEXT, CELL_NUM, CELL_INT, CELL_NONE };

typedef struct cell_ {
	int type;
	char *s;      /* text, or the 4-digit form of a number */
	double d;
	long long i;
} cell_;

struct cli_table {
	size_t n_cols, n_rows, n_cells, cap;
	char **cols;
	cell_ *cells;
	unsigned char *marked;   /* per row */
	size_t cap_rows;
	int any_mark;
	int oom;                 /* an add failed: print refuses */
};

int cli_format_parse(const char *s, cli_format *out)
{
	static const char *const names[] = {"table", "csv", "json"};
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, names[i])) {
			*out = (cli_format)i;
			return 0;
		}
	return -1;
}

void cli_num4(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else if (v != 0 && (fabs(v) >= 1e6 || fabs(v) < 1e-3))
		snprintf(out, n, "%.3e", v);
	else
		snprintf(out, n, "%.4g", v);
}

cli_table *cli_table_new(size_t n_cols, const char *const *cols)
{
	cli_table *t;
	if (n_cols > CLI_TABLE_MAX_COLS)
		n_cols = CLI_TABLE_MAX_COLS;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->cols = calloc(n_cols, sizeof(*t->cols)))) {
		free(t);
		return NULL;
	}
	t->n_cols = n_cols;
	for (size_t i = 0; i < n_cols; i++)
		if (!(t->cols[i] = strdup(cols[i]))) {
			cli_table_free(t);
			return NULL;
		}
	return t;
}

void cli_table_free(cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_cols; i++)
		free(t->cols[i]);
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i].s);
	free(t->cols);
	free(t->cells);
	free(t->marked);
	free(t);
}

int cli_table_row(cli_table *t)
{
	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
		unsigned char *m = realloc(t->marked, cap);
		if (!m)
			return t->oom = -1;
		t->marked = m;
		t->cap_rows = cap;
	}
	/* pad the previous row */
	while (t->n_cells < t->n_rows * t->n_cols)
		if (cli_table_text(t, NULL) != 0)
			return -1;
	t->marked[t->n_rows++] = 0;
	return 0;
}

static cell_ *push_(cli_table *t)
{
	if (t->n_cells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		cell_ *c = realloc(t->cells, cap * sizeof(*c));
		if (!c) {
			t->oom = 1;
			return NULL;
		}
		t->cells = c;
		t->cap = cap;
	}
	memset(&t->cells[t->n_cells], 0, sizeof(cell_));
	return &t->cells[t->n_cells++];
}

int cli_table_text(cli_table *t, const char *s)
{
	cell_ *c = push_(t);
	if (!c)
		return -1;
	c->type = s ? CELL_TEXT : CELL_NONE;
	if (s && !(c->s = strdup(s)))
		return t->oom = -1;
	return 0;
}

int cli_table_num(cli_table *t, double v)
{
	char buf[32];
	cell_ *c = push_(t);
	if (!c)
		return -1;
	c->type = isnan(v) ? CELL_NONE : CELL_NUM;
	c->d = v;
	cli_num4(buf, sizeof(buf), v);
	return (c->s = strdup(buf)) ? 0 : (t->oom = -1);
}

int cli_table_int(cli_table *t, long long v)
{
	char buf[32];
	cell_ *c = push_(t);
	if (!c)
		return -1;
	c->type = CELL_INT;
	c->i = v;
	snprintf(buf, sizeof(buf), "%lld", v);
	return (c->s = strdup(buf)) ? 0 : (t->oom = -1);
}

void cli_table_mark(cli_table *t)
{
	if (t->n_rows) {
		t->marked[t->n_rows - 1] = 1;
		t->any_mark = 1;
	}
}

int cli_table_failed(const cli_table *t)
{
	return !t || t->oom;
}

size_t cli_table_rows(const cli_table *t)
{
	return t->n_rows;
}

static const cell_ *cell_at_(const cli_table *t, size_t r, size_t c)
{
	size_t i = r * t->n_cols + c;
	static const cell_ none = {CELL_NONE, NULL, 0, 0};
	return i < t->n_cells ? &t->cells[i] : &none;
}

/* Display width of UTF-8 text: one column per character, control
 * characters shown as '?' so a newline cannot break a row. */
static size_t width_(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

static void put_plain_(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 ? '?' : *p, f);
}

static void print_table_(const cli_table *t, FILE *f, const char *title)
{
	size_t w[CLI_TABLE_MAX_COLS];
	for (size_t c = 0; c < t->n_cols; c++) {
		w[c] = width_(t->cols[c]);
		for (size_t r = 0; r < t->n_rows; r++) {
			const cell_ *x = cell_at_(t, r, c);
			size_t n = x->s ? width_(x->s) : 1;
			if (n > w[c])
				w[c] = n;
		}
	}
	if (title)
		fprintf(f, "%s\n", title);
	for (size_t r = 0; r <= t->n_rows; r++) {
		if (t->any_mark)
			fputs(r > 0 && t->marked[r - 1] ? "* " : "  ", f);
		for (size_t c = 0; c < t->n_cols; c++) {
			const cell_ *x = r ? cell_at_(t, r - 1, c) : NULL;
			const char *s = r ? (x->s ? x->s : "-") : t->cols[c];
			int right = r && (x->type == CELL_NUM ||
					  x->type == CELL_INT ||
					  x->type == CELL_NONE);
			size_t pad = w[c] - width_(s);
			if (c)
				fputs("  ", f);
			if (right)
				for (size_t k = 0; k < pad; k++)
					fputc(' ', f);
			put_plain_(f, s);
			if (!right && c + 1 < t->n_cols)
				for (size_t k = 0; k < pad; k++)
					fputc(' ', f);
		}
		fputc('\n', f);
	}
}

static void csv_field_(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void print_csv_(const cli_table *t, FILE *f)
{
	for (size_t c = 0; c < t->n_cols; c++) {
		if (c)
			fputc(',', f);
		csv_field_(f, t->cols[c]);
	}
	if (t->any_mark)
		fputs(",best", f);
	fputs("\r\n", f);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const cell_ *x = cell_at_(t, r, c);
			if (c)
				fputc(',', f);
			if (x->type == CELL_NUM)
				fprintf(f, "%.17g", x->d);
			else if (x->type != CELL_NONE)
				csv_field_(f, x->s);
		}
		if (t->any_mark)
			fputs(t->marked[r] ? ",1" : ",0", f);
		fputs("\r\n", f);
	}
}

void cli_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void print_json_(const cli_table *t, FILE *f)
{
	fputc('[', f);
	for (size_t r = 0; r < t->n_rows; r++) {
		fputs(r ? ",\n {" : "{", f);
		for (size_t c = 0; c < t->n_cols; c++) {
			const cell_ *x = cell_at_(t, r, c);
			if (c)
				fputs(", ", f);
			cli_json_string(f, t->cols[c]);
			fputs(": ", f);
			if (x->type == CELL_NUM)
				fprintf(f, "%.17g", x->d);
			else if (x->type == CELL_INT)
				fprintf(f, "%lld", x->i);
			else if (x->type == CELL_TEXT)
				cli_json_string(f, x->s);
			else
				fputs("null", f);
		}
		if (t->any_mark)
			fprintf(f, ", \"best\": %s", t->marked[r] ? "true" : "false");
		fputc('}', f);
	}
	fputs("]", f);
}

int cli_table_print(const cli_table *t, FILE *f, cli_format fmt,
		    const char *title)
{
	if (!t || t->oom)
		return -1;
	if (fmt == CLI_CSV)
		print_csv_(t, f);
	else if (fmt == CLI_JSON)
		print_json_(t, f);
	else
		print_table_(t, f, title);
	return 0;
}
