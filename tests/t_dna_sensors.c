/*
 * t_dna_sensors.c: the gene decoder's signal and content sensors
 * (dna/sp_genesig.c).  Random sequences with planted genes whose donors
 * read AAG|GTAAGT: the sensors count exactly the planted sites and every
 * other GT as a decoy, score the planted donors far above the decoys,
 * learn the same tables from the reverse complement with the genes
 * mirrored (so the minus strand's coordinates are right), give the
 * content model's probabilities summing to 1, survive packing, and
 * refuse a packed table of the wrong size or with a negative count.  The
 * decoder with sensors still emits only genes that obey the grammar.
 */
#include "sp_genedecode.h"
#include "sp_genesig.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LEN 6000
#define NGENE 8

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

typedef struct planted {
	uint8_t seq[LEN];
	sp_exon ex[NGENE][2];
	sp_gene g[NGENE];
} planted;

static void put(uint8_t *seq, long at, const char *s)
{
	for (long k = 0; s[k]; k++)
		seq[at + k] = (uint8_t)sp_base_code(s[k]);
}

/* Genes of two exons, alternately on either strand, every 700 bases:
 * exon [b, b+60), intron [b+60, b+160), exon [b+160, b+220). */
static void plant(planted *p, unsigned seed)
{
	for (long i = 0; i < LEN; i++)
		p->seq[i] = (uint8_t)(rnd(&seed) % 4);
	for (int g = 0; g < NGENE; g++) {
		long b = 100 + 700L * g;
		int strand = g % 2 ? -1 : 1;
		p->ex[g][0] = (sp_exon){ b, b + 60 };
		p->ex[g][1] = (sp_exon){ b + 160, b + 220 };
		p->g[g] = (sp_gene){ strand, 0, 0, 0, 2, p->ex[g], NULL };
		if (strand > 0) {
			put(p->seq, b, "ATG");
			put(p->seq, b + 57, "AAGGTAAGT");  /* donor */
			put(p->seq, b + 158, "AG");        /* acceptor */
			put(p->seq, b + 220, "TAA");
		} else { /* the same read on the minus strand */
			put(p->seq, b + 217, "CAT");
			put(p->seq, b + 160 - 6, "ACTTACCTT");
			put(p->seq, b + 60, "CT");
			put(p->seq, b - 3, "TTA");
		}
	}
}

static void revcomp(const uint8_t *in, uint8_t *out, long n)
{
	for (long i = 0; i < n; i++)
		out[i] = in[n - 1 - i] > 3 ? in[n - 1 - i] : (uint8_t)(3 - in[n - 1 - i]);
}

/* p's genes on the reverse complement. */
static void mirror(const planted *p, planted *m)
{
	revcomp(p->seq, m->seq, LEN);
	for (int g = 0; g < NGENE; g++) {
		m->ex[g][0] = (sp_exon){ LEN - p->ex[g][1].end, LEN - p->ex[g][1].beg };
		m->ex[g][1] = (sp_exon){ LEN - p->ex[g][0].end, LEN - p->ex[g][0].beg };
		m->g[g] = (sp_gene){ -p->g[g].strand, 0, 0, 0, 2, m->ex[g], NULL };
	}
}

static sp_genesig *learn(sp_ctx *ctx, const planted *p)
{
	sp_genesig *s = NULL;
	uint8_t lab[LEN];
	sp_genes_paint(ctx, p->g, NGENE, LEN, lab);
	if (sp_genesig_new(&s, ctx) || sp_genesig_add(s, ctx, p->seq, LEN, p->g, NGENE, lab))
		return NULL;
	sp_genesig_finish(s);
	return s;
}

/* Donor consensus on both strands: GT (AC forward on the minus strand)
 * and GC (its own reverse complement: counted once per strand). */
static long count_gt(const uint8_t *seq)
{
	long n = 0;
	for (long i = 0; i + 1 < LEN; i++)
		n += (seq[i] == SP_BASE_G && seq[i + 1] == SP_BASE_T) +
		     (seq[i] == SP_BASE_A && seq[i + 1] == SP_BASE_C) +
		     2 * (seq[i] == SP_BASE_G && seq[i + 1] == SP_BASE_C);
	return n;
}

/* Plus-strand GC donors (none planted) score below 0 and below every
 * planted GT donor: a GC site must pay for its rarity. */
static void test_gc(const planted *p, const sp_genesig *s, double worst_site)
{
	double best = -1e9, sum = 0;
	long n = 0;
	for (long i = 0; i + 1 < LEN; i++)
		if (p->seq[i] == SP_BASE_G && p->seq[i + 1] == SP_BASE_C) {
			double sc = sp_genesig_score(s, SP_SIG_DONOR, p->seq, LEN, i, 1);
			best = fmax(best, sc);
			sum += sc;
			n++;
		}
	ok(n > 100 && sum / (double)n < 0 && best < worst_site,
	   "%ld GC decoys score %.2f on average, at best %.2f, below the worst GT site %.2f",
	   n, n ? sum / (double)n : 0, best, worst_site);
}

