/*
 * sp_splits.h: the [data] splits read, tokenized and encoded into ids:
 * the vocabulary and the label set built from the training split, each
 * split as one array of ids with per-example offsets, and the encoding of
 * one input text (predict, trace).
 *
 * Host-only (not installed).
 */
#ifndef SP_SPLITS_H
#define SP_SPLITS_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_data.h"
#include "sp_tokchars.h"
#include "sp_unkrep.h"
#include "sp_vocab.h"

typedef struct sp_job sp_job;

/* One split, encoded: example i has input ids ids[in_off[i] ..
 * in_off[i]+in_len[i]) and targets ids[tg_off[i] .. +tg_len[i]]. */
typedef struct sp_dataset {
	size_t n, cap;
	size_t *in_off, *tg_off;
	int32_t *in_len, *tg_len;
	int32_t *ids;
	size_t n_ids, cap_ids;
	const char *path;        /* borrowed */
	sp_tokchars ch;          /* each input token's characters, when a
				    model stage reads them (else empty) */
} sp_dataset;

/* The vocabularies and the encoded splits of a job. */
typedef struct sp_splits {
	sp_vocab *vocab, *labels;
	size_t n_known;          /* labels [0, n_known) are the training
				    split's: the head's outputs and the
				    model file's; the rest occur only in
				    dev/test (scored as misses).  0: all */
	sp_dataset train, dev, test;
	sp_unkrep train_rare;    /* training tokens that may read as unknown */
	struct sp_bpe *bpe;      /* format = parallel with encode.bpe: the
				    merges (sp_splits_seq.h), else NULL */
} sp_splits;

/* A growable list of the tokens of one text (NUL-terminated copies in
 * buf at off[k], tlen[k] bytes each). */
typedef struct sp_toklist {
	char *buf;
	size_t len, cap;
	size_t *off, *tlen;
	size_t n, cap_n;
	sp_ctx *ctx;
} sp_toklist;

/* sp_token_fn that appends to the sp_toklist payload. */
int sp_toklist_push(void *payload, const char *tok, size_t len, size_t offset);
void sp_toklist_fini(sp_toklist *t);

void sp_dataset_fini(sp_dataset *d);
/* Records the characters of tokens first .. first+n of t for the example
 * just added (sp_dataset_add), when j's model reads them; else nothing. */
int sp_dataset_add_chars(sp_dataset *d, const sp_job *j, const sp_toklist *t,
			 size_t first, size_t n);
/* Appends one example: input ids and target ids. */
int sp_dataset_add(sp_dataset *d, sp_ctx *ctx, const int32_t *in, size_t n_in,
		   const int32_t *tg, size_t n_tg);
void sp_splits_fini(sp_splits *s);
/* The label set a model file keeps: the trained labels only.  *copy is a
 * new vocabulary of labels [0, n_known) when dev/test added more (caller
 * frees it), else NULL and s->labels is the one. */
int sp_splits_known_labels(const sp_splits *s, sp_ctx *ctx, sp_vocab **copy);

/* Reads split `key` ("train", "dev", "test") of [data]; *out = NULL when
 * the pipe names no such file. */
int sp_splits_read(sp_job *j, const char *key, sp_corpus **out);
/* Reads every split, creates the text stages, builds (or, resuming,
 * attaches) the vocabularies and encodes the splits into j->data. */
int sp_splits_read_and_encode(sp_job *j);
/* The vocabulary of the training split, built but not stored (trace with
 * initial weights; language models only). */
int sp_splits_vocab_unsaved(sp_job *j, sp_toklist *t);
/* Tokenizes and encodes one input text into ids (caller frees *out);
 * t is left holding its tokens. */
int sp_splits_encode_input(sp_job *j, const char *text, int32_t **out,
			   size_t *n_out, sp_toklist *t);

#endif /* SP_SPLITS_H */
