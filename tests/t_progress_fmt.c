/*
 * t_progress_fmt.c: the figures as printed (sp_report_num), the times of
 * the progress line, and the progress of a run whose output is not a
 * terminal (a short epoch prints nothing there).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_progress.h"
#include "sp_report.h"
#include "tap.h"

static void num(double v, const char *want)
{
	char buf[40];
	ok_str(sp_report_num(buf, sizeof(buf), v), want, "sp_report_num(%.17g)", v);
}

static void span(double s, const char *want)
{
	char buf[40];
	sp_progress_fmt_time(buf, sizeof(buf), s);
	ok_str(buf, want, "sp_progress_fmt_time(%g)", s);
}

int main(void)
{
	sp_ctx *ctx = NULL;
	sp_progress *p = NULL;
	FILE *f;
	long size;

	num(0.0005063, "0.0005");        /* not 0.0005063 */
	num(0.87314159, "0.8731");
	num(0.5, "0.5000");
	num(2.34567, "2.346");
	num(123.456, "123.5");
	num(12345.6, "12346");           /* no exponent */
	num(3.14e-7, "3.1e-07");         /* tiny, not shown as 0.0000 */
	num(0, "0");
	num(1, "1");
	num(-0.25, "-0.2500");
	num(NAN, "nan");
	num(INFINITY, "inf");

	span(0, "0s");
	span(42.4, "42s");
	span(185, "3m05s");
	span(7620, "2h07m");
	span(NAN, "0s");
	span(-3, "0s");

	ok(sp_ctx_new(&ctx, 0) == 0, "context");
	ok(sp_progress_new(&p, ctx, NULL, 3) == 0 && p == NULL, "no output stream: no progress");
	sp_progress_epoch(p, 0, 10); /* no-ops on NULL */
	sp_progress_step(p, 5, 1.0, 5);
	sp_progress_clear(p);
	sp_progress_free(p);

	f = tmpfile();
	ok(f != NULL, "tmpfile");
	ok(sp_progress_new(&p, ctx, f, 3) == 0 && p != NULL, "progress to a file");
	for (size_t e = 0; e < 3; e++) {
		sp_progress_epoch(p, e, 100);
		for (int k = 0; k < 100; k++)
			sp_progress_step(p, 64, 128.0, 64);
		sp_progress_clear(p);
	}
	sp_progress_free(p);
	size = ftell(f);
	ok(size == 0, "not a terminal: a short run prints no progress line (%ld bytes)", size);
	fclose(f);
	sp_ctx_free(ctx);
	return tap_done();
}
