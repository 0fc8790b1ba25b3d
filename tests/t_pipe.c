/*
 * t_pipe.c: the .pipe parser: a full example, every syntax error (each
 * with its FILE:LINE:COL and what was expected), --set overrides good and
 * bad, BOM and CRLF, duplicates, and reading files (srcdir fixtures).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_pipe.h"
#include "sp_plugin.h"
#include "tap.h"

/* text[0..len) parsed as "t.pipe" must fail with SP_EINVAL, no pipe, and
 * a message starting with `at` that contains `what`.  Every message must
 * say what was expected. */
static void bad_n(sp_ctx *ctx, const char *text, size_t len, const char *at,
		  const char *what)
{
	sp_pipe *p = (sp_pipe *)&p;
	int rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", text, len);
	const char *msg = sp_errmsg(ctx);
	ok(rc == SP_EINVAL && p == NULL && strncmp(msg, at, strlen(at)) == 0 &&
		   strstr(msg, what) != NULL && strstr(msg, ", expected ") != NULL,
	   "error %s%s", at, what);
	if (rc != SP_EINVAL || strncmp(msg, at, strlen(at)) != 0 || !strstr(msg, what))
		diag("got rc %d: %s", rc, msg);
	sp_pipe_free(p);
}

static void bad(sp_ctx *ctx, const char *text, const char *at, const char *what)
{
	bad_n(ctx, text, strlen(text), at, what);
}

