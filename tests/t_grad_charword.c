/*
 * t_grad_charword.c: the character word encoder (plugins/charword.c),
 * built from the plugin's source.
 *
 * Gradient checks: L = Σ y⊙R over the real steps of a padded batch
 * (T=4, B=3, rows of 4, 3 and 2 tokens of 1 to 5 characters, some outside
 * ASCII and one long enough to be hashed), central differences on every
 * weight (the word table, the character table and the character LSTM's
 * two directions) with ids in, and on every weight and on dx with
 * vectors in (embed = 0).  Then the contracts: the output joins the word
 * vector and the spelling vector, a token's spelling vector does not
 * depend on its batch, the same word spelled differently gets another
 * vector, forward without characters is refused, and backward twice
 * accumulates twice.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "tap.h"

#include "../plugins/charword.c"

enum { T_ = 4, B_ = 3, C_ = 5, V_ = 6, D_ = 5 };
static const double TOL = 1e-2, FLOOR = 5e-3;

typedef struct net {
	sp_ctx *ctx;
	void *self;
	const sp_weight *w;
	size_t n_w, total, out;
	float *value, *grad, *r, *x, *dx;
	float *vp[16], *gp[16];
	int32_t ids[T_ * B_], len[B_], cp[T_ * B_ * C_], nc[T_ * B_];
	uint8_t mask[T_ * B_];
	int dense;
} net;

static size_t numel_(const sp_weight *w)
{
	size_t n = 1;
	for (int d = 0; d < w->ndim; d++)
		n *= w->dim[d];
	return n;
}

static int make_(net *n, int embed, uint64_t seed)
{
	static const int32_t letters[] = {'a', 'T', 'z', '#', '@', 0xe9, 0x4e2d, 0x1f600, '7'};
	sp_kv *kv;
	char e[16];
	size_t off = 0;
	int rc;
	memset(n, 0, sizeof(*n));
	sp_ctx_new(&n->ctx, seed);
	n->dense = embed == 0;
	sp_kv_new(&kv, "model");
	snprintf(e, sizeof(e), "%d", embed);
	sp_kv_set(kv, n->ctx, "embed", e, 0, "test");
	sp_kv_set(kv, n->ctx, "char_embed", "3", 0, "test");
	sp_kv_set(kv, n->ctx, "char_hidden", "4", 0, "test");
	sp_kv_set(kv, n->ctx, "buckets", "32", 0, "test");
	if ((rc = sp_kv_validate(kv, n->ctx, cw_params, ".")) < 0 ||
	    (rc = cw_create(&n->self, n->ctx, kv, n->dense ? D_ : V_)) < 0) {
		sp_kv_free(kv);
		return rc;
	}
	sp_kv_free(kv);
	cw_weights(n->self, &n->w, &n->n_w);
	n->out = cw_out_dim(n->self);
	for (size_t i = 0; i < n->n_w; i++)
		n->total += numel_(&n->w[i]);
	n->value = calloc(n->total, sizeof(float));
	n->grad = calloc(n->total, sizeof(float));
	n->r = calloc(T_ * B_ * n->out, sizeof(float));
	n->x = calloc(T_ * B_ * D_, sizeof(float));
	n->dx = calloc(T_ * B_ * D_, sizeof(float));
	for (size_t i = 0; i < n->n_w; i++) {
		n->vp[i] = n->value + off;
		n->gp[i] = n->grad + off;
		off += numel_(&n->w[i]);
	}
	cw_bind(n->self, n->vp, n->gp);
	cw_init(n->self, n->ctx);
	for (size_t b = 0; b < B_; b++)
		n->len[b] = (int32_t)(T_ - b > 1 ? T_ - b : 1);
	for (size_t t = 0; t < T_; t++)
		for (size_t b = 0; b < B_; b++) {
			size_t i = t * B_ + b;
			n->mask[i] = (int32_t)t < n->len[b];
			n->ids[i] = n->mask[i] ? (int32_t)((t * 7 + b * 3) % V_) : 0;
			n->nc[i] = n->mask[i] ? 1 + (int32_t)((t + 2 * b) % C_) : 0;
			for (int32_t k = 0; k < n->nc[i]; k++)
				n->cp[i * C_ + (size_t)k] = letters[(t * 5 + b + (size_t)k * 2) % 9];
			for (size_t k = 0; n->mask[i] && k < D_; k++)
				n->x[i * D_ + k] = (float)sp_rng_normal(n->ctx);
			for (size_t k = 0; n->mask[i] && k < n->out; k++)
				n->r[i * n->out + k] = (float)sp_rng_normal(n->ctx);
		}
	return SP_OK;
}

static void free_(net *n)
{
	cw_destroy(n->self);
	free(n->value);
	free(n->grad);
	free(n->r);
	free(n->x);
	free(n->dx);
	sp_ctx_free(n->ctx);
}

static int fwd_(net *n, sp_seq *y, int train)
{
	sp_seq x;
	sp_chars c = {sizeof(sp_chars), T_, B_, C_, n->cp, n->nc};
	int rc = cw_chars(n->self, n->ctx, &c);
	memset(&x, 0, sizeof(x));
	x.T = T_;
	x.B = B_;
	x.D = n->dense ? D_ : V_;
	x.ids = n->dense ? NULL : n->ids;
	x.x = n->dense ? n->x : NULL;
	x.mask = n->mask;
	x.len = n->len;
	return rc < 0 ? rc : cw_forward(n->self, n->ctx, &x, y, train);
}

static double loss_(void *payload)
{
	net *n = payload;
	sp_seq y;
	double L = 0;
	if (fwd_(n, &y, 0) < 0)
		return NAN;
	for (size_t i = 0; i < T_ * B_ * n->out; i++)
		L += (double)y.x[i] * n->r[i];
	return L;
}

static int grads_(net *n)
{
	sp_seq y, dy, dx;
	int rc;
	memset(n->grad, 0, n->total * sizeof(float));
	if ((rc = fwd_(n, &y, 1)) < 0)
		return rc;
	dy = y;
	dy.x = n->r;
	if ((rc = cw_backward(n->self, n->ctx, &dy, &dx)) < 0)
		return rc;
	if (n->dense && dx.x)
		memcpy(n->dx, dx.x, T_ * B_ * D_ * sizeof(float));
	return n->dense && !dx.x ? SP_EINVAL : SP_OK;
}

static void check_(const char *label, int embed)
{
	net n;
	int rc = make_(&n, embed, 11);
	ok(rc == SP_OK && grads_(&n) == SP_OK, "%s: created, forward and backward", label);
	if (rc != SP_OK)
		return;
	for (size_t i = 0; i < n.n_w; i++) {
		gc_result r = gc_check(loss_, &n, n.vp[i], n.gp[i], numel_(&n.w[i]), 1e-2f, 60, FLOOR);
		ok(r.max_rel < TOL, "%s: d%s max_rel=%.1e (%zu entries)", label, n.w[i].name, r.max_rel,
		   r.checked);
	}
	if (n.dense) {
		gc_result r = gc_check(loss_, &n, n.x, n.dx, T_ * B_ * D_, 1e-2f, 0, FLOOR);
		ok(r.max_rel < TOL, "%s: dx max_rel=%.1e (%zu entries)", label, r.max_rel, r.checked);
	}
	free_(&n);
}

/* The output's parts, batch independence, spelling sensitivity. */
static void test_contracts_(void)
{
	net n;
	sp_seq y, dy, dx;
	float one[64], alone[64];
	size_t E = 4, H = 4, o;
	make_(&n, (int)E, 5);
	fwd_(&n, &y, 0);
	o = n.out;
	ok(o == E + 2 * H && y.D == o && y.T == T_ && y.B == B_, "out = E + 2 Hc = %zu", o);
	ok(memcmp(y.x + 1 * o, n.vp[0] + (size_t)n.ids[1] * E, E * sizeof(float)) == 0,
	   "the first E values are the word's row of the table");
	ok(y.x[(3 * B_ + 2) * o] == 0 && y.x[(3 * B_ + 2) * o + o - 1] == 0, "padding gives zeros");
	memcpy(one, y.x + (1 * B_ + 0) * o, o * sizeof(float));
	/* the same token alone in a batch of its own */
	{
		sp_seq x;
		int32_t id = n.ids[B_], len = 1, nc = n.nc[B_];
		uint8_t m = 1;
		sp_chars c = {sizeof(sp_chars), 1, 1, C_, n.cp + B_ * C_, &nc};
		memset(&x, 0, sizeof(x));
		x.T = 1;
		x.B = 1;
		x.D = V_;
		x.ids = &id;
		x.mask = &m;
		x.len = &len;
		cw_chars(n.self, n.ctx, &c);
		ok(cw_forward(n.self, n.ctx, &x, &y, 0) == SP_OK, "a batch of one token");
		memcpy(alone, y.x, o * sizeof(float));
		ok(memcmp(one, alone, o * sizeof(float)) == 0, "a token's vector does not depend on its batch");
		n.cp[B_ * C_] ^= 1; /* another spelling, same id */
		cw_chars(n.self, n.ctx, &c);
		cw_forward(n.self, n.ctx, &x, &y, 0);
		ok(memcmp(one, y.x, E * sizeof(float)) == 0 &&
			   memcmp(one + E, y.x + E, 2 * H * sizeof(float)) != 0,
		   "another spelling of the same id: same word vector, another spelling vector");
		n.cp[B_ * C_] ^= 1;
	}
	/* no characters for the batch's shape */
	{
		sp_seq x;
		memset(&x, 0, sizeof(x));
		x.T = 2;
		x.B = 2;
		x.D = V_;
		x.ids = n.ids;
		int rc = cw_forward(n.self, n.ctx, &x, &y, 0);
		ok(rc == SP_EINVAL && strstr(sp_errmsg(n.ctx), "no characters"),
		   "forward without the batch's characters is refused: %s", sp_errmsg(n.ctx));
	}
	/* backward accumulates */
	{
		float *g1 = malloc(n.total * sizeof(float));
		int good = g1 != NULL;
		grads_(&n);
		if (good)
			memcpy(g1, n.grad, n.total * sizeof(float));
		fwd_(&n, &y, 1);
		dy = y;
		dy.x = n.r;
		cw_backward(n.self, n.ctx, &dy, &dx);
		for (size_t i = 0; good && i < n.total; i++)
			good = fabsf(n.grad[i] - 2 * g1[i]) <= 1e-5f * (1 + fabsf(g1[i]));
		ok(good, "a second forward and backward doubles the gradients");
		free(g1);
	}
	free_(&n);
}

int main(void)
{
	check_("charword ids, embed=4", 4);
	check_("charword vectors, embed=0", 0);
	test_contracts_();
	return tap_done();
}
