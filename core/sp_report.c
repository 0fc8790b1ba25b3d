/*
 * sp_report.c: progress lines, predictions and traces, as printed.
 */
#include "config.h"

#include "sp_report.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "sp_job.h"

void sp_say(FILE *out, const char *fmt, ...)
{
	va_list ap;
	if (!out)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

const char *sp_report_num(char *buf, size_t size, double v)
{
	double a = fabs(v);
	if (!isfinite(v))
		snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
	else if (a == 0)
		snprintf(buf, size, "0");
	else if (a < 1e-4)
		snprintf(buf, size, "%.2g", v);
	else if (a < 1)
		snprintf(buf, size, "%.4f", v);
	else if (a < 1e4)
		snprintf(buf, size, "%.4g", v);
	else if (a < 1e15)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.4g", v);
	return buf;
}

double sp_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sp_report_run_data(const sp_job *j)
{
	if (j->opts->quiet)
		return;
	sp_say(j->out, "data: %zu train, %zu dev, %zu test sequences; vocabulary %zu",
	       j->data.train.n, j->data.dev.n, j->data.test.n, sp_vocab_size(j->data.vocab));
	if (!sp_task_next_token(&j->st.task)) {
		size_t n = sp_vocab_size(j->data.labels), known = j->data.n_known;
		sp_say(j->out, ", labels %zu", known && known < n ? known : n);
		if (known && known < n) /* dev/test labels the model cannot predict */
			sp_say(j->out, " (+%zu only in dev/test)", n - known);
	}
	sp_say(j->out, "\nmodel: %s", j->st.first ? j->st.first->name : j->st.model.comp->name);
	for (size_t k = 0; k < j->st.n_more; k++)
		sp_say(j->out, " + %s", j->st.more[k].comp->name);
	sp_say(j->out, " -> %s, %zu parameters\n", j->st.head.comp->name, j->par.n_params);
}

/* Escapes a token for display: "\n" for newline, quotes kept. */
static void print_token(FILE *f, const char *tok)
{
	for (const char *p = tok; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else
			fputc(*p, f);
	}
}

typedef struct pred_sink {
	FILE *f;
	int next_token;     /* "next:" before a language model's guesses */
	const sp_vocab *labels;
	size_t want_t;      /* only this step (lm), or every step */
	int all_steps;
	const sp_toklist *tokens;
	size_t last_t;
	int started;
} pred_sink;

static int print_pred(void *payload, size_t t, size_t b, size_t k, int32_t id, float p)
{
	pred_sink *s = payload;
	FILE *f = s->f;
	(void)b;
	if (!f || (!s->all_steps && t != s->want_t))
		return 0;
	if (s->all_steps && (!s->started || t != s->last_t)) {
		if (s->started)
			fputc('\n', f);
		if (s->tokens && t < s->tokens->n)
			fprintf(f, "%-20s", s->tokens->buf + s->tokens->off[t]);
		else
			fprintf(f, "%-20s", "");
		s->last_t = t;
		s->started = 1;
	}
	if (!s->all_steps && k == 0 && s->next_token)
		fputs("next:", f);
	fputs(k ? "  " : (s->all_steps ? "" : " "), f);
	fputc('\'', f);
	print_token(f, sp_vocab_token(s->labels, id));
	fprintf(f, "' %.3f", p);
	return 0;
}

/* ------------------------------------------------------------------ */
/* pipeline trace                                                      */
/* ------------------------------------------------------------------ */

static void print_matrix(FILE *f, const char *indent, const float *v, size_t rows,
			 size_t cols)
{
	for (size_t r = 0; r < rows; r++) {
		fprintf(f, "%s%s", indent, r == 0 ? "[" : " ");
		for (size_t c = 0; c < cols; c++)
			fprintf(f, "%s%8.4f", c ? " " : "", v[r * cols + c]);
		fprintf(f, "%s\n", r + 1 == rows ? " ]" : "");
	}
}

typedef struct trace_sink {
	FILE *f;
	const sp_vocab *labels;
} trace_sink;

/* Prints s left-aligned in width columns, counting UTF-8 characters
 * (the course's "·" and "ᵀ" are one column, several bytes). */
static void print_padded(FILE *f, const char *s, int width)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	fputs(s, f);
	for (; n < width; n++)
		fputc(' ', f);
}

static int print_trace(void *payload, size_t t, const char *label, const float *v,
		       size_t rows, size_t cols)
{
	trace_sink *s = payload;
	char shape[32];
	(void)t;
	snprintf(shape, sizeof(shape), "(%zux%zu)", rows, cols);
	fputs("  ", s->f);
	print_padded(s->f, label, 28);
	if (cols == 1 && rows <= 16) {
		/* a column vector, written as a transposed row */
		print_padded(s->f, shape, 9);
		fputc('[', s->f);
		for (size_t r = 0; r < rows; r++)
			fprintf(s->f, "%s%7.4f", r ? " " : "", v[r]);
		fprintf(s->f, " ]ᵀ\n");
	} else if (rows * cols <= 400) {
		fprintf(s->f, "%s\n", shape);
		print_matrix(s->f, "      ", v, rows, cols);
	} else {
		fprintf(s->f, "%s  [%zu values, not shown]\n", shape, rows * cols);
	}
	return 0;
}

