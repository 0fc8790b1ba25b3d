/*
 * t_dna_decode.c: the constrained gene Viterbi (dna/sp_genedecode.c).
 * A perfect score matrix on a hand-built sequence (a plus gene with
 * phase 1 and 2 introns, a minus gene with a phase 1 intron) gives back
 * the true structure; a gene that breaks the grammar is never emitted,
 * however strongly the scores ask for it; on random sequences and random
 * scores every emitted gene passes sp_gene_check and the path's score
 * equals the sum of its labels' scores.
 */
#include "sp_genbank.h"
#include "sp_genedecode.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Plus gene (transcription order): exons ATGAAAC | AACCCGG | CAAA, stop. */
static const char *PLUS = "ATGAAAC" "GTCCCCCCCCAG" "AACCCGG" "GTCCCCCCAG"
			  "CAAA" "TAA";
/* Minus gene, given in its own orientation: ATGGCCG | CCAAA, stop TGA */
static const char *MINUS = "ATGGCCG" "GTCCCCCAG" "CCAAA" "TGA";

typedef struct fixture {
	char s[256];
	uint8_t seq[256];
	size_t len;
	sp_exon ex[5];
	sp_gene g[2];
} fixture;

static void revcomp(const char *in, char *out)
{
	size_t n = strlen(in);
	for (size_t i = 0; i < n; i++) {
		char c = in[n - 1 - i];
		out[i] = c == 'A' ? 'T' : c == 'T' ? 'A' : c == 'C' ? 'G' : 'C';
	}
	out[n] = '\0';
}

static void build(fixture *f)
{
	char rc[128];
	size_t o1 = 10, o2;
	revcomp(MINUS, rc);
	snprintf(f->s, sizeof(f->s), "CCCCCCCCCC%sCCCCCCCCCC%sCCCCCCCCCC",
		 PLUS, rc);
	f->len = strlen(f->s);
	for (size_t i = 0; i < f->len; i++)
		f->seq[i] = (uint8_t)sp_base_code(f->s[i]);
	/* plus exons: [0,7) [19,26) [36,40) of PLUS */
	f->ex[0] = (sp_exon){ (long)o1, (long)o1 + 7 };
	f->ex[1] = (sp_exon){ (long)o1 + 19, (long)o1 + 26 };
	f->ex[2] = (sp_exon){ (long)o1 + 36, (long)o1 + 40 };
	f->g[0] = (sp_gene){ 1, 0, 0, 0, 3, f->ex, NULL };
	/* minus: transcription [0,7) and [16,21) of a 24-base string */
	o2 = o1 + strlen(PLUS) + 10;
	f->ex[3] = (sp_exon){ (long)o2 + 24 - 21, (long)o2 + 24 - 16 };
	f->ex[4] = (sp_exon){ (long)o2 + 24 - 7, (long)o2 + 24 };
	f->g[1] = (sp_gene){ -1, 0, 0, 0, 2, f->ex + 3, NULL };
}

/* log-probabilities: `hi` for the label of labels[i], `lo` elsewhere */
static float *scores_from(const uint8_t *labels, size_t len, float hi,
			  float lo)
{
	float *s = malloc(len * SP_NLABEL * sizeof(*s));
	for (size_t i = 0; i < len; i++)
		for (int k = 0; k < SP_NLABEL; k++)
			s[i * SP_NLABEL + k] = labels[i] == k ? hi : lo;
	return s;
}

static int same_genes(const sp_gene *a, size_t na, const sp_gene *b,
		      size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		if (a[i].strand != b[i].strand || a[i].nexon != b[i].nexon)
			return 0;
		for (size_t k = 0; k < a[i].nexon; k++)
			if (a[i].exon[k].beg != b[i].exon[k].beg ||
			    a[i].exon[k].end != b[i].exon[k].end)
				return 0;
	}
	return 1;
}

static void test_perfect(sp_ctx *ctx)
{
	fixture f;
	uint8_t lab[256];
	sp_gene *got;
	size_t n;
	float *sc;
	double score;
	int rc;
	build(&f);
	ok(sp_gene_check(ctx, f.seq, f.len, &f.g[0], 0) == 0 &&
	   sp_gene_check(ctx, f.seq, f.len, &f.g[1], 0) == 0,
	   "fixture genes obey the grammar (%s)", sp_errmsg(ctx));
	sp_genes_paint(ctx, f.g, 2, f.len, lab);
	sc = scores_from(lab, f.len, 0.0f, -3.0f);
	rc = sp_genedecode(ctx, f.seq, f.len, sc, NULL, &got, &n, &score);
	ok(rc == 0 && same_genes(got, n, f.g, 2),
	   "perfect scores give back both genes (%zu genes)", n);
	ok_near(score, 0.0, 1e-9, "and the path scores 0");
	sp_genes_free(got, n);
	free(sc);
}

