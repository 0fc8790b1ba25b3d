/*
 * sp_modelfile.c: writing and reading model files (format in
 * sp_modelfile.h).
 *
 * The writer streams records into "<path>.tmp" while a running CRC-32
 * covers every byte, so a tensor is never copied.  The reader loads the
 * whole file, checks magic, version and checksum before it trusts a single
 * length field, then indexes the records; tensors and blobs are handed out
 * in place (the format pads them to 8-byte file offsets, and the buffer
 * comes from malloc, so the pointers are aligned).
 *
 * Telling truncation from corruption: a complete file ends in a 16-byte
 * END record.  When the last 16 bytes are one, the checksum decides; when
 * they are not, the file was cut short, and walking the records from the
 * front says where.
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

#include "sp_vocab.h"

static const unsigned char magic_[8] = {'S', 'P', 'M', 'O', 'D', 'E', 'L', 0};

/* Record types: four ASCII letters, read as a little-endian u32. */
#define TAG_(a, b, c, d)                                                   \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |        \
	 (uint32_t)(d) << 24)
#define TAG_META TAG_('M', 'E', 'T', 'A')
#define TAG_VOCB TAG_('V', 'O', 'C', 'B')
#define TAG_TNSR TAG_('T', 'N', 'S', 'R')
#define TAG_BLOB TAG_('B', 'L', 'O', 'B')
#define TAG_END TAG_('E', 'N', 'D', 0)

#define HEADER_LEN 12   /* magic + version */
#define REC_HEAD_LEN 12 /* u32 type + u64 length */
#define END_LEN 16      /* the END record: header + u32 CRC */

/* Special ids stored per vocabulary, in this order. */
static const sp_special specials_[] = {SP_SPECIAL_PAD, SP_SPECIAL_UNK,
				       SP_SPECIAL_BOS, SP_SPECIAL_EOS};
#define N_SPECIALS (sizeof(specials_) / sizeof(specials_[0]))

/* zlib's crc32 takes a uInt length: feed large buffers in slices. */
static uLong crc_update_(uLong crc, const void *data, size_t n)
{
	const unsigned char *p = data;
	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = crc32(crc, p, k);
		p += k;
		n -= k;
	}
	return crc;
}

static int host_is_le_(void)
{
	const uint16_t one = 1;
	unsigned char b;
	memcpy(&b, &one, 1);
	return b == 1;
}

static uint32_t swap32_(uint32_t x)
{
	return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) |
	       (x << 24);
}

static uint32_t get_u32_(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64_(const unsigned char *p)
{
	return (uint64_t)get_u32_(p) | (uint64_t)get_u32_(p + 4) << 32;
}

static void set_u32_(unsigned char *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(x >> (8 * i));
}

static void set_u64_(unsigned char *p, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(x >> (8 * i));
}

/* Zero bytes that bring file offset `off` to a multiple of 8. */
static size_t pad8_(uint64_t off)
{
	return (size_t)((8 - off % 8) % 8);
}

/* "TNSR", or the number in hex when the type is not printable. */
static const char *tag_name_(uint32_t tag, char buf[16])
{
	if (tag == TAG_END)
		return "END";
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)(tag >> (8 * i));
		if (c < 0x20 || c > 0x7e) {
			snprintf(buf, 16, "0x%08lx", (unsigned long)tag);
			return buf;
		}
		buf[i] = (char)c;
	}
	buf[4] = '\0';
	return buf;
}

/* ======================================================================== */
/* Writer                                                                   */
/* ======================================================================== */

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

/* Number of elements of a shape, or 0 with *ok = 0 on overflow of the
 * byte size. */
