/*
 * sp_read_parallel.c: [data] format = parallel (see sp_readers.h).
 * sp_parallel does the reading and its checks; every pair becomes an
 * example whose text is the source side and whose target is the
 * translation.
 */
#include "config.h"

#include "sp_readers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_parallel.h"

static int parallel_check_(sp_ctx *ctx, const sp_kv *args)
{
	const char *src = sp_kv_str(args, "src_suffix"), *tgt = sp_kv_str(args, "tgt_suffix");
	long t = sp_kv_int(args, "text_column"), l = sp_kv_int(args, "label_column");
	if (!*src != !*tgt)
		return sp_err(ctx, SP_EINVAL, "%s: data.src_suffix and data.tgt_suffix go together, expected both",
			      sp_kv_where(args, *src ? "src_suffix" : "tgt_suffix"));
	if (t < 0 || t == (l < 0 ? 1 : l))
		return sp_err(ctx, SP_EINVAL, "%s: data.text_column = %ld, expected a column >= 0 other than the translation's (label_column = %ld)",
			      sp_kv_where(args, "text_column"), t, l);
	return SP_OK;
}

/* The two files of a split: PATH.SRC and PATH.TGT. */
static int read_files_(sp_parallel **p, sp_ctx *ctx, const char *path, const sp_kv *args,
		       const sp_parallel_opts *o)
{
	const char *src = sp_kv_str(args, "src_suffix"), *tgt = sp_kv_str(args, "tgt_suffix");
	size_t n = strlen(path) + strlen(src) + strlen(tgt) + 2;
	char *ps = malloc(n), *pt = malloc(n);
	int rc;
	if (!ps || !pt) {
		free(ps);
		free(pt);
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	}
	snprintf(ps, n, "%s.%s", path, src);
	snprintf(pt, n, "%s.%s", path, tgt);
	rc = sp_parallel_read_files(p, ctx, ps, pt, o);
	free(ps);
	free(pt);
	return rc;
}

static int parallel_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
			  const sp_read_env *env)
{
	sp_parallel_opts o;
	sp_parallel *p = NULL;
	long lc = sp_kv_int(args, "label_column");
	int rc;
	if ((rc = parallel_check_(ctx, args)) < 0)
		return rc;
	sp_parallel_opts_init(&o);
	o.empty = sp_kv_bool(args, "skip_bad") ? SP_PARALLEL_SKIP : SP_PARALLEL_REFUSE;
	o.src_col = (int)sp_kv_int(args, "text_column");
	o.tgt_col = lc < 0 ? 1 : (int)lc; /* "the last" of a pair: the second */
	if (*sp_kv_str(args, "src_suffix"))
		rc = read_files_(&p, ctx, path, args, &o);
	else
		rc = sp_parallel_read_tsv(&p, ctx, path, &o);
	for (size_t i = 0; rc == 0 && i < sp_parallel_count(p); i++) {
		sp_example e = SP_EXAMPLE_INIT;
		e.line = sp_parallel_line(p, i);
		e.text = sp_parallel_src(p, i, &e.text_len);
		e.target = sp_parallel_tgt(p, i, &e.target_len);
		rc = env->emit(env->payload, &e);
	}
	/* sp_parallel drops pairs with an empty side itself: count them */
	for (size_t k = 0; rc >= 0 && p && k < sp_parallel_counts_of(p)->skipped; k++)
		rc = env->skip(env->payload, 0);
	sp_parallel_free(p);
	return rc < 0 ? rc : SP_OK;
}

static const sp_param_spec parallel_params_[] = {
	{"src_suffix", SP_T_STRING, "", "parallel: two line-aligned files per split, PATH.SRC_SUFFIX and PATH.TGT_SUFFIX (e.g. de.gz, en.gz); empty: one tsv file, the text in text_column, its translation in label_column (-1: column 1)", NULL},
	{"tgt_suffix", SP_T_STRING, "", "parallel: the translation file's suffix (see src_suffix)", NULL},
	{"text_column", SP_T_INT, "0", "parallel (one tsv file): column of the text (0-based)", NULL},
	{"label_column", SP_T_INT, "-1", "parallel (one tsv file): column of the translation (-1: column 1)", NULL},
	{"skip_bad", SP_T_BOOL, "false", "parallel: skip (and count) pairs with an empty side, instead of failing", NULL},
	{NULL, 0, NULL, NULL, NULL}};

const sp_reader_ops sp_reader_parallel = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "parallel",
		 "a text and its translation: two line-aligned files, or tsv columns",
		 parallel_params_},
	.fields = SP_FIELD_TEXT | SP_FIELD_TARGET,
	.check = parallel_check_,
	.read = parallel_read_,
};
