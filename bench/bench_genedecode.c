/*
 * bench_genedecode.c: the gene Viterbi on a random sequence of N bases
 * (default 1,000,000) with random log-probabilities; prints the wall time
 * and the number of genes.  Run under /usr/bin/time -v for the peak RSS:
 *   /usr/bin/time -v bench/bench_genedecode 1000000
 * The score matrix (N x 9 floats) is part of the footprint, as it is in a
 * real prediction.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sp_genedecode.h"

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
	uint8_t *seq = malloc(n);
	float *lp = malloc(n * SP_NLABEL * sizeof(*lp));
	unsigned s = 1;
	sp_ctx *ctx;
	sp_gene *g;
	size_t ng;
	struct timespec t0, t1;
	if (!seq || !lp || sp_ctx_new(&ctx, 1))
		return 1;
	for (size_t i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		seq[i] = (uint8_t)((s >> 16) & 3);
		for (int k = 0; k < SP_NLABEL; k++) {
			s = s * 1103515245u + 12345u;
			lp[i * SP_NLABEL + k] = (float)log(((s >> 8) + 1.0) / 16777218.0);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sp_genedecode(ctx, seq, n, lp, NULL, &g, &ng, NULL)) {
		fprintf(stderr, "%s\n", sp_errmsg(ctx));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("decoded %zu bases in %.3f s: %zu genes\n", n,
	       (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), ng);
	sp_genes_free(g, ng);
	free(seq);
	free(lp);
	sp_ctx_free(ctx);
	return 0;
}
