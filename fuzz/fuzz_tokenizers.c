/*
 * fuzz_tokenizers.c: the tokenizers of plugins/tokenizers.c (icu_words,
 * chars, dna), driven through the plugin descriptor as the host does.
 *
 * Input: byte 0 picks the tokenizer and its options, the rest is the text
 * (not NUL-terminated, as the host hands it over).  Every emitted token
 * is checked to lie inside the text at its offset, or, when the
 * tokenizer changes case, to be valid for its length.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"

const sp_plugin *tokenizers_LTX_sp_plugin_entry(void);

typedef struct emit_ {
	size_t len;     /* of the text */
	int same_bytes; /* tokens are slices of the text */
	const char *text;
} emit_;

static int emit_cb_(void *payload, const char *tok, size_t len, size_t off)
{
	const emit_ *e = payload;
	volatile unsigned char sink = 0;

	if (off > e->len)
		abort(); /* an offset past the end of the text */
	if (e->same_bytes && (len > e->len - off ||
			      memcmp(tok, e->text + off, len) != 0))
		abort(); /* a token that is not the text at its offset */
	for (size_t i = 0; i < len; i++)
		sink ^= (unsigned char)tok[i];
	(void)sink;
	return 0;
}

/* args: NULL-terminated key, value pairs. */
static void run_(const char *comp, const char *const *args, int same_bytes,
		 const uint8_t *text, size_t len)
{
	const sp_plugin *p = tokenizers_LTX_sp_plugin_entry();
	const sp_tokenizer_ops *ops = NULL;
	sp_ctx *ctx = NULL;
	sp_kv *kv = NULL;
	void *self = NULL;
	emit_ e = {len, same_bytes, (const char *)text};

	for (size_t i = 0; p->components[i]; i++)
		if (strcmp(p->components[i]->name, comp) == 0)
			ops = (const sp_tokenizer_ops *)p->components[i];
	if (!ops)
		abort();
	if (sp_ctx_new(&ctx, 1) != SP_OK || sp_kv_new(&kv, comp) != SP_OK)
		goto done;
	for (; args[0]; args += 2)
		if (sp_kv_set(kv, ctx, args[0], args[1],
			      !sp_kv_number_syntax(args[1], strlen(args[1])),
			      "fuzz") != SP_OK)
			goto done;
	if (sp_kv_validate(kv, ctx, ops->base.params, ".") != SP_OK ||
	    ops->create(&self, ctx, kv) != SP_OK)
		goto done;
	(void)ops->tokenize(self, ctx, (const char *)text, len, emit_cb_, &e);
	ops->destroy(self);
done:
	sp_kv_free(kv);
	sp_ctx_free(ctx);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const locales[] = {"en", "tr", "ja", ""};
	static const char *const k[] = {"1", "2", "3", "6"};
	unsigned sel;
	uint8_t *text;

	if (size == 0)
		return 0;
	sel = data[0];
	/* a copy of exactly the text's bytes, so reading past it is caught */
	text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	switch (sel % 3) {
	case 0:
		run_("icu_words",
		     ARGS("locale", locales[(sel >> 2) & 3], "case",
			  (sel & 16) ? ((sel & 32) ? "fold" : "lower") : "none",
			  "punct", (sel & 64) ? "drop" : "keep", "numbers",
			  (sel & 128) ? "drop" : "keep"),
		     !(sel & 16), text, size - 1);
		break;
	case 1:
		run_("chars",
		     ARGS("unit", (sel & 4) ? "grapheme" : "codepoint", "case",
			  (sel & 8) ? "lower" : "none", "spaces",
			  (sel & 16) ? "drop" : "keep"),
		     !(sel & 8), text, size - 1);
		break;
	default: {
		char stride[8];
		snprintf(stride, sizeof(stride), "%u", 1 + ((sel >> 4) & 3));
		run_("dna", ARGS("k", k[(sel >> 2) & 3], "stride", stride),
		     0, text, size - 1);
	}
	}
	free(text);
	return 0;
}
