/*
 * t_dna_intronlen.c: the intron length model (sp_genesig_intron_logp)
 * and the gene decoder that weighs it (intron_length_weight).
 *
 * The table: learned from introns of 60 and 1,000 bases, its mass sums
 * to 1 over all lengths, peaks at 60 and decays geometrically past
 * SP_GENESIG_INTRON_MAX; it survives packing.  The decoder: with the
 * tagger's scores pinning a three-exon gene whose introns are 60 and 400
 * bases (one scored whole, one through the loop state's tail), the path
 * is the same with and without the lengths and the two scores differ by
 * exactly log P(60) + log P(400); and where the tagger slightly prefers
 * a 132-base intron to a 60-base one, the lengths turn the choice.  On
 * random scores, the decoder's paths obey the grammar, its scores are
 * its paths' own, and no path beats its best.
 */
#include "sp_genedecode.h"
#include "sp_genesig.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LEN 3000

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* Sensors from genes whose only trait that matters is their introns:
 * 20 of 60 bases, 2 of 245 (whose smoothing spills into the tail) and 5
 * of 1,000. */
static sp_genesig *learn_lengths(sp_ctx *ctx)
{
	enum { N = 27, SEQ = 45000 };
	sp_exon ex[N][2];
	sp_gene g[N];
	uint8_t *seq = malloc(SEQ);
	sp_genesig *s = NULL;
	unsigned seed = 7;
	for (long i = 0; i < SEQ; i++)
		seq[i] = (uint8_t)(rnd(&seed) % 4);
	for (int k = 0; k < N; k++) {
		long b = 1500L * k, intron = k < 20 ? 60 : k < 22 ? 245 : 1000;
		ex[k][0] = (sp_exon){ b, b + 30 };
		ex[k][1] = (sp_exon){ b + 30 + intron, b + 60 + intron };
		g[k] = (sp_gene){ 1, 0, 0, 0, 2, ex[k], NULL };
	}
	if (sp_genesig_new(&s, ctx) || sp_genesig_add(s, ctx, seq, SEQ, g, N, NULL)) {
		sp_genesig_free(s);
		s = NULL;
	} else {
		sp_genesig_finish(s);
	}
	free(seq);
	return s;
}

static void test_table(sp_ctx *ctx, const sp_genesig *s)
{
	double mass = 0, shorts, longs, step;
	float *v = malloc(sp_genesig_packed_len() * sizeof(*v));
	sp_genesig *back = NULL;
	int same = 1;
	sp_genesig_intron_counts(s, &shorts, &longs);
	ok(shorts == 22 && longs == 5, "introns counted: %g short, %g long", shorts, longs);
	for (long d = 0; d <= SP_GENESIG_INTRON_MAX; d++)
		mass += exp(sp_genesig_intron_logp(s, d));
	step = sp_genesig_intron_logp(s, SP_GENESIG_INTRON_MAX + 2) -
	       sp_genesig_intron_logp(s, SP_GENESIG_INTRON_MAX + 1);
	/* the tail is geometric: its sum is its first term / (1 - ratio) */
	mass += exp(sp_genesig_intron_logp(s, SP_GENESIG_INTRON_MAX + 1)) / -expm1(step);
	ok(fabs(mass - 1) < 1e-9, "the lengths' probabilities sum to 1 (%.12f)", mass);
	ok(sp_genesig_intron_logp(s, 60) > sp_genesig_intron_logp(s, 58) &&
	   sp_genesig_intron_logp(s, 58) > sp_genesig_intron_logp(s, 40) &&
	   sp_genesig_intron_logp(s, 40) == sp_genesig_intron_logp(s, 132) &&
	   sp_genesig_intron_logp(s, 250) > sp_genesig_intron_logp(s, 132) &&
	   sp_genesig_intron_logp(s, 60) > log(0.15),
	   "the histogram peaks at 60, smoothed to 58, flat where nothing was seen "
	   "(log P(60) %.3f, log P(58) %.3f, log P(40) %.3f)", sp_genesig_intron_logp(s, 60),
	   sp_genesig_intron_logp(s, 58), sp_genesig_intron_logp(s, 40));
	/* 5 introns averaging 1000, so the tail's mean excess is 750 */
	ok(fabs(step - log1p(-1.0 / 750)) < 1e-12 && sp_genesig_intron_logp(s, -1) == -INFINITY,
	   "the tail decays by 1 - 1/750 per base (%.9f)", step);
	sp_genesig_pack(s, v);
	if (!sp_genesig_unpack(&back, ctx, v, sp_genesig_packed_len()))
		for (long d = 0; d <= 2 * SP_GENESIG_INTRON_MAX; d++)
			same &= fabs(sp_genesig_intron_logp(back, d) -
				     sp_genesig_intron_logp(s, d)) < 1e-9;
	ok(back && same, "the length table survives packing");
	sp_genesig_free(back);
	free(v);
}

