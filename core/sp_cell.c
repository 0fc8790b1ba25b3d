/*
 * sp_cell.c: the recurrent engine (RNN, LSTM, GRU; stacked, bidirectional,
 * masked), forward and backward through time.
 *
 * The cells, with row vectors x (1,I), h (1,H) and σ the logistic sigmoid
 * (see sp_cell.h for the weight layout):
 *
 *   rnn   h(t) = φ(x(t)·Wx + h(t-1)·Wh + b)                φ = tanh | relu
 *
 *   lstm  [i|f|g|o] = x(t)·Wx + h(t-1)·Wh + b
 *         i, f, o = σ(.), g = tanh(.)
 *         c(t) = f⊙c(t-1) + i⊙g,   h(t) = o⊙tanh(c(t))
 *         (Hochreiter & Schmidhuber 1997; Gers et al. 2000 forget gate)
 *
 *   gru   [xr|xz|xn] = x(t)·Wx + bx,  [hr|hz|hn] = h(t-1)·Wh + bh
 *         r = σ(xr + hr),  z = σ(xz + hz),  n = tanh(xn + r⊙hn)
 *         h(t) = (1-z)⊙n + z⊙h(t-1)
 *         (Cho et al. 2014, in PyTorch's torch.nn.GRU form: r multiplies
 *         hn AFTER the product, so Wh stays one (H,3H) GEMM per step)
 *
 * Where the time goes (T steps, batch B, M = T*B rows):
 *
 *   forward   gates = X·Wx + b              ONE sgemm (M, G*H, I)
 *             for each t: gates(t) += h(t-1)·Wh   one sgemm (B, G*H, H)
 *                         fused element-wise gate math, row by row
 *   backward  for each t (reversed): dG(t) from ∂L/∂h(t) (+ ∂L/∂c(t))
 *                         ∂L/∂h(t-1) = [direct part] + dG(t)·Whᵀ  one sgemm
 *             then over all steps at once, with the stored h and dG:
 *             dWh += Hprevᵀ·dG,  dWx += Xᵀ·dG,  db += Σ dG,
 *             dX = dG·Wxᵀ                   three sgemm (M rows each)
 *
 * One-hot input (ids) into Wx: x(t)·Wx is row ids[t] of Wx, a row copy,
 * and dWx gets dG(t) added to that row (scatter-add).  The embedding table
 * works the same way one level down.
 *
 * Masks: at a padded step of row b the state is carried unchanged, the
 * output is 0, and in backward dG = 0 there while ∂L/∂h passes through
 * unchanged; so padding contributes nothing to any gradient.  Running the
 * reverse direction from t = T-1 down over right padding therefore starts
 * each sequence from zero state at its own last real step.
 *
 * Memory: every cache buffer is carved from one block following
 * sp_rnn_sizes_of (the only sizing function).  The block is allocated on
 * the first forward and replaced only when a batch needs more; forward
 * and backward themselves never allocate.  Not here: losses, optimizers,
 * the plugin's key = value parameters (plugins/rnn.c).
 */
#include "sp_cell.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_blas.h"

#define ALIGN_ 64          /* bytes; cache-line and AVX-512 friendly */
#define NAME_MAX_ 80       /* longest weight name: prefix (< 32) + 40 */

/* One layer in one direction: its bound weights and its cache views. */
typedef struct cell_ {
	size_t in;          /* input width of this layer */
	int reverse;        /* processes t = T-1 .. 0 */
	float *Wx, *Wh, *b, *bh;     /* (in,GH) (H,GH) (GH) (GH, gru only) */
	float *dWx, *dWh, *db, *dbh; /* their gradients (accumulated) */
	float *gates;    /* (T,B,GH) */
	float *dgates;   /* (T,B,GH) */
	float *dgates_h; /* (T,B,GH) gru; else == dgates */
	float *h;        /* (T+1,B,H) */
	float *c;        /* (T+1,B,H) lstm */
	float *tc;       /* (T,B,H) lstm */
	float *hn;       /* (T,B,H) gru */
	float *dh_norm;  /* (T) */
} cell_;

struct sp_rnn {
	sp_rnn_config cfg;  /* name/prefix point at the copies below */
	char name[32];
	char prefix[32];
	size_t G, H, L, ND, in0; /* in0: width of layer 0's input */
	/* declared weights */
	sp_weight *w;
	size_t n_w;
	char *names;        /* n_w * NAME_MAX_ */
	float *E, *dE;      /* (V,E) embedding table, when cfg.embed > 0 */
	cell_ *cells;       /* L*ND, cell (l,d) at l*ND + d */
	/* cache views, carved for (T,B) */
	float **y, **dy, **drop; /* per layer */
	float *x0, *dx0, *drop0;
	float *s_dh, *s_dhp, *s_dc, *s_hg;
	int32_t *ids;
	uint8_t *mask;
	int32_t *len;
	void *block;
	size_t block_bytes;
	/* what the last forward was */
	size_t T, B;
	int ids_in, has_mask, have_fwd, trained, dropped, dropped0, have_bwd;
	int bound;
	/* carried state (forward direction, per layer (B,H)) */
	int carry_on, carry_valid;
	size_t carry_B, carry_cap;
	float *carry_h, *carry_c;
	float *trace_buf;   /* lazily sized by trace (not a hot path) */
};

size_t sp_cell_gates(sp_cell_kind kind)
{
	switch (kind) {
	case SP_CELL_RNN_TANH:
	case SP_CELL_RNN_RELU: return 1;
	case SP_CELL_LSTM: return 4;
	case SP_CELL_GRU: return 3;
	}
	return 0;
}

static const char *cfg_name_(const sp_rnn_config *cfg)
{
	return cfg->name ? cfg->name : "rnn";
}

static int check_config_(sp_ctx *ctx, const sp_rnn_config *cfg)
{
	const char *nm = cfg_name_(cfg);
	if (sp_cell_gates(cfg->cell) == 0)
		return sp_err(ctx, SP_EINVAL, "%s: unknown cell kind %d", nm,
			      (int)cfg->cell);
	if (cfg->hidden == 0)
		return sp_err(ctx, SP_EINVAL, "%s: hidden must be > 0", nm);
	if (cfg->layers == 0)
		return sp_err(ctx, SP_EINVAL, "%s: layers must be >= 1", nm);
	if (cfg->in_dim == 0)
		return sp_err(ctx, SP_EINVAL, "%s: input dimension is 0", nm);
	if (!(cfg->dropout >= 0 && cfg->dropout < 1))
		return sp_err(ctx, SP_EINVAL,
			      "%s: dropout=%g must be in [0, 1)", nm,
			      (double)cfg->dropout);
	if (!(cfg->embed_dropout >= 0 && cfg->embed_dropout < 1))
		return sp_err(ctx, SP_EINVAL,
			      "%s: embed_dropout=%g must be in [0, 1)", nm,
			      (double)cfg->embed_dropout);
	if (!isfinite(cfg->forget_bias))
		return sp_err(ctx, SP_EINVAL, "%s: forget_bias is not finite",
			      nm);
	if (cfg->init != SP_CELL_INIT_UNIFORM &&
	    cfg->init != SP_CELL_INIT_XAVIER &&
	    cfg->init != SP_CELL_INIT_ORTHOGONAL)
		return sp_err(ctx, SP_EINVAL, "%s: unknown init %d", nm,
			      (int)cfg->init);
	if (cfg->prefix && strlen(cfg->prefix) >= 32)
		return sp_err(ctx, SP_EINVAL, "%s: weight name prefix too long",
			      nm);
	return SP_OK;
}

