/*
 * t_conlleval.c: the conlleval scorer (core/sp_conlleval.c) against the
 * original script's output.
 *
 *   - the 9 fixtures of tests/data/conlleval (WNUT-17 and BTC test sets
 *     with perturbed guesses; SOURCE.md there): the report equals the
 *     script's standard output byte for byte;
 *   - on the same files, the chunking of core/sp_tags.c (the one the
 *     tagger heads count entities with) finds the same gold, guessed and
 *     correct chunks, tokens and correct tags as the scorer, so a tagger's
 *     metrics and the report agree;
 *   - the script's quirks on small inputs, whose expected bytes are the
 *     script's output (a type "0" and the empty type listed twice, types
 *     with hyphens, S- tags, IOE tags, '[' ']' '.', a leading space, a
 *     "\r", trailing spaces, -X- lines, several empty lines);
 *   - errors: another number of fields, a line with one field (FILE:LINE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_conlleval.h"
#include "sp_ctx.h"
#include "sp_tags.h"
#include "tap.h"

static const char *const FIXTURES[] = {
	"btc_f.noise", "btc_f.types", "wnut17.all_o", "wnut17.boundary",
	"wnut17.gold", "wnut17.iob1", "wnut17.noise", "wnut17.split",
	"wnut17.types"};

/* The whole file (caller frees), or NULL. */
static char *slurp_(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) &&
	    fread(buf, 1, (size_t)len, f) == (size_t)len) {
		buf[len] = '\0';
		*n = (size_t)len;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The report on text[0..len), in a malloc'd string; NULL on error (the
 * message is in ctx). */
