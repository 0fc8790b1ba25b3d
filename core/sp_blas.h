/*
 * sp_blas.h: matrix products.  The only module that includes <cblas.h>.
 *
 * Row-major, mapping 1:1 onto cblas_sgemm.  sp_gemm_ref is the naive
 * triple loop kept as the test oracle and as the --with-blas=none path.
 */
#ifndef SP_BLAS_H
#define SP_BLAS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C, row-major;
 * op(X) = X or Xᵀ as transA/transB are 0 or 1. */
void sp_gemm(int transA, int transB, size_t M, size_t N, size_t K,
	     float alpha, const float *A, size_t lda, const float *B,
	     size_t ldb, float beta, float *C, size_t ldc);
void sp_gemm_ref(int transA, int transB, size_t M, size_t N, size_t K,
		 float alpha, const float *A, size_t lda, const float *B,
		 size_t ldb, float beta, float *C, size_t ldc);

/* Threads the BLAS may use (0 = leave as is).  Returns what is in force. */
int sp_blas_set_threads(int n);
/* "OpenBLAS 0.3.21 (Zen, 2 threads)" or "reference (naive)". */
const char *sp_blas_name(void);

#ifdef __cplusplus
}
#endif
#endif /* SP_BLAS_H */
