/*
 * sp_blas.c: row-major GEMM on CBLAS (OpenBLAS), with the naive reference.
 */
#include "config.h"

#include "sp_blas.h"

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

void sp_gemm_ref(int transA, int transB, size_t M, size_t N, size_t K,
		 float alpha, const float *A, size_t lda, const float *B,
		 size_t ldb, float beta, float *C, size_t ldc)
{
	for (size_t i = 0; i < M; i++) {
		for (size_t j = 0; j < N; j++) {
			double acc = 0;
			for (size_t k = 0; k < K; k++) {
				float a = transA ? A[k * lda + i] : A[i * lda + k];
				float b = transB ? B[j * ldb + k] : B[k * ldb + j];
				acc += (double)a * b;
			}
			/* beta == 0 must ignore C, which may hold NaN garbage */
			C[i * ldc + j] = (float)(alpha * acc) +
					 (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
		}
	}
}

void sp_gemm(int transA, int transB, size_t M, size_t N, size_t K,
	     float alpha, const float *A, size_t lda, const float *B,
	     size_t ldb, float beta, float *C, size_t ldc)
{
	if (M == 0 || N == 0)
		return;
#ifdef HAVE_CBLAS
	cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
		    transB ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N,
		    (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C,
		    (blasint)ldc);
#else
	sp_gemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C,
		    ldc);
#endif
}

int sp_blas_set_threads(int n)
{
#ifdef HAVE_CBLAS
	if (n > 0)
		openblas_set_num_threads(n);
	return openblas_get_num_threads();
#else
	(void)n;
	return 1;
#endif
}

const char *sp_blas_name(void)
{
#ifdef HAVE_CBLAS
	return openblas_get_config();
#else
	return "reference (naive triple loop)";
#endif
}
