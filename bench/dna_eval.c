/*
 * dna_eval.c: evaluates a gene prediction in GFF3 or GTF (CDS lines
 * grouped by Parent= or transcript_id) against the genes of a GenBank
 * file, with dna/sp_geneeval (AUGUSTUS's definitions, plus per-base
 * 3-class accuracy and the confusion matrix).  bench/augustus.sh uses it
 * to score AUGUSTUS's output the way seqpipe's is scored.
 *
 *   dna_eval TRUTH.gb PREDICTION.gff
 *
 * Only CDS lines are read; one transcript per gene is assumed (the first
 * transcript of a gene is kept when a GFF3 mRNA gives several).  A CDS
 * line whose sequence is not a record of TRUTH is an error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_genbank.h"
#include "sp_geneeval.h"
#include "sp_lines.h"

typedef struct cds {
	char *seqid, *tx;
	long beg, end;
	int strand;
} cds;

typedef struct cdslist {
	cds *v;
	size_t n, cap;
} cdslist;

/* The transcript a CDS line belongs to: Parent=X or transcript_id "X". */
static char *tx_of(const char *attr)
{
	const char *p = strstr(attr, "Parent=");
	size_t n;
	if (p) {
		p += 7;
		n = strcspn(p, ";,");
		return strndup(p, n);
	}
	if ((p = strstr(attr, "transcript_id \""))) {
		p += 15;
		n = strcspn(p, "\"");
		return strndup(p, n);
	}
	return NULL;
}

static int read_gff(sp_ctx *ctx, const char *path, cdslist *out)
{
	sp_lines *in;
	const char *s;
	size_t n;
	int rc = sp_lines_open(&in, ctx, path);
	while (rc == 0 && (rc = sp_lines_next(in, ctx, &s, &n)) == 1) {
		char seqid[256], type[64], strand, attr[2048] = "";
		long b, e;
		rc = 0;
		if (n == 0 || s[0] == '#')
			continue;
		if (sscanf(s, "%255[^\t]\t%*[^\t]\t%63[^\t]\t%ld\t%ld\t%*[^\t]\t%c\t"
			   "%*[^\t]\t%2047[^\n]", seqid, type, &b, &e, &strand,
			   attr) < 5) {
			rc = sp_err(ctx, SP_EINPUT, "%s:%ld: expected 9 "
				    "tab-separated GFF columns", path,
				    sp_lines_lineno(in));
			break;
		}
		if (strcmp(type, "CDS") != 0)
			continue;
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 256;
			out->v = realloc(out->v, out->cap * sizeof(*out->v));
		}
		out->v[out->n++] = (cds){ strdup(seqid), tx_of(attr), b - 1, e,
					  strand == '-' ? -1 : 1 };
		if (!out->v[out->n - 1].tx) {
			rc = sp_err(ctx, SP_EINPUT, "%s:%ld: CDS without Parent= "
				    "or transcript_id", path, sp_lines_lineno(in));
			break;
		}
	}
	sp_lines_close(in);
	return rc < 0 ? rc : 0;
}

static int by_tx(const void *a, const void *b)
{
	const cds *x = a, *y = b;
	int c = strcmp(x->seqid, y->seqid);
	if (!c)
		c = strcmp(x->tx, y->tx);
	if (!c)
		c = (x->beg > y->beg) - (x->beg < y->beg);
	return c;
}

/* Genes of sequence seqid from the sorted CDS list. */
static sp_gene *genes_of(const cdslist *l, const char *seqid, size_t *ng)
{
	sp_gene *g = NULL;
	size_t cap = 0;
	*ng = 0;
	for (size_t i = 0; i < l->n;) {
		size_t j = i;
		if (strcmp(l->v[i].seqid, seqid) != 0) {
			i++;
			continue;
		}
		while (j < l->n && !strcmp(l->v[j].seqid, seqid) &&
		       !strcmp(l->v[j].tx, l->v[i].tx))
			j++;
		if (*ng == cap) {
			cap = cap ? 2 * cap : 16;
			g = realloc(g, cap * sizeof(*g));
		}
		memset(&g[*ng], 0, sizeof(*g));
		g[*ng].strand = l->v[i].strand;
		g[*ng].nexon = j - i;
		g[*ng].exon = malloc((j - i) * sizeof(sp_exon));
		for (size_t k = i; k < j; k++)
			g[*ng].exon[k - i] = (sp_exon){ l->v[k].beg, l->v[k].end };
		(*ng)++;
		i = j;
	}
	return g;
}

int main(int argc, char **argv)
{
	sp_ctx *ctx;
	sp_genbank *gb;
	sp_dna_record r;
	sp_geneeval ev = SP_GENEEVAL_INIT;
	cdslist l = { 0 };
	int rc;
	if (argc != 3) {
		fprintf(stderr, "usage: dna_eval TRUTH.gb PREDICTION.gff\n");
		return 2;
	}
	if (sp_ctx_new(&ctx, 1))
		return 1;
	sp_dna_record_init(&r);
	rc = read_gff(ctx, argv[2], &l);
	if (!rc)
		qsort(l.v, l.n, sizeof(*l.v), by_tx);
	rc = rc ? rc : sp_genbank_open(&gb, ctx, argv[1]);
	while (rc == 0 && (rc = sp_genbank_next(gb, ctx, &r)) == 1) {
		size_t ng;
		sp_gene *g = genes_of(&l, r.name, &ng);
		rc = sp_geneeval_add(&ev, ctx, r.len, r.gene, r.ngene, g, ng);
		if (rc)
			sp_err_prefix(ctx, rc, "%s", r.name);
		sp_genes_free(g, ng);
	}
	if (rc == 0)
		sp_genbank_close(gb);
	if (rc < 0) {
		fprintf(stderr, "dna_eval: %s\n", sp_errmsg(ctx));
		return 1;
	}
	sp_geneeval_print(&ev, stdout);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].seqid);
		free(l.v[i].tx);
	}
	free(l.v);
	sp_dna_record_free(&r);
	sp_ctx_free(ctx);
	return 0;
}
