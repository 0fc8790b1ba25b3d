/*
 * sp_unkrep.c: rare training words read as unknown, drawn per epoch
 * (sp_unkrep.h).
 */
#include "sp_unkrep.h"

#include <stdlib.h>


int sp_unkrep_add(sp_unkrep *r, sp_ctx *ctx, size_t at, int32_t word, int32_t unk, float p)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		size_t *a = realloc(r->at, cap * sizeof(*a));
		int32_t *w = a ? realloc(r->word, cap * sizeof(*w)) : NULL;
		int32_t *u = w ? realloc(r->unk, cap * sizeof(*u)) : NULL;
		float *q = u ? realloc(r->p, cap * sizeof(*q)) : NULL;
		/* keep whichever grew: the next try or fini frees them */
		if (a)
			r->at = a;
		if (w)
			r->word = w;
		if (u)
			r->unk = u;
		if (!q)
			return sp_err(ctx, SP_ENOMEM, "out of memory noting rare words");
		r->p = q;
		r->cap = cap;
	}
	r->at[r->n] = at;
	r->word[r->n] = word;
	r->unk[r->n] = unk;
	r->p[r->n] = p;
	r->n++;
	return SP_OK;
}

/* splitmix64's finaliser: a well-mixed 64-bit hash of x. */
static uint64_t mix_(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

size_t sp_unkrep_epoch(const sp_unkrep *r, int32_t *ids, uint64_t seed, size_t epoch)
{
	uint64_t e = mix_(mix_(seed) ^ (uint64_t)epoch);
	size_t unknown = 0;
	for (size_t k = 0; k < r->n; k++) {
		/* the top 24 bits as a uniform draw in [0, 1) */
		double u = (double)(mix_(e ^ (uint64_t)r->at[k]) >> 40) / (double)(1u << 24);
		int as_unk = u < r->p[k];
		ids[r->at[k]] = as_unk ? r->unk[k] : r->word[k];
		unknown += (size_t)as_unk;
	}
	return unknown;
}

void sp_unkrep_restore(const sp_unkrep *r, int32_t *ids)
{
	for (size_t k = 0; k < r->n; k++)
		ids[r->at[k]] = r->word[k];
}

void sp_unkrep_fini(sp_unkrep *r)
{
	free(r->at);
	free(r->word);
	free(r->unk);
	free(r->p);
	*r = (sp_unkrep){0};
}
