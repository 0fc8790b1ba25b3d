/* Test module: a tokenizer named 'twin', as in the other twin module. Its
 * constructor appends the module name to the file $SEQPIPE_TEST_OPENED, so a
 * test can tell whether the host opened it. */
#include <stdio.h>
#include <stdlib.h>

#include "sp_plugin.h"

__attribute__((constructor)) static void twinb_opened_(void)
{
	const char *path = getenv("SEQPIPE_TEST_OPENED");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (f) {
		fputs("twinb\n", f);
		fclose(f);
	}
}

static int twinb_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	*out = NULL;
	return SP_OK;
}

static void twinb_destroy(void *self) {}

static int twinb_tokenize(void *self, sp_ctx *ctx, const char *text, size_t len,
			 sp_token_fn emit, void *payload)
{
	return len ? emit(payload, text, len, 0) : SP_OK;
}

static const sp_param_spec twinb_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_tokenizer_ops twinb_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "twin",
		 "the whole text as one token", twinb_params},
	.create = twinb_create, .destroy = twinb_destroy, .tokenize = twinb_tokenize,
};

SP_PLUGIN_DEFINE(twinb, "1.0", "test plugin: a component name another module has", &twinb_ops.base)