static size_t shape_count_(int ndim, const size_t *dims, int *ok)
{
	size_t count = 1;
	*ok = 1;
	for (int i = 0; i < ndim; i++) {
		if (dims[i] != 0 && count > SIZE_MAX / 4 / dims[i]) {
			*ok = 0;
			return 0;
		}
		count *= dims[i];
	}
	return count;
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

/* ======================================================================== */
/* Reader                                                                   */
/* ======================================================================== */

typedef struct mf_entry {
	sp_modelfile_kind kind;
	char *name;
	char *value;           /* META */
	sp_vocab *vocab;       /* VOCB */
	int ndim;              /* TNSR */
	size_t dims[SP_MODELFILE_MAX_DIMS];
	const void *data;      /* TNSR floats, BLOB bytes: inside buf */
	size_t n;              /* TNSR elements, BLOB bytes */
} mf_entry;

struct sp_modelfile {
	char *path;            /* for messages */
	unsigned char *buf;    /* the whole file */
	size_t size;
	mf_entry *ent;         /* in file order */
	size_t n_ent, cap_ent;
};

/* Reads a whole file (caller frees *out). */
static int read_file_(unsigned char **out, size_t *out_n, sp_ctx *ctx,
		      const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	int code = SP_OK;

	*out = NULL;
	*out_n = 0;
	if (!f)
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", path,
			      strerror(errno));
	for (;;) {
		size_t got;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			unsigned char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) {
				code = sp_err(ctx, SP_ENOMEM, "%s: out of "
					      "memory", path);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		code = sp_err(ctx, SP_EIO, "%s: cannot read: %s", path,
			      strerror(errno));
		goto fail;
	}
	fclose(f);
	*out = buf;
	*out_n = n;
	return SP_OK;
fail:
	fclose(f);
	free(buf);
	return code;
}

/* A bounded cursor over one record's payload; offsets are file offsets
 * (the padding depends on them). */
typedef struct mf_cur {
	const unsigned char *buf;
	size_t pos, end;
	const char *why;       /* what was wrong, for the message */
} mf_cur;

static int cur_take_(mf_cur *c, size_t n, const unsigned char **out)
{
	if (n > c->end - c->pos) {
		c->why = "a field runs past the end of the record";
		return -1;
	}
	*out = c->buf + c->pos;
	c->pos += n;
	return 0;
}

static int cur_u32_(mf_cur *c, uint32_t *out)
{
	const unsigned char *p;
	if (cur_take_(c, 4, &p) != 0)
		return -1;
	*out = get_u32_(p);
	return 0;
}

static int cur_u64_(mf_cur *c, uint64_t *out)
{
	const unsigned char *p;
	if (cur_take_(c, 8, &p) != 0)
		return -1;
	*out = get_u64_(p);
	return 0;
}

/* A string, copied with a NUL (caller frees).  Empty ones are allowed
 * only when allow_empty is set (values; not names). */
static int cur_str_(mf_cur *c, char **out, int allow_empty)
{
	const unsigned char *p;
	uint32_t n;
	*out = NULL;
	if (cur_u32_(c, &n) != 0 || cur_take_(c, n, &p) != 0)
		return -1;
	if (n == 0 && !allow_empty) {
		c->why = "an empty name";
		return -1;
	}
	if (memchr(p, 0, n)) {
		c->why = "a NUL byte inside a string";
		return -1;
	}
	*out = malloc((size_t)n + 1);
	if (!*out) {
		c->why = "out of memory";
		return -1;
	}
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

static int cur_pad_(mf_cur *c)
{
	const unsigned char *p;
	size_t n = pad8_(c->pos);
	if (cur_take_(c, n, &p) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			c->why = "non-zero padding";
			return -1;
		}
	}
	return 0;
}

static const mf_entry *find_(const sp_modelfile *m, sp_modelfile_kind kind,
			     const char *name)
{
	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->n_ent; i++)
		if (m->ent[i].kind == kind && strcmp(m->ent[i].name, name) == 0)
			return &m->ent[i];
	return NULL;
}

static const char *kind_name_(sp_modelfile_kind kind)
{
	switch (kind) {
	case SP_MODELFILE_META: return "meta key";
	case SP_MODELFILE_VOCAB: return "vocabulary";
	case SP_MODELFILE_TENSOR: return "tensor";
	case SP_MODELFILE_BLOB: return "blob";
	}
	return "record";
}

/* The message for a record that contradicts itself. */
static int corrupt_(const sp_modelfile *m, sp_ctx *ctx, uint32_t tag,
		    size_t start, const mf_cur *c)
{
	char tname[16];
	return sp_err(ctx, SP_EINPUT, "%s: corrupt %s record at byte %zu: %s",
		      m->path, tag_name_(tag, tname), start,
		      c->why ? c->why : "malformed");
}

/*
 * Builds the vocabulary of the VOCB record at `start` from its payload
 * after the role (caller owns *out).  A jump to fail with code still SP_OK
 * means the payload is corrupt, and c->why says how.
 */
