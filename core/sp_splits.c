/*
 * sp_splits.c: reading, tokenizing and encoding the [data] splits, and
 * the vocabulary and label set they give.
 */
#include "config.h"

#include "sp_splits.h"

#include <stdlib.h>
#include <string.h>

#include "sp_bpe.h"
#include "sp_job.h"
#include "sp_readers.h"
#include "sp_splits_seq.h"
#include "sp_report.h"

int sp_toklist_push(void *payload, const char *tok, size_t len, size_t offset)
{
	sp_toklist *t = payload;
	(void)offset;
	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->cap + len + 1) * 2;
		char *b = realloc(t->buf, cap);
		if (!b)
			return sp_err(t->ctx, SP_ENOMEM, "out of memory");
		t->buf = b;
		t->cap = cap;
	}
	if (t->n == t->cap_n) {
		size_t cap = t->cap_n ? 2 * t->cap_n : 64;
		size_t *o = realloc(t->off, cap * sizeof(*o));
		size_t *l;
		if (!o)
			return sp_err(t->ctx, SP_ENOMEM, "out of memory");
		t->off = o;
		l = realloc(t->tlen, cap * sizeof(*l));
		if (!l)
			return sp_err(t->ctx, SP_ENOMEM, "out of memory");
		t->tlen = l;
		t->cap_n = cap;
	}
	memcpy(t->buf + t->len, tok, len);
	t->buf[t->len + len] = '\0';
	t->off[t->n] = t->len;
	t->tlen[t->n] = len;
	t->len += len + 1;
	t->n++;
	return 0;
}

static void toklist_clear(sp_toklist *t)
{
	t->len = 0;
	t->n = 0;
}

void sp_toklist_fini(sp_toklist *t)
{
	free(t->buf);
	free(t->off);
	free(t->tlen);
}


void sp_dataset_fini(sp_dataset *d)
{
	free(d->in_off);
	free(d->tg_off);
	free(d->in_len);
	free(d->tg_len);
	free(d->ids);
	sp_tokchars_fini(&d->ch);
	memset(d, 0, sizeof(*d));
}

int sp_dataset_add_chars(sp_dataset *d, const sp_job *j, const sp_toklist *t,
			 size_t first, size_t n)
{
	if (!j->st.chars)
		return SP_OK;
	return sp_tokchars_add(&d->ch, j->ctx, t->buf, t->off + first, t->tlen + first, n);
}

void sp_splits_fini(sp_splits *s)
{
	sp_dataset_fini(&s->train);
	sp_dataset_fini(&s->dev);
	sp_dataset_fini(&s->test);
	sp_unkrep_fini(&s->train_rare);
	sp_vocab_free(s->vocab);
	sp_vocab_free(s->labels);
	s->vocab = s->labels = NULL;
	sp_bpe_free(s->bpe);
	s->bpe = NULL;
}

int sp_splits_known_labels(const sp_splits *s, sp_ctx *ctx, sp_vocab **copy)
{
	sp_vocab *v;
	int rc;
	*copy = NULL;
	if (!s->labels || !s->n_known || s->n_known >= sp_vocab_size(s->labels))
		return SP_OK;
	if ((rc = sp_vocab_new(&v)) < 0)
		return sp_err(ctx, rc, "labels: out of memory");
	for (size_t k = 0; k < s->n_known && rc >= 0; k++) {
		const char *l = sp_vocab_token(s->labels, (int32_t)k);
		rc = sp_vocab_add(v, ctx, l, strlen(l), sp_vocab_count(s->labels, (int32_t)k), NULL);
	}
	for (int w = 0; w < SP_SPECIAL_N && rc >= 0; w++) {
		int32_t id = sp_vocab_special(s->labels, (sp_special)w);
		if (id >= 0 && (size_t)id < s->n_known)
			rc = sp_vocab_set_special(v, ctx, (sp_special)w, id);
	}
	if (rc < 0) {
		sp_vocab_free(v);
		return rc;
	}
	*copy = v;
	return SP_OK;
}

