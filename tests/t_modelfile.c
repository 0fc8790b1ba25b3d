/*
 * t_modelfile.c: the trained-model file (core/sp_modelfile.c).
 *
 * A round trip must give back every byte: metadata, vocabularies, tensors
 * (NaN payloads, -0, denormals included) and blobs.  Then every way a file
 * can be damaged: wrong magic, newer version, every possible truncation,
 * every single flipped byte, trailing bytes, and forged files whose
 * checksum is right but whose records lie.  Each must fail with SP_EINPUT
 * and a message, never crash (run under ASan).  The CRC-32 used to check
 * the file is computed here bit by bit, independently of zlib.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_ctx.h"
#include "sp_extras.h"
#include "sp_modelfile.h"
#include "sp_vocab.h"
#include "tap.h"

static char dir_[256];

static void path_(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir_, name);
}

static int exists_(const char *path)
{
	return access(path, F_OK) == 0;
}

/* CRC-32 (ISO-HDLC, reflected 0xEDB88320), the one zlib computes. */
static uint32_t crc32_ref_(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static unsigned char *slurp_(const char *path, size_t *out_n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;
	*out_n = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*out_n = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int spit_(const char *path, const unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	int good;
	if (!f)
		return -1;
	good = fwrite(buf, 1, n, f) == n;
	return fclose(f) == 0 && good ? 0 : -1;
}

/* Whether needle[0..k) occurs in hay[0..n) (memmem is not standard). */
static int contains_(const unsigned char *hay, size_t n,
		     const unsigned char *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static float bits_(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* Opens path expecting failure: returns the code, checks m stays NULL. */
static int open_fails_(sp_ctx *ctx, const char *path, int *m_null)
{
	sp_modelfile *m = (sp_modelfile *)&m; /* poison: must become NULL */
	int rc = sp_modelfile_open(&m, ctx, path);
	*m_null = m == NULL;
	if (rc == SP_OK)
		sp_modelfile_free(m);
	return rc;
}

/* ---- the reference model ------------------------------------------------- */

static const uint32_t w_bits_[12] = {
	0x3f800000u, /* 1.0 */
	0x7fc00001u, /* quiet NaN with a payload */
	0xffc12345u, /* negative NaN with a payload */
	0x80000000u, /* -0 */
	0x00000001u, /* the smallest denormal */
	0x7f800000u, /* +inf */
	0xff800000u, /* -inf */
	0x7f7fffffu, /* FLT_MAX */
	0xbeaaaaabu, /* -1/3 */
	0x3dcccccdu, /* 0.1 */
	0x7fa00000u, /* signalling NaN */
	0x12345678u,
};
static const unsigned char blob_[37] = {0, 1, 2, 0, 0, 255, 254, 7, 'a', 0,
					 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 42};
static const char config_[] = "[model]\nhidden = 8\n# ünïcödé, \"quotes\"\n";

static int make_vocabs_(sp_vocab **in, sp_vocab **labels, sp_ctx *ctx)
{
	static const char *const toks[] = {"<pad>", "<unk>", "the", "cat",
					   "ünïcödé"};
	static const int64_t counts[] = {0, 0, 10, 3, 1};
	static const char *const tags[] = {"O", "B-PER", "I-PER"};
	int rc = sp_vocab_new(in);
	if (rc == SP_OK)
		rc = sp_vocab_new(labels);
	for (size_t i = 0; i < 5 && rc == SP_OK; i++)
		rc = sp_vocab_add(*in, ctx, toks[i], strlen(toks[i]), counts[i],
				  NULL);
	for (size_t i = 0; i < 3 && rc == SP_OK; i++)
		rc = sp_vocab_add(*labels, ctx, tags[i], strlen(tags[i]),
				  (int64_t)i + 100, NULL);
	if (rc == SP_OK)
		rc = sp_vocab_set_special(*in, ctx, SP_SPECIAL_PAD, 0);
	if (rc == SP_OK)
		rc = sp_vocab_set_special(*in, ctx, SP_SPECIAL_UNK, 1);
	return rc;
}

/* Writes the full reference model to path. */
static int write_model_(sp_ctx *ctx, const char *path, const sp_vocab *in,
			const sp_vocab *labels)
{
	static const size_t wdims[2] = {3, 4}, bdims[1] = {4}, edims[2] = {0, 5};
	float w[12], b[4] = {0.5f, -0.25f, 0.125f, 0.0f}, scale = 2.5f;
	uint64_t rng[4] = {1, 0xffffffffffffffffULL, 3, 0x0123456789abcdefULL};
	sp_modelfile_writer *wr = NULL;
	int rc;
	for (int i = 0; i < 12; i++)
		w[i] = bits_(w_bits_[i]);
	rc = sp_modelfile_writer_new(&wr, ctx, path);
	if (rc != SP_OK)
		return rc;
	sp_modelfile_writer_meta(wr, "pipeline", "ner");
	sp_modelfile_writer_metaf(wr, "seed", "%d", 42);
	sp_modelfile_writer_meta(wr, "stage.1.plugin", "rnn 0.1.0");
	sp_modelfile_writer_meta(wr, "config", config_);
	sp_modelfile_writer_meta(wr, "empty", "");
	sp_modelfile_writer_vocab(wr, "input", in);
	sp_modelfile_writer_vocab(wr, "labels", labels);
	sp_modelfile_writer_tensor(wr, "rnn.Wxh", 2, wdims, w);
	sp_modelfile_writer_tensor(wr, "rnn.b", 1, bdims, b);
	sp_modelfile_writer_tensor(wr, "scale", 0, NULL, &scale);
	sp_modelfile_writer_tensor(wr, "none", 2, edims, NULL);
	sp_modelfile_writer_blob(wr, "optim", blob_, sizeof(blob_));
	sp_modelfile_writer_blob(wr, "rng", rng, sizeof(rng));
	sp_modelfile_writer_blob(wr, "nothing", NULL, 0);
	rc = sp_modelfile_writer_commit(wr, ctx);
	sp_modelfile_writer_free(wr);
	return rc;
}

static int same_vocab_(const sp_vocab *a, const sp_vocab *b)
{
	if (sp_vocab_size(a) != sp_vocab_size(b))
		return 0;
	for (int32_t i = 0; (size_t)i < sp_vocab_size(a); i++)
		if (strcmp(sp_vocab_token(a, i), sp_vocab_token(b, i)) != 0 ||
		    sp_vocab_count(a, i) != sp_vocab_count(b, i))
			return 0;
	for (int s = SP_SPECIAL_PAD; s <= SP_SPECIAL_EOS; s++)
		if (sp_vocab_special(a, s) != sp_vocab_special(b, s))
			return 0;
	return 1;
}

/* ---- tests --------------------------------------------------------------- */

static void test_round_trip(sp_ctx *ctx, const char *path,
			    const sp_vocab *in, const sp_vocab *labels)
{
	char tmp[640];
	sp_modelfile *m = NULL;
	sp_vocab *v = NULL;
	const float *data = NULL;
	const void *bytes = NULL;
	size_t dims[SP_MODELFILE_MAX_DIMS], n = 0;
	int ndim = -1, rc;

	rc = write_model_(ctx, path, in, labels);
	ok(rc == SP_OK, "write a model file (%s)",
	   rc == SP_OK ? "ok" : sp_errmsg(ctx));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ok(exists_(path) && !exists_(tmp), "the file exists, its .tmp is gone");

	rc = sp_modelfile_open(&m, ctx, path);
	ok(rc == SP_OK && m, "open it (%s)", rc == SP_OK ? "ok" : sp_errmsg(ctx));
	if (rc != SP_OK)
		return;
	ok_str(sp_modelfile_meta(m, "pipeline"), "ner", "meta pipeline");
	ok_str(sp_modelfile_meta(m, "seed"), "42", "meta seed (metaf)");
	ok_str(sp_modelfile_meta(m, "config"), config_,
	       "meta config, multi-line UTF-8, byte for byte");
	ok_str(sp_modelfile_meta(m, "empty"), "", "an empty meta value");
	ok(sp_modelfile_meta(m, "epoch") == NULL, "an absent key is NULL");
	ok(sp_modelfile_count(m, SP_MODELFILE_META) == 5 &&
	   sp_modelfile_count(m, SP_MODELFILE_VOCAB) == 2 &&
	   sp_modelfile_count(m, SP_MODELFILE_TENSOR) == 4 &&
	   sp_modelfile_count(m, SP_MODELFILE_BLOB) == 3,
	   "5 meta keys, 2 vocabularies, 4 tensors, 3 blobs");
	ok_str(sp_modelfile_name(m, SP_MODELFILE_TENSOR, 0), "rnn.Wxh",
	       "tensor 0 is rnn.Wxh (file order)");
	ok_str(sp_modelfile_name(m, SP_MODELFILE_TENSOR, 3), "none",
	       "tensor 3 is none");
	ok(sp_modelfile_name(m, SP_MODELFILE_TENSOR, 4) == NULL,
	   "no tensor 4");
	ok_str(sp_modelfile_name(m, SP_MODELFILE_VOCAB, 1), "labels",
	       "vocabulary 1 is labels");

	rc = sp_modelfile_vocab(&v, m, ctx, "input");
	ok(rc == SP_OK && same_vocab_(v, in),
	   "the input vocabulary: tokens, counts, specials");
	ok(v && sp_vocab_special(v, SP_SPECIAL_UNK) == 1 &&
	   sp_vocab_special(v, SP_SPECIAL_BOS) == -1,
	   "unk is 1, bos absent");
	sp_vocab_free(v);
	v = NULL;
	rc = sp_modelfile_vocab(&v, m, ctx, "labels");
	ok(rc == SP_OK && same_vocab_(v, labels), "the label vocabulary");
	sp_vocab_free(v);
	v = (sp_vocab *)&v;
	rc = sp_modelfile_vocab(&v, m, ctx, "output");
	ok(rc == SP_ENOTFOUND && v == NULL &&
	   strstr(sp_errmsg(ctx), "'output'"),
	   "an absent vocabulary: %s", sp_errmsg(ctx));

	rc = sp_modelfile_tensor(&data, &ndim, dims, m, ctx, "rnn.Wxh");
	ok(rc == SP_OK && ndim == 2 && dims[0] == 3 && dims[1] == 4 &&
	   dims[2] == 0, "rnn.Wxh is 3x4");
	ok(data && memcmp(data, w_bits_, sizeof(w_bits_)) == 0,
	   "its 12 floats, bit for bit (NaN payloads, -0, denormal, inf)");
	ok(((uintptr_t)data & 7) == 0, "its data is 8-byte aligned");
	rc = sp_modelfile_tensor(&data, &ndim, dims, m, ctx, "scale");
	ok(rc == SP_OK && ndim == 0 && data && data[0] == 2.5f,
	   "a scalar tensor");
	rc = sp_modelfile_tensor(&data, &ndim, dims, m, ctx, "none");
	ok(rc == SP_OK && ndim == 2 && dims[0] == 0 && dims[1] == 5,
	   "an empty 0x5 tensor");
	rc = sp_modelfile_tensor(&data, &ndim, dims, m, ctx, "rnn.Whh");
	ok(rc == SP_ENOTFOUND && data == NULL &&
	   strstr(sp_errmsg(ctx), "rnn.Whh"),
	   "an absent tensor: %s", sp_errmsg(ctx));
	{
		static const size_t good[2] = {3, 4}, bad[2] = {4, 3};
		rc = sp_modelfile_tensor_expect(&data, m, ctx, "rnn.Wxh", 2,
						good);
		ok(rc == SP_OK && data, "tensor_expect with the right shape");
		rc = sp_modelfile_tensor_expect(&data, m, ctx, "rnn.Wxh", 2,
						bad);
		ok(rc == SP_EINPUT && data == NULL &&
		   strstr(sp_errmsg(ctx), "is 3x4, expected 4x3"),
		   "tensor_expect with another shape: %s", sp_errmsg(ctx));
	}

	rc = sp_modelfile_blob(&bytes, &n, m, ctx, "optim");
	ok(rc == SP_OK && n == sizeof(blob_) &&
	   memcmp(bytes, blob_, sizeof(blob_)) == 0 &&
	   ((uintptr_t)bytes & 7) == 0, "the optim blob, aligned");
	rc = sp_modelfile_blob(&bytes, &n, m, ctx, "rng");
	ok(rc == SP_OK && n == 32 && ((const uint64_t *)bytes)[1] ==
					     0xffffffffffffffffULL,
	   "the rng blob reads back as uint64s in place");
	rc = sp_modelfile_blob(&bytes, &n, m, ctx, "nothing");
	ok(rc == SP_OK && n == 0, "an empty blob");
	rc = sp_modelfile_blob(&bytes, &n, m, ctx, "adam");
	ok(rc == SP_ENOTFOUND && bytes == NULL && n == 0, "an absent blob");
	sp_modelfile_free(m);
	sp_modelfile_free(NULL);
	ok(1, "free accepts NULL");
}

static void test_layout(sp_ctx *ctx, const char *path)
{
	static const unsigned char one_le[4] = {0x00, 0x00, 0x80, 0x3f};
	char sum[SP_MODELFILE_CHECKSUM_LEN + 1], want[16], p2[600];
	const char *s = sum;
	unsigned char *buf;
	size_t n;
	int64_t bytes = -1;
	int rc;

	buf = slurp_(path, &n);
	ok(buf && n > 28, "read the file back raw (%zu bytes)", n);
	if (!buf)
		return;
	ok(memcmp(buf, "SPMODEL\0", 8) == 0 && buf[8] == 1 && buf[9] == 0 &&
	   buf[10] == 0 && buf[11] == 0, "magic, then version 1 as LE u32");
	ok(memcmp(buf + n - 16, "END\0\4\0\0\0\0\0\0\0", 12) == 0,
	   "the last record is END with length 4");
	ok((uint32_t)(buf[n - 4] | buf[n - 3] << 8 | buf[n - 2] << 16 |
		      (uint32_t)buf[n - 1] << 24) == crc32_ref_(buf, n - 4),
	   "its CRC-32 covers every byte before it");
	ok(contains_(buf, n, one_le, 4), "floats are little-endian");
	rc = sp_modelfile_checksum(sum, &bytes, ctx, path);
	snprintf(want, sizeof(want), "%08lx",
		 (unsigned long)crc32_ref_(buf, n - 4));
	ok(rc == SP_OK && bytes == (int64_t)n, "checksum helper: size");
	ok_str(s, want, "checksum helper: the CRC-32 stored in the trailer, 8 hex");
	{
		/* not the constant CRC residue of data + its own CRC */
		char whole[16];
		snprintf(whole, sizeof(whole), "%08lx", (unsigned long)crc32_ref_(buf, n));
		ok(strcmp(s, whole) != 0, "checksum is not the file-independent residue %s", whole);
	}
	free(buf);
	path_(p2, sizeof(p2), "absent.spm");
	rc = sp_modelfile_checksum(sum, &bytes, ctx, p2);
	ok(rc == SP_EIO && strstr(sp_errmsg(ctx), p2) && sum[0] == '\0',
	   "checksum of a missing file: %s", sp_errmsg(ctx));
}

static void test_writer_errors(sp_ctx *ctx, const sp_vocab *in)
{
	static const size_t d[1] = {2}, big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	static const float x[2] = {1, 2};
	char path[600], tmp[620];
	sp_modelfile_writer *w = NULL;
	sp_modelfile *m = NULL;
	int rc;

	path_(path, sizeof(path), "dup.spm");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc = sp_modelfile_writer_new(&w, ctx, path);
	ok(rc == SP_OK && exists_(tmp), "a writer creates the .tmp");
	sp_modelfile_writer_tensor(w, "a", 1, d, x);
	rc = sp_modelfile_writer_tensor(w, "a", 1, d, x);
	ok(rc == SP_EINVAL, "a duplicate tensor name is refused");
	ok(sp_modelfile_writer_meta(w, "k", "v") == SP_EINVAL,
	   "later adders return the first error");
	rc = sp_modelfile_writer_commit(w, ctx);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "'a' added twice"),
	   "commit reports it: %s", sp_errmsg(ctx));
	ok(!exists_(path) && !exists_(tmp), "no file and no .tmp left");
	ok(sp_modelfile_writer_commit(w, ctx) == SP_EINVAL,
	   "a second commit is refused");
	sp_modelfile_writer_free(w);

	rc = sp_modelfile_writer_new(&w, ctx, path);
	sp_modelfile_writer_tensor(w, "big", 9, big, x);
	rc = sp_modelfile_writer_commit(w, ctx);
	ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "ndim 9"),
	   "9 dimensions: %s", sp_errmsg(ctx));
	sp_modelfile_writer_free(w);

	rc = sp_modelfile_writer_new(&w, ctx, path);
	sp_modelfile_writer_vocab(w, "", in);
	rc = sp_modelfile_writer_commit(w, ctx);
	ok(rc == SP_EINVAL, "a vocabulary without a role: %s", sp_errmsg(ctx));
	sp_modelfile_writer_free(w);

	rc = sp_modelfile_writer_new(&w, ctx, path);
	sp_modelfile_writer_meta(w, "pipeline", "ner");
	sp_modelfile_writer_free(w);
	ok(rc == SP_OK && !exists_(path) && !exists_(tmp),
	   "free without commit discards everything");
	sp_modelfile_writer_free(NULL);

	/* Commit replaces an existing file. */
	rc = sp_modelfile_writer_new(&w, ctx, path);
	sp_modelfile_writer_meta(w, "pipeline", "old");
	if (rc == SP_OK)
		rc = sp_modelfile_writer_commit(w, ctx);
	sp_modelfile_writer_free(w);
	w = NULL;
	if (rc == SP_OK)
		rc = sp_modelfile_writer_new(&w, ctx, path);
	sp_modelfile_writer_meta(w, "pipeline", "new");
	if (rc == SP_OK)
		rc = sp_modelfile_writer_commit(w, ctx);
	sp_modelfile_writer_free(w);
	if (rc == SP_OK)
		rc = sp_modelfile_open(&m, ctx, path);
	ok(rc == SP_OK && m && strcmp(sp_modelfile_meta(m, "pipeline"),
				      "new") == 0,
	   "commit replaces an existing file");
	sp_modelfile_free(m);
	remove(path);

	path_(path, sizeof(path), "no/such/dir/m.spm");
	w = (sp_modelfile_writer *)&w;
	rc = sp_modelfile_writer_new(&w, ctx, path);
	ok(rc == SP_EIO && w == NULL && strstr(sp_errmsg(ctx), "m.spm.tmp"),
	   "a writer into a missing folder: %s", sp_errmsg(ctx));
}

