/* A minimal well-formed plugin: one tokenizer that splits on spaces.  The
 * registry test loads it dynamically to prove the happy path without
 * depending on the real plugins. */
#include <stdlib.h>

#include "sp_plugin.h"

static int ws_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	(void)ctx;
	(void)args;
	*out = NULL;
	return SP_OK;
}

static void ws_destroy(void *self)
{
	(void)self;
}

static int ws_tokenize(void *self, sp_ctx *ctx, const char *text, size_t len,
		       sp_token_fn emit, void *payload)
{
	size_t i = 0;
	(void)self;
	(void)ctx;
	while (i < len) {
		size_t start;
		while (i < len && text[i] == ' ')
			i++;
		start = i;
		while (i < len && text[i] != ' ')
			i++;
		if (i > start) {
			int rc = emit(payload, text + start, i - start, start);
			if (rc < 0)
				return rc;
		}
	}
	return SP_OK;
}

static const sp_param_spec ws_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_tokenizer_ops ws_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "spaces",
		 "splits on ASCII spaces (test plugin)", ws_params},
	.create = ws_create,
	.destroy = ws_destroy,
	.tokenize = ws_tokenize,
};

SP_PLUGIN_DEFINE(goodtest, "1.0", "test plugin: a space tokenizer", &ws_ops.base)
