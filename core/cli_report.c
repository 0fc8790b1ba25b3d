/*
 * cli_report.c: see cli_report.h.  Plain C writing HTML and SVG: a line
 * chart (linear or log y axis), a bar chart and a heat map are all the
 * report needs.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_report.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"

#define W 460
#define H 260
#define ML 60   /* margins: left, right, top, bottom */
#define MR 110
#define MT 28
#define MB 40

static const char *const colors_[] = {"#1f77b4", "#d62728", "#2ca02c",
				      "#9467bd", "#ff7f0e", "#8c564b",
				      "#e377c2", "#17becf"};

typedef struct line_ {
	const char *label;
	const double *y;     /* [n], NaN = gap */
	size_t n;
	double x0;           /* x of y[0] (1 for epochs, 0 for steps) */
	int dashed;
} line_;

/* Text with &, <, >, " escaped. */
static void esc_(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void num_(FILE *f, double v)
{
	char b[32];
	cli_num4(b, sizeof(b), v);
	fputs(b, f);
}

/* A line chart of lines[0..n) with axes, ticks and a legend. */
static void chart_(FILE *f, const char *cls, const char *title,
		   const char *xlabel, const line_ *lines, size_t n, int logy)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY,
	       ymax = -INFINITY;
	const double pw = W - ML - MR, ph = H - MT - MB;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < lines[i].n; k++) {
			double y = lines[i].y[k], x = lines[i].x0 + (double)k;
			if (isnan(y) || isinf(y) || (logy && y <= 0))
				continue;
			if (logy)
				y = log10(y);
			xmin = fmin(xmin, x);
			xmax = fmax(xmax, x);
			ymin = fmin(ymin, y);
			ymax = fmax(ymax, y);
		}
	fprintf(f, "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		"<title>", cls, W, H, W, H);
	esc_(f, title);
	fprintf(f, "</title><rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"#fff\"/>", W, H);
	fprintf(f, "<text x=\"%d\" y=\"16\" class=\"t\">", ML);
	esc_(f, title);
	fprintf(f, "</text>");
	if (!(xmax >= xmin)) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">no values</text></svg>\n",
			ML + 10, MT + 40);
		return;
	}
	if (xmax == xmin)
		xmax = xmin + 1;
	if (ymax - ymin < 1e-12) {
		ymax += logy ? 0.5 : fmax(fabs(ymax) * 0.05, 1e-6);
		ymin -= logy ? 0.5 : fmax(fabs(ymin) * 0.05, 1e-6);
	}
#define PX(x) (ML + ((x) - xmin) / (xmax - xmin) * pw)
#define PY(y) (MT + ph - ((y) - ymin) / (ymax - ymin) * ph)
	fprintf(f, "<g class=\"axes\" stroke=\"#888\" fill=\"none\">"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>",
		ML, MT, ML, H - MB, ML, H - MB, W - MR, H - MB);
	for (int k = 0; k <= 4; k++) {
		double y = ymin + (ymax - ymin) * k / 4.0;
		double x = xmin + (xmax - xmin) * k / 4.0;
		fprintf(f, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#eee\"/>", ML, W - MR + 0.0, PY(y), PY(y));
		fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">", ML - 4, PY(y) + 4);
		num_(f, logy ? pow(10, y) : y);
		fprintf(f, "</text><text class=\"tick\" x=\"%.1f\" y=\"%d\" "
			"text-anchor=\"middle\">%.4g</text>", PX(x), H - MB + 14,
			xmax - xmin >= 4 ? round(x) : x);
	}
	fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
		"text-anchor=\"middle\">", ML + pw / 2, H - 6);
	esc_(f, xlabel);
	fprintf(f, "%s</text>", logy ? " (y: log scale)" : "");
	for (size_t i = 0; i < n; i++) {
		const char *c = colors_[i % (sizeof(colors_) / sizeof(colors_[0]))];
		size_t pts = 0;
		fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"2\"%s points=\"", c,
			lines[i].dashed ? " stroke-dasharray=\"6 3\"" : "");
		for (size_t k = 0; k < lines[i].n; k++) {
			double y = lines[i].y[k];
			if (isnan(y) || isinf(y) || (logy && y <= 0))
				continue;
			if (logy)
				y = log10(y);
			fprintf(f, "%.1f,%.1f ", PX(lines[i].x0 + (double)k), PY(y));
			pts++;
		}
		fprintf(f, "\"/>");
		if (pts == 1)
			for (size_t k = 0; k < lines[i].n; k++) {
				double y = lines[i].y[k];
				if (isnan(y) || isinf(y) || (logy && y <= 0))
					continue;
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
					"fill=\"%s\"/>", PX(lines[i].x0 + (double)k),
					PY(logy ? log10(y) : y), c);
			}
		fprintf(f, "<rect x=\"%d\" y=\"%zu\" width=\"14\" height=\"3\" "
			"fill=\"%s\"/><text class=\"legend\" x=\"%d\" y=\"%zu\">",
			W - MR + 8, MT + 10 + 16 * i, c, W - MR + 26,
			MT + 14 + 16 * i);
		esc_(f, lines[i].label);
		fprintf(f, "</text>");
	}
