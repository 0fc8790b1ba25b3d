/* A plugin whose tokenizer leaves its required tokenize op NULL: the host
 * must refuse the module instead of calling through a NULL pointer. */
#include "sp_plugin.h"

static const sp_param_spec nullops_params[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_tokenizer_ops nullops_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "broken",
		 "a tokenizer without its tokenize op", nullops_params},
};

SP_PLUGIN_DEFINE(nullops, "1.0", "test plugin: a required op is NULL", &nullops_ops.base)
