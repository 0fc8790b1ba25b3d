/*
 * sp_predict_file.c: the model on every example of a file, in batches
 * sorted by length, and the predictions written in the file's order (or
 * scored by the conlleval scorer).
 *
 * Not here: loading the model (sp_checkpoint), one input text
 * (sp_evaluate_input), the scorer itself (sp_conlleval).
 */
#include "config.h"

#include "sp_predict_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_conlleval.h"
#include "sp_job.h"
#include "sp_readers.h"
#include "sp_tags.h"

/* One sentence's tags rewritten in another scheme (predict --scheme):
 * scratch grown to the longest sentence, the strings in buf. */
typedef struct tag_conv {
	sp_tag_info *in, *out;
	sp_tag_span *spans;
	const char **type;       /* token i's type, NULL for O */
	size_t *type_first;      /* the distinct types' first tokens */
	const char **str;        /* the tags written */
	char *buf;
	size_t cap, buf_cap;
} tag_conv;

/* The encoded input and, per example, where its outputs go. */
typedef struct pf_state {
	sp_job *j;
	const sp_corpus *c;
	const char *name;        /* the file as messages name it */
	int labelled;            /* the file has gold tags / labels */
	int lm;                  /* next-token model: top-k after the line */
	size_t k;                /* outputs per example (lm) */
	sp_dataset d;            /* example e = corpus example ex[e] */
	size_t *ex;
	size_t *tok0;            /* example e's first token in toks */
	sp_toklist toks;         /* every token of the file, in order */
	int32_t *pred;           /* taggers: one per input id; else k per example */
	float *prob;
	const size_t *batch;     /* the current batch's examples */
	sp_tag_scheme scheme;    /* tags written in it; NONE = as trained */
	tag_conv conv[2];        /* predicted, gold */
	const char **pred_str;   /* (cap) one sentence's predicted tags */
	size_t pred_cap;
	/* an ensemble: every model's marginals summed into `into`'s avg
	 * (n_ids, L), its label ids mapped to the first model's by map
	 * (NULL: the first model itself) */
	struct pf_state *into;
	const int32_t *map;
	float *avg;
	size_t L;
} pf_state;

static void tag_conv_fini(tag_conv *v)
{
	free(v->in);
	free(v->out);
	free(v->spans);
	free(v->type);
	free(v->type_first);
	free(v->str);
	free(v->buf);
}

/* Room for a sentence of n tags whose strings take `bytes`: the
 * buffers hold one sentence at a time, so they are replaced, not grown. */
static int tag_conv_room(tag_conv *v, sp_ctx *ctx, size_t n, size_t bytes)
{
	if (n > v->cap) {
		tag_conv_fini(v);
		memset(v, 0, sizeof(*v));
		v->in = malloc(n * sizeof(*v->in));
		v->out = malloc(n * sizeof(*v->out));
		v->spans = malloc(n * sizeof(*v->spans));
		v->type = malloc(n * sizeof(*v->type));
		v->str = malloc(n * sizeof(*v->str));
		v->type_first = malloc(n * sizeof(*v->type_first));
		if (!v->in || !v->out || !v->spans || !v->type || !v->str || !v->type_first)
			return sp_err(ctx, SP_ENOMEM, "out of memory");
		v->cap = n;
	}
	if (bytes > v->buf_cap) {
		free(v->buf);
		v->buf_cap = 0;
		if (!(v->buf = malloc(bytes)))
			return sp_err(ctx, SP_ENOMEM, "out of memory");
		v->buf_cap = bytes;
	}
	return SP_OK;
}

/*
 * tags[0..n) (one sentence) in scheme `to`, same chunks: v->str.  A type
 * is numbered by the token where it first occurs (a sentence has few
 * types: the search runs over those only).  A tag that is neither O nor
 * B/I/E/S-TYPE is SP_EINPUT naming the file and its line (gold tags: the
 * model's own were checked before, check_scheme).
 */