/* A plus-strand gene of three exons at 500 with introns of intron1 and
 * intron2 bases: CDS codons random but never a stop, ATG first, TAA
 * after; introns GT...AG. */
typedef struct made {
	uint8_t seq[LEN];
	sp_exon ex[3];
	sp_gene g;
} made;

static void make_gene(made *m, unsigned seed, long intron1, long intron2)
{
	long at = 500, lens[3] = { 90, 120, 60 }, cds = 0;
	static const char *const stops[] = { "TAA", "TAG", "TGA" };
	uint8_t codon[3];
	for (long i = 0; i < LEN; i++)
		m->seq[i] = (uint8_t)(rnd(&seed) % 4);
	for (int e = 0; e < 3; e++) {
		m->ex[e] = (sp_exon){ at, at + lens[e] };
		at += lens[e] + (e == 0 ? intron1 : intron2);
	}
	m->g = (sp_gene){ 1, 0, 0, 0, 3, m->ex, NULL };
	for (int e = 0; e < 3; e++)
		for (long i = m->ex[e].beg; i < m->ex[e].end; i++, cds++) {
			int bad;
			if (cds % 3 == 0)
				do {
					bad = 0;
					for (int k = 0; k < 3; k++)
						codon[k] = (uint8_t)(rnd(&seed) % 4);
					for (int k = 0; k < 3; k++)
						bad |= codon[0] == sp_base_code(stops[k][0]) &&
						       codon[1] == sp_base_code(stops[k][1]) &&
						       codon[2] == sp_base_code(stops[k][2]);
				} while (bad);
			m->seq[i] = cds < 3 ? (uint8_t)sp_base_code("ATG"[cds]) : codon[cds % 3];
		}
	for (int e = 0; e < 2; e++) {
		m->seq[m->ex[e].end] = (uint8_t)sp_base_code('G');
		m->seq[m->ex[e].end + 1] = (uint8_t)sp_base_code('T');
		m->seq[m->ex[e + 1].beg - 2] = (uint8_t)sp_base_code('A');
		m->seq[m->ex[e + 1].beg - 1] = (uint8_t)sp_base_code('G');
	}
	for (int k = 0; k < 3; k++)
		m->seq[m->ex[2].end + k] = (uint8_t)sp_base_code("TAA"[k]);
}

/* Scores that pin the labels: 0 for the label, -30 for the others. */
static void pin(const uint8_t *lab, float *sc)
{
	for (long i = 0; i < LEN; i++)
		for (int l = 0; l < SP_NLABEL; l++)
			sc[i * SP_NLABEL + l] = l == lab[i] ? 0.0f : -30.0f;
}

static int same_gene(const sp_gene *a, size_t n, const sp_gene *b)
{
	if (n != 1 || a->strand != b->strand || a->nexon != b->nexon)
		return 0;
	for (size_t e = 0; e < a->nexon; e++)
		if (a->exon[e].beg != b->exon[e].beg || a->exon[e].end != b->exon[e].end)
			return 0;
	return 1;
}

static sp_genedecode_opts lengths_opts(const sp_genesig *s, double weight)
{
	sp_genedecode_opts o = SP_GENEDECODE_OPTS_INIT;
	o.signals = s;
	o.tagger_weight = 1;
	o.intron_length_weight = weight;
	return o;
}