/* Scores that want the true gene, on a sequence where it is broken. */
static void test_violation(sp_ctx *ctx, int pos, char base, const char *what)
{
	fixture f;
	uint8_t lab[256];
	sp_gene *got;
	size_t n;
	float *sc;
	int rc, valid = 1;
	build(&f);
	sp_genes_paint(ctx, f.g, 2, f.len, lab);
	f.seq[pos] = (uint8_t)sp_base_code(base);
	sc = scores_from(lab, f.len, 0.0f, -8.0f);
	rc = sp_genedecode(ctx, f.seq, f.len, sc, NULL, &got, &n, NULL);
	for (size_t i = 0; rc == 0 && i < n; i++)
		valid &= sp_gene_check(ctx, f.seq, f.len, &got[i], 0) == 0;
	ok(rc == 0 && valid && !same_genes(got, n, f.g, 2),
	   "%s: the broken gene is not emitted, %zu valid genes instead",
	   what, n);
	sp_genes_free(got, n);
	free(sc);
}

static double nrand(unsigned *s)
{
	double u1, u2;
	*s = *s * 1103515245u + 12345u;
	u1 = ((*s >> 8) + 1.0) / 16777218.0;
	*s = *s * 1103515245u + 12345u;
	u2 = ((*s >> 8) + 1.0) / 16777218.0;
	return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A random sequence and per-base label scores: N(0, 2^2) plus 0.3 for
 * every label but intergenic, or intron_bias for the intron labels; with
 * normalise, as log-probabilities per base. */
static void random_case(unsigned *seed, size_t len, double intron_bias,
			int normalise, uint8_t *seq, float *sc)
{
	for (size_t i = 0; i < len; i++) {
		double z[SP_NLABEL], m = -1e30, lse = 0;
		*seed = *seed * 1103515245u + 12345u;
		seq[i] = (uint8_t)((*seed >> 16) & 3);
		for (int k = 0; k < SP_NLABEL; k++) {
			z[k] = 2.0 * nrand(seed) + (k >= 7 ? intron_bias : k ? 0.3 : 0);
			m = fmax(m, z[k]);
		}
		for (int k = 0; k < SP_NLABEL; k++)
			lse += exp(z[k] - m);
		for (int k = 0; k < SP_NLABEL; k++)
			sc[i * SP_NLABEL + k] = (float)(normalise ? z[k] - m - log(lse) : z[k]);
	}
}

/* Random sequences and scores: valid genes, consistent score. */
static void test_random(sp_ctx *ctx, int gc)
{
	unsigned seed = 12345u + (unsigned)gc;
	size_t len = 400, genes = 0, introns = 0, minus = 0, bad = 0,
	       mismatch = 0;
	sp_genedecode_opts o = { .gene_logp = -2.0, .intron_logp = -1.0, .gc_donor = gc };
	uint8_t *seq = malloc(len), *lab = malloc(len);
	float *sc = malloc(len * SP_NLABEL * sizeof(*sc));
	for (int trial = 0; trial < 300; trial++) {
		sp_gene *got;
		size_t n;
		double score, sum = 0;
		random_case(&seed, len, 0.3, 1, seq, sc);
		if (sp_genedecode(ctx, seq, len, sc, &o, &got, &n, &score)) {
			bad++;
			continue;
		}
		for (size_t g = 0; g < n; g++) {
			genes++;
			minus += got[g].strand < 0;
			introns += got[g].nexon - 1;
			sum += o.gene_logp + o.intron_logp * (double)(got[g].nexon - 1);
			if (sp_gene_check(ctx, seq, len, &got[g],
					  gc ? SP_GRAMMAR_GC_DONOR : 0)) {
				if (bad++ < 3)
					diag("%s", sp_errmsg(ctx));
			}
		}
		sp_genes_paint(ctx, got, n, len, lab);
		for (size_t i = 0; i < len; i++)
			sum += sc[i * SP_NLABEL + lab[i]];
		mismatch += fabs(sum - score) > 1e-6 * fmax(1, fabs(score));
		sp_genes_free(got, n);
	}
	ok(bad == 0 && genes > 100 && minus > 30 && introns > 30,
	   "random (gc_donor=%d): %zu genes (%zu minus, %zu introns), %zu "
	   "off the grammar", gc, genes, minus, introns, bad);
	ok(mismatch == 0, "random: the score is the sum over the emitted "
	   "labels (%zu mismatches)", mismatch);
	free(seq);
	free(lab);
	free(sc);
}

/* Length of gene g's shortest intron (SIZE_MAX without one). */
static size_t shortest_intron(const sp_gene *g)
{
	size_t m = SIZE_MAX;
	for (size_t k = 1; k < g->nexon; k++)
		if ((size_t)(g->exon[k].beg - g->exon[k - 1].end) < m)
			m = (size_t)(g->exon[k].beg - g->exon[k - 1].end);
	return m;
}

/* min_intron on random scores: no shorter intron, the path still obeys
 * the grammar and scores the sum of its labels, never beats the free
 * path, and equals it when the free path's introns are all long enough. */
static void test_min_intron(sp_ctx *ctx, size_t min)
{
	unsigned seed = 777u + (unsigned)min;
	size_t len = 600, introns = 0, shorter = 0, bad = 0, mismatch = 0,
	       equal = 0, same_when_free_ok = 0, free_ok = 0;
	sp_genedecode_opts o = { .gene_logp = -2.0, .intron_logp = -1.0, .min_intron = min }, free_o = o;
	uint8_t *seq = malloc(len), *lab = malloc(len);
	float *sc = malloc(len * SP_NLABEL * sizeof(*sc));
	free_o.min_intron = 0;
	for (int trial = 0; trial < 200; trial++) {
		sp_gene *got, *fr;
		size_t n, nf, fmin = SIZE_MAX;
		double score, fscore, sum = 0;
		/* intron labels favoured, so long introns pay */
		random_case(&seed, len, 1.0, 0, seq, sc);
		if (sp_genedecode(ctx, seq, len, sc, &o, &got, &n, &score) ||
		    sp_genedecode(ctx, seq, len, sc, &free_o, &fr, &nf, &fscore)) {
			bad++;
			continue;
		}
		for (size_t g = 0; g < n; g++) {
			introns += got[g].nexon - 1;
			shorter += shortest_intron(&got[g]) < min;
			sum += o.gene_logp + o.intron_logp * (double)(got[g].nexon - 1);
			bad += sp_gene_check(ctx, seq, len, &got[g], 0) != 0;
		}
		for (size_t g = 0; g < nf; g++)
			if (shortest_intron(&fr[g]) < fmin)
				fmin = shortest_intron(&fr[g]);
		sp_genes_paint(ctx, got, n, len, lab);
		for (size_t i = 0; i < len; i++)
			sum += sc[i * SP_NLABEL + lab[i]];
		mismatch += fabs(sum - score) > 1e-6 * fmax(1, fabs(score));
		bad += score > fscore + 1e-6 * fmax(1, fabs(fscore));
		equal += fabs(score - fscore) <= 1e-6 * fmax(1, fabs(fscore));
		if (fmin >= min) {
			free_ok++;
			same_when_free_ok += fabs(score - fscore) <= 1e-6 * fmax(1, fabs(fscore));
		}
		sp_genes_free(got, n);
		sp_genes_free(fr, nf);
	}
	ok(bad == 0 && mismatch == 0 && shorter == 0 && introns > 20 &&
	   equal < 200 && free_ok > 0 && same_when_free_ok == free_ok,
	   "min_intron %zu: %zu introns, %zu shorter, %zu errors or scores above "
	   "the free path's, %zu score mismatches; equal to the free path in "
	   "%zu of 200, in each of the %zu whose free path had no shorter intron",
	   min, introns, shorter, bad, mismatch, equal, free_ok);
	free(seq);
	free(lab);
	free(sc);
}

/* A record shorter than min_intron decodes (no intron fits), and an
 * impossible intron score at one base bars only runs over that base. */
static void test_min_intron_edges(sp_ctx *ctx)
{
	unsigned seed = 4242u;
	size_t len = 600, n1, n2, n3, in1 = 0, in2 = 0;
	sp_genedecode_opts o = { .gene_logp = -2.0, .intron_logp = -1.0, .min_intron = 40 };
	uint8_t *seq = malloc(len);
	float *sc = malloc(len * SP_NLABEL * sizeof(*sc));
	sp_gene *g1, *g2, *g3;
	double s1, s2;
	int rc1, rc2, rc3;
	random_case(&seed, len, 1.0, 0, seq, sc);
	rc1 = sp_genedecode(ctx, seq, len, sc, &o, &g1, &n1, &s1);
	/* base 0 is intergenic on every path: barring introns there changes
	 * nothing */
	sc[7] = sc[8] = -INFINITY;
	rc2 = sp_genedecode(ctx, seq, len, sc, &o, &g2, &n2, &s2);
	o.min_intron = 50;
	rc3 = sp_genedecode(ctx, seq, 30, sc, &o, &g3, &n3, NULL);
	for (size_t g = 0; !rc1 && g < n1; g++)
		in1 += g1[g].nexon - 1;
	for (size_t g = 0; !rc2 && g < n2; g++)
		in2 += g2[g].nexon - 1;
	ok(rc1 == 0 && rc2 == 0 && in1 > 0 && n1 == n2 && in1 == in2 &&
	   fabs(s1 - s2) <= 1e-9 * fabs(s1),
	   "min_intron 40: -inf intron scores at base 0 change nothing (%zu introns, "
	   "then %zu; score %g, then %g)", in1, in2, s1, s2);
	ok(rc3 == 0, "min_intron 50 on a record of 30 bases decodes (%s)",
	   rc3 ? sp_errmsg(ctx) : "ok");
	if (!rc1)
		sp_genes_free(g1, n1);
	if (!rc2)
		sp_genes_free(g2, n2);
	if (!rc3)
		sp_genes_free(g3, n3);
	free(seq);
	free(sc);
}

static void test_edges(sp_ctx *ctx)
{
	uint8_t seq[3] = { 0, 1, 2 };
	float sc[3 * SP_NLABEL];
	sp_gene *got = (sp_gene *)1;
	size_t n = 9;
	for (int i = 0; i < 3 * SP_NLABEL; i++)
		sc[i] = 0;
	ok(sp_genedecode(ctx, seq, 0, sc, NULL, &got, &n, NULL) == 0 &&
	   got == NULL && n == 0, "empty sequence: no gene");
	ok(sp_genedecode(ctx, seq, 3, sc, NULL, &got, &n, NULL) == 0 && n == 0,
	   "3 bases: no room for a gene");
	sc[SP_NLABEL] = -INFINITY;
	ok(sp_genedecode(ctx, seq, 3, sc, NULL, &got, &n, NULL) == SP_EINPUT,
	   "an impossible intergenic base is an error: %s", sp_errmsg(ctx));
}

/* The 100 AUGUSTUS fly test records (SEQPIPE_SHARED): with perfect
 * scores every annotated gene comes back exactly (4 have a GC donor). */
static void test_shared(sp_ctx *ctx)
{
	const char *root = getenv("SEQPIPE_SHARED");
	char path[1024];
	sp_genbank *gb;
	sp_dna_record r;
	sp_genedecode_opts o = { .gc_donor = 1 };
	size_t genes = 0, exact = 0, pred = 0;
	int rc;
	if (!root) {
		tap_n_++;
		printf("ok %d # SKIP SEQPIPE_SHARED not set\n", tap_n_);
		return;
	}
	snprintf(path, sizeof(path),
		 "%s/data/dna/augustus_fly_genes/genes.gb.test", root);
	sp_dna_record_init(&r);
	rc = sp_genbank_open(&gb, ctx, path);
	while (rc == 0 && (rc = sp_genbank_next(gb, ctx, &r)) == 1) {
		float *sc = scores_from(r.label, r.len, 0.0f, -3.0f);
		sp_gene *got;
		size_t n;
		rc = sp_genedecode(ctx, r.seq, r.len, sc, &o, &got, &n, NULL);
		free(sc);
		if (rc)
			break;
		genes += r.ngene;
		pred += n;
		exact += same_genes(got, n, r.gene, r.ngene) ? r.ngene : 0;
		sp_genes_free(got, n);
	}
	if (rc == 0)
		sp_genbank_close(gb);
	sp_dna_record_free(&r);
	ok(rc == 0 && genes == 100 && exact == 100 && pred == 100,
	   "fly test set, perfect scores: %zu of %zu genes back exactly, "
	   "%zu predicted (%s)", exact, genes, pred, rc ? sp_errmsg(ctx) : "ok");
}

int main(void)
{
	sp_ctx *ctx;
	fixture f;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	build(&f);
	test_perfect(ctx);
	/* plus: donor GT of intron 1 at PLUS[7..8] -> GA */
	test_violation(ctx, 10 + 8, 'A', "plus donor GT->GA");
	/* plus: acceptor of intron 2 (PLUS[34..35] = AG) -> AC */
	test_violation(ctx, 10 + 35, 'C', "plus acceptor AG->AC");
	/* plus: start codon ATG -> ATC */
	test_violation(ctx, 10 + 2, 'C', "plus start ATG->ATC");
	/* plus: stop TAA -> TCA */
	test_violation(ctx, 10 + 41, 'C', "plus stop TAA->TCA");
	/* plus: the codon split by intron 1 (C|AA) made TAA: C -> T */
	test_violation(ctx, 10 + 6, 'T', "plus in-frame stop across a splice");
	/* minus: its stop codon TCA (forward) -> TCC */
	test_violation(ctx, (int)(f.ex[3].beg - 1), 'C', "minus stop");
	/* minus: the start CAT (forward) -> CGT */
	test_violation(ctx, (int)(f.ex[4].end - 2), 'G', "minus start");
	/* minus: intron forward CT...AC; C of the AC (its donor) -> T */
	test_violation(ctx, (int)(f.ex[4].beg - 1), 'T', "minus donor");
	test_random(ctx, 0);
	test_random(ctx, 1);
	test_min_intron(ctx, 5);
	test_min_intron(ctx, 40);
	test_min_intron_edges(ctx);
	test_edges(ctx);
	test_shared(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
