/*
 * sp_partsum.c: see sp_partsum.h.  A stack of finished subtrees, one per
 * level, as a binary counter: part k closes the subtrees its trailing
 * one bits stand for.  With m a power of two this is the balanced tree;
 * otherwise the subtrees left at the end are added low level first.
 */
#include "config.h"

#include "sp_partsum.h"

#include <stdlib.h>
#include <string.h>

#define LEVELS_ 64

struct sp_partsum {
	size_t n, depth;     /* floats; levels allocated */
	float *level[LEVELS_];
	double loss[LEVELS_];
	int full[LEVELS_];   /* level l holds a finished subtree */
	size_t m, k;         /* parts in this sum; added so far */
	double run_loss;     /* the running subtree's loss */
};

int sp_partsum_new(sp_partsum **out, sp_ctx *ctx, size_t n, size_t parts)
{
	sp_partsum *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	s->n = n;
	/* levels 0..floor(log2(parts - 1)): at most that many wait */
	for (size_t p = parts > 1 ? parts - 1 : 0; p; p >>= 1)
		s->depth++;
	for (size_t l = 0; l < s->depth; l++)
		if (!(s->level[l] = malloc((n ? n : 1) * sizeof(float)))) {
			size_t depth = s->depth;
			sp_partsum_free(s);
			return sp_err(ctx, SP_ENOMEM, "out of memory: %zu gradient copies of %zu floats",
				      depth, n);
		}
	*out = s;
	return SP_OK;
}

void sp_partsum_free(sp_partsum *s)
{
	if (!s)
		return;
	for (size_t l = 0; l < s->depth; l++)
		free(s->level[l]);
	free(s);
}

void sp_partsum_begin(sp_partsum *s, size_t m)
{
	s->m = m;
	s->k = 0;
	memset(s->full, 0, sizeof(s->full));
}

/* g = a + g, element-wise (a is the left subtree). */
static void add_(float *g, const float *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g[i] = a[i] + g[i];
}

void sp_partsum_add(sp_partsum *s, float *g, double loss)
{
	size_t l = 0, x = s->k++;
	/* each trailing one bit: the left sibling subtree is done */
	for (; x & 1; x >>= 1, l++) {
		add_(g, s->level[l], s->n);
		loss = s->loss[l] + loss;
		s->full[l] = 0;
	}
	s->run_loss = loss;
	if (s->k == s->m)
		return;
	memcpy(s->level[l], g, s->n * sizeof(*g));
	s->loss[l] = loss;
	s->full[l] = 1;
}

double sp_partsum_end(sp_partsum *s, float *g)
{
	double loss = s->run_loss;
	/* m not a power of two: the subtrees still waiting, low to high */
	for (size_t l = 0; l < s->depth; l++)
		if (s->full[l]) {
			add_(g, s->level[l], s->n);
			loss = s->loss[l] + loss;
			s->full[l] = 0;
		}
	return loss;
}
