/*
 * tap.h: a small TAP producer for the test programs (read by Automake's
 * tap-driver.sh).  Each check prints "ok N - what" or "not ok N - what"
 * with a diagnostic; tap_done() prints the plan and returns the exit code.
 *
 *   ok(x == 3, "three is %d", x);
 *   ok_near(a, b, 1e-6, "a matches b");
 *   return tap_done();
 */
#ifndef SP_TAP_H
#define SP_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n_;
static int tap_failed_;

static inline int tap_vok_(int cond, const char *file, int line,
			   const char *fmt, va_list ap)
{
	tap_n_++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n_);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond) {
		tap_failed_++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static inline int tap_ok_(int cond, const char *file, int line,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int tap_ok_(int cond, const char *file, int line,
			  const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = tap_vok_(cond, file, line, fmt, ap);
	va_end(ap);
	return r;
}

#define ok(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* |got - want| <= tol * max(1, |want|) */
#define ok_near(got, want, tol, ...)                                        \
	(tap_ok_(fabs((double)(got) - (double)(want)) <=                    \
			 (tol) * fmax(1.0, fabs((double)(want))),           \
		 __FILE__, __LINE__, __VA_ARGS__) ||                        \
	 (printf("#   got %.9g, want %.9g\n", (double)(got),                \
		 (double)(want)),                                           \
	  0))

static inline int tap_ok_str_(const char *got, const char *want,
			      const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline int tap_ok_str_(const char *got, const char *want,
			      const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = tap_vok_(got != NULL && strcmp(got, want) == 0, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got \"%s\", want \"%s\"\n", got ? got : "(null)", want);
	return r;
}

#define ok_str(got, want, ...) \
	tap_ok_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline void diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n_);
	return tap_failed_ ? 1 : 0;
}

#endif /* SP_TAP_H */
