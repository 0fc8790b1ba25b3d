/*
 * sp_genesig.c: weight array models of splice sites, start and stop
 * codons (sp_genesig.h).
 */
#include "sp_genesig.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Window of each kind: first offset from the anchor, and length. */
static const int lo_[SP_NSIG] = { -3, -25, -8, -3 };
static const int n_[SP_NSIG] = { 9, 30, 14, 9 };
#define WMAX 30
/* A position's counts: [previous base, or 4 for none][base]; row 4 is
 * counted at every position, so a window broken by an unknown base has
 * a zero-order term to fall back on. */
typedef double cell_[5][4];

/* Content models, on a label's strand's reading: intergenic, coding at
 * codon position 0, 1, 2, intron; order ORDER. */
enum { CM_IG, CM_CDS0, CM_CDS1, CM_CDS2, CM_INTRON, NCM };
#define ORDER 5
#define NCTX (1 << (2 * ORDER))

struct sp_genesig {
	cell_ site[SP_NSIG][WMAX], decoy[SP_NSIG][WMAX];
	float ratio[SP_NSIG][WMAX][5][4];
	double label[SP_NLABEL];
	double content[NCM][NCTX + 1][4]; /* row NCTX: order 0 */
	float logp[NCM][NCTX + 1][4];
	double intron[SP_GENESIG_INTRON_MAX + 1]; /* introns of each length */
	double long_n, long_sum; /* longer introns: how many, their total */
	double intron_logp[SP_GENESIG_INTRON_MAX + 1];
	double tail_logp, tail_step; /* log P(MAX + 1), log(1 - 1 / excess) */
};

static int model_of_(int label)
{
	if (label == SP_LABEL_IG)
		return CM_IG;
	if (label >= SP_LABEL_INTRON_PLUS)
		return CM_INTRON;
	return CM_CDS0 + (label - 1) % 3;
}

int sp_genesig_new(sp_genesig **out, sp_ctx *ctx)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return sp_err(ctx, SP_ENOMEM, "gene sensors: out of memory");
	return SP_OK;
}

void sp_genesig_free(sp_genesig *s)
{
	free(s);
}

/* Base p of the strand's reading (4: unknown or off the record). */
static int base_(const uint8_t *seq, long len, long p, int strand)
{
	int b;
	if (p < 0 || p >= len)
		return 4;
	b = strand > 0 ? seq[p] : seq[len - 1 - p];
	if (b > 3)
		return 4;
	return strand > 0 ? b : 3 - b;
}

/* Does the strand read the kind's consensus at pos? */
static int consensus_(int kind, const uint8_t *seq, long len, long pos, int strand)
{
	int a = base_(seq, len, pos, strand), b = base_(seq, len, pos + 1, strand);
	int c = base_(seq, len, pos + 2, strand);
	switch (kind) {
	case SP_SIG_DONOR: /* GC too: the decoder takes GC donors (gc_donor),
			      so they must be counted, sites and decoys */
		return a == SP_BASE_G && (b == SP_BASE_T || b == SP_BASE_C);
	case SP_SIG_ACCEPTOR:
		return a == SP_BASE_A && b == SP_BASE_G;
	case SP_SIG_START:
		return a == SP_BASE_A && b == SP_BASE_T && c == SP_BASE_G;
	default:
		return a == SP_BASE_T && ((b == SP_BASE_A && (c == SP_BASE_A || c == SP_BASE_G)) ||
					  (b == SP_BASE_G && c == SP_BASE_A));
	}
}

static void count_(cell_ *w, int kind, const uint8_t *seq, long len, long pos, int strand)
{
	int prev = 4;
	for (int k = 0; k < n_[kind]; k++) {
		int b = base_(seq, len, pos + lo_[kind] + k, strand);
		if (b < 4) {
			w[k][4][b] += 1;
			if (prev < 4)
				w[k][prev][b] += 1;
		}
		prev = b;
	}
}

/* The anchors of a gene's sites on its strand's reading, marked in
 * mark[kind * len + pos] (the acceptor's anchor is the A of AG, two bases
 * before the exon). */
