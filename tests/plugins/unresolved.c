/* A plugin that calls a function nothing defines.  Opened lazily it would
 * load and list fine and die at the first tokenize; the host must refuse it
 * when it is opened, naming the symbol. */
#include "sp_plugin.h"

int sp_no_such_function(const char *text);

static int un_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	*out = NULL;
	return SP_OK;
}

static void un_destroy(void *self) {}

static int un_tokenize(void *self, sp_ctx *ctx, const char *text, size_t len,
		       sp_token_fn emit, void *payload)
{
	return sp_no_such_function(text);
}

static const sp_param_spec un_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_tokenizer_ops un_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "unres",
		 "calls a function nothing defines", un_params},
	.create = un_create, .destroy = un_destroy, .tokenize = un_tokenize,
};

SP_PLUGIN_DEFINE(unresolved, "1.0", "test plugin: an unresolved symbol", &un_ops.base)
