/*
 * sp_report.h: what the runner prints for a person: progress lines, the
 * predictions of `pipeline predict`, and the forward propagation that
 * `pipeline trace` walks through.  Nothing here is recorded: records go
 * to the observer (sp_observer.h).
 *
 * Host-only (not installed).
 */
#ifndef SP_REPORT_H
#define SP_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_splits.h"

typedef struct sp_job sp_job;

/* printf to out, flushed; nothing when out is NULL. */
void sp_say(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A figure for a person, about 4 significant digits: "0.8731",
 * "0.0005" (below 1, 4 decimals), "2.346", "123.5", "12346" (no
 * exponent up to 1e15), "3.1e-07" (below 1e-4, not 0), "nan", "inf".
 * Returns buf.  Exact values (pipeline eval) use %.17g instead. */
const char *sp_report_num(char *buf, size_t size, double v);
/* Monotonic seconds. */
double sp_now_s(void);
/* The data and model summary of a run. */
void sp_report_run_data(const sp_job *j);
/* The head's predictions for the last forward of an input of n ids with
 * tokens t (predict). */
int sp_report_predict(sp_job *j, size_t n, const sp_toklist *t);
/* Trace of the last forward of ids[0..n) (`pipeline trace`) to f; path
 * is the model file, "" for initial weights. */
int sp_report_trace(sp_job *j, FILE *f, const char *path, const int32_t *ids,
		    size_t n);

#endif /* SP_REPORT_H */