/* Every damaged version of the small file at path. */
static void test_corruption(sp_ctx *ctx, const char *path)
{
	char bad[600];
	unsigned char *buf, *copy;
	size_t n, bad_prefix = (size_t)-1, bad_flip = (size_t)-1;
	int rc, m_null, all;

	buf = slurp_(path, &n);
	copy = buf ? malloc(n + 32) : NULL;
	ok(buf && copy, "read the small model (%zu bytes)", n);
	if (!buf || !copy) {
		free(buf);
		return;
	}
	path_(bad, sizeof(bad), "bad.spm");

	memcpy(copy, buf, n);
	copy[0] = 'X';
	spit_(bad, copy, n);
	rc = open_fails_(ctx, bad, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), bad) &&
	   strstr(sp_errmsg(ctx), ": not a seqpipe model file (bad magic)"),
	   "bad magic: %s", sp_errmsg(ctx));
	spit_(bad, (const unsigned char *)"hello, world\n", 13);
	rc = open_fails_(ctx, bad, &m_null);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "bad magic"),
	   "a text file: %s", sp_errmsg(ctx));

	memcpy(copy, buf, n);
	copy[8] = 2;
	spit_(bad, copy, n);
	rc = open_fails_(ctx, bad, &m_null);
	ok(rc == SP_EINPUT && m_null &&
	   strstr(sp_errmsg(ctx),
		  ": model format version 2, this seqpipe reads up to 1"),
	   "a newer version: %s", sp_errmsg(ctx));

	/* Every prefix: a clean "truncated" error each time. */
	all = 1;
	for (size_t len = 0; len < n; len++) {
		spit_(bad, buf, len);
		rc = open_fails_(ctx, bad, &m_null);
		if (rc != SP_EINPUT || !m_null ||
		    !strstr(sp_errmsg(ctx), ": truncated at byte ")) {
			if (all)
				bad_prefix = len;
			all = 0;
		}
		if (len == 0 || len == 10 || len == 40 || len == n - 1)
			diag("prefix %zu: %s", len, sp_errmsg(ctx));
	}
	ok(all, "all %zu prefixes fail as truncated (first bad: %zd)", n,
	   (ssize_t)bad_prefix);

	/* Every single flipped byte fails; inside the records and the CRC
	 * it is a checksum mismatch. */
	all = 1;
	for (size_t i = 0; i < n; i++) {
		int want_crc = (i >= 12 && i < n - 16) || i >= n - 4;
		memcpy(copy, buf, n);
		copy[i] ^= 0xff;
		spit_(bad, copy, n);
		rc = open_fails_(ctx, bad, &m_null);
		if (rc != SP_EINPUT || !m_null ||
		    (want_crc && !strstr(sp_errmsg(ctx),
					 ": checksum mismatch: file is "
					 "corrupt"))) {
			if (all)
				bad_flip = i;
			all = 0;
		}
	}
	ok(all, "every flipped byte of %zu fails, in records as a checksum "
	   "mismatch (first bad: %zd)", n, (ssize_t)bad_flip);
	memcpy(copy, buf, n);
	copy[n / 2] ^= 0x01;
	spit_(bad, copy, n);
	rc = open_fails_(ctx, bad, &m_null);
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), "checksum mismatch"),
	   "one flipped bit: %s", sp_errmsg(ctx));

	memcpy(copy, buf, n);
	memset(copy + n, 'x', 20);
	spit_(bad, copy, n + 1);
	rc = open_fails_(ctx, bad, &m_null);
	ok(rc == SP_EINPUT && m_null, "one trailing byte: %s", sp_errmsg(ctx));
	spit_(bad, copy, n + 20);
	rc = open_fails_(ctx, bad, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), "data after the end"),
	   "20 trailing bytes: %s", sp_errmsg(ctx));
	free(copy);
	free(buf);
	remove(bad);
}

