/* Test module: a tokenizer named 'chars', as the built-in one. Its
 * constructor appends the module name to the file $SEQPIPE_TEST_OPENED, so a
 * test can tell whether the host opened it. */
#include <stdio.h>
#include <stdlib.h>

#include "sp_plugin.h"

__attribute__((constructor)) static void shadow_opened_(void)
{
	const char *path = getenv("SEQPIPE_TEST_OPENED");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (f) {
		fputs("shadow\n", f);
		fclose(f);
	}
}

static int shadow_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	*out = NULL;
	return SP_OK;
}

static void shadow_destroy(void *self) {}

static int shadow_tokenize(void *self, sp_ctx *ctx, const char *text, size_t len,
			 sp_token_fn emit, void *payload)
{
	return len ? emit(payload, text, len, 0) : SP_OK;
}

static const sp_param_spec shadow_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_tokenizer_ops shadow_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "chars",
		 "the whole text as one token", shadow_params},
	.create = shadow_create, .destroy = shadow_destroy, .tokenize = shadow_tokenize,
};

SP_PLUGIN_DEFINE(shadow, "1.0", "test plugin: a component name another module has", &shadow_ops.base)
