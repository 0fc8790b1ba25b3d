/*
 * sp_modelfile_format.h: the byte layout both the model file writer and
 * reader use (record tags, header sizes, byte order, CRC, padding).
 * Host-only (not installed); included by sp_modelfile.c and
 * sp_modelfile_writer.c only.
 */
#ifndef SP_MODELFILE_FORMAT_H
#define SP_MODELFILE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
static inline uLong crc_update_(uLong crc, const void *data, size_t n)
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

static inline int host_is_le_(void)
{
	const uint16_t one = 1;
	unsigned char b;
	memcpy(&b, &one, 1);
	return b == 1;
}

static inline uint32_t swap32_(uint32_t x)
{
	return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) |
	       (x << 24);
}

static inline uint32_t get_u32_(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64_(const unsigned char *p)
{
	return (uint64_t)get_u32_(p) | (uint64_t)get_u32_(p + 4) << 32;
}

static inline void set_u32_(unsigned char *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(x >> (8 * i));
}

static inline void set_u64_(unsigned char *p, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(x >> (8 * i));
}

/* Zero bytes that bring file offset `off` to a multiple of 8. */
static inline size_t pad8_(uint64_t off)
{
	return (size_t)((8 - off % 8) % 8);
}

/* "TNSR", or the number in hex when the type is not printable. */
static inline const char *tag_name_(uint32_t tag, char buf[16])
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

/* Number of elements of a shape, or 0 with *ok = 0 on overflow of the
 * byte size. */
static inline size_t shape_count_(int ndim, const size_t *dims, int *ok)
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


#endif /* SP_MODELFILE_FORMAT_H */
