/*
 * fuzz_pipe.c: the .pipe parser (core/sp_pipe.c) and the value checks of
 * core/sp_kv.c.
 *
 * Input: the text of a .pipe file; bytes after a first NUL, if any, are a
 * `--set` override applied after parsing.  Each parsed section is then
 * validated against a spec that gives every key a type picked from its
 * length, so the int/float/bool/path conversions see every value.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_kv.h"
#include "sp_pipe.h"
#include "sp_plugin.h"

static void validate_all_(sp_pipe *pipe, sp_ctx *ctx)
{
	for (size_t s = 0; s < sp_pipe_count(pipe); s++) {
		sp_kv *kv = sp_pipe_section_at(pipe, s);
		size_t n = sp_kv_count(kv);
		sp_param_spec *spec = calloc(n + 1, sizeof(*spec));
		if (!spec)
			return;
		for (size_t i = 0; i < n; i++) {
			const char *key = sp_kv_key_at(kv, i);
			const char *text = sp_kv_text_at(kv, i);
			(void)sp_kv_where_at(kv, i);
			(void)sp_kv_key_where(kv, key);
			(void)sp_kv_number_syntax(text, strlen(text));
			spec[i].key = key;
			spec[i].type = (sp_type)(SP_T_INT + strlen(key) % 5);
			spec[i].def = "0";
			spec[i].doc = "fuzz";
		}
		(void)sp_kv_section_where(kv);
		if (sp_kv_validate(kv, ctx, spec, sp_pipe_dir(pipe)) == SP_OK)
			for (size_t i = 0; i < n; i++)
				(void)sp_kv_text_at(kv, i);
		free(spec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sp_ctx *ctx = NULL;
	sp_pipe *pipe = NULL;
	const uint8_t *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - data) : size;

	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 0;
	if (sp_pipe_parse_mem(&pipe, ctx, "fuzz.pipe", (const char *)data,
			      len) == SP_OK) {
		(void)sp_pipe_name(pipe);
		(void)sp_pipe_text(pipe, NULL);
		if (nul) {
			size_t on = size - len - 1;
			char *over = malloc(on + 1);
			if (over) {
				memcpy(over, nul + 1, on);
				over[on] = '\0';
				(void)sp_pipe_override(pipe, ctx, over);
				free(over);
			}
		}
		validate_all_(pipe, ctx);
		sp_pipe_free(pipe);
	}
	(void)sp_errmsg(ctx);
	sp_ctx_free(ctx);
	return 0;
}
