/*
 * t_bleu.c: BLEU and chrF against sacreBLEU 2.6.0 (tests/data/bleu/
 * expected.jsonl): every n-gram count and total, the lengths, corpus BLEU,
 * its brevity penalty and printed line, chrF2 and the first five sentence
 * BLEUs, each score to 4 decimals.  Then the 13a tokenizer on hand-worked
 * cases, the smoothing methods, the lowercased variant and errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bleu.h"
#include "sp_chrf.h"
#include "tap.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

typedef struct lines {
	char *buf;
	char **line;
	size_t *len;
	size_t n;
} lines;

/* Reads a file and splits it on '\n' (a final newline ends the last line). */
static int read_lines(lines *l, const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;
	size_t i, start = 0;
	memset(l, 0, sizeof(*l));
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	l->buf = malloc((size_t)size + 1);
	l->line = malloc(((size_t)size + 1) * sizeof(*l->line));
	l->len = malloc(((size_t)size + 1) * sizeof(*l->len));
	if (!l->buf || !l->line || !l->len || fread(l->buf, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	l->buf[size] = '\0';
	for (i = 0; i <= (size_t)size; i++) {
		if (i == (size_t)size || l->buf[i] == '\n') {
			if (i == (size_t)size && start == i)
				break;
			l->line[l->n] = l->buf + start;
			l->len[l->n++] = i - start;
			start = i + 1;
		}
	}
	return 0;
}

static void free_lines(lines *l)
{
	free(l->buf);
	free(l->line);
	free(l->len);
}

/* The number after "key": in a JSON line (0 if absent: the test fails). */
static double json_num(const char *js, const char *key)
{
	char pat[64];
	const char *p;
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(js, pat);
	return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* Up to n numbers of the array after "key": */
static int json_nums(const char *js, const char *key, double *out, int n)
{
	char pat[64];
	const char *p;
	int k = 0;
	snprintf(pat, sizeof(pat), "\"%s\": [", key);
	if (!(p = strstr(js, pat)))
		return 0;
	p += strlen(pat);
	while (k < n && *p && *p != ']') {
		char *end;
		out[k++] = strtod(p, &end);
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return k;
}

/* The string after "key": (without escapes; the fixture has none). */
static void json_str(const char *js, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p, *q;
	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	out[0] = '\0';
	if (!(p = strstr(js, pat)))
		return;
	p += strlen(pat);
	q = strchr(p, '"');
	if (q && (size_t)(q - p) < n) {
		memcpy(out, p, (size_t)(q - p));
		out[q - p] = '\0';
	}
}

#define NEAR4(got, want) (fabs((got) - (want)) < 5e-5)

/* Corpus BLEU and chrF of h against r: counts, lengths, scores, line. */
static void check_corpus(sp_ctx *ctx, const char *hname, const char *js, const lines *h,
			 const lines *r)
{
	char want_line[256], got_line[256];
	double counts[4], totals[4], chrf;
	sp_bleu_opts bo;
	sp_chrf_opts co;
	sp_bleu *b = NULL;
	sp_chrf *c = NULL;
	sp_bleu_stats st;
	sp_chrf_stats cs;
	sp_bleu_score sc;
	int rc = 0, counts_ok = 1;

	sp_bleu_opts_init(&bo);
	sp_chrf_opts_init(&co);
	memset(&st, 0, sizeof(st));
	memset(&cs, 0, sizeof(cs));
	if (sp_bleu_new(&b, ctx, &bo) < 0 || sp_chrf_new(&c, ctx, &co) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < h->n && i < r->n; i++) {
		rc = sp_bleu_add(b, ctx, h->line[i], h->len[i], r->line[i], r->len[i], &st);
		if (rc == 0)
			rc = sp_chrf_add(c, ctx, h->line[i], h->len[i], r->line[i], r->len[i], &cs);
		if (rc < 0)
			diag("line %zu: %s", i + 1, sp_errmsg(ctx));
	}
	ok(rc == 0, "%s: every segment scored", hname);
	sp_bleu_compute(&bo, &st, &sc);
	json_nums(js, "counts", counts, 4);
	json_nums(js, "totals", totals, 4);
	for (int n = 0; n < 4; n++) {
		if ((double)st.correct[n] != counts[n] || (double)st.total[n] != totals[n]) {
			diag("%d-grams: got %lld/%lld, want %.0f/%.0f", n + 1,
			     (long long)st.correct[n], (long long)st.total[n], counts[n], totals[n]);
			counts_ok = 0;
		}
	}
	ok(counts_ok, "%s: clipped n-gram counts %lld/%lld/%lld/%lld and totals as sacreBLEU",
	   hname, (long long)st.correct[0], (long long)st.correct[1],
	   (long long)st.correct[2], (long long)st.correct[3]);
	ok((double)st.sys_len == json_num(js, "sys_len") &&
		   (double)st.ref_len == json_num(js, "ref_len"),
	   "%s: hyp_len %lld ref_len %lld", hname, (long long)st.sys_len,
	   (long long)st.ref_len);
	ok(NEAR4(sc.score, json_num(js, "bleu")), "%s: BLEU %.6f (sacreBLEU %.6f)", hname,
	   sc.score, json_num(js, "bleu"));
	ok(NEAR4(sc.bp, json_num(js, "bp")), "%s: BP %.6f", hname, sc.bp);
	json_str(js, "bleu_str", want_line, sizeof(want_line));
	sp_bleu_format(&sc, got_line, sizeof(got_line));
	ok_str(got_line, want_line, "%s: the printed line is sacreBLEU's", hname);
	chrf = sp_chrf_compute(&co, &cs);
	ok(NEAR4(chrf, json_num(js, "chrf")), "%s: chrF2 %.6f (sacreBLEU %.6f)", hname, chrf,
	   json_num(js, "chrf"));
	sp_bleu_free(b);
	sp_chrf_free(c);
}

/* Every field of sacreBLEU's signatures but the version, which names seqpipe. */
static void check_signatures(const char *hname, const char *js)
{
	char want[160], got[160];
	sp_bleu_opts bo;
	sp_chrf_opts co;
	sp_bleu_opts_init(&bo);
	sp_chrf_opts_init(&co);
	json_str(js, "bleu_signature", want, sizeof(want));
	sp_bleu_signature(&bo, got, sizeof(got));
	ok(strstr(want, "version:") &&
		   strncmp(got, want, (size_t)(strstr(want, "version:") - want + 8)) == 0 &&
		   strstr(got, "version:seqpipe-"),
	   "%s: BLEU signature %s", hname, got);
	json_str(js, "chrf_signature", want, sizeof(want));
	sp_chrf_signature(&co, got, sizeof(got));
	ok(strstr(want, "version:") &&
		   strncmp(got, want, (size_t)(strstr(want, "version:") - want + 8)) == 0 &&
		   strstr(got, "version:seqpipe-"),
	   "%s: chrF signature %s", hname, got);
}

/* Sentence BLEU: sacreBLEU's sentence_bleu() turns effective order on. */
static void check_sentences(sp_ctx *ctx, const char *hname, const char *js, const lines *h,
			    const lines *r)
{
	double sent[5];
	sp_bleu_opts so;
	sp_bleu *sb = NULL;
	int sent_ok = 1;
	sp_bleu_opts_init(&so);
	so.effective_order = 1;
	json_nums(js, "sentence_bleu_first5", sent, 5);
	if (sp_bleu_new(&sb, ctx, &so) < 0)
		sent_ok = 0;
	for (size_t i = 0; sent_ok && i < 5 && i < h->n; i++) {
		sp_bleu_score one;
		if (sp_bleu_sentence(sb, ctx, h->line[i], h->len[i], r->line[i], r->len[i], &one) < 0 ||
		    !NEAR4(one.score, sent[i])) {
			diag("sentence %zu: got %.6f, want %.6f", i + 1, one.score, sent[i]);
			sent_ok = 0;
		}
	}
	ok(sent_ok, "%s: sentence BLEU of the first 5 lines", hname);
	sp_bleu_free(sb);
}

static void check_one(sp_ctx *ctx, const char *dir, const char *js)
{
	char hname[128], rname[128], path[2048];
	lines h, r;
	json_str(js, "hyp", hname, sizeof(hname));
	json_str(js, "ref", rname, sizeof(rname));
	snprintf(path, sizeof(path), "%s/%s", dir, hname);
	if (read_lines(&h, path) < 0) {
		ok(0, "%s readable", path);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, rname);
	if (read_lines(&r, path) < 0) {
		ok(0, "%s readable", path);
		free_lines(&h);
		return;
	}
	ok(h.n == r.n && (double)h.n == json_num(js, "lines"), "%s: %zu lines", hname, h.n);
	check_corpus(ctx, hname, js, &h, &r);
	check_signatures(hname, js);
	check_sentences(ctx, hname, js, &h, &r);
	free_lines(&h);
	free_lines(&r);
}

static void test_fixture(sp_ctx *ctx)
{
	char dir[1024], path[1100];
	lines js;
	snprintf(dir, sizeof(dir), "%.900s/tests/data/bleu", SRCDIR);
	snprintf(path, sizeof(path), "%s/expected.jsonl", dir);
	if (read_lines(&js, path) < 0) {
		ok(0, "%s readable", path);
		return;
	}
	ok(js.n == 8, "expected.jsonl: 8 systems");
	for (size_t i = 0; i < js.n; i++) {
		js.line[i][js.len[i]] = '\0';
		check_one(ctx, dir, js.line[i]);
	}
	free_lines(&js);
}

static void tok_is(sp_bleu *b, sp_ctx *ctx, const char *in, const char *want)
{
	const char *got = NULL;
	size_t n;
	int rc = sp_bleu_tokenize(b, ctx, in, strlen(in), &got, &n);
	ok_str(rc == 0 ? got : NULL, want, "13a gives '%s'", want);
}

static void test_tokenizer(sp_ctx *ctx)
{
	sp_bleu_opts o;
	sp_bleu *b;
	sp_bleu_opts_init(&o);
	if (sp_bleu_new(&b, ctx, &o) < 0) {
		ok(0, "sp_bleu_new: %s", sp_errmsg(ctx));
		return;
	}
	/* worked by hand from mteval-v13a's rules */
	tok_is(b, ctx, "Hello, world.", "Hello , world .");
	tok_is(b, ctx, "It costs 3.50 or 1,000 $", "It costs 3.50 or 1,000 $");
	tok_is(b, ctx, "Well...yes", "Well . . . yes");
	tok_is(b, ctx, "2019-2020 well-known", "2019 - 2020 well-known");
	tok_is(b, ctx, "didn't", "didn't");
	tok_is(b, ctx, "&amp;lt; &quot;x&quot;", "< \" x \"");
	tok_is(b, ctx, "a<skipped>b", "ab");
	tok_is(b, ctx, "e-\nmail", "email");
	/* U+202F and U+00A0 are whitespace to Python's split() */
	tok_is(b, ctx, "Va\xe2\x80\xaf!", "Va !");
	tok_is(b, ctx, "x\xc2\xa0y", "x y");
	/* U+200B is not */
	tok_is(b, ctx, "x\xe2\x80\x8by", "x\xe2\x80\x8by");
	tok_is(b, ctx, "   ", "");
	tok_is(b, ctx, "caf\xc3\xa9.", "caf\xc3\xa9 .");
	{
		const char *got;
		size_t n;
		int rc = sp_bleu_tokenize(b, ctx, "a\xff", 2, &got, &n);
		ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "byte 2"),
		   "invalid UTF-8 is refused with its byte offset: %s", sp_errmsg(ctx));
	}
	sp_bleu_free(b);
}

static void test_smoothing(sp_ctx *ctx)
{
	sp_bleu_opts o;
	sp_bleu_score s;
	/* 10 hyp tokens, no 4-gram match */
	sp_bleu_stats st = {10, 12, {6, 3, 1, 0}, {10, 9, 8, 7}};
	sp_bleu_opts_init(&o);
	sp_bleu_compute(&o, &st, &s);
	/* exp: p4 = 100 / (2 * 7) */
	ok_near(s.precisions[3], 100.0 / 14.0, 1e-12, "exp smoothing: p4 = 100/(2*7)");
	ok_near(s.bp, exp(1.0 - 12.0 / 10.0), 1e-12, "brevity penalty exp(1 - 12/10)");
	ok_near(s.score,
		s.bp * exp((log(60.0) + log(100.0 / 3.0) + log(12.5) + log(100.0 / 14.0)) / 4),
		1e-12, "exp: BLEU %.4f", s.score);
	o.smooth = SP_BLEU_SMOOTH_NONE;
	sp_bleu_compute(&o, &st, &s);
	ok(s.score < 1e-100, "none: a zero precision gives 0 (%g)", s.score);
	o.smooth = SP_BLEU_SMOOTH_FLOOR;
	sp_bleu_compute(&o, &st, &s);
	ok_near(s.precisions[3], 100.0 * 0.1 / 7.0, 1e-12, "floor: p4 = 100*0.1/7");
	o.smooth = SP_BLEU_SMOOTH_ADDK;
	sp_bleu_compute(&o, &st, &s);
	ok_near(s.precisions[1], 100.0 * 4.0 / 10.0, 1e-12, "add-k: p2 = 100*(3+1)/(9+1)");
	ok_near(s.precisions[0], 60.0, 1e-12, "add-k leaves unigrams alone");
	{
		char sig[160];
		sp_bleu_signature(&o, sig, sizeof(sig));
		ok(strstr(sig, "smooth:add-k[1.00]") != NULL, "add-k signature: %s", sig);
	}
	o.smooth = SP_BLEU_SMOOTH_EXP;
	memset(&st.correct, 0, sizeof(st.correct));
	sp_bleu_compute(&o, &st, &s);
	ok(s.score == 0.0, "no match at all: 0");
}

/* The "tokenized, lowercased" variant for older papers: case-insensitive. */
static void test_lowercase(sp_ctx *ctx)
{
	sp_bleu_opts o;
	sp_bleu *b = NULL;
	sp_bleu_stats st;
	sp_bleu_score s;
	char sig[160];
	int rc;
	const char *hyp = "THE CAT SAT ON THE MAT.", *ref = "The cat sat on the mat.";
	const char *hyp2 = "\xce\x9f\xce\x94\xce\x9f\xce\xa3", *ref2 = "\xce\xbf\xce\xb4\xce\xbf\xcf\x82";
	sp_bleu_opts_init(&o);
	o.lowercase = 1;
	memset(&st, 0, sizeof(st));
	ok(sp_bleu_new(&b, ctx, &o) == 0 &&
		   sp_bleu_add(b, ctx, hyp, strlen(hyp), ref, strlen(ref), &st) == 0 &&
		   sp_bleu_add(b, ctx, hyp2, strlen(hyp2), ref2, strlen(ref2), &st) == 0,
	   "lowercased BLEU scores");
	sp_bleu_compute(&o, &st, &s);
	ok(st.correct[0] == 8 && st.total[0] == 8,
	   "lowercased: every unigram matches, final sigma included (%lld/%lld)",
	   (long long)st.correct[0], (long long)st.total[0]);
	sp_bleu_signature(&o, sig, sizeof(sig));
	ok(strstr(sig, "case:lc|") != NULL, "signature says case:lc: %s", sig);
	memset(&st, 0, sizeof(st));
	rc = sp_bleu_add(b, ctx, "x", 1, "", 0, &st);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "empty reference"),
	   "an empty reference is an error: %s", sp_errmsg(ctx));
	sp_bleu_free(b);
}

