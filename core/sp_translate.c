/*
 * sp_translate.c: decoding text with a trained encoder-decoder, and
 * scoring it (see sp_translate.h).
 */
#include "config.h"

#include "sp_translate.h"

#include <stdlib.h>
#include <string.h>

#include "sp_bleu.h"
#include "sp_checkpoint.h"
#include "sp_chrf.h"
#include "sp_job.h"
#include "sp_report.h"
#include "sp_splits_seq.h"

/* One batch being decoded: where its outputs go. */
typedef struct gen_batch {
	sp_job *j;
	size_t first;             /* index of row 0 among all texts */
	sp_toklist *src;          /* (B) source tokens, for the attention file */
	FILE *att;
	sp_translate_fn out;
	void *payload;
	sp_buf text;
} gen_batch;

/* The attention of one sentence: a line of source tokens, then one line
 * per output token with its weight on each source token. */
static void write_attention(gen_batch *g, size_t b, const int32_t *ids, size_t n,
			    const float *attn, size_t S)
{
	const sp_toklist *t = &g->src[b];
	fprintf(g->att, "# sentence %zu\nsource", g->first + b + 1);
	for (size_t k = 0; k < t->n; k++)
		fprintf(g->att, "\t%s", t->buf + t->off[k]);
	fputc('\n', g->att);
	for (size_t k = 0; k < n; k++) {
		const char *tok = sp_vocab_token(g->j->data.labels, ids[k]);
		fputs(tok ? tok : "?", g->att);
		for (size_t s = 0; s < S; s++)
			fprintf(g->att, "\t%.4f", attn[k * S + s]);
		fputc('\n', g->att);
	}
	fputc('\n', g->att);
}

static int on_output(void *payload, size_t b, const int32_t *ids, size_t n, double score,
		     const float *attn, size_t S)
{
	gen_batch *g = payload;
	int rc;
	(void)score;
	sp_buf_clear(&g->text);
	if ((rc = sp_splits_seq_detok(g->j, ids, n, &g->text)) < 0)
		return rc;
	if (g->att && attn)
		write_attention(g, b, ids, n, attn, S);
	return g->out(g->payload, g->first + b, g->text.p ? g->text.p : "", g->text.len);
}

/* Source text i into ids (at least one step: an empty text reads as
 * <eos>, or id 0). */
static int encode_source(sp_job *j, const char *text, size_t i, sp_toklist *t, int32_t **ids,
			 size_t *cap, size_t *n)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	char where[64];
	int rc;
	snprintf(where, sizeof(where), "input %zu", i + 1);
	if ((rc = sp_splits_seq_tokens(j, text, strlen(text), t, where)) < 0)
		return rc;
	if (t->n + 1 > *cap) {
		int32_t *a = realloc(*ids, 2 * (t->n + 1) * sizeof(*a));
		if (!a)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		*ids = a;
		*cap = 2 * (t->n + 1);
	}
	for (size_t k = 0; k < t->n; k++)
		if ((rc = enc->encode(j->st.enc.self, j->ctx, t->buf + t->off[k], t->tlen[k], &(*ids)[k])) < 0)
			return sp_err_prefix(j->ctx, rc, "%s", where);
	*n = t->n;
	if (*n == 0) {
		int32_t eos = sp_vocab_special(j->data.vocab, SP_SPECIAL_EOS);
		(*ids)[(*n)++] = eos >= 0 ? eos : 0;
	}
	return SP_OK;
}

/* Texts [s, s+B) as one batch through the model and generate. */
static int translate_batch(sp_job *j, const char *const *texts, size_t s, size_t B,
			   const sp_gen_opts *go, gen_batch *g, size_t *idx)
{
	sp_dataset d;
	int32_t *ids = NULL;
	size_t cap = 0, n = 0;
	sp_batch b;
	sp_seq y;
	int rc = SP_OK;
	memset(&d, 0, sizeof(d));
	for (size_t k = 0; k < B && rc >= 0; k++) {
		g->src[k].ctx = j->ctx;
		if ((rc = encode_source(j, texts[s + k], s + k, &g->src[k], &ids, &cap, &n)) >= 0)
			rc = sp_dataset_add(&d, j->ctx, ids, n, ids, 0);
		idx[k] = k;
	}
	g->first = s;
	if (rc >= 0)
		rc = sp_batch_make(&j->buf, j->ctx, &d, idx, B, &b);
	if (rc >= 0)
		rc = sp_model_of(&j->st)->forward(j->st.model.self, j->ctx, &b.x, &y, 0);
	if (rc >= 0)
		rc = sp_head_of(&j->st)->generate(j->st.head.self, j->ctx, &y, go, on_output, g);
	free(ids);
	sp_dataset_fini(&d);
	return rc;
}