static int parse_vocab_(sp_vocab **out, const sp_modelfile *m, sp_ctx *ctx,
			size_t start, mf_cur *c, const char *role)
{
	int32_t special[N_SPECIALS];
	sp_vocab *v = NULL;
	uint32_t n_special;
	uint64_t V;
	char *tok = NULL;
	int code = SP_OK;

	*out = NULL;
	if (cur_u32_(c, &n_special) != 0)
		goto fail;
	/* Specials this code does not know (a later format) are skipped. */
	for (uint32_t k = 0; k < n_special; k++) {
		uint32_t id;
		if (cur_u32_(c, &id) != 0)
			goto fail;
		if (k < N_SPECIALS)
			special[k] = (int32_t)id;
	}
	for (uint32_t k = n_special; k < N_SPECIALS; k++)
		special[k] = -1;
	if (cur_u64_(c, &V) != 0)
		goto fail;
	/* Each entry takes at least 13 bytes: refuse a size the payload
	 * cannot hold before looping over it. */
	if (V > (c->end - c->pos) / 13 || V > INT32_MAX) {
		c->why = "more tokens than the record holds";
		goto fail;
	}
	if (sp_vocab_new(&v) != SP_OK) {
		code = sp_err(ctx, SP_ENOMEM, "%s: out of memory", m->path);
		goto fail;
	}
	for (uint64_t i = 0; i < V; i++) {
		uint64_t count;
		if (cur_str_(c, &tok, 0) != 0 || cur_u64_(c, &count) != 0)
			goto fail;
		code = sp_vocab_add(v, ctx, tok, strlen(tok), (int64_t)count,
				    NULL);
		if (code != SP_OK) {
			code = sp_err_prefix(ctx, code == SP_ENOMEM ?
						       SP_ENOMEM : SP_EINPUT,
					     "%s: vocabulary '%s'", m->path,
					     role);
			goto fail;
		}
		free(tok);
		tok = NULL;
	}
	for (size_t k = 0; k < N_SPECIALS; k++) {
		if (special[k] == -1)
			continue;
		if (special[k] < 0 || (uint64_t)special[k] >= V) {
			c->why = "a special token id out of range";
			goto fail;
		}
		code = sp_vocab_set_special(v, ctx, specials_[k], special[k]);
		if (code != SP_OK) {
			code = sp_err_prefix(ctx, SP_EINPUT,
					     "%s: vocabulary '%s'", m->path,
					     role);
			goto fail;
		}
	}
	*out = v;
	return SP_OK;
fail:
	if (code == SP_OK)
		code = corrupt_(m, ctx, TAG_VOCB, start, c);
	free(tok);
	sp_vocab_free(v);
	return code;
}

/*
 * Indexes the record at `start` (payload of len bytes) of a file whose
 * checksum is right.  Unknown types are skipped.  As in parse_vocab_, a
 * jump to fail with code still SP_OK means a corrupt payload.
 */
