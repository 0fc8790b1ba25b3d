/*
 * sp_modelfile.c: reading model files (format in sp_modelfile.h; the
 * writer is sp_modelfile_writer.c).
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

#include "sp_modelfile_format.h"
#include "sp_vocab.h"

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

/* A tensor record after its name: ndim, the dims, padding, the floats
 * (byte-swapped in place on a big-endian host).  -1 with c->why set when
 * it is corrupt. */
static int parse_tensor_(sp_modelfile *m, mf_cur *c, mf_entry *e)
{
	uint32_t ndim;
	int ok;
	if (cur_u32_(c, &ndim) != 0)
		return -1;
	if (ndim > SP_MODELFILE_MAX_DIMS) {
		c->why = "too many dimensions";
		return -1;
	}
	e->ndim = (int)ndim;
	for (uint32_t i = 0; i < ndim; i++) {
		uint64_t d;
		if (cur_u64_(c, &d) != 0)
			return -1;
		if (d > SIZE_MAX) {
			c->why = "a dimension too large";
			return -1;
		}
		e->dims[i] = (size_t)d;
	}
	e->n = shape_count_(e->ndim, e->dims, &ok);
	if (cur_pad_(c) != 0)
		return -1;
	if (!ok || c->end - c->pos != 4 * e->n) {
		c->why = "the data does not match the shape";
		return -1;
	}
	e->data = m->buf + c->pos;
	if (!host_is_le_()) {
		uint32_t *u = (uint32_t *)(m->buf + c->pos);
		for (size_t i = 0; i < e->n; i++)
			u[i] = swap32_(u[i]);
	}
	c->pos = c->end;
	return 0;
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
		if (parse_tensor_(m, &c, &e) != 0)
			goto fail;
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

/* Magic, version, end record and checksum of the file read into m. */
static int check_header_(sp_modelfile *m, sp_ctx *ctx)
{
	const char *path = m->path;
	uint32_t version;
	int code;

	/* Magic and version come before the checksum: a file from a newer
	 * seqpipe should say so, not "corrupt". */
	code = SP_EINPUT;
	if (memcmp(m->buf, magic_, m->size < 8 ? m->size : 8) != 0) {
		sp_err(ctx, code, "%s: not a seqpipe model file (bad magic)",
		       path);
		return code;
	}
	if (m->size < HEADER_LEN) {
		sp_err(ctx, code, "%s: truncated at byte %zu, expected %s",
		       path, m->size, m->size < 8 ?
		       "the 8-byte magic \"SPMODEL\"" :
		       "the 4-byte format version at byte 8");
		return code;
	}
	version = get_u32_(m->buf + 8);
	if (version > SP_MODELFILE_VERSION || version == 0) {
		sp_err(ctx, code, "%s: model format version %lu, this seqpipe "
		       "reads up to %d", path, (unsigned long)version,
		       SP_MODELFILE_VERSION);
		return code;
	}
	if (m->size < HEADER_LEN + END_LEN ||
	    get_u32_(m->buf + m->size - END_LEN) != TAG_END ||
	    get_u64_(m->buf + m->size - END_LEN + 4) != 4) {
		code = explain_truncation_(m, ctx);
		return code;
	}
	if (crc_update_(crc32(0L, Z_NULL, 0), m->buf, m->size - 4) !=
	    get_u32_(m->buf + m->size - 4)) {
		sp_err(ctx, code, "%s: checksum mismatch: file is corrupt",
		       path);
		return code;
	}

	return SP_OK;
}

/* Every record between the header and the end record, indexed. */
static int index_records_(sp_modelfile *m, sp_ctx *ctx)
{
	const char *path = m->path;
	size_t pos, end;
	int code;

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
			return code;
		}
		tag = get_u32_(m->buf + pos);
		len = get_u64_(m->buf + pos + 4);
		if (len > end - pos - REC_HEAD_LEN) {
			code = sp_err(ctx, SP_EINPUT, "%s: corrupt: the %s "
				      "record at byte %zu claims %llu bytes, "
				      "past the end record at byte %zu", path,
				      tag_name_(tag, tname), pos,
				      (unsigned long long)len, end);
			return code;
		}
		if (tag == TAG_END) {
			code = sp_err(ctx, SP_EINPUT, "%s: corrupt: an end "
				      "record at byte %zu before the last",
				      path, pos);
			return code;
		}
		code = parse_record_(m, ctx, tag, pos, (size_t)len);
		if (code != SP_OK)
			return code;
		pos += REC_HEAD_LEN + (size_t)len;
	}
	return SP_OK;
}

int sp_modelfile_open(sp_modelfile **out, sp_ctx *ctx, const char *path)
{
	sp_modelfile *m = NULL;
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

	if ((code = check_header_(m, ctx)) != SP_OK ||
	    (code = index_records_(m, ctx)) != SP_OK)
		goto fail;
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
