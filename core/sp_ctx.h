/*
 * sp_ctx.h: the context every seqpipe call takes.
 *
 * A context holds what would otherwise be global state: the last error
 * message, the random number generator (so a seed reproduces a run), and a
 * log sink.  One context per thread of work; contexts are independent.
 * Errors are negative SP_E* codes returned by the failing call, with a
 * one-line message kept in the context (like sqlite3_errmsg).
 */
#ifndef SP_CTX_H
#define SP_CTX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_ctx sp_ctx;

enum {
	SP_OK = 0,
	SP_ERROR = -1,    /* generic failure */
	SP_ENOMEM = -2,   /* out of memory */
	SP_EINVAL = -3,   /* bad argument or configuration value */
	SP_EIO = -4,      /* file could not be read or written */
	SP_EINPUT = -5,   /* malformed input data (text, CoNLL, model file) */
	SP_ENOTFOUND = -6,/* no such plugin, component, vocabulary, run */
	SP_EABI = -7,     /* plugin built for another ABI */
	SP_EDB = -8,      /* SQLite error */
	SP_ENUMERIC = -9, /* NaN or infinity in training */
	SP_EINTR = -10    /* interrupted (Ctrl-C) */
};

/* Log levels for sp_log. */
typedef enum sp_level { SP_LOG_DEBUG, SP_LOG_INFO, SP_LOG_WARN } sp_level;
typedef void (*sp_log_fn)(void *payload, sp_level level, const char *msg);

/* New context seeded with `seed` (caller owns; free with sp_ctx_free). */
int sp_ctx_new(sp_ctx **out, uint64_t seed);
void sp_ctx_free(sp_ctx *ctx);

/* Sets the message and returns `code`, so that callers can write
 * `return sp_err(ctx, SP_EINVAL, "lstm: hidden=%d must be > 0", h);`. */
int sp_err(sp_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes the current message with "<prefix>: " (adds context on the
 * way up) and returns code. */
int sp_err_prefix(sp_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The last message (borrowed; valid until the next sp_err on ctx). */
const char *sp_errmsg(const sp_ctx *ctx);
/* A short name of a code: "invalid argument". */
const char *sp_strerror(int code);
void sp_err_clear(sp_ctx *ctx);

/* Log sink; without one, messages are dropped. */
void sp_ctx_set_log(sp_ctx *ctx, sp_log_fn fn, void *payload);
void sp_log(sp_ctx *ctx, sp_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Random numbers (xoshiro256** seeded through splitmix64). */
void sp_rng_seed(sp_ctx *ctx, uint64_t seed);
uint64_t sp_rng_next(sp_ctx *ctx);
/* Uniform in [0, 1). */
double sp_rng_uniform(sp_ctx *ctx);
/* Standard normal. */
double sp_rng_normal(sp_ctx *ctx);
/* Uniform integer in [0, n). */
uint64_t sp_rng_below(sp_ctx *ctx, uint64_t n);
/* Whole generator state, to save and restore it (checkpoints). */
void sp_rng_get_state(const sp_ctx *ctx, uint64_t out[4]);
void sp_rng_set_state(sp_ctx *ctx, const uint64_t state[4]);

/* Dropout masks, m[i] = (u_i < thr) ? lo : hi with u_i uniform in [0, 1),
 * drawn so that they do not depend on how a batch is split across
 * processes (data-parallel training): a process given a shard of a batch
 * (host-side, sp_shard.h) draws the numbers of the whole batch and keeps
 * its part, so its masks and its generator stay in step with a
 * one-process run.  Without a shard they are plain draws in order.
 * _steps: m is (T,B,width), time-major like the batch.
 * _rows: m is (n,width), one row per real step in step order (t major),
 * or with per_seq one row per sequence that has a real step. */
void sp_rng_mask_steps(sp_ctx *ctx, float *m, size_t T, size_t B, size_t width,
		       double thr, float lo, float hi);
void sp_rng_mask_rows(sp_ctx *ctx, float *m, size_t n, size_t width, int per_seq,
		      double thr, float lo, float hi);

/* Fill helpers for weight initialisation. */
void sp_fill_uniform(sp_ctx *ctx, float *w, size_t n, float lo, float hi);
void sp_fill_normal(sp_ctx *ctx, float *w, size_t n, float stddev);
void sp_fill_const(float *w, size_t n, float value);
/* Orthogonal (rows x cols) matrix via Gram-Schmidt on a normal matrix. */
int sp_fill_orthogonal(sp_ctx *ctx, float *w, size_t rows, size_t cols);

#ifdef __cplusplus
}
#endif
#endif /* SP_CTX_H */