/* Tokens of example i of corpus c (tokenized text, or the CoNLL tokens). */
static int example_tokens(sp_job *j, const sp_corpus *c, const char *path,
			  size_t i, sp_toklist *t)
{
	toklist_clear(t);
	if (sp_corpus_fields(c) & SP_FIELD_TOKENS) {
		size_t n;
		const char *const *toks = sp_corpus_tokens(c, i, &n);
		for (size_t k = 0; k < n; k++) {
			int rc = sp_toklist_push(t, toks[k], strlen(toks[k]), 0);
			if (rc < 0)
				return rc;
		}
		return SP_OK;
	} else {
		size_t len;
		const char *text = sp_corpus_text(c, i, &len);
		int rc = ((const sp_tokenizer_ops *)j->st.tok.comp)
				 ->tokenize(j->st.tok.self, j->ctx, text, len, sp_toklist_push, t);
		if (rc < 0)
			return sp_err_prefix(j->ctx, rc, "%s:%zu", path,
					     sp_corpus_line(c, i));
		return SP_OK;
	}
}

/* skip_bad: say how many lines were skipped and where the first was, on
 * stderr and (when a run is logged) as a run-log event. */
static void report_skipped(sp_job *j, const char *path, const sp_corpus *c)
{
	char msg[512], first[256] = "";
	if (sp_corpus_skipped_first(c) > 0)
		snprintf(first, sizeof(first), ", the first at %s:%zu", path, sp_corpus_skipped_first(c));
	snprintf(msg, sizeof(msg), "skipped %zu malformed %s%s (data.skip_bad)%s",
		 sp_corpus_skipped(c), sp_corpus_fields(c) & SP_FIELD_TARGET ? "pair" : "line",
		 sp_corpus_skipped(c) == 1 ? "" : "s", first);
	sp_say(j->out, "note: %s\n", msg);
	sp_observe_event(&j->obs, j->ctx, SP_LOG_WARN, msg);
}

int sp_splits_read(sp_job *j, const char *key, sp_corpus **out)
{
	const char *path = sp_kv_str(j->cfg.kv_data, key);
	int rc;
	*out = NULL;
	if (!j->cfg.reader->generated && (!path || !*path))
		return SP_OK; /* no such split */
	rc = sp_reader_read(out, j->ctx, j->cfg.reader, j->cfg.kv_data, path, key, j->cfg.seed);
	if (rc >= 0 && *out && sp_corpus_skipped(*out) > 0)
		report_skipped(j, path, *out);
	return rc;
}

static int dataset_reserve(sp_dataset *d, sp_ctx *ctx, size_t n_ids)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		size_t *a = realloc(d->in_off, cap * sizeof(*a)), *b;
		int32_t *c, *e;
		if (!a)
			goto nomem;
		d->in_off = a;
		if (!(b = realloc(d->tg_off, cap * sizeof(*b))))
			goto nomem;
		d->tg_off = b;
		if (!(c = realloc(d->in_len, cap * sizeof(*c))))
			goto nomem;
		d->in_len = c;
		if (!(e = realloc(d->tg_len, cap * sizeof(*e))))
			goto nomem;
		d->tg_len = e;
		d->cap = cap;
	}
	if (d->n_ids + n_ids > d->cap_ids) {
		size_t cap = (d->cap_ids + n_ids) * 2;
		int32_t *ids = realloc(d->ids, cap * sizeof(*ids));
		if (!ids)
			goto nomem;
		d->ids = ids;
		d->cap_ids = cap;
	}
	return SP_OK;
nomem:
	return sp_err(ctx, SP_ENOMEM, "out of memory reading the data");
}

