/*
 * t_kv.c: stage arguments: raw values, validation against a spec (unknown
 * keys, each type's errors, int overflow, choices, defaults, required
 * keys, path resolution) and the canonical text used for logging.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "tap.h"

static const sp_param_spec spec[] = {
	{"plugin", SP_T_STRING, NULL, "component", NULL},
	{"hidden", SP_T_INT, NULL, "hidden units", NULL},
	{"layers", SP_T_INT, "1", "stacked layers", NULL},
	{"lr", SP_T_FLOAT, "0.1", "learning rate", NULL},
	{"bias", SP_T_BOOL, "true", "use biases", NULL},
	{"init", SP_T_STRING, "xavier", "weight init", "xavier|orthogonal|normal"},
	{"vocab", SP_T_PATH, "", "vocabulary file", NULL},
	{NULL, 0, NULL, NULL, NULL}
};

static const sp_param_spec no_keys[] = {{NULL, 0, NULL, NULL, NULL}};

/* A [model] set holding plugin and hidden plus key = text at
 * "t.pipe:5:10" (key at "t.pipe:5:1"), validated against spec with base
 * folder `base`.  Returns the rc of validation; *out is the set. */
static int check(sp_ctx *ctx, sp_kv **out, const char *key, const char *text,
		 int quoted, const char *base)
{
	sp_kv *kv = NULL;
	*out = NULL;
	if (sp_kv_new(&kv, "model") != SP_OK)
		return SP_ENOMEM;
	*out = kv;
	sp_kv_set_section_where(kv, ctx, "t.pipe:3:1");
	sp_kv_set_at(kv, ctx, "plugin", "rnn", 0, "t.pipe:4:10", "t.pipe:4:1");
	if (strcmp(key, "hidden") != 0)
		sp_kv_set_at(kv, ctx, "hidden", "3", 0, "t.pipe:6:10", "t.pipe:6:1");
	sp_kv_set_at(kv, ctx, key, text, quoted, "t.pipe:5:10", "t.pipe:5:1");
	return sp_kv_validate(kv, ctx, spec, base);
}

/* key = text must fail with a message starting at `at` and containing
 * `what` (and, like every message, ", expected "). */
static void bad(sp_ctx *ctx, const char *key, const char *text, int quoted,
		const char *at, const char *what)
{
	sp_kv *kv;
	int rc = check(ctx, &kv, key, text, quoted, NULL);
	const char *msg = sp_errmsg(ctx);
	ok(rc == SP_EINVAL && strncmp(msg, at, strlen(at)) == 0 &&
		   strstr(msg, what) && strstr(msg, ", expected "),
	   "%s = %s%s%s rejected: %s", key, quoted ? "\"" : "", text,
	   quoted ? "\"" : "", msg);
	sp_kv_free(kv);
}

/* key = text must pass; its canonical text must be `canon`. */
static void good(sp_ctx *ctx, const char *key, const char *text, int quoted,
		 const char *base, const char *canon)
{
	sp_kv *kv;
	int rc = check(ctx, &kv, key, text, quoted, base);
	ok(rc == SP_OK, "%s = %s accepted (%s)", key, text,
	   rc ? sp_errmsg(ctx) : "ok");
	ok_str(sp_kv_str(kv, key), canon, "%s = %s reads back as \"%s\"", key,
	       text, canon);
	sp_kv_free(kv);
}

