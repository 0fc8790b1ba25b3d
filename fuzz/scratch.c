/*
 * scratch.c: the scratch file of fuzz.h.  It lives in $FUZZ_TMPDIR, else
 * /dev/shm when there is one (a file system in memory: a disk's metadata
 * updates would cost more than the code under test), else $TMPDIR or
 * /tmp, under a name with the process id, so that parallel fuzzers and
 * tests do not share one, and is removed, with SQLite's side files, at
 * exit.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path_[512];
static char base_[480];

static void unlink_all_(void)
{
	static const char *const side[] = {"", "-journal", "-wal", "-shm"};
	char p[sizeof(path_) + 16];
	size_t n = strlen(path_);

	if (!path_[0])
		return;
	/* only a database has side files; fewer system calls per input */
	if (n < 3 || strcmp(path_ + n - 3, ".db") != 0) {
		unlink(path_);
		return;
	}
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path_, side[i]);
		unlink(p);
	}
}

const char *fuzz_scratch(const uint8_t *data, size_t size,
			 const char *suffix)
{
	FILE *f;

	if (!base_[0]) {
		const char *tmp = getenv("FUZZ_TMPDIR");
		if (!tmp || !*tmp)
			tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
							     : getenv("TMPDIR");
		snprintf(base_, sizeof(base_), "%s/seqpipe-fuzz-%ld",
			 tmp && *tmp ? tmp : "/tmp", (long)getpid());
		atexit(unlink_all_);
	}
	unlink_all_();
	snprintf(path_, sizeof(path_), "%s%s", base_, suffix);
	f = fopen(path_, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
		perror(path_);
		abort();
	}
	return path_;
}