/* a*b, or SIZE_MAX on overflow (which then fails the size check). */
static size_t mul_(size_t a, size_t b)
{
	if (a && b > SIZE_MAX / a)
		return SIZE_MAX;
	return a * b;
}

/* ------------------------------------------------------------------ */
/* Sizing and carving: the one place that knows every buffer's size    */
/* ------------------------------------------------------------------ */

int sp_rnn_sizes_of(sp_ctx *ctx, const sp_rnn_config *cfg, size_t T,
		    size_t B, int ids, sp_rnn_sizes *out)
{
	int rc = check_config_(ctx, cfg);
	size_t G, H, GH, ND, M, in0;
	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	G = sp_cell_gates(cfg->cell);
	H = cfg->hidden;
	GH = G * H;
	ND = cfg->bidirectional ? 2 : 1;
	M = mul_(T, B);
	in0 = ids ? cfg->embed : cfg->in_dim;
	out->gates = mul_(M, GH);
	out->dgates = out->gates;
	out->dgates_h = cfg->cell == SP_CELL_GRU ? out->gates : 0;
	out->h = mul_(mul_(T + 1, B), H);
	out->c = cfg->cell == SP_CELL_LSTM ? out->h : 0;
	out->tc = cfg->cell == SP_CELL_LSTM ? mul_(M, H) : 0;
	out->hn = cfg->cell == SP_CELL_GRU ? mul_(M, H) : 0;
	out->dh_norm = T;
	out->y = mul_(M, ND * H);
	out->dy = cfg->layers > 1 ? out->y : 0;
	out->drop = (cfg->layers > 1 && cfg->dropout > 0) ? out->y : 0;
	out->x0 = mul_(M, in0);
	out->dx0 = out->x0;
	out->drop0 = cfg->embed_dropout > 0 ? out->x0 : 0;
	out->step = mul_(B, GH);
	out->ids = ids ? M : 0;
	out->mask = M;
	out->len = B;
	/* The byte total walks the buffers exactly as carve_() does. */
	{
		size_t n = 0, L = cfg->layers, f = sizeof(float);
		size_t per_cell[] = {out->gates, out->dgates, out->dgates_h,
				     out->h, out->c, out->tc, out->hn,
				     out->dh_norm};
		size_t per_layer[] = {out->y, out->dy, out->drop};
		size_t last[] = {out->x0 * f, out->dx0 * f, out->drop0 * f,
				 out->step * f, out->step * f, out->step * f,
				 out->step * f, out->ids * 4, out->mask,
				 out->len * 4};
		for (size_t l = 0; l < L * ND; l++)
			for (size_t i = 0; i < 8; i++)
				n += (mul_(per_cell[i], f) + ALIGN_ - 1) /
				     ALIGN_ * ALIGN_;
		for (size_t l = 0; l < L; l++)
			for (size_t i = 0; i < (l + 1 < L ? 3u : 1u); i++)
				n += (mul_(per_layer[i], f) + ALIGN_ - 1) /
				     ALIGN_ * ALIGN_;
		for (size_t i = 0; i < 10; i++)
			n += (last[i] + ALIGN_ - 1) / ALIGN_ * ALIGN_;
		out->bytes = n;
	}
	if (out->gates == SIZE_MAX || out->h == SIZE_MAX ||
	    out->y == SIZE_MAX || out->x0 == SIZE_MAX ||
	    out->bytes > SIZE_MAX / 4)
		return sp_err(ctx, SP_EINVAL, "%s: batch T=%zu B=%zu too large",
			      cfg_name_(cfg), T, B);
	return SP_OK;
}

/* Next n bytes of the block at *off, 64-byte aligned; NULL when n == 0. */
static void *take_(char *base, size_t *off, size_t n)
{
	void *p = n ? base + *off : NULL;
	*off += (n + ALIGN_ - 1) / ALIGN_ * ALIGN_;
	return p;
}

/* Points every cache view into the block, in sp_rnn_sizes_of's order;
 * returns the bytes taken, which must equal s->bytes. */
static size_t carve_(sp_rnn *r, const sp_rnn_sizes *s)
{
	char *base = r->block;
	size_t off = 0, f = sizeof(float);
	for (size_t i = 0; i < r->L * r->ND; i++) {
		cell_ *c = &r->cells[i];
		c->gates = take_(base, &off, s->gates * f);
		c->dgates = take_(base, &off, s->dgates * f);
		c->dgates_h = take_(base, &off, s->dgates_h * f);
		if (!c->dgates_h)
			c->dgates_h = c->dgates;
		c->h = take_(base, &off, s->h * f);
		c->c = take_(base, &off, s->c * f);
		c->tc = take_(base, &off, s->tc * f);
		c->hn = take_(base, &off, s->hn * f);
		c->dh_norm = take_(base, &off, s->dh_norm * f);
	}
	for (size_t l = 0; l < r->L; l++) {
		r->y[l] = take_(base, &off, s->y * f);
		if (l + 1 == r->L)
			break; /* the top layer's dy is the caller's */
		r->dy[l] = take_(base, &off, s->dy * f);
		r->drop[l] = take_(base, &off, s->drop * f);
	}
	r->x0 = take_(base, &off, s->x0 * f);
	r->dx0 = take_(base, &off, s->dx0 * f);
	r->drop0 = take_(base, &off, s->drop0 * f);
	r->s_dh = take_(base, &off, s->step * f);
	r->s_dhp = take_(base, &off, s->step * f);
	r->s_dc = take_(base, &off, s->step * f);
	r->s_hg = take_(base, &off, s->step * f);
	r->ids = take_(base, &off, s->ids * 4);
	r->mask = take_(base, &off, s->mask);
	r->len = take_(base, &off, s->len * 4);
	return off;
}

/* Makes the cache fit (T,B) (reallocating only to grow) and carves it. */
static int ensure_cache_(sp_rnn *r, sp_ctx *ctx, size_t T, size_t B,
			 int ids)
{
	sp_rnn_sizes s;
	int rc = sp_rnn_sizes_of(ctx, &r->cfg, T, B, ids, &s);
	if (rc)
		return rc;
	if (s.bytes > r->block_bytes) {
		free(r->block);
		r->block = aligned_alloc(ALIGN_, s.bytes);
		r->block_bytes = r->block ? s.bytes : 0;
		if (!r->block)
			return sp_err(ctx, SP_ENOMEM,
				      "%s: out of memory for a T=%zu B=%zu "
				      "cache (%zu bytes)",
				      r->name, T, B, s.bytes);
	}
	if (carve_(r, &s) != s.bytes)
		return sp_err(ctx, SP_ERROR,
			      "%s: internal error: cache layout and sizes "
			      "disagree", r->name);
	return SP_OK;
}

