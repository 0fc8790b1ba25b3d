/*
 * fuzz_vocab.c: the vocabulary store loader (vocab/sp_vocab_store.c): a
 * `vocab.db` that is corrupt, edited or not seqpipe's.
 *
 * Input: the bytes of the SQLite file.  Every vocabulary the store lists
 * is loaded (at most 8), then a name it does not hold.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_vocab.h"

typedef struct names_ {
	char *name[8];
	size_t n;
} names_;

static int collect_(void *payload, const char *name, size_t size,
		    const char *created, const char *hash)
{
	names_ *ns = payload;
	(void)size;
	(void)strlen(created);
	(void)strlen(hash);
	if (ns->n < 8 && (ns->name[ns->n] = strdup(name)))
		ns->n++;
	return 0;
}

static void load_(sp_ctx *ctx, const char *path, const char *name)
{
	sp_vocab *v = NULL;
	volatile size_t sum = 0;

	if (sp_vocab_load(&v, ctx, path, name) != SP_OK)
		return;
	for (size_t i = 0; i < sp_vocab_size(v); i++) {
		const char *t = sp_vocab_token(v, (int32_t)i);
		if (!t)
			continue;
		sum += strlen(t) + (size_t)sp_vocab_count(v, (int32_t)i);
		sum += (size_t)sp_vocab_id(v, t, strlen(t));
	}
	for (int s = 0; s < 4; s++)
		sum += (size_t)sp_vocab_special(v, (sp_special)s);
	sum += (size_t)sp_vocab_hash(v);
	(void)sum;
	sp_vocab_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sp_ctx *ctx = NULL;
	names_ ns = {{0}, 0};
	const char *path = fuzz_scratch(data, size, ".db");

	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return 0;
	(void)sp_vocab_list(ctx, path, collect_, &ns);
	for (size_t i = 0; i < ns.n; i++) {
		load_(ctx, path, ns.name[i]);
		free(ns.name[i]);
	}
	load_(ctx, path, "no such vocabulary");
	(void)sp_errmsg(ctx);
	sp_ctx_free(ctx);
	return 0;
}
