/*
 * sp_ptb.c: bracketed trees (see sp_ptb.h).  A recursive-descent parser
 * written as a loop with a depth counter: a node opens with "(LABEL",
 * then holds either one leaf or child nodes, and closes with ")".  Spaces
 * (any run of ' ' or '\t') separate items.
 */
#include "sp_ptb.h"

#include <stdlib.h>
#include <string.h>

#include "sp_grow.h"

typedef struct ptb_ {
	sp_ctx *ctx;
	const char *s;
	size_t n, i;
	const char *file;
	size_t line;
} ptb_;

static int is_space_(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void skip_(ptb_ *p)
{
	while (p->i < p->n && is_space_(p->s[p->i]))
		p->i++;
}

static int expected_(ptb_ *p, const char *what)
{
	if (p->i >= p->n)
		return sp_err(p->ctx, SP_EINPUT, "%s:%zu:%zu: expected %s, "
			      "found the end of the line", p->file, p->line,
			      p->i + 1, what);
	return sp_err(p->ctx, SP_EINPUT, "%s:%zu:%zu: expected %s, found "
		      "'%c'", p->file, p->line, p->i + 1, what, p->s[p->i]);
}

/* A word: bytes up to a space or a parenthesis; its length (0 if none). */
static size_t word_(const ptb_ *p)
{
	size_t k = p->i;
	while (k < p->n && !is_space_(p->s[k]) && p->s[k] != '(' &&
	       p->s[k] != ')')
		k++;
	return k - p->i;
}

/* "(LABEL": consumes it and points *label at the label. */
static int open_(ptb_ *p, const char **label, size_t *label_len)
{
	size_t w;
	skip_(p);
	if (p->i >= p->n || p->s[p->i] != '(')
		return expected_(p, "'(' opening a node");
	p->i++;
	if (!(w = word_(p)))
		return expected_(p, "the node's label after '('");
	*label = p->s + p->i;
	*label_len = w;
	p->i += w;
	return SP_OK;
}

/* Node bookkeeping of sp_ptb_parse_nodes (o NULL: none). */
static int open_node_(ptb_ *p, sp_ptb_nodes *o, const char *label, size_t label_len,
		      size_t leaves)
{
	if (!o)
		return SP_OK;
	if (sp_grow(&o->node, &o->cap, o->n + 1, sizeof(*o->node)) < 0 ||
	    sp_grow(&o->open, &o->open_cap, o->depth + 1, sizeof(*o->open)) < 0)
		return sp_err(p->ctx, SP_ENOMEM, "out of memory");
	o->node[o->n] = (sp_ptb_node){label, label_len, leaves, 0};
	o->open[o->depth++] = o->n++;
	return SP_OK;
}

static void close_node_(sp_ptb_nodes *o, size_t leaves)
{
	sp_ptb_node *nd;
	if (!o)
		return;
	nd = &o->node[o->open[--o->depth]];
	nd->count = leaves - nd->first;
}

static int parse_(ptb_ *p, sp_token_fn emit, void *payload, sp_ptb_nodes *o,
		  const char **label, size_t *label_len)
{
	const char *l;
	size_t ll, depth = 1, leaves = 0;
	int fresh = 1; /* the innermost open node has only its label yet */
	int rc;
	if ((rc = open_(p, &l, &ll)) < 0 || (rc = open_node_(p, o, l, ll, 0)) < 0)
		return rc;
	*label = l;
	*label_len = ll;
	while (depth > 0) {
		size_t w;
		skip_(p);
		if (p->i >= p->n)
			return expected_(p, "')' closing a node");
		if (p->s[p->i] == '(') {
			if ((rc = open_(p, &l, &ll)) < 0 ||
			    (rc = open_node_(p, o, l, ll, leaves)) < 0)
				return rc;
			depth++;
			fresh = 1;
			continue;
		}
		if (p->s[p->i] == ')') {
			if (fresh)
				return expected_(p, "a leaf or a child node "
						 "after the label");
			p->i++;
			depth--;
			close_node_(o, leaves);
			continue;
		}
		/* a leaf: alone in its node, right after the label */
		if (!fresh)
			return expected_(p, "'(' or ')': a node holds one "
					 "leaf or child nodes");
		w = word_(p);
		if (emit && (rc = emit(payload, p->s + p->i, w, p->i)) < 0)
			return rc;
		leaves++;
		p->i += w;
		fresh = 0;
		skip_(p);
		if (p->i >= p->n || p->s[p->i] != ')')
			return expected_(p, "')' after a leaf (one leaf per "
					 "node)");
	}
	skip_(p);
	if (p->i < p->n)
		return expected_(p, "the end of the line after the tree");
	return SP_OK;
}

int sp_ptb_parse(sp_ctx *ctx, const char *text, size_t len, const char *file,
		 size_t line, sp_token_fn emit, void *payload,
		 const char **label, size_t *label_len)
{
	ptb_ p = {ctx, text, len, 0, file, line};
	const char *l;
	size_t ll;
	int rc = parse_(&p, emit, payload, NULL, &l, &ll);
	if (rc == SP_OK && label) {
		*label = l;
		*label_len = ll;
	}
	return rc;
}

int sp_ptb_parse_nodes(sp_ctx *ctx, const char *text, size_t len,
		       const char *file, size_t line, sp_token_fn emit,
		       void *payload, sp_ptb_nodes *nodes)
{
	ptb_ p = {ctx, text, len, 0, file, line};
	const char *l;
	size_t ll;
	nodes->n = nodes->depth = 0;
	return parse_(&p, emit, payload, nodes, &l, &ll);
}

void sp_ptb_nodes_fini(sp_ptb_nodes *nodes)
{
	free(nodes->node);
	free(nodes->open);
	memset(nodes, 0, sizeof(*nodes));
}

int sp_ptb_class(sp_ctx *ctx, const char *label, size_t label_len,
		 sp_ptb_classes classes, const char **out, const char *file,
		 size_t line)
{
	static const char *const fine[] = {"0", "1", "2", "3", "4"};
	int v;
	*out = NULL;
	if (classes == SP_PTB_RAW) {
		*out = label;
		return SP_OK;
	}
	if (label_len != 1 || label[0] < '0' || label[0] > '4')
		return sp_err(ctx, SP_EINPUT, "%s:%zu: label '%.*s', "
			      "expected 0-4 (SST)", file, line,
			      (int)label_len, label);
	v = label[0] - '0';
	if (classes == SP_PTB_FINE)
		*out = fine[v];
	else if (v != 2)
		*out = v < 2 ? "neg" : "pos";
	return SP_OK;
}

/* One tree's leaves (offset, length into the line) and nodes, for its
 * lines. */
typedef struct leaf_span_ {
	size_t off, len;
} leaf_span_;

typedef struct tree_ {
	sp_ctx *ctx;
	leaf_span_ *leaf;
	size_t n_leaves, cap;
	sp_ptb_nodes nodes;
} tree_;

static int tree_leaf_(void *payload, const char *tok, size_t len,
			size_t offset)
{
	tree_ *t = payload;
	(void)tok;
	if (sp_grow(&t->leaf, &t->cap, t->n_leaves + 1, sizeof(*t->leaf)) < 0)
		return sp_err(t->ctx, SP_ENOMEM, "out of memory");
	t->leaf[t->n_leaves++] = (leaf_span_){offset, len};
	return SP_OK;
}

/* The tree text[0..n) as a line (its root), or with `phrases` every
 * labelled node as a line, in document order (the root first).  A node
 * writes all its leaves, so a tree's phrase lines hold about leaves x
 * depth tokens: fine for SST's sentences. */
static int write_tree_(tree_ *t, const char *text, size_t n,
		       const char *name, size_t line, sp_ptb_classes classes,
		       int phrases, FILE *out, size_t *kept, size_t *dropped)
{
	int rc;
	t->n_leaves = 0;
	if ((rc = sp_ptb_parse_nodes(t->ctx, text, n, name, line,
				     tree_leaf_, t, &t->nodes)) < 0)
		return rc;
	for (size_t k = 0; k < (phrases ? t->nodes.n : 1); k++) {
		const sp_ptb_node *nd = &t->nodes.node[k];
		const char *cls;
		if ((rc = sp_ptb_class(t->ctx, nd->label, nd->label_len,
				       classes, &cls, name, line)) < 0)
			return rc;
		if (!cls) {
			(*dropped)++;
			continue;
		}
		for (size_t i = 0; i < nd->count; i++) {
			const leaf_span_ *lf = &t->leaf[nd->first + i];
			if (i)
				fputc(' ', out);
			fwrite(text + lf->off, 1, lf->len, out);
		}
		fputc('\t', out);
		if (classes == SP_PTB_RAW)
			fwrite(cls, 1, nd->label_len, out);
		else
			fputs(cls, out);
		fputc('\n', out);
		(*kept)++;
	}
	return SP_OK;
}

int sp_ptb_write_tsv(sp_ctx *ctx, FILE *in, const char *name,
		     sp_ptb_classes classes, int phrases, FILE *out,
		     size_t *kept, size_t *dropped)
{
	char *buf = NULL;
	size_t cap = 0, line = 0, nk = 0, nd = 0;
	tree_ t = {0};
	ssize_t n;
	int rc = SP_OK;
	t.ctx = ctx;
	while ((n = getline(&buf, &cap, in)) >= 0) {
		line++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		if (n > 0 && (rc = write_tree_(&t, buf, (size_t)n, name, line, classes,
					      phrases, out, &nk, &nd)) < 0)
			break;
	}
	if (rc == SP_OK && ferror(in))
		rc = sp_err(ctx, SP_EIO, "%s: read error", name);
	if (rc == SP_OK && ferror(out))
		rc = sp_err(ctx, SP_EIO, "%s: cannot write the tsv", name);
	free(t.leaf);
	sp_ptb_nodes_fini(&t.nodes);
	free(buf);
	if (kept)
		*kept = nk;
	if (dropped)
		*dropped = nd;
	return rc;
}
