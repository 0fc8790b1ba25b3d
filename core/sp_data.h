/*
 * sp_data.h: the corpus of examples a data reader makes, the built-in
 * text readers, and the length-bucketing batcher.
 *
 * A reader (a component of kind SP_KIND_READER, sp_plugin.h, named by
 * `[data] format`; sp_readers.h finds it) turns one file into a corpus of
 * examples held in memory.  The built-in text formats:
 *
 *   lines   one example per non-blank line of UTF-8 text (language
 *           models; the runner tokenizes the text)
 *   conll   one `token<TAB>label` per line, a blank line between
 *           sentences (NER); one example per sentence
 *   tsv     `text<TAB>label` per line (sentiment, pairs); which columns
 *           hold text and label is configurable
 *
 * Every reader validates UTF-8 strictly, accepts CRLF line ends, strips a
 * UTF-8 byte order mark at the start of the file, and reads `.gz` files
 * through zlib.  Errors name the place: "FILE:LINE: ..." or, for encoding,
 * "FILE:LINE:COL: invalid UTF-8" with COL the 1-based byte column.
 *
 * This module does not tokenize, build vocabularies or pad tensors: it
 * hands out strings, and the batcher hands out example indices.
 */
#ifndef SP_DATA_H
#define SP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_corpus sp_corpus;
typedef struct sp_batcher sp_batcher;

typedef enum sp_data_format {
	SP_DATA_LINES = 1,
	SP_DATA_CONLL = 2,
	SP_DATA_TSV = 3,
	SP_DATA_PARALLEL = 4 /* a text and its translation (sp_read_parallel.c) */
} sp_data_format;

/* "lines" | "conll" | "tsv" -> format; anything else is SP_EINVAL. */
int sp_data_format_parse(sp_data_format *out, sp_ctx *ctx, const char *name);
/* The name of a format ("?" for an unknown value). */
const char *sp_data_format_name(sp_data_format format);

#define SP_DATA_OPTS_VERSION 2

/* Ceilings that keep a runaway input (a data file that is /dev/zero, a
 * gzip bomb) from eating the memory: the bytes of one line, and of the
 * whole file after decompression.  0 in the options means these. */
#define SP_DATA_MAX_LINE_DEFAULT ((size_t)1 << 24)   /* 16 MiB */
#define SP_DATA_MAX_FILE_DEFAULT ((uint64_t)1 << 32) /* 4 GiB */

/* conll_label_col: pick the label by the line's column count, see
 * sp_corpus_read. */
#define SP_DATA_LABEL_AUTO (-2)

/* Reader options; start from SP_DATA_OPTS_INIT or sp_data_opts_init().
 * Fields are only ever appended; a struct of version 1 (the fields up to
 * skip_bad) is still accepted and gets the defaults of the others. */
typedef struct sp_data_opts {
	unsigned int version; /* SP_DATA_OPTS_VERSION */
	size_t max_examples;  /* stop after this many examples; 0 = all */
	int text_col;         /* tsv: 0-based column of the text; -1 = last */
	int label_col;        /* tsv: 0-based column of the label; -1 = last */
	int header;           /* tsv: != 0 skips the first line */
	int skip_bad;         /* conll/tsv: != 0 skips (and counts) lines
				 with missing columns or empty fields
				 (conll: an empty or white-space token, as
				 in the Broad Twitter Corpus) instead of
				 failing; encoding errors and ceilings
				 still fail.  Off by default.  See
				 sp_corpus_skipped. */
	/* version 2 */
	size_t max_line_bytes;   /* ceiling of one line; 0 = default */
	uint64_t max_file_bytes; /* ceiling of the file (decompressed);
				    0 = default */
	int conll_label_col;     /* conll: 0-based column of the label (>= 1),
				    -1 = the last, or SP_DATA_LABEL_AUTO */
} sp_data_opts;

#define SP_DATA_OPTS_INIT                                                 \
	{SP_DATA_OPTS_VERSION, 0, 0, 1, 0, 0, 0, 0, SP_DATA_LABEL_AUTO}
void sp_data_opts_init(sp_data_opts *opts);

/*
 * Reads `path` in `format` (caller owns *out; free with sp_corpus_free).
 * opts may be NULL for the defaults.  Errors:
 *   SP_EINVAL  an empty or NULL path ("data: empty file name, expected
 *              the path of a FORMAT file"), bad options
 *   SP_EIO     "FILE: cannot open: <strerror>", read errors, a truncated
 *              or corrupt gzip stream
 *   SP_EINPUT  "FILE:LINE:COL: invalid UTF-8 ...", "FILE:LINE:COL: NUL
 *              byte", and malformed lines:
 *              conll "FILE:LINE: expected 'token<TAB>label', got '...'"
 *              (a line with one column, or starting with whitespace,
 *              i.e. an empty token), "FILE:LINE: 3 columns, expected 2
 *              ... or 4 ...; ..." (see the label below); tsv
 *              "FILE:LINE: expected N tab-separated columns (...), got
 *              M: '...'" and empty text or label.  The shown line is cut
 *              to about 40 bytes.
 *   SP_EINPUT  a ceiling: "FILE:LINE: line longer than N bytes, the
 *              ceiling of one line (max_line_bytes)", "FILE: more than N
 *              bytes, the ceiling of a data file (max_file_bytes)".
 * lines: blank (whitespace-only) lines are skipped; the text is the line
 * without its line end.  conll: whitespace-only lines end a sentence;
 * columns are separated by runs of tabs in a line that holds a tab (a
 * token may then contain spaces, as some of the Broad Twitter Corpus do;
 * columns are trimmed of spaces), by runs of tabs and spaces otherwise;
 * the first column is the token; lines starting with "-DOCSTART-" are
 * skipped.  The label is column
 * conll_label_col; with SP_DATA_LABEL_AUTO (the default) a line must have
 * 2 columns (token label) or 4 (CoNLL-2003: token POS chunk label) and
 * the label is the last, any other count is an error that asks for the
 * label column; -1 takes the last column of any line.  tsv: columns are
 * separated by single tabs; blank lines are skipped.
 */
