/*
 * sp_modelfile.h: the trained-model file that `pipeline run` saves and
 * `pipeline predict` loads.
 *
 * One self-contained binary file per model: metadata (pipeline name,
 * plugins and their versions per stage, seed, epoch, the resolved
 * configuration), the vocabularies, every weight tensor by name, and opaque
 * blobs (optimizer and RNG state, to resume training).  It is versioned and
 * checksummed, and written to "<path>.tmp", synced, then renamed over
 * path, so a crash leaves either the old file or the new one, never half
 * of one.  Not here: which names and keys a pipeline stores (sp_runner.c),
 * and the run log entry that points at the file (sp_runlog.h).
 *
 * Format version 1.  All integers little-endian; a "string" is a u32 byte
 * length followed by that many bytes (no terminating NUL, no NUL inside).
 *
 *   offset 0   "SPMODEL\0"                  8-byte magic
 *   offset 8   u32 format version           1
 *   offset 12  records, each:
 *                u32 type                   four ASCII letters: 'M','E','T','A'
 *                                           in file order ("META" in a hex dump)
 *                u64 length                 bytes of payload that follow
 *                payload
 *   last       the "END\0" record, length 4: u32 CRC-32 (zlib crc32) of
 *              every byte of the file before this u32.  Nothing follows.
 *
 *   META  string key, string value            (text; keys unique)
 *   VOCB  string role ("input", "labels"), u32 n_special (4), i32 id of
 *         pad, unk, bos, eos (-1 = none), u64 V, then V times: string
 *         token, i64 count                    (tokens in id order)
 *   TNSR  string name, u32 ndim (0..8), u64 dim[ndim], zero bytes up to
 *         the next file offset that is a multiple of 8, then
 *         dim[0]*...*dim[ndim-1] float32 (IEEE 754), row-major
 *   BLOB  string name, zero bytes up to a multiple of 8 as in TNSR, then
 *         the bytes (the rest of the payload)
 *
 * Names are unique within each kind.  A reader skips record types it does
 * not know, so optional records can be added without a version bump; the
 * version goes up only when a version 1 reader would misread a file.
 * The padding lets a reader hand out tensor data in place, aligned.
 */
#ifndef SP_MODELFILE_H
#define SP_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_MODELFILE_VERSION 1     /* the newest format this code reads */
#define SP_MODELFILE_MAX_DIMS 8    /* most dimensions of a tensor */
#define SP_MODELFILE_CHECKSUM_LEN 8 /* hex digits of sp_modelfile_checksum */

typedef struct sp_vocab sp_vocab;
typedef struct sp_modelfile sp_modelfile;
typedef struct sp_modelfile_writer sp_modelfile_writer;

/* ---- writing --------------------------------------------------------- */

/*
 * Starts a model file that will replace path on commit; the records go to
 * "<path>.tmp" as they are added (caller owns; sp_modelfile_writer_free).
 * SP_EIO when the .tmp file cannot be created.
 *
 * The adders below need no context: the first error (duplicate name, bad
 * argument, failed write) is remembered, every later call does nothing and
 * returns the same code, and commit reports it with its message.  So a
 * caller may add everything and check only the commit.
 */
int sp_modelfile_writer_new(sp_modelfile_writer **out, sp_ctx *ctx,
			    const char *path);
int sp_modelfile_writer_meta(sp_modelfile_writer *w, const char *key,
			     const char *value);