static int parse_record_(sp_modelfile *m, sp_ctx *ctx, uint32_t tag,
			 size_t start, size_t len)
{
	mf_cur c = {m->buf, start + REC_HEAD_LEN, start + REC_HEAD_LEN + len,
		    NULL};
	mf_entry e;
	int code = SP_OK;

	memset(&e, 0, sizeof(e));
	switch (tag) {
	case TAG_META: e.kind = SP_MODELFILE_META; break;
	case TAG_VOCB: e.kind = SP_MODELFILE_VOCAB; break;
	case TAG_TNSR: e.kind = SP_MODELFILE_TENSOR; break;
	case TAG_BLOB: e.kind = SP_MODELFILE_BLOB; break;
	default: return SP_OK; /* a newer optional record: skip it */
	}
	if (cur_str_(&c, &e.name, 0) != 0)
		goto fail;
	if (find_(m, e.kind, e.name)) {
		code = sp_err(ctx, SP_EINPUT, "%s: corrupt: %s '%s' appears "
			      "twice", m->path, kind_name_(e.kind), e.name);
		goto fail;
	}
	if (e.kind == SP_MODELFILE_META) {
		if (cur_str_(&c, &e.value, 1) != 0)
			goto fail;
	} else if (e.kind == SP_MODELFILE_VOCAB) {
		code = parse_vocab_(&e.vocab, m, ctx, start, &c, e.name);
		if (code != SP_OK)
			goto fail;
	} else if (e.kind == SP_MODELFILE_TENSOR) {
		uint32_t ndim;
		int ok;
		if (cur_u32_(&c, &ndim) != 0)
			goto fail;
		if (ndim > SP_MODELFILE_MAX_DIMS) {
			c.why = "too many dimensions";
			goto fail;
		}
		e.ndim = (int)ndim;
		for (uint32_t i = 0; i < ndim; i++) {
			uint64_t d;
			if (cur_u64_(&c, &d) != 0)
				goto fail;
			if (d > SIZE_MAX) {
				c.why = "a dimension too large";
				goto fail;
			}
			e.dims[i] = (size_t)d;
		}
		e.n = shape_count_(e.ndim, e.dims, &ok);
		if (cur_pad_(&c) != 0)
			goto fail;
		if (!ok || c.end - c.pos != 4 * e.n) {
			c.why = "the data does not match the shape";
			goto fail;
		}
		e.data = m->buf + c.pos;
		if (!host_is_le_()) {
			uint32_t *u = (uint32_t *)(m->buf + c.pos);
			for (size_t i = 0; i < e.n; i++)
				u[i] = swap32_(u[i]);
		}
		c.pos = c.end;
	} else {
		if (cur_pad_(&c) != 0)
			goto fail;
		e.data = m->buf + c.pos;
		e.n = c.end - c.pos;
		c.pos = c.end;
	}
	if (c.pos != c.end) {
		c.why = "bytes left over at its end";
		goto fail;
	}
	if (m->n_ent == m->cap_ent) {
		size_t cap = m->cap_ent ? 2 * m->cap_ent : 16;
		mf_entry *ent = realloc(m->ent, cap * sizeof(*ent));
		if (!ent) {
			code = sp_err(ctx, SP_ENOMEM, "%s: out of memory",
				      m->path);
			goto fail;
		}
		m->ent = ent;
		m->cap_ent = cap;
	}
	m->ent[m->n_ent++] = e;
	return SP_OK;
fail:
	if (code == SP_OK)
		code = corrupt_(m, ctx, tag, start, &c);
	free(e.name);
	free(e.value);
	sp_vocab_free(e.vocab);
	return code;
}

/*
 * The file has no END record at its tail: it was cut short (or its tail
 * was damaged).  Walks the records to say where the data stops.
 */
static int explain_truncation_(const sp_modelfile *m, sp_ctx *ctx)
{
	size_t pos = HEADER_LEN, size = m->size;
	char tname[16];
	for (;;) {
		uint32_t tag;
		uint64_t len;
		if (size - pos < REC_HEAD_LEN)
			return sp_err(ctx, SP_EINPUT, "%s: truncated at byte "
				      "%zu, expected %s at byte %zu", m->path,
				      size, pos == size ?
				      "another record or the end record" :
				      "a 12-byte record header", pos);
		tag = get_u32_(m->buf + pos);
		len = get_u64_(m->buf + pos + 4);
		if (len > size - pos - REC_HEAD_LEN)
			return sp_err(ctx, SP_EINPUT, "%s: truncated at byte "
				      "%zu, expected %llu bytes of the %s "
				      "record at byte %zu", m->path, size,
				      (unsigned long long)len,
				      tag_name_(tag, tname), pos);
		if (tag == TAG_END)
			return sp_err(ctx, SP_EINPUT, "%s: corrupt: data "
				      "after the end record at byte %zu (%zu "
				      "bytes)", m->path, pos, size - pos -
				      REC_HEAD_LEN - (size_t)len);
		pos += REC_HEAD_LEN + (size_t)len;
	}
}

