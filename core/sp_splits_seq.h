/*
 * sp_splits_seq.h: the [data] splits of a translation pipeline (format =
 * parallel): source and target texts read, split into tokens (by the
 * tokenizer, or into byte-pair pieces of the raw text with encode.bpe),
 * the source and target vocabularies (separate, or one with encode.shared)
 * built from the training split, and each pair encoded as input ids
 * (source tokens) and target ids (target tokens, then <eos>).
 *
 * The target vocabulary is the job's label set (j->data.labels): it is
 * what the head predicts, it goes into the model file as "labels", and it
 * is stored in the vocabulary store as "<vocab>.target".
 *
 * Not here: the head's <bos> (it feeds it itself), batching, decoding.
 * Host-only (not installed).
 */
#ifndef SP_SPLITS_SEQ_H
#define SP_SPLITS_SEQ_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"
#include "sp_modelfile.h"
#include "sp_data.h"
#include "sp_splits.h"
#include "sp_utf8.h"

typedef struct sp_job sp_job;

/* Reads split `key` ("train", "dev", "test") through the [data] section's
 * reader (sp_splits_read: every reader option applies), which must give a
 * translation of each text (SP_FIELD_TARGET, as format = parallel does)
 * (caller frees with sp_corpus_free; *out = NULL when the pipe names no
 * such file). */
int sp_splits_seq_read(sp_job *j, const char *key, sp_corpus **out);
/* sp_splits_read_and_encode for format = parallel. */
int sp_splits_seq_read_and_encode(sp_job *j);
/* The tokens of one text, into t (cleared first): the tokenizer's, or the
 * text's byte-pair pieces when the job has merges.  `where` prefixes
 * errors. */
int sp_splits_seq_tokens(sp_job *j, const char *text, size_t len, sp_toklist *t,
			 const char *where);
/* Target ids -> detokenized text, appended to out: byte-pair pieces are
 * joined back exactly, word tokens with one space between them.  <eos>
 * ends the text; other specials are left out. */
int sp_splits_seq_detok(sp_job *j, const int32_t *ids, size_t n, sp_buf *out);
/* The merges saved with a model (meta "bpe"), into j->data.bpe; none
 * when the model has none. */
int sp_splits_seq_load_bpe(sp_job *j, const sp_modelfile *mf, const char *path);
/* The merges in their saved form for the model file, or NULL (caller
 * frees). */
char *sp_splits_seq_bpe_text(sp_job *j);

#endif /* SP_SPLITS_SEQ_H */
