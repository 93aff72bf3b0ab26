// The AVX-512 GEMM micro-kernels (compiled with AVX-512 F/BW/DQ/VL + FMA):
//
//   gemm_ukernel_avx512_14x32   float   c[14, 32] = alpha · ap[14, k] · bp[k, 32] + beta · c
//   gemm_ukernel_avx512_14x16   double  c[14, 16]   (the same 14 x 2 zmm register block)
//
// Register block: 14 rows x 2 zmm of accumulators = 28 of the 32 zmm; per k step
// two zmm loads of the B panel row and 14 broadcasts of the A panel column feed
// 28 FMAs, so the loads and broadcasts hide under the FMAs (one zmm FMA per cycle
// on Zen 4, two on Intel server cores). Edge tiles use 4- or 8-row, one-vector
// instances of the same body. Packed layouts, edge and beta rules: gemm_kernel.h.
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

// One zmm of T: the handful of intrinsics the kernel needs, overloaded by dtype.
template <typename T> struct Zmm;
template <> struct Zmm<float> {
    using V = __m512;
    using Mask = __mmask16;
    static constexpr int L = 16;
    static V zero() { return _mm512_setzero_ps(); }
    static V set1(float x) { return _mm512_set1_ps(x); }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    static void store(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
    static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
};
template <> struct Zmm<double> {
    using V = __m512d;
    using Mask = __mmask8;
    static constexpr int L = 8;
    static V zero() { return _mm512_setzero_pd(); }
    static V set1(double x) { return _mm512_set1_pd(x); }
    static V load(const double* p) { return _mm512_loadu_pd(p); }
    static V load(const double* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
    static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
    static void store(double* p, V v, Mask m) { _mm512_mask_storeu_pd(p, m, v); }
    static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
    static V add(V a, V b) { return _mm512_add_pd(a, b); }
};

// out = alpha·acc (+ beta·out): full vectors, or the first `lanes` lanes under a mask.
template <typename T>
inline void store_row(T* out, typename Zmm<T>::V acc, T alpha, T beta, int64_t lanes) {
    using Z = Zmm<T>;
    typename Z::V r = alpha == T(1) ? acc : Z::mul(Z::set1(alpha), acc);
    if (lanes >= Z::L) {
        if (beta != T(0)) r = Z::fmadd(Z::set1(beta), Z::load(out), r);
        Z::store(out, r);
        return;
    }
    const auto mask = typename Z::Mask((1u << lanes) - 1);
    if (beta != T(0)) r = Z::fmadd(Z::set1(beta), Z::load(out, mask), r);
    Z::store(out, r, mask);
}

// The register-blocked product acc[R][NV] = A[R, k] · bp[k, NV·L]: A element (i, p)
// at a[i*rs_a + p*cs_a] (the packed panel: rs_a 1, cs_a MR, constants when
// kPacked), B rows NR apart. A whole tile with contiguous C rows (c != nullptr)
// is stored straight from the registers: out = alpha·acc (+ beta·out); any other
// tile goes to `out` for the caller. A function of its own (not inlined) so the
// register allocator sees only this: at most 28 accumulators, 2 B vectors, 1 broadcast.
template <typename T, int R, int NV, int MR, int NR, bool kPacked>
__attribute__((noinline)) void accumulate(int64_t k, const T* __restrict a, int64_t rs_a, int64_t cs_a,
                                          const T* __restrict b, T alpha, T beta, T* __restrict c, int64_t rs_c,
                                          typename Zmm<T>::V (&out)[R][NV]) {
    using Z = Zmm<T>;
    if constexpr (kPacked) rs_a = 1, cs_a = MR;
    typename Z::V acc[R][NV];
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = Z::zero();
    for (int64_t p = 0; p < k; ++p, a += cs_a, b += NR) {
        typename Z::V bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = Z::load(b + v * Z::L);
#pragma GCC unroll 16
        for (int i = 0; i < R; ++i) {
            const typename Z::V av = Z::set1(a[i * rs_a]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = Z::fmadd(av, bv[v], acc[i][v]);
        }
    }
    if (c) {
        const typename Z::V va = Z::set1(alpha), vb = Z::set1(beta);
#pragma GCC unroll 16
        for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) {
                T* row = c + i * rs_c + v * Z::L;
                typename Z::V r = alpha == T(1) ? acc[i][v] : Z::mul(va, acc[i][v]);
                if (beta != T(0)) r = Z::fmadd(vb, Z::load(row), r);
                Z::store(row, r);
            }
        return;
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) out[i][v] = acc[i][v];
}

// c[m, n] = alpha · A · bp + beta · c with m <= R, n <= NV·L: the first R rows of
// an MR x NR tile (R of them are read: packed panels are zero-padded; the driver
// packs a short in-place edge).
template <typename T, int R, int NV, int MR, int NR, bool kPacked>
void ukernel(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t rs_a, int64_t cs_a, const T* b, T beta,
             T* c, int64_t rs_c, int64_t cs_c) {
    using Z = Zmm<T>;
    if (cs_c == 1)  // C's rows arrive while the k loop runs
        for (int64_t i = 0; i < m; ++i) {
            const char* row = reinterpret_cast<const char*>(c + i * rs_c);
            _mm_prefetch(row, _MM_HINT_T0);
            _mm_prefetch(row + sizeof(T) * (n - 1), _MM_HINT_T0);
            if (sizeof(T) * n > 128) _mm_prefetch(row + 64, _MM_HINT_T0);
        }
    typename Z::V acc[R][NV];
    const bool whole = m == R && n == NV * Z::L && cs_c == 1;
    accumulate<T, R, NV, MR, NR, kPacked>(k, a, rs_a, cs_a, b, alpha, beta, whole ? c : nullptr, rs_c, acc);
    if (whole) return;
    if (cs_c == 1) {  // rows of C contiguous: vector stores, the last vector masked
        for (int64_t i = 0; i < m; ++i)
            for (int v = 0; v < NV && v * Z::L < n; ++v)
                store_row<T>(c + i * rs_c + v * Z::L, acc[i][v], alpha, beta, n - v * Z::L);
        return;
    }
    alignas(64) T tile[R][NV * Z::L];  // any other layout: through a tile, one element at a time
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < NV; ++v) Z::store(&tile[i][v * Z::L], acc[i][v]);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T& out = c[i * rs_c + j * cs_c];
            out = beta == T(0) ? alpha * tile[i][j] : std::fma(beta, out, alpha * tile[i][j]);  // as the vector path
        }
}

