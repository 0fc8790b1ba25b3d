/*
 * sp_chrf.c: chrF as sacreBLEU 2.x computes it (see sp_chrf.h).
 * N-grams are spans of code points of the whitespace-free UTF-8 text,
 * counted with the shared clipped-match table (sp_ngram.h).
 */
#include "config.h"

#include "sp_chrf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ngram.h"
#include "sp_utf8.h"

struct sp_chrf {
	sp_chrf_opts o;
	sp_buf low, hyp, ref;
	uint32_t *hoff, *roff; /* code point offsets of hyp and ref */
	size_t hoff_cap, roff_cap;
	sp_ngrams *ngrams;
};

void sp_chrf_opts_init(sp_chrf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->char_order = 6;
	o->beta = 2;
}

int sp_chrf_new(sp_chrf **out, sp_ctx *ctx, const sp_chrf_opts *opts)
{
	sp_chrf *c;
	int rc;
	*out = NULL;
	if (!opts || opts->size < sizeof(sp_chrf_opts))
		return sp_err(ctx, SP_EINVAL, "chrf: options not initialised (sp_chrf_opts_init)");
	if (opts->char_order < 1 || opts->char_order > SP_CHRF_MAX_ORDER || opts->beta < 0)
		return sp_err(ctx, SP_EINVAL, "chrf: char_order %d must be in 1..%d, beta %d >= 0",
			      opts->char_order, SP_CHRF_MAX_ORDER, opts->beta);
	if (!(c = calloc(1, sizeof(*c))))
		return sp_err(ctx, SP_ENOMEM, "chrf: out of memory");
	c->o = *opts;
	if ((rc = sp_ngrams_new(&c->ngrams, ctx)) < 0) {
		sp_chrf_free(c);
		return rc;
	}
	*out = c;
	return SP_OK;
}

void sp_chrf_free(sp_chrf *c)
{
	if (!c)
		return;
	sp_buf_free(&c->low);
	sp_buf_free(&c->hyp);
	sp_buf_free(&c->ref);
	free(c->hoff);
	free(c->roff);
	sp_ngrams_free(c->ngrams);
	free(c);
}

/* text -> out (lowercased, whitespace removed) and its code point offsets */
static int prepare(sp_chrf *c, sp_ctx *ctx, const char *text, size_t len, sp_buf *out,
		   uint32_t **offs, size_t *cap, size_t *n_cp)
{
	size_t bad;
	int rc;
	if (sp_utf8_check(text, len, &bad) < 0)
		return sp_err(ctx, SP_EINPUT, "byte %zu: invalid UTF-8", bad + 1);
	if (c->o.lowercase) {
		if ((rc = sp_utf8_lower(&c->low, ctx, text, len)) < 0)
			return rc;
		text = c->low.p;
		len = c->low.len;
	}
	sp_buf_clear(out);
	if (c->o.whitespace)
		rc = sp_buf_append(out, ctx, text, len);
	else
		rc = sp_utf8_strip_spaces(out, ctx, text, len);
	if (rc < 0)
		return rc;
	if (out->len + 1 > *cap) {
		uint32_t *p = realloc(*offs, (out->len + 1) * sizeof(*p));
		if (!p)
			return sp_err(ctx, SP_ENOMEM, "chrf: out of memory");
		*offs = p;
		*cap = out->len + 1;
	}
	*n_cp = sp_utf8_offsets(out->p, out->len, *offs);
	return SP_OK;
}

int sp_chrf_add(sp_chrf *c, sp_ctx *ctx, const char *hyp, size_t hyp_len,
		const char *ref, size_t ref_len, sp_chrf_stats *acc)
{
	size_t nh, nr;
	int rc, order = c->o.char_order;
	if ((rc = prepare(c, ctx, ref, ref_len, &c->ref, &c->roff, &c->roff_cap, &nr)) < 0)
		return sp_err_prefix(ctx, rc, "reference");
	if ((rc = prepare(c, ctx, hyp, hyp_len, &c->hyp, &c->hoff, &c->hoff_cap, &nh)) < 0)
		return sp_err_prefix(ctx, rc, "hypothesis");
	if ((rc = sp_ngrams_reset(c->ngrams, ctx, (size_t)order * (nh + nr + 1))) < 0)
		return rc;
	for (int n = 1; n <= order; n++) {
		int64_t hyp_count = 0, ref_count = 0, match = 0;
		for (size_t i = 0; i + (size_t)n <= nr; i++, ref_count++)
			sp_ngrams_add_ref(c->ngrams, c->ref.p + c->roff[i],
					  c->roff[i + (size_t)n] - c->roff[i], (unsigned)n);
		for (size_t i = 0; i + (size_t)n <= nh; i++, hyp_count++)
			match += sp_ngrams_offer_hyp(c->ngrams, c->hyp.p + c->hoff[i],
						     c->hoff[i + (size_t)n] - c->hoff[i],
						     (unsigned)n);
		/* sacreBLEU: "don't count hits if no reference exists for that
		 * n-gram" order */
		acc->hyp[n - 1] += ref_count ? hyp_count : 0;
		acc->ref[n - 1] += ref_count;
		acc->match[n - 1] += match;
	}
	return SP_OK;
}

double sp_chrf_compute(const sp_chrf_opts *o, const sp_chrf_stats *st)
{
	double factor = (double)o->beta * o->beta, avg_prec = 0.0, avg_rec = 0.0, score;
	int eff = 0;
	for (int i = 0; i < o->char_order; i++) {
		if (st->hyp[i] > 0 && st->ref[i] > 0) {
			avg_prec += (double)st->match[i] / (double)st->hyp[i];
			avg_rec += (double)st->match[i] / (double)st->ref[i];
			eff++;
		}
	}
	if (eff == 0)
		return 0.0;
	avg_prec /= eff;
	avg_rec /= eff;
	if (avg_prec + avg_rec == 0.0)
		return 0.0;
	score = (1 + factor) * avg_prec * avg_rec;
	score /= (factor * avg_prec) + avg_rec;
	return 100 * score;
}

size_t sp_chrf_signature(const sp_chrf_opts *o, char *buf, size_t n)
{
	int k = snprintf(buf, n, "nrefs:1|case:%s|eff:yes|nc:%d|nw:0|space:%s|version:seqpipe-%s",
			 o->lowercase ? "lc" : "mixed", o->char_order,
			 o->whitespace ? "yes" : "no", PACKAGE_VERSION);
	return k < 0 ? 0 : (size_t)k;
}