int sp_translate_texts(sp_job *j, const char *const *texts, size_t n,
		       const sp_translate_opts *o, FILE *att, sp_translate_fn out,
		       void *payload)
{
	const sp_head_ops *h = sp_head_of(&j->st);
	size_t bs = (size_t)sp_kv_int(j->cfg.kv_train, "batch");
	sp_gen_opts go;
	gen_batch g;
	size_t *idx;
	int rc = SP_OK;
	if (!SP_HAS_OP(sp_head_ops, h, generate))
		return sp_err(j->ctx, SP_EINVAL, "head '%s' cannot generate target sequences",
			      j->st.head.comp->name);
	if (bs == 0)
		bs = 32;
	memset(&go, 0, sizeof(go));
	go.size = sizeof(go);
	go.beam = o ? o->beam : 0;
	go.max_ratio = o ? o->max_ratio : 0;
	go.attention = att != NULL;
	memset(&g, 0, sizeof(g));
	g.j = j;
	g.att = att;
	g.out = out;
	g.payload = payload;
	g.src = calloc(bs, sizeof(*g.src));
	idx = malloc(bs * sizeof(*idx));
	if (!g.src || !idx)
		rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
	for (size_t s = 0; s < n && rc >= 0; s += bs)
		rc = translate_batch(j, texts, s, n - s < bs ? n - s : bs, &go, &g, idx);
	for (size_t k = 0; g.src && k < bs; k++)
		sp_toklist_fini(&g.src[k]);
	free(g.src);
	free(idx);
	sp_buf_free(&g.text);
	return rc;
}

/* ---- pipeline translate ------------------------------------------------ */

static int print_line(void *payload, size_t i, const char *out, size_t len)
{
	(void)i;
	fwrite(out, 1, len, (FILE *)payload);
	fputc('\n', (FILE *)payload);
	return 0;
}

