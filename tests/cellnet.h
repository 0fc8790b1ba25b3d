/*
 * cellnet.h: a test network for the recurrent engine's tests
 * (t_grad_cell, t_cell_paths, t_cell_contracts): the engine, host-side
 * arenas for its weights and one random batch, with the loss L = Σ y⊙R
 * (dy = R) the gradient checks use.  Header-only, like gradcheck.h.
 */
#ifndef SP_TEST_CELLNET_H
#define SP_TEST_CELLNET_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cell.h"
#include "sp_ctx.h"

enum { MAXW = 64 };

/* ------------------------------------------------------------------ */
/* A test network: engine + host-side arenas + one batch               */
/* ------------------------------------------------------------------ */
typedef struct net {
	sp_ctx *ctx;
	sp_rnn *rnn;
	sp_rnn_config cfg;
	const sp_weight *w;
	size_t n_w, wn[MAXW], total;
	float *val[MAXW], *grad[MAXW];
	float *vblock, *gblock;
	size_t T, B, D, out, nstate;
	float *x;           /* (T,B,D) dense input, or NULL */
	int32_t *ids;       /* (T,B) ids input, or NULL */
	uint8_t *mask;      /* (T,B) or NULL */
	int32_t *len;
	float *R;           /* (T,B,out) */
	float *h0, *c0;     /* (layers*ND,B,H) or NULL */
	int train;
	uint64_t rs[4];     /* RNG state restored before each forward */
} net;

static inline size_t numel_(const sp_weight *w)
{
	size_t n = 1;
	for (int i = 0; i < w->ndim; i++)
		n *= w->dim[i];
	return n;
}

static inline void fill_(sp_ctx *ctx, float *v, size_t n, float lo, float hi)
{
	sp_fill_uniform(ctx, v, n, lo, hi);
}

/* Builds engine + batch.  ids_in: input ids in [0, cfg->in_dim).
 * lens: B lengths (NULL = no mask).  with_h0: random initial states. */
static inline int net_new_(net *n, const sp_rnn_config *cfg, size_t T, size_t B,
		    int ids_in, const int32_t *lens, int with_h0,
		    uint64_t seed)
{
	size_t off = 0, ND = cfg->bidirectional ? 2 : 1;
	memset(n, 0, sizeof(*n));
	if (sp_ctx_new(&n->ctx, seed) || sp_rnn_new(&n->rnn, n->ctx, cfg))
		return -1;
	n->cfg = *cfg;
	sp_rnn_weights(n->rnn, &n->w, &n->n_w);
	for (size_t i = 0; i < n->n_w; i++)
		n->total += (n->wn[i] = numel_(&n->w[i]));
	n->vblock = calloc(n->total, sizeof(float));
	n->gblock = calloc(n->total, sizeof(float));
	for (size_t i = 0; i < n->n_w; i++) {
		n->val[i] = n->vblock + off;
		n->grad[i] = n->gblock + off;
		off += n->wn[i];
	}
	sp_rnn_bind(n->rnn, n->val, n->grad);
	if (sp_rnn_init(n->rnn, n->ctx))
		return -1;
	n->T = T;
	n->B = B;
	n->D = cfg->in_dim;
	n->out = sp_rnn_out_dim(n->rnn);
	if (ids_in) {
		n->ids = calloc(T * B, sizeof(*n->ids));
		for (size_t i = 0; i < T * B; i++)
			n->ids[i] = (int32_t)sp_rng_below(n->ctx, n->D);
	} else {
		n->x = calloc(T * B * n->D, sizeof(float));
		fill_(n->ctx, n->x, T * B * n->D, -1, 1);
	}
	if (lens) {
		n->mask = calloc(T * B, 1);
		n->len = calloc(B, sizeof(*n->len));
		for (size_t b = 0; b < B; b++) {
			n->len[b] = lens[b];
			for (size_t t = 0; t < T; t++) {
				n->mask[t * B + b] = (int32_t)t < lens[b];
				/* padding holds junk the engine must ignore */
				if (t >= (size_t)lens[b] && n->ids)
					n->ids[t * B + b] = -7;
			}
		}
	}
	n->R = calloc(T * B * n->out, sizeof(float));
	fill_(n->ctx, n->R, T * B * n->out, -1, 1);
	n->nstate = cfg->layers * ND * B * cfg->hidden;
	if (with_h0) {
		n->h0 = calloc(n->nstate, sizeof(float));
		fill_(n->ctx, n->h0, n->nstate, -0.8f, 0.8f);
		if (cfg->cell == SP_CELL_LSTM) {
			n->c0 = calloc(n->nstate, sizeof(float));
			fill_(n->ctx, n->c0, n->nstate, -1, 1);
		}
	}
	n->train = 1;
	sp_rng_get_state(n->ctx, n->rs);
	return 0;
}

static inline void net_free_(net *n)
{
	sp_rnn_free(n->rnn);
	sp_ctx_free(n->ctx);
	free(n->vblock);
	free(n->gblock);
	free(n->x);
	free(n->ids);
	free(n->mask);
	free(n->len);
	free(n->R);
	free(n->h0);
	free(n->c0);
}

static inline sp_seq input_(const net *n)
{
	sp_seq s = {n->T, n->B, n->D, n->x, n->ids, n->mask, n->len};
	return s;
}

/* Forward from the saved RNG state; y borrowed from the engine. */
static inline int fwd_(net *n, sp_seq *y)
{
	sp_seq x = input_(n);
	sp_rng_set_state(n->ctx, n->rs);
	return sp_rnn_forward_ex(n->rnn, n->ctx, &x, y, n->train, n->h0,
				 n->c0);
}

static inline double loss_(void *payload)
{
	net *n = payload;
	sp_seq y;
	double L = 0;
	if (fwd_(n, &y))
		return NAN;
	for (size_t i = 0; i < n->T * n->B * n->out; i++)
		L += (double)y.x[i] * n->R[i];
	return L;
}

/* Zeroes the grads, runs forward + backward (dy = R); copies dx, dh0,
 * dc0 into the caller's buffers when given. */
static inline int grads_(net *n, float *dx, float *dh0, float *dc0)
{
	sp_seq y, dy, dxs;
	int rc;
	memset(n->gblock, 0, n->total * sizeof(float));
	if ((rc = fwd_(n, &y)))
		return rc;
	dy = y;
	dy.x = n->R;
	if ((rc = sp_rnn_backward_ex(n->rnn, n->ctx, &dy, &dxs, dh0, dc0)))
		return rc;
	if (dx && dxs.x)
		memcpy(dx, dxs.x, n->T * n->B * n->D * sizeof(float));
	return 0;
}

static inline sp_rnn_config cfg_(sp_cell_kind kind, size_t I, size_t H)
{
	sp_rnn_config c;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c); /* every field is read: word_dropout, update_bias */
	c.name = "test";
	c.cell = kind;
	c.in_dim = I;
	c.hidden = H;
	c.layers = 1;
	c.forget_bias = 1.0f;
	return c;
}

#endif /* SP_TEST_CELLNET_H */
