/*
 * sp_parallel.h: parallel text (a source sentence and its translation per
 * example) read into memory, the input of translation and of scoring.
 *
 * Two layouts:
 *   files  two line-aligned files, line i of one translating line i of the
 *          other (`train.de.gz` + `train.en.gz`); their line counts must
 *          be equal, or the error names both files and both counts;
 *   tsv    one file of `src<TAB>tgt[<TAB>...]` lines; which columns hold
 *          the two sides is configurable (the Tatoeba file has a third,
 *          the attribution).
 * Files ending in .gz are read through zlib (so is any gzip stream); the
 * path "-" reads standard input.
 * Lines are UTF-8 (checked; "FILE:LINE:COL: invalid UTF-8"), a CRLF end
 * loses its CR, a byte order mark at the start of a file is dropped.
 *
 * Empty sides (nothing but spaces) are kept, skipped or refused as the
 * options say; either way they are counted (sp_parallel_counts).
 *
 * This module will become a reader component once readers are pluggable
 * (the runner's readers live in sp_data.c today).  Not here: tokenizing,
 * vocabularies, batching.
 */
#ifndef SP_PARALLEL_H
#define SP_PARALLEL_H

#include <stddef.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_parallel_empty {
	SP_PARALLEL_KEEP = 0,  /* keep pairs with an empty side (scoring) */
	SP_PARALLEL_SKIP = 1,  /* drop them (training) */
	SP_PARALLEL_REFUSE = 2 /* an empty side is an error naming FILE:LINE */
} sp_parallel_empty;

/* Options; start from sp_parallel_opts_init().  Fields are only appended. */
typedef struct sp_parallel_opts {
	size_t size;             /* sizeof(sp_parallel_opts) */
	sp_parallel_empty empty; /* KEEP */
	int src_col, tgt_col;    /* tsv: 0-based columns; 0 and 1 */
	size_t max_pairs;        /* stop after this many pairs; 0 = all */
} sp_parallel_opts;

typedef struct sp_parallel_counts {
	size_t lines;      /* lines read (of each file, for two files) */
	size_t pairs;      /* pairs kept */
	size_t empty_src;  /* pairs with only the source side empty */
	size_t empty_tgt;  /* ... only the target side empty */
	size_t empty_both; /* ... both sides empty */
	size_t skipped;    /* pairs dropped (SKIP) */
} sp_parallel_counts;

typedef struct sp_parallel sp_parallel;

void sp_parallel_opts_init(sp_parallel_opts *o);

/* Reads two line-aligned files (caller owns; free with sp_parallel_free). */
int sp_parallel_read_files(sp_parallel **out, sp_ctx *ctx, const char *src_path,
			   const char *tgt_path, const sp_parallel_opts *opts);
/* Reads one tab-separated file. */
int sp_parallel_read_tsv(sp_parallel **out, sp_ctx *ctx, const char *path,
			 const sp_parallel_opts *opts);
void sp_parallel_free(sp_parallel *p);

size_t sp_parallel_count(const sp_parallel *p);
/* Side of pair i, NUL-terminated, with its length in *len (NULL ok)
 * (borrowed; valid until sp_parallel_free). */
const char *sp_parallel_src(const sp_parallel *p, size_t i, size_t *len);
const char *sp_parallel_tgt(const sp_parallel *p, size_t i, size_t *len);
/* The 1-based line of pair i in its file(s), for messages. */
size_t sp_parallel_line(const sp_parallel *p, size_t i);
const sp_parallel_counts *sp_parallel_counts_of(const sp_parallel *p);

/* A deterministic split by the source sentence: FNV-1a 64 of its bytes,
 * modulo 100; buckets [0, test_pct) are test, the next dev_pct dev, the
 * rest train.  Every translation of one source sentence lands in the same
 * split, so a sentence seen in training never reappears in dev or test. */
typedef enum sp_split { SP_SPLIT_TRAIN = 0, SP_SPLIT_DEV = 1, SP_SPLIT_TEST = 2 } sp_split;
sp_split sp_parallel_split_of(const char *src, size_t len, unsigned dev_pct,
			      unsigned test_pct);

#ifdef __cplusplus
}
#endif
#endif /* SP_PARALLEL_H */
