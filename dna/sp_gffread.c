/*
 * sp_gffread.c: CDS lines in, sorted by (sequence, transcript, start),
 * cut into genes on request.
 */
#include "sp_gffread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_lines.h"

enum { K_CDS, K_START, K_STOP };

typedef struct cds {
	char *seqid, *tx;
	long beg, end;
	int strand;
	int kind;       /* K_CDS, or a start_codon / stop_codon line */
} cds;

struct sp_gffgenes {
	cds *v;
	size_t n, cap;
	int codons;     /* the file has start_codon / stop_codon lines */
};

void sp_gff_free(sp_gffgenes *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].seqid);
		free(g->v[i].tx);
	}
	free(g->v);
	free(g);
}

/* Parent=X (first parent) or transcript_id "X". */
static char *tx_of_(const char *attr)
{
	const char *p = strstr(attr, "Parent=");
	if (p)
		return strndup(p + 7, strcspn(p + 7, ";,\t"));
	if ((p = strstr(attr, "transcript_id \"")))
		return strndup(p + 15, strcspn(p + 15, "\""));
	return NULL;
}

/* Splits s into 9 tab-separated fields (in place); 0 if fewer. */
static int fields_(char *s, char *f[9])
{
	for (int k = 0; k < 9; k++) {
		f[k] = s;
		s = strchr(s, '\t');
		if (k < 8) {
			if (!s)
				return 0;
			*s++ = '\0';
		}
	}
	return 1;
}

static int add_line_(sp_gffgenes *g, sp_ctx *ctx, const char *path,
		     long line, char *f[9], int kind)
{
	char *e1, *e2;
	long b = strtol(f[3], &e1, 10), e = strtol(f[4], &e2, 10);
	cds *c;
	if (*e1 || *e2 || b < 1 || e < b)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: start '%s', end '%s': "
			      "expected 1 <= start <= end", path, line, f[3], f[4]);
	if (strcmp(f[6], "+") && strcmp(f[6], "-"))
		return sp_err(ctx, SP_EINPUT, "%s:%ld: strand '%s', expected + "
			      "or -", path, line, f[6]);
	if (g->n == g->cap) {
		size_t nc = g->cap ? 2 * g->cap : 256;
		cds *nv = realloc(g->v, nc * sizeof(*nv));
		if (!nv)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
		g->v = nv;
		g->cap = nc;
	}
	if (!strstr(f[8], "Parent=") && !strstr(f[8], "transcript_id \""))
		return sp_err(ctx, SP_EINPUT, "%s:%ld: CDS without Parent= or "
			      "transcript_id", path, line);
	c = &g->v[g->n];
	*c = (cds){ strdup(f[0]), tx_of_(f[8]), b - 1, e,
		    f[6][0] == '-' ? -1 : 1, kind };
	if (!c->seqid || !c->tx) {
		free(c->seqid);
		free(c->tx);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	}
	g->n++;
	return SP_OK;
}

static int by_tx_(const void *a, const void *b)
{
	const cds *x = a, *y = b;
	int c = strcmp(x->seqid, y->seqid);
	if (!c)
		c = strcmp(x->tx, y->tx);
	if (!c)
		c = (x->kind > y->kind) - (x->kind < y->kind);
	if (!c)
		c = (x->beg > y->beg) - (x->beg < y->beg);
	return c;
}

int sp_gff_read(sp_gffgenes **out, sp_ctx *ctx, const char *path,
		const char *source)
{
	sp_gffgenes *g = calloc(1, sizeof(*g));
	sp_lines *in = NULL;
	const char *s;
	size_t n;
	int rc;
	*out = NULL;
	if (!g)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	rc = sp_lines_open(&in, ctx, path);
	while (rc == 0 && (rc = sp_lines_next(in, ctx, &s, &n)) == 1) {
		char *copy, *f[9];
		rc = 0;
		if (n == 0 || s[0] == '#')
			continue;
		if (!(copy = strdup(s))) {
			rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
			break;
		}
		if (!fields_(copy, f))
			rc = sp_err(ctx, SP_EINPUT, "%s:%ld: expected 9 "
				    "tab-separated GFF columns", path,
				    sp_lines_lineno(in));
		else if (!source || !strcmp(f[1], source)) {
			int kind = !strcmp(f[2], "CDS") ? K_CDS :
				   !strcmp(f[2], "start_codon") ? K_START :
				   !strcmp(f[2], "stop_codon") ? K_STOP : -1;
			g->codons |= kind > K_CDS;
			if (kind >= 0)
				rc = add_line_(g, ctx, path, sp_lines_lineno(in),
					       f, kind);
		}
		free(copy);
	}
	sp_lines_close(in);
	if (rc < 0) {
		sp_gff_free(g);
		return rc;
	}
	qsort(g->v, g->n, sizeof(*g->v), by_tx_);
	*out = g;
	return SP_OK;
}

static int by_gene_beg_(const void *a, const void *b)
{
	long x = sp_gene_beg(a), y = sp_gene_beg(b);
	return (x > y) - (x < y);
}

int sp_gff_genes(const sp_gffgenes *g, sp_ctx *ctx, const char *seqid,
		 sp_gene **genes, size_t *ngene)
{
	size_t lo = 0, hi = g->n, cap = 0;
	sp_gene *v = NULL;
	*genes = NULL;
	*ngene = 0;
	while (lo < hi) { /* first line of seqid */
		size_t mid = (lo + hi) / 2;
		if (strcmp(g->v[mid].seqid, seqid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < g->n && !strcmp(g->v[i].seqid, seqid);) {
		size_t j = i;
		sp_gene *x;
		while (j < g->n && !strcmp(g->v[j].seqid, seqid) &&
		       !strcmp(g->v[j].tx, g->v[i].tx))
			j++;
		if (*ngene == cap) {
			size_t nc = cap ? 2 * cap : 16;
			sp_gene *nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				goto oom;
			v = nv;
			cap = nc;
		}
		x = &v[*ngene];
		memset(x, 0, sizeof(*x));
		if (!(x->exon = malloc((j - i) * sizeof(*x->exon))))
			goto oom;
		(*ngene)++;
		x->strand = g->v[i].strand;
		x->partial5 = x->partial3 = g->codons;
		for (size_t k = i; k < j; k++) {
			const cds *c = &g->v[k];
			if (c->kind == K_START)
				x->partial5 = 0;
			else if (c->kind == K_STOP)
				x->partial3 = 0;
			else
				x->exon[x->nexon++] = (sp_exon){ c->beg, c->end };
		}
		if (!(x->name = strdup(g->v[i].tx)))
			goto oom;
		i = j;
	}
	if (*ngene)
		qsort(v, *ngene, sizeof(*v), by_gene_beg_);
	*genes = v;
	return SP_OK;
oom:
	sp_genes_free(v, *ngene);
	*ngene = 0;
	return sp_err(ctx, SP_ENOMEM, "GFF genes: out of memory");
}
