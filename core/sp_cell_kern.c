/*
 * sp_cell_kern.c: the built-in cells' element-wise gate math (portable
 * and AVX-512, one batch row at a time), the weights packed into panels,
 * and the one micro-kernel every product of the engine's AVX-512 path
 * runs on.  See "Kernels" in sp_cell.c.
 */
#include "sp_cell_impl.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Element-wise gate math, one batch row at a time                     */
/* ------------------------------------------------------------------ */

/*
 * tanh for the gate loops.  glibc's tanhf goes through expm1f and took
 * about 30% of an LSTM training step; this one costs one expf (3x faster)
 * and stays within 2.6 ulp of the exact tanh over all floats:
 *   |x| < 0.25   the odd Taylor series to x⁹ (truncation < 3e-9 relative)
 *   otherwise    tanh|x| = (1 - e)/(1 + e), e = exp(-2|x|) <= 0.61, so
 *                1 - e does not cancel.
 * (A candidate for sp_act.h.)
 */
static inline float tanh_(float x)
{
	float ax = fabsf(x);
	if (ax < 0.25f) {
		float x2 = x * x;
		float p = -17.0f / 315 + x2 * (62.0f / 2835);
		return x + x * x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * p));
	} else {
		float e = expf(-2.0f * ax);
		return copysignf((1.0f - e) / (1.0f + e), x);
	}
}

/*
 * σ(x) = 1/(1 + e^-x) without a branch.  sp_sigmoidf splits by sign so
 * that expf never overflows; on gate pre-activations the sign is a coin
 * toss, and the mispredicted branch made it 4x slower (7 ns vs 1.7 ns).
 * Overflow is harmless here: e^-x = inf gives exactly 0 (the true value
 * is below 2e-38 there).  Max abs error 8e-8.  (A candidate for
 * sp_act.h, as is tanh_.)
 */
static inline float sigmoid_(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/*
 * The row functions below work on hidden units [u0, u1) of one batch row
 * (a thread's share); vectors are indexed by unit k, gate blocks of a
 * (GH) row are H apart.
 */

/* rnn forward: a (H) pre-activation -> h = φ(a), also stored back in a
 * and in the output row y. */
static void rnn_fwd_row_(float *a, float *h, float *y, size_t u0, size_t u1,
			 int relu)
{
	for (size_t k = u0; k < u1; k++) {
		if (relu)
			a[k] = a[k] > 0.0f ? a[k] : 0.0f;
		else
			a[k] = tanh_(a[k]);
		h[k] = y[k] = a[k];
	}
}

/* rnn backward: dA = ∂L/∂h ⊙ φ'(a), with φ' from h: 1-h² or [h > 0]. */
static void rnn_bwd_row_(const float *h, const float *dh, float *dA,
			 size_t u0, size_t u1, int relu)
{
	if (relu)
		for (size_t k = u0; k < u1; k++)
			dA[k] = h[k] > 0.0f ? dh[k] : 0.0f;
	else
		for (size_t k = u0; k < u1; k++)
			dA[k] = dh[k] * (1.0f - h[k] * h[k]);
}

/* lstm forward: a (4H) = [i|f|g|o] pre-activations, activated in place;
 * c = f⊙cp + i⊙g, h = o⊙tanh(c) (also into y).  tanh(c) is not kept:
 * backward computes it again from c, the same function of the same
 * value, which costs less than storing (T,B,H) more floats. */
static void lstm_fwd_row_(float *a, const float *cp, float *c, float *h,
			  float *y, size_t H, size_t u0, size_t u1)
{
	float *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
	for (size_t k = u0; k < u1; k++) {
		i[k] = sigmoid_(i[k]);
		f[k] = sigmoid_(f[k]);
		g[k] = tanh_(g[k]);
		o[k] = sigmoid_(o[k]);
		c[k] = f[k] * cp[k] + i[k] * g[k];
		h[k] = y[k] = o[k] * tanh_(c[k]);
	}
}

/*
 * lstm backward for one row.  In: activations a = [i|f|g|o], c(t-1) cp,
 * c(t) cc (tc = tanh(c(t))), dh = ∂L/∂h(t), dc = ∂L/∂c(t) from step t+1.
 * Out: dA (4H) = ∂L/∂[pre-activations], dc := ∂L/∂c(t-1).
 *   dc(t)  = dc + dh⊙o⊙(1 - tc²)
 *   di = dc(t)⊙g    df = dc(t)⊙c(t-1)    dg = dc(t)⊙i    do = dh⊙tc
 *   dc(t-1) = dc(t)⊙f;  then through σ' = s(1-s) and tanh' = 1-g².
 */
static void lstm_bwd_row_(const float *a, const float *cp, const float *cc,
			  const float *dh, float *dc, float *dA, size_t H,
			  size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k++) {
		/* all of a read before dA is written: dA may be a itself */
		float i = a[k], f = a[H + k], g = a[2 * H + k],
		      o = a[3 * H + k], tc = tanh_(cc[k]);
		float dct = dc[k] + dh[k] * o * (1.0f - tc * tc);
		dA[k] = dct * g * i * (1.0f - i);
		dA[H + k] = dct * cp[k] * f * (1.0f - f);
		dA[2 * H + k] = dct * i * (1.0f - g * g);
		dA[3 * H + k] = dh[k] * tc * o * (1.0f - o);
		dc[k] = dct * f;
	}
}