/* ---- forged files: right checksum, lying records ------------------------- */

typedef struct forge {
	unsigned char b[512];
	size_t n;
} forge;

static void f_bytes_(forge *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void f_u32_(forge *f, uint32_t x)
{
	unsigned char b[4] = {(unsigned char)x, (unsigned char)(x >> 8),
			      (unsigned char)(x >> 16), (unsigned char)(x >> 24)};
	f_bytes_(f, b, 4);
}

static void f_u64_(forge *f, uint64_t x)
{
	f_u32_(f, (uint32_t)x);
	f_u32_(f, (uint32_t)(x >> 32));
}

static void f_begin_(forge *f)
{
	f->n = 0;
	f_bytes_(f, "SPMODEL\0", 8);
	f_u32_(f, 1);
}

static void f_end_(forge *f)
{
	f_bytes_(f, "END\0", 4);
	f_u64_(f, 4);
	f_u32_(f, crc32_ref_(f->b, f->n));
}

static void test_forged(sp_ctx *ctx)
{
	char path[600];
	sp_modelfile *m = NULL;
	forge f;
	int rc, m_null;

	path_(path, sizeof(path), "forged.spm");

	f_begin_(&f); /* a record claiming 2^40 bytes */
	f_bytes_(&f, "TNSR", 4);
	f_u64_(&f, 1ULL << 40);
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), "corrupt") &&
	   strstr(sp_errmsg(ctx), "1099511627776"),
	   "a record length past the end: %s", sp_errmsg(ctx));

	f_begin_(&f); /* a 2x2 tensor with one float of data */
	f_bytes_(&f, "TNSR", 4);
	f_u64_(&f, 4 + 1 + 4 + 16 + 7 + 4);
	f_u32_(&f, 1);
	f_bytes_(&f, "w", 1);
	f_u32_(&f, 2);
	f_u64_(&f, 2);
	f_u64_(&f, 2);
	f_bytes_(&f, "\0\0\0\0\0\0\0", 7); /* offset 12+12+25 = 49 -> 56 */
	f_u32_(&f, 0x3f800000u);
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null &&
	   strstr(sp_errmsg(ctx), "corrupt TNSR record at byte 12: the data "
		  "does not match the shape"),
	   "a tensor shorter than its shape: %s", sp_errmsg(ctx));

	f_begin_(&f); /* a tensor with dims whose product overflows */
	f_bytes_(&f, "TNSR", 4);
	f_u64_(&f, 4 + 1 + 4 + 16 + 7);
	f_u32_(&f, 1);
	f_bytes_(&f, "w", 1);
	f_u32_(&f, 2);
	f_u64_(&f, 1ULL << 62);
	f_u64_(&f, 1ULL << 62);
	f_bytes_(&f, "\0\0\0\0\0\0\0", 7);
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null &&
	   strstr(sp_errmsg(ctx), "does not match the shape"),
	   "a shape that overflows: %s", sp_errmsg(ctx));

	f_begin_(&f); /* a vocabulary claiming 2^60 tokens */
	f_bytes_(&f, "VOCB", 4);
	f_u64_(&f, 4 + 2 + 4 + 8);
	f_u32_(&f, 2);
	f_bytes_(&f, "in", 2);
	f_u32_(&f, 0);
	f_u64_(&f, 1ULL << 60);
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), "corrupt VOCB"),
	   "a vocabulary size past the record: %s", sp_errmsg(ctx));

	f_begin_(&f); /* a vocabulary with a token twice */
	f_bytes_(&f, "VOCB", 4);
	f_u64_(&f, 4 + 2 + 4 + 8 + 2 * (4 + 1 + 8));
	f_u32_(&f, 2);
	f_bytes_(&f, "in", 2);
	f_u32_(&f, 0);
	f_u64_(&f, 2);
	for (int k = 0; k < 2; k++) {
		f_u32_(&f, 1);
		f_bytes_(&f, "a", 1);
		f_u64_(&f, 1);
	}
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), "'in'"),
	   "a vocabulary with a duplicate token: %s", sp_errmsg(ctx));

	f_begin_(&f); /* the same meta key twice */
	for (int k = 0; k < 2; k++) {
		f_bytes_(&f, "META", 4);
		f_u64_(&f, 4 + 1 + 4 + 1);
		f_u32_(&f, 1);
		f_bytes_(&f, "k", 1);
		f_u32_(&f, 1);
		f_bytes_(&f, "v", 1);
	}
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), "twice"),
	   "a duplicate meta key: %s", sp_errmsg(ctx));

	f_begin_(&f); /* an END record before the last */
	f_bytes_(&f, "END\0", 4);
	f_u64_(&f, 4);
	f_u32_(&f, 0);
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EINPUT && m_null && strstr(sp_errmsg(ctx), "end record"),
	   "two end records: %s", sp_errmsg(ctx));

	f_begin_(&f); /* an unknown record type is skipped */
	f_bytes_(&f, "XTRA", 4);
	f_u64_(&f, 5);
	f_bytes_(&f, "hello", 5);
	f_bytes_(&f, "META", 4);
	f_u64_(&f, 4 + 1 + 4 + 1);
	f_u32_(&f, 1);
	f_bytes_(&f, "k", 1);
	f_u32_(&f, 1);
	f_bytes_(&f, "v", 1);
	f_end_(&f);
	spit_(path, f.b, f.n);
	rc = sp_modelfile_open(&m, ctx, path);
	ok(rc == SP_OK && m && strcmp(sp_modelfile_meta(m, "k"), "v") == 0,
	   "an unknown record type is skipped (%s)",
	   rc == SP_OK ? "ok" : sp_errmsg(ctx));
	sp_modelfile_free(m);

	f_begin_(&f); /* the smallest valid file: no records */
	f_end_(&f);
	spit_(path, f.b, f.n);
	m = NULL;
	rc = sp_modelfile_open(&m, ctx, path);
	ok(rc == SP_OK && m && sp_modelfile_count(m, SP_MODELFILE_TENSOR) == 0,
	   "a file with no records opens");
	sp_modelfile_free(m);
	remove(path);

	path_(path, sizeof(path), "missing.spm");
	rc = open_fails_(ctx, path, &m_null);
	ok(rc == SP_EIO && m_null && strstr(sp_errmsg(ctx), path) &&
	   strstr(sp_errmsg(ctx), "No such file"),
	   "a missing file is SP_EIO naming it: %s", sp_errmsg(ctx));
}

