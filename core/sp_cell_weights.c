/*
 * sp_cell_weights.c: the recurrent engine's weights: their names and
 * shapes (the checkpoint keys, see sp_cell.h), binding to the host's
 * arenas, and their initial values.
 */
#include "sp_cell_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_weight_(sp_rnn *r, const char *nm, size_t d0, size_t d1)
{
	char *dst = r->names + r->n_w * NAME_MAX_;
	sp_weight *w = &r->w[r->n_w++];
	snprintf(dst, NAME_MAX_, "%s%s", r->prefix, nm);
	w->name = dst;
	w->ndim = d1 ? 2 : 1;
	w->dim[0] = d0;
	w->dim[1] = d1;
	w->dim[2] = w->dim[3] = 0;
}

void spc_declare_weights(sp_rnn *r)
{
	const sp_rnn_config *cfg = &r->cfg;
	/* The course's vanilla RNN keeps the course's names. */
	int course = (cfg->cell == SP_CELL_RNN_TANH ||
		      cfg->cell == SP_CELL_RNN_RELU) &&
		     r->L == 1 && r->ND == 1 && !cfg->embed;
	size_t GH = r->G * r->H;
	if (cfg->embed)
		add_weight_(r, "embed", cfg->in_dim, cfg->embed);
	for (size_t l = 0; l < r->L; l++) {
		for (size_t d = 0; d < r->ND; d++) {
			cell_ *c = &r->cells[l * r->ND + d];
			char p[24], nm[40];
			c->in = l == 0 ? r->in0 : r->ND * r->H;
			c->reverse = d == 1;
			snprintf(p, sizeof(p), "l%zu%s.", l, d ? "r" : "");
			if (course) {
				add_weight_(r, "Wxh", c->in, GH);
				add_weight_(r, "Whh", r->H, GH);
				add_weight_(r, "b", GH, 0);
				continue;
			}
			snprintf(nm, sizeof(nm), "%sWx", p);
			add_weight_(r, nm, c->in, GH);
			snprintf(nm, sizeof(nm), "%sWh", p);
			add_weight_(r, nm, r->H, GH);
			snprintf(nm, sizeof(nm), "%s%s", p, r->split ? "bx" : "b");
			add_weight_(r, nm, GH, 0);
			if (r->split) {
				snprintf(nm, sizeof(nm), "%sbh", p);
				add_weight_(r, nm, GH, 0);
			}
		}
	}
}

int sp_rnn_weights(const sp_rnn *rnn, const sp_weight **out, size_t *n_out)
{
	*out = rnn->w;
	*n_out = rnn->n_w;
	return SP_OK;
}

int sp_rnn_bind(sp_rnn *rnn, float *const *value, float *const *grad)
{
	size_t k = 0;
	if (rnn->cfg.embed) {
		rnn->E = value[k];
		rnn->dE = grad[k++];
	}
	for (size_t i = 0; i < rnn->L * rnn->ND; i++) {
		cell_ *c = &rnn->cells[i];
		c->Wx = value[k];
		c->dWx = grad[k++];
		c->Wh = value[k];
		c->dWh = grad[k++];
		c->b = value[k];
		c->db = grad[k++];
		if (rnn->split) {
			c->bh = value[k];
			c->dbh = grad[k++];
		}
	}
	rnn->bound = 1;
	return SP_OK;
}

/* Each (rows, H) gate block of a (rows, G*H) matrix: U(±√(6/(fan_in+H))),
 * or orthogonal when `orth` (rows == H). */
static int init_blocks_(sp_ctx *ctx, float *W, size_t rows, size_t G,
			size_t H, int orth)
{
	float bound = (float)sqrt(6.0 / (double)(rows + H));
	float *q;
	if (!orth) {
		sp_fill_uniform(ctx, W, rows * G * H, -bound, bound);
		return SP_OK;
	}
	q = malloc(H * H * sizeof(*q));
	if (!q)
		return sp_err(ctx, SP_ENOMEM, "orthogonal init: out of memory");
	for (size_t g = 0; g < G; g++) {
		int rc = sp_fill_orthogonal(ctx, q, H, H);
		if (rc) {
			free(q);
			return rc;
		}
		for (size_t j = 0; j < H; j++)
			memcpy(W + j * G * H + g * H, q + j * H,
			       H * sizeof(*q));
	}
	free(q);
	return SP_OK;
}

int sp_rnn_init(sp_rnn *rnn, sp_ctx *ctx)
{
	size_t H = rnn->H, G = rnn->G, GH = G * H;
	float k = 1.0f / sqrtf((float)H);
	int rc;
	if (!rnn->bound)
		return sp_err(ctx, SP_EINVAL, "%s: init before bind",
			      rnn->name);
	if (rnn->cfg.embed)
		sp_fill_normal(ctx, rnn->E, rnn->cfg.in_dim * rnn->cfg.embed,
			       1.0f);
	for (size_t i = 0; i < rnn->L * rnn->ND; i++) {
		cell_ *c = &rnn->cells[i];
		if (rnn->cfg.init == SP_CELL_INIT_UNIFORM) {
			sp_fill_uniform(ctx, c->Wx, c->in * GH, -k, k);
			sp_fill_uniform(ctx, c->Wh, H * GH, -k, k);
			sp_fill_uniform(ctx, c->b, GH, -k, k);
			if (c->bh)
				sp_fill_uniform(ctx, c->bh, GH, -k, k);
		} else {
			int orth = rnn->cfg.init == SP_CELL_INIT_ORTHOGONAL;
			rc = init_blocks_(ctx, c->Wx, c->in, G, H, 0);
			if (!rc)
				rc = init_blocks_(ctx, c->Wh, H, G, H, orth);
			if (rc)
				return rc;
			sp_fill_const(c->b, GH, 0.0f);
			if (c->bh)
				sp_fill_const(c->bh, GH, 0.0f);
		}
		/* lstm: start with the forget gate open (Gers et al. 2000) */
		if (rnn->cfg.cell == SP_CELL_LSTM)
			sp_fill_const(c->b + H, H, rnn->cfg.forget_bias);
		/* gru: tilt z towards keeping h(t-1), the GRU's memory; z is
		 * σ(xz + bx_z + hz + bh_z), so shifting bx_z shifts it all */
		if (rnn->cfg.cell == SP_CELL_GRU && rnn->cfg.update_bias != 0)
			for (size_t j = 0; j < H; j++)
				c->b[H + j] += rnn->cfg.update_bias;
	}
	return SP_OK;
}
