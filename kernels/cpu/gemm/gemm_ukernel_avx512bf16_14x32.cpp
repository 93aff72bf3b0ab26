// The AVX512_BF16 GEMM micro-kernel (compiled with AVX-512 + AVX512_BF16):
//
//   gemm_ukernel_avx512bf16_14x32   c[14, 32] (float) = alpha · ap[14, k] · bp[k, 32] + beta · c
//                                   ap bf16 [k/2][14][2], bp bf16 [k/2][32][2] (k pairs, gemm_kernel.h)
//
// vdpbf16ps multiplies 16 pairs of bf16 and adds both products to 16 float lanes:
// lane j of acc[i][v] gains A[i][2q]·B[2q][j] + A[i][2q+1]·B[2q+1][j]. Each bf16
// product is exact in float, so this is a float32-accumulated GEMM doing two k steps
// per instruction. Register block as the float kernel: 14 rows x 2 zmm = 28
// accumulators; per k pair, two zmm loads of B and 14 32-bit broadcasts of A pairs.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

constexpr int MR = 14, NV = 2, NR = NV * 16;

// out = alpha·acc (+ beta·out) on the first `lanes` (<= 16) lanes.
inline void store_row(float* out, __m512 acc, float alpha, float beta, int64_t lanes) {
    __m512 r = alpha == 1.0f ? acc : _mm512_mul_ps(_mm512_set1_ps(alpha), acc);
    const __mmask16 mask = lanes >= 16 ? __mmask16(0xffff) : __mmask16((1u << lanes) - 1);
    if (beta != 0.0f) r = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, out), r);
    _mm512_mask_storeu_ps(out, mask, r);
}

}  // namespace

void gemm_ukernel_avx512bf16_14x32(int64_t m, int64_t n, int64_t k, float alpha, const bf16_bits* a,
                                   const bf16_bits* b, float beta, float* c, int64_t rs_c, int64_t cs_c) {
    __m512 acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
    for (int64_t q = 0; q < (k + 1) / 2; ++q, a += 2 * MR, b += 2 * NR) {
        __m512bh bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_loadu_si512(b + v * 32);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            int32_t pair;  // A[i][2q], A[i][2q+1] as one 32-bit lane, broadcast to all 16
            std::memcpy(&pair, a + 2 * i, 4);
            const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], av, bv[v]);
        }
    }
    if (cs_c == 1) {
        for (int64_t i = 0; i < m; ++i)
            for (int v = 0; v < NV && v * 16 < n; ++v) store_row(c + i * rs_c + v * 16, acc[i][v], alpha, beta, n - v * 16);
        return;
    }
    alignas(64) float tile[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) _mm512_store_ps(&tile[i][v * 16], acc[i][v]);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            float& out = c[i * rs_c + j * cs_c];
            out = beta == 0.0f ? alpha * tile[i][j] : std::fma(beta, out, alpha * tile[i][j]);
        }
}

}  // namespace graft::kernels::cpu
