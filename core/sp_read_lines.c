/*
 * sp_read_lines.c: [data] format = lines, one example per non-blank line
 * of UTF-8 text (language models; the tokenizer splits the text).
 */
#include "sp_read_text.h"

#include <string.h>

#include "sp_textfile.h"

static int line_(void *payload, size_t lineno, char *s, size_t len)
{
	const sp_read_env *env = payload;
	sp_example ex = SP_EXAMPLE_INIT;
	ex.line = lineno;
	ex.text = s; /* not NUL-terminated: text_len counts */
	ex.text_len = len;
	return env->emit(env->payload, &ex);
}

int sp_read_lines(sp_ctx *ctx, const char *path, const sp_data_opts *o,
		  const sp_read_env *env)
{
	return sp_textfile_each(ctx, path, o->max_line_bytes, o->max_file_bytes,
				0, line_, (void *)env);
}

static int lines_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		       const sp_read_env *env)
{
	sp_data_opts o;
	sp_read_text_opts(&o, args, env);
	return sp_read_lines(ctx, path, &o, env);
}

static const sp_param_spec lines_params_[] = {{NULL, 0, NULL, NULL, NULL}};

const sp_reader_ops sp_reader_lines = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "lines",
		 "one text per non-blank line (language models)",
		 lines_params_},
	.fields = SP_FIELD_TEXT,
	.read = lines_read_,
};
