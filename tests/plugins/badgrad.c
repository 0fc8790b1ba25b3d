/* A model with a deliberately wrong backward: y = w * x element-wise,
 * with dw off by a factor 2.  `pipeline check --plugin` must catch it
 * (tests/t_plugins.sh), and pass its correct dx. */
#include <stdlib.h>

#include "sp_plugin.h"

typedef struct bg {
	size_t D, cap;
	sp_weight w[1];
	float *val, *grad, *y, *dx;
	const float *x; /* the training forward's input, kept until backward */
} bg;

static void bg_destroy(void *self_)
{
	bg *self = self_;
	if (!self)
		return;
	free(self->y);
	free(self->dx);
	free(self);
}

static int bg_create(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim)
{
	bg *self = calloc(1, sizeof(*self));
	*out = self;
	if (!self)
		return sp_err(ctx, SP_ENOMEM, "badgrad: out of memory");
	self->D = in_dim;
	self->w[0].name = "w";
	self->w[0].ndim = 1;
	self->w[0].dim[0] = in_dim;
	return SP_OK;
}

static size_t bg_out_dim(const void *self) { return ((const bg *)self)->D; }

static int bg_weights(const void *self, const sp_weight **out, size_t *n)
{
	*out = ((const bg *)self)->w;
	*n = 1;
	return SP_OK;
}

static int bg_bind(void *self_, float *const *value, float *const *grad)
{
	bg *self = self_;
	self->val = value[0];
	self->grad = grad[0];
	return SP_OK;
}

static int bg_init(void *self_, sp_ctx *ctx)
{
	bg *self = self_;
	sp_fill_uniform(ctx, self->val, self->D, -1, 1);
	return SP_OK;
}

static int bg_forward(void *self_, sp_ctx *ctx, const sp_seq *x, sp_seq *y, int train)
{
	bg *self = self_;
	size_t n = x->T * x->B * self->D;
	if (n > self->cap) {
		free(self->y);
		free(self->dx);
		self->y = malloc(n * sizeof(float));
		self->dx = malloc(n * sizeof(float));
		self->cap = self->y && self->dx ? n : 0;
		if (!self->cap)
			return sp_err(ctx, SP_ENOMEM, "badgrad: out of memory");
	}
	for (size_t i = 0; i < n; i++)
		self->y[i] = self->val[i % self->D] * x->x[i];
	self->x = x->x;
	*y = *x;
	y->x = self->y;
	y->ids = NULL;
	return SP_OK;
}

static int bg_backward(void *self_, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx)
{
	bg *self = self_;
	size_t n = dy->T * dy->B * self->D;
	for (size_t i = 0; i < n; i++) {
		self->grad[i % self->D] += 2.0f * dy->x[i] * self->x[i]; /* the bug */
		self->dx[i] = dy->x[i] * self->val[i % self->D];
	}
	*dx = *dy;
	dx->x = self->dx;
	return SP_OK;
}

static int bg_carry(void *self, sp_ctx *ctx, int on, int reset) { return SP_OK; }

static const sp_param_spec bg_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_model_ops bg_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "scale",
		 "y = w * x, with a wrong dw", bg_params},
	.create = bg_create, .destroy = bg_destroy, .out_dim = bg_out_dim,
	.weights = bg_weights, .bind = bg_bind, .init = bg_init,
	.forward = bg_forward, .backward = bg_backward, .carry = bg_carry,
};

SP_PLUGIN_DEFINE(badgrad, "1.0", "test plugin: a model whose backward is wrong", &bg_ops.base)
