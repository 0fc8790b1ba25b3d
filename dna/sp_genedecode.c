/*
 * sp_genedecode.c: the constrained Viterbi of sp_genedecode.h.
 *
 * States carry what the grammar must remember: the codon position, and
 * across an intron the bases of a split codon that could start a stop
 * codon (plus: T, then TA or TG; minus, read left to right on the forward
 * strand: T or C, then one of TT CT TC, the prefixes of the reverse
 * complemented stops TTA CTA TCA).  Splice sites, start and stop codons
 * are checked on the transitions, looking at the bases around them.
 */
#include "sp_genedecode.h"

#include <limits.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	S_IG,
	/* plus strand: start codon, coding by codon position (E1 remembers
	 * whether the codon began with T), introns by phase and memory */
	P_S0, P_S1, P_S2, P_E0, P_E1T, P_E1O, P_E2,
	P_I0, P_I1T, P_I1O, P_I2TA, P_I2TG, P_I2O,
	P_I0F, P_I1TF, P_I1OF, P_I2TAF, P_I2TGF, P_I2OF, /* first base */
	/* minus strand, scanned left to right: codon positions 2, 1, 0,
	 * then the start codon CAT; E1 remembers the codon's left base */
	M_E2, M_E1T, M_E1C, M_E1O, M_E0, M_S2, M_S1, M_S0,
	M_I0, M_I2T, M_I2C, M_I2O, M_I1S, M_I1O,
	M_I0F, M_I2TF, M_I2CF, M_I2OF, M_I1SF, M_I1OF,
	NSTATE
};

/* The fine label each state emits. */
static const uint8_t emit_[NSTATE] = {
	SP_LABEL_IG,
	1, 2, 3, 1, 2, 2, 3,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	6, 5, 5, 5, 4, 6, 5, 4,
	8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
};

enum { A = SP_BASE_A, C = SP_BASE_C, G = SP_BASE_G, T = SP_BASE_T };

/* The length of an intron scored whole is kept in a byte. */
_Static_assert(SP_GENESIG_INTRON_MAX <= UINT8_MAX, "intron lengths must fit a byte");

typedef struct ctx_ {
	const uint8_t *seq;
	long len;
	double gene, intron;
	int gc;
	const sp_genesig *sig; /* may be NULL */
	double sig_weight, content_weight, tagger_weight;
	double prior[SP_NLABEL]; /* subtracted from each label's score */
	/* intron lengths (intron_length_weight): 0 everywhere when off */
	double loop_step;        /* per intron self-loop */
	double loop_enter;       /* entering an intron's loop state */
	long short_min, short_max; /* introns scored whole, by length; none
				      when short_max < short_min */
	double *short_logp;      /* [short_max + 1], weighted */
} dctx;

static int X(const dctx *d, long i)
{
	return i >= 0 && i < d->len ? d->seq[i] : -1;
}

static int stop3_(int a, int b, int c)
{
	return a == T && ((b == A && (c == A || c == G)) || (b == G && c == A));
}

/* The sequence tests one step needs, at position i. */
typedef struct site {
	int b0, b1;     /* X(i), X(i-1) */
	int atg;        /* plus start codon at i */
	int don_p;      /* plus intron may start at i */
	int acc_p;      /* plus intron may have ended at i-1 */
	int stop_p;     /* plus stop codon at i */
	int ct_m;       /* minus intron may start at i (its 3' end) */
	int ac_m;       /* minus intron may have ended at i-1 (its 5' end) */
	int stop_m;     /* minus stop codon at i-3..i-1 */
	int cat;        /* minus start codon at i */
	/* the signal sensors' scores of the sites above (0 without) */
	double atg_s, don_p_s, acc_p_s, stop_p_s, ct_m_s, ac_m_s, stop_m_s, cat_s;
} site;

static double sig_(const dctx *d, int kind, long pos, int strand)
{
	return d->sig_weight * sp_genesig_score(d->sig, kind, d->seq, (size_t)d->len, pos,
						strand);
}

/* Scores the sites found at i (anchors on each strand's reading, see
 * sp_genesig.h: a minus site's oriented position is len - 1 - forward). */
