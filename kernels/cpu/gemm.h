// GEMM on the CPU: C = alpha op(A) op(B) + beta C, row-major, BLAS-like.
//
//   C    [m, n]  c[i*ldc + j]                      ldc >= n
//   A    [m, k]  a[i*lda + p]       (trans_a false, lda >= k)
//        [k, m]  a[p*lda + i]       (trans_a true,  lda >= m), op(A) = Aᵀ
//   B    [k, n]  b[p*ldb + j]       (trans_b false, ldb >= n)
//        [n, k]  b[j*ldb + p]       (trans_b true,  ldb >= k), op(B) = Bᵀ
//
// beta == 0 never reads C (NaN or garbage in C does not propagate); alpha == 0
// or k == 0 do not read A and B. Results do not depend on the thread count:
// each C element is accumulated by one thread, over k in a fixed order.
//
// The strided-batched form runs `batch` independent products, the i-th on
// a + i*stride_a, b + i*stride_b, c + i*stride_c (a stride of 0 reuses one
// operand for every product, as a broadcast batch dimension does).
//
// Internals (kernels/cpu/gemm/): a cache-blocked driver with packed panels and
// a register-blocked micro-kernel, compiled once per ISA level and picked at
// run time (kernels/cpu/isa.h). gemm_ref is the naive triple loop the tests
// compare against.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
           const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

void sgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                           int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch);
void dgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                           const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                           int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch);

// The same product by the naive triple loop (single thread, accumulating in T);
// the readable truth the fast kernels are tested against. Defined for float, double.
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Overloads picking sgemm or dgemm by type, for templated callers.
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
    dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm_strided_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                                 int64_t lda, int64_t sa, const float* b, int64_t ldb, int64_t sb, float beta,
                                 float* c, int64_t ldc, int64_t sc, int64_t batch) {
    sgemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
}
inline void gemm_strided_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                                 int64_t lda, int64_t sa, const double* b, int64_t ldb, int64_t sb, double beta,
                                 double* c, int64_t ldc, int64_t sc, int64_t batch) {
    dgemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
}

}  // namespace graft::kernels::cpu
