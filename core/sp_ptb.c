/*
 * sp_ptb.c: bracketed trees (see sp_ptb.h).  A recursive-descent parser
 * written as a loop with a depth counter: a node opens with "(LABEL",
 * then holds either one leaf or child nodes, and closes with ")".  Spaces
 * (any run of ' ' or '\t') separate items.
 */
#include "sp_ptb.h"

#include <stdlib.h>
#include <string.h>

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

/* The open nodes, when the caller wants every node (sp_ptb_parse_nodes). */
typedef struct open_nodes_ {
	const char **label;
	size_t *label_len, *first, n, cap;
	size_t leaves;  /* leaves so far */
	sp_ptb_node_fn node;
	void *payload;
} open_nodes_;

static int push_(ptb_ *p, open_nodes_ *o, const char *label, size_t label_len)
{
	if (!o->node)
		return SP_OK;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 32;
		const char **l = realloc(o->label, cap * sizeof(*l));
		size_t *ll = l ? realloc(o->label_len, cap * sizeof(*ll)) : NULL;
		size_t *f = ll ? realloc(o->first, cap * sizeof(*f)) : NULL;
		if (l)
			o->label = l;
		if (ll)
			o->label_len = ll;
		if (!f)
			return sp_err(p->ctx, SP_ENOMEM, "out of memory");
		o->first = f;
		o->cap = cap;
	}
	o->label[o->n] = label;
	o->label_len[o->n] = label_len;
	o->first[o->n++] = o->leaves;
	return SP_OK;
}

static int pop_(open_nodes_ *o)
{
	size_t k;
	if (!o->node)
		return SP_OK;
	k = --o->n;
	return o->node(o->payload, o->label[k], o->label_len[k], o->first[k],
		       o->leaves - o->first[k]);
}

static int parse_(ptb_ *p, sp_token_fn emit, void *payload, open_nodes_ *o,
		  const char **label, size_t *label_len)
{
	const char *l;
	size_t ll, depth = 1;
	int fresh = 1; /* the innermost open node has only its label yet */
	int rc;
	if ((rc = open_(p, &l, &ll)) < 0 || (rc = push_(p, o, l, ll)) < 0)
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
			    (rc = push_(p, o, l, ll)) < 0)
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
			if ((rc = pop_(o)) < 0)
				return rc;
			continue;
		}
		/* a leaf: alone in its node, right after the label */
		if (!fresh)
			return expected_(p, "'(' or ')': a node holds one "
					 "leaf or child nodes");
		w = word_(p);
		if (emit && (rc = emit(payload, p->s + p->i, w, p->i)) < 0)
			return rc;
		o->leaves++;
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
	open_nodes_ o = {0};
	const char *l;
	size_t ll;
	int rc = parse_(&p, emit, payload, &o, &l, &ll);
	if (rc == SP_OK && label) {
		*label = l;
		*label_len = ll;
	}
	return rc;
}

