/* Test module: a tokenizer named 'twin', as in the other twin module. Its
 * constructor appends the module name to the file $SEQPIPE_TEST_OPENED, so a
 * test can tell whether the host opened it. */
#include <stdio.h>
#include <stdlib.h>

#include "sp_plugin.h"

__attribute__((constructor)) static void twina_opened_(void)
{
	const char *path = getenv("SEQPIPE_TEST_OPENED");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (f) {
		fputs("twina\n", f);
		fclose(f);
	}
}

static int twina_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	*out = NULL;
	return SP_OK;
}

static void twina_destroy(void *self) {}

static int twina_tokenize(void *self, sp_ctx *ctx, const char *text, size_t len,
			 sp_token_fn emit, void *payload)
{
	return len ? emit(payload, text, len, 0) : SP_OK;
}

static const sp_param_spec twina_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_tokenizer_ops twina_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "twin",
		 "the whole text as one token", twina_params},
	.create = twina_create, .destroy = twina_destroy, .tokenize = twina_tokenize,
};

SP_PLUGIN_DEFINE(twina, "1.0", "test plugin: a component name another module has", &twina_ops.base)