static char *score_(sp_ctx *ctx, const char *text, size_t len, int *rc)
{
	sp_conlleval *ce = NULL;
	FILE *in = fmemopen((void *)text, len, "r");
	char *out = NULL;
	size_t out_len = 0;
	FILE *mem = open_memstream(&out, &out_len);
	if (len == 0) { /* fmemopen of 0 bytes is not portable */
		if (in)
			fclose(in);
		in = fopen("/dev/null", "r");
	}
	*rc = sp_conlleval_new(&ce, ctx);
	if (*rc == 0)
		*rc = sp_conlleval_read(ce, ctx, in, "input.txt");
	if (*rc == 0)
		*rc = sp_conlleval_write(ce, ctx, mem);
	fclose(mem);
	fclose(in);
	sp_conlleval_free(ce);
	if (*rc < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- the same counts with sp_tags' chunking ------------------------ */

typedef struct chunk_counts {
	char *types[64];
	size_t n_types;
	sp_tag_info gold[512], guess[512];
	sp_tag_span gs[512], ps[512];
	size_t m;
	unsigned long long tokens, correct_tags, gold_chunks, guess_chunks,
		correct;
	int bad;
} chunk_counts;

static int32_t type_id_(chunk_counts *c, const char *s, size_t n)
{
	for (size_t i = 0; i < c->n_types; i++)
		if (strlen(c->types[i]) == n && !memcmp(c->types[i], s, n))
			return (int32_t)i;
	if (c->n_types == 64)
		return c->bad = 1, 0;
	c->types[c->n_types] = strndup(s, n);
	return (int32_t)c->n_types++;
}

static sp_tag_info info_(chunk_counts *c, const char *tag, size_t n)
{
	if (n == 1 && tag[0] == 'O')
		return (sp_tag_info){'O', -1};
	if (n < 3 || tag[1] != '-' || !strchr("BI", tag[0])) {
		c->bad = 1;
		return (sp_tag_info){'O', -1};
	}
	return (sp_tag_info){tag[0], type_id_(c, tag + 2, n - 2)};
}

static void sentence_end_(chunk_counts *c)
{
	size_t ng = sp_tag_spans(c->gold, c->m, c->gs);
	size_t np = sp_tag_spans(c->guess, c->m, c->ps);
	c->gold_chunks += ng;
	c->guess_chunks += np;
	c->correct += sp_tag_spans_match(c->gs, ng, c->ps, np, NULL);
	c->m = 0;
}

/* Reads one sentence of `token gold guess` lines into the counts. */
static void chunk_count_(chunk_counts *c, char *text)
{
	for (char *line = strtok(text, "\n"); line;
	     line = strtok(NULL, "\n")) {
		char *g, *q;
		if (!(q = strrchr(line, ' ')) || q == line || c->m == 512) {
			c->bad = 1;
			continue;
		}
		*q++ = '\0';
		g = strrchr(line, ' ');
		g = g ? g + 1 : line;
		c->gold[c->m] = info_(c, g, strlen(g));
		c->guess[c->m] = info_(c, q, strlen(q));
		c->correct_tags += c->gold[c->m].prefix ==
					   c->guess[c->m].prefix &&
				   c->gold[c->m].type == c->guess[c->m].type;
		c->tokens++;
		c->m++;
	}
	sentence_end_(c);
}

/* Splits text at blank lines and counts each sentence. */
static void chunk_count_sentences_(chunk_counts *c, char *text)
{
	char *s = text;
	while (*s) {
		char *end = strstr(s, "\n\n");
		if (end)
			*end = '\0';
		chunk_count_(c, s);
		if (!end)
			break;
		s = end + 2;
		while (*s == '\n')
			s++;
	}
}

static void fixture_(sp_ctx *ctx, const char *dir, const char *name)
{
	char path[2048];
	char *text, *want, *got;
	size_t n, wn;
	int rc;
	sp_conlleval *ce = NULL;
	sp_conlleval_totals tot;
	chunk_counts *cc;

	snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
	text = slurp_(path, &n);
	snprintf(path, sizeof(path), "%s/%s.conlleval", dir, name);
	want = slurp_(path, &wn);
	if (!ok(text && want, "%s: fixture read", name)) {
		free(text);
		free(want);
		return;
	}
	got = score_(ctx, text, n, &rc);
	if (!ok(got && strcmp(got, want) == 0,
		"%s: the report is conlleval's, byte for byte", name))
		diag("got:\n%s\nwant:\n%s", got ? got : sp_errmsg(ctx), want);
	free(got);

	/* the same counts through sp_tags' chunking */
	cc = calloc(1, sizeof(*cc));
	{
		FILE *in = fmemopen(text, n, "r");
		sp_conlleval_new(&ce, ctx);
		sp_conlleval_read(ce, ctx, in, name);
		sp_conlleval_get_totals(ce, &tot);
		fclose(in);
		sp_conlleval_free(ce);
	}
	chunk_count_sentences_(cc, text);
	ok(!cc->bad && cc->tokens == tot.tokens &&
	   cc->correct_tags == tot.correct_tags &&
	   cc->gold_chunks == tot.gold_chunks &&
	   cc->guess_chunks == tot.guess_chunks &&
	   cc->correct == tot.correct_chunks,
	   "%s: sp_tags chunking agrees: %llu tokens, %llu gold, %llu found, "
	   "%llu correct chunks", name, cc->tokens, cc->gold_chunks,
	   cc->guess_chunks, cc->correct);
	for (size_t i = 0; i < cc->n_types; i++)
		free(cc->types[i]);
	free(cc);
	free(text);
	free(want);
}

/* ---- quirks, with the script's own output ------------------------- */

static void quirk_(sp_ctx *ctx, const char *what, const char *in,
		   const char *want)
{
	int rc;
	char *got = score_(ctx, in, strlen(in), &rc);
	if (!ok(got && strcmp(got, want) == 0, "%s", what))
		diag("got:\n%s", got ? got : sp_errmsg(ctx));
	free(got);
}

static void test_quirks(sp_ctx *ctx)
{
	int rc;
	char *got;
	quirk_(ctx, "type \"0\" reads as no type; the empty type is listed "
	       "twice", "a B-0 B\n",
	       "processed 1 tokens with 1 phrases; found: 1 phrases; correct: 1.\n"
	       "accuracy: 100.00%; precision: 100.00%; recall: 100.00%; FB1: 100.00\n"
	       "                 : precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
	       "                 : precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n");
	quirk_(ctx, "types split at the first hyphen; S-PER S-PER is one chunk",
	       "x B-creative-work I-creative-work\n"
	       "y I-creative-work I-creative-work\n\nz S-PER S-PER\nw S-PER S-PER\n",
	       "processed 4 tokens with 2 phrases; found: 2 phrases; correct: 2.\n"
	       "accuracy:  75.00%; precision: 100.00%; recall: 100.00%; FB1: 100.00\n"
	       "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
	       "    creative-work: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n");
	quirk_(ctx, "leading space, -X- line, trailing spaces, \"\\r\"",
	       " O O\n-X- B-PER I-LOC\nb B-PER B-PER  \nc I-PER O\r\n",
	       "processed 3 tokens with 1 phrases; found: 2 phrases; correct: 0.\n"
	       "accuracy:  66.67%; precision:   0.00%; recall:   0.00%; FB1:   0.00\n"
	       "                 : precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"
	       "              PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n");
	quirk_(ctx, "IOE tags, [ ] . and an unknown prefix",
	       "a E-X I-X\nb E-X E-X\nc [-Y ]-Y\nd ]-Y O\ne .-Z .-Z\nf Q-Z Q-Z\n",
	       "processed 6 tokens with 4 phrases; found: 2 phrases; correct: 1.\n"
	       "accuracy:  50.00%; precision:  50.00%; recall:  25.00%; FB1:  33.33\n"
	       "                X: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"
	       "                Y: precision: 100.00%; recall:  50.00%; FB1:  66.67  1\n");
	quirk_(ctx, "four fields, several empty lines; a type only in gold",
	       "a b B-PER B-PER\nx y I-PER B-PER\n\n\nq q B-LOC O\n",
	       "processed 3 tokens with 2 phrases; found: 2 phrases; correct: 0.\n"
	       "accuracy:  33.33%; precision:   0.00%; recall:   0.00%; FB1:   0.00\n"
	       "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n"
	       "              PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  2\n");
	quirk_(ctx, "empty input: the totals line only", "",
	       "processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n");

	got = score_(ctx, "a B-PER B-PER\nb B-PER\n", 22, &rc);
	ok(!got && rc == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "input.txt:2: 2 fields, expected 3"),
	   "another number of fields: %s", sp_errmsg(ctx));
	free(got);
	got = score_(ctx, "a\n", 2, &rc);
	ok(!got && rc == SP_EINPUT && strstr(sp_errmsg(ctx), "input.txt:1:"),
	   "a line with one field: %s", sp_errmsg(ctx));
	free(got);
}

/* The token API gives what the line API gives. */
static void test_token_api(sp_ctx *ctx)
{
	sp_conlleval *ce = NULL;
	sp_conlleval_totals t;
	char *out = NULL;
	size_t n = 0;
	FILE *mem = open_memstream(&out, &n);
	sp_conlleval_new(&ce, ctx);
	sp_conlleval_token(ce, ctx, "B-PER", "B-PER");
	sp_conlleval_token(ce, ctx, "I-PER", "O");
	sp_conlleval_boundary(ce);
	sp_conlleval_token(ce, ctx, "B-LOC", "B-LOC");
	sp_conlleval_get_totals(ce, &t);
	ok(t.tokens == 3 && t.correct_tags == 2 && t.gold_chunks == 2 &&
	   t.guess_chunks == 2 && t.correct_chunks == 1,
	   "token API: 3 tokens, 2 chunks each, 1 correct (the open one at "
	   "the end counts)");
	sp_conlleval_write(ce, ctx, mem);
	fclose(mem);
	ok_str(out,
	       "processed 3 tokens with 2 phrases; found: 2 phrases; correct: 1.\n"
	       "accuracy:  66.67%; precision:  50.00%; recall:  50.00%; FB1:  50.00\n"
	       "              LOC: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
	       "              PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n",
	       "token API: the report");
	free(out);
	sp_conlleval_free(ce);
}

int main(void)
{
	const char *src = getenv("srcdir");
	char dir[1024];
	sp_ctx *ctx = NULL;
	sp_ctx_new(&ctx, 1);
	snprintf(dir, sizeof(dir), "%s/tests/data/conlleval", src ? src : ".");
	for (size_t i = 0; i < sizeof(FIXTURES) / sizeof(FIXTURES[0]); i++)
		fixture_(ctx, dir, FIXTURES[i]);
	test_quirks(ctx);
	test_token_api(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