static void test_raw(sp_ctx *ctx)
{
	sp_kv *kv = NULL;
	ok(sp_kv_new(&kv, NULL) == SP_EINVAL && kv == NULL, "new without a section name");
	ok(sp_kv_new(&kv, "model") == SP_OK && kv, "new");
	ok_str(sp_kv_section(kv), "model", "section name");
	ok(sp_kv_section_where(kv) == NULL, "no section where yet");
	ok(sp_kv_set_section_where(kv, ctx, "t.pipe:3:1") == SP_OK, "set section where");
	ok_str(sp_kv_section_where(kv), "t.pipe:3:1", "section where");
	ok(sp_kv_set(kv, ctx, "plugin", "rnn", 0, "t.pipe:4:10") == SP_OK, "set plugin");
	ok(sp_kv_set_at(kv, ctx, "hidden", "3", 0, "t.pipe:5:10", "t.pipe:5:1") == SP_OK,
	   "set hidden");
	ok(sp_kv_set(kv, ctx, NULL, "x", 0, "w") == SP_EINVAL, "set with a NULL key");
	ok(sp_kv_count(kv) == 2, "two keys");
	ok_str(sp_kv_str(kv, "plugin"), "rnn", "raw value readable before validation");
	ok_str(sp_kv_where(kv, "hidden"), "t.pipe:5:10", "value where");
	ok_str(sp_kv_key_where(kv, "hidden"), "t.pipe:5:1", "key where");
	ok_str(sp_kv_key_where(kv, "plugin"), "t.pipe:4:10", "key where defaults to the value's");
	ok_str(sp_kv_key_at(kv, 0), "hidden", "iteration is in key order (0)");
	ok_str(sp_kv_key_at(kv, 1), "plugin", "iteration is in key order (1)");
	ok_str(sp_kv_where_at(kv, 1), "t.pipe:4:10", "where_at");
	ok(sp_kv_key_at(kv, 2) == NULL && sp_kv_text_at(kv, 2) == NULL, "past the end is NULL");
	ok(sp_kv_int(kv, "hidden") == 0, "no typed value before validation");
	ok(sp_kv_str(kv, "nope") == NULL && sp_kv_where(kv, "nope") == NULL, "absent key is NULL");

	ok(sp_kv_set(kv, ctx, "hidden", "4", 0, "--set model.hidden=4") == SP_OK,
	   "replace a value");
	ok(sp_kv_count(kv) == 2, "replacing keeps the count");
	ok_str(sp_kv_str(kv, "hidden"), "4", "replaced value");
	ok_str(sp_kv_where(kv, "hidden"), "--set model.hidden=4", "replaced where");

	ok(sp_kv_validate(kv, ctx, spec, NULL) == SP_OK, "validate: %s", sp_errmsg(ctx));
	ok(sp_kv_count(kv) == 7, "defaults added (%zu keys)", sp_kv_count(kv));
	ok(sp_kv_int(kv, "hidden") == 4 && sp_kv_int(kv, "layers") == 1, "ints");
	ok_near(sp_kv_float(kv, "lr"), 0.1, 1e-15, "float default");
	ok(sp_kv_bool(kv, "bias") == 1, "bool default");
	ok_str(sp_kv_str(kv, "init"), "xavier", "string default");
	ok_str(sp_kv_str(kv, "vocab"), "", "empty path default stays empty");
	ok_str(sp_kv_where(kv, "layers"), "default", "defaults say so");
	ok_str(sp_kv_where(kv, "hidden"), "--set model.hidden=4", "given values keep their where");
	ok(sp_kv_int(kv, "lr") == 0 && sp_kv_bool(kv, "hidden") == 0 &&
		   sp_kv_int(kv, "nope") == 0 && sp_kv_str(kv, "nope") == NULL,
	   "getters of another type or key return 0/NULL");
	ok_near(sp_kv_float(kv, "hidden"), 4.0, 0, "an int reads as a float too");

	{
		const char *keys[] = {"bias", "hidden", "init", "layers", "lr", "plugin", "vocab"};
		const char *texts[] = {"true", "4", "xavier", "1", "0.1", "rnn", ""};
		int same = 1;
		for (size_t i = 0; i < 7; i++)
			same &= strcmp(sp_kv_key_at(kv, i), keys[i]) == 0 &&
				strcmp(sp_kv_text_at(kv, i), texts[i]) == 0;
		ok(same, "canonical text of every key, in key order");
	}
	ok(sp_kv_validate(kv, ctx, spec, NULL) == SP_OK && sp_kv_count(kv) == 7,
	   "validating again changes nothing");
	ok(sp_kv_set(kv, ctx, "hidden", "5", 0, "w") == SP_OK &&
		   sp_kv_int(kv, "hidden") == 0 && strcmp(sp_kv_str(kv, "hidden"), "5") == 0,
	   "a replaced value is raw again until validated");
	sp_kv_free(kv);
	sp_kv_free(NULL);
	ok(1, "sp_kv_free(NULL) is a no-op");
}

static void test_unknown(sp_ctx *ctx)
{
	sp_kv *kv = NULL;
	int rc;
	bad(ctx, "hiden", "3", 0, "t.pipe:5:1: ",
	    "unknown key 'hiden' in [model], expected one of: plugin, hidden, "
	    "layers, lr, bias, init, vocab (did you mean 'hidden'?)");
	bad(ctx, "zzzzzz", "3", 0, "t.pipe:5:1: ", "unknown key 'zzzzzz' in [model], expected one of: plugin,");
	ok(!strstr(sp_errmsg(ctx), "did you mean"), "no suggestion when nothing is close");

	sp_kv_new(&kv, "tokenize");
	sp_kv_set_at(kv, ctx, "x", "1", 0, "t.pipe:2:5", "t.pipe:2:1");
	rc = sp_kv_validate(kv, ctx, no_keys, NULL);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "t.pipe:2:1: unknown key 'x' in [tokenize], expected no keys"),
	   "a spec without keys: %s", sp_errmsg(ctx));
	sp_kv_free(kv);
}