static void test_counts(sp_ctx *ctx, const planted *p, const sp_genesig *s)
{
	double sites, decoys, best_decoy = -1e9, worst_site = 1e9;
	sp_genesig_counts(s, SP_SIG_DONOR, &sites, &decoys);
	ok(sites == NGENE && decoys == (double)(count_gt(p->seq) - NGENE),
	   "donors: %g planted sites, %g decoys (every other GT and GC of both strands)", sites,
	   decoys);
	sp_genesig_counts(s, SP_SIG_ACCEPTOR, &sites, &decoys);
	ok(sites == NGENE, "acceptors: %g sites", sites);
	sp_genesig_counts(s, SP_SIG_START, &sites, &decoys);
	ok(sites == NGENE, "start codons: %g sites", sites);
	sp_genesig_counts(s, SP_SIG_STOP, &sites, &decoys);
	ok(sites == NGENE, "stop codons: %g sites", sites);
	for (int strand = 1; strand >= -1; strand -= 2)
		for (long i = 0; i + 1 < LEN; i++) {
			long f = strand > 0 ? i : LEN - 1 - i; /* forward base of the G */
			int g = strand > 0 ? p->seq[f] == SP_BASE_G && p->seq[f + 1] == SP_BASE_T
					   : f >= 1 && p->seq[f] == SP_BASE_C && p->seq[f - 1] == SP_BASE_A;
			/* GT on either strand: GC decoys are test_gc's */
			double sc;
			if (!g)
				continue;
			sc = sp_genesig_score(s, SP_SIG_DONOR, p->seq, LEN, i, strand);
			if ((f - 100) % 700 == (strand > 0 ? 60 : 159) && f < 100 + 700L * NGENE)
				worst_site = fmin(worst_site, sc);
			else
				best_decoy = fmax(best_decoy, sc);
		}
	ok(worst_site > 5 && worst_site > best_decoy,
	   "every planted donor scores above every decoy (worst site %.2f, best decoy %.2f)",
	   worst_site, best_decoy);
	test_gc(p, s, worst_site);
	(void)ctx;
}

static void test_mirror(sp_ctx *ctx, const planted *p, const sp_genesig *s)
{
	planted m;
	sp_genesig *t;
	size_t n = sp_genesig_packed_len();
	float *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	long diff = 0, bad = 0;
	mirror(p, &m);
	t = learn(ctx, &m);
	sp_genesig_pack(s, a);
	sp_genesig_pack(t, b);
	for (size_t i = 0; i < n; i++)
		diff += a[i] != b[i];
	ok(t && diff == 0, "the reverse complement with mirrored genes gives the same counts "
	   "(%ld of %zu differ)", diff, n);
	for (int kind = 0; kind < SP_NSIG; kind++)
		for (long i = 0; i < LEN; i += 7)
			bad += sp_genesig_score(s, kind, p->seq, LEN, i, 1) !=
			       sp_genesig_score(s, kind, m.seq, LEN, i, -1);
	ok(bad == 0, "a window read on the plus strand scores as the same window read on the "
	   "minus strand of the reverse complement (%ld differ)", bad);
	sp_genesig_free(t);
	free(a);
	free(b);
}

static void test_content(sp_ctx *ctx, const planted *p, const sp_genesig *s)
{
	uint8_t seq[LEN];
	double worst = 0;
	(void)ctx;
	memcpy(seq, p->seq, LEN);
	for (int l = 0; l < SP_NLABEL; l++)
		for (long i = 0; i < LEN; i += 97) {
			double sum = 0;
			uint8_t keep = seq[i];
			for (int b = 0; b < 4; b++) {
				seq[i] = (uint8_t)b;
				sum += exp(sp_genesig_content(s, l, seq, LEN, i));
			}
			seq[i] = keep;
			worst = fmax(worst, fabs(sum - 1));
		}
	ok(worst < 1e-5, "content: the four bases' probabilities sum to 1 in every context "
	   "and label (worst |sum - 1| %.2g)", worst);
	seq[50] = SP_BASE_UNKNOWN;
	ok(sp_genesig_content(s, 0, seq, LEN, 50) == 0, "content: an unknown base scores 0");
}

