/*
 * sp_dna.c: base codes, gene structures, per-base labels and the gene
 * grammar check.
 */
#include "sp_dna.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sp_base_code(int c)
{
	switch (c) {
	case 'A': case 'a': return SP_BASE_A;
	case 'C': case 'c': return SP_BASE_C;
	case 'G': case 'g': return SP_BASE_G;
	case 'T': case 't': return SP_BASE_T;
	case 'U': case 'u': return SP_BASE_T; /* RNA */
	case 'N': case 'n': case 'R': case 'r': case 'Y': case 'y':
	case 'S': case 's': case 'W': case 'w': case 'K': case 'k':
	case 'M': case 'm': case 'B': case 'b': case 'D': case 'd':
	case 'H': case 'h': case 'V': case 'v':
		return SP_BASE_UNKNOWN;
	default: return -1;
	}
}

char sp_base_letter(int code)
{
	return code >= 0 && code < 5 ? "ACGTN"[code] : '?';
}

size_t sp_kmer_token(const uint8_t *seq, size_t len, size_t i, int k, char *out)
{
	long half = k / 2;
	if (k <= 1) {
		out[0] = sp_base_letter(i < len ? seq[i] : SP_BASE_UNKNOWN);
		out[1] = 0;
		return 1;
	}
	for (long d = 0; d < k; d++) {
		long p = (long)i - half + d;
		int c = p >= 0 && (size_t)p < len ? seq[p] : SP_BASE_UNKNOWN;
		if (c >= SP_BASE_UNKNOWN) { /* unknown or off the record */
			out[0] = 'N';
			out[1] = 0;
			return 1;
		}
		out[d] = sp_base_letter(c);
	}
	out[k] = 0;
	return (size_t)k;
}

int sp_label_class(int label)
{
	if (label >= SP_LABEL_CDS_PLUS && label < SP_LABEL_INTRON_PLUS)
		return SP_CLASS_CODING;
	if (label == SP_LABEL_INTRON_PLUS || label == SP_LABEL_INTRON_MINUS)
		return SP_CLASS_INTRON;
	return SP_CLASS_IG;
}

int sp_label_strand(int label)
{
	if ((label >= SP_LABEL_CDS_PLUS && label < SP_LABEL_CDS_MINUS) ||
	    label == SP_LABEL_INTRON_PLUS)
		return 1;
	if ((label >= SP_LABEL_CDS_MINUS && label < SP_LABEL_INTRON_PLUS) ||
	    label == SP_LABEL_INTRON_MINUS)
		return -1;
	return 0;
}

const char *sp_label_name(int label)
{
	static const char *const names[SP_NLABEL] = {
		"ig", "cds+0", "cds+1", "cds+2", "cds-0", "cds-1", "cds-2",
		"intron+", "intron-"
	};
	return label >= 0 && label < SP_NLABEL ? names[label] : "?";
}

const char *sp_class_name(int cls)
{
	static const char *const names[SP_NCLASS] = {
		"intergenic", "coding", "intron"
	};
	return cls >= 0 && cls < SP_NCLASS ? names[cls] : "?";
}

void sp_gene_clear(sp_gene *g)
{
	free(g->exon);
	free(g->name);
	memset(g, 0, sizeof(*g));
}

void sp_genes_free(sp_gene *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++)
		sp_gene_clear(&g[i]);
	free(g);
}

long sp_gene_beg(const sp_gene *g) { return g->nexon ? g->exon[0].beg : 0; }
long sp_gene_end(const sp_gene *g)
{
	return g->nexon ? g->exon[g->nexon - 1].end : 0;
}

long sp_gene_cds_len(const sp_gene *g)
{
	long n = 0;
	for (size_t i = 0; i < g->nexon; i++)
		n += g->exon[i].end - g->exon[i].beg;
	return n;
}

/* "NAME" or "#i" for messages. */
static const char *gname_(const sp_gene *g, char *buf, size_t n, size_t i)
{
	if (g->name && g->name[0])
		return g->name;
	snprintf(buf, n, "#%zu", i + 1);
	return buf;
}

static void paint_one_(const sp_gene *g, uint8_t *labels)
{
	long beg = sp_gene_beg(g), end = sp_gene_end(g), c = 0;
	int plus = g->strand > 0;
	uint8_t intron = plus ? SP_LABEL_INTRON_PLUS : SP_LABEL_INTRON_MINUS;
	uint8_t cds = plus ? SP_LABEL_CDS_PLUS : SP_LABEL_CDS_MINUS;
	for (long p = beg; p < end; p++)
		labels[p] = intron;
	/* codon positions run along the gene's own strand */
	for (size_t k = 0; k < g->nexon; k++) {
		const sp_exon *e = &g->exon[plus ? k : g->nexon - 1 - k];
		for (long i = 0; i < e->end - e->beg; i++, c++) {
			long p = plus ? e->beg + i : e->end - 1 - i;
			labels[p] = (uint8_t)(cds + ((c - g->phase) % 3 + 3) % 3);
		}
	}
}