int sp_modelfile_open(sp_modelfile **out, sp_ctx *ctx, const char *path)
{
	sp_modelfile *m = NULL;
	uint32_t version;
	size_t pos, end;
	int code;

	*out = NULL;
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "model file: no file name");
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		code = sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	code = read_file_(&m->buf, &m->size, ctx, path);
	if (code != SP_OK)
		goto fail;

	/* Magic and version come before the checksum: a file from a newer
	 * seqpipe should say so, not "corrupt". */
	code = SP_EINPUT;
	if (memcmp(m->buf, magic_, m->size < 8 ? m->size : 8) != 0) {
		sp_err(ctx, code, "%s: not a seqpipe model file (bad magic)",
		       path);
		goto fail;
	}
	if (m->size < HEADER_LEN) {
		sp_err(ctx, code, "%s: truncated at byte %zu, expected %s",
		       path, m->size, m->size < 8 ?
		       "the 8-byte magic \"SPMODEL\"" :
		       "the 4-byte format version at byte 8");
		goto fail;
	}
	version = get_u32_(m->buf + 8);
	if (version > SP_MODELFILE_VERSION || version == 0) {
		sp_err(ctx, code, "%s: model format version %lu, this seqpipe "
		       "reads up to %d", path, (unsigned long)version,
		       SP_MODELFILE_VERSION);
		goto fail;
	}
	if (m->size < HEADER_LEN + END_LEN ||
	    get_u32_(m->buf + m->size - END_LEN) != TAG_END ||
	    get_u64_(m->buf + m->size - END_LEN + 4) != 4) {
		code = explain_truncation_(m, ctx);
		goto fail;
	}
	if (crc_update_(crc32(0L, Z_NULL, 0), m->buf, m->size - 4) !=
	    get_u32_(m->buf + m->size - 4)) {
		sp_err(ctx, code, "%s: checksum mismatch: file is corrupt",
		       path);
		goto fail;
	}

	/* The bytes are as written; from here on a bad length is a writer
	 * bug or a forged file, and still must not be trusted. */
	end = m->size - END_LEN;
	for (pos = HEADER_LEN; pos < end;) {
		uint32_t tag;
		uint64_t len;
		char tname[16];
		if (end - pos < REC_HEAD_LEN) {
			code = sp_err(ctx, SP_EINPUT, "%s: corrupt: a record "
				      "header at byte %zu overruns the end "
				      "record", path, pos);
			goto fail;
		}
		tag = get_u32_(m->buf + pos);
		len = get_u64_(m->buf + pos + 4);
		if (len > end - pos - REC_HEAD_LEN) {
			code = sp_err(ctx, SP_EINPUT, "%s: corrupt: the %s "
				      "record at byte %zu claims %llu bytes, "
				      "past the end record at byte %zu", path,
				      tag_name_(tag, tname), pos,
				      (unsigned long long)len, end);
			goto fail;
		}
		if (tag == TAG_END) {
			code = sp_err(ctx, SP_EINPUT, "%s: corrupt: an end "
				      "record at byte %zu before the last",
				      path, pos);
			goto fail;
		}
		code = parse_record_(m, ctx, tag, pos, (size_t)len);
		if (code != SP_OK)
			goto fail;
		pos += REC_HEAD_LEN + (size_t)len;
	}
	*out = m;
	return SP_OK;
fail:
	sp_modelfile_free(m);
	return code;
}

void sp_modelfile_free(sp_modelfile *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_ent; i++) {
		free(m->ent[i].name);
		free(m->ent[i].value);
		sp_vocab_free(m->ent[i].vocab);
	}
	free(m->ent);
	free(m->buf);
	free(m->path);
	free(m);
}

const char *sp_modelfile_meta(const sp_modelfile *m, const char *key)
{
	const mf_entry *e = find_(m, SP_MODELFILE_META, key);
	return e ? e->value : NULL;
}

/* SP_ENOTFOUND with a message naming what is missing. */
static int not_found_(const sp_modelfile *m, sp_ctx *ctx,
		      sp_modelfile_kind kind, const char *name)
{
	return sp_err(ctx, SP_ENOTFOUND, "%s: no %s '%s'",
		      m ? m->path : "model file", kind_name_(kind),
		      name ? name : "");
}

int sp_modelfile_vocab(sp_vocab **out, const sp_modelfile *m, sp_ctx *ctx,
		       const char *role)
{
	const mf_entry *e = find_(m, SP_MODELFILE_VOCAB, role);
	*out = NULL;
	if (!e)
		return not_found_(m, ctx, SP_MODELFILE_VOCAB, role);
	if (sp_vocab_clone(out, e->vocab) != SP_OK)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", m->path);
	return SP_OK;
}

int sp_modelfile_tensor(const float **out, int *out_ndim,
			size_t out_dims[SP_MODELFILE_MAX_DIMS],
			const sp_modelfile *m, sp_ctx *ctx, const char *name)
{
	const mf_entry *e = find_(m, SP_MODELFILE_TENSOR, name);
	*out = NULL;
	*out_ndim = 0;
	memset(out_dims, 0, SP_MODELFILE_MAX_DIMS * sizeof(*out_dims));
	if (!e)
		return not_found_(m, ctx, SP_MODELFILE_TENSOR, name);
	*out = e->data;
	*out_ndim = e->ndim;
	memcpy(out_dims, e->dims, (size_t)e->ndim * sizeof(*out_dims));
	return SP_OK;
}