static void site_scores_(const dctx *d, long i, site *s)
{
	long n = d->len;
	s->atg_s = s->atg ? sig_(d, SP_SIG_START, i, 1) : 0;
	s->don_p_s = s->don_p ? sig_(d, SP_SIG_DONOR, i, 1) : 0;
	s->acc_p_s = s->acc_p ? sig_(d, SP_SIG_ACCEPTOR, i - 2, 1) : 0;
	s->stop_p_s = s->stop_p ? sig_(d, SP_SIG_STOP, i, 1) : 0;
	s->ct_m_s = s->ct_m ? sig_(d, SP_SIG_ACCEPTOR, n - 2 - i, -1) : 0;
	s->ac_m_s = s->ac_m ? sig_(d, SP_SIG_DONOR, n - i, -1) : 0;
	s->cat_s = s->cat ? sig_(d, SP_SIG_START, n - 3 - i, -1) : 0;
	s->stop_m_s = s->stop_m ? sig_(d, SP_SIG_STOP, n - i, -1) : 0;
}

static void site_(const dctx *d, long i, site *s)
{
	int x0 = X(d, i), x1 = X(d, i + 1), x2 = X(d, i + 2);
	int m1 = X(d, i - 1), m2 = X(d, i - 2), m3 = X(d, i - 3);
	s->b0 = x0;
	s->b1 = m1;
	s->atg = x0 == A && x1 == T && x2 == G;
	s->don_p = x0 == G && (x1 == T || (d->gc && x1 == C));
	s->acc_p = m2 == A && m1 == G;
	s->stop_p = stop3_(x0, x1, x2);
	s->ct_m = x0 == C && x1 == T;
	s->ac_m = m1 == C && (m2 == A || (d->gc && m2 == G));
	/* TTA CTA TCA: reverse complements of TAA TAG TGA */
	s->stop_m = m1 == A && ((m2 == T && (m3 == T || m3 == C)) ||
				(m2 == C && m3 == T));
	s->cat = x0 == C && x1 == A && x2 == T;
	if (d->sig)
		site_scores_(d, i, s);
	else
		s->atg_s = s->don_p_s = s->acc_p_s = s->stop_p_s = s->ct_m_s = s->ac_m_s =
			s->cat_s = s->stop_m_s = 0;
}

#define TRY_FROM(from, dst, src, cond, pen)                         \
	do {                                                       \
		if ((cond) && (from)[src] + (pen) > w[dst]) {      \
			w[dst] = (from)[src] + (pen);              \
			bp[dst] = (uint8_t)(src);                  \
		}                                                  \
	} while (0)
#define TRY(dst, src, cond, pen) TRY_FROM(v, dst, src, cond, pen)
/* Leaving an intron: vx is v with each intron loop state's score raised
 * to that of the best intron of its kind scored whole (short_logp). */
#define TRY_EXIT(dst, src, cond, pen) TRY_FROM(vx, dst, src, cond, pen)

static void step_plus_(const dctx *d, const site *s, const double *v,
		       const double *vx, double *w, uint8_t *bp)
{
	int b0 = s->b0, b1 = s->b1, acc = s->acc_p, don = s->don_p;
	double pa = s->acc_p_s, pd = d->intron + s->don_p_s;
	TRY(P_S0, S_IG, s->atg, d->gene + s->atg_s);
	TRY(P_S1, P_S0, 1, 0);
	TRY(P_S2, P_S1, 1, 0);
	TRY(P_E0, P_S2, 1, 0);
	TRY(P_E0, P_E2, 1, 0);
	TRY_EXIT(P_E0, P_I0, acc, pa);
	TRY(P_E1T, P_E0, b1 == T, 0);
	TRY_EXIT(P_E1T, P_I1T, acc, pa);
	TRY(P_E1O, P_E0, b1 != T, 0);
	TRY_EXIT(P_E1O, P_I1O, acc, pa);
	TRY(P_E2, P_E1T, !stop3_(T, b1, b0), 0);
	TRY(P_E2, P_E1O, 1, 0);
	TRY_EXIT(P_E2, P_I2TA, acc && b0 != A && b0 != G, pa);
	TRY_EXIT(P_E2, P_I2TG, acc && b0 != A, pa);
	TRY_EXIT(P_E2, P_I2O, acc, pa);
	TRY(P_I0, P_I0, 1, d->loop_step);
	TRY(P_I0F, P_E2, don, pd);
	TRY(P_I0F, P_S2, don, pd);
	TRY(P_I1T, P_I1T, 1, d->loop_step);
	TRY(P_I1TF, P_E0, don && b1 == T, pd);
	TRY(P_I1O, P_I1O, 1, d->loop_step);
	TRY(P_I1OF, P_E0, don && b1 != T, pd);
	TRY(P_I2TA, P_I2TA, 1, d->loop_step);
	TRY(P_I2TAF, P_E1T, don && b1 == A, pd);
	TRY(P_I2TG, P_I2TG, 1, d->loop_step);
	TRY(P_I2TGF, P_E1T, don && b1 == G, pd);
	TRY(P_I2O, P_I2O, 1, d->loop_step);
	TRY(P_I2OF, P_E1O, don, pd);
	TRY(P_I2OF, P_E1T, don && b1 != A && b1 != G, pd);
}

