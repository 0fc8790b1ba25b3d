/*
 * seq2seq_search.c: decoding a batch of sources with the decoder head:
 * beam search with length normalisation, batched over the sources (each
 * source's K hypotheses are rows b*K .. b*K+K-1 of one decoder batch).
 * A beam of 1 is greedy decoding: the most likely token at every step.
 *
 * Each step, every live hypothesis proposes its 2K most likely next
 * tokens; of all K*2K candidates of a source, by total log-probability,
 * those ending in <eos> among the best K are finished (ranked by
 * logprob / length^alpha, length counting <eos>), and the best K others
 * go on.  A source is done when K hypotheses have finished, or at its
 * maximum length ceil(max_ratio * source length) + 1, where unfinished
 * hypotheses compete too (scored by their length so far).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seq2seq_impl.h"

typedef struct cand {
	double score;
	size_t slot; /* parent row */
	int32_t tok;
} cand;

/* The search's memory, all in one struct so that one function frees it. */
typedef struct search {
	size_t B, K, Bn, S, Tmax;
	float *enc, *s, *c, *f, *ns, *nc, *nf, *x, *a, *ahn, *tmp, *ctxv, *u, *p, *wts;
	uint8_t *mask;
	int32_t *in_id, *tok, *len, *out_ids;
	size_t *par, *tmax;
	double *score, *nscore;
	float *hist;               /* (Tmax,Bn,S) attention, or NULL */
	cand *cands;               /* (K*2K) */
	/* per source: the best finished hypothesis */
	size_t *fin_n, *best_t, *best_slot;
	double *best_norm, *best_raw;
	int *best_eos, *done;
	float *best_att;           /* (B,S) its last step's attention */
	float *out_att;            /* (Tmax,S) */
} search;

static void search_free(search *m)
{
	void *p[] = {m->enc, m->s, m->c, m->f, m->ns, m->nc, m->nf, m->x, m->a, m->ahn, m->tmp,
		     m->ctxv, m->u, m->p, m->wts, m->mask, m->in_id, m->tok, m->len, m->out_ids,
		     m->par, m->tmax, m->score, m->nscore, m->hist, m->cands, m->fin_n, m->best_t,
		     m->best_slot, m->best_norm, m->best_raw, m->best_eos, m->done, m->best_att,
		     m->out_att};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		free(p[i]);
}

static int search_alloc(search *m, const s2s *d, int want_att)
{
	size_t Bn = m->Bn, S = m->S, T = m->Tmax, H = d->H, GH = d->cell.G * H;
#define A(p, n) ((p) = calloc((n) + 1, sizeof(*(p))))
	if (!A(m->enc, S * Bn * d->He) || !A(m->s, Bn * H) || !A(m->c, Bn * H) ||
	    !A(m->f, Bn * H) || !A(m->ns, Bn * H) || !A(m->nc, Bn * H) || !A(m->nf, Bn * H) ||
	    !A(m->x, Bn * d->I) || !A(m->a, Bn * GH) || !A(m->ahn, Bn * H) ||
	    !A(m->tmp, Bn * GH) || !A(m->ctxv, Bn * d->He) || !A(m->u, Bn * (H + d->He)) ||
	    !A(m->p, Bn * d->V) || !A(m->wts, S * Bn) || !A(m->mask, S * Bn) ||
	    !A(m->in_id, Bn) || !A(m->tok, T * Bn) || !A(m->len, m->B) || !A(m->out_ids, T) ||
	    !A(m->par, T * Bn) || !A(m->tmax, m->B) || !A(m->score, Bn) || !A(m->nscore, Bn) ||
	    !A(m->cands, 2 * m->K * m->K) || !A(m->fin_n, m->B) || !A(m->best_t, m->B) ||
	    !A(m->best_slot, m->B) || !A(m->best_norm, m->B) || !A(m->best_raw, m->B) ||
	    !A(m->best_eos, m->B) || !A(m->done, m->B) || !A(m->best_att, m->B * S) ||
	    !A(m->out_att, T * S) || (want_att && !A(m->hist, T * Bn * S)))
		return SP_ENOMEM;
#undef A
	return SP_OK;
}

/* The sources, each copied to its K rows; lengths and step limits. */
static void expand(search *m, const s2s *d, const sp_seq *h, double ratio)
{
	m->Tmax = 0;
	for (size_t b = 0; b < m->B; b++) {
		size_t n = h->len ? (size_t)h->len[b] : m->S;
		if (!h->len && h->mask) {
			n = 0;
			for (size_t t = 0; t < m->S; t++)
				n += h->mask[t * m->B + b] != 0;
		}
		m->len[b] = (int32_t)n;
		m->tmax[b] = (size_t)ceil(ratio * (double)n) + 1;
		if (m->tmax[b] > m->Tmax)
			m->Tmax = m->tmax[b];
	}
}