#undef PX
#undef PY
	fprintf(f, "</svg>\n");
}

/* The task metric of a run: its key metric's name, else accuracy/f1. */
static const char *task_metric_(const cli_run *r)
{
	static const char *const pref[] = {"f1", "accuracy", "bleu",
					   "perplexity"};
	if (r->key_name && strcmp(r->key_name, "loss"))
		return r->key_name;
	for (size_t i = 0; i < 4; i++)
		for (size_t k = 0; k < r->n_s; k++)
			if (!strcmp(r->s[k].name, pref[i]))
				return pref[i];
	return NULL;
}

static void curves_(FILE *f, const cli_run *r)
{
	static const char *const splits[] = {"train", "dev", "test"};
	const char *names[2] = {"loss", task_metric_(r)};
	for (int m = 0; m < 2; m++) {
		line_ l[3];
		size_t n = 0;
		char title[160];
		if (!names[m])
			continue;
		for (int s = 0; s < 3; s++) {
			const cli_series *x = cli_run_series(r, splits[s], names[m]);
			if (x && r->n_epochs)
				l[n++] = (line_){splits[s], x->v, r->n_epochs, 1,
						 s == 2};
		}
		if (!n)
			continue;
		snprintf(title, sizeof(title), "run %lld: %s per epoch",
			 (long long)r->id, names[m]);
		chart_(f, "curve", title, "epoch", l, n,
		       !strcmp(names[m], "perplexity"));
	}
}

/* The gradient norms of layer k at epoch e of a run, by time step:
 * *T_out steps (0 when none were logged).  Caller frees. */
static double *dh_norms_(const cli_run *r, int layer, size_t epoch,
			 size_t *T_out)
{
	size_t T = 0;
	double *y;
	char pre[32];
	int np = snprintf(pre, sizeof(pre), "dh_norm.l%d.t", layer);
	*T_out = 0;
	for (size_t i = 0; i < r->n_s; i++)
		if (!strncmp(r->s[i].name, pre, (size_t)np)) {
			size_t t = strtoul(r->s[i].name + np, NULL, 10);
			if (t + 1 > T && t < 100000)
				T = t + 1;
		}
	if (!T || !(y = malloc(T * sizeof(*y))))
		return NULL;
	for (size_t t = 0; t < T; t++)
		y[t] = NAN;
	for (size_t i = 0; i < r->n_s; i++)
		if (!strncmp(r->s[i].name, pre, (size_t)np)) {
			size_t t = strtoul(r->s[i].name + np, NULL, 10);
			if (t < T && epoch < r->n_epochs)
				y[t] = r->s[i].v[epoch];
		}
	*T_out = T;
	return y;
}

static int has_dh_(const cli_run *r)
{
	for (size_t i = 0; i < r->n_s; i++)
		if (!strncmp(r->s[i].name, "dh_norm.", 8))
			return 1;
	return 0;
}

static const char *model_of_(const cli_run *r)
{
	const char *m = cli_run_param(r, "model", "plugin");
	return m ? m : "model";
}

