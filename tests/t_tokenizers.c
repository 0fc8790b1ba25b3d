/*
 * t_tokenizers.c: the tokenizer plugin (plugins/tokenizers.c), driven only
 * through its descriptor as the host would: validated args, create,
 * tokenize, destroy.  Links the plugin source directly.
 *
 * Expected tokens are literals.  The CJK segmentations are what ICU 72's
 * dictionaries produce; another ICU release may segment differently, which
 * these tests are meant to notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "tap.h"

const sp_plugin *tokenizers_LTX_sp_plugin_entry(void);

/* What the emit callback saw: tokens joined by '|', offsets by ','. */
typedef struct seen {
	char toks[8192];
	char offs[2048];
	size_t n;
	size_t bytes;   /* total token bytes, for texts too long to join */
	size_t stop_at; /* > 0: fail the stop_at-th call */
	sp_ctx *ctx;
} seen;

static void append_(char *dst, size_t cap, const char *src, size_t n)
{
	size_t len = strlen(dst);
	if (len + n + 1 > cap)
		n = len + 1 < cap ? cap - len - 1 : 0;
	memcpy(dst + len, src, n);
	dst[len + n] = '\0';
}

static int collect(void *payload, const char *tok, size_t len, size_t offset)
{
	seen *s = payload;
	char num[32];
	if (s->stop_at && s->n + 1 == s->stop_at) {
		s->n++;
		return sp_err(s->ctx, SP_EINTR, "stopped by the test");
	}
	if (s->n) {
		append_(s->toks, sizeof(s->toks), "|", 1);
		append_(s->offs, sizeof(s->offs), ",", 1);
	}
	append_(s->toks, sizeof(s->toks), tok, len);
	snprintf(num, sizeof(num), "%zu", offset);
	append_(s->offs, sizeof(s->offs), num, strlen(num));
	s->n++;
	s->bytes += len;
	return 0;
}

/* One tokenizer instance with its context and args. */
typedef struct tk {
	const sp_tokenizer_ops *ops;
	sp_ctx *ctx;
	sp_kv *kv;
	void *self;
} tk;

static const sp_tokenizer_ops *find_(const char *name)
{
	const sp_plugin *p = tokenizers_LTX_sp_plugin_entry();
	for (size_t i = 0; p->components[i]; i++)
		if (strcmp(p->components[i]->name, name) == 0)
			return (const sp_tokenizer_ops *)p->components[i];
	return NULL;
}

/* args: key, value, ..., NULL.  Values come "from" test.pipe:3:5 so that
 * messages can be checked for where a bad value came from. */
static int tk_open(tk *t, const char *comp, const char *const *args)
{
	int rc;
	memset(t, 0, sizeof(*t));
	t->ops = find_(comp);
	if (!t->ops)
		return SP_ENOTFOUND;
	if ((rc = sp_ctx_new(&t->ctx, 1)) || (rc = sp_kv_new(&t->kv, comp)))
		return rc;
	for (; args[0]; args += 2)
		if ((rc = sp_kv_set(t->kv, t->ctx, args[0], args[1], 0,
				    "test.pipe:3:5")))
			return rc;
	if ((rc = sp_kv_validate(t->kv, t->ctx, t->ops->base.params, ".")))
		return rc;
	return t->ops->create(&t->self, t->ctx, t->kv);
}

static int tk_run(tk *t, const char *text, size_t len, seen *s)
{
	memset(s, 0, sizeof(*s));
	s->ctx = t->ctx;
	return t->ops->tokenize(t->self, t->ctx, text, len, collect, s);
}

