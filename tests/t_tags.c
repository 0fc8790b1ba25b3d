/*
 * t_tags.c: tag schemes (core/sp_tags.c): parsing, chunking in IOB1,
 * IOB2 and IOBES, conversion between them, detection, and which
 * transitions each scheme allows.  The conversions are also checked on
 * real data: the gold tags of the WNUT-17 test set written in IOB1 must be
 * exactly the IOB1 column of the conlleval fixture made from them, and
 * every conversion must keep the chunks and give a well-formed sequence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_tags.h"
#include "tap.h"

enum { MAXN = 512 };

/* Tags of a space-separated string; one-letter types ("B-P" is type
 * 'P'-'A'). Returns how many, or -1 when a tag is malformed. */
static int tags_(const char *s, sp_tag_info *out)
{
	int n = 0;
	char tok[16];
	while (*s) {
		size_t l = strcspn(s, " ");
		char prefix;
		const char *type;
		if (!l) {
			s++;
			continue;
		}
		if (l >= sizeof(tok) || n == MAXN)
			return -1;
		memcpy(tok, s, l);
		tok[l] = '\0';
		if (!sp_tag_parse(tok, &prefix, &type))
			return -1;
		out[n].prefix = prefix;
		out[n].type = prefix == 'O' ? -1 : (int32_t)(type[0] - 'A');
		n++;
		s += l;
	}
	return n;
}

/* The tags back as a string ("B-P I-P O"). */
static const char *text_(const sp_tag_info *t, size_t n)
{
	static char buf[MAXN * 4];
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (t[i].prefix == 'O')
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
						 "%sO", i ? " " : "");
		else
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
						 "%s%c-%c", i ? " " : "",
						 t[i].prefix,
						 (char)('A' + t[i].type));
	}
	return buf;
}

static const char *spans_text_(const char *tags)
{
	static char buf[512];
	sp_tag_info t[MAXN];
	sp_tag_span sp[MAXN];
	int n = tags_(tags, t);
	size_t ns, used = 0;
	buf[0] = '\0';
	if (n < 0)
		return "malformed";
	ns = sp_tag_spans(t, (size_t)n, sp);
	for (size_t i = 0; i < ns; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 "%s%c:%zu-%zu", i ? " " : "",
					 (char)('A' + sp[i].type), sp[i].start,
					 sp[i].end);
	return buf;
}

static void test_parse(void)
{
	char p;
	const char *type;
	ok(sp_tag_parse("B-PER", &p, &type) && p == 'B' &&
	   !strcmp(type, "PER"), "B-PER parses");
	ok(sp_tag_parse("I-creative-work", &p, &type) && p == 'I' &&
	   !strcmp(type, "creative-work"), "types keep their hyphens");
	ok(sp_tag_parse("O", &p, &type) && p == 'O' && !*type, "O parses");
	ok(!sp_tag_parse("B-", &p, &type) && !sp_tag_parse("X-PER", &p, &type) &&
	   !sp_tag_parse("PER", &p, &type) && !sp_tag_parse("", &p, &type) &&
	   !sp_tag_parse("O-PER", &p, &type),
	   "B-, X-PER, PER, empty and O-PER are not tags");
	ok(sp_tag_scheme_from_name("bio") == SP_TAGS_IOB2 &&
	   sp_tag_scheme_from_name("iob2") == SP_TAGS_IOB2 &&
	   sp_tag_scheme_from_name("iob1") == SP_TAGS_IOB1 &&
	   sp_tag_scheme_from_name("bioes") == SP_TAGS_IOBES &&
	   sp_tag_scheme_from_name("iobes") == SP_TAGS_IOBES &&
	   sp_tag_scheme_from_name("none") == SP_TAGS_NONE &&
	   sp_tag_scheme_from_name("bilou") == -1,
	   "scheme names (bio = iob2, bioes = iobes; bilou unknown)");
	ok(!strcmp(sp_tag_scheme_name(SP_TAGS_IOBES), "iobes") &&
	   !strcmp(sp_tag_scheme_name(SP_TAGS_IOB1), "iob1"),
	   "canonical names");
}

static void spans_(const char *tags, const char *want)
{
	ok_str(spans_text_(tags), want, "chunks of \"%s\"", tags);
}

static void test_spans(void)
{
	/* IOB2 and conlleval's reading of malformed sequences */
	spans_("B-P I-P O B-L", "P:0-2 L:3-4");
	spans_("O I-P I-P", "P:1-3");
	spans_("B-P B-P", "P:0-1 P:1-2");
	spans_("B-P I-L", "P:0-1 L:1-2");
	/* IOB1: B only between two chunks of one type */
	spans_("I-P I-P B-P O I-L", "P:0-2 P:2-3 L:4-5");
	/* IOBES */
	spans_("S-P S-P", "P:0-1 P:1-2");
	spans_("B-P I-P E-P S-L O", "P:0-3 L:3-4");
	spans_("B-P E-P I-P", "P:0-2 P:2-3");
	spans_("E-P", "P:0-1");
	spans_("B-P O", "P:0-1");
	spans_("", "");
}

