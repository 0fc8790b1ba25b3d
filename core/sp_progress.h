/*
 * sp_progress.h: progress within a training epoch, as printed.
 *
 * On a terminal: one live line, rewritten in place (carriage return) at
 * most SP_PROGRESS_TTY_S apart: a bar, batches done/total, tokens per
 * second, the running mean loss of the epoch, and the time left in the
 * epoch and in the run.  Not on a terminal (a file, a pipe, a CI log):
 * the same figures as a plain line when SP_PROGRESS_PLAIN_S have passed
 * in an epoch since the last one, so a short epoch prints nothing and the
 * output of short runs stays as it was.  Nothing is recorded (the run log
 * gets the epoch's metrics from the training loop).
 *
 * The live line must be gone before anything else is printed:
 * sp_progress_clear erases it (a no-op when none is shown).
 *
 * Host-only (not installed).
 */
#ifndef SP_PROGRESS_H
#define SP_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "sp_ctx.h"

/* Refresh interval of the live line, seconds. */
#define SP_PROGRESS_TTY_S 0.1
/* Interval of the plain lines when the output is not a terminal. */
#define SP_PROGRESS_PLAIN_S 30.0

typedef struct sp_progress sp_progress;

/* Progress of `epochs` epochs to out (NULL: none is printed; the calls
 * below are then no-ops).  (caller owns; free with sp_progress_free) */
int sp_progress_new(sp_progress **out, sp_ctx *ctx, FILE *f, size_t epochs);
/* Erases the live line and frees p; NULL is a no-op. */
void sp_progress_free(sp_progress *p);

/* Epoch `epoch` (0-based) begins, with n_batches training steps (batches,
 * or the windows of a truncated-BPTT stream). */
void sp_progress_epoch(sp_progress *p, size_t epoch, size_t n_batches);
/* A step is done: its input tokens and its summed loss over n_loss
 * targets; prints when the interval has passed. */
void sp_progress_step(sp_progress *p, size_t tokens, double loss_sum, size_t n_loss);
/* Erases the live line (before any other output). */
void sp_progress_clear(sp_progress *p);

/* Formats seconds as "42s", "3m05s" or "2h07m" into buf. */
void sp_progress_fmt_time(char *buf, size_t size, double secs);

#endif /* SP_PROGRESS_H */
