/*
 * A model whose weight declarations are wrong in the way its `bad` key
 * says: rank (ndim = 5), dup (two weights named "W"), zero (a size 0).
 * `pipeline check` must refuse each before any training (t_task.sh); it
 * never runs, so its math ops only fail.
 */
#include <stdlib.h>
#include <string.h>

#include "sp_kv.h"
#include "sp_plugin.h"

typedef struct bw {
	size_t in, out;
	sp_weight w[2];
} bw;

static int bw_create(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim)
{
	const char *bad = sp_kv_str(args, "bad");
	bw *m = calloc(1, sizeof(*m));
	if (!m)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	m->in = in_dim;
	m->out = 3;
	m->w[0] = (sp_weight){"W", 2, {3, in_dim, 0, 0}};
	m->w[1] = (sp_weight){"b", 1, {3, 0, 0, 0}};
	if (!strcmp(bad, "rank"))
		m->w[1].ndim = 5;
	else if (!strcmp(bad, "dup"))
		m->w[1].name = "W";
	else if (!strcmp(bad, "zero"))
		m->w[0].dim[1] = 0;
	*out = m;
	return SP_OK;
}

static void bw_destroy(void *self)
{
	free(self);
}

static size_t bw_out_dim(const void *self)
{
	return ((const bw *)self)->out;
}

static int bw_weights(const void *self, const sp_weight **out, size_t *n_out)
{
	*out = ((const bw *)self)->w;
	*n_out = 2;
	return SP_OK;
}

static int bw_bind(void *self, float *const *value, float *const *grad)
{
	(void)self;
	(void)value;
	(void)grad;
	return SP_OK;
}

static int bw_init(void *self, sp_ctx *ctx)
{
	(void)self;
	return sp_err(ctx, SP_EINVAL, "badweights: never trains");
}

static int bw_forward(void *self, sp_ctx *ctx, const sp_seq *x, sp_seq *y, int train)
{
	(void)self;
	(void)x;
	(void)y;
	(void)train;
	return sp_err(ctx, SP_EINVAL, "badweights: never trains");
}

static int bw_backward(void *self, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx)
{
	(void)self;
	(void)dy;
	(void)dx;
	return sp_err(ctx, SP_EINVAL, "badweights: never trains");
}

static int bw_carry(void *self, sp_ctx *ctx, int on, int reset)
{
	(void)self;
	(void)ctx;
	(void)on;
	(void)reset;
	return SP_OK;
}

static const sp_param_spec bw_params[] = {
	{"bad", SP_T_STRING, "none", "which declaration is wrong", "none|rank|dup|zero"},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_model_ops bw_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "bad",
		 "a model with wrong weight declarations", bw_params},
	.create = bw_create, .destroy = bw_destroy, .out_dim = bw_out_dim,
	.weights = bw_weights, .bind = bw_bind, .init = bw_init,
	.forward = bw_forward, .backward = bw_backward, .carry = bw_carry};

SP_PLUGIN_DEFINE(badweights, "1.0", "test plugin: wrong weight declarations", &bw_ops.base)
