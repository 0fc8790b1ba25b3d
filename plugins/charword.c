/*
 * charword.c: the character word encoder, a model stage that reads each
 * token's spelling: component `charword`.
 *
 * Every token's characters go through a bidirectional LSTM of their own
 * (the recurrent engine, core/sp_cell.h, over a batch whose rows are the
 * tokens and whose steps are their characters); the forward direction's
 * state after the last character and the reverse direction's after the
 * first are the token's spelling vector (Lample et al. 2016, "Neural
 * architectures for named entity recognition").  It joins the word's own
 * vector:
 *
 *   y(t) = [ embed[id(t)] | h_fwd(last char) | h_rev(first char) ]
 *          (E with ids, or the input vector x(t) as it came)  (2 Hc)
 *
 * so a word never seen in training (most of WNUT-17's entities) still
 * has a representation.  Stack a recurrent stage on it:
 *
 *   [model]  plugin = charword   embed = 100   char_hidden = 25
 *   [model2] plugin = lstm       hidden = 128  bidirectional = true
 *
 * Characters: code points, mapped onto `buckets` rows of a trainable
 * table (char_embed wide): the first 7/8 of the rows are the code points
 * below that number (ASCII and Latin-1 with the default 512), the rest
 * are shared by hashing every other code point.  What it is not: a word
 * tokenizer (the host gives the characters: sp_model_ops.chars).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cell.h"
#include "sp_kv.h"
#include "sp_plugin.h"

typedef struct charword {
	size_t in, E, Hc, V, out;   /* V: buckets */
	sp_rnn *rnn;                /* over characters: (C, N) ids */
	sp_weight *w;               /* "embed" (if E) then the engine's */
	size_t n_w;
	float *emb, *gemb;          /* (in, E) word table, when E > 0 */
	sp_chars ch;                /* of the next forward (borrowed) */
	int has_ch;
	/* the last forward, for backward */
	size_t T, B, N, C;
	const int32_t *ids;         /* borrowed until backward */
	const uint8_t *mask;
	const int32_t *len;
	int trained;
	/* buffers, grown to the largest batch */
	size_t *row;                /* (N) token n sits at row[n] = t*B+b */
	int32_t *cid, *clen;        /* (C,N) char ids, (N) lengths */
	uint8_t *cmask;             /* (C,N) */
	float *y, *dx, *dcy;        /* (T,B,out), (T,B,in), (C,N,2Hc) */
	size_t cap_tb, cap_n, cap_cn;
} charword;

static void cw_destroy(void *self)
{
	charword *s = self;
	if (!s)
		return;
	sp_rnn_free(s->rnn);
	free(s->w);
	free(s->row);
	free(s->cid);
	free(s->clen);
	free(s->cmask);
	free(s->y);
	free(s->dx);
	free(s->dcy);
	free(s);
}

static int size_key_(sp_ctx *ctx, const sp_kv *args, const char *key, long lo, long hi, size_t *out)
{
	long v = sp_kv_int(args, key);
	if (v < lo || v > hi)
		return sp_err(ctx, SP_EINVAL, "charword: %s=%ld must be in [%ld, %ld] (%s)", key, v, lo, hi,
			      sp_kv_where(args, key));
	*out = (size_t)v;
	return SP_OK;
}

