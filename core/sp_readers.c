/*
 * sp_readers.c: finding a data format's reader, the [data] keys it takes,
 * and running it into a corpus (see sp_readers.h).
 */
#include "config.h"

#include "sp_readers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_data_mem.h"
#include "sp_read_text.h"

static const sp_reader_ops *const builtin_[] = {
	&sp_reader_lines, &sp_reader_conll, &sp_reader_tsv,
	&sp_reader_parallel, &sp_reader_synthetic, &sp_reader_ptb, NULL};

const sp_reader_ops *const *sp_readers_builtin(void)
{
	return builtin_;
}

static int unknown_(sp_ctx *ctx, const char *name, const char *where)
{
	char list[256];
	size_t used = 0;
	for (size_t i = 0; builtin_[i] && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s",
				 i ? ", " : "", builtin_[i]->base.name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return sp_err(ctx, SP_EINVAL, "%s: data.format = %s is not a data format, expected one of: %s, or a reader plugin's as module.name",
		      where, name, list);
}

int sp_reader_find(const sp_reader_ops **out, sp_ctx *ctx, sp_registry *reg,
		   const char *name, const char *where)
{
	const sp_component *c = NULL;
	const sp_plugin *p = NULL;
	*out = NULL;
	for (size_t i = 0; builtin_[i]; i++)
		if (!strcmp(builtin_[i]->base.name, name)) {
			*out = builtin_[i];
			return SP_OK;
		}
	if (!reg || !*name)
		return unknown_(ctx, name, where);
	if (!strchr(name, '.')) {
		/* a bare name: only a module already open may define it, and
		 * the registry's error would list components, not formats */
		if (sp_registry_find(reg, ctx, SP_KIND_READER, name, &c, &p) < 0)
			return unknown_(ctx, name, where);
	} else if (sp_registry_find(reg, ctx, SP_KIND_READER, name, &c, &p) < 0) {
		return sp_err_prefix(ctx, SP_EINVAL, "%s", where);
	}
	*out = (const sp_reader_ops *)c;
	return SP_OK;
}

int sp_reader_spec(const sp_reader_ops *r, sp_ctx *ctx,
		   const sp_param_spec *host, sp_param_spec **out)
{
	size_t nh = 0, nr = 0, k;
	sp_param_spec *s;
	while (host[nh].key)
		nh++;
	while (r->base.params[nr].key)
		nr++;
	s = calloc(nh + nr + 1, sizeof(*s));
	if (!s)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	memcpy(s, host, nh * sizeof(*s));
	k = nh;
	for (size_t i = 0; i < nr; i++) {
		size_t j = 0;
		while (j < nh && strcmp(host[j].key, r->base.params[i].key))
			j++;
		if (j == nh) /* the host's own key wins */
			s[k++] = r->base.params[i];
	}
	*out = s;
	return SP_OK;
}

sp_label_field sp_reader_label_field(const sp_reader_ops *r)
{
	if (r->fields & SP_FIELD_TAGS)
		return SP_LABELS_TOKEN;
	if (r->fields & SP_FIELD_LABEL)
		return SP_LABELS_TEXT;
	if (r->fields & SP_FIELD_TARGET)
		return SP_LABELS_SEQUENCE;
	return SP_LABELS_NEXT_TOKEN;
}

int sp_reader_read(sp_corpus **out, sp_ctx *ctx, const sp_reader_ops *r,
		   const sp_kv *args, const char *path, const char *split,
		   uint64_t seed)
{
	sp_read_env env = {sizeof(env), split, seed, SP_DATA_MAX_LINE_DEFAULT,
			   SP_DATA_MAX_FILE_DEFAULT, NULL, NULL, NULL};
	long max = sp_kv_int(args, "max_examples");
	sp_corpus *c = NULL;
	int rc;
	*out = NULL;
	if (!r->generated && (!path || !*path))
		return sp_err(ctx, SP_EINVAL, "data: empty file name, expected the path of a %s file",
			      r->base.name);
	rc = sp_corpus_new(&c, ctx, r->base.name, r->fields, max > 0 ? (size_t)max : 0);
	if (rc < 0)
		return rc;
	sp_corpus_sink(c, &env);
	rc = r->read(ctx, args, r->generated ? NULL : path, &env);
	if (rc >= 0 && r->generated && strcmp(split, "train") != 0 && sp_corpus_count(c) == 0) {
		sp_corpus_free(c);
		return SP_OK; /* no such split */
	}
	if (rc >= 0)
		rc = sp_corpus_finish(c, r->generated ? sp_kv_where(args, "format") : path);
	if (rc < 0) {
		sp_corpus_free(c);
		return rc;
	}
	*out = c;
	return SP_OK;
}