size_t sp_rnn_cache_bytes(const sp_rnn *rnn)
{
	return rnn ? rnn->block_bytes : 0;
}

/* ------------------------------------------------------------------ */
/* Life cycle, weights                                                 */
/* ------------------------------------------------------------------ */

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

int sp_rnn_new(sp_rnn **out, sp_ctx *ctx, const sp_rnn_config *cfg)
{
	sp_rnn *r;
	size_t nw;
	int rc = check_config_(ctx, cfg);
	*out = NULL;
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory",
			      cfg_name_(cfg));
	r->cfg = *cfg;
	snprintf(r->name, sizeof(r->name), "%s", cfg_name_(cfg));
	snprintf(r->prefix, sizeof(r->prefix), "%s",
		 cfg->prefix ? cfg->prefix : "");
	r->cfg.name = r->name;
	r->cfg.prefix = r->prefix;
	r->G = sp_cell_gates(cfg->cell);
	r->H = cfg->hidden;
	r->L = cfg->layers;
	r->ND = cfg->bidirectional ? 2 : 1;
	r->in0 = cfg->embed ? cfg->embed : cfg->in_dim;

	nw = (cfg->embed ? 1 : 0) +
	     r->L * r->ND * (cfg->cell == SP_CELL_GRU ? 4 : 3);
	r->w = calloc(nw, sizeof(*r->w));
	r->names = calloc(nw, NAME_MAX_);
	r->cells = calloc(r->L * r->ND, sizeof(*r->cells));
	r->y = calloc(r->L, sizeof(*r->y));
	r->dy = calloc(r->L, sizeof(*r->dy));
	r->drop = calloc(r->L, sizeof(*r->drop));
	if (!r->w || !r->names || !r->cells || !r->y || !r->dy || !r->drop) {
		rc = sp_err(ctx, SP_ENOMEM, "%s: out of memory", r->name);
		goto fail;
	}

	if (cfg->embed)
		add_weight_(r, "embed", cfg->in_dim, cfg->embed);
	{
		/* The course's vanilla RNN keeps the course's names. */
		int course = (cfg->cell == SP_CELL_RNN_TANH ||
			      cfg->cell == SP_CELL_RNN_RELU) &&
			     r->L == 1 && r->ND == 1 && !cfg->embed;
		size_t GH = r->G * r->H;
		for (size_t l = 0; l < r->L; l++) {
			for (size_t d = 0; d < r->ND; d++) {
				cell_ *c = &r->cells[l * r->ND + d];
				char p[24], nm[40];
				c->in = l == 0 ? r->in0 : r->ND * r->H;
				c->reverse = d == 1;
				snprintf(p, sizeof(p), "l%zu%s.", l,
					 d ? "r" : "");
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
				if (cfg->cell == SP_CELL_GRU) {
					snprintf(nm, sizeof(nm), "%sbx", p);
					add_weight_(r, nm, GH, 0);
					snprintf(nm, sizeof(nm), "%sbh", p);
					add_weight_(r, nm, GH, 0);
				} else {
					snprintf(nm, sizeof(nm), "%sb", p);
					add_weight_(r, nm, GH, 0);
				}
			}
		}
	}
	*out = r;
	return SP_OK;
fail:
	sp_rnn_free(r);
	return rc;
}

void sp_rnn_free(sp_rnn *rnn)
{
	if (!rnn)
		return;
	free(rnn->block);
	free(rnn->carry_h);
	free(rnn->carry_c);
	free(rnn->trace_buf);
	free(rnn->w);
	free(rnn->names);
	free(rnn->cells);
	free(rnn->y);
	free(rnn->dy);
	free(rnn->drop);
	free(rnn);
}

size_t sp_rnn_out_dim(const sp_rnn *rnn)
{
	return rnn->ND * rnn->H;
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
		if (rnn->cfg.cell == SP_CELL_GRU) {
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
	}
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Element-wise gate math, one batch row at a time                     */
/* ------------------------------------------------------------------ */

/*
 * tanh for the gate loops.  glibc's tanhf goes through expm1f and took
 * about 30% of an LSTM training step; this one costs one expf (3x faster)
 * and stays within 2.6 ulp of the exact tanh over all floats:
 *   |x| < 0.25   the odd Taylor series to x⁹ (truncation < 3e-9 relative)
 *   otherwise    tanh|x| = (1 - e)/(1 + e), e = exp(-2|x|) <= 0.61, so
 *                1 - e does not cancel.
 * (A candidate for sp_act.h.)
 */
static inline float tanh_(float x)
{
	float ax = fabsf(x);
	if (ax < 0.25f) {
		float x2 = x * x;
		float p = -17.0f / 315 + x2 * (62.0f / 2835);
		return x + x * x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * p));
	} else {
		float e = expf(-2.0f * ax);
		return copysignf((1.0f - e) / (1.0f + e), x);
	}
}

/*
 * σ(x) = 1/(1 + e^-x) without a branch.  sp_sigmoidf splits by sign so
 * that expf never overflows; on gate pre-activations the sign is a coin
 * toss, and the mispredicted branch made it 4x slower (7 ns vs 1.7 ns).
 * Overflow is harmless here: e^-x = inf gives exactly 0 (the true value
 * is below 2e-38 there).  Max abs error 8e-8.  (A candidate for
 * sp_act.h, as is tanh_.)
 */