static int tag_conv_run(tag_conv *v, sp_ctx *ctx, const char *const *tags, size_t n,
			sp_tag_scheme to, const char *file, size_t line)
{
	size_t bytes = 0, at = 0, n_types = 0, *first;
	int rc;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(tags[i]) + 3;
	if ((rc = tag_conv_room(v, ctx, n, bytes)) < 0)
		return rc;
	first = v->type_first;
	for (size_t i = 0; i < n; i++) {
		const char *ty;
		if (!sp_tag_parse(tags[i], &v->in[i].prefix, &ty))
			return sp_err(ctx, SP_EINPUT, "%s:%zu: tag '%s' is not O or B/I/E/S-TYPE, "
				      "expected entity tags for --scheme", file, line + i, tags[i]);
		v->type[i] = v->in[i].prefix == 'O' ? NULL : ty;
		v->in[i].type = -1;
		if (!v->type[i])
			continue;
		for (size_t k = 0; k < n_types; k++)
			if (!strcmp(v->type[first[k]], ty)) {
				v->in[i].type = (int32_t)first[k];
				break;
			}
		if (v->in[i].type < 0) {
			v->in[i].type = (int32_t)i;
			first[n_types++] = i;
		}
	}
	sp_tags_convert(v->in, n, to, v->spans, v->out);
	for (size_t i = 0; i < n; i++) {
		v->str[i] = v->buf + at;
		if (v->out[i].prefix == 'O')
			at += (size_t)sprintf(v->buf + at, "O") + 1;
		else
			at += (size_t)sprintf(v->buf + at, "%c-%s", v->out[i].prefix,
					      v->type[v->out[i].type]) + 1;
	}
	return SP_OK;
}

static void pf_fini(pf_state *s)
{
	sp_dataset_fini(&s->d);
	free(s->ex);
	free(s->tok0);
	sp_toklist_fini(&s->toks);
	free(s->pred);
	free(s->prob);
	tag_conv_fini(&s->conv[0]);
	tag_conv_fini(&s->conv[1]);
	free(s->pred_str);
	free(s->avg);
}

/* ------------------------------------------------------------------ */
/* reading                                                             */
/* ------------------------------------------------------------------ */

/* Standard input copied to a temporary file (*tmp, to unlink), so that
 * it can be peeked at and read by the corpus readers. */
static int stdin_to_file(sp_ctx *ctx, char *tmp, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char buf[65536];
	size_t got;
	FILE *f;
	int fd;
	snprintf(tmp, n, "%s/seqpipe-predict-XXXXXX", dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "wb"))) {
		if (fd >= 0)
			close(fd);
		return sp_err(ctx, SP_EIO, "<stdin>: cannot make a temporary file in %s", tmp);
	}
	while ((got = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, got, f) != got)
			break;
	if (ferror(stdin) || ferror(f) || fclose(f) != 0) {
		unlink(tmp);
		return sp_err(ctx, SP_EIO, "<stdin>: cannot copy to %s", tmp);
	}
	return SP_OK;
}

/* Does the first non-blank line of path hold a tab?  (-DOCSTART- lines
 * count as blank.) */
static int first_line_has_tab(const char *path)
{
	char line[4096];
	int tab = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strspn(line, " \t\r\n") == strlen(line) || !strncmp(line, "-DOCSTART-", 10))
			continue;
		tab = strchr(line, '\t') != NULL;
		break;
	}
	fclose(f);
	return tab;
}

/* Reads path in the pipeline's format when it is labelled (a tab), else
 * as lines of text.  *labelled says which. */