static void fill_rows(search *m, const s2s *d, const sp_seq *h)
{
	size_t K = m->K, He = d->He;
	for (size_t t = 0; t < m->S; t++)
		for (size_t b = 0; b < m->B; b++)
			for (size_t k = 0; k < K; k++) {
				size_t r = b * K + k;
				memcpy(m->enc + (t * m->Bn + r) * He, h->x + (t * m->B + b) * He,
				       He * sizeof(float));
				m->mask[t * m->Bn + r] = h->mask ? h->mask[t * m->B + b] : 1;
			}
	for (size_t r = 0; r < m->Bn; r++)
		m->score[r] = r % K == 0 ? 0.0 : -INFINITY;
}

/* The 2K best tokens of row r's log-probabilities, appended to cands. */
static size_t propose(search *m, const s2s *d, size_t r, size_t nc)
{
	const float *p = m->p + r * d->V;
	size_t want = 2 * m->K < d->V ? 2 * m->K : d->V;
	cand *c = m->cands + nc;
	size_t n = 0;
	for (size_t v = 0; v < d->V; v++) {
		double s = m->score[r] + log(fmax((double)p[v], 1e-30));
		size_t i;
		if (n == want && s <= c[n - 1].score)
			continue;
		i = n < want ? n++ : n - 1;
		while (i > 0 && c[i - 1].score < s) {
			c[i] = c[i - 1];
			i--;
		}
		c[i].score = s;
		c[i].slot = r;
		c[i].tok = (int32_t)v;
	}
	return nc + n;
}

