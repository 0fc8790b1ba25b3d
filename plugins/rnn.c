/*
 * rnn.c: the recurrent model plugin: components `rnn` (Elman, tanh or
 * relu), `lstm` and `gru`.
 *
 * What this file is: the .pipe face of the recurrent engine.  It declares
 * each component's keys, turns a validated key = value set into an
 * sp_rnn_config, and forwards every op to core/sp_cell.c, where the
 * equations, the weight layout and the forward/backward passes live (read
 * sp_cell.h first).  What it is not: any numerics of its own.
 *
 *   layer rnn.rnn   hidden=3                      # the course's RNN:
 *                                                 # weights Wxh Whh b
 *   layer rnn.lstm  hidden=256 layers=2 dropout=0.3 embed=128
 *   layer rnn.gru   hidden=64 bidirectional=true
 *
 * Input: ids (one-hot, D = vocabulary size) or dense (T,B,D) vectors.
 * With ids and embed=0 the one-hot goes straight into layer 0's Wx as a
 * row gather; embed=E>0 puts a trainable (V,E) table in front (ids only).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#include <stdio.h>
#include <string.h>

#include "sp_cell.h"
#include "sp_kv.h"
#include "sp_plugin.h"

/* Keys every component accepts. */
#define RNN_COMMON_PARAMS                                                   \
	{"hidden", SP_T_INT, NULL,                                          \
	 "hidden size H (units per direction)", NULL},                      \
	{"layers", SP_T_INT, "1", "number of stacked layers", NULL},        \
	{"bidirectional", SP_T_BOOL, "false",                               \
	 "add a reverse direction; the output [forward | reverse] is 2H "   \
	 "wide", NULL},                                                     \
	{"dropout", SP_T_FLOAT, "0",                                        \
	 "inverted dropout on each layer's output but the last "            \
	 "(training only)", NULL},                                          \
	{"embed", SP_T_INT, "0",                                            \
	 "embedding size E for ids input; 0 feeds the one-hot straight "    \
	 "into Wx", NULL},                                                  \
	{"embed_dropout", SP_T_FLOAT, "0",                                  \
	 "dropout on layer 0's input: the embedding, or a dense input "     \
	 "(training only)", NULL},                                          \
	{"init", SP_T_STRING, "uniform",                                    \
	 "initial weights: uniform U(-1/sqrt(H), 1/sqrt(H)) as PyTorch, "   \
	 "xavier, or orthogonal recurrent weights",                         \
	 "uniform|xavier|orthogonal"},                                      \
	{"threads", SP_T_INT, "1",                                          \
	 "threads that share each step's hidden units (the result does "    \
	 "not depend on it; train.threads is the BLAS's)", NULL}

