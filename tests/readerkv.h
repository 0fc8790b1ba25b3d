/*
 * readerkv.h: the [data] section a reader test hands to a reader: the
 * format's name and "key=value" settings, validated against the host's
 * data keys and the reader's own, as the runner validates a .pipe.
 */
#ifndef TESTS_READERKV_H
#define TESTS_READERKV_H

#include <stddef.h>

#include "sp_kv.h"

/* The section (caller frees), or NULL after a TAP diagnostic naming what
 * failed.  Values are set as written (no .pipe quoting). */
sp_kv *reader_kv(sp_ctx *ctx, const char *format, const char *const *set, size_t n);

#endif
