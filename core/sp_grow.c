/*
 * sp_grow.c: the doubling growable array (see sp_grow.h).
 */
#include "sp_grow.h"

#include <stdint.h>
#include <stdlib.h>

int sp_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	size_t nc = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (nc < need) {
		if (nc > SIZE_MAX / 2 / elem)
			return -1;
		nc *= 2;
	}
	if (!(q = realloc(*p, nc * elem)))
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}
