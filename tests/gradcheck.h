/*
 * gradcheck.h: finite-difference gradient checks for the test suite.
 *
 * The loss is evaluated in the component's own float arithmetic; central
 * differences  (L(x+eps) - L(x-eps)) / 2eps  are compared with the analytic
 * gradient.  Relative error |a - n| / max(|a| + |n|, floor) keeps tiny
 * gradients from failing on round-off; floor is the absolute scale below
 * which differences are noise.
 */
#ifndef SP_GRADCHECK_H
#define SP_GRADCHECK_H

#include <math.h>
#include <stddef.h>

/* Loss of the component at the current parameter values. */
typedef double (*gc_loss_fn)(void *payload);

typedef struct gc_result {
	double max_rel;   /* worst relative error */
	size_t worst;     /* index of the worst entry */
	double analytic;  /* analytic value there */
	double numeric;   /* numeric value there */
	size_t checked;   /* entries checked */
} gc_result;

/*
 * Perturbs x[i] for i in a stride covering at most max_checks entries of
 * x[0..n) (all of them when n <= max_checks) and compares with g[i].
 * x is restored exactly.
 */
static inline gc_result gc_check(gc_loss_fn loss, void *payload, float *x,
				 const float *g, size_t n, float eps,
				 size_t max_checks, double floor)
{
	gc_result r = {0, 0, 0, 0, 0};
	size_t step = (max_checks && n > max_checks) ? n / max_checks : 1;
	for (size_t i = 0; i < n; i += step) {
		float keep = x[i];
		double lp, lm, num, rel;
		x[i] = keep + eps;
		lp = loss(payload);
		x[i] = keep - eps;
		lm = loss(payload);
		x[i] = keep;
		/* the step actually taken, after float rounding */
		num = (lp - lm) / (double)((keep + eps) - (keep - eps));
		rel = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), floor);
		if (rel > r.max_rel || r.checked == 0) {
			r.max_rel = rel;
			r.worst = i;
			r.analytic = g[i];
			r.numeric = num;
		}
		r.checked++;
	}
	return r;
}

#endif /* SP_GRADCHECK_H */
