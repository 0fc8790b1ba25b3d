/*
 * t_partsum.c: tests of core/sp_partsum.c, the fixed tree in which the
 * parts' gradients of a batch are added.  The values are chosen so that
 * float addition's order shows: 1e8 + 1 + ... loses the ones that a sum
 * of the small terms first keeps.
 */
#include "sp_partsum.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* The four parts' gradients: 2 floats each. */
static const float part_[4][2] = {{1.0f, 3.0f}, {1e8f, 0.25f}, {-1e8f, 1e-8f}, {1.0f, 7.0f}};

/* The tree for m parts fed one by one into s; g[0..2) the result. */
static double feed(sp_partsum *s, size_t first, size_t m, float *g)
{
	sp_partsum_begin(s, m);
	for (size_t k = 0; k < m; k++) {
		memcpy(g, part_[first + k], sizeof(part_[0]));
		sp_partsum_add(s, g, (double)(first + k + 1) * 0.1);
	}
	return sp_partsum_end(s, g);
}

int main(void)
{
	sp_ctx *ctx;
	sp_partsum *s4 = NULL, *s2 = NULL, *s3 = NULL;
	float g[2], lo[2], hi[2];
	volatile float a, b;
	double loss;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	ok(sp_partsum_new(&s4, ctx, 2, 4) == SP_OK && sp_partsum_new(&s2, ctx, 2, 2) == SP_OK &&
	   sp_partsum_new(&s3, ctx, 2, 3) == SP_OK, "sums of 4, 2 and 3 parts");

	/* four parts: (p0 + p1) + (p2 + p3), element by element */
	loss = feed(s4, 0, 4, g);
	for (int i = 0; i < 2; i++) {
		a = part_[0][i] + part_[1][i];
		b = part_[2][i] + part_[3][i];
		lo[i] = a + b;
	}
	ok(!memcmp(g, lo, sizeof(g)), "4 parts add as (p0 + p1) + (p2 + p3): %.9g %.9g", g[0], g[1]);
	a = part_[0][0] + part_[1][0];
	a = a + part_[2][0];
	a = a + part_[3][0];
	ok(g[0] == 0.0f && a == 1.0f, "which is not the left-to-right sum (%g, left to right %g)",
	   (double)g[0], (double)a);
	ok(loss == (0.1 + 0.2) + (0.30000000000000004 + 0.4), "the losses in the same tree (%.17g)", loss);

	/* two ranks of 2 parts each: their sums added last are the same bits */
	feed(s2, 0, 2, lo);
	feed(s2, 2, 2, hi);
	for (int i = 0; i < 2; i++) {
		a = hi[i] + lo[i]; /* the order of a last addition does not matter */
		hi[i] = a;
	}
	ok(!memcmp(g, hi, sizeof(g)), "2 + 2 parts summed apart and then added: the 4-part sum's bits");

	/* three parts: (p0 + p1) + p2; fewer parts than allocated */
	feed(s3, 0, 3, g);
	for (int i = 0; i < 2; i++) {
		a = part_[0][i] + part_[1][i];
		lo[i] = a + part_[2][i];
	}
	ok(!memcmp(g, lo, sizeof(g)), "3 parts add as (p0 + p1) + p2");
	feed(s4, 1, 1, g);
	ok(g[0] == part_[1][0] && g[1] == part_[1][1], "one part is itself");
	sp_partsum_free(s4);
	sp_partsum_free(s2);
	sp_partsum_free(s3);
	sp_ctx_free(ctx);
	return tap_done();
}
