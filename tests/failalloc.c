/*
 * failalloc.c: an LD_PRELOAD shim that makes one allocation of seqpipe's
 * own code fail, for tests/t_oom.sh (SQLite's faultsim, from outside the
 * process).  Built for the tests only; never installed.
 *
 * It interposes malloc, calloc, realloc, aligned_alloc, posix_memalign,
 * strdup and strndup, and counts the calls whose caller
 * (__builtin_return_address(0), named with dladdr) is one of seqpipe's
 * objects:
 *
 *   - the program: a file named `pipeline` or `lt-pipeline` (libtool's
 *     uninstalled binary in .libs/),
 *   - the library: a file whose name starts with `libseqpipe.`,
 *   - the plugins: a `*.so` in a folder named `plugins`, `plugins/.libs`
 *     or `seqpipe` (the installed plugin folder).
 *
 * Allocations made by SQLite, ICU, libltdl, OpenBLAS, zlib and libc are
 * neither counted nor failed: their own out-of-memory handling is not
 * ours to fix.  Nor are allocations libc makes on seqpipe's behalf
 * (getline, fopen, vasprintf): their caller is libc.  strdup and strndup
 * are interposed themselves because their malloc is called from libc.
 *
 * Environment:
 *   FAILALLOC_NTH=N      the N-th counted allocation (1-based) returns NULL
 *                        with errno = ENOMEM; the others succeed.  One
 *                        transient fault: the program may go on (and its
 *                        error path may allocate), so the fault tests the
 *                        one check that should catch it.
 *   FAILALLOC_PERSIST=1  with FAILALLOC_NTH: the N-th and every later
 *                        counted allocation fail (memory stays short).
 *   FAILALLOC_COUNT=FILE at exit, writes the number of counted allocations
 *                        to FILE ("K\n"), so a test knows the range of N.
 *                        A process that counted nothing (a shell the
 *                        variable leaked into) writes nothing.
 *   FAILALLOC_TRACE=FILE appends one line per counted allocation to FILE:
 *                        "N OBJECT+0xOFFSET" (the return address; give
 *                        addr2line -e OBJECT the offset minus 1 for the
 *                        call's file:line), and a "!" after the one made
 *                        to fail.
 *
 * Not for AddressSanitizer builds: ASan's runtime must come first in the
 * library list and interposes the same functions.  Valgrind works: with
 * --soname-synonyms=somalloc=nouserintercepts memcheck leaves these
 * functions to the shim and checks the error paths for leaks behind it
 * (valgrind --trace-children=yes ... env LD_PRELOAD=... .libs/pipeline).
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);
typedef void *(*aligned_alloc_fn)(size_t, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;
static free_fn real_free;
static aligned_alloc_fn real_aligned_alloc;
static posix_memalign_fn real_posix_memalign;

/*
 * dlsym may allocate (glibc's dlerror buffer is calloc'ed) before the real
 * functions are known: those few blocks come from here and are never
 * freed.
 */
static _Alignas(16) char boot_buf[4096];
static size_t boot_used;

static int is_boot(const void *p)
{
	return (const char *)p >= boot_buf && (const char *)p < boot_buf + sizeof(boot_buf);
}

static void *boot_alloc(size_t n)
{
	size_t at = (boot_used + 15) & ~(size_t)15;
	if (at + n > sizeof(boot_buf))
		return NULL;
	boot_used = at + n;
	return boot_buf + at;       /* zeroed: a static buffer */
}

/* Set while this thread resolves symbols or classifies a caller: the
 * allocations made meanwhile are the shim's own and pass through. */
static _Thread_local int in_shim __attribute__((tls_model("initial-exec")));
static int resolving;

static void resolve(void)
{
	if (real_malloc)
		return;
	resolving = 1;
	real_malloc = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
	real_calloc = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
	real_realloc = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
	real_free = (free_fn)dlsym(RTLD_NEXT, "free");
	real_aligned_alloc = (aligned_alloc_fn)dlsym(RTLD_NEXT, "aligned_alloc");
	real_posix_memalign = (posix_memalign_fn)dlsym(RTLD_NEXT, "posix_memalign");
	resolving = 0;
	if (!real_malloc || !real_calloc || !real_realloc || !real_free ||
	    !real_aligned_alloc || !real_posix_memalign) {
		static const char msg[] = "failalloc: dlsym(RTLD_NEXT) failed\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(127);
	}
}

static long nth = -1;        /* FAILALLOC_NTH, 0 = never fail */
static int persist;
static int trace_fd = -1;
static unsigned long counted;

