/*
 * sp_utf8.h: the few Unicode operations the scorers and the parallel-text
 * reader need, defined the way Python 3 defines them, because sacreBLEU
 * (a Python program) is the reference the scores must reproduce:
 *
 *   - whitespace is what str.isspace() accepts (U+00A0, U+202F, U+3000 ...,
 *     not only ASCII), so "words" are what str.split() returns;
 *   - lowercasing is full Unicode lowercasing (str.lower(); ICU's root
 *     locale, which also maps a final capital sigma to 'ς');
 *   - text must be valid UTF-8 (Python refuses to decode anything else).
 *
 * Decoding uses ICU's U8_NEXT.  Also here: sp_buf, the growable byte
 * buffer these functions write into.  Not here: tokenizers (sp_bleu.h).
 */
#ifndef SP_UTF8_H
#define SP_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A growable byte buffer, always NUL-terminated after the first append.
 * Start from {0}; free with sp_buf_free.  Transparent on purpose: it is a
 * value the caller owns, reused across calls to avoid allocations. */
typedef struct sp_buf {
	char *p;
	size_t len;
	size_t cap;
} sp_buf;

void sp_buf_free(sp_buf *b);
/* len = 0 (keeps the memory). */
void sp_buf_clear(sp_buf *b);
/* Room for `extra` more bytes plus a NUL; SP_ENOMEM on failure. */
int sp_buf_reserve(sp_buf *b, sp_ctx *ctx, size_t extra);
int sp_buf_append(sp_buf *b, sp_ctx *ctx, const char *s, size_t n);

/* Python's str.isspace() for one code point (Unicode White_Space minus
 * U+180E as in Python >= 3.6, plus U+001C..U+001F). */
int sp_utf8_is_space(int32_t c);

/* 0 if s[0..n) is valid UTF-8; else SP_EINPUT and *bad = the byte offset
 * of the first invalid sequence (no message is set: the caller knows the
 * file and line). */
int sp_utf8_check(const char *s, size_t n, size_t *bad);

/* Appends the words of s[0..n) (str.split()) joined by one ASCII space to
 * out.  s must be valid UTF-8. */
int sp_utf8_join_words(sp_buf *out, sp_ctx *ctx, const char *s, size_t n);

/* Appends s[0..n) without any whitespace ("".join(s.split())) to out.
 * s must be valid UTF-8. */
int sp_utf8_strip_spaces(sp_buf *out, sp_ctx *ctx, const char *s, size_t n);

/* Byte offsets of the code points of valid UTF-8 s[0..n): offs[i] for code
 * point i, then offs[count] = n.  offs must hold n + 1 entries (there are
 * never more code points than bytes).  Returns count. */
size_t sp_utf8_offsets(const char *s, size_t n, uint32_t *offs);

/* Replaces out with the full Unicode lowercase of s[0..n) (ICU, root
 * locale). */
int sp_utf8_lower(sp_buf *out, sp_ctx *ctx, const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SP_UTF8_H */
