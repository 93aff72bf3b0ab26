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
// Internals (kernels/cpu/gemm/, BLIS-structured): gemm_driver.cpp runs the five
// loops (NC, KC with B packed, MC with A packed, NR, MR) around a register-
// blocked micro-kernel; gemm_blocking.cpp holds the table of MR, NR, MC, KC, NC
// and micro-kernels per ISA level (kernels/cpu/isa.h) and dtype: float 14x32
// (AVX-512), 6x16 (AVX2), double 14x16 / 6x8, bf16 14x32 (AVX512_BF16), scalar
// references. Small products skip packing. gemm_ref is the naive triple loop
// the tests compare against.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// A fused epilogue: after C's last KC slice, while each MR x NR tile of C is
// still in L1, add a bias per row of C (row_bias[i]; a convolution's output
// channel) and/or per column (col_bias[j]; a Linear layer's output feature),
// then, if relu, clamp at zero. It replaces the separate pass over C that
// "GEMM, then bias, then ReLU" costs (benchmarks/kernels/epilogue_bench.cpp).
// Every product of a batch uses the same biases. With k == 0 or alpha == 0 it
// applies to beta·C.
template <typename T>
struct GemmEpilogue {
    const T* row_bias = nullptr;  // [m], or nullptr
    const T* col_bias = nullptr;  // [n], or nullptr
    bool relu = false;
    bool empty() const { return !row_bias && !col_bias && !relu; }
};

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const GemmEpilogue<float>& epilogue = {});
void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
           const double* b, int64_t ldb, double beta, double* c, int64_t ldc,
           const GemmEpilogue<double>& epilogue = {});

void sgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                           int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch,
                           const GemmEpilogue<float>& epilogue = {});
void dgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                           const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                           int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch,
                           const GemmEpilogue<double>& epilogue = {});

// Which GEMM sgemm/dgemm (and their batched forms) run: Graft's own, the
// default, or OpenBLAS, an optional alternative to compare against (compiled in
// with -DGRAFT_OPENBLAS=ON, the default; libopenblas.so.0 is opened with dlopen on
// first use, so nothing depends on it unless it is chosen). Chosen at run time by
// set_gemm_backend or the environment variable GRAFT_GEMM=graft|openblas, read
// once. With OpenBLAS the epilogue is a separate pass, results depend on its
// thread count, and gemm_bf16 still runs Graft's kernel. Choosing OpenBLAS where
// it cannot be loaded throws graft::Error saying why.
enum class GemmBackend { Graft, OpenBlas };
void set_gemm_backend(GemmBackend backend);
GemmBackend gemm_backend();
bool openblas_available();

// bfloat16 GEMM accumulating in float32: A and B hold bf16 bits (the top half
// of a float32, as core's BFloat16), C, alpha and beta are float32; layouts as
// above. Runs on AVX512_BF16 (vdpbf16ps, two k steps per instruction) when
// kernels::cpu_has_avx512_bf16() and the active level is avx512; elsewhere it
// widens A and B to float32 (exact) and calls sgemm. Products are exact in
// float32, so the result differs from sgemm on the widened inputs only by the
// order of float32 additions.
void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const uint16_t* a,
               int64_t lda, const uint16_t* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The same product by the naive triple loop (single thread, accumulating in T);
// the readable truth the fast kernels are tested against. Defined for float, double.
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Overloads picking sgemm or dgemm by type, for templated callers.
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                 const GemmEpilogue<float>& epilogue = {}) {
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
}
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc,
                 const GemmEpilogue<double>& epilogue = {}) {
    dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
}
inline void gemm_strided_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                                 int64_t lda, int64_t sa, const float* b, int64_t ldb, int64_t sb, float beta,
                                 float* c, int64_t ldc, int64_t sc, int64_t batch,
                                 const GemmEpilogue<float>& epilogue = {}) {
    sgemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch, epilogue);
}
inline void gemm_strided_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                                 int64_t lda, int64_t sa, const double* b, int64_t ldb, int64_t sb, double beta,
                                 double* c, int64_t ldc, int64_t sc, int64_t batch,
                                 const GemmEpilogue<double>& epilogue = {}) {
    dgemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch, epilogue);
}

}  // namespace graft::kernels::cpu