// Edge tiles run a smaller register block instead of multiplying padding: 4, 8 or
// 14 rows, one or two vectors. Each C element gets the same operations in the
// same order whichever block computes it.
template <typename T, int MR, int NR, bool kPacked>
void ukernel_any(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t rs_a, int64_t cs_a, const T* b,
                 T beta, T* c, int64_t rs_c, int64_t cs_c) {
    constexpr int L = Zmm<T>::L;
    static_assert(MR == 14 && NR == 2 * L, "blocks for the 14 x 2-vector tile");
    const bool one = n <= L;
    if (m <= 4) {
        if (one) return ukernel<T, 4, 1, MR, NR, kPacked>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
        return ukernel<T, 4, 2, MR, NR, kPacked>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
    }
    if (m <= 8) {
        if (one) return ukernel<T, 8, 1, MR, NR, kPacked>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
        return ukernel<T, 8, 2, MR, NR, kPacked>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
    }
    if (one) return ukernel<T, 14, 1, MR, NR, kPacked>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
    return ukernel<T, 14, 2, MR, NR, kPacked>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
}

}  // namespace

void gemm_ukernel_avx512_14x32(int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
                               float beta, float* c, int64_t rs_c, int64_t cs_c) {
    ukernel_any<float, 14, 32, true>(m, n, k, alpha, a, 1, 14, b, beta, c, rs_c, cs_c);
}

void gemm_ukernel_avx512_14x32_strided(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t rs_a,
                                       int64_t cs_a, const float* b, float beta, float* c, int64_t rs_c, int64_t cs_c) {
    ukernel_any<float, 14, 32, false>(m, n, k, alpha, a, rs_a, cs_a, b, beta, c, rs_c, cs_c);
}

void gemm_ukernel_avx512_14x16(int64_t m, int64_t n, int64_t k, double alpha, const double* a, const double* b,
                               double beta, double* c, int64_t rs_c, int64_t cs_c) {
    ukernel_any<double, 14, 16, true>(m, n, k, alpha, a, 1, 14, b, beta, c, rs_c, cs_c);
}

}  // namespace graft::kernels::cpu
