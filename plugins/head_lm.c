/*
 * head_lm.c: the `lm` head, a language model: at every real step t, a
 * softmax (head_core.c) over the input vocabulary for the next token.  Its
 * weights are named as in the course's "hello" RNN: y(t) = Why·h(t) + by.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>

#include "heads_impl.h"
#include "sp_vocab.h"

/* K = input vocabulary size. */
static int lm_create(void **out, sp_ctx *ctx, const sp_kv *args,
		     size_t in_dim, const sp_head_env *env)
{
	head *hd = NULL;
	int rc;
	*out = NULL;
	if ((rc = heads_env_ok(ctx, "lm", env)) < 0)
		return rc;
	if (!env->input)
		return sp_err(ctx, SP_EINVAL, "lm: no input vocabulary");
	rc = heads_new(&hd, ctx, args, in_dim, HEAD_LM,
		       sp_vocab_size(env->input), "Why", "by", 0);
	if (rc < 0)
		goto fail;
	hd->y_label = "y(t) = Why·h(t) + by";
	hd->p_label = "softmax(y(t))";
	*out = hd;
	return SP_OK;
fail:
	heads_destroy(hd);
	return rc;
}

static const sp_param_spec lm_params[] = {
	HEADS_DROPOUT_PARAM,
	{NULL, 0, NULL, NULL, NULL}};

/* What the head reads and reports (the host picks the best epoch and
 * checks train.metric by these). */
static const sp_metric_decl lm_metrics[] = {
	{"loss", 0, "mean cross-entropy (nats)"},
	{"perplexity", 0, "exp(loss)"},
	{"accuracy", 1, "top-1 accuracy"},
	{NULL, 0, NULL}};
static const sp_head_task lm_task = {sizeof(sp_head_task), SP_LABELS_NEXT_TOKEN,
				     lm_metrics, "loss"};

const sp_head_ops heads_lm_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "lm",
		 "language model: softmax over the vocabulary for the next "
		 "token (loss, perplexity, accuracy)",
		 lm_params},
	.target = SP_TARGET_NEXT_TOKEN,
	.create = lm_create,
	.task = &lm_task,
	HEAD_OPS_};
