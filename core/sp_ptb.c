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

/* "(LABEL": consumes it, sets the label when at the root. */
static int open_(ptb_ *p, const char **label, size_t *label_len)
{
	size_t w;
	skip_(p);
	if (p->i >= p->n || p->s[p->i] != '(')
		return expected_(p, "'(' opening a node");
	p->i++;
	if (!(w = word_(p)))
		return expected_(p, "the node's label after '('");
	if (label) {
		*label = p->s + p->i;
		*label_len = w;
	}
	p->i += w;
	return SP_OK;
}

int sp_ptb_parse(sp_ctx *ctx, const char *text, size_t len, const char *file,
		 size_t line, sp_token_fn emit, void *payload,
		 const char **label, size_t *label_len)
{
	ptb_ p = {ctx, text, len, 0, file, line};
	size_t depth = 1;
	int fresh = 1; /* the innermost open node has only its label yet */
	int rc;
	if ((rc = open_(&p, label, label_len)) < 0)
		return rc;
	while (depth > 0) {
		size_t w;
		skip_(&p);
		if (p.i >= p.n)
			return expected_(&p, "')' closing a node");
		if (p.s[p.i] == '(') {
			if ((rc = open_(&p, NULL, NULL)) < 0)
				return rc;
			depth++;
			fresh = 1;
			continue;
		}
		if (p.s[p.i] == ')') {
			if (fresh)
				return expected_(&p, "a leaf or a child node "
						 "after the label");
			p.i++;
			depth--;
			continue;
		}
		/* a leaf: alone in its node, right after the label */
		if (!fresh)
			return expected_(&p, "'(' or ')': a node holds one "
					 "leaf or child nodes");
		w = word_(&p);
		if (emit && (rc = emit(payload, p.s + p.i, w, p.i)) < 0)
			return rc;
		p.i += w;
		fresh = 0;
		skip_(&p);
		if (p.i >= p.n || p.s[p.i] != ')')
			return expected_(&p, "')' after a leaf (one leaf per "
					 "node)");
	}
	skip_(&p);
	if (p.i < p.n)
		return expected_(&p, "the end of the line after the tree");
	return SP_OK;
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
		return sp_err(ctx, SP_EINPUT, "%s:%zu: root label '%.*s', "
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

int sp_ptb_write_tsv(sp_ctx *ctx, FILE *in, const char *name,
		     sp_ptb_classes classes, FILE *out, size_t *kept,
		     size_t *dropped)
{
	char *buf = NULL;
	size_t cap = 0, line = 0, nk = 0, nd = 0;
	ssize_t n;
	int rc = SP_OK;
	while ((n = getline(&buf, &cap, in)) >= 0) {
		const char *label, *cls;
		size_t label_len, leaves = 0;
		joined_ j = {out, 1};
		line++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
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
	free(buf);
	if (kept)
		*kept = nk;
	if (dropped)
		*dropped = nd;
	return rc;
}
