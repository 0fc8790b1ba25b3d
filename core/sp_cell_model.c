/*
 * sp_cell_model.c: the recurrent engine as a model plugin: the keys every
 * recurrent component reads (SP_RNN_PARAMS) turned into an sp_rnn_config,
 * and the sp_model_ops of a model whose self is an sp_rnn
 * (SP_RNN_MODEL_OPS).  plugins/rnn.c uses them for rnn, lstm and gru, and
 * a cell of one's own (doc/example-plugin/mgu.c) becomes a component
 * with a create of one line.  What it is not: numerics (sp_cell.c).
 */
#include "sp_cell.h"

#include <stdio.h>
#include <string.h>

#include "sp_kv.h"

/* A .pipe integer that must lie in [lo, hi]. */
static int get_size_(sp_ctx *ctx, const sp_kv *args, const char *comp,
		     const char *key, long lo, long hi, size_t *out)
{
	long v = sp_kv_int(args, key);
	if (v < lo || v > hi)
		return sp_err(ctx, SP_EINVAL,
			      "%s: %s=%ld must be in [%ld, %ld] (%s)", comp,
			      key, v, lo, hi, sp_kv_where(args, key));
	*out = (size_t)v;
	return SP_OK;
}

static int get_prob_(sp_ctx *ctx, const sp_kv *args, const char *comp,
		     const char *key, float *out)
{
	double v = sp_kv_float(args, key);
	if (!(v >= 0 && v < 1))
		return sp_err(ctx, SP_EINVAL,
			      "%s: %s=%g must be in [0, 1) (%s)", comp, key, v,
			      sp_kv_where(args, key));
	*out = (float)v;
	return SP_OK;
}

int sp_rnn_config_from_kv(sp_rnn_config *cfg, sp_ctx *ctx,
			  const sp_kv *args, size_t in_dim, const char *comp)
{
	const char *init = sp_kv_str(args, "init");
	int rc;
	sp_rnn_config_init(cfg);
	cfg->name = comp;
	cfg->cell = SP_CELL_RNN_TANH;
	cfg->in_dim = in_dim;
	cfg->forget_bias = 1.0f;
	if ((rc = get_size_(ctx, args, comp, "hidden", 1, 1L << 20,
			    &cfg->hidden)) ||
	    (rc = get_size_(ctx, args, comp, "layers", 1, 64, &cfg->layers)) ||
	    (rc = get_size_(ctx, args, comp, "embed", 0, 1L << 20,
			    &cfg->embed)) ||
	    (rc = get_size_(ctx, args, comp, "threads", 1, 256,
			    &cfg->threads)) ||
	    (rc = get_prob_(ctx, args, comp, "dropout", &cfg->dropout)) ||
	    (rc = get_prob_(ctx, args, comp, "embed_dropout",
			    &cfg->embed_dropout)) ||
	    (rc = get_prob_(ctx, args, comp, "word_dropout",
			    &cfg->word_dropout)))
		return rc;
	cfg->bidirectional = sp_kv_bool(args, "bidirectional") != 0;
	if (init && strcmp(init, "xavier") == 0)
		cfg->init = SP_CELL_INIT_XAVIER;
	else if (init && strcmp(init, "orthogonal") == 0)
		cfg->init = SP_CELL_INIT_ORTHOGONAL;
	else
		cfg->init = SP_CELL_INIT_UNIFORM;
	if (cfg->dropout > 0 && cfg->layers == 1)
		sp_log(ctx, SP_LOG_WARN,
		       "%s: dropout=%g has no effect with layers=1 (it acts "
		       "between stacked layers)", comp, (double)cfg->dropout);
	return SP_OK;
}

int sp_rnn_model_create(void **out, sp_ctx *ctx, const sp_kv *args,
			size_t in_dim, const char *comp,
			const sp_cell_ops *ops)
{
	sp_rnn_config cfg;
	sp_rnn *rnn = NULL;
	int rc;
	*out = NULL;
	if ((rc = sp_rnn_config_from_kv(&cfg, ctx, args, in_dim, comp)))
		return rc;
	cfg.cell = 0;
	cfg.ops = ops;
	if ((rc = sp_rnn_new(&rnn, ctx, &cfg)))
		return rc;
	*out = rnn;
	return SP_OK;
}

void sp_rnn_model_destroy(void *self)
{
	sp_rnn_free(self);
}

size_t sp_rnn_model_out_dim(const void *self)
{
	return sp_rnn_out_dim(self);
}

int sp_rnn_model_weights(const void *self, const sp_weight **out,
			 size_t *n_out)
{
	return sp_rnn_weights(self, out, n_out);
}

