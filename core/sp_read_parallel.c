/*
 * sp_read_parallel.c: [data] format = parallel (see sp_read_parallel.h).
 * sp_parallel does the reading and its checks; this copies its pairs
 * into a corpus, the text as the example's text and the translation as
 * its target.
 */
#include "config.h"

#include "sp_read_parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_data_mem.h"
#include "sp_parallel.h"

/* The two files of a split: PATH.SRC and PATH.TGT. */
static int read_files(sp_parallel **p, sp_ctx *ctx, const char *path, const sp_kv *kv,
		      const sp_parallel_opts *o)
{
	const char *src = sp_kv_str(kv, "src_suffix"), *tgt = sp_kv_str(kv, "tgt_suffix");
	size_t n = strlen(path) + strlen(src) + strlen(tgt) + 2;
	char *ps, *pt;
	int rc;
	if (!*src || !*tgt)
		return sp_err(ctx, SP_EINVAL, "%s: data.src_suffix and data.tgt_suffix go together, expected both",
			      sp_kv_where(kv, *src ? "src_suffix" : "tgt_suffix"));
	ps = malloc(n);
	pt = malloc(n);
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

int sp_read_parallel(sp_corpus **out, sp_ctx *ctx, const char *path,
		     const sp_kv *kv, size_t *skipped)
{
	sp_parallel_opts o;
	sp_parallel *p = NULL;
	long lc = sp_kv_int(kv, "label_column");
	int rc;
	*out = NULL;
	if (skipped)
		*skipped = 0;
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "data: empty file name, expected the path of a parallel file");
	sp_parallel_opts_init(&o);
	o.empty = sp_kv_bool(kv, "skip_bad") ? SP_PARALLEL_SKIP : SP_PARALLEL_REFUSE;
	o.src_col = (int)sp_kv_int(kv, "text_column");
	o.tgt_col = lc < 0 ? 1 : (int)lc; /* "the last" of a pair: the second */
	o.max_pairs = (size_t)sp_kv_int(kv, "max_examples");
	if (*sp_kv_str(kv, "src_suffix") || *sp_kv_str(kv, "tgt_suffix"))
		rc = read_files(&p, ctx, path, kv, &o);
	else
		rc = sp_parallel_read_tsv(&p, ctx, path, &o);
	if (rc >= 0 && sp_parallel_count(p) == 0)
		rc = sp_err(ctx, SP_EINPUT, "%s: no examples (parallel format)", path);
	if (rc >= 0)
		rc = sp_corpus_new_parallel(out, ctx);
	for (size_t i = 0; rc >= 0 && i < sp_parallel_count(p); i++) {
		size_t sn, tn;
		const char *s = sp_parallel_src(p, i, &sn), *t = sp_parallel_tgt(p, i, &tn);
		rc = sp_corpus_add_pair(*out, ctx, s, sn, t, tn, sp_parallel_line(p, i));
	}
	if (rc >= 0 && skipped)
		*skipped = sp_parallel_counts_of(p)->skipped;
	sp_parallel_free(p);
	if (rc < 0) {
		sp_corpus_free(*out);
		*out = NULL;
	}
	return rc;
}
