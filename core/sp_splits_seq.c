/*
 * sp_splits_seq.c: parallel splits read, split into tokens or byte-pair
 * pieces, and encoded against the source and target vocabularies (see
 * sp_splits_seq.h).
 */
#include "config.h"

#include "sp_splits_seq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bpe.h"
#include "sp_job.h"
#include "sp_report.h"

static const char *data_str(sp_job *j, const char *key)
{
	return sp_kv_str(j->cfg.kv_data, key);
}

int sp_splits_seq_read(sp_job *j, const char *key, sp_corpus **out)
{
	int rc = sp_splits_read(j, key, out);
	if (rc >= 0 && *out && !(sp_corpus_fields(*out) & SP_FIELD_TARGET)) {
		rc = sp_err(j->ctx, SP_EINVAL, "%s: data.format = %s gives no translation of each text, expected a reader of text pairs such as parallel",
			    sp_kv_where(j->cfg.kv_data, key), sp_corpus_format_name(*out));
		sp_corpus_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Pushes the space-separated pieces of p[0..n) into t. */
static int push_pieces(sp_toklist *t, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k;
		while (i < n && p[i] == ' ')
			i++;
		for (k = i; k < n && p[k] != ' '; k++)
			;
		if (k > i) {
			int rc = sp_toklist_push(t, p + i, k - i, i);
			if (rc < 0)
				return rc;
		}
		i = k;
	}
	return SP_OK;
}

int sp_splits_seq_tokens(sp_job *j, const char *text, size_t len, sp_toklist *t,
			 const char *where)
{
	int rc;
	t->ctx = j->ctx;
	t->n = 0;
	t->len = 0;
	if (j->data.bpe) {
		sp_buf pieces = {0};
		rc = sp_bpe_encode(j->data.bpe, j->ctx, text, len, &pieces);
		if (rc >= 0)
			rc = push_pieces(t, pieces.p ? pieces.p : "", pieces.len);
		sp_buf_free(&pieces);
	} else if (j->st.has_tok) {
		rc = ((const sp_tokenizer_ops *)j->st.tok.comp)
			     ->tokenize(j->st.tok.self, j->ctx, text, len, sp_toklist_push, t);
	} else {
		rc = sp_err(j->ctx, SP_EINVAL, "no tokenizer and no byte-pair merges");
	}
	return rc < 0 ? sp_err_prefix(j->ctx, rc, "%s", where) : SP_OK;
}

/* Byte-pair merges learned from both sides of the training split. */
static int learn_bpe(sp_job *j, const sp_corpus *train)
{
	size_t n = sp_corpus_count(train);
	const char **texts = malloc(2 * (n ? n : 1) * sizeof(*texts));
	size_t *lens = malloc(2 * (n ? n : 1) * sizeof(*lens));
	sp_bpe_opts o;
	int rc;
	if (!texts || !lens) {
		free(texts);
		free(lens);
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		texts[2 * i] = sp_corpus_text(train, i, &lens[2 * i]);
		texts[2 * i + 1] = sp_corpus_target(train, i, &lens[2 * i + 1]);
	}
	sp_bpe_opts_init(&o);
	o.merges = (size_t)sp_kv_int(j->st.enc.kv, "bpe");
	o.min_count = sp_kv_int(j->st.enc.kv, "bpe_min_count");
	rc = sp_bpe_learn(&j->data.bpe, j->ctx, texts, lens, 2 * n, &o);
	free(texts);
	free(lens);
	if (rc < 0)
		return sp_err_prefix(j->ctx, rc, "%s: encode.bpe", data_str(j, "train"));
	sp_say(j->out, "bpe: %zu merges learned from the training split\n",
	       sp_bpe_n_merges(j->data.bpe));
	return SP_OK;
}

/* Observes side `side` (0 source, 1 target) of every training pair. */
static int observe_side(sp_job *j, const sp_encoder_ops *enc, void *self,
			const sp_corpus *train, int side, sp_toklist *t)
{
	int rc = SP_OK;
	for (size_t i = 0; i < sp_corpus_count(train) && rc >= 0; i++) {
		size_t len;
		const char *s = side ? sp_corpus_target(train, i, &len) : sp_corpus_text(train, i, &len);
		char where[512];
		snprintf(where, sizeof(where), "%s:%zu", data_str(j, "train"), sp_corpus_line(train, i));
		rc = sp_splits_seq_tokens(j, s, len, t, where);
		for (size_t k = 0; k < t->n && rc >= 0; k++)
			rc = enc->observe(self, j->ctx, t->buf + t->off[k], t->tlen[k]);
	}
	return rc;
}

/* The target vocabulary from a second instance of the encoder. */
static int build_target_vocab(sp_job *j, const sp_corpus *train, sp_toklist *t,
			      const char *store, const char *vname)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	void *self = NULL;
	char name[1024];
	int rc = enc->create(&self, j->ctx, j->st.enc.kv);
	if (rc >= 0)
		rc = observe_side(j, enc, self, train, 1, t);
	if (rc >= 0 && (rc = sp_vocab_new(&j->data.labels)) < 0)
		rc = sp_err(j->ctx, rc, "target vocabulary: out of memory");
	if (rc >= 0)
		rc = enc->finish(self, j->ctx, j->data.labels);
	if (self)
		enc->destroy(self);
	snprintf(name, sizeof(name), "%s.target", vname);
	if (rc >= 0)
		rc = sp_vocab_save(j->data.labels, j->ctx, store, name);
	return rc;
}