/* A job's extras (sp_extras.h): set, replace, write as "extra.NAME"
 * tensors beside other tensors, read back only those. */
static void test_extras(sp_ctx *ctx)
{
	static const float a[3] = {1, 2, 3}, b[2] = {-4, 5}, w[2] = {7, 8};
	static const size_t d[1] = {2};
	sp_extras x = {0}, y = {0};
	sp_modelfile_writer *wr = NULL;
	sp_modelfile *m = NULL;
	const float *v;
	size_t n = 0;
	char path[600];
	int rc;
	path_(path, sizeof(path), "extras.spm");
	rc = sp_extras_set(&x, ctx, "first", a, 3);
	rc = rc ? rc : sp_extras_set(&x, ctx, "second", a, 3);
	rc = rc ? rc : sp_extras_set(&x, ctx, "second", b, 2);
	v = sp_extras_get(&x, "second", &n);
	ok(rc == SP_OK && x.n == 2 && v && n == 2 && v[0] == -4 && v[1] == 5,
	   "extras: a second set of a name replaces its array");
	ok(!sp_extras_get(&x, "third", &n) && n == 0, "extras: an unknown name is NULL");
	{
		char longname[SP_EXTRA_NAME_MAX + 2];
		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		rc = sp_extras_set(&x, ctx, longname, a, 3);
		ok(rc == SP_EINVAL && x.n == 2 && strstr(sp_errmsg(ctx), "at most 200 bytes"),
		   "extras: a name too long for the model file is refused: %s", sp_errmsg(ctx));
	}
	rc = sp_modelfile_writer_new(&wr, ctx, path);
	if (rc == SP_OK)
		rc = sp_modelfile_writer_tensor(wr, "rnn.W", 1, d, w);
	if (rc == SP_OK)
		rc = sp_extras_write(&x, wr);
	if (rc == SP_OK)
		rc = sp_modelfile_writer_commit(wr, ctx);
	sp_modelfile_writer_free(wr);
	if (rc == SP_OK)
		rc = sp_modelfile_open(&m, ctx, path);
	if (rc == SP_OK)
		rc = sp_extras_read(&y, ctx, m);
	v = sp_extras_get(&y, "first", &n);
	ok(rc == SP_OK && y.n == 2 && v && n == 3 && v[2] == 3 &&
	   sp_extras_get(&y, "second", &n) && n == 2,
	   "extras: written as extra.NAME tensors and read back, the weights left out (rc %d)",
	   rc);
	sp_modelfile_free(m);
	sp_extras_fini(&x);
	sp_extras_fini(&y);
	remove(path);
}