/* gru forward: a (3H) = [xr|xz|xn] (x side with bx), hg (3H) = [hr|hz|hn]
 * (h side with bh).  a becomes [r|z|n]; hn is kept for backward; h also
 * goes into y. */
static void gru_fwd_row_(float *a, const float *hg, const float *hp,
			 float *hn, float *h, float *y, size_t H, size_t u0,
			 size_t u1)
{
	float *r = a, *z = a + H, *n = a + 2 * H;
	for (size_t k = u0; k < u1; k++) {
		r[k] = sigmoid_(r[k] + hg[k]);
		z[k] = sigmoid_(z[k] + hg[H + k]);
		hn[k] = hg[2 * H + k];
		n[k] = tanh_(n[k] + r[k] * hn[k]);
		h[k] = y[k] = (1.0f - z[k]) * n[k] + z[k] * hp[k];
	}
}

/*
 * gru backward for one row.  In: a = [r|z|n], h(t-1) hp, hn, dh.
 *   dn = dh⊙(1-z)   dz = dh⊙(h(t-1) - n)   dan = dn⊙(1-n²)   dr = dan⊙hn
 * Out: dA (3H) x side [dr·σ' | dz·σ' | dan], dAh (3H) h side, the same
 * but dan⊙r for n, and dhp := the direct part of ∂L/∂h(t-1), dh⊙z (the
 * caller adds dAh·Whᵀ).
 */
static void gru_bwd_row_(const float *a, const float *hp, const float *hn,
			 const float *dh, float *dA, float *dAh, float *dhp,
			 size_t H, size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k++) {
		/* a and hn read before dA and dAh are written: they may be
		 * the same memory (see sp_rnn_sizes_of) */
		float r = a[k], z = a[H + k], n = a[2 * H + k];
		float dn = dh[k] * (1.0f - z);
		float dz = dh[k] * (hp[k] - n);
		float dan = dn * (1.0f - n * n);
		float dar = dan * hn[k] * r * (1.0f - r);
		float daz = dz * z * (1.0f - z);
		dA[k] = dAh[k] = dar;
		dA[H + k] = dAh[H + k] = daz;
		dA[2 * H + k] = dan;
		dAh[2 * H + k] = dan * r;
		dhp[k] = dh[k] * z;
	}
}

/* dh += dy over [u0, u1); returns Σ dh² there. */
static float dh_add_row_(float *dh, const float *dy, size_t u0, size_t u1)
{
	float sq = 0;
	for (size_t k = u0; k < u1; k++)
		dh[k] += dy[k];
	for (size_t k = u0; k < u1; k++)
		sq += dh[k] * dh[k];
	return sq;
}

#if SIMD_
/* ------------------------------------------------------------------ */
/* The same gate math, 16 units at a time (AVX-512)                    */
/* ------------------------------------------------------------------ */

