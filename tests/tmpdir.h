/*
 * tmpdir.h: a test program's scratch folder, made under $TMPDIR (else
 * /tmp) and removed with what it holds at the end, and the small files
 * the tests write into it (plain, or gzip to exercise zlib's reading).
 * One folder per program: the state lives in tmpdir.c.
 */
#ifndef TESTS_TMPDIR_H
#define TESTS_TMPDIR_H

/* Makes the folder <$TMPDIR or /tmp>/<prefix>.XXXXXX; 0 or -1. */
int tmpdir_make(const char *prefix);
/* The folder's path (static). */
const char *tmpdir(void);
/* dir/name in one of four static buffers: four calls' paths may be used
 * together (an argument list), the fifth overwrites the first. */
const char *path_of(const char *name);
/* Writes text as the file name, plain or gzip-compressed. */
void write_file(const char *name, const char *text);
void write_gz(const char *name, const char *text);
/* Removes the folder and the files in it (the tests make no subfolders);
 * says so as a TAP diagnostic when it cannot. */
void tmpdir_remove(void);

#endif