int main(void)
{
	sp_ctx *ctx = NULL;
	sp_vocab *in = NULL, *labels = NULL;
	char path[600], small[600];
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(dir_, sizeof(dir_), "%s/t_modelfile.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir_) || sp_ctx_new(&ctx, 1) != SP_OK ||
	    make_vocabs_(&in, &labels, ctx) != SP_OK) {
		printf("Bail out! no temporary folder, context or vocabulary\n");
		return 1;
	}
	path_(path, sizeof(path), "model.spm");
	test_round_trip(ctx, path, in, labels);
	test_layout(ctx, path);
	test_writer_errors(ctx, in);
	test_extras(ctx);

	/* A small file with one record of each kind for the byte loops. */
	path_(small, sizeof(small), "small.spm");
	{
		static const size_t d[1] = {2};
		static const float x[2] = {1.0f, -2.0f};
		sp_modelfile_writer *w = NULL;
		rc = sp_modelfile_writer_new(&w, ctx, small);
		sp_modelfile_writer_meta(w, "pipeline", "hello");
		sp_modelfile_writer_vocab(w, "input", labels);
		sp_modelfile_writer_tensor(w, "w", 1, d, x);
		sp_modelfile_writer_blob(w, "b", "xyz", 3);
		if (rc == SP_OK)
			rc = sp_modelfile_writer_commit(w, ctx);
		sp_modelfile_writer_free(w);
		ok(rc == SP_OK, "write a small model");
	}
	test_corruption(ctx, small);
	test_forged(ctx);

	remove(path);
	remove(small);
	ok(rmdir(dir_) == 0, "no file is left behind (no .tmp)");
	sp_vocab_free(in);
	sp_vocab_free(labels);
	sp_ctx_free(ctx);
	return tap_done();
}