/* "4x5" (a scalar is "scalar"). */
static void shape_str_(char *buf, size_t size, int ndim, const size_t *dims)
{
	size_t n = 0;
	buf[0] = '\0';
	if (ndim == 0)
		snprintf(buf, size, "scalar");
	for (int i = 0; i < ndim && n < size; i++) {
		int k = snprintf(buf + n, size - n, "%s%zu", i ? "x" : "",
				 dims[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

int sp_modelfile_tensor_expect(const float **out, const sp_modelfile *m,
			       sp_ctx *ctx, const char *name, int ndim,
			       const size_t *dims)
{
	size_t have[SP_MODELFILE_MAX_DIMS];
	char a[128], b[128];
	int have_ndim;
	int code = sp_modelfile_tensor(out, &have_ndim, have, m, ctx, name);
	int same;
	if (code != SP_OK)
		return code;
	same = have_ndim == ndim;
	for (int i = 0; same && i < ndim; i++)
		same = have[i] == dims[i];
	if (same)
		return SP_OK;
	*out = NULL;
	shape_str_(a, sizeof(a), have_ndim, have);
	shape_str_(b, sizeof(b), ndim < 0 || ndim > SP_MODELFILE_MAX_DIMS ?
				 0 : ndim, dims);
	return sp_err(ctx, SP_EINPUT, "%s: tensor '%s' is %s, expected %s",
		      m->path, name, a, b);
}

int sp_modelfile_blob(const void **out, size_t *out_n, const sp_modelfile *m,
		      sp_ctx *ctx, const char *name)
{
	const mf_entry *e = find_(m, SP_MODELFILE_BLOB, name);
	*out = NULL;
	*out_n = 0;
	if (!e)
		return not_found_(m, ctx, SP_MODELFILE_BLOB, name);
	*out = e->data;
	*out_n = e->n;
	return SP_OK;
}

size_t sp_modelfile_count(const sp_modelfile *m, sp_modelfile_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; m && i < m->n_ent; i++)
		n += m->ent[i].kind == kind;
	return n;
}

const char *sp_modelfile_name(const sp_modelfile *m, sp_modelfile_kind kind,
			      size_t i)
{
	for (size_t j = 0; m && j < m->n_ent; j++)
		if (m->ent[j].kind == kind && i-- == 0)
			return m->ent[j].name;
	return NULL;
}

int sp_modelfile_checksum(char out[SP_MODELFILE_CHECKSUM_LEN + 1],
			  int64_t *out_bytes, sp_ctx *ctx, const char *path)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	int64_t total = 0;
	FILE *f;
	size_t got;

	out[0] = '\0';
	if (out_bytes)
		*out_bytes = 0;
	if (!path)
		return sp_err(ctx, SP_EINVAL, "checksum: no file name");
	f = fopen(path, "rb");
	if (!f)
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", path,
			      strerror(errno));
	/* A model file ends with the CRC-32 of all that precedes it, and the
	 * CRC of data followed by its own CRC is the same constant for every
	 * file; so for a model file the trailer is left out, and the result
	 * is the CRC stored in it. */
	{
		int64_t size = -1, limit;
		if (fseek(f, 0, SEEK_END) == 0)
			size = (int64_t)ftell(f);
		rewind(f);
		got = fread(buf, 1, 8, f);
		limit = (got == 8 && size >= 12 && memcmp(buf, "SPMODEL", 8) == 0)
				? size - 4 : INT64_MAX;
		rewind(f);
		while (total < limit &&
		       (got = fread(buf, 1,
				    (size_t)(limit - total < (int64_t)sizeof(buf)
						     ? limit - total : (int64_t)sizeof(buf)),
				    f)) > 0) {
			crc = crc_update_(crc, buf, got);
			total += (int64_t)got;
		}
		if (size >= 0)
			total = size;
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		return sp_err(ctx, SP_EIO, "%s: cannot read: %s", path,
			      strerror(e));
	}
	fclose(f);
	snprintf(out, SP_MODELFILE_CHECKSUM_LEN + 1, "%08lx",
		 (unsigned long)(crc & 0xffffffffUL));
	if (out_bytes)
		*out_bytes = total;
	return SP_OK;
}
