/*
 * sp_conlleval.c: conlleval's scorer (see sp_conlleval.h).
 *
 * The script is a state machine over (previous tag, current tag) pairs of
 * the gold and the guessed column; this file keeps the same state: the
 * previous prefixes and types, and whether the chunk being read is
 * correct so far (inCorrect).  Types are interned into a small hash table
 * so that each comparison of types is one of ids.  The per-type lines
 * list the types that start a gold or a guessed chunk, sorted as Perl's
 * `sort` sorts bytes, with one more quirk kept: the script removes
 * duplicates with `not($lastType) or $lastType ne $i`, so the empty type,
 * which is false in Perl, is listed twice when both columns have chunks
 * of it.
 */
#include "sp_conlleval.h"

#include <stdlib.h>
#include <string.h>

#include "sp_hash.h"
#include "sp_tags.h"

/* One chunk type and its counts (Perl's three hashes). */
typedef struct ce_type {
	char *name;
	uint64_t correct, gold, guess;
} ce_type;

struct sp_conlleval {
	ce_type *types;          /* (n_types) id 0 is "" */
	size_t n_types, cap_types;
	int32_t *slots;          /* (n_slots) open addressing: type id or -1 */
	size_t n_slots;

	long n_fields;           /* fields of the first non-empty line, -1 */
	char last_gold, last_guess;       /* previous prefix classes */
	int32_t last_gold_type, last_guess_type;
	int in_correct;
	sp_conlleval_totals tot; /* correct_chunks without the open one */
};

/* A prefix as the chunk rules see it: the letters they test, '?' for any
 * other prefix (which they only compare with those). */
static char prefix_class_(const char *p, size_t len)
{
	if (len == 1 && strchr("BIOE[].", p[0]))
		return p[0];
	return '?';
}

static int grow_slots_(sp_conlleval *ce)
{
	const size_t n = ce->n_slots ? ce->n_slots * 2 : 64;
	int32_t *s = malloc(n * sizeof(*s));
	if (!s)
		return SP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		s[i] = -1;
	for (size_t id = 0; id < ce->n_types; id++) {
		const ce_type *t = &ce->types[id];
		size_t h = sp_hash_fnv1a64(t->name, strlen(t->name)) & (n - 1);
		while (s[h] >= 0)
			h = (h + 1) & (n - 1);
		s[h] = (int32_t)id;
	}
	free(ce->slots);
	ce->slots = s;
	ce->n_slots = n;
	return SP_OK;
}

/* The id of type name[0..len), added when new; < 0 when out of memory. */
static int32_t intern_(sp_conlleval *ce, const char *name, size_t len)
{
	size_t h;
	ce_type *t;
	if (2 * (ce->n_types + 1) > ce->n_slots && grow_slots_(ce) < 0)
		return SP_ENOMEM;
	h = sp_hash_fnv1a64(name, len) & (ce->n_slots - 1);
	for (; ce->slots[h] >= 0; h = (h + 1) & (ce->n_slots - 1)) {
		const char *s = ce->types[ce->slots[h]].name;
		if (strncmp(s, name, len) == 0 && s[len] == '\0')
			return ce->slots[h];
	}
	if (ce->n_types == ce->cap_types) {
		size_t cap = ce->cap_types ? ce->cap_types * 2 : 16;
		ce_type *nt = realloc(ce->types, cap * sizeof(*nt));
		if (!nt)
			return SP_ENOMEM;
		ce->types = nt;
		ce->cap_types = cap;
	}
	t = &ce->types[ce->n_types];
	memset(t, 0, sizeof(*t));
	if (!(t->name = malloc(len + 1)))
		return SP_ENOMEM;
	memcpy(t->name, name, len);
	t->name[len] = '\0';
	ce->slots[h] = (int32_t)ce->n_types;
	return (int32_t)ce->n_types++;
}

int sp_conlleval_new(sp_conlleval **out, sp_ctx *ctx)
{
	sp_conlleval *ce = calloc(1, sizeof(*ce));
	*out = NULL;
	if (!ce || intern_(ce, "", 0) != 0) {
		sp_conlleval_free(ce);
		return sp_err(ctx, SP_ENOMEM, "conlleval: out of memory");
	}
	ce->n_fields = -1;
	ce->last_gold = ce->last_guess = 'O';
	*out = ce;
	return SP_OK;
}

void sp_conlleval_free(sp_conlleval *ce)
{
	if (!ce)
		return;
	for (size_t i = 0; i < ce->n_types; i++)
		free(ce->types[i].name);
	free(ce->types);
	free(ce->slots);
	free(ce);
}

/* A tag split as `/^([^-]*)-(.*)$/` does, into its prefix and its type
 * id; a type "0" is Perl-false and becomes "". */
typedef struct ce_tag {
	const char *prefix;
	size_t prefix_len;
	char cls;
	int32_t type;
} ce_tag;