static void mark_gene_(const sp_gene *g, long len, uint8_t *mark)
{
	long n = (long)g->nexon;
	for (long k = 0; k < n; k++) {
		/* the exons in the strand's order, in its coordinates */
		const sp_exon *e = &g->exon[g->strand > 0 ? k : n - 1 - k];
		long beg = g->strand > 0 ? e->beg : len - e->end;
		long end = g->strand > 0 ? e->end : len - e->beg;
		if (k == 0 && !g->partial5 && beg >= 0)
			mark[SP_SIG_START * len + beg] = 1;
		if (k > 0 && beg >= 2)
			mark[SP_SIG_ACCEPTOR * len + beg - 2] = 1;
		if (k < n - 1 && end < len)
			mark[SP_SIG_DONOR * len + end] = 1;
		if (k == n - 1 && !g->partial3 && end < len)
			mark[SP_SIG_STOP * len + end] = 1;
	}
}

/* The context of oriented position p (its ORDER bases before, oldest in
 * the high bits), or NCTX when one is unknown or off the record. */
static int context_(const uint8_t *seq, long len, long p, int strand)
{
	int key = 0;
	for (long k = p - ORDER; k < p; k++) {
		int b = base_(seq, len, k, strand);
		if (b > 3)
			return NCTX;
		key = key << 2 | b;
	}
	return key;
}

static void count_content_(sp_genesig *s, const uint8_t *seq, long len,
			   const uint8_t *labels)
{
	for (long i = 0; i < len; i++) {
		int l = labels[i], strand = sp_label_strand(l) < 0 ? -1 : 1;
		long p = strand > 0 ? i : len - 1 - i;
		int b = base_(seq, len, p, strand), m;
		if (l >= SP_NLABEL || b > 3)
			continue;
		m = model_of_(l);
		s->content[m][NCTX][b] += 1;
		s->content[m][context_(seq, len, p, strand)][b] += 1;
		/* intergenic bases read both ways */
		if (l == SP_LABEL_IG && (b = base_(seq, len, len - 1 - i, -1)) < 4) {
			s->content[m][NCTX][b] += 1;
			s->content[m][context_(seq, len, len - 1 - i, -1)][b] += 1;
		}
	}
}

int sp_genesig_add(sp_genesig *s, sp_ctx *ctx, const uint8_t *seq, size_t len,
		   const sp_gene *genes, size_t ngene, const uint8_t *labels)
{
	long L = (long)len;
	uint8_t *mark;
	if (!len)
		return SP_OK;
	if (!(mark = malloc(SP_NSIG * len)))
		return sp_err(ctx, SP_ENOMEM, "gene sensors: out of memory for %zu bases", len);
	for (int strand = 1; strand >= -1; strand -= 2) {
		memset(mark, 0, SP_NSIG * len);
		for (size_t g = 0; g < ngene; g++)
			if (genes[g].strand == strand && genes[g].nexon)
				mark_gene_(&genes[g], L, mark);
		for (int kind = 0; kind < SP_NSIG; kind++)
			for (long p = 0; p < L; p++)
				if (consensus_(kind, seq, L, p, strand))
					count_(mark[kind * len + (size_t)p] ? s->site[kind] : s->decoy[kind],
					       kind, seq, L, p, strand);
	}
	for (size_t g = 0; g < ngene; g++)
		for (size_t e = 1; e < genes[g].nexon; e++) {
			long d = genes[g].exon[e].beg - genes[g].exon[e - 1].end;
			if (d > SP_GENESIG_INTRON_MAX) {
				s->long_n += 1;
				s->long_sum += (double)d;
			} else if (d >= 0) {
				s->intron[d] += 1;
			}
		}
	for (size_t i = 0; labels && i < len; i++)
		if (labels[i] < SP_NLABEL)
			s->label[labels[i]] += 1;
	if (labels)
		count_content_(s, seq, L, labels);
	free(mark);
	return SP_OK;
}

