/*
 * sp_read_tsv.c: [data] format = tsv, `text<TAB>label` per line
 * (sentiment, pairs); which columns hold the text and the label is
 * configurable, columns are separated by single tabs, blank lines are
 * skipped.
 */
#include "sp_read_text.h"

#include <string.h>

#include "sp_textfile.h"

/* Bounds of 0-based tab-separated field k of s[0, len). */
static void field_(const char *s, size_t len, size_t k, size_t *beg,
		   size_t *end)
{
	size_t i = 0;
	for (; k > 0 && i < len; i++)
		if (s[i] == '\t')
			k--;
	*beg = i;
	while (i < len && s[i] != '\t')
		i++;
	*end = i;
}

/* Columns a tsv line needs: one past the larger column, and when one of
 * them is -1 (last), one past the other so that the two differ. */
static size_t tsv_need_(const sp_data_opts *o)
{
	if (o->text_col < 0)
		return (size_t)o->label_col + 2;
	if (o->label_col < 0)
		return (size_t)o->text_col + 2;
	return (size_t)(o->text_col > o->label_col ? o->text_col
						   : o->label_col) + 1;
}

typedef struct {
	sp_ctx *ctx;
	const char *path;
	const sp_data_opts *o;
	const sp_read_env *env;
} tsv_reading_;

/* One line: an example, a skipped line (skip_bad) or an error. */
static int tsv_line_(void *payload, size_t lineno, char *s, size_t len)
{
	const tsv_reading_ *r = payload;
	sp_ctx *ctx = r->ctx;
	const char *path = r->path;
	const sp_data_opts *o = r->o;
	const sp_read_env *env = r->env;
	char ex[SP_EXCERPT_CAP];
	size_t nf = 1, tc, lc, tb, te, lb, le;
	sp_example e = SP_EXAMPLE_INIT;

	for (size_t i = 0; i < len; i++)
		nf += s[i] == '\t';
	tc = o->text_col < 0 ? nf - 1 : (size_t)o->text_col;
	lc = o->label_col < 0 ? nf - 1 : (size_t)o->label_col;
	if (tc >= nf || lc >= nf || tc == lc) {
		if (o->skip_bad)
			return env->skip(env->payload, lineno);
		return sp_err(ctx, SP_EINPUT,
			      "%s:%zu: expected %zu tab-separated columns "
			      "(text_col=%d, label_col=%d), got %zu: '%s'",
			      path, lineno, tsv_need_(o), o->text_col,
			      o->label_col, nf, sp_text_excerpt(ex, s, len));
	}
	field_(s, len, tc, &tb, &te);
	field_(s, len, lc, &lb, &le);
	if (tb == te || lb == le) {
		if (o->skip_bad)
			return env->skip(env->payload, lineno);
		return sp_err(ctx, SP_EINPUT, "%s:%zu: empty %s in column %zu: '%s'",
			      path, lineno, tb == te ? "text" : "label",
			      tb == te ? tc : lc, sp_text_excerpt(ex, s, len));
	}
	e.line = lineno;
	e.text = s + tb;
	e.text_len = te - tb;
	/* the label must be NUL-terminated: cut it in the line buffer (it
	 * is the reader's, and the text is given by length) */
	s[le] = '\0';
	e.label = s + lb;
	return env->emit(env->payload, &e);
}

int sp_read_tsv(sp_ctx *ctx, const char *path, const sp_data_opts *o,
		const sp_read_env *env)
{
	tsv_reading_ r = {ctx, path, o, env};
	return sp_textfile_each(ctx, path, o->max_line_bytes, o->max_file_bytes,
				o->header, tsv_line_, &r);
}

static int tsv_check_(sp_ctx *ctx, const sp_kv *args)
{
	long t = sp_kv_int(args, "text_column"), l = sp_kv_int(args, "label_column");
	if (t == l)
		return sp_err(ctx, SP_EINVAL, "%s: data.text_column and data.label_column are both %ld, expected two different columns",
			      sp_kv_where(args, "label_column"), l);
	return SP_OK;
}

static int tsv_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		     const sp_read_env *env)
{
	sp_data_opts o;
	sp_read_text_opts(&o, args, env);
	return sp_read_tsv(ctx, path, &o, env);
}

static const sp_param_spec tsv_params_[] = {
	{"text_column", SP_T_INT, "0", "tsv: column of the text (0-based)", NULL},
	{"label_column", SP_T_INT, "-1", "tsv: column of the label (-1 = last)", NULL},
	{"header", SP_T_BOOL, "false", "tsv: the first line is a header", NULL},
	{"skip_bad", SP_T_BOOL, "false", "conll, tsv: skip (and count) malformed lines, such as an empty token, instead of failing; encoding errors still fail", NULL},
	{NULL, 0, NULL, NULL, NULL}};

const sp_reader_ops sp_reader_tsv = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "tsv",
		 "text<TAB>label per line (classification)", tsv_params_},
	.fields = SP_FIELD_TEXT | SP_FIELD_LABEL,
	.check = tsv_check_,
	.read = tsv_read_,
};
