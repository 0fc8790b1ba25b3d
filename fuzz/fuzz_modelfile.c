/*
 * fuzz_modelfile.c: the model-file loader (core/sp_modelfile.c).
 *
 * Input: a model file.  The loader checks the CRC-32 trailer before it
 * trusts a length field, so most mutations would stop there; every input
 * is therefore tried twice, as is and with its last 4 bytes replaced by
 * the CRC of the rest, so mutated records are parsed as those of a forged
 * file with a right checksum would be.
 * Everything a file that opens holds is then read back.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sp_ctx.h"
#include "sp_modelfile.h"
#include "sp_vocab.h"

static void walk_(const sp_modelfile *m, sp_ctx *ctx)
{
	volatile double sum = 0;
	const sp_modelfile_kind kinds[] = {SP_MODELFILE_META,
		SP_MODELFILE_VOCAB, SP_MODELFILE_TENSOR, SP_MODELFILE_BLOB};

	for (size_t k = 0; k < 4; k++) {
		size_t n = sp_modelfile_count(m, kinds[k]);
		for (size_t i = 0; i <= n; i++) {
			const char *name = sp_modelfile_name(m, kinds[k], i);
			if (!name)
				continue;
			if (kinds[k] == SP_MODELFILE_META) {
				sum += strlen(sp_modelfile_meta(m, name));
			} else if (kinds[k] == SP_MODELFILE_VOCAB) {
				sp_vocab *v = NULL;
				if (sp_modelfile_vocab(&v, m, ctx, name) == 0) {
					for (size_t t = 0; t < sp_vocab_size(v); t++)
						sum += strlen(sp_vocab_token(v, (int32_t)t));
					sp_vocab_free(v);
				}
			} else if (kinds[k] == SP_MODELFILE_TENSOR) {
				const float *w;
				int nd;
				size_t dims[SP_MODELFILE_MAX_DIMS], cnt = 1;
				if (sp_modelfile_tensor(&w, &nd, dims, m, ctx, name) == 0) {
					for (int d = 0; d < nd; d++)
						cnt *= dims[d];
					if (cnt)
						sum += w[0] + w[cnt - 1];
				}
			} else {
				const void *b;
				size_t bn;
				if (sp_modelfile_blob(&b, &bn, m, ctx, name) == 0 && bn)
					sum += ((const unsigned char *)b)[bn - 1];
			}
		}
	}
	(void)sum;
}

static void try_(const uint8_t *data, size_t size)
{
	sp_ctx *ctx = NULL;
	sp_modelfile *m = NULL;
	const char *path = fuzz_scratch(data, size, ".spm");

	if (sp_ctx_new(&ctx, 1) != SP_OK)
		return;
	if (sp_modelfile_open(&m, ctx, path) == SP_OK) {
		walk_(m, ctx);
		sp_modelfile_free(m);
	}
	(void)sp_errmsg(ctx);
	sp_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_(data, size);
	if (size > 4) {
		uint8_t *fixed = malloc(size);
		uLong crc;
		if (!fixed)
			return 0;
		memcpy(fixed, data, size);
		crc = crc32(0L, fixed, (uInt)(size - 4));
		for (int i = 0; i < 4; i++) /* little-endian trailer */
			fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
		if (memcmp(fixed, data, size) != 0)
			try_(fixed, size);
		free(fixed);
	}
	return 0;
}