static int cw_create(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim)
{
	charword *s = calloc(1, sizeof(*s));
	sp_rnn_config cfg;
	const sp_weight *rw;
	size_t n_rw, ce;
	int rc;
	*out = NULL;
	if (!s)
		return sp_err(ctx, SP_ENOMEM, "charword: out of memory");
	s->in = in_dim;
	if ((rc = size_key_(ctx, args, "embed", 0, 1L << 16, &s->E)) ||
	    (rc = size_key_(ctx, args, "char_hidden", 1, 4096, &s->Hc)) ||
	    (rc = size_key_(ctx, args, "char_embed", 1, 4096, &ce)) ||
	    (rc = size_key_(ctx, args, "buckets", 16, 1L << 21, &s->V)))
		goto fail;
	sp_rnn_config_init(&cfg);
	cfg.name = "charword";
	cfg.prefix = "char.";
	cfg.cell = SP_CELL_LSTM;
	cfg.in_dim = s->V;
	cfg.hidden = s->Hc;
	cfg.layers = 1;
	cfg.bidirectional = 1;
	cfg.embed = ce;
	cfg.forget_bias = 1.0f;
	cfg.init = SP_CELL_INIT_UNIFORM;
	if ((rc = sp_rnn_new(&s->rnn, ctx, &cfg)) || (rc = sp_rnn_weights(s->rnn, &rw, &n_rw)))
		goto fail;
	s->n_w = n_rw + (s->E ? 1 : 0);
	if (!(s->w = calloc(s->n_w, sizeof(*s->w)))) {
		rc = sp_err(ctx, SP_ENOMEM, "charword: out of memory");
		goto fail;
	}
	if (s->E)
		s->w[0] = (sp_weight){"embed", 2, {in_dim, s->E, 0, 0}};
	memcpy(s->w + (s->E ? 1 : 0), rw, n_rw * sizeof(*rw));
	s->out = (s->E ? s->E : in_dim) + 2 * s->Hc;
	*out = s;
	return SP_OK;
fail:
	cw_destroy(s);
	return rc;
}

static size_t cw_out_dim(const void *self)
{
	return ((const charword *)self)->out;
}

static int cw_weights(const void *self, const sp_weight **out, size_t *n_out)
{
	const charword *s = self;
	*out = s->w;
	*n_out = s->n_w;
	return SP_OK;
}

static int cw_bind(void *self, float *const *value, float *const *grad)
{
	charword *s = self;
	size_t k = 0;
	if (s->E) {
		s->emb = value[0];
		s->gemb = grad[0];
		k = 1;
	}
	return sp_rnn_bind(s->rnn, value + k, grad + k);
}

static int cw_init(void *self, sp_ctx *ctx)
{
	charword *s = self;
	/* U(+-sqrt(3/E)): variance 1/E, so a word vector is about as long
	 * as the spelling vector it joins (LSTM states, |h| < 1); with
	 * N(0, 1) the word part dominated the joined vector and the next
	 * stage learned to ignore the spelling. */
	if (s->E) {
		float a = sqrtf(3.0f / (float)s->E);
		sp_fill_uniform(ctx, s->emb, s->in * s->E, -a, a);
	}
	return sp_rnn_init(s->rnn, ctx);
}

static int cw_chars(void *self, sp_ctx *ctx, const sp_chars *c)
{
	charword *s = self;
	if (c->size < sizeof(sp_chars) || (c->T * c->B != 0 && (!c->cp || !c->n)))
		return sp_err(ctx, SP_EINVAL, "charword: malformed characters (size %zu)", c->size);
	s->ch = *c;
	s->has_ch = 1;
	return SP_OK;
}

/* A code point's row of the character table. */
static int32_t char_id_(const charword *s, int32_t cp)
{
	size_t lo = s->V - s->V / 8;
	uint32_t h;
	if (cp >= 0 && (size_t)cp < lo)
		return cp;
	h = (uint32_t)cp * 2654435761u;
	return (int32_t)(lo + (h >> 8) % (s->V - lo));
}

static int grow_(void **p, size_t need, size_t elem)
{
	void *q = realloc(*p, (need ? need : 1) * elem);
	if (!q)
		return -1;
	*p = q;
	return 0;
}