static void test_types(sp_ctx *ctx)
{
	char buf[64];
	/* int */
	bad(ctx, "hidden", "abc", 0, "t.pipe:5:10: ",
	    "model.hidden = abc is not an integer, expected a whole number");
	bad(ctx, "hidden", "3.5", 0, "t.pipe:5:10: ", "is not an integer, expected a whole number");
	bad(ctx, "hidden", "1e3", 0, "t.pipe:5:10: ", "is not an integer");
	bad(ctx, "hidden", "", 0, "t.pipe:5:10: ", "is not an integer");
	bad(ctx, "hidden", "3", 1, "t.pipe:5:10: ",
	    "model.hidden = \"3\" is not an integer, expected a whole number such as 3 (without quotes)");
	bad(ctx, "hidden", "99999999999999999999", 0, "t.pipe:5:10: ",
	    "model.hidden = 99999999999999999999 is out of range, expected an integer from");
	bad(ctx, "hidden", "-99999999999999999999", 0, "t.pipe:5:10: ", "is out of range");
	snprintf(buf, sizeof(buf), "%ld", LONG_MAX);
	good(ctx, "hidden", buf, 0, NULL, buf);
	snprintf(buf, sizeof(buf), "%ld", LONG_MIN);
	good(ctx, "hidden", buf, 0, NULL, buf);
	good(ctx, "hidden", "+7", 0, NULL, "7");
	good(ctx, "hidden", "007", 0, NULL, "7");

	/* float */
	bad(ctx, "lr", "fast", 0, "t.pipe:5:10: ",
	    "model.lr = fast is not a number, expected a number such as 0.1");
	bad(ctx, "lr", "nan", 0, "t.pipe:5:10: ", "is not a number, expected");
	bad(ctx, "lr", "inf", 0, "t.pipe:5:10: ", "is not a number, expected");
	bad(ctx, "lr", "-infinity", 0, "t.pipe:5:10: ", "is not a number, expected");
	bad(ctx, "lr", "0x10", 0, "t.pipe:5:10: ", "is not a number, expected");
	bad(ctx, "lr", "0.1", 1, "t.pipe:5:10: ", "(without quotes)");
	bad(ctx, "lr", "1e999", 0, "t.pipe:5:10: ",
	    "model.lr = 1e999 is out of range, expected a finite number");
	bad(ctx, "lr", "-1e999", 0, "t.pipe:5:10: ", "is out of range, expected a finite number");
	good(ctx, "lr", "2", 0, NULL, "2");
	good(ctx, "lr", "1e-3", 0, NULL, "0.001");
	good(ctx, "lr", "-.5", 0, NULL, "-0.5");
	good(ctx, "lr", "0.1", 0, NULL, "0.1");
	good(ctx, "lr", "1.", 0, NULL, "1");
	good(ctx, "lr", "2.5E+2", 0, NULL, "2.5e+02");

	/* bool */
	bad(ctx, "bias", "yes", 0, "t.pipe:5:10: ",
	    "model.bias = yes is not a boolean, expected true or false");
	bad(ctx, "bias", "True", 0, "t.pipe:5:10: ", "expected true or false");
	bad(ctx, "bias", "1", 0, "t.pipe:5:10: ", "expected true or false");
	bad(ctx, "bias", "true", 1, "t.pipe:5:10: ", "expected true or false (without quotes)");
	good(ctx, "bias", "false", 0, NULL, "false");
	good(ctx, "bias", "true", 0, NULL, "true");

	/* string and choices */
	good(ctx, "plugin", "42", 0, NULL, "42");
	good(ctx, "plugin", "a b", 1, NULL, "a b");
	good(ctx, "plugin", "", 1, NULL, "");
	good(ctx, "init", "orthogonal", 0, NULL, "orthogonal");
	good(ctx, "init", "normal", 1, NULL, "normal");
	bad(ctx, "init", "fancy", 0, "t.pipe:5:10: ",
	    "model.init = fancy is not an accepted value, expected one of: xavier, orthogonal, normal");
	ok(!strstr(sp_errmsg(ctx), "did you mean"), "no suggestion for fancy");
	bad(ctx, "init", "xavie", 0, "t.pipe:5:10: ",
	    "expected one of: xavier, orthogonal, normal (did you mean 'xavier'?)");
	bad(ctx, "init", "xavier|normal", 0, "t.pipe:5:10: ", "not an accepted value");
}