static int by_beg_(const void *a, const void *b)
{
	long x = sp_gene_beg(*(const sp_gene *const *)a);
	long y = sp_gene_beg(*(const sp_gene *const *)b);
	return (x > y) - (x < y);
}

int sp_genes_paint(sp_ctx *ctx, const sp_gene *genes, size_t ngene,
		   size_t len, uint8_t *labels)
{
	const sp_gene **ord;
	char b1[32], b2[32];
	int rc = SP_OK;
	memset(labels, SP_LABEL_IG, len);
	if (ngene == 0)
		return SP_OK;
	if (!(ord = malloc(ngene * sizeof(*ord))))
		return sp_err(ctx, SP_ENOMEM, "labels: out of memory");
	for (size_t i = 0; i < ngene; i++) {
		const sp_gene *g = &genes[i];
		if (g->nexon == 0 || sp_gene_beg(g) < 0 ||
		    sp_gene_end(g) > (long)len) {
			rc = sp_err(ctx, SP_EINPUT, "gene %s lies outside the "
				    "sequence (length %zu)",
				    gname_(g, b1, sizeof(b1), i), len);
			goto out;
		}
		ord[i] = g;
	}
	qsort(ord, ngene, sizeof(*ord), by_beg_);
	for (size_t i = 1; i < ngene; i++)
		if (sp_gene_beg(ord[i]) < sp_gene_end(ord[i - 1])) {
			rc = sp_err(ctx, SP_EINPUT, "gene %s (%ld..%ld) overlaps "
				    "gene %s (%ld..%ld): per-base labels cannot "
				    "express overlapping genes",
				    gname_(ord[i], b1, sizeof(b1),
					   (size_t)(ord[i] - genes)),
				    sp_gene_beg(ord[i]) + 1, sp_gene_end(ord[i]),
				    gname_(ord[i - 1], b2, sizeof(b2),
					   (size_t)(ord[i - 1] - genes)),
				    sp_gene_beg(ord[i - 1]) + 1,
				    sp_gene_end(ord[i - 1]));
			goto out;
		}
	for (size_t i = 0; i < ngene; i++)
		paint_one_(&genes[i], labels);
out:
	free(ord);
	return rc;
}

/* ---- the grammar -------------------------------------------------------- */

/* Base at forward position p read on strand s (complemented on minus). */
static int sbase_(const uint8_t *seq, int s, long p)
{
	int b = seq[p];
	return s > 0 || b == SP_BASE_UNKNOWN ? b : 3 - b;
}

static int is_stop_(int a, int b, int c)
{
	return a == SP_BASE_T && ((b == SP_BASE_A && (c == SP_BASE_A ||
						       c == SP_BASE_G)) ||
				  (b == SP_BASE_G && c == SP_BASE_A));
}

/* Forward position of the i-th coding base in transcription order. */
static long cds_pos_(const sp_gene *g, long i)
{
	for (size_t k = 0; k < g->nexon; k++) {
		const sp_exon *e = &g->exon[g->strand > 0 ? k : g->nexon - 1 - k];
		long n = e->end - e->beg;
		if (i < n)
			return g->strand > 0 ? e->beg + i : e->end - 1 - i;
		i -= n;
	}
	return -1;
}

static int check_layout_(sp_ctx *ctx, const sp_gene *g, size_t len,
			 const char *who)
{
	if (g->strand != 1 && g->strand != -1)
		return sp_err(ctx, SP_EINPUT, "%s: strand %d, expected +1 or -1",
			      who, g->strand);
	if (g->nexon == 0)
		return sp_err(ctx, SP_EINPUT, "%s: no exon", who);
	for (size_t k = 0; k < g->nexon; k++) {
		const sp_exon *e = &g->exon[k];
		if (e->beg < 0 || e->end > (long)len || e->beg >= e->end)
			return sp_err(ctx, SP_EINPUT, "%s: exon %ld..%ld outside "
				      "1..%zu or empty", who, e->beg + 1,
				      e->end, len);
		if (k && e->beg <= g->exon[k - 1].end)
			return sp_err(ctx, SP_EINPUT, "%s: exon %ld..%ld does "
				      "not start after exon %ld..%ld ends",
				      who, e->beg + 1, e->end,
				      g->exon[k - 1].beg + 1, g->exon[k - 1].end);
	}
	return SP_OK;
}

