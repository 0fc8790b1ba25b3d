/*
 * sp_tokchars.c: each input token's characters, for model stages that
 * read spellings (character-level word features).
 */
#include "config.h"

#include "sp_tokchars.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_grow.h"
#include "sp_plugin.h"

void sp_tokchars_fini(sp_tokchars *c)
{
	free(c->ex);
	free(c->tok);
	free(c->cp);
	memset(c, 0, sizeof(*c));
}

/* The code point at s[0..n) and its length in bytes; a byte that does not
 * start a valid sequence is U+FFFD of length 1. */
static int32_t decode_(const unsigned char *s, size_t n, size_t *len)
{
	int32_t c = s[0], min;
	size_t k;
	*len = 1;
	if (c < 0x80)
		return c;
	if ((c & 0xe0) == 0xc0)
		k = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		k = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		k = 4, c &= 0x07, min = 0x10000;
	else
		return 0xfffd;
	if (k > n)
		return 0xfffd;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0xfffd;
	*len = k;
	return c;
}

/* Appends one token's code points, its middle cut beyond SP_CHARS_MAX. */
static void add_token_(sp_tokchars *c, const unsigned char *s, size_t len)
{
	int32_t all[4 * SP_CHARS_MAX], *out = c->cp + c->n_cp;
	size_t n = 0, total = 0, half = SP_CHARS_MAX / 2;
	/* the first half as it comes; then a ring of the last half */
	for (size_t i = 0, l; i < len; i += l) {
		int32_t cp = decode_(s + i, len - i, &l);
		if (total < half)
			out[n++] = cp;
		else
			all[(total - half) % half] = cp;
		total++;
	}
	if (total > half) {
		size_t tail = total - half < half ? total - half : half;
		size_t start = total - half <= half ? 0 : (total - half) % half;
		for (size_t i = 0; i < tail; i++)
			out[n++] = all[(start + i) % half];
	}
	c->n_cp += n;
}

int sp_tokchars_add(sp_tokchars *c, sp_ctx *ctx, const char *text,
		    const size_t *off, const size_t *tlen, size_t n)
{
	if (n > (SIZE_MAX - c->n_cp) / SP_CHARS_MAX ||
	    sp_grow(&c->ex, &c->cap_ex, c->n_ex + 1, sizeof(*c->ex)) < 0 ||
	    sp_grow(&c->tok, &c->cap_tok, c->n_tok + n + 1, sizeof(*c->tok)) < 0 ||
	    sp_grow(&c->cp, &c->cap_cp, c->n_cp + n * SP_CHARS_MAX, sizeof(*c->cp)) < 0)
		return sp_err(ctx, SP_ENOMEM, "out of memory for the characters of the tokens");
	if (c->n_tok == 0)
		c->tok[0] = 0;
	c->ex[c->n_ex++] = c->n_tok;
	for (size_t k = 0; k < n; k++) {
		add_token_(c, (const unsigned char *)text + off[k], tlen[k]);
		c->tok[++c->n_tok] = c->n_cp;
	}
	return SP_OK;
}

const int32_t *sp_tokchars_token(const sp_tokchars *c, size_t e, size_t k,
				 size_t *n)
{
	size_t t = c->ex[e] + k;
	*n = c->tok[t + 1] - c->tok[t];
	return c->cp + c->tok[t];
}
