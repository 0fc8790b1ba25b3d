/*
 * sp_bleu.c: BLEU as sacreBLEU 2.x computes it (see sp_bleu.h).
 *
 * The 13a tokenizer works on UTF-8 bytes.  Its regular expressions are
 * fixed two-character patterns, and Python's re.sub scans left to right
 * and never re-reads a replaced match, so each is one left-to-right pass
 * that consumes two bytes on a match and one otherwise.  Bytes give the
 * same result as Python's code points: the patterns' own characters are
 * ASCII, and [^0-9] is true of every byte of a multi-byte character.
 */
#include "config.h"

#include "sp_bleu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ngram.h"
#include "sp_utf8.h"

struct sp_bleu {
	sp_bleu_opts o;
	sp_buf a, b;        /* tokenizer ping-pong buffers */
	sp_buf hyp, ref;    /* tokenized segment pair */
	size_t *starts;     /* token starts of one segment, then ends */
	size_t starts_cap;
	sp_ngrams *ngrams;
};

void sp_bleu_opts_init(sp_bleu_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->tokenize = SP_BLEU_TOK_13A;
	o->smooth = SP_BLEU_SMOOTH_EXP;
	o->smooth_value = -1.0;
}

int sp_bleu_tok_parse(sp_bleu_tok *out, sp_ctx *ctx, const char *name)
{
	if (!strcmp(name, "13a"))
		*out = SP_BLEU_TOK_13A;
	else if (!strcmp(name, "none"))
		*out = SP_BLEU_TOK_NONE;
	else
		return sp_err(ctx, SP_EINVAL, "tokenize '%s': expected 13a or none", name);
	return SP_OK;
}

int sp_bleu_smooth_parse(sp_bleu_smooth *out, sp_ctx *ctx, const char *name)
{
	static const char *const names[] = {"exp", "none", "floor", "add-k"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, names[i])) {
			*out = (sp_bleu_smooth)i;
			return SP_OK;
		}
	return sp_err(ctx, SP_EINVAL, "smooth '%s': expected exp, none, floor or add-k", name);
}

int sp_bleu_new(sp_bleu **out, sp_ctx *ctx, const sp_bleu_opts *opts)
{
	sp_bleu *b;
	int rc;
	*out = NULL;
	if (!opts || opts->size < sizeof(sp_bleu_opts))
		return sp_err(ctx, SP_EINVAL, "bleu: options not initialised (sp_bleu_opts_init)");
	if ((unsigned)opts->tokenize > SP_BLEU_TOK_NONE ||
	    (unsigned)opts->smooth > SP_BLEU_SMOOTH_ADDK)
		return sp_err(ctx, SP_EINVAL, "bleu: unknown tokenizer or smoothing method");
	if (!(b = calloc(1, sizeof(*b))))
		return sp_err(ctx, SP_ENOMEM, "bleu: out of memory");
	b->o = *opts;
	if ((rc = sp_ngrams_new(&b->ngrams, ctx)) < 0) {
		sp_bleu_free(b);
		return rc;
	}
	*out = b;
	return SP_OK;
}

void sp_bleu_free(sp_bleu *b)
{
	if (!b)
		return;
	sp_buf_free(&b->a);
	sp_buf_free(&b->b);
	sp_buf_free(&b->hyp);
	sp_buf_free(&b->ref);
	free(b->starts);
	sp_ngrams_free(b->ngrams);
	free(b);
}

/* ---- the 13a tokenizer -------------------------------------------------- */

/* The first occurrence of f[0..nf) in s[0..n), or NULL (memmem is a GNU
 * extension). */
