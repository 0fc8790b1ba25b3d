/*
 * tokenizers.c: the tokenizer plugin, three components that turn UTF-8 text
 * into tokens for an encoder.
 *
 *   icu_words  words by ICU's word break rules (UAX #29 plus dictionaries
 *              for Chinese, Japanese, Thai, ...), optionally lower-cased or
 *              case-folded, punctuation and numbers optionally dropped
 *   chars      one token per code point or per grapheme cluster, for
 *              character-level language models
 *   dna        nucleotides A C G T N, or overlapping k-mers of them
 *
 * This file is not a normaliser (no NFC/NFKC: text is tokenized as given)
 * and not a subword tokenizer.  Each instance keeps its own ICU objects and
 * scratch buffers so that tokenize() allocates nothing once the buffers have
 * grown to the longest text seen; instances are not shared between threads.
 *
 * Input is validated before the first token is emitted, so invalid input
 * never produces a partial token stream.  Offsets given to emit are byte
 * offsets into the original text, also when case mapping changed a token's
 * length ("Straße" folds to "strasse" at the offset of "Straße").
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/ucasemap.h>
#include <unicode/uchar.h>
#include <unicode/uloc.h>
#include <unicode/utf16.h>
#include <unicode/utypes.h>

#include "sp_kv.h"
#include "sp_plugin.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

/* In the order of the `case` choices, so a choice index is its mode. */
enum { CASE_NONE, CASE_LOWER, CASE_FOLD };

/* Scratch buffers of one instance, grown on demand and reused. */
typedef struct tok_bufs {
	UChar *u16;    /* the text in UTF-16, for ICU's break iterators */
	size_t u16_cap;
	char *out;     /* one case-mapped token in UTF-8 */
	size_t out_cap;
} tok_bufs;

static void bufs_free_(tok_bufs *b)
{
	free(b->u16);
	free(b->out);
}

/* Grows *p to hold at least `need` elements of `elsize` bytes; doubling
 * keeps the number of reallocations logarithmic in the longest text. */
static int grow_(void **p, size_t *cap, size_t need, size_t elsize)
{
	size_t n = *cap ? *cap : 64;
	void *q;
	if (need <= *cap)
		return SP_OK;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elsize)
			return SP_ENOMEM;
		n *= 2;
	}
	q = realloc(*p, n * elsize);
	if (!q)
		return SP_ENOMEM;
	*p = q;
	*cap = n;
	return SP_OK;
}

/* Index of `s` in the '|'-separated list `choices`, or -1. */
static int choice_(const char *s, const char *choices)
{
	size_t n;
	int i = 0;
	if (!s)
		return -1;
	n = strlen(s);
	while (*choices) {
		size_t m = strcspn(choices, "|");
		if (m == n && strncmp(choices, s, n) == 0)
			return i;
		choices += m + (choices[m] == '|');
		i++;
	}
	return -1;
}

/* Reads a string key that must be one of `choices`.  The host's
 * sp_kv_validate has already checked it; this guards hosts that skip it,
 * so a bad value is an error rather than a silent default. */
static int get_choice_(sp_ctx *ctx, const char *who, const sp_kv *args,
		       const char *key, const char *choices, int *out)
{
	const char *s = sp_kv_str(args, key);
	*out = choice_(s, choices);
	if (*out < 0)
		return sp_err(ctx, SP_EINVAL, "%s: %s=\"%s\" (%s) must be one of %s",
			      who, key, s ? s : "", sp_kv_where(args, key),
			      choices);
	return SP_OK;
}

/*
 * Decodes the UTF-8 sequence at s[*i] and advances *i past it.  Returns the
 * code point, or -1 for an ill-formed sequence (then *i is unchanged, so it
 * names the offending byte): a lone continuation byte, a lead byte that
 * cannot start a sequence (C0, C1, F5..FF: C0 and C1 only start overlong
 * forms), a sequence cut short by the end of text or by a non-continuation
 * byte, an overlong form, a surrogate, or a value above U+10FFFF.  These are
 * the rules of Unicode 3.9 (Table 3-7), the same ICU applies.
 */
