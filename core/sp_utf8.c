/*
 * sp_utf8.c: Python-compatible whitespace, word splitting and lowercasing
 * over UTF-8 (see sp_utf8.h for why Python's definitions).
 */
#include "sp_utf8.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ucasemap.h>
#include <unicode/utf8.h>

void sp_buf_free(sp_buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void sp_buf_clear(sp_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

int sp_buf_reserve(sp_buf *b, sp_ctx *ctx, size_t extra)
{
	size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 64;
	char *p;
	if (need <= b->cap)
		return SP_OK;
	while (cap < need)
		cap *= 2;
	if (!(p = realloc(b->p, cap)))
		return sp_err(ctx, SP_ENOMEM, "out of memory (%zu bytes of text)", cap);
	b->p = p;
	b->cap = cap;
	return SP_OK;
}

int sp_buf_append(sp_buf *b, sp_ctx *ctx, const char *s, size_t n)
{
	int rc = sp_buf_reserve(b, ctx, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return SP_OK;
}

int sp_utf8_is_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
	switch (c) {
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return 1;
	default:
		return c >= 0x2000 && c <= 0x200a;
	}
}

int sp_utf8_check(const char *s, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		size_t at = i;
		int32_t c;
		U8_NEXT(s, i, n, c);
		if (c < 0) {
			if (bad)
				*bad = at;
			return SP_EINPUT;
		}
	}
	return SP_OK;
}

int sp_utf8_join_words(sp_buf *out, sp_ctx *ctx, const char *s, size_t n)
{
	size_t i = 0;
	int first = 1, rc;
	while (i < n) {
		size_t start, end;
		int32_t c;
		/* skip whitespace */
		for (;;) {
			start = i;
			if (i >= n)
				return SP_OK;
			U8_NEXT(s, i, n, c);
			if (!sp_utf8_is_space(c))
				break;
		}
		/* the word runs to the next whitespace */
		end = i;
		while (i < n) {
			size_t at = i;
			U8_NEXT(s, i, n, c);
			if (sp_utf8_is_space(c)) {
				i = at;
				break;
			}
			end = i;
		}
		if (!first && (rc = sp_buf_append(out, ctx, " ", 1)) < 0)
			return rc;
		if ((rc = sp_buf_append(out, ctx, s + start, end - start)) < 0)
			return rc;
		first = 0;
	}
	return SP_OK;
}

int sp_utf8_strip_spaces(sp_buf *out, sp_ctx *ctx, const char *s, size_t n)
{
	size_t i = 0;
	int rc = sp_buf_reserve(out, ctx, n);
	if (rc < 0)
		return rc;
	while (i < n) {
		size_t at = i;
		int32_t c;
		U8_NEXT(s, i, n, c);
		if (!sp_utf8_is_space(c)) {
			memcpy(out->p + out->len, s + at, i - at);
			out->len += i - at;
		}
	}
	out->p[out->len] = '\0';
	return SP_OK;
}

size_t sp_utf8_offsets(const char *s, size_t n, uint32_t *offs)
{
	size_t i = 0, k = 0;
	while (i < n) {
		int32_t c;
		offs[k++] = (uint32_t)i;
		U8_NEXT(s, i, n, c);
		(void)c;
	}
	offs[k] = (uint32_t)n;
	return k;
}

int sp_utf8_lower(sp_buf *out, sp_ctx *ctx, const char *s, size_t n)
{
	UErrorCode err = U_ZERO_ERROR;
	UCaseMap *cm;
	int32_t got;
	int rc;
	if (n > (size_t)INT32_MAX / 3)
		return sp_err(ctx, SP_EINVAL, "lowercase: text of %zu bytes is too long", n);
	sp_buf_clear(out);
	/* lowercasing grows UTF-8 by at most 3/2 (U+0130 -> i + U+0307) */
	if ((rc = sp_buf_reserve(out, ctx, n * 3 / 2 + 4)) < 0)
		return rc;
	cm = ucasemap_open("", 0, &err);
	if (U_FAILURE(err))
		return sp_err(ctx, SP_ERROR, "lowercase: ICU: %s", u_errorName(err));
	got = ucasemap_utf8ToLower(cm, out->p, (int32_t)(out->cap - 1), s, (int32_t)n, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR) {
		err = U_ZERO_ERROR;
		if ((rc = sp_buf_reserve(out, ctx, (size_t)got)) < 0) {
			ucasemap_close(cm);
			return rc;
		}
		got = ucasemap_utf8ToLower(cm, out->p, (int32_t)(out->cap - 1), s,
					   (int32_t)n, &err);
	}
	ucasemap_close(cm);
	if (U_FAILURE(err))
		return sp_err(ctx, SP_EINPUT, "lowercase: ICU: %s", u_errorName(err));
	out->len = (size_t)got;
	out->p[out->len] = '\0';
	return SP_OK;
}
