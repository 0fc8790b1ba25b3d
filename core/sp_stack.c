/*
 * sp_stack.c: stacked model stages driven as one model (sp_stack.h).
 *
 * What it is: the chaining of the stages' ops (forward up, backward down,
 * weights concatenated under their sections' names) and a probe that
 * runs one tiny batch through the chain, so `pipeline check` finds a
 * stage that cannot read its predecessor's vectors before any training.
 * What it is not: numerics (each stage has its own).
 */
#include "config.h"

#include "sp_stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_kv_host.h"

typedef struct stack {
	size_t n;
	sp_stack_part p[SP_STACK_MAX];
	void *self[SP_STACK_MAX];
	size_t first_w[SP_STACK_MAX + 1]; /* stage k's first weight */
	sp_weight *w;                      /* every stage's, renamed */
	char *names;                       /* their names' storage */
	size_t n_w;
	sp_chars chars;                    /* of the next forward */
	int has_chars;
} stack;

static const char *comp_name_(const stack *s, size_t k)
{
	return s->p[k].ops->base.name;
}

static void stack_destroy(void *self)
{
	stack *s = self;
	if (!s)
		return;
	for (size_t k = s->n; k-- > 0;)
		if (s->self[k])
			s->p[k].ops->destroy(s->self[k]);
	free(s->w);
	free(s->names);
	free(s);
}

static int stack_create(void **out, sp_ctx *ctx, const sp_kv *args, size_t in_dim)
{
	(void)args;
	(void)in_dim;
	*out = NULL;
	return sp_err(ctx, SP_EINVAL, "stack: built by the host from [model] .. [model%d], not by create", SP_STACK_MAX);
}

/* The stages' weights under "<section>.<name>", in stage order. */
static int collect_weights_(stack *s, sp_ctx *ctx)
{
	const sp_weight *w[SP_STACK_MAX];
	size_t n[SP_STACK_MAX], total = 0, chars = 0, at = 0;
	int rc;
	for (size_t k = 0; k < s->n; k++) {
		if ((rc = s->p[k].ops->weights(s->self[k], &w[k], &n[k])) < 0)
			return rc;
		s->first_w[k] = total;
		total += n[k];
		for (size_t i = 0; i < n[k]; i++)
			chars += strlen(s->p[k].section) + 2 + (w[k][i].name ? strlen(w[k][i].name) : 0);
	}
	s->first_w[s->n] = total;
	s->w = calloc(total ? total : 1, sizeof(*s->w));
	s->names = malloc(chars ? chars : 1);
	if (!s->w || !s->names)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	for (size_t k = 0; k < s->n; k++)
		for (size_t i = 0; i < n[k]; i++) {
			sp_weight *d = &s->w[s->first_w[k] + i];
			*d = w[k][i];
			d->name = s->names + at;
			at += (size_t)sprintf(s->names + at, "%s.%s", s->p[k].section,
					      w[k][i].name ? w[k][i].name : "") + 1;
		}
	s->n_w = total;
	return SP_OK;
}

int sp_stack_new(void **out, sp_ctx *ctx, const sp_stack_part *parts,
		 size_t n, size_t in_dim)
{
	stack *s;
	int rc = SP_OK;
	*out = NULL;
	if (n < 1 || n > SP_STACK_MAX)
		return sp_err(ctx, SP_EINVAL, "stack: %zu model stages, expected 1 to %d", n, SP_STACK_MAX);
	if (!(s = calloc(1, sizeof(*s))))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	s->n = n;
	for (size_t k = 0; k < n && rc >= 0; k++) {
		s->p[k] = parts[k];
		rc = parts[k].ops->create(&s->self[k], ctx, parts[k].kv, in_dim);
		if (rc >= 0 && (in_dim = parts[k].ops->out_dim(s->self[k])) == 0)
			rc = sp_err(ctx, SP_EINVAL, "%s: model '%s' gives vectors of size 0, expected > 0",
				    sp_kv_section_where(parts[k].kv), comp_name_(s, k));
	}
	if (rc >= 0)
		rc = collect_weights_(s, ctx);
	if (rc < 0) {
		stack_destroy(s);
		return rc;
	}
	*out = s;
	return SP_OK;
}

int sp_stack_is(const sp_component *comp)
{
	return comp == &sp_stack_ops.base;
}

static size_t stack_out_dim(const void *self)
{
	const stack *s = self;
	return s->p[s->n - 1].ops->out_dim(s->self[s->n - 1]);
}

static int stack_weights(const void *self, const sp_weight **out, size_t *n_out)
{
	const stack *s = self;
	*out = s->w;
	*n_out = s->n_w;
	return SP_OK;
}