static inline float sigmoid_(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* rnn forward: a (H) pre-activation -> h = φ(a), also stored back in a. */
static void rnn_fwd_row_(float *a, float *h, size_t H, int relu)
{
	if (relu)
		for (size_t k = 0; k < H; k++)
			a[k] = a[k] > 0.0f ? a[k] : 0.0f;
	else
		for (size_t k = 0; k < H; k++)
			a[k] = tanh_(a[k]);
	memcpy(h, a, H * sizeof(*h));
}

/* rnn backward: dA = ∂L/∂h ⊙ φ'(a), with φ' from h: 1-h² or [h > 0]. */
static void rnn_bwd_row_(const float *h, const float *dh, float *dA,
			 size_t H, int relu)
{
	if (relu)
		for (size_t k = 0; k < H; k++)
			dA[k] = h[k] > 0.0f ? dh[k] : 0.0f;
	else
		for (size_t k = 0; k < H; k++)
			dA[k] = dh[k] * (1.0f - h[k] * h[k]);
}

/* lstm forward: a (4H) = [i|f|g|o] pre-activations, activated in place;
 * c = f⊙cp + i⊙g, tc = tanh(c), h = o⊙tc. */
static void lstm_fwd_row_(float *a, const float *cp, float *c, float *tc,
			  float *h, size_t H)
{
	float *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
	for (size_t k = 0; k < H; k++) {
		i[k] = sigmoid_(i[k]);
		f[k] = sigmoid_(f[k]);
		g[k] = tanh_(g[k]);
		o[k] = sigmoid_(o[k]);
		c[k] = f[k] * cp[k] + i[k] * g[k];
		tc[k] = tanh_(c[k]);
		h[k] = o[k] * tc[k];
	}
}

/*
 * lstm backward for one row.  In: activations a = [i|f|g|o], c(t-1) cp,
 * tanh(c(t)) tc, dh = ∂L/∂h(t), dc = ∂L/∂c(t) from step t+1.
 * Out: dA (4H) = ∂L/∂[pre-activations], dc := ∂L/∂c(t-1).
 *   dc(t)  = dc + dh⊙o⊙(1 - tc²)
 *   di = dc(t)⊙g    df = dc(t)⊙c(t-1)    dg = dc(t)⊙i    do = dh⊙tc
 *   dc(t-1) = dc(t)⊙f;  then through σ' = s(1-s) and tanh' = 1-g².
 */
static void lstm_bwd_row_(const float *a, const float *cp, const float *tc,
			  const float *dh, float *dc, float *dA, size_t H)
{
	const float *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
	for (size_t k = 0; k < H; k++) {
		float dct = dc[k] + dh[k] * o[k] * (1.0f - tc[k] * tc[k]);
		dA[k] = dct * g[k] * i[k] * (1.0f - i[k]);
		dA[H + k] = dct * cp[k] * f[k] * (1.0f - f[k]);
		dA[2 * H + k] = dct * i[k] * (1.0f - g[k] * g[k]);
		dA[3 * H + k] = dh[k] * tc[k] * o[k] * (1.0f - o[k]);
		dc[k] = dct * f[k];
	}
}

/* gru forward: a (3H) = [xr|xz|xn] (x side with bx), hg (3H) = [hr|hz|hn]
 * (h side with bh).  a becomes [r|z|n]; hn is kept for backward. */
static void gru_fwd_row_(float *a, const float *hg, const float *hp,
			 float *hn, float *h, size_t H)
{
	float *r = a, *z = a + H, *n = a + 2 * H;
	for (size_t k = 0; k < H; k++) {
		r[k] = sigmoid_(r[k] + hg[k]);
		z[k] = sigmoid_(z[k] + hg[H + k]);
		hn[k] = hg[2 * H + k];
		n[k] = tanh_(n[k] + r[k] * hn[k]);
		h[k] = (1.0f - z[k]) * n[k] + z[k] * hp[k];
	}
}

/*
 * gru backward for one row.  In: a = [r|z|n], h(t-1) hp, hn, dh.
 *   dn = dh⊙(1-z)   dz = dh⊙(h(t-1) - n)   dan = dn⊙(1-n²)   dr = dan⊙hn
 * Out: dA (3H) x side [dr·σ' | dz·σ' | dan], dAh (3H) h side, the same
 * but dan⊙r for n, and dhp := the direct part of ∂L/∂h(t-1), dh⊙z (the
 * caller adds dAh·Whᵀ).
 */
static void gru_bwd_row_(const float *a, const float *hp, const float *hn,
			 const float *dh, float *dA, float *dAh, float *dhp,
			 size_t H)
{
	const float *r = a, *z = a + H, *n = a + 2 * H;
	for (size_t k = 0; k < H; k++) {
		float dn = dh[k] * (1.0f - z[k]);
		float dz = dh[k] * (hp[k] - n[k]);
		float dan = dn * (1.0f - n[k] * n[k]);
		float dar = dan * hn[k] * r[k] * (1.0f - r[k]);
		float daz = dz * z[k] * (1.0f - z[k]);
		dA[k] = dAh[k] = dar;
		dA[H + k] = dAh[H + k] = daz;
		dA[2 * H + k] = dan;
		dAh[2 * H + k] = dan * r[k];
		dhp[k] = dh[k] * z[k];
	}
}

/* out[j] += Σ_i A[i][j] over the M rows of A (M, N). */
static void colsum_add_(const float *A, size_t M, size_t N, float *out)
{
	for (size_t i = 0; i < M; i++)
		for (size_t j = 0; j < N; j++)
			out[j] += A[i * N + j];
}

/* ------------------------------------------------------------------ */
/* One layer, one direction, all steps                                 */
/* ------------------------------------------------------------------ */

/*
 * Forward.  xin (T*B, in) the layer input, or NULL with ids (T*B) when
 * the input is one-hot; y (T*B, ldy) receives h in columns [0,H) of each
 * row; h0, c0 (B,H) the initial state or NULL for zero.
 */
static void cell_forward_(const sp_rnn *r, cell_ *c, size_t T, size_t B,
			  const float *xin, const int32_t *ids,
			  const uint8_t *mask, float *y, size_t ldy,
			  const float *h0, const float *c0)
{
	const size_t H = r->H, GH = r->G * H, M = T * B;
	const sp_cell_kind kind = r->cfg.cell;
	float *hinit = c->h + (c->reverse ? M * H : 0);

	/* 1. The input projection of every step in one product:
	 *    gates (M,GH) = xin (M,in) · Wx (in,GH) + b. */
	for (size_t i = 0; i < M; i++)
		memcpy(c->gates + i * GH, c->b, GH * sizeof(float));
	if (xin) {
		sp_gemm(0, 0, M, GH, c->in, 1.0f, xin, c->in, c->Wx, GH, 1.0f,
			c->gates, GH);
	} else {
		/* one-hot: x(t)·Wx is row ids[t] of Wx */
		for (size_t i = 0; i < M; i++) {
			const float *w = c->Wx + (size_t)ids[i] * GH;
			float *g = c->gates + i * GH;
			if (!mask[i])
				continue;
			for (size_t k = 0; k < GH; k++)
				g[k] += w[k];
		}
	}

	/* 2. The initial state: h[0] forward, h[T] reverse. */
	if (h0)
		memcpy(hinit, h0, B * H * sizeof(float));
	else
		memset(hinit, 0, B * H * sizeof(float));
	if (kind == SP_CELL_LSTM) {
		float *cinit = c->c + (c->reverse ? M * H : 0);
		if (c0)
			memcpy(cinit, c0, B * H * sizeof(float));
		else
			memset(cinit, 0, B * H * sizeof(float));
	}

	/* 3. The recurrence: one product per step, then the gate math. */
	for (size_t s = 0; s < T; s++) {
		size_t t = c->reverse ? T - 1 - s : s;
		size_t prev = c->reverse ? t + 1 : t;
		size_t cur = c->reverse ? t : t + 1;
		const float *hp = c->h + prev * B * H;
		float *hc = c->h + cur * B * H;
		float *a = c->gates + t * B * GH;
		float *hg = r->s_hg;

		if (kind == SP_CELL_GRU) {
			/* hg (B,GH) = h(t-1)·Wh + bh, kept apart for r⊙hn */
			for (size_t b = 0; b < B; b++)
				memcpy(hg + b * GH, c->bh, GH * sizeof(float));
			sp_gemm(0, 0, B, GH, H, 1.0f, hp, H, c->Wh, GH, 1.0f,
				hg, GH);
		} else {
			/* a (B,GH) += h(t-1) (B,H) · Wh (H,GH) */
			sp_gemm(0, 0, B, GH, H, 1.0f, hp, H, c->Wh, GH, 1.0f,
				a, GH);
		}
		for (size_t b = 0; b < B; b++) {
			size_t row = t * B + b;
			float *yr = y + row * ldy;
			if (!mask[row]) {
				/* padding: carry the state, output 0 */
				memcpy(hc + b * H, hp + b * H,
				       H * sizeof(float));
				if (kind == SP_CELL_LSTM) {
					memcpy(c->c + cur * B * H + b * H,
					       c->c + prev * B * H + b * H,
					       H * sizeof(float));
					memset(c->tc + row * H, 0,
					       H * sizeof(float));
				}
				if (kind == SP_CELL_GRU)
					memset(c->hn + row * H, 0,
					       H * sizeof(float));
				memset(a + b * GH, 0, GH * sizeof(float));
				memset(yr, 0, H * sizeof(float));
				continue;
			}
			switch (kind) {
			case SP_CELL_RNN_TANH:
			case SP_CELL_RNN_RELU:
				rnn_fwd_row_(a + b * GH, hc + b * H, H,
					     kind == SP_CELL_RNN_RELU);
				break;
			case SP_CELL_LSTM:
				lstm_fwd_row_(a + b * GH,
					      c->c + prev * B * H + b * H,
					      c->c + cur * B * H + b * H,
					      c->tc + row * H, hc + b * H, H);
				break;
			case SP_CELL_GRU:
				gru_fwd_row_(a + b * GH, hg + b * GH,
					     hp + b * H, c->hn + row * H,
					     hc + b * H, H);
				break;
			}
			memcpy(yr, hc + b * H, H * sizeof(float));
		}
	}
}

/*
 * Backward.  dy (T*B, ldy): ∂L/∂y in columns [0,H); xin/ids as in
 * forward.  Accumulates dWx, dWh, db (dbh); dxin (T*B, in) = dG·Wxᵀ,
 * written (beta 0) or added (beta 1), when not NULL; dh0, dc0 (B,H) get
 * ∂L/∂(initial state) when not NULL.
 */
static void cell_backward_(sp_rnn *r, cell_ *c, size_t T, size_t B,
			   const float *xin, const int32_t *ids,
			   const uint8_t *mask, const float *dy, size_t ldy,
			   float *dxin, float beta, float *dh0, float *dc0)
{
	const size_t H = r->H, GH = r->G * H, M = T * B;
	const sp_cell_kind kind = r->cfg.cell;
	float *dh = r->s_dh, *dhp = r->s_dhp, *dc = r->s_dc;

	/* ∂L/∂h and ∂L/∂c flowing back from beyond the last step: none */
	memset(dh, 0, B * H * sizeof(float));
	memset(dc, 0, B * H * sizeof(float));
	for (size_t s = 0; s < T; s++) {
		size_t t = c->reverse ? s : T - 1 - s;
		size_t prev = c->reverse ? t + 1 : t;
		const float *hp = c->h + prev * B * H;
		const float *a = c->gates + t * B * GH;
		float *dA = c->dgates + t * B * GH;
		float *dAh = c->dgates_h + t * B * GH;
		double ss = 0;
		for (size_t b = 0; b < B; b++) {
			size_t row = t * B + b;
			float *dhb = dh + b * H, *dhpb = dhp + b * H;
			const float *dyr = dy + row * ldy;
			if (!mask[row]) {
				/* padding: no gate gradient, ∂L/∂h passes */
				memset(dA + b * GH, 0, GH * sizeof(float));
				if (dAh != dA)
					memset(dAh + b * GH, 0,
					       GH * sizeof(float));
				memcpy(dhpb, dhb, H * sizeof(float));
				continue;
			}
			/* ∂L/∂h(t) = from the output + from step t+1 */
			{
				float sq = 0;
				for (size_t k = 0; k < H; k++)
					dhb[k] += dyr[k];
				for (size_t k = 0; k < H; k++)
					sq += dhb[k] * dhb[k];
				ss += sq;
			}
			switch (kind) {
			case SP_CELL_RNN_TANH:
			case SP_CELL_RNN_RELU:
				rnn_bwd_row_(a + b * GH, dhb, dA + b * GH, H,
					     kind == SP_CELL_RNN_RELU);
				memset(dhpb, 0, H * sizeof(float));
				break;
			case SP_CELL_LSTM:
				lstm_bwd_row_(a + b * GH,
					      c->c + prev * B * H + b * H,
					      c->tc + row * H, dhb, dc + b * H,
					      dA + b * GH, H);
				memset(dhpb, 0, H * sizeof(float));
				break;
			case SP_CELL_GRU:
				gru_bwd_row_(a + b * GH, hp + b * H,
					     c->hn + row * H, dhb, dA + b * GH,
					     dAh + b * GH, dhpb, H);
				break;
			}
		}
		c->dh_norm[t] = (float)sqrt(ss);
		/* ∂L/∂h(t-1) += dG(t) (B,GH) · Whᵀ (GH,H) */
		sp_gemm(0, 1, B, H, GH, 1.0f, dAh, GH, c->Wh, GH, 1.0f, dhp, H);
		{
			float *tmp = dh;
			dh = dhp;
			dhp = tmp;
		}
	}
	if (dh0)
		memcpy(dh0, dh, B * H * sizeof(float));
	if (dc0 && kind == SP_CELL_LSTM)
		memcpy(dc0, dc, B * H * sizeof(float));

	/* Weight gradients of all steps at once.  The states h(t-1) of the
	 * steps t = 0..T-1 are rows [0,T) of h forward, [1,T+1) reverse:
	 *   dWh (H,GH) += Hprevᵀ (H,M) · dGh (M,GH) */
	sp_gemm(1, 0, H, GH, M, 1.0f, c->h + (c->reverse ? B * H : 0), H,
		c->dgates_h, GH, 1.0f, c->dWh, GH);
	if (xin) {
		/* dWx (in,GH) += Xᵀ (in,M) · dG (M,GH) */
		sp_gemm(1, 0, c->in, GH, M, 1.0f, xin, c->in, c->dgates, GH,
			1.0f, c->dWx, GH);
	} else {
		/* one-hot: scatter-add dG(t) into row ids[t] of dWx */
		for (size_t i = 0; i < M; i++) {
			float *dw = c->dWx + (size_t)ids[i] * GH;
			const float *g = c->dgates + i * GH;
			if (!mask[i])
				continue;
			for (size_t k = 0; k < GH; k++)
				dw[k] += g[k];
		}
	}
	colsum_add_(c->dgates, M, GH, c->db);
	if (kind == SP_CELL_GRU)
		colsum_add_(c->dgates_h, M, GH, c->dbh);
	if (dxin)
		/* dX (M,in) = dG (M,GH) · Wxᵀ (GH,in) */
		sp_gemm(0, 1, M, c->in, GH, 1.0f, c->dgates, GH, c->Wx, GH,
			beta, dxin, c->in);
}

/* ------------------------------------------------------------------ */
/* The stack                                                           */
/* ------------------------------------------------------------------ */

/* Inverted dropout in place: v *= m, m = 0 with probability p, else
 * 1/(1-p), so that the expected value is unchanged. */
static void dropout_(sp_ctx *ctx, float *v, float *m, size_t n, float p)
{
	float keep = 1.0f / (1.0f - p);
	for (size_t i = 0; i < n; i++) {
		m[i] = sp_rng_uniform(ctx) < p ? 0.0f : keep;
		v[i] *= m[i];
	}
}

static void mul_inplace_(float *v, const float *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] *= m[i];
}

