/*
 * sp_progress.c: the live progress line of a training epoch (terminal),
 * or plain progress lines at a fixed interval (anything else).
 */
#include "config.h"

#include "sp_progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sp_report.h"

#define BAR_WIDTH 12

struct sp_progress {
	FILE *f;
	int tty;                 /* live line (carriage return) or plain lines */
	int shown;               /* a live line is on the screen */
	size_t epochs, epoch;
	size_t n_batches, done;  /* this epoch's steps: all, done */
	size_t tokens;           /* this epoch's input tokens so far */
	double loss_sum;         /* this epoch's summed loss ... */
	size_t n_loss;           /* ... over this many targets */
	double t_epoch;          /* when this epoch began */
	double t_last;           /* when the last line was printed */
	double epoch_secs;       /* sum of the whole epochs' durations ... */
	size_t n_timed;          /* ... over this many epochs */
};

int sp_progress_new(sp_progress **out, sp_ctx *ctx, FILE *f, size_t epochs)
{
	sp_progress *p;
	*out = NULL;
	if (!f)
		return SP_OK;
	if (!(p = calloc(1, sizeof(*p))))
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	p->f = f;
	p->tty = isatty(fileno(f));
	p->epochs = epochs;
	p->t_epoch = -1;
	*out = p;
	return SP_OK;
}

void sp_progress_free(sp_progress *p)
{
	if (!p)
		return;
	sp_progress_clear(p);
	free(p);
}

void sp_progress_clear(sp_progress *p)
{
	if (!p || !p->shown)
		return;
	/* back to column 0, erase to the end of the line */
	fputs("\r\033[K", p->f);
	fflush(p->f);
	p->shown = 0;
}

void sp_progress_epoch(sp_progress *p, size_t epoch, size_t n_batches)
{
	double now;
	if (!p)
		return;
	now = sp_now_s();
	sp_progress_clear(p);
	/* an epoch's duration includes its evaluation and checkpoint, so the
	 * run's ETA counts them too */
	if (p->t_epoch >= 0 && epoch == p->epoch + 1) {
		p->epoch_secs += now - p->t_epoch;
		p->n_timed++;
	}
	p->epoch = epoch;
	p->n_batches = n_batches;
	p->done = 0;
	p->tokens = 0;
	p->loss_sum = 0;
	p->n_loss = 0;
	p->t_epoch = now;
	p->t_last = now;
}

void sp_progress_fmt_time(char *buf, size_t size, double secs)
{
	long s = isfinite(secs) && secs > 0 ? lround(secs) : 0;
	if (s < 60)
		snprintf(buf, size, "%lds", s);
	else if (s < 3600)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

/* Tokens per second with 4 significant digits: "812.3", "12.35k". */
static void fmt_rate(char *buf, size_t size, double r)
{
	if (r >= 1e6)
		snprintf(buf, size, "%.4gM", r / 1e6);
	else if (r >= 1e4)
		snprintf(buf, size, "%.4gk", r / 1e3);
	else
		snprintf(buf, size, "%.4g", r);
}

/* The columns of the terminal, 80 when unknown. */
static size_t term_width(FILE *f)
{
	struct winsize ws;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* The figures of the line, after the bar: batches, rate, loss, ETAs. */
static void fmt_figures(const sp_progress *p, double now, char *buf, size_t size)
{
	double el = now - p->t_epoch;
	double frac = p->n_batches ? (double)p->done / (double)p->n_batches : 0;
	double left_epoch = frac > 0 ? el / frac - el : NAN;
	/* later epochs last as long as the whole ones did (this one's
	 * estimate until one is done) */
	double per_epoch = p->n_timed ? p->epoch_secs / (double)p->n_timed : el + left_epoch;
	double left_run = left_epoch + (double)(p->epochs - p->epoch - 1) * per_epoch;
	char rate[32], eta_e[32], eta_r[32], loss[32];
	fmt_rate(rate, sizeof(rate), el > 0 ? (double)p->tokens / el : 0);
	sp_progress_fmt_time(eta_e, sizeof(eta_e), left_epoch);
	sp_progress_fmt_time(eta_r, sizeof(eta_r), left_run);
	if (p->n_loss)
		sp_report_num(loss, sizeof(loss), p->loss_sum / (double)p->n_loss);
	else
		snprintf(loss, sizeof(loss), "-");
	/* the rate last: a narrow terminal cuts it first */
	snprintf(buf, size, "%zu/%zu loss %s eta %s, run %s  %s tok/s", p->done, p->n_batches,
		 loss, isnan(left_epoch) ? "?" : eta_e, isnan(left_run) ? "?" : eta_r, rate);
}

static void print_line(sp_progress *p, double now)
{
	char fig[160], bar[BAR_WIDTH + 1];
	size_t fill = p->n_batches ? p->done * BAR_WIDTH / p->n_batches : 0;
	if (fill > BAR_WIDTH) /* more steps than counted: a full bar */
		fill = BAR_WIDTH;
	fmt_figures(p, now, fig, sizeof(fig));
	if (!p->tty) {
		fprintf(p->f, "epoch %3zu/%zu  %s\n", p->epoch + 1, p->epochs, fig);
		fflush(p->f);
		return;
	}
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = 0;
	{
		char line[256];
		size_t w = term_width(p->f) - 1; /* the last column would wrap */
		snprintf(line, sizeof(line), "epoch %zu/%zu [%s] %s", p->epoch + 1, p->epochs,
			 bar, fig);
		if (strlen(line) > w && w < sizeof(line))
			line[w] = 0;
		fprintf(p->f, "\r%s\033[K", line);
	}
	fflush(p->f);
	p->shown = 1;
}

void sp_progress_step(sp_progress *p, size_t tokens, double loss_sum, size_t n_loss)
{
	double now;
	if (!p)
		return;
	p->done++;
	p->tokens += tokens;
	p->loss_sum += loss_sum;
	p->n_loss += n_loss;
	now = sp_now_s();
	/* the first step shows the line at once; then at the interval */
	if ((p->tty && (p->done == 1 || now - p->t_last >= SP_PROGRESS_TTY_S)) ||
	    (!p->tty && now - p->t_last >= SP_PROGRESS_PLAIN_S)) {
		print_line(p, now);
		p->t_last = now;
	}
}
