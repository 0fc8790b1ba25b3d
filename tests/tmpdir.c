/*
 * tmpdir.c: a test program's scratch folder (see tmpdir.h).
 */
#include "tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir_[512];

int tmpdir_make(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir_, sizeof(dir_), "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	return mkdtemp(dir_) ? 0 : -1;
}

const char *tmpdir(void)
{
	return dir_;
}

const char *path_of(const char *name)
{
	static char p[4][1024]; /* the folder, a slash and a file name (255 at most) */
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir_, name);
	return p[k];
}

void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

void write_gz(const char *name, const char *text)
{
	gzFile g = gzopen(path_of(name), "wb");
	if (g) {
		gzputs(g, text);
		gzclose(g);
	}
}

void tmpdir_remove(void)
{
	DIR *d = opendir(dir_);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(path_of(e->d_name));
	closedir(d);
	if (rmdir(dir_) != 0)
		printf("# could not remove %s\n", dir_);
}