/* Copies x's mask, lengths and ids into the cache, checking ids. */
static int take_batch_(sp_rnn *r, sp_ctx *ctx, const sp_seq *x)
{
	size_t T = x->T, B = x->B, M = T * B;
	r->has_mask = x->mask != NULL;
	if (x->mask) {
		memcpy(r->mask, x->mask, M);
		for (size_t b = 0; b < B; b++) {
			int32_t n = 0;
			if (x->len) {
				n = x->len[b];
			} else {
				for (size_t t = 0; t < T; t++)
					n += x->mask[t * B + b] != 0;
			}
			r->len[b] = n;
		}
	} else {
		memset(r->mask, 1, M);
		for (size_t b = 0; b < B; b++)
			r->len[b] = (int32_t)T;
	}
	if (!x->ids)
		return SP_OK;
	for (size_t i = 0; i < M; i++) {
		int32_t id = x->ids[i];
		if (!r->mask[i]) {
			r->ids[i] = 0;
			continue;
		}
		if (id < 0 || (size_t)id >= r->cfg.in_dim)
			return sp_err(ctx, SP_EINPUT,
				      "%s: id %ld at step %zu of sequence %zu "
				      "is outside the vocabulary (V=%zu)",
				      r->name, (long)id, i / B, i % B,
				      r->cfg.in_dim);
		r->ids[i] = id;
	}
	return SP_OK;
}

