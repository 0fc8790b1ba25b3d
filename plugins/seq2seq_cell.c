/*
 * seq2seq_cell.c: one step of the decoder's recurrent cell over Bn rows,
 * and its backward.  A decoder cannot hand the engine (sp_cell.h) all
 * its steps at once: each step's input depends on the step before (the
 * fed-back attentional vector, a sampled token), so the decoder runs this
 * step T' times and keeps each step's cache.  The equations are the
 * engine's (PyTorch's forms), with its weight layout:
 *
 *   a = x·Wx + b + s(t-1)·Wh                        (rnn, lstm)
 *   rnn   s = tanh(a)
 *   lstm  i f g o = σ σ tanh σ (a);  c = f⊙c(t-1) + i⊙g;  s = o⊙tanh(c)
 *   gru   r = σ(ax_r + ah_r),  z = σ(ax_z + ah_z),
 *         n = tanh(ax_n + r⊙ah_n),  s = (1-z)⊙n + z⊙s(t-1)
 *         with ax = x·Wx + bx, ah = s(t-1)·Wh + bh
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "seq2seq_impl.h"
#include "sp_blas.h"

static float sigm(float v)
{
	return 1.0f / (1.0f + expf(-v));
}

void s2s_cell_forward(const s2s_cellw *w, size_t Bn, const s2s_step *st, float *tmp)
{
	const size_t H = w->H, GH = w->G * H, I = w->I;
	float *a = st->a;
	for (size_t r = 0; r < Bn; r++)
		memcpy(a + r * GH, w->b, GH * sizeof(float));
	sp_gemm(0, 0, Bn, GH, I, 1.0f, st->x, I, w->Wx, GH, 1.0f, a, GH);
	if (w->kind != S2S_GRU) {
		sp_gemm(0, 0, Bn, GH, H, 1.0f, st->sp, H, w->Wh, GH, 1.0f, a, GH);
	} else {
		for (size_t r = 0; r < Bn; r++)
			memcpy(tmp + r * GH, w->bh, GH * sizeof(float));
		sp_gemm(0, 0, Bn, GH, H, 1.0f, st->sp, H, w->Wh, GH, 1.0f, tmp, GH);
	}
	for (size_t r = 0; r < Bn; r++) {
		float *ar = a + r * GH, *s = st->s + r * H;
		const float *sp = st->sp + r * H;
		for (size_t k = 0; k < H; k++) {
			if (w->kind == S2S_RNN) {
				ar[k] = tanhf(ar[k]);
				s[k] = ar[k];
			} else if (w->kind == S2S_LSTM) {
				float i = sigm(ar[k]), f = sigm(ar[H + k]);
				float g = tanhf(ar[2 * H + k]), o = sigm(ar[3 * H + k]);
				float c = f * st->cp[r * H + k] + i * g;
				ar[k] = i;
				ar[H + k] = f;
				ar[2 * H + k] = g;
				ar[3 * H + k] = o;
				st->c[r * H + k] = c;
				s[k] = o * tanhf(c);
			} else {
				const float *th = tmp + r * GH;
				float rg = sigm(ar[k] + th[k]), z = sigm(ar[H + k] + th[H + k]);
				float n = tanhf(ar[2 * H + k] + rg * th[2 * H + k]);
				ar[k] = rg;
				ar[H + k] = z;
				ar[2 * H + k] = n;
				st->ahn[r * H + k] = th[2 * H + k];
				s[k] = (1.0f - z) * n + z * sp[k];
			}
		}
	}
}

/* ∂L/∂a (x side, da) and ∂L/∂(s(t-1)·Wh [+ bh]) (dah) of one row; dsp
 * gets the part of ∂L/∂s(t-1) that bypasses Wh (gru: z⊙ds). */
static void row_backward(const s2s_cellw *w, const s2s_step *st, size_t r,
			 const float *ds, float *dc, float *da, float *dah, float *dsp)
{
	const size_t H = w->H;
	const float *ar = st->a + r * w->G * H;
	for (size_t k = 0; k < H; k++) {
		float g = ds[k];
		if (w->kind == S2S_RNN) {
			da[k] = g * (1.0f - ar[k] * ar[k]);
			dah[k] = da[k];
			dsp[k] = 0;
		} else if (w->kind == S2S_LSTM) {
			float i = ar[k], f = ar[H + k], gg = ar[2 * H + k], o = ar[3 * H + k];
			float tc = tanhf(st->c[r * H + k]);
			float dcc = dc[k] + g * o * (1.0f - tc * tc);
			da[k] = dcc * gg * i * (1.0f - i);
			da[H + k] = dcc * st->cp[r * H + k] * f * (1.0f - f);
			da[2 * H + k] = dcc * i * (1.0f - gg * gg);
			da[3 * H + k] = g * tc * o * (1.0f - o);
			dc[k] = dcc * f;
			for (size_t q = 0; q < 4; q++)
				dah[q * H + k] = da[q * H + k];
			dsp[k] = 0;
		} else {
			float rg = ar[k], z = ar[H + k], n = ar[2 * H + k];
			float dn = g * (1.0f - z) * (1.0f - n * n);
			float dz = g * (st->sp[r * H + k] - n) * z * (1.0f - z);
			float dr = dn * st->ahn[r * H + k] * rg * (1.0f - rg);
			da[k] = dr;
			da[H + k] = dz;
			da[2 * H + k] = dn;
			dah[k] = dr;
			dah[H + k] = dz;
			dah[2 * H + k] = dn * rg;
			dsp[k] = g * z;
		}
	}
}

void s2s_cell_backward(const s2s_cellw *w, size_t Bn, const s2s_step *st,
		       const float *ds, float *dc, float *dx, float *dsp,
		       float *da, float *dah)
{
	const size_t H = w->H, GH = w->G * H, I = w->I;
	for (size_t r = 0; r < Bn; r++)
		row_backward(w, st, r, ds + r * H, dc ? dc + r * H : NULL, da + r * GH,
			     dah + r * GH, dsp + r * H);
	/* dWx += xᵀ·da; db += Σ da; dWh += s(t-1)ᵀ·dah; dbh += Σ dah (gru) */
	sp_gemm(1, 0, I, GH, Bn, 1.0f, st->x, I, da, GH, 1.0f, w->dWx, GH);
	sp_gemm(1, 0, H, GH, Bn, 1.0f, st->sp, H, dah, GH, 1.0f, w->dWh, GH);
	for (size_t r = 0; r < Bn; r++)
		for (size_t k = 0; k < GH; k++) {
			w->db[k] += da[r * GH + k];
			if (w->kind == S2S_GRU)
				w->dbh[k] += dah[r * GH + k];
		}
	/* dx = da·Wxᵀ; dsp += dah·Whᵀ */
	sp_gemm(0, 1, Bn, I, GH, 1.0f, da, GH, w->Wx, GH, 0.0f, dx, I);
	sp_gemm(0, 1, Bn, H, GH, 1.0f, dah, GH, w->Wh, GH, 1.0f, dsp, H);
}