/* Source (and shared) vocabulary from the training split, or the stored
 * ones (encode.reuse); then the encoder attached to the source one. */
static int build_vocabs(sp_job *j, const sp_corpus *train)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	const char *vname = sp_kv_str(j->st.enc.kv, "vocab");
	const char *store = j->opts->vocab_db ? j->opts->vocab_db : sp_kv_str(j->st.enc.kv, "store");
	int shared = sp_kv_bool(j->st.enc.kv, "shared");
	sp_toklist t = {0};
	int rc;
	if (!vname || !*vname)
		vname = j->cfg.name;
	if (sp_kv_bool(j->st.enc.kv, "reuse")) {
		char name[1024];
		snprintf(name, sizeof(name), "%s.target", vname);
		if ((rc = sp_vocab_load(&j->data.vocab, j->ctx, store, vname)) < 0 ||
		    (!shared && (rc = sp_vocab_load(&j->data.labels, j->ctx, store, name)) < 0))
			return sp_err_prefix(j->ctx, rc, "%s", sp_kv_where(j->st.enc.kv, "reuse"));
	} else {
		rc = observe_side(j, enc, j->st.enc.self, train, 0, &t);
		if (rc >= 0 && shared)
			rc = observe_side(j, enc, j->st.enc.self, train, 1, &t);
		if (rc >= 0 && (rc = sp_vocab_new(&j->data.vocab)) < 0)
			rc = sp_err(j->ctx, rc, "vocabulary: out of memory");
		if (rc >= 0)
			rc = enc->finish(j->st.enc.self, j->ctx, j->data.vocab);
		if (rc >= 0)
			rc = sp_vocab_save(j->data.vocab, j->ctx, store, vname);
		if (rc >= 0 && !shared)
			rc = build_target_vocab(j, train, &t, store, vname);
		sp_toklist_fini(&t);
		if (rc < 0)
			return rc;
	}
	if (shared && (rc = sp_vocab_clone(&j->data.labels, j->data.vocab)) < 0)
		return sp_err(j->ctx, rc, "vocabulary: out of memory");
	if (sp_vocab_special(j->data.labels, SP_SPECIAL_EOS) < 0 ||
	    sp_vocab_special(j->data.labels, SP_SPECIAL_BOS) < 0)
		return sp_err(j->ctx, SP_EINVAL, "%s: the target vocabulary has no <bos> or <eos>, expected encode.specials to include bos and eos",
			      sp_kv_section_where(j->st.enc.kv));
	return enc->attach(j->st.enc.self, j->ctx, j->data.vocab);
}