/* The first n (<= 16) lanes. */
static inline __mmask16 lanes_(size_t n)
{
	return n >= VL_ ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

static inline AVX512_ __m512 ld_(const float *p, __mmask16 m)
{
	return _mm512_maskz_loadu_ps(m, p);
}

static inline AVX512_ void st_(float *p, __mmask16 m, __m512 v)
{
	_mm512_mask_storeu_ps(p, m, v);
}

static inline AVX512_ __m512 splat_(float v)
{
	return _mm512_set1_ps(v);
}

/*
 * e^x = 2^n · e^r, n = round(x·log2 e), r = x - n·ln 2 (in two parts,
 * Cody & Waite), e^r by Cephes' expf polynomial (about 1 ulp); scalef
 * takes 2^n to inf or 0 on its own.  x is clamped to ±100 first (NaN
 * stays NaN) so that r never becomes inf - inf.
 */
static inline AVX512_ __m512 exp_v_(__m512 x)
{
	__m512 n, r, p;
	x = _mm512_min_ps(splat_(100.0f), _mm512_max_ps(splat_(-100.0f), x));
	n = _mm512_roundscale_ps(x * 1.44269504088896341f,
				 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm512_fnmadd_ps(n, splat_(0.693359375f), x);
	r = _mm512_fnmadd_ps(n, splat_(-2.12194440e-4f), r);
	p = _mm512_fmadd_ps(splat_(1.9875691500e-4f), r,
			    splat_(1.3981999507e-3f));
	p = _mm512_fmadd_ps(p, r, splat_(8.3334519073e-3f));
	p = _mm512_fmadd_ps(p, r, splat_(4.1665795894e-2f));
	p = _mm512_fmadd_ps(p, r, splat_(1.6666665459e-1f));
	p = _mm512_fmadd_ps(p, r, splat_(5.0000001201e-1f));
	p = _mm512_fmadd_ps(p, r * r, r + 1.0f);
	return _mm512_scalef_ps(p, n);
}

/* As sigmoid_. */
static inline AVX512_ __m512 sigmoid_v_(__m512 x)
{
	return 1.0f / (1.0f + exp_v_(-x));
}

/* As tanh_: the Taylor series below 0.25, (1-e)/(1+e) above. */
static inline AVX512_ __m512 tanh_v_(__m512 x)
{
	__m512 ax = _mm512_abs_ps(x), x2 = x * x, e, big, small;
	__m512 p = -17.0f / 315 + x2 * (62.0f / 2835);
	small = x + x * x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * p));
	e = exp_v_(-2.0f * ax);
	big = (1.0f - e) / (1.0f + e);
	big = _mm512_castsi512_ps(_mm512_or_si512(
		_mm512_castps_si512(big),
		_mm512_and_si512(_mm512_castps_si512(x),
				 _mm512_set1_epi32((int)0x80000000u))));
	return _mm512_mask_blend_ps(
		_mm512_cmp_ps_mask(ax, splat_(0.25f), _CMP_LT_OQ), big, small);
}

static AVX512_ void rnn_fwd_row_v_(float *a, float *h, float *y, size_t u0,
				   size_t u1, int relu)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 v = ld_(a + k, m);
		v = relu ? _mm512_max_ps(v, _mm512_setzero_ps()) : tanh_v_(v);
		st_(a + k, m, v);
		st_(h + k, m, v);
		st_(y + k, m, v);
	}
}

static AVX512_ void rnn_bwd_row_v_(const float *h, const float *dh,
				   float *dA, size_t u0, size_t u1, int relu)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 hv = ld_(h + k, m), d = ld_(dh + k, m);
		if (relu)
			d = _mm512_maskz_mov_ps(
				_mm512_cmp_ps_mask(hv, _mm512_setzero_ps(),
						   _CMP_GT_OQ), d);
		else
			d = d * (1.0f - hv * hv);
		st_(dA + k, m, d);
	}
}

