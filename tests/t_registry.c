/*
 * t_registry.c: loading plugin modules, and refusing the bad ones with a
 * message that names the file and what was expected.
 */
#include <stdlib.h>
#include <string.h>

#include "sp_registry.h"
#include "tap.h"

static int collect_(void *payload, const char *tok, size_t len, size_t off)
{
	char *buf = payload;
	(void)off;
	strncat(buf, tok, len);
	strcat(buf, "|");
	return 0;
}

/* Component names two modules share; bare names searched only in the
 * built-in modules and the open ones. */
static void test_clashes(sp_ctx *ctx, const char *top, const char *plugdir)
{
	char clashdir[4096], marker[4200], buf[256] = "";
	const sp_component *c;
	const sp_plugin *p;
	sp_registry *reg;
	FILE *f;
	int rc;

	snprintf(clashdir, sizeof(clashdir), "%s/tests/plugins/clash", top);
	snprintf(marker, sizeof(marker), "%s/tests/t_registry.opened", top);
	remove(marker);
	setenv("SEQPIPE_TEST_OPENED", marker, 1);
	sp_registry_new(&reg, ctx);
	sp_registry_add_dir(reg, ctx, clashdir, "SEQPIPE_PLUGIN_PATH");
	sp_registry_add_dir(reg, ctx, plugdir, "build tree");
	sp_registry_set_builtins(reg, ctx, "tokenizers onehot rnn heads");

	rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "chars", &c, &p);
	ok(rc == SP_OK && strcmp(p->name, "tokenizers") == 0,
	   "a bare name is the built-in's though a module on the path defines it too (%s)",
	   rc ? sp_errmsg(ctx) : p->name);
	f = fopen(marker, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	ok(buf[0] == '\0', "no module of the path was opened for it ('%s')", buf);

	rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "twin", &c, &p);
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "twina") &&
	   strstr(sp_errmsg(ctx), "MODULE.twin"),
	   "a component of an unopened module: the error says to name its module: %s",
	   sp_errmsg(ctx));
	rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "twina.twin", &c, &p);
	ok(rc == SP_OK && strcmp(p->name, "twina") == 0, "module.component opens that module");
	rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "twinb.twin", &c, &p);
	ok(rc == SP_OK && strcmp(p->name, "twinb") == 0, "and the other one by its module");
	rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "twin", &c, &p);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "twina.la") &&
	   strstr(sp_errmsg(ctx), "twinb.la") && strstr(sp_errmsg(ctx), "twina.twin"),
	   "a bare name two open modules define: an error naming both files: %s",
	   sp_errmsg(ctx));

	rc = sp_registry_load_all(reg, ctx);
	ok(rc == 2, "listing opens every module and counts the 2 clashes (twin, chars): %d", rc);
	rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "chars", &c, &p);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "shadow.la") &&
	   strstr(sp_errmsg(ctx), "tokenizers.la"),
	   "once open, a module defining a built-in's name makes the bare name ambiguous: %s",
	   sp_errmsg(ctx));
	sp_registry_free(reg);
	unsetenv("SEQPIPE_TEST_OPENED");
	remove(marker);
}