static int pf_read(sp_job *j, const char *path, sp_corpus **out, int *labelled)
{
	const sp_reader_ops *r = j->cfg.reader;
	*labelled = sp_reader_label_field(r) != SP_LABELS_NEXT_TOKEN && first_line_has_tab(path);
	if (!*labelled)
		return sp_corpus_read(out, j->ctx, path, SP_DATA_LINES, NULL);
	return sp_reader_read(out, j->ctx, r, j->cfg.kv_data, path, "test", j->cfg.seed);
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */
/* ------------------------------------------------------------------ */

/* Example i's tokens appended to s->toks: the CoNLL tokens, the
 * tokenizer's, or (CoNLL pipelines on plain text) split at white space. */
static int pf_tokens(pf_state *s, size_t i)
{
	sp_job *j = s->j;
	size_t n, len;
	const char *text;
	int rc = SP_OK;
	if (sp_corpus_fields(s->c) & SP_FIELD_TOKENS) {
		const char *const *toks = sp_corpus_tokens(s->c, i, &n);
		for (size_t k = 0; k < n && rc >= 0; k++)
			rc = sp_toklist_push(&s->toks, toks[k], strlen(toks[k]), 0);
		return rc;
	}
	text = sp_corpus_text(s->c, i, &len);
	if (j->st.has_tok) {
		rc = ((const sp_tokenizer_ops *)j->st.tok.comp)
			     ->tokenize(j->st.tok.self, j->ctx, text, len, sp_toklist_push, &s->toks);
	} else {
		for (size_t p = 0; p < len && rc >= 0;) {
			p += strspn(text + p, " \t\r\n");
			n = strcspn(text + p, " \t\r\n");
			if (n)
				rc = sp_toklist_push(&s->toks, text + p, n, p);
			p += n;
		}
	}
	return rc;
}

/* Example i tokenized and encoded into s->d (ids room for its tokens
 * + 1); a text without tokens is skipped, or an error for classifiers. */
static int pf_add(pf_state *s, size_t i, int32_t **ids, size_t *cap)
{
	sp_job *j = s->j;
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	int32_t bos = sp_vocab_special(j->data.vocab, SP_SPECIAL_BOS);
	size_t first = s->toks.n, m = 0, n;
	int rc;
	if ((rc = pf_tokens(s, i)) < 0)
		return sp_err_prefix(j->ctx, rc, "%s:%zu", s->name, sp_corpus_line(s->c, i));
	n = s->toks.n - first;
	if (n + 1 > *cap) {
		int32_t *a = realloc(*ids, 2 * (n + 1) * sizeof(*a));
		if (!a)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		*ids = a;
		*cap = 2 * (n + 1);
	}
	if (s->lm && bos >= 0)
		(*ids)[m++] = bos;
	for (size_t k = 0; k < n; k++) {
		size_t o = s->toks.off[first + k];
		if ((rc = enc->encode(j->st.enc.self, j->ctx, s->toks.buf + o, s->toks.tlen[first + k],
				      &(*ids)[m++])) < 0)
			return sp_err_prefix(j->ctx, rc, "%s:%zu", s->name, sp_corpus_line(s->c, i));
	}
	if (m == 0) {
		if (sp_task_one_target(&j->st.task))
			return sp_err(j->ctx, SP_EINPUT, "%s:%zu: no tokens in the text, expected some",
				      s->name, sp_corpus_line(s->c, i));
		return SP_OK;
	}
	s->ex[s->d.n] = i;
	s->tok0[s->d.n] = first;
	/* the targets are never read (no loss): the ids stand in for them */
	if ((rc = sp_dataset_add(&s->d, j->ctx, *ids, m, *ids, sp_task_one_target(&j->st.task) ? 1 : m)) < 0)
		return rc;
	return sp_dataset_add_chars(&s->d, j, &s->toks, first, n);
}

static int pf_encode(pf_state *s)
{
	size_t n = sp_corpus_count(s->c), cap = 0, slots;
	int32_t *ids = NULL;
	int rc = SP_OK;
	s->toks.ctx = s->j->ctx;
	s->ex = malloc((n ? n : 1) * sizeof(*s->ex));
	s->tok0 = malloc((n ? n : 1) * sizeof(*s->tok0));
	if (!s->ex || !s->tok0)
		return sp_err(s->j->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = pf_add(s, i, &ids, &cap);
	free(ids);
	if (rc < 0)
		return rc;
	slots = s->j->st.task.labels == SP_LABELS_TOKEN ? s->d.n_ids : s->d.n * s->k;
	s->pred = calloc(slots ? slots : 1, sizeof(*s->pred));
	s->prob = calloc(slots ? slots : 1, sizeof(*s->prob));
	if (!s->pred || !s->prob)
		return sp_err(s->j->ctx, SP_ENOMEM, "out of memory");
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* running                                                             */
/* ------------------------------------------------------------------ */

/* An example and its length, to sort by. */
typedef struct pf_len {
	int32_t len;
	size_t e;
} pf_len;

/* Longest first: the engine's caches only grow, so the first batch sizes
 * them once and every later batch reuses their pages (shortest first
 * regrew and refaulted them at nearly every batch). */
static int by_length(const void *a, const void *b)
{
	const pf_len *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->e < y->e ? -1 : x->e > y->e;
}

/* sp_pred_fn: keeps the k best of every position (taggers, classifiers)
 * or of an example's last position (language models). */
static int pf_keep(void *payload, size_t t, size_t b, size_t k, int32_t id, float p)
{
	pf_state *s = payload;
	size_t e = s->batch[b], slot;
	if (s->into) {
		/* an ensemble's model: every label's marginal, summed */
		if (t < (size_t)s->d.in_len[e])
			s->into->avg[(s->d.in_off[e] + t) * s->into->L + (s->map ? s->map[id] : id)] += p + (k == 0);
		return 0;
	}
	if (s->j->st.task.labels == SP_LABELS_TOKEN) {
		if (k || t >= (size_t)s->d.in_len[e])
			return 0;
		slot = s->d.in_off[e] + t;
	} else {
		if (k >= s->k || (s->lm && t + 1 != (size_t)s->d.in_len[e]))
			return 0;
		slot = e * s->k + k;
	}
	s->pred[slot] = id;
	s->prob[slot] = p;
	return 0;
}

/* Every example through the model and the head, shortest first. */
static int pf_run(pf_state *s)
{
	sp_job *j = s->j;
	const sp_model_ops *m = sp_model_of(&j->st);
	const sp_head_ops *h = sp_head_of(&j->st);
	size_t *order = malloc((s->d.n ? s->d.n : 1) * sizeof(*order));
	pf_len *len = malloc((s->d.n ? s->d.n : 1) * sizeof(*len));
	int rc;
	if (!order || !len) {
		free(order);
		free(len);
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	/* similar lengths side by side: little padding is computed */
	for (size_t e = 0; e < s->d.n; e++) {
		len[e].len = s->d.in_len[e];
		len[e].e = e;
	}
	qsort(len, s->d.n, sizeof(*len), by_length);
	for (size_t e = 0; e < s->d.n; e++)
		order[e] = len[e].e;
	free(len);
	rc = m->carry(j->st.model.self, j->ctx, 0, 1);
	for (size_t e0 = 0; rc >= 0 && e0 < s->d.n; e0 += SP_PREDICT_BATCH) {
		size_t B = s->d.n - e0 < SP_PREDICT_BATCH ? s->d.n - e0 : SP_PREDICT_BATCH;
		sp_batch b;
		sp_seq y;
		s->batch = order + e0;
		if ((rc = sp_batch_make(&j->buf, j->ctx, &s->d, s->batch, B, &b)) < 0 ||
		    (rc = sp_job_forward(j, &b, &y, 0)) < 0 ||
		    (rc = h->forward(j->st.head.self, j->ctx, &y, NULL, NULL, NULL, 0)) < 0)
			break;
		rc = h->predict(j->st.head.self, j->ctx, s->k, pf_keep, s);
	}
	free(order);
	return rc;
}

/* ------------------------------------------------------------------ */
/* writing                                                             */
/* ------------------------------------------------------------------ */

/* A token as one field: white space and control bytes would split the
 * line, so spaces become '_' and tabs, newlines and other control bytes
 * are written escaped. */
static void put_field(FILE *f, const char *tok, int tsv)
{
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++) {
		if (*p == ' ' && !tsv)
			fputc('_', f);
		else if (*p == '\t' || *p == '\n' || *p == '\r' || *p < 0x20)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static const char *label_of(const pf_state *s, size_t slot)
{
	return sp_vocab_token(s->j->data.labels, s->pred[slot]);
}

/* Sentence e's predicted and gold tags, in s->scheme when one is asked. */
static int pf_sentence_tags(pf_state *s, size_t e, const char *const **pred, const char *const **gold)
{
	size_t n = (size_t)s->d.in_len[e], i = s->ex[e], line = sp_corpus_line(s->c, i);
	int rc;
	if (n > s->pred_cap) {
		free(s->pred_str);
		s->pred_cap = 0;
		if (!(s->pred_str = malloc(n * sizeof(*s->pred_str))))
			return sp_err(s->j->ctx, SP_ENOMEM, "out of memory");
		s->pred_cap = n;
	}
	for (size_t t = 0; t < n; t++)
		s->pred_str[t] = label_of(s, s->d.in_off[e] + t);
	*pred = s->pred_str;
	*gold = NULL;
	if (s->labelled) {
		size_t ng;
		*gold = sp_corpus_labels(s->c, i, &ng);
	}
	if (s->scheme == SP_TAGS_NONE)
		return SP_OK;
	if ((rc = tag_conv_run(&s->conv[0], s->j->ctx, *pred, n, s->scheme, s->name, line)) < 0)
		return rc;
	*pred = s->conv[0].str;
	if (*gold) {
		if ((rc = tag_conv_run(&s->conv[1], s->j->ctx, *gold, n, s->scheme, s->name, line)) < 0)
			return rc;
		*gold = s->conv[1].str;
	}
	return SP_OK;
}

/* Tagger: the CoNLL columns, or the tags into the scorer ce. */
static int pf_write_tags(pf_state *s, FILE *f, sp_conlleval *ce)
{
	int rc;
	for (size_t e = 0; e < s->d.n; e++) {
		size_t i = s->ex[e];
		const char *const *pred = NULL, *const *gold = NULL;
		if ((rc = pf_sentence_tags(s, e, &pred, &gold)) < 0)
			return rc;
		for (size_t t = 0; t < (size_t)s->d.in_len[e]; t++) {
			if (ce) {
				if ((rc = sp_conlleval_token(ce, s->j->ctx, gold[t], pred[t])) < 0)
					return sp_err_prefix(s->j->ctx, rc, "%s:%zu", s->name,
							     sp_corpus_line(s->c, i) + t);
				continue;
			}
			put_field(f, s->toks.buf + s->toks.off[s->tok0[e] + t], 0);
			if (gold) {
				fputc(' ', f);
				put_field(f, gold[t], 0);
			}
			fputc(' ', f);
			put_field(f, pred[t], 0);
			fputc('\n', f);
		}
		if (ce)
			sp_conlleval_boundary(ce);
		else
			fputc('\n', f);
	}
	return SP_OK;
}

/* Classifier or language model: one line per example. */
static void pf_write_lines(const pf_state *s, FILE *f)
{
	for (size_t e = 0; e < s->d.n; e++) {
		size_t len;
		const char *text = sp_corpus_text(s->c, s->ex[e], &len);
		if (!s->lm) {
			put_field(f, label_of(s, e), 1);
			fprintf(f, "\t%.4f\t", s->prob[e]);
			put_field(f, text, 1);
			fputc('\n', f);
			continue;
		}
		put_field(f, text, 1);
		for (size_t k = 0; k < s->k; k++) {
			fputc('\t', f);
			put_field(f, label_of(s, e * s->k + k), 1);
			fprintf(f, "\t%.4f", s->prob[e * s->k + k]);
		}
		fputc('\n', f);
	}
}

/* ------------------------------------------------------------------ */
/* ensembles                                                           */
/* ------------------------------------------------------------------ */

/* Label id of model m -> the first model's (map, m's label count long). */
static int pf_label_map(sp_job *first, sp_job *m, size_t which, int32_t **map)
{
	size_t n = sp_vocab_size(m->data.labels);
	*map = malloc((n ? n : 1) * sizeof(**map));
	if (!*map)
		return sp_err(first->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *tag = sp_vocab_token(m->data.labels, (int32_t)i);
		(*map)[i] = tag ? sp_vocab_id(first->data.labels, tag, strlen(tag)) : -1;
		if ((*map)[i] < 0)
			return sp_err(first->ctx, SP_EINVAL, "ensemble: model %zu has the tag '%s', "
				      "which the first model has not; expected models of one "
				      "pipeline", which + 1, tag ? tag : "?");
	}
	return SP_OK;
}

/* Do two models read the file as the same sentences of the same
 * lengths (so that token slots line up)? */
static int pf_same_tokens(const pf_state *a, const pf_state *b)
{
	if (a->d.n != b->d.n || a->d.n_ids != b->d.n_ids)
		return 0;
	for (size_t e = 0; e < a->d.n; e++)
		if (a->ex[e] != b->ex[e] || a->d.in_len[e] != b->d.in_len[e])
			return 0;
	return 1;
}

/* Every further model on the file, each with its own encoder, its
 * marginals summed into s->avg. */
static int pf_members(pf_state *s, sp_job *members, size_t n)
{
	int rc = SP_OK;
	for (size_t m = 0; m < n && rc >= 0; m++) {
		pf_state ms;
		int32_t *map = NULL;
		memset(&ms, 0, sizeof(ms));
		ms.j = &members[m];
		ms.c = s->c;
		ms.name = s->name;
		ms.k = s->L;
		ms.into = s;
		if (ms.j->st.task.labels != SP_LABELS_TOKEN)
			rc = sp_err(s->j->ctx, SP_EINVAL, "ensemble: model %zu is not a tagger "
				    "(head '%s'), expected taggers of one pipeline", m + 2,
				    ms.j->st.head.comp->name);
		if (rc >= 0 && (rc = pf_label_map(s->j, ms.j, m + 1, &map)) >= 0)
			rc = pf_encode(&ms);
		if (rc >= 0 && !pf_same_tokens(&ms, s))
			rc = sp_err(s->j->ctx, SP_EINVAL, "ensemble: model %zu splits %s into other "
				    "tokens than the first; expected models of one pipeline",
				    m + 2, s->name);
		ms.map = map;
		if (rc >= 0)
			rc = pf_run(&ms);
		free(map);
		pf_fini(&ms);
	}
	return rc;
}

/* The tags the scheme allows after each other (labels that are not
 * entity tags: any order). */
typedef struct pf_rules {
	sp_tag_scheme scheme;
	sp_tag_info *info;
	uint8_t *ok; /* (L + 2, L): after tag i, first (row L), last (L+1) */
} pf_rules;

/* Tag i of the label set (special tokens read as O); 0 when it is not an
 * entity tag. */
static int pf_tag_of(const sp_vocab *labels, size_t i, char *prefix, const char **type)
{
	const char *tag = sp_vocab_token(labels, (int32_t)i);
	for (int sp = 0; sp < SP_SPECIAL_N; sp++)
		if (sp_vocab_special(labels, (sp_special)sp) == (int32_t)i) {
			*prefix = 'O';
			*type = "";
			return 1;
		}
	return tag && sp_tag_parse(tag, prefix, type);
}

/* The scheme the first model's head decodes under: its `scheme` key,
 * none for a CRF with constrain = false, and for auto what the head picks
 * from the tags (iobes with an E- or S- tag, iob2, none when a label is
 * not an entity tag). */
static sp_tag_scheme pf_scheme(const sp_job *j, int tags, int es)
{
	const sp_kv *kv = j->st.head.kv;
	const char *name = kv ? sp_kv_str(kv, "scheme") : NULL;
	if (!strcmp(j->st.head.comp->name, "crf") && kv && !sp_kv_bool(kv, "constrain"))
		return SP_TAGS_NONE;
	if (name && *name && strcmp(name, "auto") && sp_tag_scheme_from_name(name) >= 0)
		return (sp_tag_scheme)sp_tag_scheme_from_name(name);
	return !tags ? SP_TAGS_NONE : es ? SP_TAGS_IOBES : SP_TAGS_IOB2;
}

static int pf_rules_make(pf_rules *r, const sp_job *j, size_t L)
{
	const sp_vocab *labels = j->data.labels;
	int es = 0, tags = 1;
	r->info = calloc(L ? L : 1, sizeof(*r->info));
	r->ok = malloc((L + 2) * (L ? L : 1));
	if (!r->info || !r->ok)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	for (size_t i = 0; i < L; i++) {
		const char *type;
		r->info[i] = (sp_tag_info){'O', -1};
		if (!pf_tag_of(labels, i, &r->info[i].prefix, &type)) {
			r->info[i] = (sp_tag_info){'O', -1};
			tags = 0;
			continue;
		}
		/* the type's index: its first tag (types are compared, not named) */
		for (size_t k = 0; r->info[i].prefix != 'O' && k <= i; k++) {
			const char *tk;
			char pk;
			if (pf_tag_of(labels, k, &pk, &tk) && pk != 'O' && !strcmp(tk, type)) {
				r->info[i].type = (int32_t)k;
				break;
			}
		}
		es |= r->info[i].prefix == 'E' || r->info[i].prefix == 'S';
	}
	r->scheme = pf_scheme(j, tags, es);
	for (size_t jj = 0; jj < L; jj++) {
		for (size_t i = 0; i < L; i++)
			r->ok[i * L + jj] = (uint8_t)sp_tag_transition_ok(r->scheme, &r->info[i], r->info[jj]);
		r->ok[L * L + jj] = (uint8_t)sp_tag_transition_ok(r->scheme, NULL, r->info[jj]);
		r->ok[(L + 1) * L + jj] = (uint8_t)sp_tag_end_ok(r->scheme, r->info[jj]);
	}
	return SP_OK;
}

/* Sentence e's best tag path through the models' mean marginals that the
 * rules allow (v, bp: scratch of n * L). */
static void pf_best_path(pf_state *s, const pf_rules *r, size_t e, size_t n_models,
			 double *v, int32_t *bp)
{
	const size_t L = s->L, n = (size_t)s->d.in_len[e], off = (size_t)s->d.in_off[e];
	double best = -INFINITY;
	int32_t at = 0;
	for (size_t t = 0; t < n; t++)
		for (size_t j = 0; j < L; j++) {
			double lp = log(s->avg[(off + t) * L + j] / (2.0 * (double)n_models) + 1e-30);
			double top = -INFINITY;
			int32_t from = 0;
			for (size_t i = 0; t > 0 && i < L; i++)
				if (r->ok[i * L + j] && v[(t - 1) * L + i] > top) {
					top = v[(t - 1) * L + i];
					from = (int32_t)i;
				}
			if (t == 0)
				top = r->ok[L * L + j] ? 0 : -INFINITY;
			v[t * L + j] = top + lp;
			bp[t * L + j] = from;
		}
	for (size_t j = 0; j < L; j++)
		if (r->ok[(L + 1) * L + j] && v[(n - 1) * L + j] > best) {
			best = v[(n - 1) * L + j];
			at = (int32_t)j;
		}
	for (size_t t = n; t-- > 0;) {
		s->pred[off + t] = at;
		s->prob[off + t] = s->avg[(off + t) * L + (size_t)at] / (2.0f * (float)n_models);
		at = bp[t * L + (size_t)at];
	}
}

/* The ensemble's tags of every sentence, into s->pred and s->prob. */
static int pf_decode(pf_state *s, size_t n_models)
{
	pf_rules r = {SP_TAGS_NONE, NULL, NULL};
	size_t longest = 1;
	double *v;
	int32_t *bp;
	int rc = pf_rules_make(&r, s->j, s->L);
	for (size_t e = 0; e < s->d.n; e++)
		longest = (size_t)s->d.in_len[e] > longest ? (size_t)s->d.in_len[e] : longest;
	v = malloc(longest * s->L * sizeof(*v));
	bp = malloc(longest * s->L * sizeof(*bp));
	if (rc >= 0 && (!v || !bp))
		rc = sp_err(s->j->ctx, SP_ENOMEM, "out of memory");
	for (size_t e = 0; rc >= 0 && e < s->d.n; e++)
		pf_best_path(s, &r, e, n_models, v, bp);
	free(v);
	free(bp);
	free(r.info);
	free(r.ok);
	return rc;
}

/* The first model and the members on the file: summed marginals, then
 * each sentence decoded. */
static int pf_ensemble(pf_state *s, sp_job *members, size_t n)
{
	int rc;
	s->L = sp_vocab_size(s->j->data.labels);
	s->k = s->L;
	if (!(s->avg = calloc(s->d.n_ids * s->L + 1, sizeof(*s->avg))))
		return sp_err(s->j->ctx, SP_ENOMEM, "out of memory");
	s->into = s; /* the first model's own ids: no map */
	rc = pf_run(s);
	s->into = NULL;
	if (rc >= 0)
		rc = pf_members(s, members, n);
	if (rc >= 0)
		rc = pf_decode(s, n + 1);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the commands                                                        */
/* ------------------------------------------------------------------ */

/* --scheme: a known scheme, a tagger, and labels that are entity tags
 * (checked once, before the model runs). */
static int check_scheme(sp_job *j, int tags, sp_tag_scheme *out)
{
	int sc = sp_tag_scheme_from_name(j->opts->scheme);
	size_t n = sp_vocab_size(j->data.labels);
	if (!tags)
		return sp_err(j->ctx, SP_EINVAL, "--scheme rewrites a tagger's tags; head '%s' is not one",
			      j->st.head.comp->name);
	if (sc <= SP_TAGS_NONE)
		return sp_err(j->ctx, SP_EINVAL, "--scheme '%s', expected iob1, iob2 or iobes", j->opts->scheme);
	for (size_t i = 0; i < n; i++) {
		const char *tag = sp_vocab_token(j->data.labels, (int32_t)i), *ty;
		char prefix;
		if (tag && !sp_tag_parse(tag, &prefix, &ty))
			return sp_err(j->ctx, SP_EINVAL, "--scheme: the model's tag '%s' is not O or "
				      "B/I/E/S-TYPE, expected entity tags", tag);
	}
	*out = (sp_tag_scheme)sc;
	return SP_OK;
}

/* Predictions (or the conlleval report) of the job's model on corpus c. */
static int pf_corpus(sp_job *j, const sp_corpus *c, const char *name, int labelled, int conlleval,
		     sp_job *members, size_t n_members)
{
	FILE *f = j->out ? j->out : stdout;
	pf_state s;
	sp_conlleval *ce = NULL;
	int tags = j->st.task.labels == SP_LABELS_TOKEN, rc;
	memset(&s, 0, sizeof(s));
	s.j = j;
	s.c = c;
	s.name = name;
	s.labelled = labelled && tags;
	s.lm = sp_task_next_token(&j->st.task);
	s.k = s.lm ? (j->opts->top_k ? j->opts->top_k : 1) : 1;
	if (conlleval && !tags)
		return sp_err(j->ctx, SP_EINVAL, "--report conlleval scores taggers; head '%s' is not one",
			      j->st.head.comp->name);
	if (j->opts->scheme && (rc = check_scheme(j, tags, &s.scheme)) < 0)
		return rc;
	if (conlleval && !s.labelled)
		return sp_err(j->ctx, SP_EINPUT, "%s: no gold tags, expected 'token<TAB>tag' lines for --report conlleval",
			      name);
	if (n_members && !tags)
		return sp_err(j->ctx, SP_EINVAL, "ensemble: several models are averaged for taggers; "
			      "head '%s' is not one", j->st.head.comp->name);
	if ((rc = pf_encode(&s)) < 0 ||
	    (rc = n_members ? pf_ensemble(&s, members, n_members) : pf_run(&s)) < 0)
		goto done;
	if (!tags) {
		pf_write_lines(&s, f);
	} else if (!conlleval) {
		rc = pf_write_tags(&s, f, NULL);
	} else if ((rc = sp_conlleval_new(&ce, j->ctx)) >= 0 &&
		   (rc = pf_write_tags(&s, f, ce)) >= 0) {
		rc = sp_conlleval_write(ce, j->ctx, f);
	}
	if (rc >= 0 && fflush(f) != 0)
		rc = sp_err(j->ctx, SP_EIO, "cannot write the predictions");
done:
	sp_conlleval_free(ce);
	pf_fini(&s);
	return rc;
}

int sp_predict_file(sp_job *j, const char *path, int conlleval)
{
	return sp_predict_file_ensemble(j, NULL, 0, path, conlleval);
}

int sp_predict_file_ensemble(sp_job *j, sp_job *members, size_t n_members, const char *path,
			     int conlleval)
{
	char tmp[4096] = "";
	const char *name = path;
	sp_corpus *c = NULL;
	int labelled = 0, rc;
	if (!strcmp(path, "-")) {
		if ((rc = stdin_to_file(j->ctx, tmp, sizeof(tmp))) < 0)
			return rc;
		path = tmp;
		name = "<stdin>";
	}
	rc = pf_read(j, path, &c, &labelled);
	if (rc < 0 && tmp[0]) {
		/* the reader named the temporary file: name standard input */
		char msg[1024];
		const char *m = sp_errmsg(j->ctx);
		size_t n = strlen(tmp);
		snprintf(msg, sizeof(msg), "%s%s", strncmp(m, tmp, n) ? "<stdin>: " : "<stdin>",
			 strncmp(m, tmp, n) ? m : m + n);
		sp_err(j->ctx, rc, "%s", msg);
	}
	if (rc >= 0)
		rc = pf_corpus(j, c, name, labelled, conlleval, members, n_members);
	sp_corpus_free(c);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

int sp_predict_split_conlleval(sp_job *j, const char *key)
{
	sp_corpus *c = NULL;
	int rc = sp_splits_read(j, key, &c);
	if (rc >= 0 && !c)
		rc = sp_err(j->ctx, SP_EINVAL, "the configuration names no data.%s file to report on", key);
	if (rc >= 0)
		rc = pf_corpus(j, c, sp_kv_str(j->cfg.kv_data, key),
			       (sp_corpus_fields(c) & SP_FIELD_TOKENS) != 0, 1, NULL, 0);
	sp_corpus_free(c);
	return rc;
}
