/* t_blas.c: sp_gemm (CBLAS) against the naive reference, all transposes,
 * leading dimensions wider than the matrices, alpha/beta. */
#include <math.h>
#include <stdlib.h>

#include "sp_blas.h"
#include "sp_ctx.h"
#include "tap.h"

int main(void)
{
	sp_ctx *ctx;
	enum { M = 7, N = 9, K = 5, LD = 13 };
	float A[LD * LD], B[LD * LD], C1[LD * LD], C2[LD * LD];
	sp_ctx_new(&ctx, 7);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			for (int beta = 0; beta < 2; beta++) {
				double worst = 0;
				sp_fill_uniform(ctx, A, LD * LD, -1, 1);
				sp_fill_uniform(ctx, B, LD * LD, -1, 1);
				sp_fill_uniform(ctx, C1, LD * LD, -1, 1);
				for (int i = 0; i < LD * LD; i++)
					C2[i] = C1[i];
				if (!beta) /* beta = 0 must ignore NaN in C */
					C1[0] = C2[0] = NAN;
				sp_gemm(ta, tb, M, N, K, 0.5f, A, LD, B, LD,
					beta ? 2.0f : 0.0f, C1, LD);
				sp_gemm_ref(ta, tb, M, N, K, 0.5f, A, LD, B, LD,
					    beta ? 2.0f : 0.0f, C2, LD);
				for (int i = 0; i < LD * LD; i++)
					worst = (isnan(C1[i]) || isnan(C2[i]))
							? INFINITY
							: fmax(worst, fabs(C1[i] - C2[i]));
				ok(worst < 1e-5, "gemm transA=%d transB=%d beta=%d matches reference (max diff %.2g)",
				   ta, tb, beta ? 2 : 0, worst);
			}
	ok(sp_blas_name() != NULL, "BLAS: %s", sp_blas_name());
	sp_ctx_free(ctx);
	return tap_done();
}
