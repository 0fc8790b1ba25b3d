/*
 * driver.c: a plain main() for a fuzz target, so that it builds with any
 * compiler and `make check` can run it over files.
 *
 *   fuzz_X FILE|DIR...
 *
 * Feeds each file (each regular file of a DIR, in name order) to
 * LLVMFuzzerTestOneInput and prints one TAP line per file; a crash, a
 * sanitizer report or a leak ends the process, which the TAP harness
 * reports as a failure naming the input.  A missing DIR is not an error
 * (a target may have no regression inputs yet).
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int n_;

static int run_file_(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		printf("not ok %d - %s: cannot open: %s\n", ++n_, path,
		       strerror(errno));
		return 1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb;
			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				printf("not ok %d - %s: out of memory\n", ++n_,
				       path);
				return 1;
			}
			buf = nb;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	printf("# %s (%zu bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	printf("ok %d - %s\n", ++n_, path);
	fflush(stdout);
	return 0;
}

static int cmp_(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir_(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				abort();
			names = nn;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n])
			abort();
		snprintf(names[n++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			bad |= run_file_(names[i]);
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			bad |= run_dir_(argv[i]);
		else if (stat(argv[i], &st) == 0)
			bad |= run_file_(argv[i]);
	}
	printf("1..%d\n", n_);
	return bad;
}
