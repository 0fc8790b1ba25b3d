/*
 * sp_hash.c: FNV-1a 64 and its hex form (see sp_hash.h).
 */
#include "sp_hash.h"

#include <stdio.h>

uint64_t sp_hash_fnv1a64(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void sp_hash_text(char out[SP_HASH_HEX_LEN + 1], const char *text,
		  size_t len)
{
	/* Fixed width, so hashes sort and compare as strings. */
	snprintf(out, SP_HASH_HEX_LEN + 1, "%016llx",
		 (unsigned long long)sp_hash_fnv1a64(text, len));
}