static void tk_close(tk *t)
{
	if (t->ops)
		t->ops->destroy(t->self);
	sp_kv_free(t->kv);
	sp_ctx_free(t->ctx);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS ((const char *const[]){NULL})

/* Tokenizes text with a fresh instance; checks tokens (and offsets when
 * want_offs is not NULL). */
static void toks_(const char *comp, const char *const *args, const char *text,
		  const char *want, const char *want_offs, const char *what)
{
	tk t;
	seen s;
	int rc = tk_open(&t, comp, args);
	if (rc == 0)
		rc = tk_run(&t, text, strlen(text), &s);
	if (!ok(rc == 0, "%s: tokenize succeeds", what))
		diag("rc %d: %s", rc, sp_errmsg(t.ctx));
	else {
		const char *got = s.toks;
		ok_str(got, want, "%s: tokens", what);
		got = s.offs;
		if (want_offs)
			ok_str(got, want_offs, "%s: offsets", what);
	}
	tk_close(&t);
}

/* Expects tokenize (or create, when text is NULL) to fail with `code` and a
 * message containing `needle`, having emitted nothing. */
static void fails_(const char *comp, const char *const *args, const char *text,
		   size_t len, int code, const char *needle, const char *what)
{
	tk t;
	seen s;
	int rc = tk_open(&t, comp, args);
	memset(&s, 0, sizeof(s));
	if (rc == 0 && (text || len))
		rc = tk_run(&t, text, len, &s);
	if (!ok(rc == code && strstr(sp_errmsg(t.ctx), needle) && s.n == 0,
		"%s: %s naming \"%s\"", what, sp_strerror(code), needle))
		diag("rc %d, %zu tokens, message \"%s\"", rc, s.n,
		     sp_errmsg(t.ctx));
	tk_close(&t);
}

static void test_descriptor(void)
{
	const sp_plugin *p = tokenizers_LTX_sp_plugin_entry();
	char names[128] = "";
	const char *got;
	size_t i;
	ok(p && p->abi == SP_ABI_VERSION, "descriptor has ABI %d",
	   SP_ABI_VERSION);
	ok_str(p->name, "tokenizers", "plugin name equals the module name");
	ok(p->version && p->version[0] && p->doc && p->doc[0],
	   "version and doc are set");
	for (i = 0; p->components[i]; i++) {
		const sp_component *c = p->components[i];
		const sp_tokenizer_ops *o = (const sp_tokenizer_ops *)c;
		int documented = 1;
		for (const sp_param_spec *ps = c->params; ps->key; ps++)
			documented &= ps->doc && ps->doc[0] && ps->def;
		ok(c->kind == SP_KIND_TOKENIZER &&
			   c->size == sizeof(sp_tokenizer_ops) && o->create &&
			   o->destroy && o->tokenize && c->doc && documented,
		   "%s: tokenizer ops complete, params documented with "
		   "defaults", c->name);
		if (i)
			strcat(names, ",");
		strcat(names, c->name);
		/* destroy must accept NULL (a crash fails the test). */
		o->destroy(NULL);
	}
	got = names;
	ok_str(got, "icu_words,chars,dna", "three components in order");
}

static void test_words_english(void)
{
	const char *en = "Hello, world! Don't panic: it's 3.14 o'clock.";
	toks_("icu_words", NOARGS, en,
	      "Hello|,|world|!|Don't|panic|:|it's|3.14|o'clock|.",
	      "0,5,7,12,14,20,25,27,32,37,44", "en punct=keep");
	toks_("icu_words", ARGS("punct", "drop"), en,
	      "Hello|world|Don't|panic|it's|3.14|o'clock",
	      "0,7,14,20,27,32,37", "en punct=drop");
	toks_("icu_words", ARGS("numbers", "drop"), en,
	      "Hello|,|world|!|Don't|panic|:|it's|o'clock|.", NULL,
	      "en numbers=drop");
	toks_("icu_words", NOARGS, "don't don\xE2\x80\x99t can't 1,000",
	      "don't|don\xE2\x80\x99t|can't|1,000", NULL,
	      "contractions (straight and curly apostrophe), grouped number");
	toks_("icu_words", NOARGS,
	      "  \t\n a  b \r\n c\xC2\xA0" "d\xE3\x80\x80" "e ", "a|b|c|d|e",
	      "5,8,13,16,20",
	      "white space (incl. NBSP, ideographic space) is never a token");
	toks_("icu_words", ARGS("locale", "id"),
	      "Saya tidak suka makanan itu, tapi rumahnya bagus.",
	      "Saya|tidak|suka|makanan|itu|,|tapi|rumahnya|bagus|.", NULL,
	      "Indonesian");
}

static void test_words_cjk(void)
{
	toks_("icu_words", ARGS("locale", "ja"),
	      "私は東京に住んでいます。",
	      "私|は|東京|に|住|んで|い|ます|。", NULL,
	      "Japanese (ICU 72 dictionary)");
	toks_("icu_words", ARGS("locale", "ja"),
	      "日本語のテキストを単語に分割します。",
	      "日本語|の|テキスト|を|単語|に|分割|し|ます|。",
	      "0,9,12,24,27,33,36,42,45,51", "Japanese, katakana word");
	toks_("icu_words", ARGS("locale", "zh"), "我们今天去北京大学。",
	      "我们|今天|去|北京|大学|。", NULL, "Chinese (ICU 72 dictionary)");
	toks_("icu_words", ARGS("locale", "zh", "punct", "drop"),
	      "我喜欢吃苹果。", "我|喜欢|吃|苹果", "0,3,9,12",
	      "Chinese punct=drop keeps ideographs, drops 。");
}

static void test_words_emoji_case(void)
{
	const char *emo = "I \xE2\x9D\xA4\xEF\xB8\x8F NY "
			  "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"
			  "\xE2\x80\x8D\xF0\x9F\x91\xA7 ok!";
	toks_("icu_words", NOARGS, emo,
	      "I|\xE2\x9D\xA4\xEF\xB8\x8F|NY|"
	      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"
	      "\xE2\x80\x8D\xF0\x9F\x91\xA7|ok|!",
	      "0,2,9,12,31,33", "emoji and a ZWJ family are one token each");
	toks_("icu_words", ARGS("punct", "drop"), emo, "I|NY|ok", "0,9,31",
	      "punct=drop drops emoji (no letter or number)");

	toks_("icu_words", ARGS("case", "fold"), "Straße ist GROSS",
	      "strasse|ist|gross", "0,8,12",
	      "case=fold: ß -> ss, offsets stay those of the original");
	toks_("icu_words", ARGS("case", "lower"), "Straße ΟΔΟΣ",
	      "straße|\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82", NULL,
	      "case=lower keeps ß, word-final sigma becomes ς");
	toks_("icu_words", ARGS("case", "lower"), "İstanbul",
	      "i\xCC\x87stanbul", NULL, "case=lower, en: İ -> i + dot above");
	toks_("icu_words", ARGS("case", "lower", "locale", "tr"),
	      "İstanbul IŞIK", "istanbul|ışık", NULL,
	      "case=lower, tr: İ -> i, I -> ı");
	toks_("icu_words", ARGS("locale", ""), "root rules, too.",
	      "root|rules|,|too|.", NULL, "locale \"\" selects root");
	toks_("icu_words", ARGS("locale", "en-US"), "BCP 47 ok",
	      "BCP|47|ok", NULL, "locale en-US accepted");
	fails_("icu_words", ARGS("locale", "englsh"), NULL, 0, SP_EINVAL,
	       "locale=\"englsh\" (test.pipe:3:5)", "unknown locale");
}

static const char family[] = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"
			     "\xE2\x80\x8D\xF0\x9F\x91\xA7";

static void test_chars(void)
{
	char text[64], want[128];
	snprintf(text, sizeof(text), "a%sb", family);
	snprintf(want, sizeof(want), "a|%s|b", family);
	toks_("chars", ARGS("unit", "grapheme"), text, want, "0,1,19",
	      "grapheme: ZWJ family is one token");
	toks_("chars", NOARGS, text,
	      "a|\xF0\x9F\x91\xA8|\xE2\x80\x8D|\xF0\x9F\x91\xA9|\xE2\x80\x8D|"
	      "\xF0\x9F\x91\xA7|b",
	      "0,1,5,8,12,15,19", "codepoint: ZWJ family is five code points");
	toks_("chars", ARGS("unit", "grapheme"), "e\xCC\x81x",
	      "e\xCC\x81|x", NULL, "grapheme: e + combining acute is one");
	toks_("chars", NOARGS, "e\xCC\x81x", "e|\xCC\x81|x", NULL,
	      "codepoint: e + combining acute is two");
	toks_("chars", NOARGS, "a b\nc", "a| |b|\n|c", "0,1,2,3,4",
	      "spaces=keep: space and newline are tokens");
	toks_("chars", ARGS("spaces", "drop"), "a b\n\tc\xE3\x80\x80" "d",
	      "a|b|c|d", "0,2,5,9", "spaces=drop drops all white space");
	toks_("chars", ARGS("unit", "grapheme"), "a\r\nb", "a|\r\n|b", NULL,
	      "grapheme: CR LF is one token");
	toks_("chars", ARGS("unit", "grapheme", "spaces", "drop"), "a\r\nb",
	      "a|b", NULL, "grapheme, spaces=drop: CR LF dropped");
	toks_("chars", ARGS("case", "lower"), "AÉ İz\xF0\x9F\x91\x8D",
	      "a|é| |i\xCC\x87|z|\xF0\x9F\x91\x8D", "0,1,3,4,6,7",
	      "case=lower per code point");
	toks_("chars", ARGS("unit", "grapheme", "case", "lower"), "ÉE\xCC\x81",
	      "é|e\xCC\x81", NULL, "case=lower per grapheme");
}

/* Invalid UTF-8: every tokenizer that reads UTF-8 rejects it before the
 * first token, naming the byte offset of the ill-formed sequence. */
static void test_bad_utf8(void)
{
	static const struct {
		const char *text;
		const char *needle;
		const char *what;
	} bad[] = {
		{"The quick brown f\xFFox", "invalid UTF-8 at byte 17 (",
		 "byte FF"},
		{"ab\xE2\x82", "invalid UTF-8 at byte 2 (", "truncated at end"},
		{"ab\xE2\x82" "cd", "invalid UTF-8 at byte 2 (",
		 "truncated before ASCII"},
		{"x\xC0\xAF", "invalid UTF-8 at byte 1 (", "overlong 2-byte '/'"},
		{"xy\xE0\x80\xAF", "invalid UTF-8 at byte 2 (",
		 "overlong 3-byte"},
		{"abc\x80", "invalid UTF-8 at byte 3 (", "lone continuation"},
		{"\xED\xA0\x80", "invalid UTF-8 at byte 0 (", "surrogate"},
		{"a\xF4\x90\x80\x80", "invalid UTF-8 at byte 1 (",
		 "above U+10FFFF"},
	};
	const char *const *const cfg[] = {NOARGS, ARGS("unit", "codepoint"),
					  ARGS("unit", "grapheme")};
	static const char *const comp[] = {"icu_words", "chars", "chars"};
	static const char *const label[] = {"icu_words", "chars codepoint",
					    "chars grapheme"};
	char what[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t j = 0; j < 3; j++) {
			snprintf(what, sizeof(what), "%s, %s", label[j],
				 bad[i].what);
			fails_(comp[j], cfg[j], bad[i].text,
			       strlen(bad[i].text), SP_EINPUT, bad[i].needle,
			       what);
		}
}

static void test_dna(void)
{
	char seq[80], want[80 * 33], offs[80 * 3], kmer[40];
	uint32_t x = 12345;
	toks_("dna", NOARGS, "acgtN ACGT\nnn", "A|C|G|T|N|A|C|G|T|N|N",
	      "0,1,2,3,4,6,7,8,9,11,12", "mixed case, N, white space skipped");
	fails_("dna", NOARGS, "ACGU", 4, SP_EINPUT,
	       "invalid nucleotide 'U' at position 4 (byte offset 3), "
	       "expected one of A C G T N",
	       "letter U");
	fails_("dna", NOARGS, "AC\nGTx", 6, SP_EINPUT,
	       "'x' at position 6 (byte offset 5)", "letter after a newline");
	fails_("dna", NOARGS, "AC\xC3\xA9", 4, SP_EINPUT,
	       "byte 0xC3 at position 3 (byte offset 2)", "non-ASCII byte");
	toks_("dna", ARGS("k", "3"), "ACGTAC", "ACG|CGT|GTA|TAC", "0,1,2,3",
	      "k=3 stride=1");
	toks_("dna", ARGS("k", "3", "stride", "3"), "ACGTAC", "ACG|TAC", "0,3",
	      "k=3 stride=3");
	toks_("dna", ARGS("k", "3", "stride", "2"), "ACGTACG", "ACG|GTA|ACG",
	      "0,2,4", "k=3 stride=2");
	toks_("dna", ARGS("k", "3"), "ac gt\nAC", "ACG|CGT|GTA|TAC", "0,1,3,4",
	      "k-mers span white space, offset is the first base's");
	toks_("dna", ARGS("k", "3"), "AC", "", "", "fewer bases than k");
	toks_("dna", ARGS("positions", "true"), "ac g", "1:A|2:C|3:G", "0,1,3",
	      "positions: each base numbered");
	toks_("dna", ARGS("k", "3", "stride", "2", "positions", "true"), "ACGTACG",
	      "1:ACG|2:GTA|3:ACG", "0,2,4", "positions count k-mers, not bases");

	/* k=32 over 70 bases wraps the window several times. */
	for (size_t i = 0; i < 70; i++) {
		x = x * 1103515245u + 12345u;
		seq[i] = "ACGT"[(x >> 16) & 3];
	}
	seq[70] = '\0';
	want[0] = offs[0] = '\0';
	for (size_t i = 0; i + 32 <= 70; i++) {
		snprintf(kmer, sizeof(kmer), "%s%.32s", i ? "|" : "", seq + i);
		strcat(want, kmer);
		snprintf(kmer, sizeof(kmer), "%s%zu", i ? "," : "", i);
		strcat(offs, kmer);
	}
	toks_("dna", ARGS("k", "32"), seq, want, offs, "k=32 over 70 bases");

	fails_("dna", ARGS("k", "0"), NULL, 0, SP_EINVAL,
	       "k=0 (test.pipe:3:5) must be 1..32", "k=0 rejected");
	fails_("dna", ARGS("k", "33"), NULL, 0, SP_EINVAL,
	       "k=33 (test.pipe:3:5) must be 1..32", "k=33 rejected");
	fails_("dna", ARGS("k", "3", "stride", "0"), NULL, 0, SP_EINVAL,
	       "stride=0 (test.pipe:3:5)", "stride=0 rejected");
	fails_("dna", ARGS("k", "3", "stride", "4"), NULL, 0, SP_EINVAL,
	       "stride=4 (test.pipe:3:5) must be 1..k", "stride > k rejected");
}

static void test_empty_and_stop(void)
{
	static const char *const comp[] = {"icu_words", "chars", "chars",
					   "dna", "dna"};
	const char *const *const cfg[] = {ARGS("case", "lower"), NOARGS,
					  ARGS("unit", "grapheme"), NOARGS,
					  ARGS("k", "2")};
	static const char *const text[] = {"One two three four",
					   "abcd", "abcd", "ACGTA", "ACGTA"};
	for (size_t i = 0; i < 5; i++) {
		tk t;
		seen s;
		int rc = tk_open(&t, comp[i], cfg[i]), rc2 = -1, rc3 = -1;
		size_t n2 = 1, n3 = 1;
		if (rc == 0) {
			rc2 = tk_run(&t, "", 0, &s);
			n2 = s.n;
			rc3 = tk_run(&t, NULL, 0, &s);
			n3 = s.n;
		}
		ok(rc == 0 && rc2 == 0 && n2 == 0 && rc3 == 0 && n3 == 0,
		   "%s #%zu: empty text gives no tokens", comp[i], i);
		if (rc == 0) {
			memset(&s, 0, sizeof(s));
			s.ctx = t.ctx;
			s.stop_at = 3;
			rc = t.ops->tokenize(t.self, t.ctx, text[i],
					     strlen(text[i]), collect, &s);
			ok(rc == SP_EINTR && s.n == 3 &&
				   strcmp(sp_errmsg(t.ctx),
					  "stopped by the test") == 0,
			   "%s #%zu: callback error stops at the 3rd token and "
			   "propagates with its message",
			   comp[i], i);
			rc = t.ops->tokenize(t.self, t.ctx, "AC", 2, collect,
					     &s);
			ok(rc == 0, "%s #%zu: usable again after a stop",
			   comp[i], i);
		}
		tk_close(&t);
	}
	toks_("icu_words", NOARGS, " \n\t ", "", "", "white space only");
	toks_("dna", NOARGS, " \n\t ", "", "", "dna: white space only");
}

/* One instance, many calls: buffers grow for a long text and are reused
 * for a short one without stale state. */
static void test_reuse(void)
{
	const size_t reps = 3000;
	char *big = malloc(reps * 12 + 1), *p = big;
	tk t;
	seen s;
	int rc;
	if (!ok(big != NULL, "allocate a long text"))
		return;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < reps; i++, p += 12)
		memcpy(p, "Stra\xC3\x9F" "e 42, ", 12);
	*p = '\0';
	rc = tk_open(&t, "icu_words", ARGS("case", "fold"));
	if (rc == 0)
		rc = tk_run(&t, big, strlen(big), &s);
	ok(rc == 0 && s.n == reps * 3 && s.bytes == reps * (7 + 2 + 1),
	   "long text: %zu tokens, %zu bytes", s.n, s.bytes);
	if (rc == 0)
		rc = tk_run(&t, "A \xC3\x9F", 4, &s);
	ok(rc == 0 && strcmp(s.toks, "a|ss") == 0 &&
		   strcmp(s.offs, "0,2") == 0,
	   "short text after a long one: \"%s\" at %s", s.toks, s.offs);
	tk_close(&t);

	memset(big, 'A', 2000);
	big[2000] = '\0';
	memset(&s, 0, sizeof(s));
	rc = tk_open(&t, "chars", ARGS("unit", "grapheme", "case", "lower"));
	if (rc == 0)
		rc = tk_run(&t, big, 2000, &s);
	ok(rc == 0 && s.n == 2000 && s.bytes == 2000 && s.toks[0] == 'a',
	   "chars grapheme: 2000 characters");
	if (rc == 0)
		rc = tk_run(&t, "Ab", 2, &s);
	ok(rc == 0 && strcmp(s.toks, "a|b") == 0,
	   "chars grapheme: short text after a long one");
	tk_close(&t);
	free(big);

	fails_("icu_words", NOARGS, NULL, 3, SP_EINVAL, "NULL text",
	       "NULL text with a length");
}

int main(void)
{
	test_descriptor();
	test_words_english();
	test_words_cjk();
	test_words_emoji_case();
	test_chars();
	test_bad_utf8();
	test_dna();
	test_empty_and_stop();
	test_reuse();
	return tap_done();
}