int sp_rnn_forward(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x, sp_seq *y,
		   int train)
{
	return sp_rnn_forward_ex(rnn, ctx, x, y, train, NULL, NULL);
}

int sp_rnn_forward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *x,
		      sp_seq *y, int train, const float *h0, const float *c0)
{
	sp_rnn *r = rnn;
	size_t T, B, M, H = r->H, ND = r->ND, in;
	const float *xin = NULL;
	int rc;

	r->have_fwd = r->trained = r->have_bwd = 0;
	if (!r->bound)
		return sp_err(ctx, SP_EINVAL, "%s: forward before bind",
			      r->name);
	if (x->D != r->cfg.in_dim)
		return sp_err(ctx, SP_EINVAL,
			      "%s: input has D=%zu, the stage expects %zu",
			      r->name, x->D, r->cfg.in_dim);
	T = x->T;
	B = x->B;
	M = T * B;
	if (M && !x->ids && !x->x)
		return sp_err(ctx, SP_EINVAL, "%s: input without data",
			      r->name);
	if (r->cfg.embed && !x->ids)
		return sp_err(ctx, SP_EINVAL,
			      "%s: embed=%zu needs ids (one-hot) input",
			      r->name, r->cfg.embed);
	if (M == 0) {
		/* an empty batch: nothing to compute, the carry is kept */
		memset(y, 0, sizeof(*y));
		y->T = T;
		y->B = B;
		y->D = ND * H;
		r->T = T;
		r->B = B;
		r->has_mask = 0;
		r->have_fwd = 1;
		r->trained = train != 0;
		return SP_OK;
	}
	rc = ensure_cache_(r, ctx, T, B, x->ids != NULL);
	if (rc)
		return rc;
	r->T = T;
	r->B = B;
	r->ids_in = x->ids != NULL;
	rc = take_batch_(r, ctx, x);
	if (rc)
		return rc;

	/* A carried state only fits a batch of the same size. */
	if (r->carry_valid && r->carry_B != B)
		r->carry_valid = 0;

	/* Layer 0's input: the embedded ids, a copy of x, or (ids straight
	 * into Wx) nothing: cell_forward_ gathers rows of Wx. */
	in = r->in0;
	if (r->ids_in && r->cfg.embed) {
		size_t E = r->cfg.embed;
		for (size_t i = 0; i < M; i++) {
			if (r->mask[i])
				memcpy(r->x0 + i * E,
				       r->E + (size_t)r->ids[i] * E,
				       E * sizeof(float));
			else
				memset(r->x0 + i * E, 0, E * sizeof(float));
		}
		xin = r->x0;
	} else if (!r->ids_in) {
		memcpy(r->x0, x->x, M * in * sizeof(float));
		xin = r->x0;
	}
	r->dropped0 = xin && train && r->cfg.embed_dropout > 0;
	if (r->dropped0)
		dropout_(ctx, r->x0, r->drop0, M * in, r->cfg.embed_dropout);

	r->dropped = train && r->cfg.dropout > 0 && r->L > 1;
	for (size_t l = 0; l < r->L; l++) {
		for (size_t d = 0; d < ND; d++) {
			cell_ *c = &r->cells[l * ND + d];
			const float *hi = NULL, *ci = NULL;
			if (h0) {
				hi = h0 + (l * ND + d) * B * H;
				ci = c0 ? c0 + (l * ND + d) * B * H : NULL;
			} else if (d == 0 && r->carry_on && r->carry_valid) {
				hi = r->carry_h + l * B * H;
				ci = r->carry_c ? r->carry_c + l * B * H : NULL;
			}
			cell_forward_(r, c, T, B, xin, r->ids, r->mask,
				      r->y[l] + d * H, ND * H, hi, ci);
		}
		if (r->dropped && l + 1 < r->L)
			dropout_(ctx, r->y[l], r->drop[l], M * ND * H,
				 r->cfg.dropout);
		xin = r->y[l];
	}

	/* Keep the final forward state of every row for the next forward
	 * (its last real step: padding carried it to h[T]). */
	if (r->carry_on) {
		size_t need = r->L * B * H;
		if (need > r->carry_cap) {
			float *nh = realloc(r->carry_h, need * sizeof(float));
			if (nh)
				r->carry_h = nh;
			if (nh && r->cfg.cell == SP_CELL_LSTM) {
				float *nc = realloc(r->carry_c,
						    need * sizeof(float));
				if (nc)
					r->carry_c = nc;
				else
					nh = NULL;
			}
			if (!nh) {
				r->carry_valid = 0;
				return sp_err(ctx, SP_ENOMEM,
					      "%s: out of memory for the "
					      "carried state", r->name);
			}
			r->carry_cap = need;
		}
		for (size_t l = 0; l < r->L; l++) {
			const cell_ *c = &r->cells[l * ND];
			memcpy(r->carry_h + l * B * H, c->h + M * H,
			       B * H * sizeof(float));
			if (r->cfg.cell == SP_CELL_LSTM)
				memcpy(r->carry_c + l * B * H, c->c + M * H,
				       B * H * sizeof(float));
		}
		r->carry_valid = 1;
		r->carry_B = B;
	}

	y->T = T;
	y->B = B;
	y->D = ND * H;
	y->x = r->y[r->L - 1];
	y->ids = NULL;
	y->mask = r->has_mask ? r->mask : NULL;
	y->len = r->has_mask ? r->len : NULL;
	r->have_fwd = 1;
	r->trained = train != 0;
	return SP_OK;
}