static void step_minus_(const dctx *d, const site *s, const double *v,
			const double *vx, double *w, uint8_t *bp)
{
	int b0 = s->b0, b1 = s->b1, ac = s->ac_m, ct = s->ct_m;
	int tc = b1 == T || b1 == C;
	double pa = s->ct_m_s + d->intron, pd = s->ac_m_s;
	TRY(M_E2, S_IG, s->stop_m, d->gene + s->stop_m_s);
	TRY(M_E2, M_E0, 1, 0);
	TRY_EXIT(M_E2, M_I0, ac, pd);
	TRY(M_E1T, M_E2, b1 == T, 0);
	TRY_EXIT(M_E1T, M_I2T, ac, pd);
	TRY(M_E1C, M_E2, b1 == C, 0);
	TRY_EXIT(M_E1C, M_I2C, ac, pd);
	TRY(M_E1O, M_E2, !tc, 0);
	TRY_EXIT(M_E1O, M_I2O, ac, pd);
	TRY(M_E0, M_E1T, !(tc && b0 == A), 0);
	TRY(M_E0, M_E1C, !(b1 == T && b0 == A), 0);
	TRY(M_E0, M_E1O, 1, 0);
	TRY_EXIT(M_E0, M_I1S, ac && b0 != A, pd);
	TRY_EXIT(M_E0, M_I1O, ac, pd);
	TRY(M_S2, M_E0, s->cat, s->cat_s);
	TRY_EXIT(M_S2, M_I0, ac && s->cat, pd + s->cat_s);
	TRY(M_S1, M_S2, 1, 0);
	TRY(M_S0, M_S1, 1, 0);
	TRY(M_I0, M_I0, 1, d->loop_step);
	TRY(M_I0F, M_E0, ct, pa);
	TRY(M_I2T, M_I2T, 1, d->loop_step);
	TRY(M_I2TF, M_E2, ct && b1 == T, pa);
	TRY(M_I2C, M_I2C, 1, d->loop_step);
	TRY(M_I2CF, M_E2, ct && b1 == C, pa);
	TRY(M_I2O, M_I2O, 1, d->loop_step);
	TRY(M_I2OF, M_E2, ct && !tc, pa);
	TRY(M_I1S, M_I1S, 1, d->loop_step);
	TRY(M_I1SF, M_E1T, ct && tc, pa);
	TRY(M_I1SF, M_E1C, ct && b1 == T, pa);
	TRY(M_I1O, M_I1O, 1, d->loop_step);
	TRY(M_I1OF, M_E1T, ct && !tc, pa);
	TRY(M_I1OF, M_E1C, ct && b1 != T, pa);
	TRY(M_I1OF, M_E1O, ct, pa);
}

/* An intron's fixed run (min_intron, see sp_genedecode.h).  The 12 kinds
 * of intron are the loop states P_I0..P_I2O and M_I0..M_I1O, each with its
 * first-base state 6 further on.  Each keeps the first-base scores of the
 * last n + 1 bases in a ring, each strand the running sum of its intron
 * label's log-probability, so a run's score is one difference. */
typedef struct run_ {
	long n;        /* bases of the run; 0: none (the loop follows the
			  first base at once) */
	double *first; /* [12][n + 1] */
	double *cum;   /* [2][n + 1], of the finite scores only */
	long lost[2];  /* the last base whose intron score was not finite
			  (-1: none): a run over it scores -inf, where a
			  running sum would give -inf - -inf = NaN for ever */
} run_;

static int intron_loop_(int k)
{
	return k < 6 ? P_I0 + k : M_I0 + (k - 6);
}

/* Whether st is one of the 12 intron loop states intron_loop_ numbers. */
static bool is_intron_loop_(int st)
{
	return (st >= P_I0 && st <= P_I2O) || (st >= M_I0 && st <= M_I1O);
}

/* Enters each intron's loop state at i from its first base at i - 1 - n
 * (the run's n bases in between). */