static void read_env(void)
{
	const char *s = getenv("FAILALLOC_NTH");
	const char *p = getenv("FAILALLOC_PERSIST");
	const char *t = getenv("FAILALLOC_TRACE");
	persist = p && *p == '1';
	if (t && *t)
		trace_fd = open(t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nth = s && *s ? strtol(s, NULL, 10) : 0;
	if (nth < 0)
		nth = 0;
}

/* Is the file name one of seqpipe's objects?  (See the top of the file.) */
static int ours_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n, bl;
	base = base ? base + 1 : path;
	if (!strcmp(base, "pipeline") || !strcmp(base, "lt-pipeline") ||
	    !strncmp(base, "libseqpipe.", 11))
		return 1;
	bl = strlen(base);
	if (bl < 4 || strcmp(base + bl - 3, ".so") != 0 || base == path)
		return 0;
	/* the folder: path[0 .. n) without the trailing slash */
	n = (size_t)(base - path) - 1;
#define ENDS_WITH(lit) (n >= sizeof(lit) - 1 && \
			!strncmp(path + n - (sizeof(lit) - 1), lit, sizeof(lit) - 1))
	return ENDS_WITH("/plugins") || ENDS_WITH("/plugins/.libs") || ENDS_WITH("/seqpipe");
#undef ENDS_WITH
}

/*
 * A small cache of object base addresses already classified, so that
 * most calls cost one dladdr and a short scan.  An entry is written
 * under cache_lock before cache_n publishes it, and never changes after.
 */
#define CACHE_N 64
static struct {
	void *base;
	int ours;
} cache[CACHE_N];
static unsigned cache_n;
static char cache_lock;

static int caller_is_ours(const void *ret, Dl_info *info)
{
	int ours;
	unsigned n;
	if (!dladdr(ret, info) || !info->dli_fbase)
		return 0;
	n = __atomic_load_n(&cache_n, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (cache[i].base == info->dli_fbase)
			return cache[i].ours;
	ours = info->dli_fname && ours_name(info->dli_fname);
	while (__atomic_test_and_set(&cache_lock, __ATOMIC_ACQUIRE))
		;
	n = __atomic_load_n(&cache_n, __ATOMIC_RELAXED);
	if (n < CACHE_N) {
		cache[n].base = info->dli_fbase;
		cache[n].ours = ours;
		__atomic_store_n(&cache_n, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_clear(&cache_lock, __ATOMIC_RELEASE);
	return ours;
}

/* Counts the call if `ret` is in seqpipe's code; 1 = make it fail. */
static int should_fail(const void *ret)
{
	Dl_info info;
	unsigned long k;
	int ours, fail;
	if (in_shim)
		return 0;
	in_shim = 1;
	if (nth < 0)
		read_env();
	ours = caller_is_ours(ret, &info);
	if (!ours) {
		in_shim = 0;
		return 0;
	}
	k = __atomic_add_fetch(&counted, 1, __ATOMIC_RELAXED);
	fail = nth > 0 && (k == (unsigned long)nth || (persist && k > (unsigned long)nth));
	if (trace_fd >= 0) {
		char line[4200];
		int len = snprintf(line, sizeof(line), "%lu %s+0x%lx%s\n", k, info.dli_fname,
				   (unsigned long)((const char *)ret - (const char *)info.dli_fbase),
				   fail ? " !" : "");
		if (len > 0)
			(void)!write(trace_fd, line, (size_t)len < sizeof(line) ? (size_t)len
								   : sizeof(line) - 1);
	}
	in_shim = 0;
	if (fail)
		errno = ENOMEM;
	return fail;
}

void *malloc(size_t n)
{
	if (!real_malloc) {
		if (resolving)
			return boot_alloc(n);
		resolve();
	}
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	return real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (!real_calloc) {
		if (resolving)
			return size && n > sizeof(boot_buf) / size ? NULL : boot_alloc(n * size);
		resolve();
	}
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	return real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (!real_realloc) {
		if (resolving)
			return NULL;
		resolve();
	}
	if (is_boot(p)) {
		/* a bootstrap block moves to the real heap (its old size is
		 * unknown: copy what fits) */
		void *q = real_malloc(n);
		size_t have = (size_t)(boot_buf + sizeof(boot_buf) - (char *)p);
		if (q)
			memcpy(q, p, n < have ? n : have);
		return q;
	}
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	return real_realloc(p, n);
}

void free(void *p)
{
	if (!p || is_boot(p))
		return;
	if (!real_free)
		resolve();
	real_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	if (!real_aligned_alloc)
		resolve();
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	return real_aligned_alloc(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (!real_posix_memalign)
		resolve();
	if (should_fail(__builtin_return_address(0)))
		return ENOMEM;
	return real_posix_memalign(out, align, n);
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;
	if (!real_malloc)
		resolve();
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	d = real_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

char *strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *d;
	if (!real_malloc)
		resolve();
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	d = real_malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* FAILALLOC_COUNT: the number of counted allocations, written at exit. */
__attribute__((destructor)) static void write_count(void)
{
	const char *path = getenv("FAILALLOC_COUNT");
	char line[32];
	int fd, len;
	unsigned long k = __atomic_load_n(&counted, __ATOMIC_RELAXED);
	if (!path || !*path || k == 0)
		return;
	len = snprintf(line, sizeof(line), "%lu\n", k);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, line, (size_t)len);
	close(fd);
}
