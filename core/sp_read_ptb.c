/*
 * sp_read_ptb.c: [data] format = ptb, bracketed trees one per line as the
 * Stanford Sentiment Treebank ships them (sp_ptb.h): the leaves are the
 * example's tokens, the root's label its label, as SST-5 ("0".."4"),
 * SST-2 ("neg", "pos"; the neutral 2 dropped) or as written.  With
 * `phrases = true` every node of a training tree is an example of its own
 * (SST's phrase labels); dev and test stay whole sentences.
 */
#include "sp_readers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_grow.h"
#include "sp_ptb.h"
#include "sp_textfile.h"

/* The leaves of one tree, NUL-terminated in buf, pointed to by tok. */
typedef struct leaves_ {
	char *buf;
	size_t len, cap;
	size_t *off;
	const char **tok;
	size_t n, ncap, tcap; /* leaves; capacity of off, of tok */
	sp_ptb_nodes nodes;   /* every node (the root is node 0) */
	int phrases;
	sp_ctx *ctx;
	const char *path;
	sp_ptb_classes classes;
	const sp_read_env *env;
} leaves_;

static int leaf_(void *payload, const char *tok, size_t len, size_t offset)
{
	leaves_ *l = payload;
	(void)offset;
	if (len >= SIZE_MAX / 2 || sp_grow(&l->buf, &l->cap, l->len + len + 1, 1) < 0 ||
	    sp_grow(&l->off, &l->ncap, l->n + 1, sizeof(size_t)) < 0)
		return sp_err(l->ctx, SP_ENOMEM, "out of memory");
	memcpy(l->buf + l->len, tok, len);
	l->buf[l->len + len] = '\0';
	l->off[l->n++] = l->len;
	l->len += len + 1;
	return SP_OK;
}

static int ptb_classes_(sp_ptb_classes *out, const sp_kv *args)
{
	const char *c = sp_kv_str(args, "labels");
	*out = !strcmp(c, "binary") ? SP_PTB_BINARY : !strcmp(c, "raw") ? SP_PTB_RAW : SP_PTB_FINE;
	return SP_OK;
}

/* One labelled span of leaves, classed and emitted unless dropped. */
static int emit_span_(leaves_ *l, size_t lineno, const char *label, size_t label_len, size_t first,
		      size_t count)
{
	const char *cls;
	char raw[64];
	sp_example e = SP_EXAMPLE_INIT;
	int rc;
	if ((rc = sp_ptb_class(l->ctx, label, label_len, l->classes, &cls, l->path, lineno)) < 0)
		return rc;
	if (!cls)
		return SP_OK; /* SST-2 drops the neutral trees */
	if (l->classes == SP_PTB_RAW) {
		if (label_len >= sizeof(raw))
			return sp_err(l->ctx, SP_EINPUT, "%s:%zu: label of %zu bytes, expected at most %zu",
				      l->path, lineno, label_len, sizeof(raw) - 1);
		memcpy(raw, label, label_len);
		raw[label_len] = '\0';
		cls = raw;
	}
	e.line = lineno;
	e.tokens = l->tok + first;
	e.n_tokens = count;
	e.label = cls;
	return l->env->emit(l->env->payload, &e);
}

/* One tree line: parsed, and the root (or every node, in document
 * order) emitted. */
static int ptb_tree_(void *payload, size_t lineno, char *s, size_t len)
{
	leaves_ *l = payload;
	int rc;
	l->len = l->n = 0;
	if ((rc = sp_ptb_parse_nodes(l->ctx, s, len, l->path, lineno, leaf_, l, &l->nodes)) < 0)
		return rc;
	if (sp_grow(&l->tok, &l->tcap, l->n, sizeof(*l->tok)) < 0)
		return sp_err(l->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++)
		l->tok[i] = l->buf + l->off[i];
	for (size_t k = 0; k < (l->phrases ? l->nodes.n : 1); k++) {
		const sp_ptb_node *nd = &l->nodes.node[k];
		if ((rc = emit_span_(l, lineno, nd->label, nd->label_len, nd->first, nd->count)) != 0)
			return rc;
	}
	return SP_OK;
}

static int ptb_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		     const sp_read_env *env)
{
	leaves_ l = {0};
	int rc;
	l.ctx = ctx;
	l.path = path;
	l.env = env;
	ptb_classes_(&l.classes, args);
	l.phrases = sp_kv_bool(args, "phrases") && env->split && !strcmp(env->split, "train");
	rc = sp_textfile_each(ctx, path, env->max_line_bytes, env->max_file_bytes, 0,
			      ptb_tree_, &l);
	free(l.buf);
	free(l.off);
	free(l.tok);
	sp_ptb_nodes_fini(&l.nodes);
	return rc;
}

static const sp_param_spec ptb_params_[] = {
	{"labels", SP_T_STRING, "fine", "ptb: the root label as SST-5 classes 0-4 (fine), SST-2 neg/pos with the neutral 2 dropped (binary), or as written (raw)", "fine|binary|raw"},
	{"phrases", SP_T_BOOL, "false", "ptb: train on every labelled phrase of the training trees, not only the sentences (dev and test stay sentences)", NULL},
	{NULL, 0, NULL, NULL, NULL}};

const sp_reader_ops sp_reader_ptb = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "ptb",
		 "bracketed trees one per line (SST): the leaves, labelled by the root",
		 ptb_params_},
	.fields = SP_FIELD_TOKENS | SP_FIELD_LABEL,
	.read = ptb_read_,
};