static int buffers_(charword *s, sp_ctx *ctx, size_t TB, size_t N, size_t C)
{
	int bad = 0;
	if (TB > s->cap_tb) {
		bad |= grow_((void **)&s->y, TB * s->out, sizeof(float));
		bad |= grow_((void **)&s->dx, TB * s->in, sizeof(float));
		bad |= grow_((void **)&s->row, TB, sizeof(size_t));
		bad |= grow_((void **)&s->clen, TB, sizeof(int32_t));
		s->cap_tb = bad ? 0 : TB;
	}
	if (!bad && C * N > s->cap_cn) {
		bad |= grow_((void **)&s->cid, C * N, sizeof(int32_t));
		bad |= grow_((void **)&s->cmask, C * N, 1);
		bad |= grow_((void **)&s->dcy, C * N * 2 * s->Hc, sizeof(float));
		s->cap_cn = bad ? 0 : C * N;
	}
	(void)N;
	return bad ? sp_err(ctx, SP_ENOMEM, "charword: out of memory for a batch") : SP_OK;
}

static int real_(const sp_seq *x, size_t t, size_t b)
{
	if (x->mask)
		return x->mask[t * x->B + b] != 0;
	return !x->len || (int32_t)t < x->len[b];
}

/* The tokens of the batch as the rows of a character batch (C, N). */
static int char_batch_(charword *s, sp_ctx *ctx, const sp_seq *x)
{
	const sp_chars *c = &s->ch;
	size_t T = x->T, B = x->B, N = 0, C = c->C ? c->C : 1;
	int rc;
	if ((rc = buffers_(s, ctx, T * B, T * B, C)) < 0)
		return rc;
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++)
			if (real_(x, t, b))
				s->row[N++] = t * B + b;
	for (size_t n = 0; n < N; n++) {
		size_t r = s->row[n];
		int32_t len = c->n[r] > 0 ? c->n[r] : 1; /* an empty token reads as one char 0 */
		s->clen[n] = len;
		for (size_t k = 0; k < C; k++) {
			int on = (int32_t)k < len;
			s->cid[k * N + n] = on ? char_id_(s, c->n[r] > 0 ? c->cp[r * C + k] : 0) : 0;
			s->cmask[k * N + n] = (uint8_t)on;
		}
	}
	s->N = N;
	s->C = C;
	return SP_OK;
}

static int cw_forward(void *self, sp_ctx *ctx, const sp_seq *x, sp_seq *y, int train)
{
	charword *s = self;
	size_t W = s->E ? s->E : s->in, H = s->Hc, T = x->T, B = x->B;
	sp_seq cx, cy;
	int rc;
	if (!s->has_ch || s->ch.T != T || s->ch.B != B)
		return sp_err(ctx, SP_EINVAL, "charword: no characters for this (%zu,%zu) batch, expected them from the host before forward (sp_model_ops.chars)", T, B);
	if (s->E ? !x->ids : (!x->x || x->D != s->in))
		return sp_err(ctx, SP_EINVAL, s->E ? "charword: embed=%zu needs ids (one-hot) input, expected the first model stage"
					       : "charword: embed=0 passes vectors through, expected (T,B,%zu) vectors", s->E ? s->E : s->in);
	if ((rc = char_batch_(s, ctx, x)) < 0)
		return rc;
	memset(&cx, 0, sizeof(cx));
	cx.T = s->C;
	cx.B = s->N;
	cx.D = s->V;
	cx.ids = s->cid;
	cx.mask = s->cmask;
	cx.len = s->clen;
	memset(&cy, 0, sizeof(cy));
	if (s->N && (rc = sp_rnn_forward(s->rnn, ctx, &cx, &cy, train)) < 0)
		return rc;
	memset(s->y, 0, T * B * s->out * sizeof(float));
	for (size_t n = 0; n < s->N; n++) {
		size_t r = s->row[n], last = (size_t)s->clen[n] - 1;
		float *o = s->y + r * s->out;
		if (s->E) {
			int32_t id = x->ids[r];
			if (id < 0 || (size_t)id >= s->in)
				return sp_err(ctx, SP_EINPUT, "charword: id %d outside the vocabulary [0, %zu)", id, s->in);
			memcpy(o, s->emb + (size_t)id * W, W * sizeof(float));
		} else {
			memcpy(o, x->x + r * W, W * sizeof(float));
		}
		memcpy(o + W, cy.x + (last * s->N + n) * 2 * H, H * sizeof(float));
		memcpy(o + W + H, cy.x + n * 2 * H + H, H * sizeof(float));
	}
	s->T = T;
	s->B = B;
	s->ids = x->ids;
	s->mask = x->mask;
	s->len = x->len;
	s->trained = train && s->N;
	memset(y, 0, sizeof(*y));
	y->T = T;
	y->B = B;
	y->D = s->out;
	y->x = s->y;
	y->mask = x->mask;
	y->len = x->len;
	return SP_OK;
}