static AVX512_ void lstm_fwd_row_v_(float *a, const float *cp, float *c,
				    float *h, float *y, size_t H, size_t u0,
				    size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 i = sigmoid_v_(ld_(a + k, m));
		__m512 f = sigmoid_v_(ld_(a + H + k, m));
		__m512 g = tanh_v_(ld_(a + 2 * H + k, m));
		__m512 o = sigmoid_v_(ld_(a + 3 * H + k, m));
		__m512 cv = f * ld_(cp + k, m) + i * g;
		__m512 t = tanh_v_(cv);
		st_(a + k, m, i);
		st_(a + H + k, m, f);
		st_(a + 2 * H + k, m, g);
		st_(a + 3 * H + k, m, o);
		st_(c + k, m, cv);
		st_(h + k, m, o * t);
		st_(y + k, m, o * t);
	}
}

static AVX512_ void lstm_bwd_row_v_(const float *a, const float *cp,
				    const float *cc, const float *dh,
				    float *dc, float *dA, size_t H, size_t u0,
				    size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 i = ld_(a + k, m), f = ld_(a + H + k, m);
		__m512 g = ld_(a + 2 * H + k, m), o = ld_(a + 3 * H + k, m);
		__m512 t = tanh_v_(ld_(cc + k, m)), d = ld_(dh + k, m);
		__m512 dct = ld_(dc + k, m) + d * o * (1.0f - t * t);
		st_(dA + k, m, dct * g * i * (1.0f - i));
		st_(dA + H + k, m, dct * ld_(cp + k, m) * f * (1.0f - f));
		st_(dA + 2 * H + k, m, dct * i * (1.0f - g * g));
		st_(dA + 3 * H + k, m, d * t * o * (1.0f - o));
		st_(dc + k, m, dct * f);
	}
}

static AVX512_ void gru_fwd_row_v_(float *a, const float *hg,
				   const float *hp, float *hn, float *h,
				   float *y, size_t H, size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 r = sigmoid_v_(ld_(a + k, m) + ld_(hg + k, m));
		__m512 z = sigmoid_v_(ld_(a + H + k, m) + ld_(hg + H + k, m));
		__m512 hnv = ld_(hg + 2 * H + k, m);
		__m512 n = tanh_v_(ld_(a + 2 * H + k, m) + r * hnv);
		st_(a + k, m, r);
		st_(a + H + k, m, z);
		st_(a + 2 * H + k, m, n);
		__m512 hv = (1.0f - z) * n + z * ld_(hp + k, m);
		st_(hn + k, m, hnv);
		st_(h + k, m, hv);
		st_(y + k, m, hv);
	}
}

static AVX512_ void gru_bwd_row_v_(const float *a, const float *hp,
				   const float *hn, const float *dh,
				   float *dA, float *dAh, float *dhp,
				   size_t H, size_t u0, size_t u1)
{
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 r = ld_(a + k, m), z = ld_(a + H + k, m);
		__m512 n = ld_(a + 2 * H + k, m), d = ld_(dh + k, m);
		__m512 dn = d * (1.0f - z);
		__m512 dz = d * (ld_(hp + k, m) - n);
		__m512 dan = dn * (1.0f - n * n);
		__m512 dar = dan * ld_(hn + k, m) * r * (1.0f - r);
		__m512 daz = dz * z * (1.0f - z);
		st_(dA + k, m, dar);
		st_(dAh + k, m, dar);
		st_(dA + H + k, m, daz);
		st_(dAh + H + k, m, daz);
		st_(dA + 2 * H + k, m, dan);
		st_(dAh + 2 * H + k, m, dan * r);
		st_(dhp + k, m, d * z);
	}
}

static AVX512_ float dh_add_row_v_(float *dh, const float *dy, size_t u0,
				   size_t u1)
{
	__m512 sq = _mm512_setzero_ps();
	for (size_t k = u0; k < u1; k += VL_) {
		__mmask16 m = lanes_(u1 - k);
		__m512 d = ld_(dh + k, m) + ld_(dy + k, m);
		st_(dh + k, m, d);
		sq = _mm512_fmadd_ps(d, d, sq);
	}
	return _mm512_reduce_add_ps(sq);
}
#endif /* SIMD_ */