static void gradients_(FILE *f, const cli_run *const *runs, size_t n)
{
	line_ all[16];
	double *keep[16];
	char labels[16][96];
	size_t n_all = 0;
	fprintf(f, "<h2>Gradient norm per time step</h2>\n<p>‖∂L/∂h(t)‖ of a "
		"fixed sample batch, from <code>train.instruments = true</code>: "
		"how far back in time the error signal reaches. A vanilla RNN's "
		"norm decays towards early steps; gated cells keep it up.</p>\n"
		"<div class=\"row\">\n");
	for (size_t i = 0; i < n; i++) {
		const cli_run *r = runs[i];
		line_ l[8];
		double *ys[8];
		char lab[8][64], title[160];
		size_t nl = 0;
		if (!has_dh_(r))
			continue;
		for (int layer = 0; layer < 4; layer++) {
			size_t epochs[2] = {0, r->n_epochs ? r->n_epochs - 1 : 0};
			for (int k = 0; k < (r->n_epochs > 1 ? 2 : 1); k++) {
				size_t T;
				double *y = dh_norms_(r, layer, epochs[k], &T);
				if (!y)
					continue;
				snprintf(lab[nl], sizeof(lab[nl]), "l%d epoch %zu",
					 layer, epochs[k] + 1);
				ys[nl] = y;
				l[nl] = (line_){lab[nl], y, T, 0, k == 0};
				nl++;
				if (k == 1 && layer == 0 && n_all < 16) {
					/* the overlay: layer 0, last epoch */
					snprintf(labels[n_all], sizeof(labels[0]),
						 "run %lld %s", (long long)r->id,
						 model_of_(r));
					keep[n_all] = malloc(T * sizeof(double));
					if (keep[n_all]) {
						memcpy(keep[n_all], y, T * sizeof(double));
						all[n_all] = (line_){labels[n_all],
							keep[n_all], T, 0, 0};
						n_all++;
					}
				}
			}
		}
		if (nl == 1 && n_all < 16 && r->n_epochs <= 1) {
			snprintf(labels[n_all], sizeof(labels[0]), "run %lld %s",
				 (long long)r->id, model_of_(r));
			keep[n_all] = malloc(l[0].n * sizeof(double));
			if (keep[n_all]) {
				memcpy(keep[n_all], l[0].y, l[0].n * sizeof(double));
				all[n_all] = (line_){labels[n_all], keep[n_all],
						     l[0].n, 0, 0};
				n_all++;
			}
		}
		snprintf(title, sizeof(title), "run %lld (%s): ‖∂L/∂h(t)‖",
			 (long long)r->id, model_of_(r));
		chart_(f, "gradnorm", title, "time step t", l, nl, 1);
		for (size_t k = 0; k < nl; k++)
			free(ys[k]);
	}
	fprintf(f, "</div>\n");
	if (n_all > 1)
		chart_(f, "gradnorm overlay", "layer 0, last epoch, runs overlaid",
		       "time step t", all, n_all, 1);
	for (size_t k = 0; k < n_all; k++)
		free(keep[k]);
}

/* Horizontal bars of each gate's mean and saturated share (last epoch). */
static void gates_(FILE *f, const cli_run *r)
{
	size_t nb = 0, e = r->n_epochs ? r->n_epochs - 1 : 0;
	const int bw = 260, rowh = 18;
	for (size_t i = 0; i < r->n_s; i++)
		nb += !strncmp(r->s[i].name, "gate.", 5);
	if (!nb || !r->n_epochs)
		return;
	fprintf(f, "<svg class=\"chart gates\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%zu\" role=\"img\"><title>run %lld: gate "
		"activations, epoch %zu</title><text x=\"4\" y=\"16\" class=\"t\">"
		"run %lld (%s): gates, epoch %zu (mean, share saturated)</text>",
		bw + 180, 30 + nb * rowh, (long long)r->id, e + 1,
		(long long)r->id, model_of_(r), e + 1);
	nb = 0;
	for (size_t i = 0; i < r->n_s; i++) {
		double v = r->s[i].v[e];
		if (strncmp(r->s[i].name, "gate.", 5))
			continue;
		if (isnan(v))
			v = 0;
		fprintf(f, "<text class=\"tick\" x=\"4\" y=\"%zu\">", 40 + nb * rowh);
		esc_(f, r->s[i].name + 5);
		fprintf(f, "</text><rect class=\"bar\" x=\"110\" y=\"%zu\" "
			"width=\"%.1f\" height=\"%d\" fill=\"%s\"/><text class=\"tick\" "
			"x=\"%.1f\" y=\"%zu\">", 28 + nb * rowh,
			fmax(0, fmin(1, v)) * bw, rowh - 4,
			strstr(r->s[i].name, ".sat") ? "#d62728" : "#1f77b4",
			114 + fmax(0, fmin(1, v)) * bw, 40 + nb * rowh);
		num_(f, r->s[i].v[e]);
		fprintf(f, "</text>");
		nb++;
	}
	fprintf(f, "</svg>\n");
}