static void test_paths(sp_ctx *ctx)
{
	good(ctx, "vocab", "v.txt", 1, "pipelines", "pipelines/v.txt");
	good(ctx, "vocab", "../data/v.txt", 0, "pipelines/", "pipelines/../data/v.txt");
	good(ctx, "vocab", "/abs/v.txt", 0, "pipelines", "/abs/v.txt");
	good(ctx, "vocab", "v.txt", 0, ".", "v.txt");
	good(ctx, "vocab", "v.txt", 0, NULL, "v.txt");
	good(ctx, "vocab", "v.txt", 0, "/", "/v.txt");
	good(ctx, "vocab", "", 1, "pipelines", "");
}

static void test_missing(sp_ctx *ctx)
{
	sp_kv *kv = NULL;
	int rc;
	const sp_param_spec bad_default[] = {
		{"hidden", SP_T_INT, "many", "hidden units", NULL},
		{NULL, 0, NULL, NULL, NULL}
	};

	sp_kv_new(&kv, "model");
	sp_kv_set_section_where(kv, ctx, "t.pipe:10:1");
	sp_kv_set(kv, ctx, "plugin", "rnn", 0, "t.pipe:11:10");
	rc = sp_kv_validate(kv, ctx, spec, NULL);
	ok(rc == SP_EINVAL && strcmp(sp_errmsg(ctx),
				     "t.pipe:10:1: missing key 'hidden' in [model], "
				     "expected a line 'hidden = <integer>' (hidden units)") == 0,
	   "required key missing: %s", sp_errmsg(ctx));
	sp_kv_free(kv);

	sp_kv_new(&kv, "model");
	rc = sp_kv_validate(kv, ctx, spec, NULL);
	ok(rc == SP_EINVAL && strncmp(sp_errmsg(ctx), "missing key 'plugin' in [model], expected", 41) == 0,
	   "required key of a section not in the file: %s", sp_errmsg(ctx));
	sp_kv_free(kv);

	sp_kv_new(&kv, "model");
	rc = sp_kv_validate(kv, ctx, bad_default, NULL);
	ok(rc == SP_EINVAL && strncmp(sp_errmsg(ctx), "default: model.hidden = many is not an integer", 46) == 0,
	   "a bad default is reported as such: %s", sp_errmsg(ctx));
	sp_kv_free(kv);
}

static void test_helpers(void)
{
	static const struct {
		const char *s;
		int kind;
	} num[] = {
		{"3", 1}, {"-3", 1}, {"+3", 1}, {"007", 1}, {"3.5", 2}, {".5", 2},
		{"5.", 2}, {"1e-3", 2}, {"1E+3", 2}, {"-.5e2", 2}, {"", 0}, {".", 0},
		{"e3", 0}, {"1e", 0}, {"1e+", 0}, {"nan", 0}, {"inf", 0}, {"0x10", 0},
		{" 1", 0}, {"1 ", 0}, {"--1", 0}, {"1.2.3", 0}, {"+", 0}, {"1_000", 0},
	};
	const char *cand[] = {"plugin", "hidden", "layers", "model"};
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		ok(sp_kv_number_syntax(num[i].s, strlen(num[i].s)) == num[i].kind,
		   "number syntax of \"%s\" is %d", num[i].s, num[i].kind);
	ok_str(sp_kv_suggest("hiden", cand, 4), "hidden", "suggest hidden for hiden");
	ok_str(sp_kv_suggest("modle", cand, 4), "model", "suggest model for modle (transposition = 2 edits)");
	ok(sp_kv_suggest("hidden", cand, 4) == NULL, "no suggestion for an exact name");
	ok(sp_kv_suggest("xyzzy", cand, 4) == NULL, "no suggestion 3+ edits away");
}

int main(void)
{
	sp_ctx *ctx = NULL;
	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 1;
	test_raw(ctx);
	test_unknown(ctx);
	test_types(ctx);
	test_paths(ctx);
	test_missing(ctx);
	test_helpers();
	sp_ctx_free(ctx);
	return tap_done();
}
