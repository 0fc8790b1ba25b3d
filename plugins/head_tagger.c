/*
 * head_tagger.c: the `tagger` head, one tag per real step (NER, DNA
 * annotation) by a softmax over the tag set (head_core.c), and what it
 * shares with the CRF tagger (head_crf.c): decoding the tag set and
 * counting entities.
 *
 * Entity metrics follow conlleval (CoNLL-2000): an entity counts as
 * correct only if its start, end and type all match; the chunk rules are
 * core/sp_tags.c's, which the conlleval scorer uses too.  Steps without a
 * target are left out of the sequence before chunking, so they neither
 * break nor join entities.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heads_impl.h"
#include "sp_kv.h"
#include "sp_vocab.h"

static int is_special_(const sp_vocab *labels, size_t id)
{
	for (int s = 0; s < SP_SPECIAL_N; s++)
		if (sp_vocab_special(labels, (sp_special)s) == (int32_t)id)
			return 1;
	return 0;
}

/* The index of `type` among names[0..*n) ("f1.<type>"), added when new;
 * -1 when out of memory. */
static int32_t type_index_(const char *type, char **names, size_t *n)
{
	char *name;
	for (size_t k = 0; k < *n; k++)
		if (strcmp(names[k] + 3, type) == 0)
			return (int32_t)k;
	if (!(name = heads_metric_name(type, strlen(type))))
		return -1;
	names[*n] = name;
	return (int32_t)(*n)++;
}

int heads_tag_table(sp_ctx *ctx, const char *who, const sp_vocab *labels,
		    size_t K, size_t N, const char *scheme, sp_tag_info *info,
		    char **names, size_t *n_names, sp_tag_scheme *out)
{
	size_t n_ent = 0, n_es = 0;
	const char *bad = NULL;
	int named;
	/* the scheme from the trained tags; then the gold-only ones decoded
	 * as far as they fit it (their entities are scored as misses) */
	for (size_t id = 0; id < N; id++) {
		const char *tok = sp_vocab_token(labels, (int32_t)id);
		const char *type;
		char prefix;
		info[id] = (sp_tag_info){'O', -1};
		if (is_special_(labels, id))
			continue;
		if (!tok || !sp_tag_parse(tok, &prefix, &type)) {
			if (!bad && id < K)
				bad = tok ? tok : "?";
			continue;
		}
		if (prefix == 'O')
			continue;
		n_ent += id < K;
		n_es += id < K && (prefix == 'E' || prefix == 'S');
		info[id].prefix = prefix;
		if ((info[id].type = type_index_(type, names, n_names)) < 0)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory", who);
	}
	if (strcmp(scheme, "auto") == 0) {
		*out = (bad || n_ent == 0) ? SP_TAGS_NONE :
		       n_es ? SP_TAGS_IOBES : SP_TAGS_IOB2;
		return SP_OK;
	}
	if ((named = sp_tag_scheme_from_name(scheme)) < 0)
		return sp_err(ctx, SP_EINVAL, "%s: scheme=%s is not one of "
			      "auto, none, iob1, iob2 (bio), iobes (bioes)",
			      who, scheme);
	*out = (sp_tag_scheme)named;
	if (*out == SP_TAGS_NONE)
		return SP_OK;
	if (bad)
		return sp_err(ctx, SP_EINVAL, "%s: scheme=%s, but tag \"%s\" "
			      "is not O or B-/I-/E-/S-TYPE", who, scheme, bad);
	if (*out != SP_TAGS_IOBES && n_es)
		return sp_err(ctx, SP_EINVAL, "%s: scheme=%s, but the tag set "
			      "has E- or S- tags (use scheme=iobes)", who,
			      scheme);
	return SP_OK;
}

void heads_count_entities(const sp_tag_info *gold, const sp_tag_info *pred,
			  size_t m, sp_tag_span *gs, sp_tag_span *ps,
			  size_t *m_gold, size_t *m_pred, size_t *m_hit)
{
	const size_t ng = sp_tag_spans(gold, m, gs);
	const size_t np = sp_tag_spans(pred, m, ps);
	for (size_t i = 0; i < ng; i++)
		m_gold[gs[i].type]++;
	for (size_t i = 0; i < np; i++)
		m_pred[ps[i].type]++;
	sp_tag_spans_match(gs, ng, ps, np, m_hit);
}

/*
 * For tests/t_metrics.c: the entities of a space-separated tag string
 * ("B-PER I-PER O B-LOC") written to out as "PER:0-2 LOC:3-4" ([start,
 * end) steps).  Not part of the plugin ABI and not exported from the
 * module (-export-symbols-regex keeps only the entry point).  Returns the
 * number of entities, or -1 when a tag is malformed or there are more than
 * 64 tags.
 */