void spc_pick_rows(rowfns_ *out, int simd)
{
	static const rowfns_ portable = {
		rnn_fwd_row_,  rnn_bwd_row_, lstm_fwd_row_, lstm_bwd_row_,
		gru_fwd_row_,  gru_bwd_row_, dh_add_row_};
#if SIMD_
	static const rowfns_ avx512 = {
		rnn_fwd_row_v_, rnn_bwd_row_v_, lstm_fwd_row_v_,
		lstm_bwd_row_v_, gru_fwd_row_v_, gru_bwd_row_v_,
		dh_add_row_v_};
	*out = simd ? avx512 : portable;
#else
	(void)simd;
	*out = portable;
#endif
}


/* ------------------------------------------------------------------ */
/* The recurrent products: packed weights and the AVX-512 micro-kernel */
/* ------------------------------------------------------------------ */

/*
 * Column panels of W (K, G*H) for C += A·W, blocks j0..j1-1 (P starts
 * with block j0).  Block j covers hidden units [j*U, j*U + U) of every
 * gate, U = UV*16, and holds for each k its G*UV vectors in a row:
 *   P[j][k][g*UV + v][l] = W[k][g*H + j*U + v*16 + l]   (0 past H)
 * so that the kernel reads one contiguous stream per block.
 */
void spc_pack_cols(const float *W, size_t K, size_t G, size_t H,
		       size_t UV, size_t j0, size_t j1, float *P)
{
	size_t U = UV * VL_, NV = G * UV;
	for (size_t j = j0; j < j1; j++) {
		float *pj = P + (j - j0) * K * NV * VL_;
		for (size_t k = 0; k < K; k++) {
			for (size_t g = 0; g < G; g++) {
				for (size_t v = 0; v < UV; v++) {
					float *dst = pj + (k * NV + g * UV + v) * VL_;
					size_t u = j * U + v * VL_;
					size_t n = u >= H ? 0 : H - u < VL_ ? H - u : VL_;
					const float *src = W + k * G * H + g * H + u;
					if (n == VL_) { /* the usual case: inlined */
						memcpy(dst, src, VL_ * sizeof(float));
						continue;
					}
					if (n)
						memcpy(dst, src, n * sizeof(float));
					memset(dst + n, 0, (VL_ - n) * sizeof(float));
				}
			}
		}
	}
}

/*
 * Row panels of W (N, K) for C += A·Wᵀ, blocks j0..j1-1 (P starts with
 * block j0).  Block j covers rows [j*32, j*32 + 32) of W (columns of C):
 *   P[j][k][l] = W[j*32 + l][k]   (0 past N)
 */
void spc_pack_rows(const float *W, size_t N, size_t K, size_t j0,
		       size_t j1, float *P)
{
	for (size_t j = j0; j < j1; j++) {
		float *pj = P + (j - j0) * K * BWD_UNITS_;
		for (size_t l = 0; l < BWD_UNITS_; l++) {
			size_t u = j * BWD_UNITS_ + l;
			for (size_t k = 0; k < K; k++)
				pj[k * BWD_UNITS_ + l] = u < N ? W[u * K + k] : 0.0f;
		}
	}
}


/* The NV = G*UV vectors of block j of a row of C (G gates of H units,
 * U = UV*16 units a block): their offsets and lanes. */
size_t spc_block_vecs(size_t G, size_t H, size_t UV, size_t j,
			  size_t *off, uint16_t *m)
{
	for (size_t g = 0; g < G; g++) {
		for (size_t v = 0; v < UV; v++) {
			size_t u = (j * UV + v) * VL_, i = g * UV + v;
			size_t n = u >= H ? 0 : H - u < VL_ ? H - u : VL_;
			off[i] = n ? g * H + u : 0;
			m[i] = (uint16_t)((1u << n) - 1);
		}
	}
	return G * UV;
}

#if SIMD_
/*
 * The micro-kernel: rows 0..MR-1 of the block, C = Cin + A(MR, K)·P with
 * A(i,k) = A[i*sa + k*sk] (sk = 1 for A, sa = 1 for a transposed one).
 * The MR*NV accumulators stay in registers over all of K, so each output
 * is one FMA chain in k order: the result does not depend on how rows
 * and blocks are shared among threads.  Cin NULL starts from 0; ldin 0
 * reads the same row (a bias) for every row.  MR and NV are constants
 * at every call, so the loops unroll into straight register code.
 */
