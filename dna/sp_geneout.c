/*
 * sp_geneout.c: GFF3 and BED12 lines for gene structures.
 */
#include "sp_geneout.h"

#include <ctype.h>
#include <string.h>

int sp_gene_exon_phase(const sp_gene *g, size_t k)
{
	long before = 0; /* coding bases 5' of exon k on its strand */
	for (size_t j = 0; j < g->nexon; j++)
		if (g->strand > 0 ? j < k : j > k)
			before += g->exon[j].end - g->exon[j].beg;
	/* the 5' end starts g->phase bases before a codon */
	return (int)((3 - ((before - g->phase) % 3 + 3) % 3) % 3);
}

/* seqid with the characters GFF3 does not allow percent-escaped. */
static void escape_(const char *in, char *out, size_t cap)
{
	size_t w = 0;
	for (; *in && w + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (isalnum(c) || strchr(".:^*$@!+_?-|", c))
			out[w++] = (char)c;
		else
			w += (size_t)snprintf(out + w, cap - w, "%%%02X", c);
	}
	out[w] = '\0';
}

static int io_(sp_ctx *ctx, FILE *out, const char *what)
{
	if (ferror(out))
		return sp_err(ctx, SP_EIO, "%s: write error", what);
	return SP_OK;
}

int sp_gff3_header(sp_ctx *ctx, FILE *out)
{
	fputs("##gff-version 3\n", out);
	return io_(ctx, out, "GFF3");
}

static void gff_line_(FILE *out, const char *id, const char *src,
		      const char *type, long beg, long end, char strand,
		      int phase, const char *attr)
{
	fprintf(out, "%s\t%s\t%s\t%ld\t%ld\t.\t%c\t", id, src, type, beg + 1,
		end, strand);
	if (phase < 0)
		fputs(".", out);
	else
		fprintf(out, "%d", phase);
	fprintf(out, "\t%s\n", attr);
}

static void gff_gene_(FILE *out, const char *sid, const char *src,
		      const sp_gene *g, size_t k)
{
	char id[600], attr[1400], range[160] = "";
	char st = g->strand > 0 ? '+' : '-';
	long beg = sp_gene_beg(g), end = sp_gene_end(g);
	/* partial at the left / right end of the feature */
	int pl = g->strand > 0 ? g->partial5 : g->partial3;
	int pr = g->strand > 0 ? g->partial3 : g->partial5;
	if (pl)
		snprintf(range, sizeof(range), ";start_range=.,%ld", beg + 1);
	if (pr)
		snprintf(range + strlen(range), sizeof(range) - strlen(range),
			 ";end_range=%ld,.", end);
	snprintf(id, sizeof(id), "%s.g%zu", sid, k + 1);
	snprintf(attr, sizeof(attr), "ID=%s%s", id, range);
	gff_line_(out, sid, src, "gene", beg, end, st, -1, attr);
	snprintf(attr, sizeof(attr), "ID=%s.t1;Parent=%s%s", id, id, range);
	gff_line_(out, sid, src, "mRNA", beg, end, st, -1, attr);
	for (size_t e = 0; e < g->nexon; e++) {
		if (e > 0) {
			snprintf(attr, sizeof(attr), "Parent=%s.t1", id);
			gff_line_(out, sid, src, "intron", g->exon[e - 1].end,
				  g->exon[e].beg, st, -1, attr);
		}
		snprintf(attr, sizeof(attr), "ID=%s.t1.cds;Parent=%s.t1", id, id);
		gff_line_(out, sid, src, "CDS", g->exon[e].beg, g->exon[e].end,
			  st, sp_gene_exon_phase(g, e), attr);
	}
}

int sp_gff3_write(sp_ctx *ctx, FILE *out, const char *seqid, size_t len,
		  const sp_gene *genes, size_t ngene, const char *source)
{
	char sid[512];
	escape_(seqid, sid, sizeof(sid));
	fprintf(out, "##sequence-region %s 1 %zu\n", sid, len);
	for (size_t k = 0; k < ngene; k++)
		gff_gene_(out, sid, source ? source : "seqpipe", &genes[k], k);
	return io_(ctx, out, "GFF3");
}

int sp_bed_write(sp_ctx *ctx, FILE *out, const char *seqid,
		 const sp_gene *genes, size_t ngene)
{
	char sid[512];
	escape_(seqid, sid, sizeof(sid));
	for (size_t k = 0; k < ngene; k++) {
		const sp_gene *g = &genes[k];
		long beg = sp_gene_beg(g), end = sp_gene_end(g);
		fprintf(out, "%s\t%ld\t%ld\t%s.g%zu.t1\t0\t%c\t%ld\t%ld\t0\t%zu\t",
			sid, beg, end, sid, k + 1, g->strand > 0 ? '+' : '-',
			beg, end, g->nexon);
		for (size_t e = 0; e < g->nexon; e++)
			fprintf(out, "%ld,", g->exon[e].end - g->exon[e].beg);
		fputc('\t', out);
		for (size_t e = 0; e < g->nexon; e++)
			fprintf(out, "%ld,", g->exon[e].beg - beg);
		fputc('\n', out);
	}
	return io_(ctx, out, "BED");
}