static const char *find(const char *s, size_t n, const char *f, size_t nf)
{
	for (const char *p = s; nf <= n - (size_t)(p - s);) {
		if (!(p = memchr(p, f[0], n - (size_t)(p - s) - nf + 1)))
			return NULL;
		if (memcmp(p, f, nf) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* out = in with every non-overlapping `from` replaced by `to` (str.replace) */
static int replace_all(sp_buf *out, sp_ctx *ctx, const sp_buf *in, const char *from,
		       const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), i = 0;
	int rc;
	sp_buf_clear(out);
	while (i < in->len) {
		const char *hit = find(in->p + i, in->len - i, from, nf);
		size_t upto = hit ? (size_t)(hit - in->p) : in->len;
		if ((rc = sp_buf_append(out, ctx, in->p + i, upto - i)) < 0)
			return rc;
		if (!hit)
			break;
		if ((rc = sp_buf_append(out, ctx, to, nt)) < 0)
			return rc;
		i = upto + nf;
	}
	if (!out->p)
		return sp_buf_append(out, ctx, "", 0);
	return SP_OK;
}

/* [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII punctuation except ' - . , */
static int is_punct13a(unsigned char c)
{
	return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
	       (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_dotcomma(unsigned char c) { return c == '.' || c == ','; }

/* The four substitutions of TokenizerRegexp, each one pass from in to out. */
static int regex_pass(sp_buf *out, sp_ctx *ctx, const sp_buf *in, int which)
{
	const unsigned char *s = (const unsigned char *)in->p;
	size_t n = in->len, i = 0;
	int rc;
	sp_buf_clear(out);
	if ((rc = sp_buf_reserve(out, ctx, 3 * n + 1)) < 0)
		return rc;
	char *o = out->p;
	size_t k = 0;
	while (i < n) {
		unsigned char c = s[i], d = i + 1 < n ? s[i + 1] : 0;
		int two = i + 1 < n;
		if (which == 0 && is_punct13a(c)) {          /* ' \1 ' */
			o[k++] = ' ', o[k++] = (char)c, o[k++] = ' ';
			i++;
		} else if (which == 1 && two && !is_digit(c) && is_dotcomma(d)) {
			o[k++] = (char)c, o[k++] = ' ', o[k++] = (char)d, o[k++] = ' ';
			i += 2;                                  /* '\1 \2 ' */
		} else if (which == 2 && two && is_dotcomma(c) && !is_digit(d)) {
			o[k++] = ' ', o[k++] = (char)c, o[k++] = ' ', o[k++] = (char)d;
			i += 2;                                  /* ' \1 \2' */
		} else if (which == 3 && two && is_digit(c) && d == '-') {
			o[k++] = (char)c, o[k++] = ' ', o[k++] = '-', o[k++] = ' ';
			i += 2;                                  /* '\1 \2 ' */
		} else {
			o[k++] = (char)c;
			i++;
		}
	}
	out->len = k;
	o[k] = '\0';
	return SP_OK;
}

/* Tokenizes b->a (the raw, possibly lowercased text) into out. */
static int tok13a(sp_bleu *b, sp_ctx *ctx, sp_buf *out)
{
	static const char *const rep[][2] = {
		{"<skipped>", ""}, {"-\n", ""}, {"\n", " "}, {"&quot;", "\""},
		{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
	sp_buf *x = &b->a, *y = &b->b, *t;
	int rc;
	for (size_t r = 0; r < sizeof(rep) / sizeof(rep[0]); r++) {
		if ((rc = replace_all(y, ctx, x, rep[r][0], rep[r][1])) < 0)
			return rc;
		t = x, x = y, y = t;
	}
	/* " {line} " */
	sp_buf_clear(y);
	if ((rc = sp_buf_append(y, ctx, " ", 1)) < 0 ||
	    (rc = sp_buf_append(y, ctx, x->p, x->len)) < 0 ||
	    (rc = sp_buf_append(y, ctx, " ", 1)) < 0)
		return rc;
	t = x, x = y, y = t;
	for (int which = 0; which < 4; which++) {
		if ((rc = regex_pass(y, ctx, x, which)) < 0)
			return rc;
		t = x, x = y, y = t;
	}
	sp_buf_clear(out);
	return sp_utf8_join_words(out, ctx, x->p, x->len);
}

static int tokenize_into(sp_bleu *b, sp_ctx *ctx, const char *text, size_t len, sp_buf *out)
{
	size_t bad;
	int rc;
	if (sp_utf8_check(text, len, &bad) < 0)
		return sp_err(ctx, SP_EINPUT, "byte %zu: invalid UTF-8", bad + 1);
	if (b->o.lowercase)
		rc = sp_utf8_lower(&b->a, ctx, text, len);
	else {
		sp_buf_clear(&b->a);
		rc = sp_buf_append(&b->a, ctx, text, len);
	}
	if (rc < 0)
		return rc;
	if (b->o.tokenize == SP_BLEU_TOK_13A)
		return tok13a(b, ctx, out);
	sp_buf_clear(out);
	if ((rc = sp_utf8_join_words(out, ctx, b->a.p, b->a.len)) < 0)
		return rc;
	return out->p ? SP_OK : sp_buf_append(out, ctx, "", 0);
}

int sp_bleu_tokenize(sp_bleu *b, sp_ctx *ctx, const char *text, size_t len,
		     const char **out, size_t *out_len)
{
	int rc = tokenize_into(b, ctx, text, len, &b->hyp);
	if (rc < 0)
		return rc;
	*out = b->hyp.p ? b->hyp.p : "";
	*out_len = b->hyp.len;
	return SP_OK;
}

/* ---- statistics ------------------------------------------------------------ */

/* Token starts of a single-spaced string into b->starts[0..k) and their
 * ends into b->starts[k..2k); returns k. */
static int token_bounds(sp_bleu *b, sp_ctx *ctx, const sp_buf *s, size_t *k_out)
{
	size_t k = 0, need = s->len + 2;
	if (need * 2 > b->starts_cap) {
		size_t *p = realloc(b->starts, need * 2 * sizeof(*p));
		if (!p)
			return sp_err(ctx, SP_ENOMEM, "bleu: out of memory");
		b->starts = p;
		b->starts_cap = need * 2;
	}
	for (size_t i = 0; i < s->len; i++)
		if (i == 0 || s->p[i - 1] == ' ')
			b->starts[k++] = i;
	for (size_t j = 0; j < k; j++) {
		const char *sp = memchr(s->p + b->starts[j], ' ', s->len - b->starts[j]);
		b->starts[need + j] = sp ? (size_t)(sp - s->p) : s->len;
	}
	*k_out = k;
	return SP_OK;
}

/* Offers every n-gram (n = 1..4) of s to the table: as reference (match =
 * NULL) or as hypothesis (counting clipped matches and totals). */
static int walk_ngrams(sp_bleu *b, sp_ctx *ctx, const sp_buf *s, int64_t *len,
		       int64_t *correct, int64_t *total)
{
	size_t k = 0, need = s->len + 2;
	int rc = token_bounds(b, ctx, s, &k);
	if (rc < 0)
		return rc;
	*len = (int64_t)k;
	for (unsigned n = 1; n <= SP_BLEU_ORDER; n++)
		for (size_t i = 0; i + n <= k; i++) {
			const char *p = s->p + b->starts[i];
			size_t l = b->starts[need + i + n - 1] - b->starts[i];
			if (!correct) {
				sp_ngrams_add_ref(b->ngrams, p, l, n);
			} else {
				correct[n - 1] += sp_ngrams_offer_hyp(b->ngrams, p, l, n);
				total[n - 1]++;
			}
		}
	return SP_OK;
}

static int segment_stats(sp_bleu *b, sp_ctx *ctx, const char *hyp, size_t hyp_len,
			 const char *ref, size_t ref_len, sp_bleu_stats *st)
{
	int rc;
	memset(st, 0, sizeof(*st));
	if ((rc = tokenize_into(b, ctx, ref, ref_len, &b->ref)) < 0)
		return sp_err_prefix(ctx, rc, "reference");
	if (ref_len == 0)
		return sp_err(ctx, SP_EINPUT, "empty reference (sacreBLEU refuses them too)");
	if ((rc = tokenize_into(b, ctx, hyp, hyp_len, &b->hyp)) < 0)
		return sp_err_prefix(ctx, rc, "hypothesis");
	/* each token is at least one byte and one space apart: n-grams of all
	 * four orders number at most 4 * (len + 1) */
	if ((rc = sp_ngrams_reset(b->ngrams, ctx, 4 * (b->ref.len + b->hyp.len + 2))) < 0)
		return rc;
	if ((rc = walk_ngrams(b, ctx, &b->ref, &st->ref_len, NULL, NULL)) < 0)
		return rc;
	return walk_ngrams(b, ctx, &b->hyp, &st->sys_len, st->correct, st->total);
}

int sp_bleu_add(sp_bleu *b, sp_ctx *ctx, const char *hyp, size_t hyp_len,
		const char *ref, size_t ref_len, sp_bleu_stats *acc)
{
	sp_bleu_stats st;
	int rc = segment_stats(b, ctx, hyp, hyp_len, ref, ref_len, &st);
	if (rc < 0)
		return rc;
	acc->sys_len += st.sys_len;
	acc->ref_len += st.ref_len;
	for (int n = 0; n < SP_BLEU_ORDER; n++) {
		acc->correct[n] += st.correct[n];
		acc->total[n] += st.total[n];
	}
	return SP_OK;
}

/* sacreBLEU's my_log: log(0) is a large negative number, not -inf. */
static double my_log(double x) { return x == 0.0 ? -9999999999.0 : log(x); }

void sp_bleu_compute(const sp_bleu_opts *o, const sp_bleu_stats *st, sp_bleu_score *out)
{
	double value = o->smooth_value, correct[SP_BLEU_ORDER], total[SP_BLEU_ORDER];
	double smooth_mteval = 1.0, sum = 0.0;
	int eff_order = SP_BLEU_ORDER, any = 0;
	memset(out, 0, sizeof(*out));
	out->stats = *st;
	if (value < 0)
		value = o->smooth == SP_BLEU_SMOOTH_FLOOR ? 0.1 : 1.0;
	if (st->sys_len < st->ref_len)
		out->bp = st->sys_len > 0 ? exp(1.0 - (double)st->ref_len / (double)st->sys_len) : 0.0;
	else
		out->bp = 1.0;
	out->ratio = st->ref_len ? (double)st->sys_len / (double)st->ref_len : 0.0;
	for (int n = 0; n < SP_BLEU_ORDER; n++) {
		correct[n] = (double)st->correct[n];
		total[n] = (double)st->total[n];
		any |= st->correct[n] != 0;
	}
	if (!any)
		return; /* sacreBLEU #141: no match at all scores 0 */
	for (int n = 1; n <= SP_BLEU_ORDER; n++) {
		if (o->smooth == SP_BLEU_SMOOTH_ADDK && n > 1) {
			correct[n - 1] += value;
			total[n - 1] += value;
		}
		if (total[n - 1] == 0)
			break;
		if (o->effective_order)
			eff_order = n;
		if (correct[n - 1] == 0) {
			if (o->smooth == SP_BLEU_SMOOTH_EXP) {
				smooth_mteval *= 2;
				out->precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1]);
			} else if (o->smooth == SP_BLEU_SMOOTH_FLOOR) {
				out->precisions[n - 1] = 100.0 * value / total[n - 1];
			}
		} else {
			out->precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
		}
	}
	for (int n = 0; n < eff_order; n++)
		sum += my_log(out->precisions[n]);
	out->score = out->bp * exp(sum / eff_order);
}

int sp_bleu_sentence(sp_bleu *b, sp_ctx *ctx, const char *hyp, size_t hyp_len,
		     const char *ref, size_t ref_len, sp_bleu_score *out)
{
	sp_bleu_stats st;
	int rc = segment_stats(b, ctx, hyp, hyp_len, ref, ref_len, &st);
	if (rc < 0)
		return rc;
	sp_bleu_compute(&b->o, &st, out);
	return SP_OK;
}

size_t sp_bleu_signature(const sp_bleu_opts *o, char *buf, size_t n)
{
	static const char *const smooth[] = {"exp", "none", "floor", "add-k"};
	char value[32] = "";
	int k;
	if (o->smooth == SP_BLEU_SMOOTH_FLOOR || o->smooth == SP_BLEU_SMOOTH_ADDK)
		snprintf(value, sizeof(value), "[%.2f]",
			 o->smooth_value >= 0 ? o->smooth_value
					      : (o->smooth == SP_BLEU_SMOOTH_FLOOR ? 0.1 : 1.0));
	k = snprintf(buf, n, "nrefs:1|case:%s|eff:%s|tok:%s|smooth:%s%s|version:seqpipe-%s",
		     o->lowercase ? "lc" : "mixed", o->effective_order ? "yes" : "no",
		     o->tokenize == SP_BLEU_TOK_13A ? "13a" : "none", smooth[o->smooth], value,
		     PACKAGE_VERSION);
	return k < 0 ? 0 : (size_t)k;
}

size_t sp_bleu_format(const sp_bleu_score *s, char *buf, size_t n)
{
	int k = snprintf(buf, n,
			 "BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f "
			 "hyp_len = %lld ref_len = %lld)",
			 s->score, s->precisions[0], s->precisions[1], s->precisions[2],
			 s->precisions[3], s->bp, s->ratio, (long long)s->stats.sys_len,
			 (long long)s->stats.ref_len);
	return k < 0 ? 0 : (size_t)k;
}
