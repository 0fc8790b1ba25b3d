/*
 * sp_attn.h: attention over encoder states, forward and backward over a
 * batch, for a decoder head (encoder-decoder translation).
 *
 * For each batch column b, with encoder states E[s,b] (s < S, dim He),
 * the decoder state h_b (dim Hd) and a mask m[s,b] (0 = padding):
 *
 *   score   dot       e[s,b] = h_b . E[s,b]                 (Luong; He = Hd)
 *           general   e[s,b] = h_b . (W E[s,b]),  W (Hd,He)  (Luong)
 *           additive  e[s,b] = v . tanh(Ue E[s,b] + Ud h_b),
 *                     Ue (A,He), Ud (A,Hd), v (A)            (Bahdanau)
 *   weights a[.,b] = softmax over the unmasked s of e[.,b]  (0 where masked;
 *                    all 0 when a column has no unmasked state)
 *   context c_b    = sum_s a[s,b] E[s,b]                      (dim He)
 *
 * References: Bahdanau, Cho, Bengio 2015 (additive); Luong, Pham, Manning
 * 2015 (dot, general).  Backward takes dL/dc and ACCUMULATES into dE, dh
 * and the weight gradients (the caller zeroes them), like the layers.
 *
 * Parameters are one flat block the caller owns (bind), in this order:
 * general W; additive Ue, Ud, v.  Dot has none.  The cache for backward
 * (weights, and tanh units or W^T h) is sized at the first forward and
 * regrown only for a larger (S, B); E, m and h are borrowed from forward
 * until backward returns.  Dot and general are plain C loops over the
 * batch; additive runs as GEMMs over all (s, b) at once.
 *
 * Pinning (additive; a no-op for the others): a decoder attends to the same
 * source at every target step, so sp_attn_pin computes Ue E once; forwards
 * with that enc pointer (and S, B) use it, and their backwards add ∂L/∂(Ue E)
 * into a sum that sp_attn_pin_backward turns into dUe and dE with two GEMMs.
 * E and Ue must not change while pinned (pin again after an update).
 */
#ifndef SP_ATTN_H
#define SP_ATTN_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_attn_kind {
	SP_ATTN_DOT = 0,
	SP_ATTN_GENERAL = 1,
	SP_ATTN_ADDITIVE = 2
} sp_attn_kind;

/* "dot" | "general" | "additive" (or "bahdanau"); SP_EINVAL otherwise. */
int sp_attn_kind_parse(sp_attn_kind *out, sp_ctx *ctx, const char *name);

typedef struct sp_attn sp_attn;

/* enc_dim He, dec_dim Hd, attn_dim A (additive only; ignored otherwise).
 * (caller owns; free with sp_attn_free) */
int sp_attn_new(sp_attn **out, sp_ctx *ctx, sp_attn_kind kind, size_t enc_dim,
		size_t dec_dim, size_t attn_dim);
void sp_attn_free(sp_attn *a);

/* Number of floats of the parameter block. */
size_t sp_attn_n_params(const sp_attn *a);
/* Parameters and their gradients (borrowed; n_params floats each). */
void sp_attn_bind(sp_attn *a, float *w, float *dw);
/* Uniform in +-sqrt(6 / (fan_in + fan_out)) per matrix, from ctx's RNG. */
void sp_attn_init_params(sp_attn *a, sp_ctx *ctx);

/* enc (S,B,He) time-major, mask (S,B) or NULL (all real), h (B,Hd) ->
 * context (B,He) and, if not NULL, weights (S,B). */
int sp_attn_forward(sp_attn *a, sp_ctx *ctx, size_t S, size_t B, const float *enc,
		    const uint8_t *mask, const float *h, float *context, float *weights);

/* dcontext (B,He) -> accumulates into denc (S,B,He) and dh (B,Hd) (either
 * may be NULL) and the bound parameter gradients. */
int sp_attn_backward(sp_attn *a, sp_ctx *ctx, const float *dcontext, float *denc, float *dh);

/* Pins the source enc (S,B,He) (borrowed until unpinned or pinned again)
 * and clears its gradient sum. */
int sp_attn_pin(sp_attn *a, sp_ctx *ctx, size_t S, size_t B, const float *enc);
/* The pinned source's summed gradient: accumulates into dUe and denc
 * (NULL ok), then clears the sum. */
int sp_attn_pin_backward(sp_attn *a, sp_ctx *ctx, float *denc);
void sp_attn_unpin(sp_attn *a);

#ifdef __cplusplus
}
#endif
#endif /* SP_ATTN_H */
