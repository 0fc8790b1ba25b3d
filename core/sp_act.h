/*
 * sp_act.h: element-wise activations shared by cells and heads.
 * Inline so the gate loops fuse them; exact libm functions, no fast-math.
 */
#ifndef SP_ACT_H
#define SP_ACT_H

#include <math.h>
#include <stddef.h>

static inline float sp_sigmoidf(float x)
{
	/* split by sign so expf never overflows */
	if (x >= 0) {
		float z = expf(-x);
		return 1.0f / (1.0f + z);
	} else {
		float z = expf(x);
		return z / (1.0f + z);
	}
}

/* In-place softmax over n values; returns log of the normaliser
 * (log Σ exp(x_i)) so callers can form log-probabilities. */
static inline double sp_softmaxf(float *x, size_t n)
{
	float mx = x[0];
	double sum = 0;
	for (size_t i = 1; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (size_t i = 0; i < n; i++) {
		x[i] = expf(x[i] - mx);
		sum += x[i];
	}
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(x[i] / sum);
	return mx + log(sum);
}

#endif /* SP_ACT_H */
