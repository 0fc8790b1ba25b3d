/*
 * dnafix.h: fixture files for the DNA tests, written into a mkdtemp
 * directory under $TMPDIR and removed by fx_done().
 */
#ifndef SP_DNAFIX_H
#define SP_DNAFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tap.h"

static char fx_dir_[512];
static char fx_files_[64][600];
static int fx_n_;

static inline int fx_init(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(fx_dir_, sizeof(fx_dir_), "%s/%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	return mkdtemp(fx_dir_) ? 0 : -1;
}

static inline const char *fx_path(const char *name)
{
	static char buf[4][600];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", fx_dir_, name);
	if (fx_n_ < 64)
		snprintf(fx_files_[fx_n_++], sizeof(fx_files_[0]), "%s", buf[k]);
	return buf[k];
}

static inline const char *fx_put(const char *name, const char *data)
{
	const char *path = fx_path(name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, strlen(data), f) != strlen(data))
		diag("cannot write %s", path);
	if (f)
		fclose(f);
	return path;
}

static inline const char *fx_put_gz(const char *name, const char *data)
{
	const char *path = fx_path(name);
	gzFile g = gzopen(path, "wb");
	if (!g || gzwrite(g, data, (unsigned)strlen(data)) != (int)strlen(data))
		diag("cannot write %s", path);
	if (g)
		gzclose(g);
	return path;
}

static inline void fx_skip(const char *why)
{
	tap_n_++;
	printf("ok %d # SKIP %s\n", tap_n_, why);
}

static inline void fx_done(void)
{
	for (int i = 0; i < fx_n_; i++)
		unlink(fx_files_[i]);
	rmdir(fx_dir_);
}

#endif
