/*
 * sp_params.h: the parameters of a job: every weight the model and the
 * head declare gets a slice of one value arena, with a gradient arena
 * that mirrors it (llm.c style); their initial values, pretrained word
 * vectors, and the weights of a model file.
 *
 * Host-only (not installed).
 */
#ifndef SP_PARAMS_H
#define SP_PARAMS_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_modelfile.h"
#include "sp_plugin.h"

typedef struct sp_job sp_job;
typedef struct sp_stage sp_stage;

typedef struct sp_params {
	size_t n_params;
	float *value, *grad;     /* (n_params) each, owned */
	/* the embedding weight, when pretrained vectors are frozen */
	float *frozen, *frozen_grad, *frozen_copy;
	size_t frozen_n;
} sp_params;

void sp_params_fini(sp_params *p);
/* The weights w[0..n) a stage (component comp, at `where`) declares:
 * rank 1..4, every size > 0, a total that can be addressed, each name
 * once; *out_floats = their floats. */
int sp_params_check_weights(sp_ctx *ctx, const char *where, const char *comp,
			    const sp_weight *w, size_t n, size_t *out_floats);
/* Floats of weight w. */
size_t sp_weight_floats(const sp_weight *w);

/* A language model predicts the next token; refuses a model (self, of
 * j's model component) whose output at t has read the tokens after t. */
/* The model-file key of weight w of stage s: "<section>.<name>", or a
 * stack's own "<section>.<name>" names as they are. */
void sp_params_tensor_name(char *buf, size_t size, const sp_stage *s,
			   const sp_weight *w);
int sp_params_check_causal(const sp_job *j, const void *model);
/* `pipeline check`: the model's and head's own checks of their keys,
 * by creating them on a stand-in vocabulary. */
int sp_params_check(sp_job *j);
/* Creates model and head, allocates the arenas and binds every weight.
 * Initial values come from the seed (init ops). */
int sp_params_build(sp_job *j);
/* Pretrained word vectors ([encode] vectors) into the embedding table. */
int sp_params_load_vectors(sp_job *j);
/* The weights of model file mf, checked by name and shape. */
int sp_params_load(sp_job *j, sp_modelfile *mf);
/* Frozen vectors: no gradient before the update (call before it). */
void sp_params_freeze_grad(sp_params *p);
/* Frozen vectors: their values back after the update (decoupled weight
 * decay moves weights even without a gradient). */
void sp_params_freeze_restore(sp_params *p);

#endif /* SP_PARAMS_H */