static void test_pack(sp_ctx *ctx, const planted *p, const sp_genesig *s)
{
	size_t n = sp_genesig_packed_len();
	float *v = malloc(n * sizeof(*v));
	sp_genesig *t = NULL;
	long bad = 0;
	int rc;
	sp_genesig_pack(s, v);
	rc = sp_genesig_unpack(&t, ctx, v, n);
	for (int kind = 0; rc == 0 && kind < SP_NSIG; kind++)
		for (long i = 0; i < LEN; i += 5)
			bad += sp_genesig_score(s, kind, p->seq, LEN, i, 1) !=
			       sp_genesig_score(t, kind, p->seq, LEN, i, 1);
	for (int l = 0; rc == 0 && l < SP_NLABEL; l++)
		bad += sp_genesig_logprior(s, l) != sp_genesig_logprior(t, l) ||
		       sp_genesig_content(s, l, p->seq, LEN, 77) != sp_genesig_content(t, l, p->seq, LEN, 77);
	ok(rc == 0 && bad == 0, "packed and unpacked, the sensors score the same (%ld differ)", bad);
	sp_genesig_free(t);
	rc = sp_genesig_unpack(&t, ctx, v, n - 1);
	ok(rc == SP_EINPUT && t == NULL && strstr(sp_errmsg(ctx), "expected"),
	   "a packed table one short is refused: %s", sp_errmsg(ctx));
	v[3] = -1;
	rc = sp_genesig_unpack(&t, ctx, v, n);
	ok(rc == SP_EINPUT && t == NULL && strstr(sp_errmsg(ctx), "count 3 is -1"),
	   "a negative count is refused: %s", sp_errmsg(ctx));
	v[0] = 1;
	rc = sp_genesig_unpack(&t, ctx, v, n);
	ok(rc == SP_EINPUT && t == NULL && strstr(sp_errmsg(ctx), "of layout 1, expected") &&
	   strstr(sp_errmsg(ctx), "retrain"), "tables of another layout are refused: %s",
	   sp_errmsg(ctx));
	free(v);
}

/* Random scores, sensors on: every emitted gene obeys the grammar. */
static void test_decode(sp_ctx *ctx, const sp_genesig *s)
{
	unsigned seed = 4242;
	size_t len = 500, genes = 0, bad = 0;
	sp_genedecode_opts o = SP_GENEDECODE_OPTS_INIT;
	uint8_t *seq = malloc(len);
	float *sc = malloc(len * SP_NLABEL * sizeof(*sc));
	o.gene_logp = -2;
	o.signals = s;
	o.signal_weight = 2;
	o.prior_weight = 1;
	o.content_weight = 1;
	for (int trial = 0; trial < 100; trial++) {
		sp_gene *got;
		size_t n;
		for (size_t i = 0; i < len; i++) {
			seq[i] = (uint8_t)(rnd(&seed) % 4);
			for (int k = 0; k < SP_NLABEL; k++)
				sc[i * SP_NLABEL + k] = -(float)(rnd(&seed) % 100) / 25.0f;
		}
		if (sp_genedecode(ctx, seq, len, sc, &o, &got, &n, NULL)) {
			bad++;
			continue;
		}
		genes += n;
		for (size_t g = 0; g < n; g++)
			bad += sp_gene_check(ctx, seq, len, &got[g], 0) != 0;
		sp_genes_free(got, n);
	}
	ok(bad == 0 && genes > 20, "decoding with sensors: %zu genes, %zu off the grammar",
	   genes, bad);
	/* the sensors alone: a tagger's -inf scores are ignored, not NaN */
	for (size_t i = 0; i < len * SP_NLABEL; i++)
		sc[i] = -INFINITY;
	o.tagger_weight = 0;
	{
		sp_gene *got;
		size_t n;
		double score = NAN;
		int rc = sp_genedecode(ctx, seq, len, sc, &o, &got, &n, &score);
		ok(rc == 0 && isfinite(score), "tagger_weight 0 ignores even -inf tagger scores "
		   "(rc %d, score %g, %zu genes)", rc, score, n);
		if (rc == 0)
			sp_genes_free(got, n);
	}
	free(seq);
	free(sc);
}

int main(void)
{
	sp_ctx *ctx;
	planted *p = malloc(sizeof(*p));
	sp_genesig *s;
	if (sp_ctx_new(&ctx, 1) < 0 || !p)
		return 1;
	plant(p, 99);
	s = learn(ctx, p);
	if (!ok(s != NULL, "sensors learned from the planted genes (%s)", sp_errmsg(ctx)))
		return tap_done();
	test_counts(ctx, p, s);
	test_mirror(ctx, p, s);
	test_content(ctx, p, s);
	test_pack(ctx, p, s);
	test_decode(ctx, s);
	sp_genesig_free(s);
	free(p);
	sp_ctx_free(ctx);
	return tap_done();
}