static void step_run_(const dctx *d, const run_ *r, long i, const double *v, double *w,
		      uint8_t *bp)
{
	long m = r->n + 1, at = (i - 1) % m, from = (i - 1 - r->n) % m;
	for (int k = 0; k < 12; k++) {
		int x = intron_loop_(k), f = x + 6;
		double c;
		if (!r->n)
			c = v[f];
		else if (i - 1 - r->n < 0 || r->lost[k >= 6] > i - 1 - r->n)
			continue;
		else
			c = r->first[k * m + from] + (r->cum[(k >= 6) * m + at] -
						      r->cum[(k >= 6) * m + from]);
		c += d->loop_enter;
		if (c > w[x]) {
			w[x] = c;
			bp[x] = (uint8_t)f;
		}
	}
}

/* vx at base i: v, with each kind of intron that may end at i - 1 (an
 * acceptor on its strand at i) raised to the best such intron scored
 * whole, its first base at i - len for len in short_min..short_max.  xl
 * (base i - 1's row) gets the length taken, when it beats the loop. */
static void short_introns_(const dctx *d, const run_ *r, const site *s, long i,
			   const double *v, double *vx, uint8_t *xl)
{
	long m = r->n + 1, at = (i - 1) % m;
	memcpy(vx, v, NSTATE * sizeof(*v));
	for (int k = 0; k < 12; k++) {
		int strand = k >= 6, x = intron_loop_(k);
		long hi = d->short_max, taken = 0;
		double best = -INFINITY;
		if (!(strand ? s->ac_m : s->acc_p))
			continue;
		/* the first base on the record, no -inf intron base after it */
		hi = hi < i ? hi : i;
		hi = hi < i - r->lost[strand] ? hi : i - r->lost[strand];
		for (long len = d->short_min; len <= hi; len++) {
			long from = (i - len) % m;
			double c = r->first[k * m + from] - r->cum[strand * m + from] +
				   d->short_logp[len];
			if (c > best) {
				best = c;
				taken = len;
			}
		}
		best += r->cum[strand * m + at];
		if (taken && best > vx[x]) {
			vx[x] = best;
			xl[k] = (uint8_t)taken;
		}
	}
}

/* Records position i's first-base scores and intron sums in the rings. */
static void run_keep_(run_ *r, long i, const double *w, const float *e)
{
	long m = r->n + 1, at = i % m, prev = (i + m - 1) % m;
	if (!r->n)
		return;
	for (int k = 0; k < 12; k++)
		r->first[k * m + at] = w[intron_loop_(k) + 6];
	for (int s = 0; s < 2; s++) {
		double x = e[s ? emit_[M_I0] : emit_[P_I0]];
		if (!isfinite(x))
			r->lost[s] = i;
		r->cum[s * m + at] = (i ? r->cum[s * m + prev] : 0) + (isfinite(x) ? x : 0);
	}
}

static void step_ig_(const site *s, const double *v, double *w, uint8_t *bp)
{
	TRY(S_IG, S_IG, 1, 0);
	TRY(S_IG, P_E2, s->stop_p, s->stop_p_s); /* plus gene ends, its stop follows */
	TRY(S_IG, M_S0, 1, 0);         /* minus gene ends after CAT */
}

static int is_coding_(int st)
{
	return (st >= P_S0 && st <= P_E2) || (st >= M_E2 && st <= M_S0);
}

/* Appends the gene of path[beg, end) (one gene, no intergenic base). */
static int add_gene_(sp_ctx *ctx, const uint8_t *path, long beg, long end,
		     sp_gene **genes, size_t *n, size_t *cap)
{
	sp_gene *g;
	size_t ne = 0;
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		sp_gene *ng = realloc(*genes, nc * sizeof(*ng));
		if (!ng)
			return sp_err(ctx, SP_ENOMEM, "decode: out of memory");
		*genes = ng;
		*cap = nc;
	}
	g = &(*genes)[*n];
	memset(g, 0, sizeof(*g));
	for (long i = beg; i < end; i++)
		ne += is_coding_(path[i]) && (i == beg || !is_coding_(path[i - 1]));
	if (!(g->exon = malloc(ne * sizeof(*g->exon))))
		return sp_err(ctx, SP_ENOMEM, "decode: out of memory");
	for (long i = beg; i < end; i++) {
		if (!is_coding_(path[i]))
			continue;
		if (i == beg || !is_coding_(path[i - 1]))
			g->exon[g->nexon++].beg = i;
		g->exon[g->nexon - 1].end = i + 1;
	}
	g->strand = path[beg] < M_E2 ? 1 : -1;
	(*n)++;
	return SP_OK;
}