int sp_dataset_add(sp_dataset *d, sp_ctx *ctx, const int32_t *in, size_t n_in,
		   const int32_t *tg, size_t n_tg)
{
	int rc = dataset_reserve(d, ctx, n_in + n_tg);
	if (rc < 0)
		return rc;
	d->in_off[d->n] = d->n_ids;
	memcpy(d->ids + d->n_ids, in, n_in * sizeof(*in));
	d->n_ids += n_in;
	d->in_len[d->n] = (int32_t)n_in;
	d->tg_off[d->n] = d->n_ids;
	memcpy(d->ids + d->n_ids, tg, n_tg * sizeof(*tg));
	d->n_ids += n_tg;
	d->tg_len[d->n] = (int32_t)n_tg;
	d->n++;
	return SP_OK;
}

static int encode_token(sp_job *j, const char *tok, size_t len, int32_t *id)
{
	return ((const sp_encoder_ops *)j->st.enc.comp)->encode(j->st.enc.self, j->ctx, tok, len, id);
}

/* Label string -> id in the label set.  A label the training split does
 * not have (dev/test, or a model's eval file) joins the set after the
 * trained ones, once, with a warning: the head has no output for it, so
 * it is scored as a miss (doc/tasks.md). */
static int label_id(sp_job *j, const sp_corpus *c, const char *path, size_t i,
		    size_t k, const char *label, int32_t *id)
{
	char msg[512];
	/* token k of a CoNLL sentence is k lines below its first, unless
	 * skip_bad dropped lines; other readers: the example's line */
	const char *format = sp_kv_str(j->cfg.kv_data, "format");
	int one_per_line = format && !strcmp(format, "conll") && !sp_corpus_skipped(c);
	size_t line = sp_corpus_line(c, i) + (one_per_line ? k : 0);
	int rc;
	*id = sp_vocab_id(j->data.labels, label, strlen(label));
	if (*id >= 0)
		return SP_OK;
	if ((rc = sp_vocab_add(j->data.labels, j->ctx, label, strlen(label), 0, id)) < 0)
		return sp_err_prefix(j->ctx, rc, "%s:%zu", path, line);
	snprintf(msg, sizeof(msg), "%s:%zu: label '%s' does not occur in the training data; scored as a miss",
		 path, line, label);
	sp_log(j->ctx, SP_LOG_WARN, "%s", msg);
	return sp_observe_event(&j->obs, j->ctx, SP_LOG_WARN, msg);
}

/* Language model: seq = [<s>] tokens [</s>]; input seq[0..m-1), target
 * seq[1..m): each step predicts the next token.  Long texts are cut
 * into windows of max_len steps.  in and tg hold n + 2 ids. */
static int add_next_token(sp_job *j, const sp_corpus *c, const char *path,
			  size_t i, const sp_toklist *t, int32_t *in, int32_t *tg,
			  sp_dataset *d)
{
	size_t max_len = (size_t)sp_kv_int(j->cfg.kv_data, "max_len");
	int32_t bos = sp_vocab_special(j->data.vocab, SP_SPECIAL_BOS);
	int32_t eos = sp_vocab_special(j->data.vocab, SP_SPECIAL_EOS);
	size_t m = 0;
	int rc;
	if (bos >= 0)
		in[m++] = bos;
	for (size_t k = 0; k < t->n; k++)
		if ((rc = encode_token(j, t->buf + t->off[k], t->tlen[k], &in[m++])) < 0)
			return sp_err_prefix(j->ctx, rc, "%s:%zu", path, sp_corpus_line(c, i));
	if (eos >= 0)
		in[m++] = eos;
	if (m < 2)
		return SP_OK; /* nothing to predict */
	for (size_t k = 1; k < m; k++)
		tg[k - 1] = in[k];
	for (size_t s = 0; s < m - 1; s += max_len ? max_len : m) {
		size_t len = m - 1 - s;
		if (max_len && len > max_len)
			len = max_len;
		if ((rc = sp_dataset_add(d, j->ctx, in + s, len, tg + s, len)) < 0)
			return rc;
	}
	return SP_OK;
}

/* The training split's tokens that the encoder may read as unknown words
 * (sp_unkrep.h), noted at the places sp_dataset_add is about to give
 * in[0..n). */
