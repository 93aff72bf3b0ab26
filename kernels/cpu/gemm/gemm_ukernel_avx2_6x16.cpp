// The AVX2 GEMM micro-kernels (compiled with AVX2 + FMA):
//
//   gemm_ukernel_avx2_6x16   float   c[6, 16] = alpha · ap[6, k] · bp[k, 16] + beta · c
//   gemm_ukernel_avx2_6x8    double  c[6, 8]    (the same 6 x 2 ymm register block)
//
// Register block: 6 rows x 2 ymm of accumulators = 12 of the 16 ymm, two for the B
// panel row and one or two for broadcasts of the A panel column; 12 independent FMA
// chains cover the FMA latency (4 cycles) at two FMAs per cycle. Packed layouts,
// edge and beta rules: gemm_kernel.h.
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

// One ymm of T, overloaded by dtype.
template <typename T> struct Ymm;
template <> struct Ymm<float> {
    using V = __m256;
    static constexpr int L = 8;
    static V zero() { return _mm256_setzero_ps(); }
    static V set1(float x) { return _mm256_set1_ps(x); }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};
template <> struct Ymm<double> {
    using V = __m256d;
    static constexpr int L = 4;
    static V zero() { return _mm256_setzero_pd(); }
    static V set1(double x) { return _mm256_set1_pd(x); }
    static V load(const double* p) { return _mm256_loadu_pd(p); }
    static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
    static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};

// acc[MR][NV] = ap[MR, k] · bp[k, NR] on packed panels. A function of its own
// (not inlined) so the register allocator sees only the loop.
template <typename T, int MR, int NV>
__attribute__((noinline)) void accumulate(int64_t k, const T* __restrict a, const T* __restrict b,
                                          typename Ymm<T>::V (&out)[MR][NV]) {
    using Y = Ymm<T>;
    constexpr int NR = NV * Y::L;
    typename Y::V acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = Y::zero();
    for (int64_t p = 0; p < k; ++p, a += MR, b += NR) {
        typename Y::V bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = Y::load(b + v * Y::L);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            const typename Y::V av = Y::set1(a[i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = Y::fmadd(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) out[i][v] = acc[i][v];
}

// c[m, n] = alpha · ap · bp + beta · c on one MR x NR tile (gemm_kernel.h).
template <typename T, int MR, int NV>
inline void ukernel(int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c, int64_t rs_c,
                    int64_t cs_c) {
    using Y = Ymm<T>;
    constexpr int NR = NV * Y::L;
    typename Y::V acc[MR][NV];
    accumulate<T, MR, NV>(k, a, b, acc);
    const typename Y::V va = Y::set1(alpha), vb = Y::set1(beta);
    if (m == MR && n == NR && cs_c == 1) {  // a whole tile in contiguous rows: vector stores
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < NV; ++v) {
                T* out = c + i * rs_c + v * Y::L;
                typename Y::V r = alpha == T(1) ? acc[i][v] : Y::mul(va, acc[i][v]);
                if (beta != T(0)) r = Y::fmadd(vb, Y::load(out), r);
                Y::store(out, r);
            }
        return;
    }
    alignas(32) T tile[MR][NR];  // edges and other layouts: through a tile, one element at a time
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) Y::store(&tile[i][v * Y::L], acc[i][v]);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T& out = c[i * rs_c + j * cs_c];
            out = beta == T(0) ? alpha * tile[i][j] : std::fma(beta, out, alpha * tile[i][j]);  // as the vector path
        }
}

}  // namespace

void gemm_ukernel_avx2_6x16(int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b, float beta,
                            float* c, int64_t rs_c, int64_t cs_c) {
    ukernel<float, 6, 2>(m, n, k, alpha, a, b, beta, c, rs_c, cs_c);
}

void gemm_ukernel_avx2_6x8(int64_t m, int64_t n, int64_t k, double alpha, const double* a, const double* b,
                           double beta, double* c, int64_t rs_c, int64_t cs_c) {
    ukernel<double, 6, 2>(m, n, k, alpha, a, b, beta, c, rs_c, cs_c);
}

}  // namespace graft::kernels::cpu
