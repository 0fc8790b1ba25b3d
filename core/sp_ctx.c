/*
 * sp_ctx.c: error messages, logging and the random number generator of a
 * context.  xoshiro256** (Blackman & Vigna, 2018) seeded by splitmix64:
 * fast, good statistical quality, and the same stream on every platform,
 * which is what reproducible runs need.
 */
#include "sp_ctx.h"
#include "sp_shard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_ERRMSG_MAX 1024

struct sp_ctx {
	char errmsg[SP_ERRMSG_MAX];
	uint64_t rng[4];
	sp_log_fn log_fn;
	void *log_payload;
	const sp_shard *shard; /* this process's part of the batch; NULL = all */
};

int sp_ctx_new(sp_ctx **out, uint64_t seed)
{
	sp_ctx *ctx = calloc(1, sizeof(*ctx));
	*out = NULL;
	if (!ctx)
		return SP_ENOMEM;
	sp_rng_seed(ctx, seed);
	*out = ctx;
	return SP_OK;
}

void sp_ctx_free(sp_ctx *ctx)
{
	free(ctx);
}

int sp_err(sp_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	if (!ctx)
		return code;
	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

int sp_err_prefix(sp_ctx *ctx, int code, const char *fmt, ...)
{
	char prefix[SP_ERRMSG_MAX];
	size_t pl;
	va_list ap;
	if (!ctx)
		return code;
	if (!ctx->errmsg[0])
		snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s", sp_strerror(code));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	pl = strlen(prefix);
	if (pl + 3 >= SP_ERRMSG_MAX)
		return code;
	/* shift the old message right, truncating its end if need be */
	memmove(ctx->errmsg + pl + 2, ctx->errmsg, SP_ERRMSG_MAX - pl - 2);
	ctx->errmsg[SP_ERRMSG_MAX - 1] = '\0';
	memcpy(ctx->errmsg, prefix, pl);
	ctx->errmsg[pl] = ':';
	ctx->errmsg[pl + 1] = ' ';
	return code;
}

const char *sp_errmsg(const sp_ctx *ctx)
{
	if (!ctx)
		return "no context";
	return ctx->errmsg[0] ? ctx->errmsg : "no error";
}

void sp_err_clear(sp_ctx *ctx)
{
	if (ctx)
		ctx->errmsg[0] = '\0';
}

const char *sp_strerror(int code)
{
	switch (code) {
	case SP_OK: return "success";
	case SP_ERROR: return "error";
	case SP_ENOMEM: return "out of memory";
	case SP_EINVAL: return "invalid argument";
	case SP_EIO: return "input/output error";
	case SP_EINPUT: return "malformed input";
	case SP_ENOTFOUND: return "not found";
	case SP_EABI: return "plugin ABI mismatch";
	case SP_EDB: return "database error";
	case SP_ENUMERIC: return "numeric error (NaN or infinity)";
	case SP_EINTR: return "interrupted";
	default: return "unknown error";
	}
}

void sp_ctx_set_log(sp_ctx *ctx, sp_log_fn fn, void *payload)
{
	ctx->log_fn = fn;
	ctx->log_payload = payload;
}

void sp_log(sp_ctx *ctx, sp_level level, const char *fmt, ...)
{
	char msg[SP_ERRMSG_MAX];
	va_list ap;
	if (!ctx || !ctx->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_payload, level, msg);
}

static uint64_t splitmix64_(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sp_rng_seed(sp_ctx *ctx, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		ctx->rng[i] = splitmix64_(&x);
}

static uint64_t rotl_(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sp_rng_next(sp_ctx *ctx)
{
	uint64_t *s = ctx->rng;
	uint64_t result = rotl_(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl_(s[3], 45);
	return result;
}

double sp_rng_uniform(sp_ctx *ctx)
{
	/* 53 random bits -> [0, 1) */
	return (double)(sp_rng_next(ctx) >> 11) * 0x1.0p-53;
}

double sp_rng_normal(sp_ctx *ctx)
{
	/* Box-Muller; one of the pair is dropped so no state is hidden. */
	double u1 = sp_rng_uniform(ctx), u2 = sp_rng_uniform(ctx);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t sp_rng_below(sp_ctx *ctx, uint64_t n)
{
	/* Rejection keeps the draw unbiased. */
	uint64_t limit, r;
	if (n == 0)
		return 0;
	limit = UINT64_MAX - UINT64_MAX % n;
	do
		r = sp_rng_next(ctx);
	while (r >= limit);
	return r % n;
}

void sp_rng_get_state(const sp_ctx *ctx, uint64_t out[4])
{
	memcpy(out, ctx->rng, sizeof(ctx->rng));
}

void sp_rng_set_state(sp_ctx *ctx, const uint64_t state[4])
{
	memcpy(ctx->rng, state, sizeof(ctx->rng));
}

void sp_ctx_set_shard(sp_ctx *ctx, const sp_shard *shard)
{
	ctx->shard = shard;
}

static float mask_(sp_ctx *ctx, double thr, float lo, float hi)
{
	return sp_rng_uniform(ctx) < thr ? lo : hi;
}

void sp_rng_mask_steps(sp_ctx *ctx, float *m, size_t T, size_t B, size_t width,
		       double thr, float lo, float hi)
{
	const sp_shard *s = ctx->shard;
	if (!s || s->count != B || T > s->T) { /* a whole batch */
		for (size_t i = 0; i < T * B * width; i++)
			m[i] = mask_(ctx, thr, lo, hi);
		return;
	}
	for (size_t t = 0; t < s->T; t++)
		for (size_t b = 0; b < s->B; b++) {
			int mine = t < T && b >= s->first && b - s->first < B;
			float *row = mine ? m + (t * B + b - s->first) * width : NULL;
			for (size_t i = 0; i < width; i++) {
				float v = mask_(ctx, thr, lo, hi);
				if (row)
					row[i] = v;
			}
		}
}

/* Row i of v and m times sc (m = sc when fresh). */
static void scale_row_(float *v, float *m, size_t i, size_t w, float sc, int fresh)
{
	for (size_t k = 0; k < w; k++) {
		m[i * w + k] = fresh ? sc : m[i * w + k] * sc;
		v[i * w + k] *= sc;
	}
}

void sp_rng_drop_rows(sp_ctx *ctx, float *v, float *m, size_t T, size_t B, size_t w,
		      double thr, float keep, int fresh)
{
	const sp_shard *s = ctx->shard;
	if (!s || s->count != B || T > s->T) { /* a whole batch */
		for (size_t i = 0; i < T * B; i++)
			scale_row_(v, m, i, w, mask_(ctx, thr, 0.0f, keep), fresh);
		return;
	}
	for (size_t t = 0; t < s->T; t++)
		for (size_t b = 0; b < s->B; b++) {
			float sc = mask_(ctx, thr, 0.0f, keep);
			if (t < T && b >= s->first && b - s->first < B)
				scale_row_(v, m, t * B + b - s->first, w, sc, fresh);
		}
}

void sp_rng_mask_rows(sp_ctx *ctx, float *m, size_t n, size_t width, int per_seq,
		      double thr, float lo, float hi)
{
	const sp_shard *s = ctx->shard;
	size_t k = 0;
	if (!s) {
		for (size_t i = 0; i < n * width; i++)
			m[i] = mask_(ctx, thr, lo, hi);
		return;
	}
	/* the whole batch's rows in its order; ours are in the same order */
	for (size_t t = 0; t < (per_seq ? 1 : s->T); t++)
		for (size_t b = 0; b < s->B; b++) {
			int real = per_seq ? s->len[b] > 0 : (int64_t)t < (int64_t)s->len[b];
			int mine = b >= s->first && b - s->first < s->count && k < n;
			if (!real)
				continue;
			for (size_t i = 0; i < width; i++) {
				float v = mask_(ctx, thr, lo, hi);
				if (mine)
					m[k * width + i] = v;
			}
			k += (size_t)mine;
		}
}

void sp_fill_uniform(sp_ctx *ctx, float *w, size_t n, float lo, float hi)
{
	for (size_t i = 0; i < n; i++)
		w[i] = lo + (hi - lo) * (float)sp_rng_uniform(ctx);
}

void sp_fill_normal(sp_ctx *ctx, float *w, size_t n, float stddev)
{
	for (size_t i = 0; i < n; i++)
		w[i] = stddev * (float)sp_rng_normal(ctx);
}

void sp_fill_const(float *w, size_t n, float value)
{
	for (size_t i = 0; i < n; i++)
		w[i] = value;
}

int sp_fill_orthogonal(sp_ctx *ctx, float *w, size_t rows, size_t cols)
{
	/* Gram-Schmidt over the longer side, in double for stability; the
	 * shorter side's vectors come out orthonormal. */
	int tr = rows > cols;
	size_t n = tr ? cols : rows, m = tr ? rows : cols;
	double *q = malloc(n * m * sizeof(*q));
	if (!q)
		return sp_err(ctx, SP_ENOMEM, "orthogonal init: out of memory");
	for (size_t i = 0; i < n; i++) {
		double norm;
		do {
			for (size_t j = 0; j < m; j++)
				q[i * m + j] = sp_rng_normal(ctx);
			for (size_t k = 0; k < i; k++) {
				double dot = 0;
				for (size_t j = 0; j < m; j++)
					dot += q[i * m + j] * q[k * m + j];
				for (size_t j = 0; j < m; j++)
					q[i * m + j] -= dot * q[k * m + j];
			}
			norm = 0;
			for (size_t j = 0; j < m; j++)
				norm += q[i * m + j] * q[i * m + j];
			norm = sqrt(norm);
		} while (norm < 1e-6);
		for (size_t j = 0; j < m; j++)
			q[i * m + j] /= norm;
	}
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			w[r * cols + c] = (float)(tr ? q[c * m + r] : q[r * m + c]);
	free(q);
	return SP_OK;
}
