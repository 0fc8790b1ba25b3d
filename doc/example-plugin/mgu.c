/*
 * mgu.c: a recurrent model plugin written as gate math, the minimal gated
 * unit (Zhou et al. 2016, "Minimal gated unit for recurrent neural
 * networks"): one gate f instead of the GRU's r and z.
 *
 *   f(t) = σ(x·Wxf + bxf + h(t-1)·Whf + bhf)
 *   n(t) = tanh(x·Wxn + bxn + f(t) ⊙ (h(t-1)·Whn + bhn))
 *   h(t) = (1 - f(t)) ⊙ h(t-1) + f(t) ⊙ n(t)
 *
 * The paper puts the gate inside the product, Whn·(f ⊙ h(t-1)); here it
 * multiplies the product's result, as PyTorch's GRU does with its reset
 * gate (ONNX calls it linear_before_reset).  That keeps h(t-1)·Wh one
 * product per step for both gates, which the engine batches, splits among
 * threads and runs on its kernels; the gated-inside form would need a
 * second product per step that waits for f.  The unit is as expressive
 * (the same parameters, f still decides how much of the past enters n).
 *
 * The engine (sp_cell.h) does everything else: the input products of all
 * steps at once, the step's recurrent product, the time loop, masks,
 * stacked and bidirectional layers, threads, the weight gradients and the
 * instruments.  SP_CELL_SPLIT asks it to keep the h side apart, a = x·Wx +
 * bx and ah = h(t-1)·Wh + bh, each 2H wide, gate blocks [f | n].
 *
 *   gcc -shared -fPIC -O2 $(pkg-config --cflags seqpipe) mgu.c -o mgu.so \
 *       $(pkg-config --libs seqpipe)
 *   SEQPIPE_PLUGIN_PATH=. pipeline run hello.pipe --set model.plugin=mgu.mgu
 */
#include <sp_cell.h> /* pkg-config --cflags seqpipe puts it on the path */

/* Forward of units [u0, u1) of one batch row: a = [f | n] in, left holding
 * the activations f, n for backward (ah keeps h(t-1)·Whn + bhn). */
static void mgu_forward(const sp_cell_row *r)
{
	float *f = r->a, *n = r->a + r->H;
	const float *hf = r->ah, *hn = r->ah + r->H;
	size_t u0 = r->u0, m = r->u1 - r->u0;
	for (size_t k = u0; k < r->u1; k++)
		f[k] += hf[k];
	sp_cell_sigmoid(f + u0, m);
	for (size_t k = u0; k < r->u1; k++)
		n[k] += f[k] * hn[k];
	sp_cell_tanh(n + u0, m);
	for (size_t k = u0; k < r->u1; k++)
		r->h[k] = r->hp[k] + f[k] * (n[k] - r->hp[k]);
}

/* Backward: dh = ∂L/∂h(t) in; da (over a) and dah (over ah) the gradients
 * of the two sides' pre-activations, dhp += the direct ∂L/∂h(t-1). */
static void mgu_backward(const sp_cell_row *r)
{
	const size_t H = r->H;
	for (size_t k = r->u0; k < r->u1; k++) {
		/* read every input of unit k before writing da, dah over them */
		float f = r->a[k], n = r->a[H + k], hn = r->ah[H + k];
		float dh = r->dh[k];
		float dan = dh * f * (1.0f - n * n);
		float daf = (dh * (n - r->hp[k]) + dan * hn) * f * (1.0f - f);
		r->da[k] = r->dah[k] = daf;
		r->da[H + k] = dan;
		r->dah[H + k] = dan * f;
		r->dhp[k] += dh * (1.0f - f);
	}
}

static const char *const mgu_gates[] = {"f", "n"};

static const sp_cell_ops mgu_cell = {
	.size = sizeof(sp_cell_ops), .name = "mgu", .gates = 2,
	.flags = SP_CELL_SPLIT, .forward = mgu_forward,
	.backward = mgu_backward, .gate_names = mgu_gates,
	.tanh_gates = 1u << 1 /* n: for the saturation instrument */};

static int mgu_create(void **out, sp_ctx *ctx, const sp_kv *args,
		      size_t in_dim)
{
	return sp_rnn_model_create(out, ctx, args, in_dim, "mgu", &mgu_cell);
}

static const sp_param_spec mgu_params[] = {SP_RNN_PARAMS,
					   {NULL, 0, NULL, NULL, NULL}};

static const sp_model_ops mgu_ops = {
	.base = {sizeof(sp_model_ops), SP_KIND_MODEL, "mgu",
		 "minimal gated unit (gate f), stacked, bidirectional, masked",
		 mgu_params},
	.create = mgu_create, SP_RNN_MODEL_OPS};

/* the module file is mgu.so, so the plugin's name is "mgu" */
SP_PLUGIN_DEFINE(mgu, "1.0", "a minimal gated unit written as gate math",
		 &mgu_ops.base)