static int split_tag_(sp_conlleval *ce, const char *tag, size_t len,
		      ce_tag *out)
{
	const char *dash = memchr(tag, '-', len);
	out->prefix = tag;
	out->prefix_len = dash ? (size_t)(dash - tag) : len;
	out->cls = prefix_class_(tag, out->prefix_len);
	if (!dash || (len - out->prefix_len - 1 == 1 && dash[1] == '0'))
		out->type = 0;
	else
		out->type = intern_(ce, dash + 1, len - out->prefix_len - 1);
	return out->type < 0 ? SP_ENOMEM : SP_OK;
}

/* One step of the script's main loop: gold g and guess q of a token, or
 * of a boundary (both O). */
static void step_(sp_conlleval *ce, const ce_tag *g, const ce_tag *q,
		  int boundary)
{
	const int gold_end = sp_tag_chunk_end(
		ce->last_gold, g->cls, ce->last_gold_type == g->type);
	const int guess_end = sp_tag_chunk_end(
		ce->last_guess, q->cls, ce->last_guess_type == q->type);
	const int gold_start = sp_tag_chunk_start(
		ce->last_gold, g->cls, ce->last_gold_type == g->type);
	const int guess_start = sp_tag_chunk_start(
		ce->last_guess, q->cls, ce->last_guess_type == q->type);
	if (ce->in_correct) {
		if (gold_end && guess_end &&
		    ce->last_guess_type == ce->last_gold_type) {
			ce->in_correct = 0;
			ce->tot.correct_chunks++;
			ce->types[ce->last_gold_type].correct++;
		} else if (gold_end != guess_end || q->type != g->type) {
			ce->in_correct = 0;
		}
	}
	if (gold_start && guess_start && q->type == g->type)
		ce->in_correct = 1;
	if (gold_start) {
		ce->tot.gold_chunks++;
		ce->types[g->type].gold++;
	}
	if (guess_start) {
		ce->tot.guess_chunks++;
		ce->types[q->type].guess++;
	}
	if (!boundary) {
		if (g->prefix_len == q->prefix_len &&
		    memcmp(g->prefix, q->prefix, g->prefix_len) == 0 &&
		    g->type == q->type)
			ce->tot.correct_tags++;
		ce->tot.tokens++;
	}
	ce->last_gold = g->cls;
	ce->last_guess = q->cls;
	ce->last_gold_type = g->type;
	ce->last_guess_type = q->type;
}

void sp_conlleval_boundary(sp_conlleval *ce)
{
	const ce_tag o = {"O", 1, 'O', 0};
	step_(ce, &o, &o, 1);
}

int sp_conlleval_token(sp_conlleval *ce, sp_ctx *ctx, const char *gold,
		       const char *guess)
{
	ce_tag g, q;
	if (split_tag_(ce, gold, strlen(gold), &g) < 0 ||
	    split_tag_(ce, guess, strlen(guess), &q) < 0)
		return sp_err(ctx, SP_ENOMEM, "conlleval: out of memory");
	step_(ce, &g, &q, 0);
	return SP_OK;
}

/*
 * Perl's split(/ /, $line): the fields between single spaces, trailing
 * empty fields dropped (so trailing spaces do not count).  Returns the
 * number of fields and keeps the three that matter: f[0] the first, f[1]
 * and f[2] the last two (gold, guess), each as offset and length.
 */
static long split_fields_(const char *text, size_t n, size_t at[3],
			  size_t len[3])
{
	long count = 1;
	size_t start = 0;
	while (n > 0 && text[n - 1] == ' ')
		n--;
	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && text[i] != ' ')
			continue;
		if (start == 0) {
			at[0] = 0;
			len[0] = i;
		}
		at[1] = at[2];
		len[1] = len[2];
		at[2] = start;
		len[2] = i - start;
		if (i < n)
			count++;
		start = i + 1;
	}
	return count;
}

int sp_conlleval_line(sp_conlleval *ce, sp_ctx *ctx, const char *text,
		      size_t len, const char *file, size_t line)
{
	size_t at[3] = {0, 0, 0}, fl[3] = {0, 0, 0};
	const long n = split_fields_(text, len, at, fl);
	ce_tag g, q;
	if (ce->n_fields < 0)
		ce->n_fields = n ? n : -1;
	else if (n != ce->n_fields && n != 0)
		return sp_err(ctx, SP_EINPUT, "%s:%zu: %ld fields, expected "
			      "%ld as on the first line (token ... gold "
			      "guess)", file, line, n, ce->n_fields);
	if (n == 0 || (fl[0] == 3 && memcmp(text + at[0], "-X-", 3) == 0)) {
		sp_conlleval_boundary(ce);
		return SP_OK;
	}
	if (n < 2)
		return sp_err(ctx, SP_EINPUT, "%s:%zu: 1 field, expected at "
			      "least 2 (gold and guessed tag)", file, line);
	if (split_tag_(ce, text + at[1], fl[1], &g) < 0 ||
	    split_tag_(ce, text + at[2], fl[2], &q) < 0)
		return sp_err(ctx, SP_ENOMEM, "conlleval: out of memory");
	step_(ce, &g, &q, 0);
	return SP_OK;
}