static int note_rare(sp_job *j, const sp_dataset *d, const sp_toklist *t,
		     const int32_t *in, size_t n)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	if (d != &j->data.train || !SP_HAS_OP(sp_encoder_ops, enc, unknown))
		return SP_OK;
	for (size_t k = 0; k < n; k++) {
		int32_t unk;
		float p;
		int rc = enc->unknown(j->st.enc.self, j->ctx, t->buf + t->off[k], t->tlen[k], &unk, &p);
		if (rc < 0)
			return rc;
		if (p > 0 && unk != in[k] &&
		    (rc = sp_unkrep_add(&j->data.train_rare, j->ctx, d->n_ids + k, in[k], unk, p)) < 0)
			return rc;
	}
	return SP_OK;
}

/* Tagger or classifier: the tokens, and a tag per token or one label. */
static int add_labelled(sp_job *j, const sp_corpus *c, const char *path,
			size_t i, const sp_toklist *t, int32_t *in, int32_t *tg,
			sp_dataset *d)
{
	size_t n = t->n;
	int rc;
	for (size_t k = 0; k < n; k++)
		if ((rc = encode_token(j, t->buf + t->off[k], t->tlen[k], &in[k])) < 0)
			return sp_err_prefix(j->ctx, rc, "%s:%zu", path, sp_corpus_line(c, i));
	if (n == 0)
		return SP_OK;
	if ((rc = note_rare(j, d, t, in, n)) < 0)
		return rc;
	if (j->st.task.labels == SP_LABELS_TOKEN) {
		size_t nl;
		const char *const *tags = sp_corpus_labels(c, i, &nl);
		for (size_t k = 0; k < n; k++)
			if ((rc = label_id(j, c, path, i, k, tags[k], &tg[k])) < 0)
				return rc;
		if ((rc = sp_dataset_add(d, j->ctx, in, n, tg, n)) < 0)
			return rc;
		return sp_dataset_add_chars(d, j, t, 0, n);
	}
	if ((rc = label_id(j, c, path, i, 0, sp_corpus_label(c, i), &tg[0])) < 0 ||
	    (rc = sp_dataset_add(d, j->ctx, in, n, tg, 1)) < 0)
		return rc;
	return sp_dataset_add_chars(d, j, t, 0, n);
}

/* Encodes corpus c into d (the vocabulary and labels exist). */
static int encode_split(sp_job *j, const sp_corpus *c, const char *path, sp_dataset *d)
{
	sp_toklist t = {0};
	int32_t *in = NULL, *tg = NULL;
	size_t cap = 0;
	int rc = SP_OK;
	t.ctx = j->ctx;
	d->path = path;
	for (size_t i = 0; i < sp_corpus_count(c); i++) {
		if ((rc = example_tokens(j, c, path, i, &t)) < 0)
			goto done;
		if (t.n + 2 > cap) {
			int32_t *a, *b;
			cap = 2 * (t.n + 2);
			if (!(a = realloc(in, cap * sizeof(*a)))) {
				rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
				goto done;
			}
			in = a;
			if (!(b = realloc(tg, cap * sizeof(*b)))) {
				rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
				goto done;
			}
			tg = b;
		}
		rc = sp_task_next_token(&j->st.task)
			     ? add_next_token(j, c, path, i, &t, in, tg, d)
			     : add_labelled(j, c, path, i, &t, in, tg, d);
		if (rc < 0)
			goto done;
	}
done:
	free(in);
	free(tg);
	sp_toklist_fini(&t);
	return rc;
}

/* Every token of the training split through the encoder's observe, then
 * a new vocabulary from its finish, attached. */
static int observe_vocab(sp_job *j, const sp_corpus *train, sp_toklist *t)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	int rc = SP_OK;
	for (size_t i = 0; i < sp_corpus_count(train) && rc >= 0; i++) {
		rc = example_tokens(j, train, sp_kv_str(j->cfg.kv_data, "train"), i, t);
		for (size_t k = 0; k < t->n && rc >= 0; k++)
			rc = enc->observe(j->st.enc.self, j->ctx, t->buf + t->off[k], t->tlen[k]);
	}
	if (rc >= 0 && (rc = sp_vocab_new(&j->data.vocab)) < 0)
		rc = sp_err(j->ctx, rc, "vocabulary: out of memory");
	if (rc >= 0 && (rc = enc->finish(j->st.enc.self, j->ctx, j->data.vocab)) >= 0)
		rc = enc->attach(j->st.enc.self, j->ctx, j->data.vocab);
	return rc;
}

