/*
 * bench_rnn.c: throughput of a whole seqpipe training step, the C side
 * of bench/run.sh.
 *
 * What this is: the same model and the same work as the PyTorch reference
 * (../shared/bench/torch_rnn.py), so that the two can be timed side by
 * side in one run:
 *
 *     ids (T,B) -> embedding (V,E) -> rnn|lstm|gru (H, 1 layer, optionally
 *     bidirectional) -> linear (K, ND*H) -> softmax cross-entropy, mean
 *     over all T*B tokens -> backward -> SGD (lr 0.1) on every weight
 *
 * The embedding and the recurrent layer are core/sp_cell.c (sp_rnn, with
 * cfg.embed = E, a dense embedding gradient as in torch without
 * sparse=True); the update is core/sp_optim.c over one flat arena.  The
 * projection + loss is written here with sp_gemm, the same three products
 * as plugins/heads.c, rather than going through that plugin: its tagger
 * also decodes entity spans for conlleval metrics on every forward, work
 * the reference does not do.
 *
 * Configs (as torch_rnn.py):
 *   a  char LM   V 65,    E 64,  H 256, uni, B 32, T 64, K 65
 *   b  tagger    V 20000, E 100, H 128, bi,  B 32, T 30, K 9
 *   c  large     V 65,    E 512, H 512, uni, B 64, T 50, K 65
 * Modes: train (forward + loss + backward + SGD), infer (forward to the
 * logits, no cache for backward needed), latency (infer with B = 1, one
 * call timed at a time), idle (build the model, no work: baseline RSS).
 *
 * --cell mgu: the minimal gated unit of doc/example-plugin/mgu.c, a cell
 * written as gate math (sp_cell_ops) that the engine runs like its own;
 * its source is compiled into this program (the project's CFLAGS).
 *
 * Threads: --threads N gives the engine N threads (sp_rnn_config.threads:
 * its own workers split each step's hidden units) and OpenBLAS N threads
 * (sp_blas_set_threads: the head's products, and the engine's on its
 * portable path); --blas-threads sets OpenBLAS's apart.  --reference runs
 * the engine's portable path (sp_gemm + scalar gate math) instead of its
 * AVX-512 kernels.
 *
 * Timing follows torch_rnn.py: warm-up (>= 5 steps and >= --warmup s),
 * n steps calibrated so that one repetition lasts >= --min-time s, then
 * --reps repetitions; tokens/s = n*B*T / wall time of a repetition, the
 * median reported.  foreign_cpu is the share of the machine's CPU time
 * used by OTHER processes during the timed part (/proc/stat minus our
 * getrusage), the same contamination check; tok_per_cpu_s_all, tokens
 * per second of this process's own CPU time, is what a shared machine
 * leaves least disturbed (it still pays for the caches others evict).
 * Output: one human line on stderr and one "RESULT {json}" line on
 * stdout, keyed like the reference's so that run.sh parses both alike.
 *
 * What this is not: a test (bench/crosscheck.py checks the numerics), or
 * part of `make check`; it is built only by `make bench`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sp_act.h"
#include "sp_blas.h"
#include "sp_cell.h"
#include "sp_ctx.h"
#include "sp_optim.h"

/* the example cell (its plugin entry comes along, unused) */
#include "../doc/example-plugin/mgu.c"

enum { NBATCH = 8, MAXW = 16, MAXREPS = 100 };

typedef struct bench_cfg {
	const char *name;
	size_t V, E, H;
	int bidir;
	size_t B, T, K;
} bench_cfg;

static const bench_cfg configs[] = {
	{"a", 65, 64, 256, 0, 32, 64, 65},
	{"b", 20000, 100, 128, 1, 32, 30, 9},
	{"c", 65, 512, 512, 0, 64, 50, 65},
};

typedef enum mode { MODE_TRAIN, MODE_INFER, MODE_LATENCY, MODE_IDLE } mode;

typedef struct opts {
	const bench_cfg *cfg;
	sp_cell_kind cell;
	const sp_cell_ops *ops; /* a cell of one's own (mgu), else NULL */
	const char *cell_name;
	int mode;               /* a mode, or -1 before --mode */
	const char *mode_name;
	int threads;            /* the engine's threads (sp_rnn_config) */
	int blas_threads;       /* OpenBLAS's; -1 = as many as threads */
	int reference;          /* the engine's portable path, no kernels */
	int reps;
	double min_time, warmup;
	uint64_t seed;
} opts;

