/*
 * sp_hash.h: FNV-1a 64, the one non-cryptographic hash of seqpipe.
 *
 * Used to fingerprint texts that are stored or compared later: the .pipe
 * text of a run (runs.pipe_hash), so that two runs of the same pipeline
 * file can be grouped.  It detects edits, not tampering.  Not here: the
 * CRC-32 of model files (sp_modelfile.h, zlib), which guards against
 * corruption in transit.
 *
 * FNV-1a 64 (Fowler, Noll, Vo): h = 0xcbf29ce484222325; for each byte,
 * h ^= byte, h *= 0x100000001b3 (mod 2^64).
 */
#ifndef SP_HASH_H
#define SP_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Characters of a hash in hex, without the terminating NUL. */
#define SP_HASH_HEX_LEN 16

/* FNV-1a 64 of data[0..n). */
uint64_t sp_hash_fnv1a64(const void *data, size_t n);

/* FNV-1a 64 of text[0..len) as 16 lowercase hex digits plus a NUL in
 * out, e.g. "" -> "cbf29ce484222325". */
void sp_hash_text(char out[SP_HASH_HEX_LEN + 1], const char *text,
		  size_t len);

#ifdef __cplusplus
}
#endif
#endif /* SP_HASH_H */