/* The value printf-formatted: ..._metaf(w, "seed", "%llu", seed). */
int sp_modelfile_writer_metaf(sp_modelfile_writer *w, const char *key,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The tokens, counts and special ids of v, under role. */
int sp_modelfile_writer_vocab(sp_modelfile_writer *w, const char *role,
			      const sp_vocab *v);
/* data: (dims[0], ..., dims[ndim-1]) floats, row-major, copied bit for
 * bit (NaN payloads included).  ndim 0 is a scalar (one float). */
int sp_modelfile_writer_tensor(sp_modelfile_writer *w, const char *name,
			       int ndim, const size_t *dims,
			       const float *data);
/* n opaque bytes (data may be NULL when n is 0). */
int sp_modelfile_writer_blob(sp_modelfile_writer *w, const char *name,
			     const void *data, size_t n);
/*
 * Writes the end record, syncs the .tmp file to disk and renames it over
 * path.  On any error (including one remembered from an adder) the .tmp is
 * removed, path is left as it was, and the error is returned with its
 * message.  Either way the writer is finished: free it next.
 */
int sp_modelfile_writer_commit(sp_modelfile_writer *w, sp_ctx *ctx);
/* Frees the writer; an uncommitted .tmp is removed.  Accepts NULL. */
void sp_modelfile_writer_free(sp_modelfile_writer *w);

/* ---- reading --------------------------------------------------------- */

/*
 * Reads path and verifies all of it up front: magic, version, checksum,
 * every record and vocabulary (caller owns; sp_modelfile_free).  The
 * messages name the file:
 *   SP_EIO     "FILE: cannot open: No such file or directory"
 *   SP_EINPUT  "FILE: not a seqpipe model file (bad magic)"
 *              "FILE: model format version N, this seqpipe reads up to 1"
 *              "FILE: truncated at byte N, expected ..."
 *              "FILE: checksum mismatch: file is corrupt"
 *              "FILE: corrupt ..." (a record that contradicts itself or
 *              overruns the file, in a file whose checksum is right)
 * The whole file is kept in memory while m lives.
 */
int sp_modelfile_open(sp_modelfile **out, sp_ctx *ctx, const char *path);
/* Accepts NULL. */
void sp_modelfile_free(sp_modelfile *m);

/* Value of a metadata key (borrowed; valid while m lives), or NULL. */
const char *sp_modelfile_meta(const sp_modelfile *m, const char *key);

/* A copy of the vocabulary stored under role (caller owns;
 * sp_vocab_free).  SP_ENOTFOUND when there is none. */
int sp_modelfile_vocab(sp_vocab **out, const sp_modelfile *m, sp_ctx *ctx,
		       const char *role);

/* Tensor name: *out = its floats (borrowed; valid while m lives; aligned),
 * its shape in *out_ndim and out_dims[0..ndim) (the rest set to 0).
 * SP_ENOTFOUND when there is none. */
int sp_modelfile_tensor(const float **out, int *out_ndim,
			size_t out_dims[SP_MODELFILE_MAX_DIMS],
			const sp_modelfile *m, sp_ctx *ctx, const char *name);
/* As sp_modelfile_tensor for a tensor that must have exactly this shape:
 * SP_EINPUT "FILE: tensor 'rnn.Wxh' is 4x3, expected 4x5" otherwise. */
int sp_modelfile_tensor_expect(const float **out, const sp_modelfile *m,
			       sp_ctx *ctx, const char *name, int ndim,
			       const size_t *dims);
/* Blob name: *out = its bytes (borrowed; valid while m lives; 8-byte
 * aligned), *out_n = their number.  SP_ENOTFOUND when there is none. */
int sp_modelfile_blob(const void **out, size_t *out_n, const sp_modelfile *m,
		      sp_ctx *ctx, const char *name);

/* Iteration, in file order: the number of entries of a kind, and the
 * name (meta key, vocabulary role, tensor or blob name) of entry i of
 * that kind (borrowed; valid while m lives), or NULL past the end. */
typedef enum sp_modelfile_kind {
	SP_MODELFILE_META = 1,
	SP_MODELFILE_VOCAB = 2,
	SP_MODELFILE_TENSOR = 3,
	SP_MODELFILE_BLOB = 4
} sp_modelfile_kind;
size_t sp_modelfile_count(const sp_modelfile *m, sp_modelfile_kind kind);
const char *sp_modelfile_name(const sp_modelfile *m, sp_modelfile_kind kind,
			      size_t i);

/* ---- checksum of any file, for the run log's artifact row ------------ */

/* CRC-32 (zlib crc32) of the file at path as 8 lowercase hex digits plus
 * a NUL in out, and its size in *out_bytes (may be NULL).  For a model file
 * the 4-byte trailer is left out, so the result is the CRC stored in it
 * (the CRC of a whole model file is the same constant for every file).
 * SP_EIO when it cannot be read. */
int sp_modelfile_checksum(char out[SP_MODELFILE_CHECKSUM_LEN + 1],
			  int64_t *out_bytes, sp_ctx *ctx, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* SP_MODELFILE_H */