static int check_introns_(sp_ctx *ctx, const uint8_t *seq, const sp_gene *g,
			  const char *who, unsigned flags)
{
	int s = g->strand;
	for (size_t k = 1; k < g->nexon; k++) {
		long a = g->exon[k - 1].end, b = g->exon[k].beg; /* [a, b) */
		/* donor at the intron's 5' end on its strand */
		long d = s > 0 ? a : b - 1, c = s > 0 ? b - 1 : a;
		int d0 = sbase_(seq, s, d), d1 = sbase_(seq, s, d + s);
		int a0 = sbase_(seq, s, c - s), a1 = sbase_(seq, s, c);
		if (b - a < 4)
			return sp_err(ctx, SP_EINPUT, "%s: intron %ld..%ld is "
				      "shorter than 4 bases", who, a + 1, b);
		int gc = (flags & SP_GRAMMAR_GC_DONOR) && d1 == SP_BASE_C;
		if (d0 != SP_BASE_G || (d1 != SP_BASE_T && !gc))
			return sp_err(ctx, SP_EINPUT, "%s: intron %ld..%ld starts "
				      "with %c%c on its strand, expected GT",
				      who, a + 1, b, sp_base_letter(d0),
				      sp_base_letter(d1));
		if (a0 != SP_BASE_A || a1 != SP_BASE_G)
			return sp_err(ctx, SP_EINPUT, "%s: intron %ld..%ld ends "
				      "with %c%c on its strand, expected AG",
				      who, a + 1, b, sp_base_letter(a0),
				      sp_base_letter(a1));
	}
	return SP_OK;
}

static int check_codons_(sp_ctx *ctx, const uint8_t *seq, size_t len,
			 const sp_gene *g, const char *who)
{
	long n = sp_gene_cds_len(g);
	int s = g->strand;
	const sp_exon *first = &g->exon[s > 0 ? 0 : g->nexon - 1];
	if (!g->partial5 && g->phase != 0)
		return sp_err(ctx, SP_EINPUT, "%s: phase %d on a complete 5' "
			      "end, expected 0", who, g->phase);
	if (!g->partial5 && !g->partial3 && (n % 3 != 0 || n < 6))
		return sp_err(ctx, SP_EINPUT, "%s: coding length %ld, expected "
			      "a multiple of 3 of at least 6", who, n);
	if (!g->partial5) {
		long p = cds_pos_(g, 0);
		if (first->end - first->beg < 3 ||
		    sbase_(seq, s, p) != SP_BASE_A ||
		    sbase_(seq, s, p + s) != SP_BASE_T ||
		    sbase_(seq, s, p + 2 * s) != SP_BASE_G)
			return sp_err(ctx, SP_EINPUT, "%s: the CDS does not "
				      "start with an ATG inside its first exon",
				      who);
	}
	for (long i = g->phase; i + 3 <= n; i += 3) {
		long p0 = cds_pos_(g, i), p1 = cds_pos_(g, i + 1),
		     p2 = cds_pos_(g, i + 2);
		if (is_stop_(sbase_(seq, s, p0), sbase_(seq, s, p1),
			     sbase_(seq, s, p2)))
			return sp_err(ctx, SP_EINPUT, "%s: in-frame stop codon "
				      "at %ld", who, p0 + 1);
	}
	if (!g->partial3) {
		long e = s > 0 ? sp_gene_end(g) : sp_gene_beg(g) - 1;
		if (e - 2 * (s < 0) < 0 || e + 2 * (s > 0) >= (long)len ||
		    !is_stop_(sbase_(seq, s, e), sbase_(seq, s, e + s),
			      sbase_(seq, s, e + 2 * s)))
			return sp_err(ctx, SP_EINPUT, "%s: no stop codon "
				      "TAA/TAG/TGA right after the CDS", who);
	}
	return SP_OK;
}

int sp_gene_check(sp_ctx *ctx, const uint8_t *seq, size_t len,
		  const sp_gene *g, unsigned flags)
{
	char who[160];
	int rc;
	snprintf(who, sizeof(who), "gene %s (%c, %ld..%ld)",
		 g->name ? g->name : "?", g->strand > 0 ? '+' : '-',
		 sp_gene_beg(g) + 1, sp_gene_end(g));
	if ((rc = check_layout_(ctx, g, len, who)) ||
	    (rc = check_introns_(ctx, seq, g, who, flags)))
		return rc;
	return check_codons_(ctx, seq, len, g, who);
}

/* ---- records ------------------------------------------------------------ */

void sp_dna_record_init(sp_dna_record *r) { memset(r, 0, sizeof(*r)); }

void sp_dna_record_reset(sp_dna_record *r)
{
	for (size_t i = 0; i < r->ngene; i++)
		sp_gene_clear(&r->gene[i]);
	free(r->name);
	free(r->desc);
	r->name = r->desc = NULL;
	r->len = r->nunknown = r->ngene = 0;
	r->line = 0;
}

void sp_dna_record_free(sp_dna_record *r)
{
	sp_dna_record_reset(r);
	free(r->seq);
	free(r->gene);
	free(r->label);
	memset(r, 0, sizeof(*r));
}

int sp_dna_record_push(sp_dna_record *r, sp_ctx *ctx, uint8_t code)
{
	if (r->len == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 4096;
		uint8_t *ns = realloc(r->seq, nc);
		if (!ns)
			return sp_err(ctx, SP_ENOMEM, "sequence: out of memory "
				      "at %zu bases", r->len);
		r->seq = ns;
		r->cap = nc;
	}
	r->seq[r->len++] = code;
	r->nunknown += code == SP_BASE_UNKNOWN;
	return SP_OK;
}