static inline __attribute__((always_inline)) AVX512_ void
mk_(const int MR, const int NV, const kblock_ *kb, const float *A,
    size_t sa, size_t sk, const float *Cin, size_t ldin, float *Cout,
    size_t ldout)
{
	__m512 acc[8][4], w[4];
	const float *P = kb->P;
	_Pragma("GCC unroll 8")
	for (int i = 0; i < MR; i++) {
		_Pragma("GCC unroll 4")
		for (int v = 0; v < NV; v++)
			acc[i][v] = Cin ? ld_(Cin + i * ldin + kb->off[v], kb->m[v])
					: _mm512_setzero_ps();
	}
	for (size_t k = 0; k < kb->K; k++, P += NV * VL_, A += sk) {
		_Pragma("GCC unroll 4")
		for (int v = 0; v < NV; v++)
			w[v] = _mm512_load_ps(P + v * VL_);
		_Pragma("GCC unroll 8")
		for (int i = 0; i < MR; i++) {
			__m512 x = _mm512_set1_ps(A[i * sa]);
			_Pragma("GCC unroll 4")
			for (int v = 0; v < NV; v++)
				acc[i][v] = _mm512_fmadd_ps(x, w[v], acc[i][v]);
		}
	}
	_Pragma("GCC unroll 8")
	for (int i = 0; i < MR; i++) {
		_Pragma("GCC unroll 4")
		for (int v = 0; v < NV; v++)
			st_(Cout + i * ldout + kb->off[v], kb->m[v], acc[i][v]);
	}
}

/* C (rows, block) = Cin + A (rows, K)·P, A(i,k) = A[i*sa + k*sk]: tiles
 * of 4 rows (NV = 4) or 8 (NV = 3 or 2), then single rows. */
AVX512_ void spc_kprod(const kblock_ *kb, size_t rows, const float *A,
			   size_t sa, size_t sk, const float *Cin, size_t ldin,
			   float *Cout, size_t ldout)
{
	size_t i = 0;
#define MK_(MR, NV) mk_(MR, NV, kb, A + i * sa, sa, sk, \
			Cin ? Cin + i * ldin : NULL, ldin, Cout + i * ldout, ldout)
	switch (kb->NV) {
	case 4:
		for (; i + 4 <= rows; i += 4)
			MK_(4, 4);
		for (; i < rows; i++)
			MK_(1, 4);
		break;
	case 3:
		for (; i + 8 <= rows; i += 8)
			MK_(8, 3);
		for (; i < rows; i++)
			MK_(1, 3);
		break;
	default: /* 2: the rnn's blocks, and all of backward's */
		for (; i + 8 <= rows; i += 8)
			MK_(8, 2);
		for (; i < rows; i++)
			MK_(1, 2);
		break;
	}
#undef MK_
}
#endif /* SIMD_ */

/* ------------------------------------------------------------------ */
/* Activations for a cell of one's own (sp_cell.h)                     */
/* ------------------------------------------------------------------ */

#if SIMD_
static AVX512_ void sigmoid_n_v_(float *v, size_t n)
{
	for (size_t k = 0; k < n; k += VL_) {
		__mmask16 m = lanes_(n - k);
		st_(v + k, m, sigmoid_v_(ld_(v + k, m)));
	}
}

static AVX512_ void tanh_n_v_(float *v, size_t n)
{
	for (size_t k = 0; k < n; k += VL_) {
		__mmask16 m = lanes_(n - k);
		st_(v + k, m, tanh_v_(ld_(v + k, m)));
	}
}

/* Whether this CPU runs the AVX-512 code (libgcc caches the answer). */
static int avx512_(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
}
#endif

void sp_cell_sigmoid(float *v, size_t n)
{
#if SIMD_
	if (avx512_()) {
		sigmoid_n_v_(v, n);
		return;
	}
#endif
	for (size_t k = 0; k < n; k++)
		v[k] = sigmoid_(v[k]);
}

void sp_cell_tanh(float *v, size_t n)
{
#if SIMD_
	if (avx512_()) {
		tanh_n_v_(v, n);
		return;
	}
#endif
	for (size_t k = 0; k < n; k++)
		v[k] = tanh_(v[k]);
}