static int32_t utf8_next_(const unsigned char *s, size_t n, size_t *i)
{
	size_t j = *i, len;
	uint32_t c = s[j], cp, min;
	if (c < 0x80) {
		*i = j + 1;
		return (int32_t)c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, cp = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (n - j < len)
		return -1;
	for (size_t k = 1; k < len; k++) {
		uint32_t b = s[j + k];
		if ((b & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (b & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i = j + len;
	return (int32_t)cp;
}

static int bad_utf8_(sp_ctx *ctx, const char *who, const char *text,
		     size_t at)
{
	return sp_err(ctx, SP_EINPUT, "%s: invalid UTF-8 at byte %zu (0x%02X)",
		      who, at, (unsigned)(unsigned char)text[at]);
}

static int utf8_check_(sp_ctx *ctx, const char *who, const char *text,
		       size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < len)
		if (utf8_next_(s, len, &i) < 0)
			return bad_utf8_(ctx, who, text, i);
	return SP_OK;
}

/*
 * Validates text and converts it to UTF-16 in b->u16 (*n16 units).  ICU
 * indexes with int32_t, hence the length limit; a UTF-8 byte never yields
 * more than one UTF-16 unit, so len units always suffice.
 */
static int utf8_to_u16_(sp_ctx *ctx, const char *who, tok_bufs *b,
			const char *text, size_t len, int32_t *n16)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, k = 0;
	*n16 = 0;
	if (len > INT32_MAX)
		return sp_err(ctx, SP_EINPUT,
			      "%s: text of %zu bytes exceeds ICU's limit of %d",
			      who, len, INT32_MAX);
	if (grow_((void **)&b->u16, &b->u16_cap, len ? len : 1,
		  sizeof(*b->u16)))
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", who);
	while (i < len) {
		int32_t c = utf8_next_(s, len, &i);
		if (c < 0)
			return bad_utf8_(ctx, who, text, i);
		if (c < 0x10000) {
			b->u16[k++] = (UChar)c;
		} else {
			b->u16[k++] = U16_LEAD(c);
			b->u16[k++] = U16_TRAIL(c);
		}
	}
	*n16 = (int32_t)k;
	return SP_OK;
}

/*
 * Walks the UTF-16 text in step with the original UTF-8 to turn a break
 * position (UTF-16 index) into a byte offset.  Break positions only grow,
 * so one forward cursor costs O(n) per text and needs no offset table.
 * The UTF-16 was made from validated UTF-8, so each code point's UTF-8
 * length follows from its value.
 */
typedef struct u16_cursor {
	int32_t u16;
	size_t u8;
} u16_cursor;

static void cursor_advance_(u16_cursor *c, const UChar *s, int32_t to)
{
	while (c->u16 < to) {
		UChar u = s[c->u16++];
		if (U16_IS_LEAD(u)) {
			c->u16++;
			c->u8 += 4;
		} else {
			c->u8 += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
		}
	}
}

/* First code point of s[at..end): decides what a segment "is". */
static UChar32 first_cp_(const UChar *s, int32_t at, int32_t end)
{
	UChar32 c;
	U16_NEXT(s, at, end, c);
	return c;
}

/*
 * Case-maps one UTF-8 token src[0..n) into b->out (*out_len bytes).  The
 * first call with an empty buffer only measures (ICU's preflighting); the
 * retry is then exact, so the loop runs at most twice.
 */
static int case_map_(sp_ctx *ctx, const char *who, const UCaseMap *cm,
		     int mode, tok_bufs *b, const char *src, size_t n,
		     size_t *out_len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		UErrorCode st = U_ZERO_ERROR;
		int32_t cap = b->out_cap > INT32_MAX ? INT32_MAX
						     : (int32_t)b->out_cap;
		int32_t need =
			mode == CASE_FOLD
				? ucasemap_utf8FoldCase(cm, b->out, cap, src,
							(int32_t)n, &st)
				: ucasemap_utf8ToLower(cm, b->out, cap, src,
						       (int32_t)n, &st);
		if (st == U_BUFFER_OVERFLOW_ERROR) {
			if (grow_((void **)&b->out, &b->out_cap,
				  (size_t)need + 1, 1))
				return sp_err(ctx, SP_ENOMEM,
					      "%s: out of memory", who);
			continue;
		}
		if (U_FAILURE(st))
			return sp_err(ctx, SP_ERROR, "%s: case mapping failed: %s",
				      who, u_errorName(st));
		*out_len = (size_t)need;
		return SP_OK;
	}
	return sp_err(ctx, SP_ERROR, "%s: case mapping did not converge", who);
}

/* ------------------------------------------------------------------ */
/* icu_words                                                           */
/* ------------------------------------------------------------------ */

typedef struct words {
	UBreakIterator *bi; /* UBRK_WORD, opened once, re-pointed per text */
	UCaseMap *cm;       /* NULL when case=none */
	int casing;
	int drop_punct;
	int drop_numbers;
	tok_bufs buf;
} words;

static void words_destroy(void *self)
{
	words *w = self;
	if (!w)
		return;
	if (w->bi)
		ubrk_close(w->bi);
	if (w->cm)
		ucasemap_close(w->cm);
	bufs_free_(&w->buf);
	free(w);
}

/*
 * ICU silently falls back to root rules for a locale it does not know, so a
 * typo ("englsh") would go unnoticed.  A locale counts as known when ICU can
 * name its language; "" and "root" select the root rules on purpose.
 * Canonicalising turns BCP 47 spellings ("zh-Hant-TW") into ICU ids.
 */
static int words_locale_(sp_ctx *ctx, const sp_kv *args, char *out,
			 size_t cap)
{
	const char *loc = sp_kv_str(args, "locale");
	UErrorCode st = U_ZERO_ERROR;
	if (!loc)
		loc = "";
	uloc_canonicalize(loc, out, (int32_t)cap, &st);
	if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
		return sp_err(ctx, SP_EINVAL,
			      "icu_words: locale=\"%s\" (%s) is not a valid locale id",
			      loc, sp_kv_where(args, "locale"));
	if (out[0] && strcmp(out, "root") != 0 &&
	    uloc_getISO3Language(out)[0] == '\0')
		return sp_err(ctx, SP_EINVAL,
			      "icu_words: locale=\"%s\" (%s) names no language ICU "
			      "knows; use e.g. \"en\", \"id\", \"ja\", or \"\" for root",
			      loc, sp_kv_where(args, "locale"));
	return SP_OK;
}

static int words_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	char loc[ULOC_FULLNAME_CAPACITY];
	UErrorCode st = U_ZERO_ERROR;
	int rc, punct, numbers;
	words *w = calloc(1, sizeof(*w));
	*out = NULL;
	if (!w)
		return sp_err(ctx, SP_ENOMEM, "icu_words: out of memory");
	if ((rc = words_locale_(ctx, args, loc, sizeof(loc))) ||
	    (rc = get_choice_(ctx, "icu_words", args, "case", "none|lower|fold",
			      &w->casing)) ||
	    (rc = get_choice_(ctx, "icu_words", args, "punct", "keep|drop",
			      &punct)) ||
	    (rc = get_choice_(ctx, "icu_words", args, "numbers", "keep|drop",
			      &numbers)))
		goto fail;
	w->drop_punct = punct == 1;
	w->drop_numbers = numbers == 1;
	w->bi = ubrk_open(UBRK_WORD, loc, NULL, 0, &st);
	if (U_FAILURE(st)) {
		rc = sp_err(ctx, SP_ERROR,
			    "icu_words: cannot open a word break iterator for "
			    "locale \"%s\": %s", loc, u_errorName(st));
		goto fail;
	}
	if (w->casing != CASE_NONE) {
		st = U_ZERO_ERROR;
		w->cm = ucasemap_open(loc, U_FOLD_CASE_DEFAULT, &st);
		if (U_FAILURE(st)) {
			rc = sp_err(ctx, SP_ERROR,
				    "icu_words: cannot open a case map for "
				    "locale \"%s\": %s", loc, u_errorName(st));
			goto fail;
		}
	}
	*out = w;
	return SP_OK;
fail:
	words_destroy(w);
	return rc;
}

/*
 * Whether a segment becomes a token.  The rule status of the boundary that
 * ends a segment says what the segment is: below UBRK_WORD_NONE_LIMIT it
 * holds no letter, number, kana or ideograph (spaces, punctuation, symbols,
 * emoji).  Of those, a segment starting with white space is white space
 * (the rules glue only combining marks to it) and is never a token.
 */
static int words_keep_(const words *w, int32_t status, const UChar *s,
		       int32_t start, int32_t end)
{
	if (status < UBRK_WORD_NONE_LIMIT)
		return !u_isUWhiteSpace(first_cp_(s, start, end)) &&
		       !w->drop_punct;
	if (status < UBRK_WORD_NUMBER_LIMIT)
		return !w->drop_numbers;
	return 1;
}

static int words_tokenize(void *self, sp_ctx *ctx, const char *text,
			  size_t len, sp_token_fn emit, void *payload)
{
	words *w = self;
	UErrorCode st = U_ZERO_ERROR;
	u16_cursor cur = {0, 0};
	int32_t n16, start, end;
	int rc;
	if (!text && len)
		return sp_err(ctx, SP_EINVAL, "icu_words: NULL text");
	if ((rc = utf8_to_u16_(ctx, "icu_words", &w->buf, text, len, &n16)))
		return rc;
	if (n16 == 0)
		return SP_OK;
	ubrk_setText(w->bi, w->buf.u16, n16, &st);
	if (U_FAILURE(st))
		return sp_err(ctx, SP_ERROR, "icu_words: ubrk_setText: %s",
			      u_errorName(st));
	start = ubrk_first(w->bi);
	for (end = ubrk_next(w->bi); end != UBRK_DONE;
	     start = end, end = ubrk_next(w->bi)) {
		size_t off = cur.u8, n;
		const char *tok;
		cursor_advance_(&cur, w->buf.u16, end);
		if (!words_keep_(w, ubrk_getRuleStatus(w->bi), w->buf.u16,
				 start, end))
			continue;
		tok = text + off;
		n = cur.u8 - off;
		if (w->cm) {
			if ((rc = case_map_(ctx, "icu_words", w->cm, w->casing,
					    &w->buf, tok, n, &n)))
				return rc;
			tok = w->buf.out;
		}
		if ((rc = emit(payload, tok, n, off)))
			return rc;
	}
	return SP_OK;
}

static const sp_param_spec words_params[] = {
	{"locale", SP_T_STRING, "en",
	 "ICU locale of the word rules and of case=lower (\"tr\" lowers I to "
	 "dotless i); \"\" = root",
	 NULL},
	{"case", SP_T_STRING, "none",
	 "none | lower (locale rules) | fold (locale-free case folding: "
	 "Straße -> strasse)",
	 "none|lower|fold"},
	{"punct", SP_T_STRING, "keep",
	 "keep | drop tokens without a letter, number or ideograph "
	 "(punctuation, symbols, emoji)",
	 "keep|drop"},
	{"numbers", SP_T_STRING, "keep",
	 "keep | drop number tokens (3.14, 1,000)", "keep|drop"},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_tokenizer_ops icu_words_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "icu_words",
		 "words by ICU word boundaries (dictionaries for CJK and Thai); "
		 "white space is never a token",
		 words_params},
	.create = words_create,
	.destroy = words_destroy,
	.tokenize = words_tokenize,
};