int sp_rnn_model_bind(void *self, float *const *value, float *const *grad)
{
	return sp_rnn_bind(self, value, grad);
}

int sp_rnn_model_init(void *self, sp_ctx *ctx)
{
	return sp_rnn_init(self, ctx);
}

int sp_rnn_model_forward(void *self, sp_ctx *ctx, const sp_seq *x,
			 sp_seq *y, int train)
{
	return sp_rnn_forward(self, ctx, x, y, train);
}

int sp_rnn_model_backward(void *self, sp_ctx *ctx, const sp_seq *dy,
			  sp_seq *dx)
{
	return sp_rnn_backward(self, ctx, dy, dx);
}

int sp_rnn_model_carry(void *self, sp_ctx *ctx, int on, int reset)
{
	return sp_rnn_carry(self, ctx, on, reset);
}

int sp_rnn_model_carry_at(void *self, sp_ctx *ctx, size_t step)
{
	return sp_rnn_carry_at(self, ctx, step);
}

int sp_rnn_model_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		       sp_trace_fn emit, void *payload)
{
	return sp_rnn_trace(self, ctx, t, b, emit, payload);
}

/* A reverse direction reads the steps after t. */
int sp_rnn_model_sees_future(const void *self)
{
	return sp_rnn_config_of(self)->bidirectional;
}

int sp_rnn_model_embedding(const void *self)
{
	const sp_weight *w;
	size_t n;
	if (sp_rnn_weights(self, &w, &n) < 0)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (!strcmp(w[k].name, "embed"))
			return (int)k;
	return -1;
}

/* The name of gate block g for the instruments, or NULL for a block that
 * is not a gate (the rnn's h is reported as "h"; lstm's g and gru's n are
 * candidates; a custom cell's tanh-like blocks likewise). */
static const char *gate_name_(const sp_rnn_config *cfg, size_t g)
{
	static const char *const lstm[] = {"i", "f", NULL, "o"};
	static const char *const gru[] = {"r", "z", NULL};
	if (cfg->ops) {
		if (!cfg->ops->gate_names || (cfg->ops->tanh_gates >> g & 1u))
			return NULL;
		return cfg->ops->gate_names[g];
	}
	switch (cfg->cell) {
	case SP_CELL_RNN_TANH:
	case SP_CELL_RNN_RELU: return g == 0 ? "h" : NULL;
	case SP_CELL_LSTM: return g < 4 ? lstm[g] : NULL;
	case SP_CELL_GRU: return g < 3 ? gru[g] : NULL;
	}
	return NULL;
}

/* One layer's instruments: ‖∂L/∂h(t)‖ per step after a backward, each
 * gate's mean and share saturated after a forward. */
static int layer_instruments_(const sp_rnn_config *cfg, const sp_cell_view *v,
			      size_t l, sp_ctx *ctx, sp_metric_fn emit,
			      void *payload)
{
	char name[64];
	int rc;
	for (size_t t = 0; v->dh_norm && t < v->T; t++) {
		snprintf(name, sizeof(name), "dh_norm.l%zu.t%zu", l, t);
		if ((rc = emit(payload, name, v->dh_norm[t])))
			return rc;
	}
	for (size_t g = 0; v->gates && g < v->G; g++) {
		const char *gn = gate_name_(cfg, g);
		double mean, sat;
		if (!gn)
			continue;
		if ((rc = sp_cell_gate_stats(v, g, &mean, &sat)))
			return sp_err(ctx, rc, "%s: gate statistics failed",
				      cfg->name);
		snprintf(name, sizeof(name), "gate.l%zu.%s.mean", l, gn);
		if ((rc = emit(payload, name, mean)))
			return rc;
		snprintf(name, sizeof(name), "gate.l%zu.%s.sat", l, gn);
		if ((rc = emit(payload, name, sat)))
			return rc;
	}
	return SP_OK;
}

/*
 * The teaching instruments, for every layer's forward direction, named
 * as sp_plugin.h documents them: how the gradient fades or grows on its
 * way back in time, and how saturated each gate is (a saturated gate
 * passes almost no gradient).
 */
int sp_rnn_model_instruments(void *self, sp_ctx *ctx, sp_metric_fn emit,
			     void *payload)
{
	const sp_rnn_config *cfg = sp_rnn_config_of(self);
	int rc;
	for (size_t l = 0; l < cfg->layers; l++) {
		sp_cell_view v;
		if ((rc = sp_rnn_view(self, ctx, l, 0, &v)) ||
		    (rc = layer_instruments_(cfg, &v, l, ctx, emit, payload)))
			return rc;
	}
	return SP_OK;
}