/* conversion of `in` to scheme s is `want`, and back to IOB2 is iob2 */
static void convert_(const char *in, sp_tag_scheme s, const char *want)
{
	sp_tag_info t[MAXN], out[MAXN];
	sp_tag_span scratch[MAXN];
	int n = tags_(in, t);
	ok(n >= 0 && sp_tags_convert(t, (size_t)n, s, scratch, out) == 0 &&
	   !strcmp(text_(out, (size_t)n), want), "\"%s\" in %s is \"%s\" (%s)",
	   in, sp_tag_scheme_name(s), want, text_(out, (size_t)(n < 0 ? 0 : n)));
}

static void test_convert(void)
{
	convert_("B-P I-P O B-L B-L", SP_TAGS_IOB1, "I-P I-P O I-L B-L");
	convert_("I-P I-P O I-L B-L", SP_TAGS_IOB2, "B-P I-P O B-L B-L");
	convert_("B-P I-P I-P O B-L", SP_TAGS_IOBES, "B-P I-P E-P O S-L");
	convert_("B-P I-P E-P O S-L S-L", SP_TAGS_IOB2, "B-P I-P I-P O B-L B-L");
	convert_("S-L S-L", SP_TAGS_IOB1, "I-L B-L");
	/* malformed input is read as conlleval reads it, then written well */
	convert_("O I-P B-L I-P", SP_TAGS_IOB2, "O B-P B-L B-P");
	convert_("B-P O", SP_TAGS_IOBES, "S-P O");
	{
		sp_tag_info t[2] = {{'B', 0}, {'O', -1}};
		sp_tag_span s[2];
		ok(sp_tags_convert(t, 2, SP_TAGS_NONE, s, t) == -1,
		   "converting to none is refused");
		s[0] = (sp_tag_span){1, 2, 0};
		s[1] = (sp_tag_span){0, 1, 0};
		ok(sp_tags_from_spans(s, 2, 2, SP_TAGS_IOB2, t) == -1,
		   "spans out of order are refused");
	}
}

static int well_formed_(sp_tag_scheme s, const sp_tag_info *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sp_tag_transition_ok(s, i ? &t[i - 1] : NULL, t[i]))
			return 0;
	return n == 0 || sp_tag_end_ok(s, t[n - 1]);
}

static void allowed_(sp_tag_scheme s, const char *seq, int want)
{
	sp_tag_info t[MAXN];
	int n = tags_(seq, t);
	ok(n >= 0 && well_formed_(s, t, (size_t)n) == want, "%s: \"%s\" is %s",
	   sp_tag_scheme_name(s), seq, want ? "allowed" : "not allowed");
}

static void test_transitions(void)
{
	allowed_(SP_TAGS_IOB2, "B-P I-P O B-L B-L", 1);
	allowed_(SP_TAGS_IOB2, "O I-P", 0);
	allowed_(SP_TAGS_IOB2, "I-P", 0);
	allowed_(SP_TAGS_IOB2, "B-P I-L", 0);
	allowed_(SP_TAGS_IOB1, "I-P I-P B-P O I-L", 1);
	allowed_(SP_TAGS_IOB1, "B-P", 0);
	allowed_(SP_TAGS_IOB1, "O B-P", 0);
	allowed_(SP_TAGS_IOB1, "I-L B-P", 0);
	allowed_(SP_TAGS_IOBES, "B-P I-P E-P S-L O S-P", 1);
	allowed_(SP_TAGS_IOBES, "B-P O", 0);
	allowed_(SP_TAGS_IOBES, "B-P", 0);
	allowed_(SP_TAGS_IOBES, "B-P I-P", 0);
	allowed_(SP_TAGS_IOBES, "O E-P", 0);
	allowed_(SP_TAGS_IOBES, "B-P E-L", 0);
	allowed_(SP_TAGS_IOBES, "B-P S-P", 0);
	allowed_(SP_TAGS_NONE, "O I-P E-L", 1);
	{
		sp_tag_info t[MAXN];
		int n = tags_("O I-P I-P", t);
		ok(sp_tags_detect(t, (size_t)n) == SP_TAGS_IOB1,
		   "detect: a chunk starting with I is IOB1");
		n = tags_("B-P I-P O", t);
		ok(sp_tags_detect(t, (size_t)n) == SP_TAGS_IOB2,
		   "detect: B-I-O is IOB2");
		n = tags_("B-P E-P", t);
		ok(sp_tags_detect(t, (size_t)n) == SP_TAGS_IOBES,
		   "detect: E or S is IOBES");
	}
}