/* ------------------------------------------------------------------ */
/* chars                                                               */
/* ------------------------------------------------------------------ */

typedef struct chars {
	UBreakIterator *bi; /* UBRK_CHARACTER when unit=grapheme, else NULL */
	UCaseMap *cm;       /* root case map when case=lower, else NULL */
	int drop_spaces;
	tok_bufs buf;
} chars;

static void chars_destroy(void *self)
{
	chars *c = self;
	if (!c)
		return;
	if (c->bi)
		ubrk_close(c->bi);
	if (c->cm)
		ucasemap_close(c->cm);
	bufs_free_(&c->buf);
	free(c);
}

static int chars_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	UErrorCode st = U_ZERO_ERROR;
	int rc, unit, casing, spaces;
	chars *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return sp_err(ctx, SP_ENOMEM, "chars: out of memory");
	if ((rc = get_choice_(ctx, "chars", args, "unit", "codepoint|grapheme",
			      &unit)) ||
	    (rc = get_choice_(ctx, "chars", args, "case", "none|lower",
			      &casing)) ||
	    (rc = get_choice_(ctx, "chars", args, "spaces", "keep|drop",
			      &spaces)))
		goto fail;
	c->drop_spaces = spaces == 1;
	/* Grapheme clusters are the same in every locale (UAX #29 has no
	 * tailorings in ICU), so root rules do. */
	if (unit == 1) {
		c->bi = ubrk_open(UBRK_CHARACTER, "", NULL, 0, &st);
		if (U_FAILURE(st)) {
			rc = sp_err(ctx, SP_ERROR,
				    "chars: cannot open a character break "
				    "iterator: %s", u_errorName(st));
			goto fail;
		}
	}
	if (casing == CASE_LOWER) {
		st = U_ZERO_ERROR;
		c->cm = ucasemap_open("", U_FOLD_CASE_DEFAULT, &st);
		if (U_FAILURE(st)) {
			rc = sp_err(ctx, SP_ERROR,
				    "chars: cannot open a case map: %s",
				    u_errorName(st));
			goto fail;
		}
	}
	*out = c;
	return SP_OK;