static int cand_cmp(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

/* A finished hypothesis of source b (eos at step t from row slot, or a
 * live one at the length limit) competes for the best. */
static void finish(search *m, size_t b, size_t t, size_t slot, double raw, int eos,
		   double alpha)
{
	double norm = raw / pow((double)(t + 1), alpha);
	m->fin_n[b]++;
	if (m->fin_n[b] > 1 && norm <= m->best_norm[b])
		return;
	m->best_norm[b] = norm;
	m->best_raw[b] = raw;
	m->best_t[b] = t;
	m->best_slot[b] = slot;
	m->best_eos[b] = eos;
	if (m->hist) /* the step's attention, of the row it came from */
		for (size_t s = 0; s < m->S; s++)
			m->best_att[b * m->S + s] = m->wts[s * m->Bn + slot];
}

/* Step t of source b: its candidates, finished ones, the next beam. */
static void select_next(search *m, const s2s *d, size_t b, size_t t, double alpha)
{
	size_t K = m->K, nc = 0, live = 0;
	for (size_t k = 0; k < K; k++)
		if (isfinite(m->score[b * K + k]))
			nc = propose(m, d, b * K + k, nc);
	qsort(m->cands, nc, sizeof(*m->cands), cand_cmp);
	for (size_t i = 0; i < nc && live < K; i++) {
		const cand *c = &m->cands[i];
		if (c->tok == d->eos) {
			if (i < K)
				finish(m, b, t, c->slot, c->score, 1, alpha);
			continue;
		}
		size_t r = b * K + live++;
		m->tok[t * m->Bn + r] = c->tok;
		m->par[t * m->Bn + r] = c->slot;
		m->nscore[r] = c->score;
		if (m->hist)
			for (size_t s = 0; s < m->S; s++)
				m->hist[(t * m->Bn + r) * m->S + s] = m->wts[s * m->Bn + c->slot];
	}
	for (size_t k = live; k < K; k++)
		m->nscore[b * K + k] = -INFINITY;
	if (m->fin_n[b] >= K || t + 1 >= m->tmax[b]) {
		if (t + 1 >= m->tmax[b]) /* unfinished hypotheses compete too */
			for (size_t k = 0; k < live; k++)
				finish(m, b, t, b * K + k, m->nscore[b * K + k], 0, alpha);
		m->done[b] = 1;
	}
}

/* Next step's states: each row's from its parent row. */
static void gather(search *m, const s2s *d, size_t t)
{
	size_t H = d->H;
	for (size_t r = 0; r < m->Bn; r++) {
		size_t p = m->par[t * m->Bn + r];
		if (m->done[r / m->K] || !isfinite(m->nscore[r]))
			continue;
		memcpy(m->s + r * H, m->ns + p * H, H * sizeof(float));
		memcpy(m->c + r * H, m->nc + p * H, H * sizeof(float));
		memcpy(m->f + r * H, m->nf + p * H, H * sizeof(float));
		m->in_id[r] = m->tok[t * m->Bn + r];
	}
	for (size_t r = 0; r < m->Bn; r++)
		m->score[r] = m->done[r / m->K] ? -INFINITY : m->nscore[r];
}

/* Source b's best hypothesis, traced back, to emit. */
static int emit_best(search *m, const s2s *d, size_t b, sp_gen_fn emit, void *payload)
{
	size_t t = m->best_t[b], n = t + 1, r = m->best_slot[b], S = m->S;
	size_t Sb = (size_t)m->len[b];
	int64_t tt = (int64_t)t;
	if (m->fin_n[b] == 0)
		return emit(payload, b, m->out_ids, 0, 0.0, NULL, Sb);
	if (m->best_eos[b]) {
		m->out_ids[t] = d->eos;
		if (m->hist)
			memcpy(m->out_att + t * Sb, m->best_att + b * S, Sb * sizeof(float));
		tt = (int64_t)t - 1;
	}
	for (; tt >= 0; tt--) {
		m->out_ids[tt] = m->tok[(size_t)tt * m->Bn + r];
		if (m->hist)
			memcpy(m->out_att + (size_t)tt * Sb, m->hist + ((size_t)tt * m->Bn + r) * S,
			       Sb * sizeof(float));
		r = m->par[(size_t)tt * m->Bn + r];
	}
	return emit(payload, b, m->out_ids, n, m->best_raw[b], m->hist ? m->out_att : NULL, Sb);
}

int s2s_generate(void *self, sp_ctx *ctx, const sp_seq *h, const sp_gen_opts *o,
		 sp_gen_fn emit, void *payload)
{
	s2s *d = self;
	search m;
	int want_att = o && o->size >= sizeof(sp_gen_opts) && o->attention;
	double ratio = o && o->max_ratio > 0 ? o->max_ratio : d->max_ratio;
	double alpha = o && o->len_alpha > 0 ? o->len_alpha : d->len_alpha;
	int rc = SP_OK;
	memset(&m, 0, sizeof(m));
	if (h->D != d->He)
		return sp_err(ctx, SP_EINVAL, "decoder: input width %zu, expected %zu", h->D, d->He);
	m.B = h->B;
	m.S = h->T;
	m.K = o && o->beam ? o->beam : d->beam;
	m.Bn = m.B * m.K;
	m.len = malloc((m.B + 1) * sizeof(*m.len));
	m.tmax = malloc((m.B + 1) * sizeof(*m.tmax));
	if (!m.len || !m.tmax) {
		search_free(&m);
		return sp_err(ctx, SP_ENOMEM, "decoder: out of memory");
	}
	expand(&m, d, h, ratio);
	free(m.len);
	free(m.tmax);
	m.len = NULL;
	m.tmax = NULL;
	if (search_alloc(&m, d, want_att) < 0) {
		search_free(&m);
		return sp_err(ctx, SP_ENOMEM, "decoder: out of memory for a beam of %zu over %zu sources",
			      m.K, m.B);
	}
	expand(&m, d, h, ratio);
	fill_rows(&m, d, h);
	/* the source is the same at every step: its projection once */
	if ((rc = sp_attn_pin(d->attn, ctx, m.S, m.Bn, m.enc)) < 0) {
		search_free(&m);
		return rc;
	}
	s2s_init_state(d, m.Bn, m.S, m.enc, m.mask, m.ctxv, m.s);
	for (size_t r = 0; r < m.Bn; r++)
		m.in_id[r] = d->bos;
	for (size_t t = 0; t < m.Tmax && rc >= 0; t++) {
		s2s_step st = {m.x, m.s, d->cell.kind == S2S_LSTM ? m.c : NULL, m.a, m.ahn, m.ns,
			       d->cell.kind == S2S_LSTM ? m.nc : NULL};
		int all_done = 1;
		for (size_t b = 0; b < m.B; b++)
			all_done &= m.done[b];
		if (all_done)
			break;
		s2s_make_input(d, m.Bn, m.in_id, t ? m.f : NULL, m.x);
		rc = s2s_step_forward(d, ctx, m.Bn, m.S, m.enc, m.mask, &st, m.ctxv, m.u, m.nf, m.p,
				      m.wts, m.tmp, NULL);
		for (size_t b = 0; b < m.B && rc >= 0; b++)
			if (!m.done[b])
				select_next(&m, d, b, t, alpha);
		gather(&m, d, t);
	}
	for (size_t b = 0; b < m.B && rc >= 0; b++)
		rc = emit_best(&m, d, b, emit, payload);
	sp_attn_unpin(d->attn); /* m.enc is freed */
	search_free(&m);
	return rc;
}
