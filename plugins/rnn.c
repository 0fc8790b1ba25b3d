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

/* Keys every component accepts: SP_RNN_PARAMS (sp_cell.h). */
#define RNN_COMMON_PARAMS SP_RNN_PARAMS

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
	{"update_bias", SP_T_FLOAT, "0",
	 "added to the initial update-gate bias (2 starts z near 0.88: "
	 "keep the state)", NULL},
	{NULL, 0, NULL, NULL, NULL}};

/* Builds the engine for one component from its validated keys. */
static int create_(void **out, sp_ctx *ctx, const sp_kv *args,
		   size_t in_dim, sp_cell_kind kind, const char *comp)
{
	sp_rnn_config cfg;
	sp_rnn *rnn = NULL;
	int rc;

	*out = NULL;
	if ((rc = sp_rnn_config_from_kv(&cfg, ctx, args, in_dim, comp)))
		return rc;
	cfg.cell = kind;
	if (kind == SP_CELL_RNN_TANH &&
	    strcmp(sp_kv_str(args, "nonlinearity"), "relu") == 0)
		cfg.cell = SP_CELL_RNN_RELU;
	if (kind == SP_CELL_LSTM)
		cfg.forget_bias = (float)sp_kv_float(args, "forget_bias");
	if (kind == SP_CELL_GRU)
		cfg.update_bias = (float)sp_kv_float(args, "update_bias");
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

/* The remaining ops are the same for the three cells: the engine's
 * (sp_cell_model.c), the instruments included. */
#define RNN_MODEL_OPS SP_RNN_MODEL_OPS

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