/* Bars of f1.<type> (per-entity-type scores) on dev, final else last. */
static void per_type_(FILE *f, const cli_run *r)
{
	size_t nb = 0;
	const int bw = 260, rowh = 18;
	for (size_t i = 0; i < r->n_s; i++)
		nb += !strncmp(r->s[i].name, "f1.", 3) && r->s[i].split &&
		      !strcmp(r->s[i].split, "dev");
	if (!nb)
		return;
	fprintf(f, "<svg class=\"chart pertype\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%zu\" role=\"img\"><title>run %lld: F1 per "
		"type</title><text x=\"4\" y=\"16\" class=\"t\">run %lld: dev F1 "
		"per type</text>", bw + 200, 30 + nb * rowh, (long long)r->id,
		(long long)r->id);
	nb = 0;
	for (size_t i = 0; i < r->n_s; i++) {
		double v;
		if (strncmp(r->s[i].name, "f1.", 3) || !r->s[i].split ||
		    strcmp(r->s[i].split, "dev"))
			continue;
		v = cli_series_last(&r->s[i], r->n_epochs);
		fprintf(f, "<text class=\"tick\" x=\"4\" y=\"%zu\">", 40 + nb * rowh);
		esc_(f, r->s[i].name + 3);
		fprintf(f, "</text><rect class=\"bar\" x=\"130\" y=\"%zu\" "
			"width=\"%.1f\" height=\"%d\" fill=\"#2ca02c\"/><text "
			"class=\"tick\" x=\"%.1f\" y=\"%zu\">", 28 + nb * rowh,
			isnan(v) ? 0 : fmax(0, fmin(1, v)) * bw, rowh - 4,
			134 + (isnan(v) ? 0 : fmax(0, fmin(1, v)) * bw),
			40 + nb * rowh);
		num_(f, v);
		fprintf(f, "</text>");
		nb++;
	}
	fprintf(f, "</svg>\n");
}

/* The index of label s in labels[0..*n), added when new (-1 when full). */
static int label_at_(const char **labels, size_t *n, size_t cap, const char *s)
{
	for (size_t k = 0; k < *n; k++)
		if (!strcmp(labels[k], s))
			return (int)k;
	if (*n == cap)
		return -1;
	labels[*n] = s;
	return (int)(*n)++;
}

/* The final confusion matrix as a heat map: rows gold, columns predicted,
 * darker for more, the count in each nonzero cell. */
