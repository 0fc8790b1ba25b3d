/*
 * sp_modelfile_writer.c: writing model files (format in sp_modelfile.h).
 *
 * The writer streams records into "<path>.tmp" while a running CRC-32
 * covers every byte, so a tensor is never copied; the commit renames the
 * file into place.
 */
#define _POSIX_C_SOURCE 200809L

#include "sp_modelfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "sp_modelfile_format.h"
#include "sp_vocab.h"

struct sp_modelfile_writer {
	FILE *f;         /* the .tmp file; NULL once closed */
	char *path;      /* final name */
	char *tmp;       /* path + ".tmp" */
	int tmp_exists;  /* the .tmp is on disk and ours to remove */
	int finished;    /* commit was called */
	uLong crc;       /* CRC-32 of the bytes written so far */
	uint64_t off;    /* bytes written so far */
	int code;        /* first error, sticky; SP_OK while all is well */
	char err[512];   /* its message */
	char **names;    /* "<kind letter><name>" of each record, for
			    duplicates */
	size_t n_names, cap_names;
};

static int wfail_(sp_modelfile_writer *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int wfail_(sp_modelfile_writer *w, int code, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (w->code != SP_OK)
		return w->code;
	w->code = code;
	n = snprintf(w->err, sizeof(w->err), "%s: ", w->path);
	if (n < 0 || (size_t)n >= sizeof(w->err))
		return code;
	va_start(ap, fmt);
	vsnprintf(w->err + n, sizeof(w->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

static void put_(sp_modelfile_writer *w, const void *data, size_t n)
{
	if (w->code != SP_OK || n == 0)
		return;
	if (fwrite(data, 1, n, w->f) != n) {
		wfail_(w, SP_EIO, "cannot write %s: %s", w->tmp,
		       strerror(errno));
		return;
	}
	w->crc = crc_update_(w->crc, data, n);
	w->off += n;
}

static void put_u32_(sp_modelfile_writer *w, uint32_t x)
{
	unsigned char b[4];
	set_u32_(b, x);
	put_(w, b, 4);
}

static void put_u64_(sp_modelfile_writer *w, uint64_t x)
{
	unsigned char b[8];
	set_u64_(b, x);
	put_(w, b, 8);
}

static void put_str_(sp_modelfile_writer *w, const char *s, size_t n)
{
	put_u32_(w, (uint32_t)n);
	put_(w, s, n);
}

static void put_pad_(sp_modelfile_writer *w)
{
	static const unsigned char zeros[8];
	put_(w, zeros, pad8_(w->off));
}

/*
 * Checks that name is usable and unique among records of kind (one letter)
 * and remembers it.  Names longer than a u32 cannot be stored.
 */
static int claim_name_(sp_modelfile_writer *w, char kind, const char *what,
		       const char *name)
{
	size_t len;
	char *key;
	if (w->code != SP_OK)
		return w->code;
	if (w->finished)
		return wfail_(w, SP_EINVAL, "%s added after commit", what);
	if (!name || !*name)
		return wfail_(w, SP_EINVAL, "%s without a name", what);
	len = strlen(name);
	if (len > UINT32_MAX)
		return wfail_(w, SP_EINVAL, "%s name too long", what);
	for (size_t i = 0; i < w->n_names; i++)
		if (w->names[i][0] == kind && strcmp(w->names[i] + 1, name) == 0)
			return wfail_(w, SP_EINVAL, "%s '%s' added twice", what,
				      name);
	if (w->n_names == w->cap_names) {
		size_t cap = w->cap_names ? 2 * w->cap_names : 16;
		char **names = realloc(w->names, cap * sizeof(*names));
		if (!names)
			return wfail_(w, SP_ENOMEM, "out of memory");
		w->names = names;
		w->cap_names = cap;
	}
	key = malloc(len + 2);
	if (!key)
		return wfail_(w, SP_ENOMEM, "out of memory");
	key[0] = kind;
	memcpy(key + 1, name, len + 1);
	w->names[w->n_names++] = key;
	return SP_OK;
}

int sp_modelfile_writer_new(sp_modelfile_writer **out, sp_ctx *ctx,
			    const char *path)
{
	sp_modelfile_writer *w = NULL;
	size_t n;
	int code;

	*out = NULL;
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "model file: no file name");
	n = strlen(path);
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->tmp = malloc(n + 5))) {
		code = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	memcpy(w->tmp, path, n);
	memcpy(w->tmp + n, ".tmp", 5);
	w->f = fopen(w->tmp, "wb");
	if (!w->f) {
		code = sp_err(ctx, SP_EIO, "%s: cannot create: %s", w->tmp,
			      strerror(errno));
		goto fail;
	}
	w->tmp_exists = 1;
	w->crc = crc32(0L, Z_NULL, 0);
	put_(w, magic_, sizeof(magic_));
	put_u32_(w, SP_MODELFILE_VERSION);
	if (w->code != SP_OK) {
		code = sp_err(ctx, w->code, "%s", w->err);
		goto fail;
	}
	*out = w;
	return SP_OK;
fail:
	sp_modelfile_writer_free(w);
	return code;
}

void sp_modelfile_writer_free(sp_modelfile_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (w->tmp_exists)
		remove(w->tmp);
	for (size_t i = 0; i < w->n_names; i++)
		free(w->names[i]);
	free(w->names);
	free(w->path);
	free(w->tmp);
	free(w);
}

int sp_modelfile_writer_meta(sp_modelfile_writer *w, const char *key,
			     const char *value)
{
	size_t vlen;
	if (!w)
		return SP_EINVAL;
	if (claim_name_(w, 'M', "meta key", key) != SP_OK)
		return w->code;
	if (!value)
		return wfail_(w, SP_EINVAL, "meta key '%s' without a value",
			      key);
	vlen = strlen(value);
	if (vlen > UINT32_MAX)
		return wfail_(w, SP_EINVAL, "meta '%s': value too long", key);
	put_u32_(w, TAG_META);
	put_u64_(w, 4 + (uint64_t)strlen(key) + 4 + vlen);
	put_str_(w, key, strlen(key));
	put_str_(w, value, vlen);
	return w->code;
}

int sp_modelfile_writer_metaf(sp_modelfile_writer *w, const char *key,
			      const char *fmt, ...)
{
	va_list ap;
	char *value = NULL;
	int n, code;
	if (!w)
		return SP_EINVAL;
	if (w->code != SP_OK)
		return w->code;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return wfail_(w, SP_EINVAL, "meta '%s': bad format",
			      key ? key : "");
	value = malloc((size_t)n + 1);
	if (!value)
		return wfail_(w, SP_ENOMEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(value, (size_t)n + 1, fmt, ap);
	va_end(ap);
	code = sp_modelfile_writer_meta(w, key, value);
	free(value);
	return code;
}

int sp_modelfile_writer_vocab(sp_modelfile_writer *w, const char *role,
			      const sp_vocab *v)
{
	uint64_t len;
	size_t V;
	if (!w)
		return SP_EINVAL;
	if (claim_name_(w, 'V', "vocabulary", role) != SP_OK)
		return w->code;
	if (!v)
		return wfail_(w, SP_EINVAL, "vocabulary '%s' is NULL", role);
	/* The length goes first, so measure before writing. */
	V = sp_vocab_size(v);
	len = 4 + (uint64_t)strlen(role) + 4 + 4 * N_SPECIALS + 8;
	for (size_t i = 0; i < V; i++) {
		const char *tok = sp_vocab_token(v, (int32_t)i);
		if (!tok)
			return wfail_(w, SP_EINVAL, "vocabulary '%s': no token "
				      "for id %zu", role, i);
		len += 4 + (uint64_t)strlen(tok) + 8;
	}
	put_u32_(w, TAG_VOCB);
	put_u64_(w, len);
	put_str_(w, role, strlen(role));
	put_u32_(w, (uint32_t)N_SPECIALS);
	for (size_t k = 0; k < N_SPECIALS; k++)
		put_u32_(w, (uint32_t)sp_vocab_special(v, specials_[k]));
	put_u64_(w, V);
	for (size_t i = 0; i < V; i++) {
		const char *tok = sp_vocab_token(v, (int32_t)i);
		put_str_(w, tok, strlen(tok));
		put_u64_(w, (uint64_t)sp_vocab_count(v, (int32_t)i));
	}
	return w->code;
}

int sp_modelfile_writer_tensor(sp_modelfile_writer *w, const char *name,
			       int ndim, const size_t *dims,
			       const float *data)
{
	uint64_t head, len;
	size_t count;
	int ok;
	if (!w)
		return SP_EINVAL;
	if (claim_name_(w, 'T', "tensor", name) != SP_OK)
		return w->code;
	if (ndim < 0 || ndim > SP_MODELFILE_MAX_DIMS || (ndim > 0 && !dims))
		return wfail_(w, SP_EINVAL, "tensor '%s': ndim %d not in "
			      "0..%d", name, ndim, SP_MODELFILE_MAX_DIMS);
	count = shape_count_(ndim, dims, &ok);
	if (!ok)
		return wfail_(w, SP_EINVAL, "tensor '%s': shape too large",
			      name);
	if (count > 0 && !data)
		return wfail_(w, SP_EINVAL, "tensor '%s': no data", name);
	/* Payload before the padding, whose size depends on where the
	 * data lands in the file. */
	head = 4 + (uint64_t)strlen(name) + 4 + 8 * (uint64_t)ndim;
	len = head + pad8_(w->off + REC_HEAD_LEN + head) + 4 * (uint64_t)count;
	put_u32_(w, TAG_TNSR);
	put_u64_(w, len);
	put_str_(w, name, strlen(name));
	put_u32_(w, (uint32_t)ndim);
	for (int i = 0; i < ndim; i++)
		put_u64_(w, dims[i]);
	put_pad_(w);
	if (host_is_le_()) {
		put_(w, data, 4 * count);
	} else {
		uint32_t buf[256];
		for (size_t i = 0; i < count; i += 256) {
			size_t k = count - i < 256 ? count - i : 256;
			memcpy(buf, data + i, 4 * k);
			for (size_t j = 0; j < k; j++)
				buf[j] = swap32_(buf[j]);
			put_(w, buf, 4 * k);
		}
	}
	return w->code;
}

int sp_modelfile_writer_blob(sp_modelfile_writer *w, const char *name,
			     const void *data, size_t n)
{
	uint64_t head, len;
	if (!w)
		return SP_EINVAL;
	if (claim_name_(w, 'B', "blob", name) != SP_OK)
		return w->code;
	if (n > 0 && !data)
		return wfail_(w, SP_EINVAL, "blob '%s': no data", name);
	/* As for tensors: measured at the record's start. */
	head = 4 + (uint64_t)strlen(name);
	len = head + pad8_(w->off + REC_HEAD_LEN + head) + n;
	put_u32_(w, TAG_BLOB);
	put_u64_(w, len);
	put_str_(w, name, strlen(name));
	put_pad_(w);
	put_(w, data, n);
	return w->code;
}

int sp_modelfile_writer_commit(sp_modelfile_writer *w, sp_ctx *ctx)
{
	unsigned char crc[4];

	if (!w)
		return sp_err(ctx, SP_EINVAL, "model file: no writer");
	if (w->finished)
		return sp_err(ctx, SP_EINVAL, "%s: committed twice", w->path);
	w->finished = 1;
	put_u32_(w, TAG_END);
	put_u64_(w, 4);
	set_u32_(crc, (uint32_t)w->crc);
	put_(w, crc, 4);
	/* The data must be on disk before the rename makes it the model,
	 * or a power cut could leave an empty file under the final name. */
	if (w->code == SP_OK && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
		wfail_(w, SP_EIO, "cannot write %s: %s", w->tmp,
		       strerror(errno));
	if (fclose(w->f) != 0)
		wfail_(w, SP_EIO, "cannot write %s: %s", w->tmp,
		       strerror(errno));
	w->f = NULL;
	if (w->code == SP_OK) {
		if (rename(w->tmp, w->path) != 0)
			wfail_(w, SP_EIO, "cannot rename %s to it: %s", w->tmp,
			       strerror(errno));
		else
			w->tmp_exists = 0;
	}
	if (w->code == SP_OK)
		return SP_OK;
	remove(w->tmp);
	w->tmp_exists = 0;
	return sp_err(ctx, w->code, "%s", w->err);
}

