/*
 * sp_lines.h: a line reader for the DNA formats (FASTA, GenBank).
 *
 * Reads plain or gzip-compressed files alike (zlib's gzread passes plain
 * files through), returns whole lines of any length without the line end
 * (LF or CRLF), and counts lines so that errors can name FILE:LINE.
 * Memory is one buffer as long as the longest line.
 */
#ifndef SP_LINES_H
#define SP_LINES_H

#include <stddef.h>

#include "sp_ctx.h"

typedef struct sp_lines sp_lines;

/* Opens path ("-" is not special).  Caller owns *out (sp_lines_close). */
int sp_lines_open(sp_lines **out, sp_ctx *ctx, const char *path);
void sp_lines_close(sp_lines *r);

/* Next line: 1 and *line, *len set (NUL-terminated, borrowed until the
 * next call), 0 at the end of the file, < 0 on a read error. */
int sp_lines_next(sp_lines *r, sp_ctx *ctx, const char **line, size_t *len);

/* 1-based number of the line last returned; the path as given. */
long sp_lines_lineno(const sp_lines *r);
const char *sp_lines_path(const sp_lines *r);

#endif