/* labels: every label of the training split, most frequent first (those
 * only dev or test has join while they are encoded: label_id); a
 * language model's labels are its vocabulary. */
static int build_labels(sp_job *j, const sp_corpus *train)
{
	sp_vocab_counter *cnt;
	int rc;
	if (j->st.task.labels != SP_LABELS_TOKEN && j->st.task.labels != SP_LABELS_TEXT) {
		if ((rc = sp_vocab_clone(&j->data.labels, j->data.vocab)) < 0)
			rc = sp_err(j->ctx, rc, "labels: out of memory");
		return rc;
	}
	if ((rc = sp_vocab_counter_new(&cnt)) < 0)
		return sp_err(j->ctx, rc, "labels: out of memory");
	for (size_t i = 0; i < sp_corpus_count(train) && rc >= 0; i++) {
		size_t nl = 1;
		const char *one = NULL;
		const char *const *labels = j->st.task.labels == SP_LABELS_TOKEN
			? sp_corpus_labels(train, i, &nl) : NULL;
		if (!labels) {
			one = sp_corpus_label(train, i);
			labels = &one;
		}
		for (size_t k = 0; k < nl && rc >= 0; k++)
			rc = sp_vocab_counter_add(cnt, j->ctx, labels[k], strlen(labels[k]));
	}
	if (rc >= 0)
		rc = sp_vocab_build(&j->data.labels, j->ctx, cnt, 1, 0, NULL, 0);
	sp_vocab_counter_free(cnt);
	return rc;
}

/* Builds the vocabulary (or loads it, reuse = true) and the label set from
 * the training split, and stores the vocabulary under its name. */
static int build_vocabularies(sp_job *j, const sp_corpus *train)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	const char *vname = sp_kv_str(j->st.enc.kv, "vocab");
	const char *store = j->opts->vocab_db ? j->opts->vocab_db : sp_kv_str(j->st.enc.kv, "store");
	sp_toklist t = {0};
	int rc;
	t.ctx = j->ctx;
	if (!vname || !*vname)
		vname = j->cfg.name;
	if (sp_kv_bool(j->st.enc.kv, "reuse")) {
		rc = sp_vocab_load(&j->data.vocab, j->ctx, store, vname);
		if (rc < 0)
			return sp_err_prefix(j->ctx, rc, "%s", sp_kv_where(j->st.enc.kv, "reuse"));
		rc = enc->attach(j->st.enc.self, j->ctx, j->data.vocab);
		if (rc < 0)
			return rc;
	} else {
		rc = observe_vocab(j, train, &t);
		sp_toklist_fini(&t);
		/* data-parallel: every rank builds it alike, rank 0 stores it */
		if (rc < 0 || (sp_dist_writer(j->dist) &&
			       (rc = sp_vocab_save(j->data.vocab, j->ctx, store, vname)) < 0))
			return rc;
	}
	if (sp_vocab_size(j->data.vocab) == 0)
		return sp_err(j->ctx, SP_EINPUT, "%s: the training split gives an empty vocabulary",
			      sp_kv_str(j->cfg.kv_data, "train"));
	return build_labels(j, train);
}