/* s with control characters as \xNN, so that TAP lines stay lines. */
static const char *visible(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	for (; *s && n + 5 < size; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", (unsigned char)*s);
		else
			buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

/* Override `set` must fail with a message "--set SET: ..." containing
 * `what`, and leave the pipe as it was. */
static void bad_set(sp_ctx *ctx, sp_pipe *p, const char *set, const char *what)
{
	char at[256];
	size_t n = sp_pipe_count(p);
	int rc = sp_pipe_override(p, ctx, set);
	const char *msg = sp_errmsg(ctx);
	char shown[256];
	snprintf(at, sizeof(at), "--set %s: ", set);
	ok(rc == SP_EINVAL && strncmp(msg, at, strlen(at)) == 0 &&
		   strstr(msg, what) != NULL && strstr(msg, ", expected ") != NULL &&
		   sp_pipe_count(p) == n,
	   "override '%s' rejected", visible(set, shown, sizeof(shown)));
	diag("%s", visible(msg, shown, sizeof(shown)));
}

static const char hello[] =
	"# hello.pipe: the course's char-level RNN\n"  /* 1 */
	"[pipeline]\n"                                  /* 2 */
	"name = hello\n"                                /* 3 */
	"seed = 42\n"                                   /* 4 */
	"\n"                                            /* 5 */
	"[data]\n"                                      /* 6 */
	"format = lines\n"                              /* 7 */
	"train = \"../data/hello/train.txt\"\n"         /* 8 */
	"\n"                                            /* 9 */
	"[tokenize]\n"                                  /* 10 */
	"plugin = chars\n"                              /* 11 */
	"\n"                                            /* 12 */
	"[encode]\n"                                    /* 13 */
	"plugin = onehot\n"                             /* 14 */
	"specials = none\n"                             /* 15 */
	"\n"                                            /* 16 */
	"[model]\n"                                     /* 17 */
	"plugin = rnn\n"                                /* 18 */
	"hidden = 3\n"                                  /* 19 */
	"\n"                                            /* 20 */
	"[head]\n"                                      /* 21 */
	"plugin = lm\n"                                 /* 22 */
	"\n"                                            /* 23 */
	"[train]\n"                                     /* 24 */
	"epochs = 100\n"                                /* 25 */
	"lr = 0.1           # typed values\n";          /* 26 */

static void test_happy(sp_ctx *ctx)
{
	static const char *const order[] = {"pipeline", "data", "tokenize", "encode",
					    "model", "head", "train"};
	static const sp_param_spec data_spec[] = {
		{"format", SP_T_STRING, NULL, "file format", "lines|conll|tsv"},
		{"train", SP_T_PATH, NULL, "training file", NULL},
		{"eval", SP_T_PATH, "", "evaluation file", NULL},
		{NULL, 0, NULL, NULL, NULL}
	};
	static const sp_param_spec train_spec[] = {
		{"epochs", SP_T_INT, NULL, NULL, NULL},
		{"lr", SP_T_FLOAT, NULL, NULL, NULL},
		{NULL, 0, NULL, NULL, NULL}
	};
	sp_pipe *p = NULL;
	sp_kv *kv;
	size_t len = 0;
	int same = 1, rc;

	rc = sp_pipe_parse_mem(&p, ctx, "pipelines/hello.pipe", hello, strlen(hello));
	ok(rc == SP_OK && p, "full example parses (%s)", rc ? sp_errmsg(ctx) : "ok");
	if (!p)
		return;
	ok_str(sp_pipe_name(p), "pipelines/hello.pipe", "name");
	ok_str(sp_pipe_dir(p), "pipelines", "dir");
	ok(sp_pipe_text(p, &len) && len == strlen(hello) &&
		   memcmp(sp_pipe_text(p, NULL), hello, len) == 0,
	   "original text kept");
	ok(sp_pipe_count(p) == 7, "seven sections");
	for (size_t i = 0; i < 7; i++)
		same &= strcmp(sp_kv_section(sp_pipe_section_at(p, i)), order[i]) == 0;
	ok(same, "sections in file order");
	ok(sp_pipe_section_at(p, 7) == NULL, "section_at past the end is NULL");
	ok(sp_pipe_section(p, "nope") == NULL && sp_pipe_section(p, NULL) == NULL,
	   "absent section is NULL");

	kv = sp_pipe_section(p, "pipeline");
	ok_str(sp_kv_section_where(kv), "pipelines/hello.pipe:2:1", "section where");
	ok_str(sp_kv_str(kv, "name"), "hello", "bare word");
	ok_str(sp_kv_where(kv, "name"), "pipelines/hello.pipe:3:8", "value where");
	ok_str(sp_kv_key_where(kv, "name"), "pipelines/hello.pipe:3:1", "key where");
	ok_str(sp_kv_str(kv, "seed"), "42", "integer");
	ok(sp_kv_count(kv) == 2, "two keys in [pipeline]");

	kv = sp_pipe_section(p, "data");
	ok_str(sp_kv_str(kv, "train"), "../data/hello/train.txt", "quoted string");
	ok_str(sp_kv_where(kv, "train"), "pipelines/hello.pipe:8:9", "string where is its quote");
	rc = sp_kv_validate(kv, ctx, data_spec, sp_pipe_dir(p));
	ok(rc == SP_OK, "[data] validates (%s)", rc ? sp_errmsg(ctx) : "ok");
	ok_str(sp_kv_str(kv, "train"), "pipelines/../data/hello/train.txt",
	       "path resolved against the file's folder");

	kv = sp_pipe_section(p, "model");
	ok_str(sp_kv_str(kv, "plugin"), "rnn", "[model] plugin");
	ok_str(sp_kv_str(kv, "hidden"), "3", "[model] hidden");
	ok_str(sp_kv_where(kv, "hidden"), "pipelines/hello.pipe:19:10", "[model] hidden where");

	kv = sp_pipe_section(p, "train");
	ok_str(sp_kv_where(kv, "lr"), "pipelines/hello.pipe:26:6", "value before a comment");
	rc = sp_kv_validate(kv, ctx, train_spec, sp_pipe_dir(p));
	ok(rc == SP_OK && sp_kv_int(kv, "epochs") == 100, "[train] epochs");
	ok_near(sp_kv_float(kv, "lr"), 0.1, 1e-15, "[train] lr");
	sp_pipe_free(p);
	sp_pipe_free(NULL);
	ok(1, "sp_pipe_free(NULL) is a no-op");
}

static void test_values(sp_ctx *ctx)
{
	static const char text[] =
		"  # indented comment\n"
		"\t[ model ]   # spaces in a header\n"
		"esc = \"a\\\"b\\\\c\\nd\\te\"\n"
		"hash = abc#def\n"
		"empty = \"\"\n"
		"utf = \"café ✓\"\n"
		"word = ./x/y_z-1.2+3:4\n"
		"neg = -0.5\n"
		"dot = .5\n"
		"exp = 1E-3\n"
		"yes = true\n"
		"  tight=1\n"
		"tab\t=\t\"in\tside\" # tab\n"
		"last = end";
	static const sp_param_spec spec[] = {
		{"esc", SP_T_STRING, NULL, NULL, NULL},
		{"hash", SP_T_STRING, NULL, NULL, NULL},
		{"empty", SP_T_STRING, NULL, NULL, NULL},
		{"utf", SP_T_STRING, NULL, NULL, NULL},
		{"word", SP_T_STRING, NULL, NULL, NULL},
		{"neg", SP_T_FLOAT, NULL, NULL, NULL},
		{"dot", SP_T_FLOAT, NULL, NULL, NULL},
		{"exp", SP_T_FLOAT, NULL, NULL, NULL},
		{"yes", SP_T_BOOL, NULL, NULL, NULL},
		{"tight", SP_T_INT, NULL, NULL, NULL},
		{"tab", SP_T_STRING, NULL, NULL, NULL},
		{"last", SP_T_STRING, NULL, NULL, NULL},
		{NULL, 0, NULL, NULL, NULL}
	};
	sp_pipe *p = NULL;
	sp_kv *kv;
	int rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", text, strlen(text));
	ok(rc == SP_OK, "value syntax example parses (%s)", rc ? sp_errmsg(ctx) : "ok");
	if (!p)
		return;
	kv = sp_pipe_section(p, "model");
	ok_str(sp_kv_section_where(kv), "t.pipe:2:2", "indented header where");
	ok_str(sp_kv_str(kv, "esc"), "a\"b\\c\nd\te", "escapes decoded");
	ok_str(sp_kv_str(kv, "hash"), "abc", "'#' starts a comment after a bare word");
	ok_str(sp_kv_str(kv, "empty"), "", "empty quoted string");
	ok_str(sp_kv_str(kv, "utf"), "café ✓", "UTF-8 in a string");
	ok_str(sp_kv_str(kv, "word"), "./x/y_z-1.2+3:4", "bare word characters");
	ok_str(sp_kv_where(kv, "tight"), "t.pipe:12:9", "no spaces around '='");
	ok_str(sp_kv_str(kv, "tab"), "in\tside", "tabs as spaces and inside strings");
	ok_str(sp_kv_where(kv, "tab"), "t.pipe:13:7", "a tab counts as one column");
	ok_str(sp_kv_str(kv, "last"), "end", "last line without a newline");
	rc = sp_kv_validate(kv, ctx, spec, NULL);
	ok(rc == SP_OK, "types check (%s)", rc ? sp_errmsg(ctx) : "ok");
	ok_near(sp_kv_float(kv, "neg"), -0.5, 0, "-0.5");
	ok_near(sp_kv_float(kv, "dot"), 0.5, 0, ".5");
	ok_near(sp_kv_float(kv, "exp"), 1e-3, 1e-15, "1E-3");
	ok(sp_kv_bool(kv, "yes") == 1, "true");
	sp_pipe_free(p);

	rc = sp_pipe_parse_mem(&p, ctx, "empty.pipe", "", 0);
	ok(rc == SP_OK && sp_pipe_count(p) == 0, "empty text: no sections");
	ok_str(sp_pipe_dir(p), ".", "dir of a bare file name is '.'");
	sp_pipe_free(p);
	rc = sp_pipe_parse_mem(&p, ctx, "/x.pipe", "# only a comment", 16);
	ok(rc == SP_OK && sp_pipe_count(p) == 0, "comment only: no sections");
	ok_str(sp_pipe_dir(p), "/", "dir of /x.pipe is '/'");
	sp_pipe_free(p);
	rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", "[head]\n", 7);
	ok(rc == SP_OK && sp_pipe_count(p) == 1 && sp_kv_count(sp_pipe_section(p, "head")) == 0,
	   "a section without keys");
	sp_pipe_free(p);
}

static void test_bom_crlf(sp_ctx *ctx)
{
	static const char text[] =
		"\xef\xbb\xbf[model]\r\n"
		"hidden = 3\r\n"
		"name = \"x y\"  # c\r\n"
		"\r\n"
		"[head]\r\n"
		"plugin = lm";
	sp_pipe *p = NULL;
	size_t len;
	int rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", text, strlen(text));
	ok(rc == SP_OK && sp_pipe_count(p) == 2, "BOM + CRLF parses (%s)",
	   rc ? sp_errmsg(ctx) : "ok");
	if (!p)
		return;
	ok_str(sp_kv_section_where(sp_pipe_section(p, "model")), "t.pipe:1:1",
	       "the BOM takes no column");
	ok_str(sp_kv_str(sp_pipe_section(p, "model"), "hidden"), "3", "no CR in values");
	ok_str(sp_kv_where(sp_pipe_section(p, "model"), "hidden"), "t.pipe:2:10", "CRLF counts lines");
	ok_str(sp_kv_str(sp_pipe_section(p, "model"), "name"), "x y", "quoted value before CRLF");
	ok_str(sp_kv_where(sp_pipe_section(p, "head"), "plugin"), "t.pipe:6:10", "line 6");
	ok(sp_pipe_text(p, &len)[0] == '\xef' && len == strlen(text), "text keeps the BOM");
	sp_pipe_free(p);

	rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", "\xef\xbb\xbf", 3);
	ok(rc == SP_OK && sp_pipe_count(p) == 0, "a BOM alone");
	sp_pipe_free(p);

	bad(ctx, "\xef\xbb\xbf[modle]\r\n", "t.pipe:1:2: ", "unknown section [modle]");
	bad(ctx, "[model]\r\nhidden = 3\r\nhidden = 4\r\n", "t.pipe:3:1: ",
	    "duplicate key 'hidden' in [model] (first at t.pipe:2:1), expected each key at most once");
	bad(ctx, "[model]\rhidden = 3\n", "t.pipe:1:8: ",
	    "unexpected control character 0x0d after the section header, expected end of line or a comment");
	bad(ctx, "[model]\nx = \"a\rb\"\r\n", "t.pipe:2:7: ",
	    "control character 0x0d in string, expected printable text");
}

static void test_errors(sp_ctx *ctx)
{
	/* text encoding */
	bad_n(ctx, "[model]\nx = a\0b\n", 16, "t.pipe:2:6: ", "NUL byte, expected UTF-8 text");
	bad(ctx, "# caf\xe9\n[model]\n", "t.pipe:1:6: ", "invalid UTF-8 byte 0xe9, expected UTF-8 text");
	bad(ctx, "[model]\nx = \"\xc0\xaf\"\n", "t.pipe:2:6: ", "invalid UTF-8 byte 0xc0");
	bad(ctx, "[model]\nx = \"\xed\xa0\x80\"\n", "t.pipe:2:6: ", "invalid UTF-8 byte 0xed");
	bad(ctx, "[model]\nx = \"\xe2\x9c\"\n", "t.pipe:2:6: ", "invalid UTF-8 byte 0xe2");

	/* line starts */
	bad(ctx, "[model]\n= 3\n", "t.pipe:2:1: ",
	    "unexpected '=', expected a key, a [section] header or a comment");
	bad(ctx, "[model]\n  \"x\" = 3\n", "t.pipe:2:3: ", "unexpected '\"', expected a key");
	bad(ctx, "[model]\n\x01x = 3\n", "t.pipe:2:1: ", "unexpected control character 0x01, expected a key");
	bad(ctx, "[model]\n\xc3\xa9 = 3\n", "t.pipe:2:1: ", "unexpected 'é', expected a key");
	bad(ctx, "name = x\n", "t.pipe:1:1: ",
	    "key 'name' before any section, expected a [section] header first");

	/* section headers */
	bad(ctx, "[]\n", "t.pipe:1:2: ", "missing section name, expected one of: pipeline, data, "
	    "tokenize, encode, model, model2, model3, model4, head, train");
	bad(ctx, "[ \n", "t.pipe:1:3: ", "missing section name, expected one of:");
	bad(ctx, "[\"model\"]\n", "t.pipe:1:2: ",
	    "unexpected '\"' in section header, expected a section name (one of: pipeline");
	bad(ctx, "[modle]\n", "t.pipe:1:2: ",
	    "unknown section [modle], expected one of: pipeline, data, tokenize, encode, "
	    "model, model2, model3, model4, head, train (did you mean [model]?)");
	bad(ctx, "\n\n  [Model]\n", "t.pipe:3:4: ", "unknown section [Model], expected one of:");
	bad(ctx, "[layer]\n", "t.pipe:1:2: ", "unknown section [layer], expected one of: pipeline");
	ok(!strstr(sp_errmsg(ctx), "did you mean"), "no suggestion for [layer]");
	bad(ctx, "[model\n", "t.pipe:1:7: ", "unterminated section header, expected ']'");
	bad(ctx, "[model # c]\n", "t.pipe:1:8: ", "unterminated section header, expected ']'");
	bad(ctx, "[model", "t.pipe:1:7: ", "unterminated section header, expected ']'");
	bad(ctx, "[model x]\n", "t.pipe:1:8: ", "unexpected 'x' in section header, expected ']'");
	bad(ctx, "[model] hidden = 3\n", "t.pipe:1:9: ",
	    "unexpected 'h' after the section header, expected end of line or a comment");
	bad(ctx, "[model]\n[data]\n[model]\n", "t.pipe:3:1: ",
	    "duplicate section [model] (first at t.pipe:1:1), expected each section at most once");

	/* keys */
	bad(ctx, "[model]\nHidden = 3\n", "t.pipe:2:1: ",
	    "bad key 'Hidden', expected lowercase letters, digits and _, not starting with a digit");
	bad(ctx, "[model]\n1x = 3\n", "t.pipe:2:1: ", "bad key '1x', expected lowercase");
	bad(ctx, "[model]\nmax-len = 3\n", "t.pipe:2:1: ", "bad key 'max-len', expected lowercase");
	bad(ctx, "[model]\nmodel.hidden = 3\n", "t.pipe:2:1: ", "bad key 'model.hidden', expected");
	bad(ctx, "[model]\nhidden 3\n", "t.pipe:2:8: ",
	    "missing '=' after key 'hidden', expected key = value");
	bad(ctx, "[model]\nhidden\n", "t.pipe:2:7: ", "missing '=' after key 'hidden', expected key = value");
	bad(ctx, "[model]\nhidden: 3\n", "t.pipe:2:7: ", "missing '=' after key 'hidden'");
	bad(ctx, "[model]\nhidden = 3\nhidden = 4\n", "t.pipe:3:1: ",
	    "duplicate key 'hidden' in [model] (first at t.pipe:2:1), expected each key at most once");

	/* values */
	bad(ctx, "[model]\nhidden =\n", "t.pipe:2:9: ",
	    "missing value for 'hidden', expected a value after '='");
	bad(ctx, "[model]\nhidden =   # none\n", "t.pipe:2:12: ", "missing value for 'hidden'");
	bad(ctx, "[model]\nhidden = ", "t.pipe:2:10: ", "missing value for 'hidden'");
	bad(ctx, "[pipeline]\nname = hello\n[data]\nformat = lines\n\n\ntrain = \"../data/hello/train.txt\n",
	    "t.pipe:7:9: ", "unterminated string, expected a closing '\"'");
	bad(ctx, "[data]\ntrain = \"abc\\\"\n", "t.pipe:2:9: ", "unterminated string, expected a closing '\"'");
	bad(ctx, "[data]\ntrain = \"abc\\", "t.pipe:2:9: ", "unterminated string");
	bad(ctx, "[data]\ntrain = \"abc", "t.pipe:2:9: ", "unterminated string");
	bad(ctx, "[data]\ntrain = \"a\\qb\"\n", "t.pipe:2:11: ",
	    "unknown escape '\\q' in string, expected one of \\\" \\\\ \\n \\t");
	bad(ctx, "[data]\ntrain = \"a\\\tb\"\n", "t.pipe:2:11: ",
	    "backslash before control character 0x09 in string, expected one of");
	bad(ctx, "[data]\ntrain = \"a\\éb\"\n", "t.pipe:2:11: ", "backslash before 'é' in string, expected");
	bad(ctx, "[data]\ntrain = \"a\x01" "b\"\n", "t.pipe:2:11: ",
	    "control character 0x01 in string, expected printable text or an escape");
	bad(ctx, "[data]\ntrain = \"a\x7f\"\n", "t.pipe:2:11: ", "control character 0x7f in string");
	bad(ctx, "[model]\nhidden = 3x\n", "t.pipe:2:10: ",
	    "bad number '3x', expected an integer or a float");
	bad(ctx, "[model]\nhidden = -abc\n", "t.pipe:2:10: ", "bad number '-abc', expected");
	bad(ctx, "[model]\nhidden = 1e\n", "t.pipe:2:10: ", "bad number '1e', expected");
	bad(ctx, "[model]\nhidden = 1.2.3\n", "t.pipe:2:10: ", "bad number '1.2.3', expected");
	bad(ctx, "[model]\nhidden = +\n", "t.pipe:2:10: ", "bad number '+', expected");
	bad(ctx, "[model]\nhidden = .5x\n", "t.pipe:2:10: ", "bad number '.5x', expected");
	bad(ctx, "[data]\nname = hello,world\n", "t.pipe:2:13: ",
	    "unexpected ',' in value, expected letters, digits, _ . / - + : or a \"quoted string\"");
	bad(ctx, "[data]\nname = caf\xc3\xa9\n", "t.pipe:2:11: ", "unexpected 'é' in value, expected letters");
	bad(ctx, "[data]\nname = a\"b\"\n", "t.pipe:2:9: ", "unexpected '\"' in value, expected");
	bad(ctx, "[data]\nname = =x\n", "t.pipe:2:8: ", "unexpected '=' in value, expected");
	bad(ctx, "[model]\nhidden = 3 4\n", "t.pipe:2:12: ",
	    "unexpected '4' after the value, expected end of line or a comment "
	    "(quote a value that contains spaces)");
	bad(ctx, "[data]\nname = hello world\n", "t.pipe:2:14: ", "unexpected 'w' after the value, expected");
	bad(ctx, "[data]\nname = \"a\"b\n", "t.pipe:2:11: ",
	    "unexpected 'b' after the value, expected end of line or a comment");
	ok(!strstr(sp_errmsg(ctx), "(quote"), "no quoting hint after a quoted value");
	bad(ctx, "[data]\nname = \"a\" \"b\"\n", "t.pipe:2:12: ", "unexpected '\"' after the value");
	bad(ctx, "[data]\nname = x\x01\n", "t.pipe:2:9: ", "unexpected control character 0x01 in value");
	/* where errors are counted from */
	bad(ctx, "# c\n\n[model]\n\t\thidden = 3x\n", "t.pipe:4:12: ", "bad number '3x'");
	bad(ctx, "[model]\nhidden = 3\n[model]\n", "t.pipe:3:1: ", "duplicate section [model]");
}

static void test_overrides(sp_ctx *ctx)
{
	sp_pipe *p = NULL;
	sp_kv *kv;
	int rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", hello, strlen(hello));
	ok(rc == SP_OK, "parse for overrides");
	if (!p)
		return;
	kv = sp_pipe_section(p, "model");
	ok(sp_pipe_override(p, ctx, "model.hidden=5") == SP_OK, "override an existing key");
	ok_str(sp_kv_str(kv, "hidden"), "5", "overridden value");
	ok_str(sp_kv_where(kv, "hidden"), "--set model.hidden=5", "override where");
	ok(sp_kv_count(kv) == 2, "still two keys in [model]");
	ok(sp_pipe_override(p, ctx, "model.layers = 2") == SP_OK, "add a key, spaces around '='");
	ok_str(sp_kv_str(kv, "layers"), "2", "added key");
	ok_str(sp_kv_where(kv, "layers"), "--set model.layers = 2", "where keeps the text as given");
	ok(sp_pipe_override(p, ctx, "train.lr=1e-3") == SP_OK, "float override");
	ok_str(sp_kv_str(sp_pipe_section(p, "train"), "lr"), "1e-3", "float text");
	ok(sp_pipe_override(p, ctx, "data.train=\"a b#c.txt\"") == SP_OK, "quoted override");
	ok_str(sp_kv_str(sp_pipe_section(p, "data"), "train"), "a b#c.txt", "quoted override text");
	sp_pipe_free(p);

	rc = sp_pipe_parse_mem(&p, ctx, "t.pipe", "[model]\nhidden = 3\n", 19);
	ok(rc == SP_OK && sp_pipe_count(p) == 1, "parse a one-section pipe");
	ok(sp_pipe_override(p, ctx, "encode.plugin=onehot") == SP_OK, "override creates a section");
	ok(sp_pipe_count(p) == 2, "two sections now");
	kv = sp_pipe_section_at(p, 1);
	ok_str(sp_kv_section(kv), "encode", "the new section comes last");
	ok_str(sp_kv_section_where(kv), "--set encode.plugin=onehot", "new section where");
	ok_str(sp_kv_str(kv, "plugin"), "onehot", "new section value");

	ok(sp_pipe_section_ensure(p, ctx, "encode", &kv) == SP_OK &&
		   kv == sp_pipe_section(p, "encode") && sp_pipe_count(p) == 2,
	   "ensure returns an existing section");
	ok(sp_pipe_section_ensure(p, ctx, "train", &kv) == SP_OK && kv &&
		   sp_pipe_count(p) == 3 && sp_kv_count(kv) == 0,
	   "ensure creates an empty section");
	ok_str(sp_kv_section_where(kv), "t.pipe", "an ensured section is where the file is");
	ok(sp_pipe_section_ensure(p, ctx, "layer", &kv) == SP_EINVAL && kv == NULL &&
		   strcmp(sp_errmsg(ctx), "t.pipe: unknown section [layer], expected one of: "
		   "pipeline, data, tokenize, encode, model, model2, model3, model4, head, train") == 0,
	   "ensure refuses an unknown section: %s", sp_errmsg(ctx));

	bad_set(ctx, p, "", "missing section name, expected section.key=value");
	bad_set(ctx, p, "=3", "missing section name, expected section.key=value");
	bad_set(ctx, p, "model", "missing '.' after the section name, expected section.key=value");
	bad_set(ctx, p, "model:hidden=3", "missing '.' after the section name, expected");
	bad_set(ctx, p, "modle.hidden=3",
		"unknown section 'modle', expected one of: pipeline, data, tokenize, encode, "
		"model, model2, model3, model4, head, train (did you mean 'model'?)");
	bad_set(ctx, p, "model.=3", "missing key after 'model.', expected section.key=value");
	bad_set(ctx, p, "model.Hidden=3", "bad key 'Hidden', expected lowercase letters");
	bad_set(ctx, p, "model.a.b=3", "bad key 'a.b', expected lowercase letters");
	bad_set(ctx, p, "model.hidden", "missing '=' after 'model.hidden', expected section.key=value");
	bad_set(ctx, p, "model.hidden 3", "missing '=' after 'model.hidden', expected");
	bad_set(ctx, p, "model.hidden=", "missing value for 'hidden', expected a value after '='");
	bad_set(ctx, p, "model.hidden=3x", "bad number '3x', expected an integer or a float");
	bad_set(ctx, p, "model.hidden=3 4",
		"unexpected '4' after the value, expected the end of the override");
	bad_set(ctx, p, "data.train=a#b", "unexpected '#' in value, expected letters");
	bad_set(ctx, p, "data.train=\"abc", "unterminated string, expected a closing '\"'");
	bad_set(ctx, p, "data.train=\"a\nb\"", "control character 0x0a in string, expected");
	bad_set(ctx, p, "data.train=a\nb", "unexpected control character 0x0a in value");
	bad_set(ctx, p, "data.train=\xff", "invalid UTF-8 byte 0xff, expected UTF-8 text");
	ok_str(sp_kv_str(sp_pipe_section(p, "model"), "hidden"), "3", "failed overrides changed nothing");
	ok(sp_pipe_override(p, ctx, NULL) == SP_EINVAL, "NULL override");
	sp_pipe_free(p);
}

static void test_files(sp_ctx *ctx)
{
	const char *srcdir = getenv("srcdir");
	char path[4096], dir[3100], want[512];
	sp_pipe *p = NULL;
	int rc;

	if (!srcdir || !srcdir[0])
		srcdir = ".";
	snprintf(dir, sizeof(dir), "%.3000s/tests/data/pipe", srcdir);
	snprintf(path, sizeof(path), "%s/hello.pipe", dir);
	rc = sp_pipe_parse_file(&p, ctx, path);
	ok(rc == SP_OK && p, "parse %s (%s)", path, rc ? sp_errmsg(ctx) : "ok");
	ok_str(sp_pipe_name(p), path, "file name");
	ok_str(sp_pipe_dir(p), dir, "file dir");
	ok(sp_pipe_count(p) == 7, "fixture has seven sections");
	snprintf(want, sizeof(want), "%.400s:19:10", path);
	ok_str(sp_kv_where(sp_pipe_section(p, "model"), "hidden"), want, "where names the path");
	sp_pipe_free(p);

	p = (sp_pipe *)&p;
	rc = sp_pipe_parse_file(&p, ctx, "/nonexistent/missing.pipe");
	snprintf(want, sizeof(want), "/nonexistent/missing.pipe: cannot open: %s", strerror(ENOENT));
	ok(rc == SP_EIO && p == NULL, "missing file is SP_EIO");
	ok_str(sp_errmsg(ctx), want, "missing file message");

	rc = sp_pipe_parse_file(&p, ctx, dir);
	ok(rc == SP_EIO && p == NULL && strstr(sp_errmsg(ctx), ": cannot read: "),
	   "a directory cannot be read: %s", sp_errmsg(ctx));

	/* issue 12: a .pipe that is /dev/zero stops at the size ceiling */
	p = (sp_pipe *)&p;
	rc = sp_pipe_parse_file(&p, ctx, "/dev/zero");
	ok(rc == SP_EINPUT && p == NULL, "/dev/zero is SP_EINPUT");
	ok_str(sp_errmsg(ctx), "/dev/zero: more than 1048576 bytes, the ceiling of a .pipe file",
	       "/dev/zero names the ceiling");
}

int main(void)
{
	sp_ctx *ctx = NULL;
	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 1;
	test_happy(ctx);
	test_values(ctx);
	test_bom_crlf(ctx);
	test_errors(ctx);
	test_overrides(ctx);
	test_files(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