int main(void)
{
	const char *top = getenv("top_builddir");
	char testdir[4096], plugdir[4096], path[4200];
	sp_ctx *ctx;
	sp_registry *reg;
	const sp_plugin *p;
	const sp_component *c;
	int rc;

	if (!top)
		top = ".";
	snprintf(testdir, sizeof(testdir), "%s/tests/plugins", top);
	snprintf(plugdir, sizeof(plugdir), "%s/plugins", top);
	sp_ctx_new(&ctx, 1);
	ok(sp_registry_new(&reg, ctx) == SP_OK, "registry created");
	sp_registry_add_dir(reg, ctx, "/nonexistent/seqpipe", "test");
	sp_registry_add_dir(reg, ctx, testdir, "test plugins");
	sp_registry_add_dir(reg, ctx, plugdir, "build tree");

	rc = sp_registry_load(reg, ctx, "myplugin", &p);
	ok(rc == SP_OK && p && strcmp(p->name, "myplugin") == 0,
	   "well-formed plugin loads (%s)", rc ? sp_errmsg(ctx) : "ok");
	if (p) {
		const sp_tokenizer_ops *ops;
		void *self = NULL;
		char buf[64] = "";
		rc = sp_registry_find(reg, ctx, SP_KIND_TOKENIZER, "myplugin.spaces",
				      &c, NULL);
		ok(rc == SP_OK && c, "component found by module.name");
		ops = (const sp_tokenizer_ops *)c;
		ops->create(&self, ctx, NULL);
		ops->tokenize(self, ctx, " a bc  d", 8, collect_, buf);
		ops->destroy(self);
		ok_str(buf, "a|bc|d|", "its code runs through the ops table");
	}

	rc = sp_registry_load(reg, ctx, "badabi", &p);
	ok(rc == SP_EABI, "plugin built for another ABI is refused (rc %d)", rc);
	ok(strstr(sp_errmsg(ctx), "badabi.la") &&
	   strstr(sp_errmsg(ctx), "ABI 2") && strstr(sp_errmsg(ctx), "expected ABI 1"),
	   "message names the file, its ABI and the expected one: %s", sp_errmsg(ctx));
	ok(getenv("SEQPIPE_TEST_BADABI_RAN") == NULL,
	   "refused from its ELF note: its constructor never ran");

	rc = sp_registry_load(reg, ctx, "oldabi", &p);
	ok(rc == SP_EABI && strstr(sp_errmsg(ctx), "oldabi.la") &&
	   strstr(sp_errmsg(ctx), "ABI 2"),
	   "another ABI without the note: refused from its descriptor: %s",
	   sp_errmsg(ctx));

	rc = sp_registry_load(reg, ctx, "unresolved", &p);
	ok(rc == SP_EABI && strstr(sp_errmsg(ctx), "unresolved.la") &&
	   strstr(sp_errmsg(ctx), "undefined symbol 'sp_no_such_function'"),
	   "a module with an unresolved symbol is refused when opened, naming it: %s",
	   sp_errmsg(ctx));

	rc = sp_registry_load(reg, ctx, "misnamed", &p);
	ok(rc == SP_EABI && strstr(sp_errmsg(ctx), "othername") &&
	   strstr(sp_errmsg(ctx), "expected 'misnamed'"),
	   "plugin whose name differs from its file is refused: %s", sp_errmsg(ctx));

	rc = sp_registry_load(reg, ctx, "noentry", &p);
	ok(rc == SP_EABI && strstr(sp_errmsg(ctx), "not a seqpipe plugin"),
	   "module without the entry symbol is refused: %s", sp_errmsg(ctx));

	rc = sp_registry_load(reg, ctx, "nullops", &p);
	ok(rc == SP_EABI && strstr(sp_errmsg(ctx), "nullops.la") &&
	   strstr(sp_errmsg(ctx), "'broken'") && strstr(sp_errmsg(ctx), "NULL"),
	   "a component with a required op left NULL is refused: %s", sp_errmsg(ctx));

	rc = sp_registry_load(reg, ctx, "nosuchplugin", &p);
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "nosuchplugin") &&
	   strstr(sp_errmsg(ctx), "/nonexistent/seqpipe (test)"),
	   "missing module: message names the search path: %s", sp_errmsg(ctx));

	snprintf(path, sizeof(path), "%s/missing.la", testdir);
	rc = sp_registry_load(reg, ctx, path, &p);
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "missing.la"),
	   "missing plugin file named by path: %s", sp_errmsg(ctx));

	/* load_all skips the bad test plugins with warnings and still finds
	 * every real component */
	rc = sp_registry_load_all(reg, ctx);
	ok(rc == 7, "load_all reports the 6 bad test modules and oldrnn's lstm beside rnn's (%d)", rc);
	{
		static const struct { sp_kind kind; const char *name; } want[] = {
			{SP_KIND_TOKENIZER, "icu_words"}, {SP_KIND_TOKENIZER, "chars"},
			{SP_KIND_TOKENIZER, "dna"}, {SP_KIND_ENCODER, "onehot"},
			{SP_KIND_MODEL, "rnn"}, {SP_KIND_MODEL, "rnn.lstm"},
			{SP_KIND_MODEL, "gru"}, {SP_KIND_HEAD, "lm"},
			{SP_KIND_HEAD, "tagger"}, {SP_KIND_HEAD, "classify"}};
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			rc = sp_registry_find(reg, ctx, want[i].kind, want[i].name, &c, &p);
			ok(rc == SP_OK && c && c->kind == want[i].kind,
			   "built-in %s '%s' found", sp_kind_name(want[i].kind),
			   want[i].name);
		}
	}
	/* a head built before `task` was appended to its table */
	rc = sp_registry_find(reg, ctx, SP_KIND_HEAD, "xenthead.old", &c, NULL);
	ok(rc == SP_OK && c && c->size < sizeof(sp_head_ops) &&
	   !SP_HAS_OP(sp_head_ops, (const sp_head_ops *)c, task),
	   "a head whose table stops before task loads, without it: %s",
	   rc ? sp_errmsg(ctx) : "ok");
	rc = sp_registry_find(reg, ctx, SP_KIND_HEAD, "rnn.lstm", &c, NULL);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "is a model, expected a head"),
	   "a component of the wrong kind is refused: %s", sp_errmsg(ctx));
	rc = sp_registry_find(reg, ctx, SP_KIND_MODEL, "lsmt", &c, NULL);
	ok(rc == SP_ENOTFOUND && strstr(sp_errmsg(ctx), "lstm"),
	   "unknown component lists the known ones: %s", sp_errmsg(ctx));

	/* every component's parameter list is terminated and documented */
	for (size_t i = 0; i < sp_registry_count(reg); i++) {
		const sp_plugin *pl = sp_registry_plugin_at(reg, i);
		int good = pl->version && pl->doc;
		for (size_t k = 0; pl->components[k]; k++) {
			const sp_component *cc = pl->components[k];
			good = good && cc->doc && cc->doc[0];
			for (size_t j = 0; cc->params[j].key; j++)
				good = good && cc->params[j].doc &&
				       cc->params[j].doc[0] && cc->params[j].type;
		}
		ok(good, "plugin %s: version, docs and parameter specs complete",
		   pl->name);
	}
	sp_registry_free(reg);

	test_clashes(ctx, top, plugdir);
	sp_ctx_free(ctx);
	return tap_done();
}
