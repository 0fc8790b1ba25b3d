/*
 * fuzz_data.c: one data reader of core/sp_data.c, chosen at build time
 * with -DFUZZ_FORMAT=SP_DATA_LINES | SP_DATA_CONLL | SP_DATA_TSV (three
 * targets: fuzz_lines, fuzz_conll, fuzz_tsv).
 *
 * Input: the file as is, so shipped data files are seeds.  A file that
 * starts with the gzip magic is read as FILE.gz (through zlib).  The
 * reader options come from the input's length, which the fuzzer varies
 * freely: bit 0 skip_bad, bit 1 header (tsv), bits 2-3 the tsv columns.
 * A corpus that reads is walked through every accessor.
 */
#include "fuzz.h"

#include <string.h>

#include "sp_ctx.h"
#include "sp_data.h"

#ifndef FUZZ_FORMAT
#error "build with -DFUZZ_FORMAT=SP_DATA_LINES (or _CONLL, _TSV)"
#endif

static void walk_(const sp_corpus *c)
{
	volatile size_t sum = 0;

	for (size_t i = 0; i < sp_corpus_count(c) + 1; i++) {
		size_t len = 0, n = 0, nl = 0;
		const char *t = sp_corpus_text(c, i, &len);
		const char *l = sp_corpus_label(c, i);
		const char *const *tok = sp_corpus_tokens(c, i, &n);
		const char *const *lab = sp_corpus_labels(c, i, &nl);
		if (t)
			sum += strlen(t) == len;
		if (l)
			sum += strlen(l);
		for (size_t k = 0; tok && k < n; k++)
			sum += strlen(tok[k]) + strlen(lab[k]);
		sum += sp_corpus_line(c, i) + nl;
	}
	sum += sp_corpus_skipped(c);
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int cols[4][2] = {{0, 1}, {0, -1}, {-1, 0}, {2, 1}};
	sp_ctx *ctx = NULL;
	sp_corpus *c = NULL;
	sp_data_opts o;
	int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	const char *path = fuzz_scratch(data, size, gz ? ".txt.gz" : ".txt");

	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 0;
	sp_data_opts_init(&o);
	o.skip_bad = (int)(size & 1);
	o.header = (int)((size >> 1) & 1);
	o.text_col = cols[(size >> 2) & 3][0];
	o.label_col = cols[(size >> 2) & 3][1];
	if (sp_corpus_read(&c, ctx, path, FUZZ_FORMAT, &o) == SP_OK) {
		walk_(c);
		sp_corpus_free(c);
	}
	(void)sp_errmsg(ctx);
	sp_ctx_free(ctx);
	return 0;
}