int sp_conlleval_read(sp_conlleval *ce, sp_ctx *ctx, FILE *in,
		      const char *name)
{
	char *buf = NULL;
	size_t cap = 0, line = 0;
	ssize_t n;
	int rc = SP_OK;
	while ((n = getline(&buf, &cap, in)) >= 0) {
		line++;
		if (n > 0 && buf[n - 1] == '\n') /* chomp */
			n--;
		if ((rc = sp_conlleval_line(ce, ctx, buf, (size_t)n, name,
					    line)) < 0)
			break;
	}
	if (rc == SP_OK && ferror(in))
		rc = sp_err(ctx, SP_EIO, "%s: read error", name);
	free(buf);
	return rc;
}

void sp_conlleval_get_totals(const sp_conlleval *ce,
			     sp_conlleval_totals *out)
{
	*out = ce->tot;
	/* the script's `if ($inCorrect)` after its loop */
	if (ce->in_correct)
		out->correct_chunks++;
}

static int by_name_(const void *a, const void *b)
{
	const ce_type *x = *(const ce_type *const *)a;
	const ce_type *y = *(const ce_type *const *)b;
	return strcmp(x->name, y->name); /* bytes, as Perl's sort */
}

/* One per-type line; counts as the script's per-type loop reads them. */
static void type_line_(FILE *out, const char *name, uint64_t correct,
		       uint64_t gold, uint64_t guess)
{
	const double precision = guess ? 100.0 * (double)correct /
						 (double)guess : 0.0;
	const double recall = gold ? 100.0 * (double)correct / (double)gold :
				     0.0;
	const double fb1 = precision + recall == 0.0 ?
				   0.0 :
				   2 * precision * recall / (precision + recall);
	fprintf(out, "%17s: ", name);
	fprintf(out, "precision: %6.2f%%; ", precision);
	fprintf(out, "recall: %6.2f%%; ", recall);
	fprintf(out, "FB1: %6.2f  %llu\n", fb1, (unsigned long long)guess);
}

int sp_conlleval_write(const sp_conlleval *ce, sp_ctx *ctx, FILE *out)
{
	sp_conlleval_totals t;
	double precision = 0.0, recall = 0.0, fb1 = 0.0;
	const ce_type **list;
	size_t n = 0;
	sp_conlleval_get_totals(ce, &t);
	if (t.guess_chunks > 0)
		precision = 100.0 * (double)t.correct_chunks /
			    (double)t.guess_chunks;
	if (t.gold_chunks > 0)
		recall = 100.0 * (double)t.correct_chunks /
			 (double)t.gold_chunks;
	if (precision + recall > 0)
		fb1 = 2 * precision * recall / (precision + recall);
	fprintf(out, "processed %llu tokens with %llu phrases; ",
		(unsigned long long)t.tokens,
		(unsigned long long)t.gold_chunks);
	fprintf(out, "found: %llu phrases; correct: %llu.\n",
		(unsigned long long)t.guess_chunks,
		(unsigned long long)t.correct_chunks);
	if (t.tokens > 0) {
		fprintf(out, "accuracy: %6.2f%%; ",
			100.0 * (double)t.correct_tags / (double)t.tokens);
		fprintf(out, "precision: %6.2f%%; ", precision);
		fprintf(out, "recall: %6.2f%%; ", recall);
		fprintf(out, "FB1: %6.2f\n", fb1);
	}
	if (!(list = malloc((ce->n_types + 1) * sizeof(*list))))
		return sp_err(ctx, SP_ENOMEM, "conlleval: out of memory");
	for (size_t i = 0; i < ce->n_types; i++)
		if (ce->types[i].gold || ce->types[i].guess)
			list[n++] = &ce->types[i];
	qsort(list, n, sizeof(*list), by_name_);
	for (size_t i = 0; i < n; i++) {
		const ce_type *ty = list[i];
		uint64_t correct = ty->correct;
		if (ce->in_correct && ty == &ce->types[ce->last_gold_type])
			correct++;
		type_line_(out, ty->name, correct, ty->gold, ty->guess);
		/* "" is false in Perl: its duplicate is not removed */
		if (ty->name[0] == '\0' && ty->gold && ty->guess)
			type_line_(out, ty->name, correct, ty->gold,
				   ty->guess);
	}
	free(list);
	if (fflush(out) != 0 || ferror(out))
		return sp_err(ctx, SP_EIO, "conlleval: cannot write the "
			      "report");
	return SP_OK;
}
