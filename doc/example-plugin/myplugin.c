/*
 * myplugin.c: the smallest useful seqpipe plugin, a tokenizer that splits
 * on ASCII spaces.  doc/plugins.md walks through it; `make installcheck`
 * builds it out of tree against the installed seqpipe.
 */
#include <sp_plugin.h> /* pkg-config --cflags seqpipe puts it on the path */

static int ws_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	(void)ctx;
	(void)args;
	*out = NULL; /* no state */
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
		 "splits on ASCII spaces", ws_params},
	.create = ws_create,
	.destroy = ws_destroy,
	.tokenize = ws_tokenize,
};

/* the module file is myplugin.so, so the plugin's name is "myplugin" */
SP_PLUGIN_DEFINE(myplugin, "1.0", "my first seqpipe plugin", &ws_ops.base)
