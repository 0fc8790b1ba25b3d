/* t_ctx.c: error messages and the random number generator. */
#include <math.h>
#include <string.h>

#include "sp_ctx.h"
#include "tap.h"

int main(void)
{
	sp_ctx *a, *b;
	uint64_t st[4], x1, x2;
	double mean = 0, var = 0;
	float w[12];
	int same = 1;

	ok(sp_ctx_new(&a, 42) == SP_OK && sp_ctx_new(&b, 42) == SP_OK, "contexts");
	for (int i = 0; i < 1000; i++)
		same &= sp_rng_next(a) == sp_rng_next(b);
	ok(same, "same seed, same stream");
	sp_rng_seed(b, 43);
	ok(sp_rng_next(a) != sp_rng_next(b), "another seed, another stream");

	sp_rng_get_state(a, st);
	x1 = sp_rng_next(a);
	sp_rng_set_state(a, st);
	x2 = sp_rng_next(a);
	ok(x1 == x2, "state save/restore replays the stream");

	for (int i = 0; i < 100000; i++) {
		double u = sp_rng_uniform(a);
		mean += u;
		var += u * u;
		if (u < 0 || u >= 1) {
			same = 0;
			break;
		}
	}
	ok(same, "uniform stays in [0,1)");
	mean /= 100000;
	ok(fabs(mean - 0.5) < 0.01, "uniform mean %.4f near 0.5", mean);
	mean = var = 0;
	for (int i = 0; i < 100000; i++) {
		double z = sp_rng_normal(a);
		mean += z;
		var += z * z;
	}
	mean /= 100000;
	var = var / 100000 - mean * mean;
	ok(fabs(mean) < 0.02 && fabs(var - 1) < 0.03,
	   "normal mean %.4f var %.4f", mean, var);
	{
		int counts[5] = {0};
		int inrange = 1;
		for (int i = 0; i < 50000; i++) {
			uint64_t r = sp_rng_below(a, 5);
			if (r >= 5)
				inrange = 0;
			else
				counts[r]++;
		}
		ok(inrange && counts[0] > 9000 && counts[4] > 9000,
		   "below(5) uniform over 0..4");
	}

	ok(sp_fill_orthogonal(a, w, 3, 4) == SP_OK, "orthogonal fill");
	{
		double worst = 0;
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++) {
				double d = 0;
				for (int k = 0; k < 4; k++)
					d += w[i * 4 + k] * w[j * 4 + k];
				worst = fmax(worst, fabs(d - (i == j)));
			}
		ok(worst < 1e-5, "rows orthonormal (worst %.2g)", worst);
	}

	ok(sp_err(a, SP_EINVAL, "hidden=%d must be > 0", -3) == SP_EINVAL,
	   "sp_err returns its code");
	ok_str(sp_errmsg(a), "hidden=-3 must be > 0", "message kept");
	sp_err_prefix(a, SP_EINVAL, "model.pipe:4:10");
	ok_str(sp_errmsg(a), "model.pipe:4:10: hidden=-3 must be > 0", "prefix added");
	ok(strcmp(sp_strerror(SP_EABI), "plugin ABI mismatch") == 0, "strerror");
	sp_ctx_free(a);
	sp_ctx_free(b);
	sp_ctx_free(NULL);
	return tap_done();
}