static int stack_bind(void *self, float *const *value, float *const *grad)
{
	stack *s = self;
	int rc;
	for (size_t k = 0; k < s->n; k++)
		if ((rc = s->p[k].ops->bind(s->self[k], value + s->first_w[k], grad + s->first_w[k])) < 0)
			return rc;
	return SP_OK;
}

static int stack_init(void *self, sp_ctx *ctx)
{
	stack *s = self;
	int rc;
	for (size_t k = 0; k < s->n; k++)
		if ((rc = s->p[k].ops->init(s->self[k], ctx)) < 0)
			return rc;
	return SP_OK;
}

static int stack_chars(void *self, sp_ctx *ctx, const sp_chars *c)
{
	stack *s = self;
	(void)ctx;
	s->chars = *c;
	s->has_chars = 1;
	return SP_OK;
}

static int stack_forward(void *self, sp_ctx *ctx, const sp_seq *x, sp_seq *y, int train)
{
	stack *s = self;
	sp_seq in = *x, out;
	int rc;
	for (size_t k = 0; k < s->n; k++) {
		const sp_model_ops *o = s->p[k].ops;
		if (s->has_chars && SP_HAS_OP(sp_model_ops, o, chars) &&
		    (rc = o->chars(s->self[k], ctx, &s->chars)) < 0)
			return rc;
		memset(&out, 0, sizeof(out));
		if ((rc = o->forward(s->self[k], ctx, &in, &out, train)) < 0)
			return k ? sp_err_prefix(ctx, rc, "%s", sp_kv_section_where(s->p[k].kv)) : rc;
		if (!out.x || out.T != x->T || out.B != x->B || out.D != o->out_dim(s->self[k]))
			return sp_err(ctx, SP_EINVAL, "%s: model '%s' gave no (T,B,%zu) vectors for the stage after it, expected one vector per input step",
				      sp_kv_section_where(s->p[k].kv), comp_name_(s, k),
				      o->out_dim(s->self[k]));
		memset(&in, 0, sizeof(in));
		in.T = x->T;
		in.B = x->B;
		in.D = out.D;
		in.x = out.x;
		in.mask = x->mask;
		in.len = x->len;
	}
	*y = in;
	return SP_OK;
}

static int stack_backward(void *self, sp_ctx *ctx, const sp_seq *dy, sp_seq *dx)
{
	stack *s = self;
	sp_seq d = *dy, g;
	int rc;
	for (size_t k = s->n; k-- > 0;) {
		memset(&g, 0, sizeof(g));
		if ((rc = s->p[k].ops->backward(s->self[k], ctx, &d, &g)) < 0)
			return rc;
		if (k == 0)
			break;
		if (!g.x)
			return sp_err(ctx, SP_EINVAL, "%s: model '%s' gave no gradient for its input, expected dx (the stage before it learns from it)",
				      sp_kv_section_where(s->p[k].kv), comp_name_(s, k));
		memset(&d, 0, sizeof(d));
		d.T = dy->T;
		d.B = dy->B;
		d.D = g.D;
		d.x = g.x;
		d.mask = dy->mask;
		d.len = dy->len;
	}
	*dx = g;
	return SP_OK;
}

static int stack_carry(void *self, sp_ctx *ctx, int on, int reset)
{
	stack *s = self;
	int rc;
	for (size_t k = 0; k < s->n; k++)
		if ((rc = s->p[k].ops->carry(s->self[k], ctx, on, reset)) < 0)
			return rc;
	return SP_OK;
}

static int stack_carry_at(void *self, sp_ctx *ctx, size_t step)
{
	stack *s = self;
	int rc;
	for (size_t k = 0; k < s->n; k++) {
		const sp_model_ops *o = s->p[k].ops;
		if (!SP_HAS_OP(sp_model_ops, o, carry_at)) {
			if (step == 0)
				continue;
			return sp_err(ctx, SP_EINVAL, "%s: model '%s' cannot keep the state of an earlier step (no carry_at), expected train.bptt_stride = 0",
				      sp_kv_section_where(s->p[k].kv), comp_name_(s, k));
		}
		if ((rc = o->carry_at(s->self[k], ctx, step)) < 0)
			return rc;
	}
	return SP_OK;
}

static int stack_trace(void *self, sp_ctx *ctx, size_t t, size_t b, sp_trace_fn emit, void *payload)
{
	stack *s = self;
	int rc;
	for (size_t k = 0; k < s->n; k++)
		if (s->p[k].ops->trace &&
		    (rc = s->p[k].ops->trace(s->self[k], ctx, t, b, emit, payload)) < 0)
			return rc;
	return SP_OK;
}

/* Instruments of stage k > 0 get its section as a prefix. */
typedef struct prefixed {
	sp_metric_fn emit;
	void *payload;
	const char *prefix;
} prefixed;