fail:
	chars_destroy(c);
	return rc;
}

/* Emits one character token text[off..off+n), lower-cased when asked.
 * ASCII, the bulk of most corpora, skips ICU's per-call overhead. */
static int chars_emit_(chars *c, sp_ctx *ctx, const char *text, size_t off,
		       size_t n, sp_token_fn emit, void *payload)
{
	const char *tok = text + off;
	char ascii;
	int rc;
	if (c->cm) {
		if (n == 1 && (unsigned char)*tok < 0x80) {
			ascii = *tok >= 'A' && *tok <= 'Z' ? *tok + ('a' - 'A')
							   : *tok;
			tok = &ascii;
		} else {
			if ((rc = case_map_(ctx, "chars", c->cm, CASE_LOWER,
					    &c->buf, tok, n, &n)))
				return rc;
			tok = c->buf.out;
		}
	}
	return emit(payload, tok, n, off);
}

static int chars_tokenize(void *self, sp_ctx *ctx, const char *text,
			  size_t len, sp_token_fn emit, void *payload)
{
	chars *c = self;
	const unsigned char *s = (const unsigned char *)text;
	UErrorCode st = U_ZERO_ERROR;
	u16_cursor cur = {0, 0};
	int32_t n16, start, end;
	size_t i = 0;
	int rc;
	if (!text && len)
		return sp_err(ctx, SP_EINVAL, "chars: NULL text");
	if (!c->bi) {
		/* Code points need no ICU iterator: decode in place. */
		if ((rc = utf8_check_(ctx, "chars", text, len)))
			return rc;
		while (i < len) {
			size_t off = i;
			int32_t cp = utf8_next_(s, len, &i);
			if (c->drop_spaces && u_isUWhiteSpace(cp))
				continue;
			if ((rc = chars_emit_(c, ctx, text, off, i - off, emit,
					      payload)))
				return rc;
		}
		return SP_OK;
	}
	if ((rc = utf8_to_u16_(ctx, "chars", &c->buf, text, len, &n16)))
		return rc;
	if (n16 == 0)
		return SP_OK;
	ubrk_setText(c->bi, c->buf.u16, n16, &st);
	if (U_FAILURE(st))
		return sp_err(ctx, SP_ERROR, "chars: ubrk_setText: %s",
			      u_errorName(st));
	start = ubrk_first(c->bi);
	for (end = ubrk_next(c->bi); end != UBRK_DONE;
	     start = end, end = ubrk_next(c->bi)) {
		size_t off = cur.u8;
		cursor_advance_(&cur, c->buf.u16, end);
		/* "\r\n" is one cluster, so it is one token or, with
		 * spaces=drop, none. */
		if (c->drop_spaces &&
		    u_isUWhiteSpace(first_cp_(c->buf.u16, start, end)))
			continue;
		if ((rc = chars_emit_(c, ctx, text, off, cur.u8 - off, emit,
				      payload)))
			return rc;
	}
	return SP_OK;
}