static int cw_backward(void *self, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx)
{
	charword *s = self;
	size_t W = s->E ? s->E : s->in, H = s->Hc;
	sp_seq dcy, dcx;
	int rc;
	memset(dx, 0, sizeof(*dx));
	dx->T = s->T;
	dx->B = s->B;
	dx->D = s->in;
	dx->mask = s->mask;
	dx->len = s->len;
	if (!dy->x || dy->T != s->T || dy->B != s->B || dy->D != s->out)
		return sp_err(ctx, SP_EINVAL, "charword: backward without a matching training forward");
	if (!s->E)
		memset(s->dx, 0, s->T * s->B * s->in * sizeof(float));
	memset(s->dcy, 0, s->C * s->N * 2 * H * sizeof(float));
	for (size_t n = 0; n < s->N; n++) {
		size_t r = s->row[n], last = (size_t)s->clen[n] - 1;
		const float *g = dy->x + r * s->out;
		if (s->E) {
			float *ge = s->gemb + (size_t)s->ids[r] * W;
			for (size_t k = 0; k < W; k++)
				ge[k] += g[k];
		} else {
			memcpy(s->dx + r * W, g, W * sizeof(float));
		}
		memcpy(s->dcy + (last * s->N + n) * 2 * H, g + W, H * sizeof(float));
		memcpy(s->dcy + n * 2 * H + H, g + W + H, H * sizeof(float));
	}
	if (s->trained) {
		memset(&dcy, 0, sizeof(dcy));
		dcy.T = s->C;
		dcy.B = s->N;
		dcy.D = 2 * H;
		dcy.x = s->dcy;
		dcy.mask = s->cmask;
		dcy.len = s->clen;
		if ((rc = sp_rnn_backward(s->rnn, ctx, &dcy, &dcx)) < 0)
			return rc;
		s->trained = 0;
	}
	if (!s->E)
		dx->x = s->dx;
	return SP_OK;
}

/* No state crosses tokens, so there is nothing to carry. */
static int cw_carry(void *self, sp_ctx *ctx, int on, int reset)
{
	(void)self;
	(void)ctx;
	(void)on;
	(void)reset;
	return SP_OK;
}

static int cw_sees_future(const void *self)
{
	(void)self;
	return 0;
}

static int cw_embedding(const void *self)
{
	return ((const charword *)self)->E ? 0 : -1;
}

static const sp_param_spec cw_params[] = {
	{"embed", SP_T_INT, "0",
	 "E > 0: a trainable (V,E) word table for ids; 0: the input vectors pass through", NULL},
	{"char_embed", SP_T_INT, "25", "size of a character's vector", NULL},
	{"char_hidden", SP_T_INT, "25",
	 "hidden units per direction of the character LSTM (the spelling vector is twice that)", NULL},
	{"buckets", SP_T_INT, "512",
	 "rows of the character table: code points below 7/8 of it have their own", NULL},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_model_ops charword_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "charword",
		 "word vector joined by a character BiLSTM's reading of the word's spelling",
		 cw_params},
	.create = cw_create,
	.destroy = cw_destroy,
	.out_dim = cw_out_dim,
	.weights = cw_weights,
	.bind = cw_bind,
	.init = cw_init,
	.forward = cw_forward,
	.backward = cw_backward,
	.carry = cw_carry,
	.sees_future = cw_sees_future,
	.embedding = cw_embedding,
	.chars = cw_chars,
};

SP_PLUGIN_DEFINE(charword, PACKAGE_VERSION,
		 "character-level word features: charword (a character BiLSTM per token)",
		 &charword_ops.base)