/* Every line of path ("-" = standard input), without its line end. */
static int read_lines(sp_ctx *ctx, const char *path, char ***out, size_t *n_out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, **v = NULL;
	size_t cap = 0, n = 0, vcap = 0;
	ssize_t got;
	int nomem = 0;
	if (!f)
		return sp_err(ctx, SP_EIO, "%s: cannot open", path);
	while (!nomem && (got = getline(&line, &cap, f)) >= 0) {
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (n == vcap) {
			char **a = realloc(v, (vcap ? 2 * vcap : 64) * sizeof(*a));
			nomem = !a;
			if (a) {
				v = a;
				vcap = vcap ? 2 * vcap : 64;
			}
		}
		if (!nomem && !(v[n] = strdup(line)))
			nomem = 1;
		n += !nomem;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	*out = v;
	*n_out = n;
	return nomem ? sp_err(ctx, SP_ENOMEM, "out of memory reading %s", path) : SP_OK;
}

int sp_runner_translate(sp_ctx *ctx, sp_registry *reg, const char *pipe_path,
			const sp_runner_opts *opts, const sp_translate_opts *to)
{
	sp_job j;
	char path[4096];
	char **lines = NULL;
	const char *one[1];
	size_t n = 0;
	FILE *att = NULL;
	FILE *out = opts->out ? opts->out : stdout;
	int rc;
	sp_job_init(&j, ctx, reg, opts);
	if ((rc = sp_checkpoint_find_model(&j, pipe_path, path, sizeof(path))) < 0 ||
	    (rc = sp_checkpoint_load_job(&j, path, opts->overrides, opts->n_overrides)) < 0)
		goto done;
	if (j.st.task.labels != SP_LABELS_SEQUENCE) {
		rc = sp_err(ctx, SP_EINVAL, "%s: head '%s' does not translate, expected a pipeline with format = parallel",
			    pipe_path, j.st.head.comp->name);
		goto done;
	}
	if (to->attention && !(att = fopen(to->attention, "w"))) {
		rc = sp_err(ctx, SP_EIO, "%s: cannot write the attention file", to->attention);
		goto done;
	}
	if (opts->input_file) {
		if ((rc = read_lines(ctx, opts->input_file, &lines, &n)) < 0)
			goto done;
		rc = sp_translate_texts(&j, (const char *const *)lines, n, to, att, print_line, out);
	} else {
		one[0] = opts->input;
		rc = sp_translate_texts(&j, one, 1, to, att, print_line, out);
	}
done:
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	if (att)
		fclose(att);
	sp_job_fini(&j);
	return rc;
}

/* ---- scores ------------------------------------------------------------- */

typedef struct hyps {
	char **s;
	size_t *len;
	sp_ctx *ctx;
} hyps;

static int keep_hyp(void *payload, size_t i, const char *out, size_t len)
{
	hyps *h = payload;
	h->s[i] = malloc(len + 1);
	if (!h->s[i])
		return sp_err(h->ctx, SP_ENOMEM, "out of memory");
	memcpy(h->s[i], out, len);
	h->s[i][len] = '\0';
	h->len[i] = len;
	return 0;
}

/* BLEU (sacreBLEU's), chrF2 and the tokenized lowercased BLEU of hyps
 * against the references of p, printed. */
static int score_print(sp_job *j, const char *split, const sp_corpus *p, const hyps *h,
		       const sp_translate_opts *o)
{
	sp_bleu_opts bo, lo;
	sp_chrf_opts co;
	sp_bleu *b = NULL, *l = NULL;
	sp_chrf *c = NULL;
	sp_bleu_stats bs, ls;
	sp_chrf_stats cs;
	sp_bleu_score bleu, legacy;
	char line[256], sig[160];
	int rc;
	memset(&bs, 0, sizeof(bs));
	memset(&ls, 0, sizeof(ls));
	memset(&cs, 0, sizeof(cs));
	sp_bleu_opts_init(&bo);
	sp_bleu_opts_init(&lo);
	lo.lowercase = 1;
	lo.smooth = SP_BLEU_SMOOTH_NONE;
	sp_chrf_opts_init(&co);
	if ((rc = sp_bleu_new(&b, j->ctx, &bo)) < 0 || (rc = sp_bleu_new(&l, j->ctx, &lo)) < 0 ||
	    (rc = sp_chrf_new(&c, j->ctx, &co)) < 0)
		goto done;
	for (size_t i = 0; i < sp_corpus_count(p); i++) {
		size_t rn;
		const char *ref = sp_corpus_target(p, i, &rn);
		if ((rc = sp_bleu_add(b, j->ctx, h->s[i], h->len[i], ref, rn, &bs)) < 0 ||
		    (rc = sp_bleu_add(l, j->ctx, h->s[i], h->len[i], ref, rn, &ls)) < 0 ||
		    (rc = sp_chrf_add(c, j->ctx, h->s[i], h->len[i], ref, rn, &cs)) < 0)
			goto done;
	}
	sp_bleu_compute(&bo, &bs, &bleu);
	sp_bleu_compute(&lo, &ls, &legacy);
	if (o && o->beam)
		sp_say(j->out, "%s: %zu sentences, beam %zu%s\n", split, sp_corpus_count(p),
		       o->beam, o->beam == 1 ? " (greedy)" : "");
	else
		sp_say(j->out, "%s: %zu sentences, the head's beam\n", split, sp_corpus_count(p));
	sp_bleu_format(&bleu, line, sizeof(line));
	sp_bleu_signature(&bo, sig, sizeof(sig));
	sp_say(j->out, "  %s\n    signature: %s\n", line, sig);
	sp_chrf_signature(&co, sig, sizeof(sig));
	sp_say(j->out, "  chrF2 = %.2f\n    signature: %s\n", sp_chrf_compute(&co, &cs), sig);
	sp_bleu_format(&legacy, line, sizeof(line));
	sp_bleu_signature(&lo, sig, sizeof(sig));
	sp_say(j->out, "  tokenized lowercased %s\n    (13a tokens, lowercased, no smoothing: for comparison with older papers, not with sacreBLEU)\n    signature: %s\n",
	       line, sig);
done:
	sp_bleu_free(b);
	sp_bleu_free(l);
	sp_chrf_free(c);
	return rc;
}

static int score_split(sp_job *j, const char *key, const sp_translate_opts *o)
{
	sp_corpus *p = NULL;
	const char **src = NULL;
	hyps h = {NULL, NULL, j->ctx};
	size_t n = 0;
	int rc = sp_splits_seq_read(j, key, &p);
	if (rc < 0 || !p)
		return rc;
	n = sp_corpus_count(p);
	src = calloc(n + 1, sizeof(*src));
	h.s = calloc(n + 1, sizeof(*h.s));
	h.len = calloc(n + 1, sizeof(*h.len));
	if (!src || !h.s || !h.len) {
		rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		src[i] = sp_corpus_text(p, i, NULL);
	if ((rc = sp_translate_texts(j, src, n, o, NULL, keep_hyp, &h)) >= 0)
		rc = score_print(j, key, p, &h, o);
done:
	for (size_t i = 0; h.s && i < n; i++)
		free(h.s[i]);
	free(h.s);
	free(h.len);
	free(src);
	sp_corpus_free(p);
	return rc;
}

int sp_translate_score_splits(sp_job *j, const sp_translate_opts *o)
{
	int rc = score_split(j, "dev", o);
	return rc < 0 ? rc : score_split(j, "test", o);
}
