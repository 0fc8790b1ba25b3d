/*
 * bench_bpe.c: CPU time of learning byte-pair merges from a parallel corpus
 * (both sides, as `[encode] bpe = N` does) and of applying them to every
 * sentence.  Writes the merges to OUT (to compare two learners).
 *
 *   bench/bench_bpe SRC TGT MERGES OUT      e.g. Multi30k's train.de.gz train.en.gz
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sp_bpe.h"
#include "sp_parallel.h"

static double cpu_now(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv)
{
	sp_ctx *ctx = NULL;
	sp_parallel_opts po;
	sp_parallel *par = NULL;
	sp_bpe_opts o;
	sp_bpe *b = NULL;
	sp_buf out = {0};
	const char **texts;
	size_t *lens, n, pieces = 0;
	double t0, t_learn, t_apply;
	FILE *f;
	if (argc != 5) {
		fprintf(stderr, "usage: bench_bpe SRC TGT MERGES OUT\n");
		return 2;
	}
	sp_parallel_opts_init(&po);
	if (sp_ctx_new(&ctx, 1) < 0 || sp_parallel_read_files(&par, ctx, argv[1], argv[2], &po) < 0) {
		fprintf(stderr, "bench_bpe: %s\n", ctx ? sp_errmsg(ctx) : "out of memory");
		return 1;
	}
	n = sp_parallel_count(par);
	texts = malloc(2 * n * sizeof(*texts));
	lens = malloc(2 * n * sizeof(*lens));
	if (!texts || !lens)
		return 1;
	for (size_t i = 0; i < n; i++) {
		texts[2 * i] = sp_parallel_src(par, i, &lens[2 * i]);
		texts[2 * i + 1] = sp_parallel_tgt(par, i, &lens[2 * i + 1]);
	}
	sp_bpe_opts_init(&o);
	o.merges = (size_t)strtoul(argv[3], NULL, 10);
	t0 = cpu_now();
	if (sp_bpe_learn(&b, ctx, texts, lens, 2 * n, &o) < 0) {
		fprintf(stderr, "bench_bpe: %s\n", sp_errmsg(ctx));
		return 1;
	}
	t_learn = cpu_now() - t0;
	t0 = cpu_now();
	for (size_t i = 0; i < 2 * n; i++) {
		sp_buf_clear(&out);
		if (sp_bpe_encode(b, ctx, texts[i], lens[i], &out) < 0) {
			fprintf(stderr, "bench_bpe: text %zu: %s\n", i + 1, sp_errmsg(ctx));
			return 1;
		}
		for (size_t k = 0; k < out.len; k++)
			pieces += out.p[k] == ' ';
		pieces += out.len > 0;
	}
	t_apply = cpu_now() - t0;
	sp_buf_clear(&out);
	if (sp_bpe_save(b, ctx, &out) < 0 || !(f = fopen(argv[4], "w")) ||
	    fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0) {
		fprintf(stderr, "bench_bpe: cannot write %s\n", argv[4]);
		return 1;
	}
	printf("texts %zu  merges %zu  learn %.2f s CPU  apply %.2f s CPU (%zu pieces)\n", 2 * n,
	       sp_bpe_n_merges(b), t_learn, t_apply, pieces);
	sp_bpe_free(b);
	sp_buf_free(&out);
	free(texts);
	free(lens);
	sp_parallel_free(par);
	sp_ctx_free(ctx);
	return 0;
}