static void confusion_(FILE *f, const cli_run *r)
{
	enum { CAP = 48 };
	const char *labels[CAP];
	size_t nl = 0, cell = 28;
	double max = 0, *m;
	for (size_t i = 0; i < r->n_cm; i++) {
		label_at_(labels, &nl, CAP, r->cm[i].gold);
		label_at_(labels, &nl, CAP, r->cm[i].pred);
		max = fmax(max, (double)r->cm[i].count);
	}
	if (!nl || !(m = calloc(nl * nl, sizeof(*m))))
		return;
	for (size_t i = 0; i < r->n_cm; i++) {
		int g = label_at_(labels, &nl, CAP, r->cm[i].gold);
		int p = label_at_(labels, &nl, CAP, r->cm[i].pred);
		if (g >= 0 && p >= 0)
			m[(size_t)g * nl + (size_t)p] += (double)r->cm[i].count;
	}
	fprintf(f, "<svg class=\"chart confusion\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%zu\" height=\"%zu\" role=\"img\"><title>run %lld: "
		"confusion matrix</title><text x=\"4\" y=\"14\" class=\"t\">run "
		"%lld: confusion on %s (rows gold, columns predicted)</text>",
		100 + nl * cell < 360 ? 360 : 100 + nl * cell, 130 + nl * cell, (long long)r->id, (long long)r->id, r->cm_split);
	for (size_t a = 0; a < nl; a++) {
		fprintf(f, "<text class=\"tick\" x=\"4\" y=\"%zu\">", 118 + a * cell + 18);
		esc_(f, labels[a]);
		fprintf(f, "</text><text class=\"tick\" transform=\"translate(%zu,110) "
			"rotate(-60)\">", 100 + a * cell + 14);
		esc_(f, labels[a]);
		fprintf(f, "</text>");
		for (size_t b = 0; b < nl; b++) {
			double v = m[a * nl + b];
			int shade = (int)(255 - 200 * (max > 0 ? v / max : 0));
			fprintf(f, "<rect class=\"cell\" x=\"%zu\" y=\"%zu\" width=\"%zu\" "
				"height=\"%zu\" fill=\"rgb(%d,%d,255)\" stroke=\"%s\"><title>",
				100 + b * cell, 118 + a * cell, cell, cell, shade, shade,
				a == b ? "#2ca02c" : "#fff");
			esc_(f, labels[a]);
			fprintf(f, " → ");
			esc_(f, labels[b]);
			fprintf(f, ": %.0f</title></rect>", v);
			if (v > 0)
				fprintf(f, "<text class=\"count\" x=\"%zu\" y=\"%zu\" "
					"text-anchor=\"middle\" fill=\"%s\">%.*f%s</text>",
					100 + b * cell + cell / 2, 118 + a * cell + 18,
					v > max / 2 ? "#fff" : "#222", v >= 1e4 ? 0 : 0,
					v >= 1e4 ? v / 1000 : v, v >= 1e4 ? "k" : "");
		}
	}
	fprintf(f, "</svg>\n");
	free(m);
}

/* Writes a space-separated label sequence, each label that differs from
 * the gold one at its place marked. */
static void marked_(FILE *f, const char *pred, const char *gold)
{
	while (*pred) {
		size_t lp = strcspn(pred, " "), lg = gold ? strcspn(gold, " ") : 0;
		int miss = !gold || lp != lg || strncmp(pred, gold, lp);
		char *tok = strndup(pred, lp);
		fprintf(f, "%s", miss ? "<mark>" : "");
		esc_(f, tok ? tok : "?");
		fprintf(f, "%s%s", miss ? "</mark>" : "", pred[lp] ? " " : "");
		free(tok);
		pred += lp + (pred[lp] == ' ');
		if (gold)
			gold = gold[lg] ? gold + lg + 1 : NULL;
	}
}

