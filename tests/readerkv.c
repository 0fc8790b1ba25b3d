/* readerkv.c: see readerkv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readerkv.h"
#include "sp_kv_host.h"
#include "sp_readers.h"
#include "sp_runner.h"
#include "tap.h"
#include "tmpdir.h"

sp_kv *reader_kv(sp_ctx *ctx, const char *format, const char *const *set, size_t n)
{
	const sp_reader_ops *r = NULL;
	sp_param_spec *spec = NULL;
	sp_kv *kv = NULL;
	if (sp_reader_find(&r, ctx, NULL, format, "test") < 0 || sp_kv_new(&kv, "data") < 0 ||
	    sp_reader_spec(r, ctx, sp_runner_host_spec("data"), &spec) < 0) {
		diag("reader %s: %s", format, sp_errmsg(ctx));
		sp_kv_free(kv);
		return NULL;
	}
	sp_kv_set(kv, ctx, "format", format, 0, "test");
	for (size_t i = 0; i < n; i++) {
		char key[64];
		const char *eq = strchr(set[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - set[i]), set[i]);
		sp_kv_set(kv, ctx, key, eq + 1, 0, "test");
	}
	if (sp_kv_validate(kv, ctx, spec, tmpdir()) < 0) {
		diag("validate: %s", sp_errmsg(ctx));
		sp_kv_free(kv);
		kv = NULL;
	}
	free(spec);
	return kv;
}