static void finish_content_(sp_genesig *s)
{
	for (int m = 0; m < NCM; m++)
		for (int c = 0; c <= NCTX; c++) {
			const double *a = s->content[m][c];
			double n = a[0] + a[1] + a[2] + a[3];
			for (int b = 0; b < 4; b++)
				s->logp[m][c][b] = (float)log((a[b] + 1) / (n + 4));
		}
}

/* Spreads each counted length d over d +- h with a triangle, h = 1 +
 * d / 16 (a 60-base intron over 57..63); what spills past MAX joins the
 * tail.  One pseudo-intron is spread evenly over all lengths and the
 * tail, so that no length scores -inf. */
static void finish_introns_(sp_genesig *s)
{
	enum { MAX = SP_GENESIG_INTRON_MAX };
	double n = s->long_n + 1, tail = s->long_n + 1.0 / (MAX + 2), excess;
	for (int d = 0; d <= MAX; d++)
		n += s->intron[d];
	for (int d = 0; d <= MAX; d++)
		s->intron_logp[d] = 1.0 / (MAX + 2);
	for (int d = 0; d <= MAX; d++) {
		int h = 1 + d / 16; /* h - 1 <= d: no spill below 0 */
		if (!s->intron[d])
			continue;
		for (int x = -h + 1; x < h; x++) {
			double share = s->intron[d] * (h - abs(x)) / ((double)h * h);
			if (d + x <= MAX)
				s->intron_logp[d + x] += share;
			else
				tail += share;
		}
	}
	for (int d = 0; d <= MAX; d++)
		s->intron_logp[d] = log(s->intron_logp[d] / n);
	/* the tail: P(> MAX) times a geometric of the mean excess length */
	excess = s->long_n > 0 ? s->long_sum / s->long_n - MAX : 1000;
	if (excess < 2)
		excess = 2;
	s->tail_logp = log(tail / n) - log(excess);
	s->tail_step = log1p(-1 / excess);
}

double sp_genesig_intron_logp(const sp_genesig *s, long len)
{
	if (len < 0)
		return -INFINITY;
	if (len <= SP_GENESIG_INTRON_MAX)
		return s->intron_logp[len];
	return s->tail_logp + (double)(len - SP_GENESIG_INTRON_MAX - 1) * s->tail_step;
}

void sp_genesig_intron_counts(const sp_genesig *s, double *short_introns, double *long_introns)
{
	*short_introns = 0;
	for (int d = 0; d <= SP_GENESIG_INTRON_MAX; d++)
		*short_introns += s->intron[d];
	*long_introns = s->long_n;
}

void sp_genesig_finish(sp_genesig *s)
{
	for (int kind = 0; kind < SP_NSIG; kind++)
		for (int k = 0; k < n_[kind]; k++)
			for (int prev = 0; prev < 5; prev++) {
				const double *a = s->site[kind][k][prev], *d = s->decoy[kind][k][prev];
				double na = a[0] + a[1] + a[2] + a[3], nd = d[0] + d[1] + d[2] + d[3];
				for (int b = 0; b < 4; b++)
					s->ratio[kind][k][prev][b] = (float)(log((a[b] + 1) / (na + 4)) -
									     log((d[b] + 1) / (nd + 4)));
			}
	finish_content_(s);
	finish_introns_(s);
}

double sp_genesig_content(const sp_genesig *s, int label, const uint8_t *seq,
			  size_t len, long i)
{
	int strand = sp_label_strand(label) < 0 ? -1 : 1;
	long p = strand > 0 ? i : (long)len - 1 - i;
	int b = base_(seq, (long)len, p, strand);
	if (b > 3)
		return 0;
	return s->logp[model_of_(label)][context_(seq, (long)len, p, strand)][b];
}

void sp_genesig_counts(const sp_genesig *s, int kind, double *sites, double *decoys)
{
	/* the consensus' first base is counted once per site */
	int k = -lo_[kind];
	const double *a = s->site[kind][k][4], *d = s->decoy[kind][k][4];
	*sites = a[0] + a[1] + a[2] + a[3];
	*decoys = d[0] + d[1] + d[2] + d[3];
}