static int path_genes_(sp_ctx *ctx, const uint8_t *path, long len,
		       sp_gene **genes, size_t *ngene)
{
	size_t cap = 0;
	int rc = SP_OK;
	*genes = NULL;
	*ngene = 0;
	for (long i = 0; i < len && !rc; i++) {
		long j = i;
		if (path[i] == S_IG)
			continue;
		while (j < len && path[j] != S_IG)
			j++;
		rc = add_gene_(ctx, path, i, j, genes, ngene, &cap);
		i = j;
	}
	if (rc) {
		sp_genes_free(*genes, *ngene);
		*genes = NULL;
		*ngene = 0;
	}
	return rc;
}

/* Base i's label scores: the model's log-probabilities less the label's
 * prior share, in part (prior_weight: 1 turns posteriors into scaled
 * likelihoods, as a hybrid HMM/network decoder does), weighed, plus the
 * content models' log-likelihoods, weighed. */
static void emit_row_(const dctx *d, const float *logp, long i, float *row)
{
	const float *e = logp + (size_t)i * SP_NLABEL;
	/* weight 0 ignores the tagger, even a -inf score (0 x -inf is NaN) */
	for (int l = 0; l < SP_NLABEL; l++)
		row[l] = d->tagger_weight != 0 ? (float)(d->tagger_weight * (e[l] - d->prior[l])) : 0;
	for (int l = 0; d->content_weight != 0 && l < SP_NLABEL; l++)
		row[l] += (float)(d->content_weight *
				  sp_genesig_content(d->sig, l, d->seq, (size_t)d->len, i));
}

/* The forward pass: bp gets every base's back-pointers; returns the
 * final intergenic score. */
static double forward_(const dctx *d, const float *logp, run_ *r, uint8_t *bp,
		       uint8_t *xl)
{
	double va[NSTATE], vb[NSTATE], vxa[NSTATE], *v = va, *w = vb, *t;
	float e[SP_NLABEL];
	for (int s = 0; s < NSTATE; s++)
		v[s] = -INFINITY;
	emit_row_(d, logp, 0, e);
	v[S_IG] = e[SP_LABEL_IG];
	memset(bp, S_IG, NSTATE);
	run_keep_(r, 0, v, e);
	for (long i = 1; i < d->len; i++) {
		uint8_t *b = bp + (size_t)i * NSTATE;
		site s;
		site_(d, i, &s);
		emit_row_(d, logp, i, e);
		for (int k = 0; k < NSTATE; k++)
			w[k] = -INFINITY;
		memset(b, S_IG, NSTATE);
		const double *vx = v;
		/* no acceptor here: no intron ends, the exits read nothing */
		if (xl && (s.acc_p || s.ac_m)) {
			short_introns_(d, r, &s, i, v, vxa, xl + (size_t)(i - 1) * 12);
			vx = vxa;
		}
		step_ig_(&s, v, w, b);
		step_plus_(d, &s, v, vx, w, b);
		step_minus_(d, &s, v, vx, w, b);
		step_run_(d, r, i, v, w, b);
		for (int k = 0; k < NSTATE; k++)
			w[k] += e[emit_[k]];
		run_keep_(r, i, w, e);
		t = v, v = w, w = t;
	}
	return v[S_IG];
}

/* The kind (0..11, as intron_loop_ numbers them) of an intron loop state. */
static int kind_of_(int st)
{
	return st <= P_I2O ? st - P_I0 : 6 + (st - M_I0);
}

/* The best path, back from the intergenic end; a loop state entered from
 * its first base skips back over the run (its bases are the loop's), and
 * one left as an intron scored whole (xl) over the whole intron. */
static void traceback_(const uint8_t *bp, const uint8_t *xl, long len, long run,
		       uint8_t *path)
{
	long i = len - 1;
	path[i] = S_IG;
	while (i > 0) {
		uint8_t st = path[i], prev = bp[(size_t)i * NSTATE + st];
		long whole = xl && prev != st && is_intron_loop_(prev)
				     ? xl[(size_t)(i - 1) * 12 + kind_of_(prev)] : 0;
		int entered = run && prev == st + 6 && is_intron_loop_(st);
		if (whole) {
			for (long k = 1; k < whole; k++)
				path[i - k] = prev;
			i -= whole;
			path[i] = (uint8_t)(prev + 6);
			continue;
		}
		for (long k = 1; entered && k <= run; k++)
			path[i - k] = st;
		i -= entered ? run : 0;
		path[--i] = prev;
	}
}