int sp_report_predict(sp_job *j, size_t n, const sp_toklist *t)
{
	pred_sink s;
	int rc;
	memset(&s, 0, sizeof(s));
	s.f = j->out;
	s.next_token = sp_task_next_token(&j->st.task);
	s.labels = j->data.labels;
	s.want_t = n - 1;
	s.all_steps = j->st.task.labels == SP_LABELS_TOKEN;
	s.tokens = t;
	if (sp_task_one_target(&j->st.task)) {
		s.want_t = 0;
		sp_say(j->out, "label:");
	}
	rc = sp_head_of(&j->st)->predict(j->st.head.self, j->ctx,
					 s.all_steps ? 1 : j->opts->top_k,
					 print_pred, &s);
	if (rc < 0)
		return rc;
	sp_say(j->out, "\n");
	return SP_OK;
}

/* What the trace is of: pipeline, input, vocabulary, weights. */
static void trace_header(const sp_job *j, FILE *f, const char *path)
{
	fprintf(f, "Forward propagation of %s (%s -> %s) on \"%s\"\n", j->cfg.name,
		j->st.model.comp->name, j->st.head.comp->name, j->opts->input);
	fprintf(f, "vocabulary (V = %zu): {", sp_vocab_size(j->data.vocab));
	for (size_t i = 0; i < sp_vocab_size(j->data.vocab); i++) {
		fputs(i ? ", " : "", f);
		print_token(f, sp_vocab_token(j->data.vocab, (int32_t)i));
	}
	fprintf(f, "}  (one-hot: token i is the V-vector with a 1 at row i)\n");
	if (path[0])
		fprintf(f, "weights: trained, from %s\n", path);
	else
		fprintf(f, "weights: initial, from seed %llu (use --trained for the trained ones)\n",
			(unsigned long long)j->cfg.seed);
	fprintf(f, "\nParameters (%zu in all)\n", j->par.n_params);
}

/* The model shows its weights in the course's orientation when it can;
 * otherwise, and for the head, as stored. */
static int trace_params(sp_job *j, trace_sink *ts)
{
	sp_stage *st[2] = {&j->st.model, &j->st.head};
	for (int s = 0; s < 2; s++) {
		size_t off = st[s]->offset;
		if (s == 0 && sp_model_of(&j->st)->trace) {
			int rc = sp_model_of(&j->st)->trace(j->st.model.self, j->ctx, SP_TRACE_PARAMS,
							    0, print_trace, ts);
			if (rc < 0)
				return rc;
			continue;
		}
		for (size_t k = 0; k < st[s]->n_w; k++) {
			const sp_weight *w = &st[s]->w[k];
			size_t rows = w->dim[0], cols = sp_weight_floats(w) / w->dim[0];
			print_trace(ts, SP_TRACE_PARAMS, w->name, j->par.value + off, rows, cols);
			off += sp_weight_floats(w);
		}
	}
	return SP_OK;
}

/* Step `step` of the input: what the model and the head computed, and a
 * language model's prediction. */
static int trace_step(sp_job *j, FILE *f, trace_sink *ts, const int32_t *ids, size_t step)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	const sp_head_ops *h = sp_head_of(&j->st);
	int rc;
	fprintf(f, "\nt = %zu   input '", step + 1);
	print_token(f, sp_vocab_token(j->data.vocab, ids[step]));
	fprintf(f, "'\n");
	if (m->trace && (rc = m->trace(j->st.model.self, j->ctx, step, 0, print_trace, ts)) < 0)
		return rc;
	if (h->trace && (rc = h->trace(j->st.head.self, j->ctx, step, 0, print_trace, ts)) < 0)
		return rc;
	if (sp_task_next_token(&j->st.task)) {
		pred_sink s;
		memset(&s, 0, sizeof(s));
		s.f = f;
		s.next_token = 1;
		s.labels = j->data.labels;
		s.want_t = step;
		fprintf(f, "  prediction ");
		if ((rc = h->predict(j->st.head.self, j->ctx, 1, print_pred, &s)) < 0)
			return rc;
		fprintf(f, "\n");
	}
	return SP_OK;
}

int sp_report_trace(sp_job *j, FILE *f, const char *path, const int32_t *ids,
		    size_t n)
{
	trace_sink ts = {f, j->data.labels};
	int rc;
	trace_header(j, f, path);
	if ((rc = trace_params(j, &ts)) < 0)
		return rc;
	for (size_t step = 0; step < n; step++)
		if ((rc = trace_step(j, f, &ts, ids, step)) < 0)
			return rc;
	return SP_OK;
}