static int emit_prefixed_(void *payload, const char *name, double value)
{
	prefixed *p = payload;
	char full[160];
	if (!p->prefix)
		return p->emit(p->payload, name, value);
	snprintf(full, sizeof(full), "%s.%s", p->prefix, name);
	return p->emit(p->payload, full, value);
}

static int stack_instruments(void *self, sp_ctx *ctx, sp_metric_fn emit, void *payload)
{
	stack *s = self;
	int rc;
	for (size_t k = 0; k < s->n; k++) {
		prefixed p = {emit, payload, k ? s->p[k].section : NULL};
		if (SP_HAS_OP(sp_model_ops, s->p[k].ops, instruments) &&
		    (rc = s->p[k].ops->instruments(s->self[k], ctx, emit_prefixed_, &p)) < 0)
			return rc;
	}
	return SP_OK;
}

static int stack_sees_future(const void *self)
{
	const stack *s = self;
	for (size_t k = 0; k < s->n; k++)
		if (SP_HAS_OP(sp_model_ops, s->p[k].ops, sees_future) &&
		    s->p[k].ops->sees_future(s->self[k]))
			return 1;
	return 0;
}

/* Pretrained vectors go into the first stage's table (it reads the ids);
 * its weights come first, so its index is the stack's. */
static int stack_embedding(const void *self)
{
	const stack *s = self;
	if (!SP_HAS_OP(sp_model_ops, s->p[0].ops, embedding))
		return -1;
	return s->p[0].ops->embedding(s->self[0]);
}

const sp_model_ops sp_stack_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "stack",
		 "model stages chained: [model], [model2], ...", NULL},
	.create = stack_create,
	.destroy = stack_destroy,
	.out_dim = stack_out_dim,
	.weights = stack_weights,
	.bind = stack_bind,
	.init = stack_init,
	.forward = stack_forward,
	.backward = stack_backward,
	.carry = stack_carry,
	.trace = stack_trace,
	.instruments = stack_instruments,
	.sees_future = stack_sees_future,
	.carry_at = stack_carry_at,
	.embedding = stack_embedding,
	.chars = stack_chars,
};

/* Scratch arenas for the probe: one block per weight, values and grads. */
static int probe_bind_(stack *s, sp_ctx *ctx, float **block)
{
	float **v = calloc(s->n_w + 1, sizeof(*v)), **g = calloc(s->n_w + 1, sizeof(*g));
	size_t total = 0, off = 0;
	int rc;
	for (size_t i = 0; i < s->n_w; i++) {
		size_t f = 1;
		for (int d = 0; d < s->w[i].ndim; d++)
			f *= s->w[i].dim[d];
		total += f;
	}
	*block = calloc(2 * total + 1, sizeof(float));
	if (!v || !g || !*block) {
		free(v);
		free(g);
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < s->n_w; i++) {
		size_t f = 1;
		for (int d = 0; d < s->w[i].ndim; d++)
			f *= s->w[i].dim[d];
		v[i] = *block + off;
		g[i] = *block + total + off;
		off += f;
	}
	rc = stack_bind(s, v, g);
	free(v);
	free(g);
	if (rc >= 0)
		rc = stack_init(s, ctx);
	return rc;
}

int sp_stack_probe(void *self, sp_ctx *ctx, size_t in_dim)
{
	enum { T = 3, B = 2, C = 4 };
	stack *s = self;
	int32_t ids[T * B], len[B] = {T, T}, cp[T * B * C], nc[T * B];
	uint8_t mask[T * B];
	float *block = NULL, *dy = NULL;
	sp_seq x, y, dx;
	sp_chars ch = {sizeof(sp_chars), T, B, C, cp, nc};
	int rc;
	for (size_t i = 0; i < T * B; i++) {
		ids[i] = (int32_t)(i % in_dim);
		mask[i] = 1;
		nc[i] = 1 + (int32_t)(i % C);
		for (size_t k = 0; k < C; k++)
			cp[i * C + k] = k < (size_t)nc[i] ? 'a' + (int32_t)((i + k) % 26) : 0;
	}
	memset(&x, 0, sizeof(x));
	x.T = T;
	x.B = B;
	x.D = in_dim;
	x.ids = ids;
	x.mask = mask;
	x.len = len;
	memset(&y, 0, sizeof(y));
	if ((rc = probe_bind_(s, ctx, &block)) < 0 ||
	    (rc = stack_chars(s, ctx, &ch)) < 0 ||
	    (rc = stack_forward(s, ctx, &x, &y, 1)) < 0)
		goto done;
	if (!(dy = calloc(T * B * y.D, sizeof(float)))) {
		rc = sp_err(ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	y.x = dy;
	rc = stack_backward(s, ctx, &y, &dx);
done:
	s->has_chars = 0;
	free(dy);
	free(block);
	return rc;
}