/* Token -> id of v: the token's own, or <unk>, or an error. */
static int target_id(sp_job *j, const char *tok, size_t len, const char *where, int32_t *id)
{
	*id = sp_vocab_id(j->data.labels, tok, len);
	if (*id < 0)
		*id = sp_vocab_special(j->data.labels, SP_SPECIAL_UNK);
	if (*id < 0)
		return sp_err(j->ctx, SP_EINPUT, "%s: target token '%.*s' is not in the target vocabulary, which has no <unk>",
			      where, (int)len, tok);
	return SP_OK;
}

/* Growable id arrays of encode_pairs. */
typedef struct idbuf {
	int32_t *v;
	size_t cap;
} idbuf;

static int idbuf_fit(idbuf *b, sp_ctx *ctx, size_t n)
{
	if (n <= b->cap)
		return SP_OK;
	int32_t *v = realloc(b->v, 2 * n * sizeof(*v));
	if (!v)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	b->v = v;
	b->cap = 2 * n;
	return SP_OK;
}

/* Encodes one pair into in[0..*n_in) and tg[0..*n_tg) (tokens + <eos>). */
static int encode_pair(sp_job *j, const sp_corpus *p, size_t i, const char *path,
		       sp_toklist *t, idbuf *in, idbuf *tg, size_t *n_in, size_t *n_tg)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	char where[512];
	size_t len;
	const char *s;
	int rc;
	snprintf(where, sizeof(where), "%s:%zu", path, sp_corpus_line(p, i));
	s = sp_corpus_text(p, i, &len);
	if ((rc = sp_splits_seq_tokens(j, s, len, t, where)) < 0 ||
	    (rc = idbuf_fit(in, j->ctx, t->n + 1)) < 0)
		return rc;
	for (size_t k = 0; k < t->n; k++)
		if ((rc = enc->encode(j->st.enc.self, j->ctx, t->buf + t->off[k], t->tlen[k], &in->v[k])) < 0)
			return sp_err_prefix(j->ctx, rc, "%s", where);
	*n_in = t->n;
	s = sp_corpus_target(p, i, &len);
	if ((rc = sp_splits_seq_tokens(j, s, len, t, where)) < 0 ||
	    (rc = idbuf_fit(tg, j->ctx, t->n + 1)) < 0)
		return rc;
	for (size_t k = 0; k < t->n; k++)
		if ((rc = target_id(j, t->buf + t->off[k], t->tlen[k], where, &tg->v[k])) < 0)
			return rc;
	tg->v[t->n] = sp_vocab_special(j->data.labels, SP_SPECIAL_EOS);
	*n_tg = t->n + 1;
	return SP_OK;
}

/* Encodes every pair of p into d; training drops pairs with a side
 * longer than data.max_len tokens (0 = none), and pairs whose source
 * gives no token. */
static int encode_pairs(sp_job *j, const sp_corpus *p, const char *path, int training,
			sp_dataset *d)
{
	size_t max_len = (size_t)sp_kv_int(j->cfg.kv_data, "max_len");
	sp_toklist t = {0};
	idbuf in = {0}, tg = {0};
	size_t dropped = 0;
	int rc = SP_OK;
	d->path = path;
	for (size_t i = 0; i < sp_corpus_count(p) && rc >= 0; i++) {
		size_t n_in = 0, n_tg = 0;
		if ((rc = encode_pair(j, p, i, path, &t, &in, &tg, &n_in, &n_tg)) < 0)
			break;
		if (training && (n_in == 0 || (max_len && (n_in > max_len || n_tg - 1 > max_len)))) {
			dropped++;
			continue;
		}
		if (n_in == 0) /* an empty source still needs one step */
			in.v[n_in++] = sp_vocab_special(j->data.vocab, SP_SPECIAL_EOS) >= 0
					       ? sp_vocab_special(j->data.vocab, SP_SPECIAL_EOS) : 0;
		rc = sp_dataset_add(d, j->ctx, in.v, n_in, tg.v, n_tg);
	}
	if (rc >= 0 && dropped)
		sp_say(j->out, "note: %s: %zu training pairs left out (longer than data.max_len = %zu tokens, or no source token)\n",
		       path, dropped, max_len);
	free(in.v);
	free(tg.v);
	sp_toklist_fini(&t);
	return rc;
}