/* ---- real data: the WNUT-17 test set's gold and its IOB1 column ---- */

typedef struct corpus {
	char *types[16];
	size_t n_types;
	int bad;
} corpus;

static sp_tag_info info_of_(corpus *c, const char *tag)
{
	char p;
	const char *type;
	if (!sp_tag_parse(tag, &p, &type)) {
		c->bad = 1;
		return (sp_tag_info){'O', -1};
	}
	if (p == 'O')
		return (sp_tag_info){'O', -1};
	for (size_t i = 0; i < c->n_types; i++)
		if (!strcmp(c->types[i], type))
			return (sp_tag_info){p, (int32_t)i};
	if (c->n_types == 16) {
		c->bad = 1;
		return (sp_tag_info){'O', -1};
	}
	c->types[c->n_types] = strdup(type);
	return (sp_tag_info){p, (int32_t)c->n_types++};
}

static int same_(const sp_tag_info *a, const sp_tag_info *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].prefix != b[i].prefix || a[i].type != b[i].type)
			return 0;
	return 1;
}

static int same_spans_(const sp_tag_info *a, const sp_tag_info *b, size_t n)
{
	sp_tag_span x[MAXN], y[MAXN];
	size_t nx = sp_tag_spans(a, n, x), ny = sp_tag_spans(b, n, y);
	return nx == ny && sp_tag_spans_match(x, nx, y, ny, NULL) == nx;
}

static void test_wnut(void)
{
	const char *src = getenv("srcdir");
	char path[1024], line[1024];
	FILE *f;
	corpus c = {{0}, 0, 0};
	sp_tag_info gold[MAXN], iob1[MAXN], out[MAXN], out2[MAXN];
	sp_tag_span scratch[MAXN];
	size_t m = 0, sentences = 0, to_iob1 = 0, to_iob2 = 0, kept = 0,
	       formed = 0, detected = 0;
	int eof = 0;
	snprintf(path, sizeof(path), "%s/tests/data/conlleval/wnut17.iob1.txt",
		 src ? src : ".");
	if (!ok((f = fopen(path, "r")) != NULL, "read %s", path))
		return;
	while (!eof) {
		char g[256], q[256];
		eof = !fgets(line, sizeof(line), f);
		if (!eof && sscanf(line, "%*s %255s %255s", g, q) == 2 &&
		    m < MAXN) {
			gold[m] = info_of_(&c, g);
			iob1[m] = info_of_(&c, q);
			m++;
			continue;
		}
		if (m == 0)
			continue;
		sentences++;
		sp_tags_convert(gold, m, SP_TAGS_IOB1, scratch, out);
		formed += well_formed_(SP_TAGS_IOB1, out, m);
		/* the fixture also writes B- after a chunk of another type,
		 * where IOB1 (CoNLL-2003) has I-: the same chunks either way */
		for (size_t i = 1; i < m; i++)
			if (iob1[i].prefix == 'B' && iob1[i - 1].prefix != 'O' &&
			    iob1[i - 1].type != iob1[i].type)
				iob1[i].prefix = 'I';
		to_iob1 += same_(out, iob1, m);
		sp_tags_convert(iob1, m, SP_TAGS_IOB2, scratch, out);
		to_iob2 += same_(out, gold, m);
		sp_tags_convert(gold, m, SP_TAGS_IOBES, scratch, out);
		sp_tags_convert(out, m, SP_TAGS_IOB2, scratch, out2);
		kept += same_(out2, gold, m) && same_spans_(out, gold, m);
		formed += well_formed_(SP_TAGS_IOBES, out, m) &&
			  well_formed_(SP_TAGS_IOB2, gold, m);
		detected += sp_tags_detect(gold, m) == SP_TAGS_IOB2 &&
			    sp_tags_detect(out, m) != SP_TAGS_IOB1;
		m = 0;
	}
	fclose(f);
	ok(!c.bad && sentences == 1287, "WNUT-17 test: %zu sentences, %zu types",
	   sentences, c.n_types);
	ok(to_iob1 == sentences, "gold -> IOB1 is the fixture's IOB1 column "
	   "(%zu of %zu sentences)", to_iob1, sentences);
	ok(to_iob2 == sentences, "its IOB1 column -> IOB2 is the gold (%zu)",
	   to_iob2);
	ok(kept == sentences, "gold -> IOBES -> IOB2 is the gold, same chunks "
	   "(%zu)", kept);
	ok(formed == 2 * sentences, "every sequence is well formed in its "
	   "scheme (%zu of 2 x %zu)", formed, sentences);
	ok(detected == sentences, "detect: the gold is IOB2 (%zu)", detected);
	for (size_t i = 0; i < c.n_types; i++)
		free(c.types[i]);
}

int main(void)
{
	test_parse();
	test_spans();
	test_convert();
	test_transitions();
	test_wnut();
	return tap_done();
}