int heads_tag_spans_text(const char *tags, char *out, size_t cap);
int heads_tag_spans_text(const char *tags, char *out, size_t cap)
{
	enum { MAX_TAGS = 64 };
	sp_tag_info info[MAX_TAGS];
	sp_tag_span sp[MAX_TAGS];
	const char *types[MAX_TAGS];
	size_t len[MAX_TAGS];
	size_t n = 0, n_types = 0, ns, used = 0;
	char tok[64];
	const char *s = tags;
	if (cap)
		out[0] = '\0';
	while (*s) {
		size_t l = strcspn(s, " ");
		char prefix;
		const char *type;
		if (l == 0) {
			s++;
			continue;
		}
		if (n == MAX_TAGS || l >= sizeof(tok))
			return -1;
		memcpy(tok, s, l);
		tok[l] = '\0';
		if (!sp_tag_parse(tok, &prefix, &type))
			return -1;
		info[n].prefix = prefix;
		info[n].type = -1;
		if (prefix != 'O') {
			const size_t tl = l - 2;
			for (size_t k = 0; k < n_types; k++)
				if (len[k] == tl &&
				    strncmp(types[k], s + 2, tl) == 0)
					info[n].type = (int32_t)k;
			if (info[n].type < 0) {
				types[n_types] = s + 2;
				len[n_types] = tl;
				info[n].type = (int32_t)n_types++;
			}
		}
		n++;
		s += l;
	}
	ns = sp_tag_spans(info, n, sp);
	for (size_t i = 0; i < ns; i++) {
		int w = snprintf(out + used, cap > used ? cap - used : 0,
				 "%s%.*s:%zu-%zu", i ? " " : "",
				 (int)len[sp[i].type], types[sp[i].type],
				 sp[i].start, sp[i].end);
		if (w > 0)
			used += (size_t)w;
	}
	return (int)ns;
}

/* Token accuracy, and entities sequence by sequence over the steps that
 * have a target. */
void heads_count_tags(head *hd)
{
	const size_t T = hd->T, B = hd->B;
	for (size_t b = 0; b < B; b++) {
		size_t m = 0;
		for (size_t t = 0; t < T; t++) {
			const int32_t r = hd->row_of[t * B + b];
			int32_t gold, pred;
			if (r < 0 || hd->tgt[r] < 0)
				continue;
			gold = hd->tgt[r];
			pred = heads_argmax(hd->p + (size_t)r * hd->K, hd->K);
			hd->m_steps++;
			hd->m_correct += gold == pred;
			hd->gold_seq[m] = hd->info[gold];
			hd->pred_seq[m] = hd->info[pred];
			m++;
		}
		if (hd->scheme == SP_TAGS_NONE || m == 0)
			continue;
		heads_count_entities(hd->gold_seq, hd->pred_seq, m,
				     hd->gold_sp, hd->pred_sp, hd->m_gold,
				     hd->m_pred, hd->m_hit);
	}
}

static int tagger_create(void **out, sp_ctx *ctx, const sp_kv *args,
			 size_t in_dim, const sp_head_env *env)
{
	head *hd = NULL;
	size_t K, N;
	int rc;
	*out = NULL;
	if ((rc = heads_env_ok(ctx, "tagger", env)) < 0)
		return rc;
	if (!env->labels)
		return sp_err(ctx, SP_EINVAL, "tagger: no tag set");
	K = heads_env_outputs(env);
	N = sp_vocab_size(env->labels);
	rc = heads_new(&hd, ctx, args, in_dim, HEAD_TAGGER, K, "W", "b", N);
	if (rc < 0)
		goto fail;
	hd->N = N;
	hd->y_label = "y(t) = W·h(t) + b";
	hd->p_label = "softmax(y(t))";
	hd->info = malloc(N * sizeof(sp_tag_info));
	if (!hd->info) {
		rc = sp_err(ctx, SP_ENOMEM, "tagger: out of memory");
		goto fail;
	}
	rc = heads_tag_table(ctx, "tagger", env->labels, K, N,
			     sp_kv_str(args, "scheme"), hd->info, hd->names,
			     &hd->n_names, &hd->scheme);
	if (rc < 0)
		goto fail;
	*out = hd;
	return SP_OK;
fail:
	heads_destroy(hd);
	return rc;
}

static const sp_param_spec tagger_params[] = {
	HEADS_DROPOUT_PARAM,
	{"scheme", SP_T_STRING, "auto",
	 "tag scheme for entity precision/recall/F1 (none: token accuracy "
	 "only; auto: from the tag strings)",
	 "auto|bio|bioes|none"},
	{NULL, 0, NULL, NULL, NULL}};

/* What the taggers (softmax and crf) read and report (the host picks the
 * best epoch and checks train.metric by these). */
static const sp_metric_decl tagger_metrics[] = {
	{"loss", 0, "mean loss per tag (nats)"},
	{"accuracy", 1, "top-1 accuracy per token"},
	{"precision", 1, "entity precision (scheme != none)"},
	{"recall", 1, "entity recall (scheme != none)"},
	{"f1", 1, "entity F1 (scheme != none)"},
	{"f1.*", 1, "entity F1 of one type"},
	{NULL, 0, NULL}};
const sp_head_task heads_tagger_task = {sizeof(sp_head_task), SP_LABELS_TOKEN,
					tagger_metrics, "f1"};

const sp_head_ops heads_tagger_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "tagger",
		 "one tag per step: softmax over the tag set (accuracy, "
		 "entity precision/recall/F1 as conlleval)",
		 tagger_params},
	.target = SP_TARGET_TAGS,
	.create = tagger_create,
	.task = &heads_tagger_task,
	HEAD_OPS_};