int sp_corpus_read(sp_corpus **out, sp_ctx *ctx, const char *path,
		   sp_data_format format, const sp_data_opts *opts);
void sp_corpus_free(sp_corpus *corpus);

/* Accessors.  Strings are NUL-terminated and borrowed (valid until
 * sp_corpus_free).  An index >= count, or the wrong format, gives NULL
 * (and *n / *len = 0).  A NULL corpus (a split that was not given) reads
 * as an empty one: count 0, every example out of range. */
size_t sp_corpus_count(const sp_corpus *corpus);
/* The built-in text format of the corpus, 0 for another reader's. */
sp_data_format sp_corpus_format(const sp_corpus *corpus);
/* The name of the reader that made it ("conll", "fasta", ...; "" for
 * NULL), and the sp_field bits its examples carry (sp_plugin.h). */
const char *sp_corpus_format_name(const sp_corpus *corpus);
unsigned sp_corpus_fields(const sp_corpus *corpus);
/* Each accessor gives NULL unless the corpus's reader gives that field
 * (sp_corpus_fields).  The text of example i and its length in bytes
 * (lines, tsv, parallel). */
const char *sp_corpus_text(const sp_corpus *corpus, size_t i, size_t *len);
/* parallel: the second text of example i (the translation of its text)
 * and its length in bytes; NULL (and *len = 0) when the format has none. */
const char *sp_corpus_target(const sp_corpus *corpus, size_t i, size_t *len);
/* The label of example i (tsv, ptb, synthetic). */
const char *sp_corpus_label(const sp_corpus *corpus, size_t i);
/* The n tokens of example i, and their n labels (conll, fasta,
 * genbank; ptb has tokens without labels). */
const char *const *sp_corpus_tokens(const sp_corpus *corpus, size_t i,
				    size_t *n);
const char *const *sp_corpus_labels(const sp_corpus *corpus, size_t i,
				    size_t *n);
/* 1-based source line of example i (conll: of its first token). */
size_t sp_corpus_line(const sp_corpus *corpus, size_t i);
/* Lines skipped because of opts.skip_bad, and the 1-based line number of
 * the first of them (0 when none was), for a report such as "skipped 5
 * malformed lines, the first at FILE:LINE". */
size_t sp_corpus_skipped(const sp_corpus *corpus);
size_t sp_corpus_skipped_first(const sp_corpus *corpus);

/*
 * Batcher: minibatches of up to batch_size example indices per epoch.
 *
 * With bucket != 0, examples are ordered by length, so a batch holds
 * examples of similar length and little padding is computed; shuffling
 * then permutes examples only within groups of equal length, and permutes
 * the order of the batches.  With bucket == 0 and shuffle != 0 the whole
 * index list is permuted.  Randomness comes from the ctx RNG passed to
 * sp_batcher_epoch, so a seed fixes every epoch's order.
 *
 * lengths[n] (copied) may be NULL when bucket == 0.  Caller owns *out;
 * free with sp_batcher_free.  Creating a batcher draws no random numbers.
 */
int sp_batcher_new(sp_batcher **out, sp_ctx *ctx, const size_t *lengths,
		   size_t n, size_t batch_size, int shuffle, int bucket);
void sp_batcher_free(sp_batcher *b);

/* Starts an epoch: reshuffles (when shuffle != 0) and rewinds.  Call it
 * before every epoch, the first included; without it the first epoch
 * comes in unshuffled (index or length) order. */
void sp_batcher_epoch(sp_batcher *b, sp_ctx *ctx);

/* The next batch: *idx points to *count example indices (borrowed; valid
 * until the next sp_batcher_epoch).  Returns 1 with a batch, 0 when the
 * epoch is over (and *count = 0). */
int sp_batcher_next(const size_t **idx, size_t *count, sp_batcher *b);

/* Batches per epoch: ceil(n / batch_size). */
size_t sp_batcher_count(const sp_batcher *b);
/* Padding cells of the current epoch: the sum over batches of
 * count * max length - sum of lengths (0 without lengths). */
size_t sp_batcher_padding(const sp_batcher *b);

#ifdef __cplusplus
}
#endif
#endif /* SP_DATA_H */