/* The run and the intron length terms: the run is min_intron - 2 bases,
 * or with lengths weighed (intron_length_weight) at least the
 * SP_GENESIG_INTRON_MAX - 1 after which the loop's geometric tail takes
 * over from introns scored whole; a run longer than the sequence fits no
 * intron, so the ring is capped. */
static int setup_introns_(dctx *d, run_ *r, const sp_genedecode_opts *o, size_t len)
{
	int lengths = o->signals && o->intron_length_weight != 0;
	size_t want = o->min_intron > 4 ? o->min_intron : 0;
	double lw = o->intron_length_weight;
	if (lengths && want < SP_GENESIG_INTRON_MAX + 1)
		want = SP_GENESIG_INTRON_MAX + 1;
	if (want) {
		size_t cap = want < len ? want : len;
		r->n = cap > 2 ? (long)cap - 2 : 0;
	}
	if (r->n && (!(r->first = malloc(12 * (size_t)(r->n + 1) * sizeof(double))) ||
		     !(r->cum = malloc(2 * (size_t)(r->n + 1) * sizeof(double)))))
		return -1;
	if (!lengths || !r->n)
		return 0;
	d->short_min = o->min_intron > 4 ? (long)o->min_intron : 4;
	d->short_max = r->n + 1 < SP_GENESIG_INTRON_MAX ? r->n + 1 : SP_GENESIG_INTRON_MAX;
	if (!(d->short_logp = malloc((SP_GENESIG_INTRON_MAX + 1) * sizeof(double))))
		return -1;
	for (long k = 0; k <= d->short_max; k++)
		d->short_logp[k] = lw * sp_genesig_intron_logp(o->signals, k);
	d->loop_enter = lw * sp_genesig_intron_logp(o->signals, r->n + 2);
	d->loop_step = lw * (sp_genesig_intron_logp(o->signals, r->n + 3) -
			     sp_genesig_intron_logp(o->signals, r->n + 2));
	return 1;
}

int sp_genedecode(sp_ctx *ctx, const uint8_t *seq, size_t len,
		  const float *logp, const sp_genedecode_opts *opts,
		  sp_gene **genes, size_t *ngene, double *score)
{
	static const sp_genedecode_opts defaults = SP_GENEDECODE_OPTS_INIT;
	dctx d;
	run_ r = { 0, NULL, NULL, { -1, -1 } };
	uint8_t *bp, *path, *xl = NULL;
	double end;
	int rc, lengths;
	*genes = NULL;
	*ngene = 0;
	if (!opts)
		opts = &defaults;
	if (len == 0)
		return SP_OK;
	if (len > (size_t)LONG_MAX / (NSTATE + 13))
		return sp_err(ctx, SP_EINVAL, "decode: sequence too long");
	d = (dctx){ seq, (long)len, opts->gene_logp, opts->intron_logp,
		    opts->gc_donor != 0, opts->signals, opts->signal_weight,
		    opts->signals ? opts->content_weight : 0,
		    opts->signals ? opts->tagger_weight : 1, { 0 }, 0, 0, 1, 0, NULL };
	for (int l = 0; opts->signals && l < SP_NLABEL; l++)
		d.prior[l] = opts->prior_weight * sp_genesig_logprior(opts->signals, l);
	bp = malloc(len * NSTATE);
	path = malloc(len);
	lengths = setup_introns_(&d, &r, opts, len);
	if (lengths > 0)
		xl = calloc(len, 12);
	if (!bp || !path || lengths < 0 || (lengths > 0 && !xl)) {
		rc = sp_err(ctx, SP_ENOMEM, "decode: out of memory for %zu "
			    "bases (%zu bytes)", len, len * (NSTATE + 13));
		goto out;
	}
	end = forward_(&d, logp, &r, bp, xl);
	if (!(end > -INFINITY)) {
		rc = sp_err(ctx, SP_EINPUT, "decode: no valid labelling (an "
			    "intergenic score is -inf or NaN)");
		goto out;
	}
	if (score)
		*score = end;
	traceback_(bp, xl, (long)len, r.n, path);
	rc = path_genes_(ctx, path, (long)len, genes, ngene);
out:
	free(bp);
	free(path);
	free(xl);
	free(r.first);
	free(r.cum);
	free(d.short_logp);
	return rc;
}