static const sp_param_spec rnn_params[] = {
	RNN_COMMON_PARAMS,
	{"nonlinearity", SP_T_STRING, "tanh",
	 "h(t) = tanh(...) or relu(...)", "tanh|relu"},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_param_spec lstm_params[] = {
	RNN_COMMON_PARAMS,
	{"forget_bias", SP_T_FLOAT, "1.0",
	 "initial forget-gate bias (1 keeps memory at the start)", NULL},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_param_spec gru_params[] = {
	RNN_COMMON_PARAMS,
	{NULL, 0, NULL, NULL, NULL}};

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

/* Builds the engine for one component from its validated keys. */
static int create_(void **out, sp_ctx *ctx, const sp_kv *args,
		   size_t in_dim, sp_cell_kind kind, const char *comp)
{
	sp_rnn_config cfg;
	sp_rnn *rnn = NULL;
	const char *init = sp_kv_str(args, "init");
	int rc;

	*out = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = comp;
	cfg.cell = kind;
	cfg.in_dim = in_dim;
	cfg.forget_bias = 1.0f;
	if ((rc = get_size_(ctx, args, comp, "hidden", 1, 1L << 20,
			    &cfg.hidden)) ||
	    (rc = get_size_(ctx, args, comp, "layers", 1, 64, &cfg.layers)) ||
	    (rc = get_size_(ctx, args, comp, "embed", 0, 1L << 20,
			    &cfg.embed)) ||
	    (rc = get_size_(ctx, args, comp, "threads", 1, 256,
			    &cfg.threads)) ||
	    (rc = get_prob_(ctx, args, comp, "dropout", &cfg.dropout)) ||
	    (rc = get_prob_(ctx, args, comp, "embed_dropout",
			    &cfg.embed_dropout)))
		return rc;
	cfg.bidirectional = sp_kv_bool(args, "bidirectional") != 0;
	if (kind == SP_CELL_RNN_TANH &&
	    strcmp(sp_kv_str(args, "nonlinearity"), "relu") == 0)
		cfg.cell = SP_CELL_RNN_RELU;
	if (kind == SP_CELL_LSTM)
		cfg.forget_bias = (float)sp_kv_float(args, "forget_bias");
	if (init && strcmp(init, "xavier") == 0)
		cfg.init = SP_CELL_INIT_XAVIER;
	else if (init && strcmp(init, "orthogonal") == 0)
		cfg.init = SP_CELL_INIT_ORTHOGONAL;
	else
		cfg.init = SP_CELL_INIT_UNIFORM;
	if (cfg.dropout > 0 && cfg.layers == 1)
		sp_log(ctx, SP_LOG_WARN,
		       "%s: dropout=%g has no effect with layers=1 (it acts "
		       "between stacked layers)", comp, (double)cfg.dropout);
	rc = sp_rnn_new(&rnn, ctx, &cfg);
	if (rc)
		return rc;
	*out = rnn;
	return SP_OK;
}

static int rnn_create(void **out, sp_ctx *ctx, const sp_kv *args,
		      size_t in_dim)
{
	return create_(out, ctx, args, in_dim, SP_CELL_RNN_TANH, "rnn");
}

static int lstm_create(void **out, sp_ctx *ctx, const sp_kv *args,
		       size_t in_dim)
{
	return create_(out, ctx, args, in_dim, SP_CELL_LSTM, "lstm");
}

static int gru_create(void **out, sp_ctx *ctx, const sp_kv *args,
		      size_t in_dim)
{
	return create_(out, ctx, args, in_dim, SP_CELL_GRU, "gru");
}

/* The remaining ops are the same for the three cells. */

static void model_destroy(void *self)
{
	sp_rnn_free(self);
}

static size_t model_out_dim(const void *self)
{
	return sp_rnn_out_dim(self);
}

static int model_weights(const void *self, const sp_weight **out,
			 size_t *n_out)
{
	return sp_rnn_weights(self, out, n_out);
}

static int model_bind(void *self, float *const *value, float *const *grad)
{
	return sp_rnn_bind(self, value, grad);
}

static int model_init(void *self, sp_ctx *ctx)
{
	return sp_rnn_init(self, ctx);
}

static int model_forward(void *self, sp_ctx *ctx, const sp_seq *x, sp_seq *y,
			 int train)
{
	return sp_rnn_forward(self, ctx, x, y, train);
}

static int model_backward(void *self, sp_ctx *ctx, const sp_seq *dy,
			  sp_seq *dx)
{
	return sp_rnn_backward(self, ctx, dy, dx);
}

static int model_carry(void *self, sp_ctx *ctx, int on, int reset)
{
	return sp_rnn_carry(self, ctx, on, reset);
}

static int model_carry_at(void *self, sp_ctx *ctx, size_t step)
{
	return sp_rnn_carry_at(self, ctx, step);
}

static int model_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		       sp_trace_fn emit, void *payload)
{
	return sp_rnn_trace(self, ctx, t, b, emit, payload);
}

/*
 * The teaching instruments, for every layer's forward direction:
 * ‖∂L/∂h(t)‖ per step (how the gradient fades, or grows, on its way back
 * in time) after a backward, and after a forward, per gate, the mean
 * activation and the share saturated (a saturated gate passes almost no
 * gradient; backward writes the gradients over the activations).  Names
 * as sp_plugin.h documents them.
 */
static int model_instruments(void *self, sp_ctx *ctx, sp_metric_fn emit,
			     void *payload)
{
	static const char *const gates[][4] = {
		/* rnn: the activation itself */ {"h", NULL, NULL, NULL},
		/* lstm */ {"i", "f", "g", "o"},
		/* gru */ {"r", "z", "n", NULL}};
	const sp_rnn_config *cfg = sp_rnn_config_of(self);
	int k = cfg->cell == SP_CELL_LSTM ? 1 : cfg->cell == SP_CELL_GRU ? 2 : 0;
	char name[64];
	int rc;
	for (size_t l = 0; l < cfg->layers; l++) {
		sp_cell_view v;
		if ((rc = sp_rnn_view(self, ctx, l, 0, &v)))
			return rc;
		for (size_t t = 0; v.dh_norm && t < v.T; t++) {
			snprintf(name, sizeof(name), "dh_norm.l%zu.t%zu", l, t);
			if ((rc = emit(payload, name, v.dh_norm[t])))
				return rc;
		}
		for (size_t g = 0; v.gates && g < v.G && gates[k][g]; g++) {
			double mean, sat;
			/* the candidate g (lstm) and n (gru) are not gates */
			if ((k == 1 && g == 2) || (k == 2 && g == 2))
				continue;
			if ((rc = sp_cell_gate_stats(&v, g, &mean, &sat)))
				return sp_err(ctx, rc, "%s: gate statistics failed",
					      cfg->name);
			snprintf(name, sizeof(name), "gate.l%zu.%s.mean", l, gates[k][g]);
			if ((rc = emit(payload, name, mean)))
				return rc;
			snprintf(name, sizeof(name), "gate.l%zu.%s.sat", l, gates[k][g]);
			if ((rc = emit(payload, name, sat)))
				return rc;
		}
	}
	return SP_OK;
}

/* A reverse direction reads the steps after t. */
static int model_sees_future(const void *self)
{
	return sp_rnn_config_of(self)->bidirectional;
}

/* Pretrained word vectors go into the (V, E) table the engine puts in
 * front of layer 0 when embed = E > 0 (the weight it names "embed"). */
static int model_embedding(const void *self)
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

#define RNN_MODEL_OPS                                                       \
	.destroy = model_destroy, .out_dim = model_out_dim,                 \
	.weights = model_weights, .bind = model_bind, .init = model_init,   \
	.forward = model_forward, .backward = model_backward,               \
	.carry = model_carry, .trace = model_trace,                         \
	.instruments = model_instruments, .sees_future = model_sees_future, \
	.carry_at = model_carry_at, .embedding = model_embedding

static const sp_model_ops rnn_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "rnn",
		 "Elman RNN h(t) = tanh|relu(Wxh·x(t) + Whh·h(t-1) + b), "
		 "stacked, bidirectional, masked",
		 rnn_params},
	.create = rnn_create,
	RNN_MODEL_OPS};

static const sp_model_ops lstm_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "lstm",
		 "LSTM (gates i f g o), stacked, bidirectional, masked",
		 lstm_params},
	.create = lstm_create,
	RNN_MODEL_OPS};

static const sp_model_ops gru_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "gru",
		 "GRU (gates r z n, PyTorch form), stacked, bidirectional, "
		 "masked",
		 gru_params},
	.create = gru_create,
	RNN_MODEL_OPS};

SP_PLUGIN_DEFINE(rnn, PACKAGE_VERSION,
		 "recurrent layers: rnn, lstm, gru (BPTT on one shared engine)",
		 &rnn_ops.base, &lstm_ops.base, &gru_ops.base)
