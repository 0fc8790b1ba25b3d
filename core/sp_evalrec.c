/*
 * sp_evalrec.c: the confusion matrix and sample predictions of a final
 * evaluation (see sp_evalrec.h).
 */
#include "config.h"

#include "sp_evalrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_vocab.h"

/* A sample's texts: space-separated tokens, cut to this many bytes. */
#define SAMPLE_MAX 2048

typedef struct sample_ {
	char *input, *gold, *pred;
} sample_;

struct sp_evalrec {
	const sp_vocab *vocab, *labels;
	int per_token;           /* tags (else one class per sequence) */
	size_t K;                /* labels */
	int64_t *count;          /* (K, K): gold row, predicted column */
	int32_t *pred;           /* (T, B) best label of the last batch */
	size_t cap_pred, T, B;
	sample_ *samples;
	size_t n_samples, want_samples;
};

int sp_evalrec_new(sp_evalrec **out, sp_ctx *ctx, const sp_task *task,
		   const sp_vocab *vocab, const sp_vocab *labels,
		   size_t n_samples)
{
	sp_evalrec *r;
	size_t K;
	*out = NULL;
	if (!labels || !(task->labels == SP_LABELS_TEXT ||
			 task->labels == SP_LABELS_TOKEN))
		return SP_OK;
	K = sp_vocab_size(labels);
	if (!K || K > 4096)      /* a matrix people can read; 16M cells max */
		return SP_OK;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->count = calloc(K * K + 1, sizeof(*r->count))) ||
	    (n_samples && !(r->samples = calloc(n_samples, sizeof(*r->samples))))) {
		sp_evalrec_free(r);
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	}
	r->vocab = vocab;
	r->labels = labels;
	r->per_token = task->labels == SP_LABELS_TOKEN;
	r->K = K;
	r->want_samples = n_samples;
	*out = r;
	return SP_OK;
}

/* sp_pred_fn: the best label (k = 0) of position (t, b). */
static int take_(void *payload, size_t t, size_t b, size_t k, int32_t id,
		 float p)
{
	sp_evalrec *r = payload;
	(void)p;
	if (k == 0 && t < r->T && b < r->B)
		r->pred[t * r->B + b] = id;
	return 0;
}

/* Appends s (or "?" for NULL) to buf[*len..cap), space-separated. */
static void put_(char *buf, size_t *len, size_t cap, const char *s)
{
	int w = snprintf(buf + *len, cap - *len, "%s%s", *len ? " " : "",
			 s ? s : "?");
	if (w > 0)
		*len = *len + (size_t)w < cap ? *len + (size_t)w : cap - 1;
}

/* Example e of d as row k of b: its tokens, gold and predicted labels. */
static int keep_sample_(sp_evalrec *r, sp_ctx *ctx, const sp_dataset *d,
			size_t e, size_t k, const sp_batch *b)
{
	char in[SAMPLE_MAX], gold[SAMPLE_MAX], pred[SAMPLE_MAX];
	size_t ni = 0, ng = 0, np = 0, Ty = b->y.T, B = b->y.B;
	sample_ *s = &r->samples[r->n_samples];
	in[0] = gold[0] = pred[0] = '\0';
	for (int32_t t = 0; t < d->in_len[e]; t++)
		put_(in, &ni, sizeof(in), sp_vocab_token(r->vocab,
							 d->ids[d->in_off[e] + t]));
	for (size_t t = 0; t < Ty; t++) {
		int32_t g = b->y.id[t * B + k];
		if ((b->y.mask && !b->y.mask[t * B + k]) || g < 0)
			continue;
		put_(gold, &ng, sizeof(gold), sp_vocab_token(r->labels, g));
		put_(pred, &np, sizeof(pred),
		     sp_vocab_token(r->labels, r->pred[t * B + k]));
	}
	s->input = strdup(in);
	s->gold = strdup(gold);
	s->pred = strdup(pred);
	if (!s->input || !s->gold || !s->pred) {
		free(s->input);
		free(s->gold);
		free(s->pred);
		memset(s, 0, sizeof(*s));
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	}
	r->n_samples++;
	return SP_OK;
}

int sp_evalrec_batch(sp_evalrec *r, sp_ctx *ctx, const sp_head_ops *h,
		     void *head, const sp_dataset *d, const size_t *idx,
		     const sp_batch *b)
{
	size_t Ty = b->y.T, B = b->y.B;
	int rc;
	if (!r || !h->predict)
		return SP_OK;
	if (Ty * B > r->cap_pred) {
		int32_t *p = realloc(r->pred, Ty * B * sizeof(*p));
		if (!p)
			return sp_err(ctx, SP_ENOMEM, "out of memory");
		r->pred = p;
		r->cap_pred = Ty * B;
	}
	r->T = Ty;
	r->B = B;
	for (size_t i = 0; i < Ty * B; i++)
		r->pred[i] = -1;
	if ((rc = h->predict(head, ctx, 1, take_, r)) < 0)
		return rc;
	for (size_t i = 0; i < Ty * B; i++) {
		int32_t g = b->y.id[i], p = r->pred[i];
		if ((b->y.mask && !b->y.mask[i]) || g < 0 || p < 0 ||
		    (size_t)g >= r->K || (size_t)p >= r->K)
			continue;
		r->count[(size_t)g * r->K + (size_t)p]++;
	}
	for (size_t k = 0; k < B && r->n_samples < r->want_samples; k++)
		if ((rc = keep_sample_(r, ctx, d, idx[k], k, b)) < 0)
			return rc;
	return SP_OK;
}

int sp_evalrec_emit(const sp_evalrec *r, sp_ctx *ctx, const sp_observer_ref *o,
		    int64_t epoch, const char *split)
{
	int rc;
	if (!r)
		return SP_OK;
	for (size_t g = 0; g < r->K; g++)
		for (size_t p = 0; p < r->K; p++) {
			int64_t c = r->count[g * r->K + p];
			if (c && (rc = sp_observe_confusion(
					  o, ctx, epoch, split,
					  sp_vocab_token(r->labels, (int32_t)g),
					  sp_vocab_token(r->labels, (int32_t)p),
					  c)) < 0)
				return rc;
		}
	for (size_t i = 0; i < r->n_samples; i++)
		if ((rc = sp_observe_sample(o, ctx, epoch, split,
					    r->samples[i].input,
					    r->samples[i].gold,
					    r->samples[i].pred)) < 0)
			return rc;
	return SP_OK;
}

int64_t sp_evalrec_count(const sp_evalrec *r, int32_t gold, int32_t pred)
{
	if (!r || gold < 0 || pred < 0 || (size_t)gold >= r->K ||
	    (size_t)pred >= r->K)
		return 0;
	return r->count[(size_t)gold * r->K + (size_t)pred];
}

int64_t *sp_evalrec_cells(sp_evalrec *r, size_t *n)
{
	*n = r->K * r->K;
	return r->count;
}

void sp_evalrec_free(sp_evalrec *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_samples; i++) {
		free(r->samples[i].input);
		free(r->samples[i].gold);
		free(r->samples[i].pred);
	}
	free(r->samples);
	free(r->count);
	free(r->pred);
	free(r);
}