int sp_rnn_backward(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx)
{
	return sp_rnn_backward_ex(rnn, ctx, dy, dx, NULL, NULL);
}

int sp_rnn_backward_ex(sp_rnn *rnn, sp_ctx *ctx, const sp_seq *dy,
		       sp_seq *dx, float *dh0, float *dc0)
{
	sp_rnn *r = rnn;
	size_t T = r->T, B = r->B, M = T * B, H = r->H, ND = r->ND;
	if (!r->have_fwd || !r->trained)
		return sp_err(ctx, SP_EINVAL,
			      "%s: backward without a training forward",
			      r->name);
	if (dy->T != T || dy->B != B || dy->D != ND * H)
		return sp_err(ctx, SP_EINVAL,
			      "%s: dy is (%zu,%zu,%zu), the forward gave "
			      "(%zu,%zu,%zu)",
			      r->name, dy->T, dy->B, dy->D, T, B, ND * H);
	if (M && !dy->x)
		return sp_err(ctx, SP_EINVAL, "%s: dy without data", r->name);
	if (M == 0) {
		memset(dx, 0, sizeof(*dx));
		dx->T = T;
		dx->B = B;
		dx->D = r->cfg.in_dim;
		return SP_OK;
	}

	for (size_t l = r->L; l-- > 0;) {
		const float *dyl = l + 1 == r->L ? dy->x : r->dy[l];
		const float *xin;
		float *dxin;
		if (l > 0) {
			xin = r->y[l - 1];
			dxin = r->dy[l - 1];
		} else {
			int gather = r->ids_in && !r->cfg.embed;
			xin = gather ? NULL : r->x0;
			dxin = gather ? NULL : r->dx0;
		}
		for (size_t d = 0; d < ND; d++)
			cell_backward_(r, &r->cells[l * ND + d], T, B, xin,
				       r->ids, r->mask, dyl + d * H, ND * H,
				       dxin, d ? 1.0f : 0.0f,
				       dh0 ? dh0 + (l * ND + d) * B * H : NULL,
				       dc0 ? dc0 + (l * ND + d) * B * H : NULL);
		/* through the dropout between layer l-1 and l */
		if (l > 0 && r->dropped)
			mul_inplace_(r->dy[l - 1], r->drop[l - 1],
				     M * ND * H);
	}

	dx->T = T;
	dx->B = B;
	dx->D = r->cfg.in_dim;
	dx->x = NULL;
	dx->ids = NULL;
	dx->mask = r->has_mask ? r->mask : NULL;
	dx->len = r->has_mask ? r->len : NULL;
	if (r->dropped0)
		mul_inplace_(r->dx0, r->drop0, M * r->in0);
	if (r->ids_in && r->cfg.embed) {
		/* embedding: scatter-add ∂L/∂e(t) into row ids[t] of dE */
		size_t E = r->cfg.embed;
		for (size_t i = 0; i < M; i++) {
			float *de = r->dE + (size_t)r->ids[i] * E;
			const float *g = r->dx0 + i * E;
			if (!r->mask[i])
				continue;
			for (size_t k = 0; k < E; k++)
				de[k] += g[k];
		}
	} else if (!r->ids_in) {
		dx->x = r->dx0;
	}
	r->have_bwd = 1;
	return SP_OK;
}