int sp_ptb_parse_nodes(sp_ctx *ctx, const char *text, size_t len,
		       const char *file, size_t line, sp_token_fn emit,
		       sp_ptb_node_fn node, void *payload)
{
	ptb_ p = {ctx, text, len, 0, file, line};
	open_nodes_ o = {0};
	const char *l;
	size_t ll;
	int rc;
	o.node = node;
	o.payload = payload;
	rc = parse_(&p, emit, payload, &o, &l, &ll);
	free(o.label);
	free(o.label_len);
	free(o.first);
	return rc;
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

/* Leaves joined by single spaces. */
typedef struct joined_ {
	FILE *out;
	int first;
} joined_;

static int put_leaf_(void *payload, const char *tok, size_t len,
		     size_t offset)
{
	joined_ *j = payload;
	(void)offset;
	if (!j->first)
		fputc(' ', j->out);
	fwrite(tok, 1, len, j->out);
	j->first = 0;
	return SP_OK;
}

/* Counts leaves (a first pass, so that a dropped tree writes nothing). */
static int count_leaf_(void *payload, const char *tok, size_t len,
		       size_t offset)
{
	(void)tok;
	(void)len;
	(void)offset;
	(*(size_t *)payload)++;
	return SP_OK;
}

/* One tree's leaves and labelled nodes, for the phrase lines. */
typedef struct phrases_ {
	sp_ctx *ctx;
	size_t *off, *len, n, cap;           /* leaves */
	const char **label;
	size_t *label_len, *first, *count;   /* nodes */
	size_t nn, ncap;
} phrases_;

static int grow_(sp_ctx *ctx, size_t *cap, size_t need, void **arr[],
		 const size_t *size, int k)
{
	size_t c = *cap ? 2 * *cap : 64;
	if (need <= *cap)
		return SP_OK;
	for (int i = 0; i < k; i++) {
		void *q = realloc(*arr[i], c * size[i]);
		if (!q)
			return sp_err(ctx, SP_ENOMEM, "out of memory");
		*arr[i] = q;
	}
	*cap = c;
	return SP_OK;
}

static int phrase_leaf_(void *payload, const char *tok, size_t len,
			size_t offset)
{
	phrases_ *t = payload;
	void **arr[2] = {(void **)&t->off, (void **)&t->len};
	const size_t size[2] = {sizeof(size_t), sizeof(size_t)};
	int rc;
	(void)tok;
	if ((rc = grow_(t->ctx, &t->cap, t->n + 1, arr, size, 2)) < 0)
		return rc;
	t->off[t->n] = offset;
	t->len[t->n++] = len;
	return SP_OK;
}

static int phrase_node_(void *payload, const char *label, size_t label_len,
			size_t first, size_t count)
{
	phrases_ *t = payload;
	void **arr[4] = {(void **)&t->label, (void **)&t->label_len,
			 (void **)&t->first, (void **)&t->count};
	const size_t size[4] = {sizeof(char *), sizeof(size_t), sizeof(size_t),
				sizeof(size_t)};
	int rc;
	if ((rc = grow_(t->ctx, &t->ncap, t->nn + 1, arr, size, 4)) < 0)
		return rc;
	t->label[t->nn] = label;
	t->label_len[t->nn] = label_len;
	t->first[t->nn] = first;
	t->count[t->nn++] = count;
	return SP_OK;
}

static void phrases_free_(phrases_ *t)
{
	free(t->off);
	free(t->len);
	free(t->label);
	free(t->label_len);
	free(t->first);
	free(t->count);
}

/* Every node of the tree text[0..n) as a line, the root first. */
static int write_phrases_(phrases_ *t, const char *text, size_t n,
			  const char *name, size_t line,
			  sp_ptb_classes classes, FILE *out, size_t *nk,
			  size_t *nd)
{
	int rc;
	t->n = t->nn = 0;
	if ((rc = sp_ptb_parse_nodes(t->ctx, text, n, name, line,
				     phrase_leaf_, phrase_node_, t)) < 0)
		return rc;
	for (size_t k = t->nn; k-- > 0;) {
		const char *cls;
		if ((rc = sp_ptb_class(t->ctx, t->label[k], t->label_len[k],
				       classes, &cls, name, line)) < 0)
			return rc;
		if (!cls) {
			(*nd)++;
			continue;
		}
		for (size_t i = 0; i < t->count[k]; i++) {
			size_t j = t->first[k] + i;
			if (i)
				fputc(' ', out);
			fwrite(text + t->off[j], 1, t->len[j], out);
		}
		fputc('\t', out);
		if (classes == SP_PTB_RAW)
			fwrite(cls, 1, t->label_len[k], out);
		else
			fputs(cls, out);
		fputc('\n', out);
		(*nk)++;
	}
	return SP_OK;
}

int sp_ptb_write_tsv(sp_ctx *ctx, FILE *in, const char *name,
		     sp_ptb_classes classes, int phrases, FILE *out,
		     size_t *kept, size_t *dropped)
{
	char *buf = NULL;
	size_t cap = 0, line = 0, nk = 0, nd = 0;
	phrases_ t = {0};
	ssize_t n;
	int rc = SP_OK;
	t.ctx = ctx;
	while ((n = getline(&buf, &cap, in)) >= 0) {
		const char *label = NULL, *cls;
		size_t label_len = 0, leaves = 0;
		joined_ j = {out, 1};
		line++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if (phrases) {
			if ((rc = write_phrases_(&t, buf, (size_t)n, name, line,
						 classes, out, &nk, &nd)) < 0)
				break;
			continue;
		}
		if ((rc = sp_ptb_parse(ctx, buf, (size_t)n, name, line,
				       count_leaf_, &leaves, &label,
				       &label_len)) < 0 ||
		    (rc = sp_ptb_class(ctx, label, label_len, classes, &cls,
				       name, line)) < 0)
			break;
		if (!cls) {
			nd++;
			continue;
		}
		sp_ptb_parse(ctx, buf, (size_t)n, name, line, put_leaf_, &j,
			     &label, &label_len);
		fputc('\t', out);
		if (classes == SP_PTB_RAW)
			fwrite(cls, 1, label_len, out);
		else
			fputs(cls, out);
		fputc('\n', out);
		nk++;
	}
	if (rc == SP_OK && ferror(in))
		rc = sp_err(ctx, SP_EIO, "%s: read error", name);
	if (rc == SP_OK && ferror(out))
		rc = sp_err(ctx, SP_EIO, "%s: cannot write the tsv", name);
	phrases_free_(&t);
	free(buf);
	if (kept)
		*kept = nk;
	if (dropped)
		*dropped = nd;
	return rc;
}