/* The sample predictions of the dev set: input, gold, predicted. */
static void samples_(FILE *f, const cli_run *r)
{
	if (!r->n_smp)
		return;
	fprintf(f, "<table class=\"samples\"><caption>run %lld: sample "
		"predictions (differences marked)</caption><tr><th>input</th>"
		"<th>gold</th><th>predicted</th></tr>\n", (long long)r->id);
	for (size_t i = 0; i < r->n_smp; i++) {
		fprintf(f, "<tr><td>");
		esc_(f, r->smp[i].input);
		fprintf(f, "</td><td>");
		esc_(f, r->smp[i].gold ? r->smp[i].gold : "");
		fprintf(f, "</td><td>");
		marked_(f, r->smp[i].pred, r->smp[i].gold);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table>\n");
}

static void summary_(FILE *f, const cli_run *const *runs, size_t n)
{
	static const char *const keys[][2] = {
		{"model", "plugin"}, {"model", "hidden"}, {"model", "layers"},
		{"train", "optimizer"}, {"train", "lr"}, {"train", "epochs"}};
	fprintf(f, "<table class=\"runs\"><tr><th>run</th><th>pipeline</th>"
		"<th>status</th><th>started (UTC)</th>");
	for (size_t k = 0; k < 6; k++)
		fprintf(f, "<th>%s.%s</th>", keys[k][0], keys[k][1]);
	fprintf(f, "<th>key metric</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const cli_run *r = runs[i];
		const cli_series *k = r->key_name ?
			cli_run_series(r, r->key_split, r->key_name) : NULL;
		fprintf(f, "<tr><td>%lld</td><td>", (long long)r->id);
		esc_(f, r->pipeline);
		fprintf(f, "</td><td>");
		esc_(f, r->died ? "died" : r->status);
		fprintf(f, "</td><td>");
		esc_(f, r->started);
		fprintf(f, "</td>");
		for (size_t q = 0; q < 6; q++) {
			fprintf(f, "<td>");
			esc_(f, cli_run_param(r, keys[q][0], keys[q][1]));
			fprintf(f, "</td>");
		}
		fprintf(f, "<td>");
		if (k) {
			esc_(f, k->key);
			fprintf(f, " = ");
			num_(f, cli_series_last(k, r->n_epochs));
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table>\n");
}

static int has_prefix_(const cli_run *const *runs, size_t n, const char *pre)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < runs[i]->n_s; k++)
			if (!strncmp(runs[i]->s[k].name, pre, strlen(pre)))
				return 1;
	return 0;
}

/* Whether a run has a nonzero count at offset off (a size_t member). */
static int any_(const cli_run *const *runs, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		if (*(const size_t *)(const void *)((const char *)runs[i] + off))
			return 1;
	return 0;
}

int cli_report_write(sp_ctx *ctx, const cli_run *const *runs, size_t n,
		     const char *path)
{
	size_t len = strlen(path) + 5;
	char *tmp = malloc(len);
	FILE *f;
	int bad;
	if (!tmp)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	snprintf(tmp, len, "%s.tmp", path);
	if (!(f = fopen(tmp, "w"))) {
		free(tmp);
		return sp_err(ctx, SP_EIO, "%s: cannot write the report",
			      path);
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>seqpipe report: run");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %lld", i ? "," : "", (long long)runs[i]->id);
	fprintf(f, "</title>\n<style>body{font:14px sans-serif;margin:24px;"
		"color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
		".row{display:flex;flex-wrap:wrap;gap:12px}svg.chart{border:1px "
		"solid #ddd;margin:4px}svg text{font:11px sans-serif}svg text.t"
		"{font:bold 12px sans-serif}table{border-collapse:collapse}td,th"
		"{border:1px solid #ccc;padding:2px 8px;text-align:left}"
		"table.samples{margin:8px 0;font:12px monospace}caption{text-align:"
		"left;font:bold 12px sans-serif}mark{background:#fdd}</style>"
		"</head><body>\n<h1>seqpipe report</h1>\n");
	summary_(f, runs, n);
	fprintf(f, "<h2>Learning curves</h2>\n<div class=\"row\">\n");
	for (size_t i = 0; i < n; i++)
		curves_(f, runs[i]);
	fprintf(f, "</div>\n");
	if (has_prefix_(runs, n, "f1.")) {
		fprintf(f, "<h2>Scores per type</h2>\n<div class=\"row\">\n");
		for (size_t i = 0; i < n; i++)
			per_type_(f, runs[i]);
		fprintf(f, "</div>\n");
	}
	if (any_(runs, n, offsetof(cli_run, n_cm))) {
		fprintf(f, "<h2>Confusion matrix</h2>\n<div class=\"row\">\n");
		for (size_t i = 0; i < n; i++)
			confusion_(f, runs[i]);
		fprintf(f, "</div>\n");
	}
	if (any_(runs, n, offsetof(cli_run, n_smp))) {
		fprintf(f, "<h2>Sample predictions</h2>\n");
		for (size_t i = 0; i < n; i++)
			samples_(f, runs[i]);
	}
	if (has_prefix_(runs, n, "dh_norm."))
		gradients_(f, runs, n);
	if (has_prefix_(runs, n, "gate.")) {
		fprintf(f, "<h2>Gate saturation</h2>\n<p>Mean activation of each "
			"gate and the share of units saturated (near 0 or 1), last "
			"epoch.</p>\n<div class=\"row\">\n");
		for (size_t i = 0; i < n; i++)
			gates_(f, runs[i]);
		fprintf(f, "</div>\n");
	}
	fprintf(f, "<p class=\"foot\">written by pipeline report</p>\n"
		"</body></html>\n");
	bad = ferror(f);
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		remove(tmp);
		free(tmp);
		return sp_err(ctx, SP_EIO, "%s: cannot write the report", path);
	}
	free(tmp);
	return SP_OK;
}