int sp_splits_vocab_unsaved(sp_job *j, sp_toklist *t)
{
	sp_corpus *train = NULL;
	int rc;
	t->ctx = j->ctx;
	if ((rc = sp_splits_read(j, "train", &train)) < 0)
		return rc;
	rc = sp_job_create_text_stages(j);
	if (rc >= 0)
		rc = observe_vocab(j, train, t);
	if (rc >= 0 && sp_task_next_token(&j->st.task) &&
	    (rc = sp_vocab_clone(&j->data.labels, j->data.vocab)) < 0)
		rc = sp_err(j->ctx, rc, "labels: out of memory");
	else if (rc >= 0 && !sp_task_next_token(&j->st.task))
		rc = sp_err(j->ctx, SP_EINVAL, "trace with initial weights works for language models; for head '%s' use --trained",
			    j->st.head.comp->name);
	sp_corpus_free(train);
	return rc;
}

int sp_splits_read_and_encode(sp_job *j)
{
	sp_corpus *train = NULL, *dev = NULL, *test = NULL;
	int rc;
	if (j->st.task.labels == SP_LABELS_SEQUENCE)
		return sp_splits_seq_read_and_encode(j);
	if ((rc = sp_splits_read(j, "train", &train)) < 0 ||
	    (rc = sp_splits_read(j, "dev", &dev)) < 0 ||
	    (rc = sp_splits_read(j, "test", &test)) < 0)
		goto done;
	if ((rc = sp_job_create_text_stages(j)) < 0)
		goto done;
	if (j->data.vocab) /* resuming: the checkpoint's vocabulary and labels */
		rc = ((const sp_encoder_ops *)j->st.enc.comp)->attach(j->st.enc.self, j->ctx, j->data.vocab);
	else
		rc = build_vocabularies(j, train);
	if (rc < 0)
		goto done;
	/* the head's outputs: the labels known before dev and test are read */
	j->data.n_known = sp_vocab_size(j->data.labels);
	if ((rc = encode_split(j, train, sp_kv_str(j->cfg.kv_data, "train"), &j->data.train)) < 0 ||
	    (dev && (rc = encode_split(j, dev, sp_kv_str(j->cfg.kv_data, "dev"), &j->data.dev)) < 0) ||
	    (test && (rc = encode_split(j, test, sp_kv_str(j->cfg.kv_data, "test"), &j->data.test)) < 0))
		goto done;
	if (j->data.train.n == 0)
		rc = sp_err(j->ctx, SP_EINPUT, "%s: no training examples, expected at least one",
			    sp_kv_where(j->cfg.kv_data, "train"));
done:
	sp_corpus_free(train);
	sp_corpus_free(dev);
	sp_corpus_free(test);
	return rc;
}


int sp_splits_encode_input(sp_job *j, const char *text, int32_t **out, size_t *n_out,
			   sp_toklist *t)
{
	int32_t *ids;
	size_t m = 0;
	int32_t bos = sp_vocab_special(j->data.vocab, SP_SPECIAL_BOS);
	int rc;
	t->ctx = j->ctx;
	toklist_clear(t);
	if (j->st.has_tok)
		rc = ((const sp_tokenizer_ops *)j->st.tok.comp)->tokenize(j->st.tok.self, j->ctx, text, strlen(text), sp_toklist_push, t);
	else {
		/* conll pipelines: the input is split at white space */
		const char *p = text;
		rc = SP_OK;
		while (*p && rc >= 0) {
			size_t n;
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			n = strcspn(p, " \t\r\n");
			if (n)
				rc = sp_toklist_push(t, p, n, (size_t)(p - text));
			p += n;
		}
	}
	if (rc < 0)
		return sp_err_prefix(j->ctx, rc, "--input");
	ids = malloc((t->n + 2) * sizeof(*ids));
	if (!ids)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	if (sp_task_next_token(&j->st.task) && bos >= 0)
		ids[m++] = bos;
	for (size_t k = 0; k < t->n; k++) {
		rc = encode_token(j, t->buf + t->off[k], t->tlen[k], &ids[m++]);
		if (rc < 0) {
			free(ids);
			return sp_err_prefix(j->ctx, rc, "--input");
		}
	}
	if (m == 0) {
		free(ids);
		return sp_err(j->ctx, SP_EINVAL, "--input: no tokens in '%s', expected some text", text);
	}
	*out = ids;
	*n_out = m;
	return SP_OK;
}