int sp_splits_seq_read_and_encode(sp_job *j)
{
	sp_corpus *sp[3] = {NULL, NULL, NULL};
	sp_dataset *ds[3] = {&j->data.train, &j->data.dev, &j->data.test};
	static const char *const keys[3] = {"train", "dev", "test"};
	int rc = SP_OK;
	for (int s = 0; s < 3 && rc >= 0; s++)
		rc = sp_splits_seq_read(j, keys[s], &sp[s]);
	if (rc >= 0)
		rc = sp_job_create_text_stages(j);
	if (rc >= 0 && !j->data.bpe && sp_kv_int(j->st.enc.kv, "bpe") > 0) {
		if (j->data.vocab) /* resuming or evaluating: the model's merges */
			rc = sp_err(j->ctx, SP_EINPUT, "the model file has no byte-pair merges, expected them for encode.bpe");
		else if (sp[0])
			rc = learn_bpe(j, sp[0]);
	}
	if (rc < 0)
		goto done;
	if (j->data.vocab) /* resuming or evaluating: the model's vocabularies */
		rc = ((const sp_encoder_ops *)j->st.enc.comp)->attach(j->st.enc.self, j->ctx, j->data.vocab);
	else if (sp[0])
		rc = build_vocabs(j, sp[0]);
	for (int s = 0; s < 3 && rc >= 0; s++)
		if (sp[s])
			rc = encode_pairs(j, sp[s], data_str(j, keys[s]), s == 0, ds[s]);
	if (rc >= 0 && j->data.train.n == 0 && sp[0])
		rc = sp_err(j->ctx, SP_EINPUT, "%s: no training pairs, expected at least one",
			    sp_kv_where(j->cfg.kv_data, "train"));
done:
	for (int s = 0; s < 3; s++)
		sp_corpus_free(sp[s]);
	return rc;
}

int sp_splits_seq_detok(sp_job *j, const int32_t *ids, size_t n, sp_buf *out)
{
	int32_t eos = sp_vocab_special(j->data.labels, SP_SPECIAL_EOS);
	sp_buf pieces = {0};
	int rc = SP_OK;
	for (size_t k = 0; k < n && ids[k] != eos && rc >= 0; k++) {
		const char *tok = sp_vocab_token(j->data.labels, ids[k]);
		int special = 0;
		for (int s = 0; s < SP_SPECIAL_N; s++)
			special |= ids[k] == sp_vocab_special(j->data.labels, (sp_special)s) &&
				   s != SP_SPECIAL_UNK;
		if (!tok || special)
			continue;
		if (pieces.len)
			rc = sp_buf_append(&pieces, j->ctx, " ", 1);
		if (rc >= 0)
			rc = sp_buf_append(&pieces, j->ctx, tok, strlen(tok));
	}
	if (rc >= 0 && pieces.len) {
		if (j->data.bpe)
			rc = sp_bpe_decode(j->ctx, pieces.p, pieces.len, out);
		else
			rc = sp_buf_append(out, j->ctx, pieces.p, pieces.len);
	}
	sp_buf_free(&pieces);
	return rc;
}

int sp_splits_seq_load_bpe(sp_job *j, const sp_modelfile *mf, const char *path)
{
	const char *text = sp_modelfile_meta(mf, "bpe");
	if (!text || !*text || j->data.bpe)
		return SP_OK;
	return sp_bpe_load(&j->data.bpe, j->ctx, text, strlen(text), path);
}

char *sp_splits_seq_bpe_text(sp_job *j)
{
	sp_buf b = {0};
	char *s;
	if (!j->data.bpe || sp_bpe_save(j->data.bpe, j->ctx, &b) < 0 ||
	    sp_buf_reserve(&b, j->ctx, 0) < 0) {
		sp_buf_free(&b);
		return NULL;
	}
	s = b.p; /* the buffer is NUL-terminated */
	return s;
}