static const sp_param_spec chars_params[] = {
	{"unit", SP_T_STRING, "codepoint",
	 "codepoint | grapheme (a user-perceived character: e + combining "
	 "accent, a ZWJ emoji sequence)",
	 "codepoint|grapheme"},
	{"case", SP_T_STRING, "none", "none | lower (root locale rules)",
	 "none|lower"},
	{"spaces", SP_T_STRING, "keep",
	 "keep | drop white space; kept, each space or newline is a token "
	 "(\" \", \"\\n\")",
	 "keep|drop"},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_tokenizer_ops chars_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "chars",
		 "one token per code point or grapheme cluster, for "
		 "character-level models",
		 chars_params},
	.create = chars_create,
	.destroy = chars_destroy,
	.tokenize = chars_tokenize,
};

/* ------------------------------------------------------------------ */
/* dna                                                                 */
/* ------------------------------------------------------------------ */

/* Beyond 32 a k-mer vocabulary (up to 5^k entries) is far past anything
 * trainable, and a window of 32 bases fits the stack. */
#define DNA_KMAX 32

typedef struct dna {
	size_t k;
	size_t stride;
	int positions; /* tokens "POS:KMER", POS the 1-based k-mer number */
} dna;

static void dna_destroy(void *self)
{
	free(self);
}

