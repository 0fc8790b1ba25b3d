/*
 * sp_read_synth.c: [data] format = synthetic, the generated tasks of
 * sp_synth as a reader.  No file: the split's examples come from the
 * [data] keys and the pipeline's seed.
 */
#include "sp_readers.h"

#include <string.h>

#include "sp_synth.h"

static int synth_check_(sp_ctx *ctx, const sp_kv *args)
{
	return sp_synth_check_kv(args, ctx);
}

static int synth_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		       const sp_read_env *env)
{
	sp_corpus *c = NULL;
	int rc = sp_synth_read(&c, ctx, args, env->seed, env->split);
	(void)path;
	for (size_t i = 0; rc == 0 && i < sp_corpus_count(c); i++) {
		sp_example e = SP_EXAMPLE_INIT;
		e.line = sp_corpus_line(c, i);
		e.text = sp_corpus_text(c, i, &e.text_len);
		e.label = sp_corpus_label(c, i);
		rc = env->emit(env->payload, &e);
	}
	sp_corpus_free(c);
	return rc < 0 ? rc : SP_OK;
}

static const sp_param_spec synth_params_[] = {
	{"task", SP_T_STRING, "recall", "synthetic: recall (the first of T symbols is the label)", "recall"},
	{"length", SP_T_INT, "10", "synthetic: symbols per example, T", NULL},
	{"classes", SP_T_INT, "4", "synthetic: number of keys (labels), 2 to 26", NULL},
	{"distractors", SP_T_BOOL, "false", "synthetic: the noise is drawn from the keys too, so a key seen later must be ignored", NULL},
	{"n_train", SP_T_INT, "1000", "synthetic: training examples", NULL},
	{"n_dev", SP_T_INT, "200", "synthetic: development examples (0 = none)", NULL},
	{"n_test", SP_T_INT, "0", "synthetic: test examples (0 = none)", NULL},
	{NULL, 0, NULL, NULL, NULL}};

const sp_reader_ops sp_reader_synthetic = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "synthetic",
		 "a generated task (recall: the first of T symbols is the label)",
		 synth_params_},
	.fields = SP_FIELD_TEXT | SP_FIELD_LABEL,
	.generated = 1,
	.check = synth_check_,
	.read = synth_read_,
};