double sp_genesig_score(const sp_genesig *s, int kind, const uint8_t *seq,
			size_t len, long pos, int strand)
{
	double sum = 0;
	int prev = 4;
	for (int k = 0; k < n_[kind]; k++) {
		int b = base_(seq, (long)len, pos + lo_[kind] + k, strand);
		if (b < 4)
			sum += s->ratio[kind][k][prev][b];
		prev = b;
	}
	return sum;
}

double sp_genesig_logprior(const sp_genesig *s, int l)
{
	double n = 0;
	for (int i = 0; i < SP_NLABEL; i++)
		n += s->label[i];
	return log((s->label[l] + 1) / (n + SP_NLABEL));
}

static size_t cells_(void)
{
	size_t n = 0;
	for (int kind = 0; kind < SP_NSIG; kind++)
		n += (size_t)n_[kind] * 20;
	return n;
}

/* The packed tables start with the number of their layout, so that a
 * model saved with other windows or another order is refused, not
 * misread: bump it with any change to lo_, n_, ORDER or the packing. */
static float layout_(void)
{
	return 3;
}

size_t sp_genesig_packed_len(void)
{
	return 1 + 2 * cells_() + SP_NLABEL + NCM * (NCTX + 1) * 4 + SP_GENESIG_INTRON_MAX + 3;
}

/* One count: read from in[at] when given, else written to out[at]. */
static void visit_(double *c, const float *in, float *out, size_t at)
{
	if (in)
		*c = in[at];
	else
		out[at] = (float)*c;
}

/* Visits every count in the packed order: from `in` when given, else
 * into `out`. */
static void walk_(sp_genesig *s, const float *in, float *out)
{
	size_t at = 1; /* after the layout */
	for (int which = 0; which < 2; which++)
		for (int kind = 0; kind < SP_NSIG; kind++)
			for (int k = 0; k < n_[kind]; k++)
				for (int prev = 0; prev < 5; prev++)
					for (int b = 0; b < 4; b++, at++)
						visit_(which ? &s->decoy[kind][k][prev][b]
							     : &s->site[kind][k][prev][b], in, out, at);
	for (int l = 0; l < SP_NLABEL; l++, at++)
		visit_(&s->label[l], in, out, at);
	for (int m = 0; m < NCM; m++)
		for (int c = 0; c <= NCTX; c++)
			for (int b = 0; b < 4; b++, at++)
				visit_(&s->content[m][c][b], in, out, at);
	for (int d = 0; d <= SP_GENESIG_INTRON_MAX; d++, at++)
		visit_(&s->intron[d], in, out, at);
	visit_(&s->long_n, in, out, at++);
	visit_(&s->long_sum, in, out, at);
}

void sp_genesig_pack(const sp_genesig *s, float *out)
{
	/* walk_ only reads s when it is given no input */
	walk_((sp_genesig *)s, NULL, out);
	out[0] = layout_();
}

int sp_genesig_unpack(sp_genesig **out, sp_ctx *ctx, const float *v, size_t n)
{
	int rc;
	*out = NULL;
	if (n != sp_genesig_packed_len() || v[0] != layout_())
		return sp_err(ctx, SP_EINPUT, "gene sensors: %zu numbers of layout %g, expected %zu "
			      "of layout %g (a model saved by another seqpipe: retrain it)",
			      n, n ? (double)v[0] : 0.0, sp_genesig_packed_len(), (double)layout_());
	for (size_t i = 1; i < n; i++)
		if (!(v[i] >= 0) || !isfinite(v[i]))
			return sp_err(ctx, SP_EINPUT, "gene sensors: count %zu is %g, "
				      "expected a finite count >= 0", i, (double)v[i]);
	if ((rc = sp_genesig_new(out, ctx)) < 0)
		return rc;
	walk_(*out, v, NULL);
	sp_genesig_finish(*out);
	return SP_OK;
}