/* The model: the engine, the head's weights, one arena for everything. */
typedef struct model {
	sp_rnn *rnn;
	sp_optim *opt;
	size_t B, T, V, K, D;   /* D = ND*H, the head's input width */
	size_t n_w, total;
	float *val[MAXW], *grad[MAXW];
	float *vblock, *gblock; /* value and gradient arenas (total floats) */
	float *W, *b, *dW, *db; /* head: W (K,D), b (K), views into arenas */
	float *logits;          /* (T*B,K) logits, then softmax in place */
	float *dh;              /* (T*B,D) ∂loss/∂h, into the engine */
	int32_t *ids[NBATCH];   /* (T,B) inputs */
	int32_t *tgt[NBATCH];   /* (T*B) targets */
	size_t it;              /* step counter: batch it % NBATCH */
	double loss_first, loss_last;
} model;

static double now_(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of the whole machine that were busy, from /proc/stat, and
 * ours from getrusage: their difference is what other processes used. */
static double machine_busy_(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	double busy = 0;
	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		unsigned long long s = 0;
		for (int i = 0; i < 8; i++)
			s += v[i];
		busy = (double)(s - v[3] - v[4]) / (double)sysconf(_SC_CLK_TCK);
	}
	fclose(f);
	return busy;
}

static double own_cpu_(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double_(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static size_t numel_(const sp_weight *w)
{
	size_t n = 1;
	for (int i = 0; i < w->ndim; i++)
		n *= w->dim[i];
	return n;
}

static void model_free_(model *m)
{
	sp_rnn_free(m->rnn);
	sp_optim_free(m->opt);
	free(m->vblock);
	free(m->gblock);
	free(m->logits);
	free(m->dh);
	for (int i = 0; i < NBATCH; i++) {
		free(m->ids[i]);
		free(m->tgt[i]);
	}
}

/* Builds engine, head and arenas, initialised as PyTorch does (uniform
 * ±1/√H recurrent weights, N(0,1) embedding, ±1/√D linear), and NBATCH
 * random batches.  Partial state is left for model_free_ on failure. */
static int model_new_(model *m, sp_ctx *ctx, const opts *o)
{
	const bench_cfg *c = o->cfg;
	sp_rnn_config rc;
	sp_optim_config oc;
	const sp_weight *w;
	size_t nw, off = 0;
	float k;
	int rcode;

	memset(m, 0, sizeof(*m));
	m->B = o->mode == MODE_LATENCY ? 1 : c->B;
	m->T = c->T;
	m->V = c->V;
	m->K = c->K;

	sp_rnn_config_init(&rc);
	rc.name = o->cell_name;
	rc.cell = o->cell;
	rc.ops = o->ops;
	rc.in_dim = c->V;
	rc.hidden = c->H;
	rc.layers = 1;
	rc.bidirectional = c->bidir;
	rc.embed = c->E;
	rc.init = SP_CELL_INIT_UNIFORM;
	rc.threads = (size_t)o->threads;
	rc.reference = o->reference;
	rcode = sp_rnn_new(&m->rnn, ctx, &rc);
	if (rcode)
		return rcode;
	m->D = sp_rnn_out_dim(m->rnn);
	sp_rnn_weights(m->rnn, &w, &nw);
	if (nw + 2 > MAXW)
		return sp_err(ctx, SP_EINVAL, "bench: %zu weights", nw);
	for (size_t i = 0; i < nw; i++)
		m->total += numel_(&w[i]);
	m->total += m->K * m->D + m->K;
	m->vblock = calloc(m->total, sizeof(float));
	m->gblock = calloc(m->total, sizeof(float));
	m->logits = malloc(m->T * m->B * m->K * sizeof(float));
	m->dh = malloc(m->T * m->B * m->D * sizeof(float));
	if (!m->vblock || !m->gblock || !m->logits || !m->dh)
		return sp_err(ctx, SP_ENOMEM, "bench: out of memory");
	for (size_t i = 0; i < nw; i++) {
		m->val[i] = m->vblock + off;
		m->grad[i] = m->gblock + off;
		off += numel_(&w[i]);
	}
	m->n_w = nw;
	m->W = m->vblock + off;
	m->dW = m->gblock + off;
	off += m->K * m->D;
	m->b = m->vblock + off;
	m->db = m->gblock + off;
	if ((rcode = sp_rnn_bind(m->rnn, m->val, m->grad)) ||
	    (rcode = sp_rnn_init(m->rnn, ctx)))
		return rcode;
	k = 1.0f / sqrtf((float)m->D);
	sp_fill_uniform(ctx, m->W, m->K * m->D, -k, k);
	sp_fill_uniform(ctx, m->b, m->K, -k, k);

	sp_optim_config_init(&oc, SP_OPTIM_SGD);
	oc.lr = 0.1;
	if ((rcode = sp_optim_new(&m->opt, ctx, &oc, m->total)))
		return rcode;

	for (int i = 0; i < NBATCH; i++) {
		m->ids[i] = malloc(m->T * m->B * sizeof(int32_t));
		m->tgt[i] = malloc(m->T * m->B * sizeof(int32_t));
		if (!m->ids[i] || !m->tgt[i])
			return sp_err(ctx, SP_ENOMEM, "bench: out of memory");
		for (size_t j = 0; j < m->T * m->B; j++) {
			m->ids[i][j] = (int32_t)sp_rng_below(ctx, m->V);
			m->tgt[i][j] = (int32_t)sp_rng_below(ctx, m->K);
		}
	}
	return SP_OK;
}

/* logits (M,K) = h (M,D) · Wᵀ (D,K) + b, as nn.Linear. */
static void head_forward_(model *m, const float *h)
{
	const size_t M = m->T * m->B, K = m->K;
	for (size_t r = 0; r < M; r++)
		memcpy(m->logits + r * K, m->b, K * sizeof(float));
	sp_gemm(0, 1, M, K, m->D, 1.0f, h, m->D, m->W, m->D, 1.0f, m->logits,
		K);
}

/*
 * The mean cross-entropy over the M = T*B rows and its gradient, in place
 * of the logits: dY = (softmax(Y) − onehot(tgt)) / M (softmax and
 * cross-entropy fused, as nn.CrossEntropyLoss does); then
 *   dW (K,D) += dYᵀ·h,  db += Σ_rows dY,  dh (M,D) = dY·W.
 */
static double head_backward_(model *m, const float *h, const int32_t *tgt)
{
	const size_t M = m->T * m->B, K = m->K;
	const float g = 1.0f / (float)M;
	double loss = 0;
	for (size_t r = 0; r < M; r++) {
		float *y = m->logits + r * K;
		float yc = y[tgt[r]];
		loss += sp_softmaxf(y, K) - (double)yc;
		for (size_t j = 0; j < K; j++)
			y[j] *= g;
		y[tgt[r]] -= g;
	}
	sp_gemm(1, 0, K, m->D, M, 1.0f, m->logits, K, h, m->D, 1.0f, m->dW,
		m->D);
	for (size_t r = 0; r < M; r++)
		for (size_t j = 0; j < K; j++)
			m->db[j] += m->logits[r * K + j];
	sp_gemm(0, 0, M, m->D, K, 1.0f, m->logits, K, m->W, m->D, 0.0f, m->dh,
		m->D);
	return loss / (double)M;
}

/* One step of the chosen mode on the next batch. */
static int step_(model *m, sp_ctx *ctx, mode md)
{
	const size_t i = m->it++ % NBATCH;
	sp_seq x = {m->T, m->B, m->V, NULL, m->ids[i], NULL, NULL};
	sp_seq y, dy, dx;
	int train = md == MODE_TRAIN, rc;
	double loss;

	if (train)
		/* torch's zero_grad(set_to_none) + fresh grads: the engine
		 * accumulates, so the host zeroes */
		memset(m->gblock, 0, m->total * sizeof(float));
	if ((rc = sp_rnn_forward(m->rnn, ctx, &x, &y, train)))
		return rc;
	head_forward_(m, y.x);
	if (!train)
		return SP_OK;
	loss = head_backward_(m, y.x, m->tgt[i]);
	if (m->it == 1)
		m->loss_first = loss;
	m->loss_last = loss;
	dy = y;
	dy.x = m->dh;
	if ((rc = sp_rnn_backward(m->rnn, ctx, &dy, &dx)))
		return rc;
	return sp_optim_step(m->opt, ctx, m->vblock, m->gblock);
}

/* ---- argument parsing: typed, whitelisted ---- */

static int parse_long_(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double_(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static void usage_(FILE *f)
{
	fprintf(f,
		"usage: bench_rnn --config a|b|c --cell rnn|lstm|gru|mgu\n"
		"                 --mode train|infer|latency|idle [--threads N]\n"
		"                 [--blas-threads N] [--reference] [--reps N]\n"
		"                 [--min-time S] [--warmup S] [--seed N] "
		"[--tag TEXT]\n"
		"--threads: the engine's threads (sp_rnn_config.threads) and, "
		"unless\n--blas-threads says otherwise, OpenBLAS's "
		"(sp_blas_set_threads; 0 leaves\nthem as they are).  "
		"--reference: the engine's portable path.\n");
}

static int parse_args_(int argc, char **argv, opts *o, const char **tag)
{
	memset(o, 0, sizeof(*o));
	o->reps = 7;
	o->min_time = 1.0;
	o->warmup = 1.0;
	o->mode = -1;
	o->blas_threads = -1;
	*tag = "";
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long l;
		if (!strcmp(k, "-h") || !strcmp(k, "--help")) {
			usage_(stdout);
			exit(0);
		}
		if (!strcmp(k, "--reference")) {
			o->reference = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "bench_rnn: %s needs a value\n", k);
			return -1;
		}
		i++;
		if (!strcmp(k, "--config")) {
			for (size_t c = 0; c < sizeof(configs) / sizeof(*configs);
			     c++)
				if (!strcmp(v, configs[c].name))
					o->cfg = &configs[c];
			if (!o->cfg)
				goto bad;
		} else if (!strcmp(k, "--cell")) {
			o->cell_name = v;
			if (!strcmp(v, "rnn"))
				o->cell = SP_CELL_RNN_TANH;
			else if (!strcmp(v, "lstm"))
				o->cell = SP_CELL_LSTM;
			else if (!strcmp(v, "gru"))
				o->cell = SP_CELL_GRU;
			else if (!strcmp(v, "mgu"))
				o->ops = &mgu_cell;
			else
				goto bad;
		} else if (!strcmp(k, "--mode")) {
			static const char *names[] = {"train", "infer",
						      "latency", "idle"};
			for (int j = 0; j < 4; j++)
				if (!strcmp(v, names[j]))
					o->mode = j;
			if (o->mode < 0)
				goto bad;
			o->mode_name = names[o->mode];
		} else if (!strcmp(k, "--threads")) {
			if (parse_long_(v, 0, 256, &l))
				goto bad;
			o->threads = (int)l;
		} else if (!strcmp(k, "--blas-threads")) {
			if (parse_long_(v, 0, 256, &l))
				goto bad;
			o->blas_threads = (int)l;
		} else if (!strcmp(k, "--reps")) {
			if (parse_long_(v, 1, MAXREPS, &l))
				goto bad;
			o->reps = (int)l;
		} else if (!strcmp(k, "--min-time")) {
			if (parse_double_(v, 0, 3600, &o->min_time))
				goto bad;
		} else if (!strcmp(k, "--warmup")) {
			if (parse_double_(v, 0, 3600, &o->warmup))
				goto bad;
		} else if (!strcmp(k, "--seed")) {
			if (parse_long_(v, 0, LONG_MAX, &l))
				goto bad;
			o->seed = (uint64_t)l;
		} else if (!strcmp(k, "--tag")) {
			*tag = v;
		} else {
			fprintf(stderr, "bench_rnn: unknown option %s\n", k);
			usage_(stderr);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "bench_rnn: bad value '%s' for %s\n", v, k);
		return -1;
	}
	if (!o->cfg || !o->cell_name || o->mode < 0) {
		usage_(stderr);
		return -1;
	}
	return 0;
}

/* FLOPs per token of the forward pass, counted as torch_rnn.py does:
 * 2 × (weights of the recurrent matrices + of the output layer). */
static double fwd_flops_(const model *m, const opts *o)
{
	const bench_cfg *c = o->cfg;
	double G = (double)(o->ops ? o->ops->gates : sp_cell_gates(o->cell));
	double ND = c->bidir ? 2 : 1;
	double H = (double)c->H;
	return 2.0 * (ND * G * H * ((double)c->E + H) + (double)(m->K * m->D));
}

int main(int argc, char **argv)
{
	opts o;
	const char *tag;
	sp_ctx *ctx = NULL;
	model m;
	int rc, threads;
	double rates[MAXREPS], foreign[MAXREPS], fmax = 0, flops;
	double cpu_rates[MAXREPS]; /* tokens per second of OUR CPU time */
	double med = 0, lo = 0, hi = 0;
	size_t nsteps = 0, calls = 0;
	double lat_p90 = 0, lat_p99 = 0;
	struct rusage ru;

	memset(&m, 0, sizeof(m));
	if (parse_args_(argc, argv, &o, &tag))
		return 2;
	threads = sp_blas_set_threads(o.blas_threads >= 0 ? o.blas_threads :
				      o.threads);
	if ((rc = sp_ctx_new(&ctx, o.seed)))
		goto fail;
	if ((rc = model_new_(&m, ctx, &o)))
		goto fail;
	flops = fwd_flops_(&m, &o) * (o.mode == MODE_TRAIN ? 3 : 1);

	if (o.mode != MODE_IDLE) {
		double t0 = now_(), per_step;
		int k = 0;
		while (k < 5 || now_() - t0 < o.warmup) {
			if ((rc = step_(&m, ctx, o.mode)))
				goto fail;
			k++;
		}
		per_step = (now_() - t0) / k;
		if (o.mode == MODE_LATENCY) {
			double *lat, w0, b0, c0, wall;
			calls = (size_t)(o.min_time * o.reps / per_step);
			if (calls < 50)
				calls = 50;
			lat = malloc(calls * sizeof(double));
			if (!lat) {
				rc = sp_err(ctx, SP_ENOMEM, "bench: out of memory");
				goto fail;
			}
			b0 = machine_busy_();
			c0 = own_cpu_();
			w0 = now_();
			for (size_t i = 0; i < calls; i++) {
				double s = now_();
				if ((rc = step_(&m, ctx, o.mode))) {
					free(lat);
					goto fail;
				}
				lat[i] = now_() - s;
			}
			wall = now_() - w0;
			fmax = (machine_busy_() - b0 - (own_cpu_() - c0)) /
			       (wall * (double)sysconf(_SC_NPROCESSORS_ONLN));
			qsort(lat, calls, sizeof(double), cmp_double_);
			/* median, as statistics.median: mean of the middle two
			 * for an even count */
			med = calls % 2 ? lat[calls / 2] :
			      0.5 * (lat[calls / 2 - 1] + lat[calls / 2]);
			lo = lat[0];
			hi = lat[calls - 1];
			lat_p90 = lat[(size_t)(0.9 * (double)calls)];
			lat_p99 = lat[(size_t)(0.99 * (double)calls)];
			free(lat);
		} else {
			double sorted[MAXREPS];
			nsteps = (size_t)(o.min_time / per_step + 0.999);
			if (nsteps < 1)
				nsteps = 1;
			for (int r = 0; r < o.reps; r++) {
				double b0 = machine_busy_(), c0 = own_cpu_();
				double s = now_(), dt;
				for (size_t i = 0; i < nsteps; i++)
					if ((rc = step_(&m, ctx, o.mode)))
						goto fail;
				dt = now_() - s;
				rates[r] = (double)(nsteps * m.B * m.T) / dt;
				cpu_rates[r] = (double)(nsteps * m.B * m.T) /
					       (own_cpu_() - c0);
				foreign[r] = (machine_busy_() - b0 -
					      (own_cpu_() - c0)) /
					     (dt * (double)sysconf(
							   _SC_NPROCESSORS_ONLN));
				if (foreign[r] > fmax)
					fmax = foreign[r];
			}
			memcpy(sorted, rates, o.reps * sizeof(double));
			qsort(sorted, o.reps, sizeof(double), cmp_double_);
			med = o.reps % 2 ? sorted[o.reps / 2] :
			      0.5 * (sorted[o.reps / 2 - 1] +
				     sorted[o.reps / 2]);
			lo = sorted[0];
			hi = sorted[o.reps - 1];
		}
	}
	getrusage(RUSAGE_SELF, &ru);

	printf("RESULT {\"framework\": \"seqpipe\", \"blas\": \"%s\", "
	       "\"config\": \"%s\", \"cell\": \"%s\", \"mode\": \"%s\", "
	       "\"threads\": %d, \"blas_threads\": %d, \"reference\": %s, "
	       "\"openblas_env\": ",
	       sp_blas_name(), o.cfg->name, o.cell_name, o.mode_name,
	       o.threads, threads, o.reference ? "true" : "false");
	if (getenv("OPENBLAS_NUM_THREADS"))
		printf("\"%s\"", getenv("OPENBLAS_NUM_THREADS"));
	else
		printf("null");
	printf(", \"tag\": \"%s\", \"batch\": %zu, \"seq\": %zu, "
	       "\"vocab\": %zu, \"emb\": %zu, \"hidden\": %zu, "
	       "\"bidir\": %s, \"out\": %zu, \"params\": %zu, "
	       "\"flops_per_token\": %.0f",
	       tag, m.B, m.T, o.cfg->V, o.cfg->E, o.cfg->H,
	       o.cfg->bidir ? "true" : "false", m.K, m.total, flops);
	if (o.mode == MODE_LATENCY) {
		printf(", \"calls\": %zu, \"latency_ms_median\": %.4f, "
		       "\"latency_ms_min\": %.4f, \"latency_ms_max\": %.4f, "
		       "\"latency_ms_p90\": %.4f, \"latency_ms_p99\": %.4f, "
		       "\"tok_s_median\": %.1f, \"tok_s_min\": %.1f, "
		       "\"tok_s_max\": %.1f",
		       calls, med * 1e3, lo * 1e3, hi * 1e3, lat_p90 * 1e3,
		       lat_p99 * 1e3, (double)m.T / med, (double)m.T / hi,
		       (double)m.T / lo);
		med = (double)m.T / med;
	} else if (o.mode != MODE_IDLE) {
		printf(", \"steps_per_rep\": %zu, \"reps\": %d, "
		       "\"tok_s_median\": %.1f, \"tok_s_min\": %.1f, "
		       "\"tok_s_max\": %.1f, \"tok_s_all\": [",
		       nsteps, o.reps, med, lo, hi);
		for (int r = 0; r < o.reps; r++)
			printf("%s%.1f", r ? ", " : "", rates[r]);
		printf("], \"tok_per_cpu_s_all\": [");
		for (int r = 0; r < o.reps; r++)
			printf("%s%.1f", r ? ", " : "", cpu_rates[r]);
		printf("], \"foreign_cpu_all\": [");
		for (int r = 0; r < o.reps; r++)
			printf("%s%.3f", r ? ", " : "", foreign[r]);
		printf("]");
	}
	if (o.mode != MODE_IDLE)
		printf(", \"gflops_median\": %.3f, \"foreign_cpu_max\": %.3f",
		       med * flops / 1e9, fmax);
	if (o.mode == MODE_TRAIN)
		printf(", \"loss_first\": %.4f, \"loss_last\": %.4f",
		       m.loss_first, m.loss_last);
	printf(", \"maxrss_kb_self\": %ld}\n", ru.ru_maxrss);
	fprintf(stderr, "seqpipe %s %s %s: ", o.cfg->name, o.cell_name,
		o.mode_name);
	if (o.mode != MODE_IDLE)
		fprintf(stderr, "%.0f tok/s, ", med);
	fprintf(stderr, "peak RSS %.1f MiB (%d engine threads%s, %s, %d "
		"BLAS threads)\n", (double)ru.ru_maxrss / 1024.0,
		o.threads > 1 ? o.threads : 1,
		o.reference ? ", reference path" : "", sp_blas_name(), threads);
	model_free_(&m);
	sp_ctx_free(ctx);
	return 0;
fail:
	fprintf(stderr, "bench_rnn: %s (%s)\n", ctx ? sp_errmsg(ctx) : "",
		sp_strerror(rc));
	model_free_(&m);
	sp_ctx_free(ctx);
	return 1;
}