int sp_rnn_carry(sp_rnn *rnn, sp_ctx *ctx, int on, int reset)
{
	rnn->carry_on = on != 0;
	if (reset || !on)
		rnn->carry_valid = 0;
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Trace and instruments                                               */
/* ------------------------------------------------------------------ */

/* Layer 0's forward weights in the course's orientation, W·x with x a
 * column vector: the stored (in,GH) and (H,GH) matrices transposed. */
static int trace_params_(sp_rnn *r, sp_ctx *ctx, sp_trace_fn emit,
			 void *payload)
{
	static const char *const names[][4] = {
		/* rnn */ {"Wxh", "Whh", "b", NULL},
		/* lstm */ {"Wx = [Wxi; Wxf; Wxg; Wxo]", "Wh = [Whi; Whf; Whg; Who]",
			    "b = [bi; bf; bg; bo]", NULL},
		/* gru */ {"Wx = [Wxr; Wxz; Wxn]", "Wh = [Whr; Whz; Whn]",
			   "bx = [bxr; bxz; bxn]", "bh = [bhr; bhz; bhn]"}};
	const cell_ *c = &r->cells[0];
	size_t H = r->H, GH = r->G * H, in = c->in;
	size_t n = GH * (in > H ? in : H);
	int k = r->cfg.cell == SP_CELL_LSTM ? 1 : r->cfg.cell == SP_CELL_GRU ? 2 : 0;
	float *buf;
	int rc;
	if (!c->Wx)
		return sp_err(ctx, SP_EINVAL, "%s: trace before bind", r->name);
	buf = malloc(n * sizeof(*buf));
	if (!buf)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", r->name);
	for (size_t i = 0; i < in; i++)
		for (size_t j = 0; j < GH; j++)
			buf[j * in + i] = c->Wx[i * GH + j];
	rc = emit(payload, SP_TRACE_PARAMS, names[k][0], buf, GH, in);
	if (!rc) {
		for (size_t i = 0; i < H; i++)
			for (size_t j = 0; j < GH; j++)
				buf[j * H + i] = c->Wh[i * GH + j];
		rc = emit(payload, SP_TRACE_PARAMS, names[k][1], buf, GH, H);
	}
	if (!rc)
		rc = emit(payload, SP_TRACE_PARAMS, names[k][2], c->b, GH, 1);
	if (!rc && names[k][3])
		rc = emit(payload, SP_TRACE_PARAMS, names[k][3], c->bh, GH, 1);
	free(buf);
	return rc;
}

/* Step t, row b of the last forward (layer 0, forward direction). */
static int trace_step_(sp_rnn *rnn, sp_ctx *ctx, size_t t, size_t b,
		       sp_trace_fn emit, void *payload)
{
	sp_rnn *r = rnn;
	const cell_ *c = &r->cells[0];
	size_t T = r->T, B = r->B, H = r->H, GH = r->G * H, row = t * B + b;
	size_t V = r->cfg.in_dim, need = V + 2 * GH;
	const float *hp, *hc, *a;
	float *xv, *wx, *wh;
	int rc;

	if (!r->have_fwd)
		return sp_err(ctx, SP_EINVAL, "%s: trace before forward",
			      r->name);
	if (t >= T || b >= B)
		return sp_err(ctx, SP_EINVAL,
			      "%s: trace of step %zu row %zu, the batch is "
			      "T=%zu B=%zu", r->name, t, b, T, B);
	if (!r->mask[row])
		return SP_OK;
	if (!r->trace_buf) {
		/* sized once for this stage (trace is not a hot path) */
		r->trace_buf = malloc(need * sizeof(float));
		if (!r->trace_buf)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory",
				      r->name);
	}
	xv = r->trace_buf;
	wx = xv + V;
	wh = wx + GH;
	hp = c->h + t * B * H + b * H;       /* layer 0 runs forward */
	hc = c->h + (t + 1) * B * H + b * H;
	a = c->gates + row * GH;

	/* x(t): the one-hot vector for ids, else what entered layer 0 */
	if (r->ids_in) {
		memset(xv, 0, V * sizeof(float));
		xv[r->ids[row]] = 1.0f;
		rc = emit(payload, t, "x(t)", xv, V, 1);
		if (!rc && r->cfg.embed)
			rc = emit(payload, t, "e(t) = embed·x(t)",
				  r->x0 + row * r->in0, r->in0, 1);
	} else {
		rc = emit(payload, t, "x(t)", r->x0 + row * r->in0, r->in0, 1);
	}
	if (rc)
		return rc;

	switch (r->cfg.cell) {
	case SP_CELL_RNN_TANH:
	case SP_CELL_RNN_RELU:
		/* recomputed from the weights: the cache holds only h */
		if (r->ids_in && !r->cfg.embed) {
			memcpy(wx, c->Wx + (size_t)r->ids[row] * GH,
			       GH * sizeof(float));
		} else {
			const float *xr = r->x0 + row * r->in0;
			memset(wx, 0, GH * sizeof(float));
			for (size_t i = 0; i < r->in0; i++)
				for (size_t k = 0; k < GH; k++)
					wx[k] += xr[i] * c->Wx[i * GH + k];
		}
		memcpy(wh, c->b, GH * sizeof(float));
		for (size_t j = 0; j < H; j++)
			for (size_t k = 0; k < GH; k++)
				wh[k] += hp[j] * c->Wh[j * GH + k];
		rc = emit(payload, t,
			  r->cfg.embed ? "Wxh·e(t)" : "Wxh·x(t)", wx, H, 1);
		if (!rc)
			rc = emit(payload, t, "Whh·h(t-1) + b", wh, H, 1);
		if (!rc)
			rc = emit(payload, t,
				  r->cfg.cell == SP_CELL_RNN_RELU
					  ? "h(t) = relu(...)"
					  : "h(t) = tanh(...)",
				  hc, H, 1);
		return rc;
	case SP_CELL_LSTM:
		rc = emit(payload, t, "i(t)", a, H, 1);
		if (!rc)
			rc = emit(payload, t, "f(t)", a + H, H, 1);
		if (!rc)
			rc = emit(payload, t, "g(t)", a + 2 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "o(t)", a + 3 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "c(t)",
				  c->c + (t + 1) * B * H + b * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "h(t)", hc, H, 1);
		return rc;
	case SP_CELL_GRU:
		rc = emit(payload, t, "z(t)", a + H, H, 1);
		if (!rc)
			rc = emit(payload, t, "r(t)", a, H, 1);
		if (!rc)
			rc = emit(payload, t, "n(t)", a + 2 * H, H, 1);
		if (!rc)
			rc = emit(payload, t, "h(t)", hc, H, 1);
		return rc;
	}
	return SP_OK;
}

int sp_rnn_trace(sp_rnn *rnn, sp_ctx *ctx, size_t t, size_t b,
		 sp_trace_fn emit, void *payload)
{
	if (t == SP_TRACE_PARAMS)
		return trace_params_(rnn, ctx, emit, payload);
	return trace_step_(rnn, ctx, t, b, emit, payload);
}

int sp_rnn_view(const sp_rnn *rnn, sp_ctx *ctx, size_t layer, int dir,
		sp_cell_view *out)
{
	const cell_ *c;
	memset(out, 0, sizeof(*out));
	if (!rnn->have_fwd)
		return sp_err(ctx, SP_EINVAL, "%s: no forward to view",
			      rnn->name);
	if (layer >= rnn->L || dir < 0 || (size_t)dir >= rnn->ND)
		return sp_err(ctx, SP_EINVAL,
			      "%s: no layer %zu direction %d", rnn->name,
			      layer, dir);
	c = &rnn->cells[layer * rnn->ND + (size_t)dir];
	out->cell = rnn->cfg.cell;
	out->T = rnn->T;
	out->B = rnn->B;
	out->H = rnn->H;
	out->G = rnn->G;
	out->reverse = c->reverse;
	out->gates = c->gates;
	out->h = c->h;
	out->c = rnn->cfg.cell == SP_CELL_LSTM ? c->c : NULL;
	out->dh_norm = rnn->have_bwd ? c->dh_norm : NULL;
	out->mask = rnn->mask;
	return SP_OK;
}

int sp_cell_gate_stats(const sp_cell_view *v, size_t gate, double *mean,
		       double *saturated)
{
	size_t H = v->H, GH = v->G * H, n = 0, nsat = 0;
	double sum = 0;
	/* tanh-like blocks: lstm g, gru n, the tanh rnn; relu: rnn relu */
	int tanh_like = (v->cell == SP_CELL_LSTM && gate == 2) ||
			(v->cell == SP_CELL_GRU && gate == 2) ||
			v->cell == SP_CELL_RNN_TANH;
	*mean = *saturated = 0;
	if (gate >= v->G)
		return SP_EINVAL;
	for (size_t row = 0; row < v->T * v->B; row++) {
		const float *g = v->gates + row * GH + gate * H;
		if (!v->mask[row])
			continue;
		for (size_t k = 0; k < H; k++) {
			float a = g[k];
			int sat;
			if (v->cell == SP_CELL_RNN_RELU)
				sat = a == 0.0f;
			else if (tanh_like)
				sat = fabsf(a) > 0.95f;
			else
				sat = a < 0.05f || a > 0.95f;
			sum += a;
			nsat += sat;
			n++;
		}
	}
	if (n) {
		*mean = sum / (double)n;
		*saturated = (double)nsat / (double)n;
	}
	return SP_OK;
}
