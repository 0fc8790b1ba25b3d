/*
 * sp_textfile.h: the checked line reader every text reader shares.
 *
 * Lines come out one at a time, whatever their length (up to a ceiling),
 * from a plain file or, for a name ending in `.gz`, through zlib.  Every
 * line is checked: invalid UTF-8 or a NUL byte is "FILE:LINE:COL: ..."
 * with COL the 1-based byte column; a CRLF end loses its CR; a UTF-8
 * byte order mark at the start of the file is dropped.  Ceilings: "FILE:
 * LINE: line longer than N bytes, the ceiling of one line
 * (max_line_bytes)", "FILE: more than N bytes, the ceiling of a data file
 * (max_file_bytes)" (counted after decompression, so a gzip bomb stops).
 *
 * Host-only (not installed).
 */
#ifndef SP_TEXTFILE_H
#define SP_TEXTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

typedef struct sp_textfile sp_textfile;

/* Opens path (caller owns *out; sp_textfile_close).  "FILE: cannot
 * open: <strerror>" is SP_EIO.  path is borrowed until close. */
int sp_textfile_open(sp_textfile **out, sp_ctx *ctx, const char *path,
		     size_t max_line, uint64_t max_file);
/* The next line without its line end, checked (borrowed until the next
 * call).  Returns 1, 0 at the end of the file, or a negative code. */
int sp_textfile_line(sp_textfile *f, sp_ctx *ctx, const char **line,
		     size_t *len);
/* The 1-based number of the line last returned. */
size_t sp_textfile_lineno(const sp_textfile *f);
void sp_textfile_close(sp_textfile *f);

/* A reader's loop over a file: fn(payload, lineno, line, len) for each
 * line that is not blank (the line is the reader's until fn returns; fn
 * may write into it), skipping line 1 when skip_first is set.  A
 * negative return of fn stops and is returned; a positive one (the host
 * has enough) stops with SP_OK. */
typedef int (*sp_textline_fn)(void *payload, size_t lineno, char *line,
			      size_t len);
int sp_textfile_each(sp_ctx *ctx, const char *path, size_t max_line,
		     uint64_t max_file, int skip_first, sp_textline_fn fn,
		     void *payload);

/* Room for an excerpt of a bad line in a message. */
#define SP_EXCERPT_CAP (4 * 40 + 8)
/* Up to 40 bytes of s[0, len) as printable text for a message: tabs as
 * \t, other control bytes as \xHH, cut on a character boundary, "..."
 * when cut.  out has SP_EXCERPT_CAP bytes; returns out. */
const char *sp_text_excerpt(char *out, const char *s, size_t len);
/* Is s[0, len) only spaces and tabs (or empty)? */
int sp_text_blank(const char *s, size_t len);

#endif /* SP_TEXTFILE_H */