static int dna_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	long k = sp_kv_int(args, "k"), stride = sp_kv_int(args, "stride");
	int rc;
	dna *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d)
		return sp_err(ctx, SP_ENOMEM, "dna: out of memory");
	if (k < 1 || k > DNA_KMAX) {
		rc = sp_err(ctx, SP_EINVAL, "dna: k=%ld (%s) must be 1..%d", k,
			    sp_kv_where(args, "k"), DNA_KMAX);
		goto fail;
	}
	/* A stride longer than k would skip bases without a word. */
	if (stride < 1 || stride > k) {
		rc = sp_err(ctx, SP_EINVAL,
			    "dna: stride=%ld (%s) must be 1..k (k=%ld)", stride,
			    sp_kv_where(args, "stride"), k);
		goto fail;
	}
	d->k = (size_t)k;
	d->stride = (size_t)stride;
	d->positions = sp_kv_bool(args, "positions");
	*out = d;
	return SP_OK;
fail:
	dna_destroy(d);
	return rc;
}

/* The upper-case base of byte b, 0 for white space, -1 for anything else. */
static int dna_base_(unsigned char b)
{
	switch (b) {
	case 'A': case 'a': return 'A';
	case 'C': case 'c': return 'C';
	case 'G': case 'g': return 'G';
	case 'T': case 't': return 'T';
	case 'N': case 'n': return 'N';
	case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
		return 0;
	default: return -1;
	}
}