static void test_chrf_small(sp_ctx *ctx)
{
	sp_chrf_opts o;
	sp_chrf *c = NULL;
	sp_chrf_stats st;
	memset(&st, 0, sizeof(st));
	sp_chrf_opts_init(&o);
	/* "ab" vs "abc": orders 1-2 only for hyp; ref has 3 */
	ok(sp_chrf_new(&c, ctx, &o) == 0 && sp_chrf_add(c, ctx, "a b", 3, "abc", 3, &st) == 0,
	   "chrF of a tiny pair");
	ok(st.hyp[0] == 2 && st.ref[0] == 3 && st.match[0] == 2 && st.hyp[1] == 1 &&
		   st.match[1] == 1 && st.ref[2] == 1 && st.hyp[2] == 0,
	   "whitespace is removed; n-grams per order counted");
	/* eff order 2: P = 1, R = (2/3 + 1/2)/2 = 7/12; F2 = 5PR/(4P+R) */
	ok_near(sp_chrf_compute(&o, &st), 100.0 * 5 * (7.0 / 12) / (4 + 7.0 / 12), 1e-12,
		"chrF2 averages the effective orders");
	memset(&st, 0, sizeof(st));
	ok(sp_chrf_add(c, ctx, "abcd", 4, "ab", 2, &st) == 0 && st.hyp[2] == 0 && st.hyp[1] == 3,
	   "hypothesis n-grams of an order the reference lacks are not counted");
	sp_chrf_free(c);
}

int main(void)
{
	sp_ctx *ctx;
	if (sp_ctx_new(&ctx, 1) < 0)
		return 1;
	test_fixture(ctx);
	test_tokenizer(ctx);
	test_smoothing(ctx);
	test_lowercase(ctx);
	test_chrf_small(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