static void test_score(sp_ctx *ctx, const sp_genesig *s, made *m)
{
	uint8_t lab[LEN];
	float *sc = malloc(LEN * SP_NLABEL * sizeof(*sc));
	double score[2] = { 0, 0 }, want;
	int found = 1;
	make_gene(m, 11, 60, 400);
	ok(sp_gene_check(ctx, m->seq, LEN, &m->g, 0) == 0 &&
	   sp_genes_paint(ctx, &m->g, 1, LEN, lab) == 0, "a valid three-exon gene (%s)",
	   sp_errmsg(ctx));
	pin(lab, sc);
	for (int w = 0; w < 2; w++) {
		sp_genedecode_opts o = lengths_opts(s, w);
		sp_gene *got = NULL;
		size_t n = 0;
		found &= sp_genedecode(ctx, m->seq, LEN, sc, &o, &got, &n, &score[w]) == 0 &&
			 same_gene(got, n, &m->g);
		sp_genes_free(got, n);
	}
	want = sp_genesig_intron_logp(s, 60) + sp_genesig_intron_logp(s, 400);
	ok(found, "the pinned gene is decoded with and without the lengths");
	ok(fabs(score[1] - score[0] - want) < 1e-6,
	   "the lengths add log P(60) + log P(400) = %.6f to its score (got %.6f)", want,
	   score[1] - score[0]);
	free(sc);
}

/* An AG 72 bases into exon 2 could end the first intron at 132 bases
 * instead of 60 (same frame); the tagger leans slightly to the longer
 * intron, the lengths to the 60 their table has seen. */
static void test_choice(sp_ctx *ctx, const sp_genesig *s, made *m)
{
	uint8_t lab[LEN];
	float *sc = malloc(LEN * SP_NLABEL * sizeof(*sc));
	sp_exon alt_ex[3];
	sp_gene alt;
	unsigned seed = 20;
	int ready = 0, picked[2] = { 0, 0 };
	for (int tries = 0; tries < 200 && !ready; tries++) {
		make_gene(m, seed++, 60, 300);
		memcpy(alt_ex, m->ex, sizeof(alt_ex));
		alt_ex[1].beg += 72;
		alt = m->g;
		alt.exon = alt_ex;
		m->seq[alt_ex[1].beg - 2] = (uint8_t)sp_base_code('A');
		m->seq[alt_ex[1].beg - 1] = (uint8_t)sp_base_code('G');
		ready = !sp_gene_check(ctx, m->seq, LEN, &m->g, 0) &&
			!sp_gene_check(ctx, m->seq, LEN, &alt, 0);
	}
	sp_genes_paint(ctx, &m->g, 1, LEN, lab);
	pin(lab, sc);
	/* the 72 bases: intron a shade likelier than their coding label */
	for (long i = m->ex[1].beg; i < alt_ex[1].beg; i++) {
		sc[i * SP_NLABEL + SP_LABEL_INTRON_PLUS] = 0;
		sc[i * SP_NLABEL + lab[i]] = -0.01f;
	}
	for (int w = 0; w < 2; w++) {
		sp_genedecode_opts o = lengths_opts(s, w);
		sp_gene *got = NULL;
		size_t n = 0;
		if (sp_genedecode(ctx, m->seq, LEN, sc, &o, &got, &n, NULL) == 0)
			picked[w] = same_gene(got, n, w ? &m->g : &alt);
		sp_genes_free(got, n);
	}
	ok(ready && picked[0] && picked[1], "without lengths the 132-base intron, with them "
	   "the 60-base one (%d, %d)", picked[0], picked[1]);
	free(sc);
}

/* A path's whole score when no sensor is weighed: the tagger's scores of
 * its labels, the penalties, weight x log P(length) of every intron. */
static double rescore(sp_ctx *ctx, const sp_genedecode_opts *o, const float *sc, size_t len,
		      const sp_gene *g, size_t n, uint8_t *lab)
{
	double sum = 0;
	for (size_t k = 0; k < n; k++) {
		sum += o->gene_logp + o->intron_logp * (double)(g[k].nexon - 1);
		for (size_t e = 1; e < g[k].nexon; e++)
			sum += o->intron_length_weight *
			       sp_genesig_intron_logp(o->signals, g[k].exon[e].beg - g[k].exon[e - 1].end);
	}
	if (sp_genes_paint(ctx, g, n, len, lab))
		return NAN;
	for (size_t i = 0; i < len; i++)
		sum += sc[i * SP_NLABEL + lab[i]];
	return sum;
}