/* One k-mer, as it is or as "POS:KMER". */
static int dna_emit_(const dna *d, const char *kmer, size_t pos, size_t off,
		     sp_token_fn emit, void *payload)
{
	char tok[24 + DNA_KMAX];
	int n;
	if (!d->positions)
		return emit(payload, kmer, d->k, off);
	n = snprintf(tok, sizeof(tok), "%zu:%.*s", pos, (int)d->k, kmer);
	return emit(payload, tok, (size_t)n, off);
}

static int dna_tokenize(void *self, sp_ctx *ctx, const char *text, size_t len,
			sp_token_fn emit, void *payload)
{
	const dna *d = self;
	const unsigned char *s = (const unsigned char *)text;
	/* Sliding window of the last bases and their offsets, compacted
	 * when full; white space between bases does not break a k-mer. */
	char win[2 * DNA_KMAX];
	size_t woff[2 * DNA_KMAX], w = 0, nbase = 0;
	int rc;
	if (!text && len)
		return sp_err(ctx, SP_EINVAL, "dna: NULL text");
	for (size_t i = 0; i < len; i++) {
		if (dna_base_(s[i]) >= 0)
			continue;
		if (s[i] > 0x20 && s[i] < 0x7F)
			return sp_err(ctx, SP_EINPUT,
				      "dna: invalid nucleotide '%c' at position %zu "
				      "(byte offset %zu), expected one of A C G T N",
				      s[i], i + 1, i);
		return sp_err(ctx, SP_EINPUT,
			      "dna: invalid nucleotide byte 0x%02X at position %zu "
			      "(byte offset %zu), expected one of A C G T N",
			      (unsigned)s[i], i + 1, i);
	}
	for (size_t i = 0; i < len; i++) {
		int b = dna_base_(s[i]);
		if (b == 0)
			continue;
		if (w == sizeof(win)) {
			memmove(win, win + w - (d->k - 1), d->k - 1);
			memmove(woff, woff + w - (d->k - 1),
				(d->k - 1) * sizeof(*woff));
			w = d->k - 1;
		}
		win[w] = (char)b;
		woff[w++] = i;
		nbase++;
		/* k-mers start at bases 0, stride, 2*stride, ... */
		if (nbase >= d->k && (nbase - d->k) % d->stride == 0 &&
		    (rc = dna_emit_(d, win + w - d->k, (nbase - d->k) / d->stride + 1,
				    woff[w - d->k], emit, payload)))
			return rc;
	}
	return SP_OK;
}

static const sp_param_spec dna_params[] = {
	{"k", SP_T_INT, "1",
	 "bases per token, 1..32; k > 1 gives overlapping k-mers", NULL},
	{"stride", SP_T_INT, "1",
	 "bases between the starts of consecutive k-mers, 1..k", NULL},
	{"positions", SP_T_BOOL, "false",
	 "each token is POS:KMER (POS = 1, 2, ...): for windows of a fixed "
	 "length whose positions mean something, as around a splice site", NULL},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_tokenizer_ops dna_ops = {
	.base = {sizeof(sp_tokenizer_ops), SP_KIND_TOKENIZER, "dna",
		 "nucleotides A C G T N (any case, emitted upper-case) or "
		 "k-mers; white space skipped",
		 dna_params},
	.create = dna_create,
	.destroy = dna_destroy,
	.tokenize = dna_tokenize,
};

SP_PLUGIN_DEFINE(tokenizers, PACKAGE_VERSION,
		 "tokenizers: ICU words, characters, DNA bases and k-mers",
		 &icu_words_ops.base, &chars_ops.base, &dna_ops.base)
