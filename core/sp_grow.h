/*
 * sp_grow.h: the growable array of the host's readers and corpus: a
 * buffer, its capacity in elements, and one call that makes room.
 * Internal (not installed, not exported): plugins keep their own.
 */
#ifndef SP_GROW_H
#define SP_GROW_H

#include <stddef.h>

/* Makes room for `need` elements of `elem` bytes in the buffer *pp
 * (a pointer to any object pointer, NULL at first), whose capacity
 * *cap counts elements: doubles from 64 until `need` fits, so that
 * appending one at a time reallocates a logarithmic number of times.
 * 0, or -1 when the size overflows or realloc fails (then *pp and *cap
 * are as they were; the caller still owns *pp and frees it). */
int sp_grow(void *pp, size_t *cap, size_t need, size_t elem);

#endif