/* Random sequences and scores (introns favoured, a few -inf intron
 * scores), records either side of the 251 bases where the loop's run
 * begins, min_intron below and above the whole-intron range: every gene
 * obeys the grammar and min_intron, the score returned is its path's, and
 * no path found at another weight scores higher under this one. */
static void test_random(sp_ctx *ctx, const sp_genesig *s)
{
	static const size_t lens[] = { 60, 251, 253, 700, 2500 }, mins[] = { 0, 50, 300 };
	static const double weights[] = { 0, 1e-9, 1, 3 };
	enum { NW = 4 };
	unsigned seed = 5;
	size_t runs = 0, bad = 0, wrong = 0, beaten = 0, introns = 0;
	uint8_t *seq = malloc(2500), *lab = malloc(2500);
	float *sc = malloc(2500 * SP_NLABEL * sizeof(*sc));
	for (int trial = 0; trial < 6; trial++)
		for (size_t li = 0; li < 5; li++)
			for (size_t mi = 0; mi < 3; mi++) {
				size_t len = lens[li], n[NW];
				sp_gene *got[NW];
				double score[NW];
				sp_genedecode_opts o[NW];
				for (size_t i = 0; i < len; i++) {
					seq[i] = (uint8_t)(rnd(&seed) % 4);
					for (int l = 0; l < SP_NLABEL; l++)
						sc[i * SP_NLABEL + l] = (float)(rnd(&seed) % 100) / 25.0f -
									(l >= SP_LABEL_INTRON_PLUS ? 2 : 3);
					if (trial % 2 && rnd(&seed) % 97 == 0)
						sc[i * SP_NLABEL + SP_LABEL_INTRON_PLUS + rnd(&seed) % 2] = -INFINITY;
				}
				for (int w = 0; w < NW; w++) {
					o[w] = lengths_opts(s, weights[w]);
					o[w].gene_logp = -2;
					o[w].intron_logp = -1;
					o[w].min_intron = mins[mi];
					o[w].gc_donor = trial % 3 == 0;
					runs++;
					got[w] = NULL;
					n[w] = 0;
					if (sp_genedecode(ctx, seq, len, sc, &o[w], &got[w], &n[w], &score[w])) {
						bad++;
						continue;
					}
					for (size_t g = 0; g < n[w]; g++) {
						bad += sp_gene_check(ctx, seq, len, &got[w][g],
								     o[w].gc_donor ? SP_GRAMMAR_GC_DONOR : 0) != 0;
						for (size_t e = 1; e < got[w][g].nexon; e++, introns++)
							bad += (size_t)(got[w][g].exon[e].beg -
									got[w][g].exon[e - 1].end) < mins[mi];
					}
					wrong += !(fabs(rescore(ctx, &o[w], sc, len, got[w], n[w], lab) -
							score[w]) <= 1e-6 * fmax(1, fabs(score[w])));
				}
				for (int w = 0; w < NW; w++)
					for (int x = 0; x < NW; x++)
						beaten += rescore(ctx, &o[w], sc, len, got[x], n[x], lab) >
							  score[w] + 1e-9 * fmax(1, fabs(score[w]));
				for (int w = 0; w < NW; w++)
					sp_genes_free(got[w], n[w]);
			}
	ok(bad == 0 && introns > 100, "%zu random decodings: %zu introns, %zu errors or genes "
	   "off the grammar or below min_intron", runs, introns, bad);
	ok(wrong == 0, "the score returned is the path's own (%zu not)", wrong);
	ok(beaten == 0, "no weight's path beats another weight's best under its scoring "
	   "(%zu did)", beaten);
	free(seq);
	free(lab);
	free(sc);
}

int main(void)
{
	sp_ctx *ctx;
	made *m = malloc(sizeof(*m));
	sp_genesig *s;
	if (sp_ctx_new(&ctx, 1) < 0 || !m)
		return 1;
	s = learn_lengths(ctx);
	if (!ok(s != NULL, "sensors learned from the genes (%s)", sp_errmsg(ctx)))
		return tap_done();
	test_table(ctx, s);
	test_score(ctx, s, m);
	test_choice(ctx, s, m);
	test_random(ctx, s);
	sp_genesig_free(s);
	free(m);
	sp_ctx_free(ctx);
	return tap_done();
}
