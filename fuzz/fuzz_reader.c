/*
 * fuzz_reader.c: one reader component, chosen at build time with
 * -DFUZZ_READER='"name"': a built-in reader (parallel, ptb), or, with
 * -DFUZZ_PLUGIN=module, a component of a reader plugin compiled in
 * (dnaread: fasta, genbank).  Targets fuzz_parallel, fuzz_ptb,
 * fuzz_fasta, fuzz_genbank.
 *
 * Input: the file as is, so shipped data files are seeds.  For parallel,
 * an input holding a NUL byte is two files (before and after it) read
 * as PATH.a and PATH.b, else one tsv file.  The [data] keys come from the
 * input's length, which the fuzzer varies freely: bit 0 skip_bad, bits
 * 1-2 the choice of `labels` (ptb: fine, binary, raw; genbank: fine,
 * class), bit 3 ptb's `phrases` (the split read is "train").  A corpus that reads is walked through every accessor.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "sp_readers.h"

#ifndef FUZZ_READER
#error "build with -DFUZZ_READER='\"parallel\"' (or ptb, fasta, genbank)"
#endif

#ifdef FUZZ_PLUGIN
#define ENTRY_(m) m##_LTX_sp_plugin_entry
#define ENTRY(m) ENTRY_(m)
const sp_plugin *ENTRY(FUZZ_PLUGIN)(void);
#endif

static const sp_reader_ops *reader_(void)
{
#ifdef FUZZ_PLUGIN
	const sp_plugin *p = ENTRY(FUZZ_PLUGIN)();
	for (size_t i = 0; p->components[i]; i++)
		if (!strcmp(p->components[i]->name, FUZZ_READER))
			return (const sp_reader_ops *)p->components[i];
	return NULL;
#else
	const sp_reader_ops *r = NULL;
	sp_ctx *ctx = NULL;
	if (sp_ctx_new(&ctx, 1) == SP_OK)
		sp_reader_find(&r, ctx, NULL, FUZZ_READER, "fuzz");
	sp_ctx_free(ctx);
	return r;
#endif
}

static void walk_(const sp_corpus *c)
{
	volatile size_t sum = 0;
	for (size_t i = 0; i < sp_corpus_count(c) + 1; i++) {
		size_t len = 0, tl = 0, n = 0, nl = 0;
		const char *t = sp_corpus_text(c, i, &len), *g = sp_corpus_target(c, i, &tl);
		const char *l = sp_corpus_label(c, i);
		const char *const *tok = sp_corpus_tokens(c, i, &n);
		const char *const *lab = sp_corpus_labels(c, i, &nl);
		sum += t ? strlen(t) == len : 0;
		sum += g ? strlen(g) == tl : 0;
		sum += l ? strlen(l) : 0;
		for (size_t k = 0; tok && k < n; k++)
			sum += strlen(tok[k]) + (lab ? strlen(lab[k]) : 0);
		sum += sp_corpus_line(c, i) + nl;
	}
	(void)sum;
}

/* The [data] keys: format, and the options the length picks. */
static sp_kv *args_(sp_ctx *ctx, const sp_reader_ops *r, size_t size, int two)
{
	static const sp_param_spec host[] = {{"format", SP_T_STRING, NULL, "", NULL},
					     {"max_examples", SP_T_INT, "0", "", NULL},
					     {NULL, 0, NULL, NULL, NULL}};
	static const char *const labels[] = {"fine", "binary", "raw", "class"};
	sp_param_spec *spec = NULL;
	sp_kv *kv = NULL;
	int ok = sp_kv_new(&kv, "data") == SP_OK &&
		 sp_reader_spec(r, ctx, host, &spec) == SP_OK;
	for (size_t i = 0; ok && spec[i].key; i++) {
		const char *k = spec[i].key, *v = NULL;
		if (!strcmp(k, "format"))
			v = FUZZ_READER;
		else if (!strcmp(k, "skip_bad"))
			v = size & 1 ? "true" : "false";
		else if (!strcmp(k, "labels") && spec[i].choices)
			v = strstr(spec[i].choices, "class") ? labels[(size >> 1) & 1 ? 3 : 0]
							     : labels[((size >> 1) & 3) % 3];
		else if (!strcmp(k, "phrases"))
			v = size & 8 ? "true" : "false";
		else if (two && !strcmp(k, "src_suffix"))
			v = "a";
		else if (two && !strcmp(k, "tgt_suffix"))
			v = "b";
		if (v)
			ok = sp_kv_set(kv, ctx, k, v, 0, "fuzz") == SP_OK;
	}
	if (!ok || sp_kv_validate(kv, ctx, spec, ".") != SP_OK) {
		sp_kv_free(kv);
		kv = NULL;
	}
	free(spec);
	return kv;
}

/* Writes the input: one file, or for parallel with a NUL two (PATH.a,
 * PATH.b); returns the path to read. */
static const char *files_(const uint8_t *data, size_t size, int *two)
{
	static char base[512];
	const uint8_t *nul = memchr(data, 0, size);
	const char *p;
	*two = !strcmp(FUZZ_READER, "parallel") && nul;
	if (!*two)
		return fuzz_scratch(data, size, size >= 2 && data[0] == 0x1f && data[1] == 0x8b ? ".gz" : ".txt");
	p = fuzz_scratch(nul + 1, size - (size_t)(nul - data) - 1, ".b");
	snprintf(base, sizeof(base), "%.*s", (int)(strlen(p) - 2), p);
	{
		char a[520];
		FILE *f;
		snprintf(a, sizeof(a), "%s.a", base);
		if ((f = fopen(a, "wb"))) {
			fwrite(data, 1, (size_t)(nul - data), f);
			fclose(f);
		}
	}
	return base;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const sp_reader_ops *r;
	sp_ctx *ctx = NULL;
	sp_corpus *c = NULL;
	sp_kv *kv;
	int two;
	const char *path;
	if (!r && !(r = reader_()))
		abort(); /* the harness, not the code under test */
	path = files_(data, size, &two);
	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 0;
	kv = args_(ctx, r, size, two);
	if (kv && sp_reader_read(&c, ctx, r, kv, path, "train", 1) == SP_OK) {
		walk_(c);
		sp_corpus_free(c);
	}
	(void)sp_errmsg(ctx);
	if (two) {
		char a[520];
		snprintf(a, sizeof(a), "%s.a", path);
		remove(a);
	}
	sp_kv_free(kv);
	sp_ctx_free(ctx);
	return 0;
}
