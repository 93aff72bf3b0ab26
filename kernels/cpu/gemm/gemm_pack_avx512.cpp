// GEMM packing with AVX-512 (float): the layouts and edge rules of gemm_pack.cpp
// (the readable reference these are tested against), at memory speed.
//
//   gemm_pack_a_avx512<MR>   op(A)[i0 : i0+mc, p0 : p0+kc] -> ceil(mc/MR) panels [kc][MR]
//   gemm_pack_b_avx512<NR>   op(B)[p0 : p0+kc, j0 : j0+nc] -> ceil(nc/NR) panels [kc][NR]
//
// Two cases per operand. Values contiguous across the panel (A stored [k, m], B
// stored [k, n]): each k step is one masked copy of up to R floats per panel.
// Values contiguous along k (A stored [m, k], B stored [n, k]): 16 x 16 blocks
// are loaded as rows, transposed in registers (4 rounds of shuffles) and stored
// as R-float k steps. MR <= 16; NR a multiple of 16.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

__mmask16 lanes(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << std::max<int64_t>(n, 0)) - 1); }

// r[i][j] -> r[j][i] for a 16 x 16 block of floats. (GCC 12 warns inside its own
// shuffle intrinsics, whose unused pass-through operand is _mm512_undefined_ps().)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {  // interleave row pairs: 2x2 blocks
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {  // 4x4 blocks within each 128-bit lane
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int i = 0; i < 4; ++i) {  // 128-bit lanes across rows 4 apart
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; ++i) {  // and 8 apart
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}
#pragma GCC diagnostic pop

constexpr int64_t kAhead = 64;  // floats: the same rows 4 cache lines on, fetched while these are shuffled

// Panel [kc][R] columns c0 .. c0+16 from `rows` (<= 16) source vectors contiguous
// along k (vector r at src + r*stride_r); vectors past `rows` are zero. `width`
// (<= 16) of the 16 transposed lanes are stored per k step.
template <int R>
void transpose_into(const float* src, int64_t stride_r, int64_t rows, int64_t kc, float* dst, int64_t width) {
    const __mmask16 store = lanes(width);
    for (int64_t p = 0; p < kc; p += 16) {
        const __mmask16 load = lanes(kc - p);
        __m512 r[16];
        for (int i = 0; i < 16; ++i) {
            r[i] = i < rows ? _mm512_maskz_loadu_ps(load, src + i * stride_r + p) : _mm512_setzero_ps();
            if (i < rows) _mm_prefetch(reinterpret_cast<const char*>(src + i * stride_r + p + kAhead), _MM_HINT_T0);
        }
        transpose16(r);
        for (int q = 0; q < 16 && p + q < kc; ++q) _mm512_mask_storeu_ps(dst + (p + q) * R, store, r[q]);
    }
}

// `count` source vectors -> ceil(count/R) panels [kc][R] (gemm_pack.cpp's pack_block).
template <int R>
void pack_block(const float* src, int64_t stride_r, int64_t stride_p, int64_t count, int64_t kc, float* dst) {
    if (stride_r == 1) {  // each k step holds `count` contiguous values: walk it once, left to right
        for (int64_t p = 0; p < kc; ++p) {
            const float* s = src + p * stride_p;
            for (int64_t r0 = 0; r0 < count; r0 += R)  // masked copies, zeros past `count`
                for (int c = 0; c < R; c += 16)
                    _mm512_mask_storeu_ps(dst + r0 * kc + p * R + c, lanes(R - c),
                                          _mm512_maskz_loadu_ps(lanes(std::min<int64_t>(R, count - r0) - c), s + r0 + c));
        }
        return;
    }
    for (int64_t r0 = 0; r0 < count; r0 += R, dst += kc * R) {  // stride_p == 1: transposes, 16 rows at a time
        const int64_t rows = std::min<int64_t>(R, count - r0);
        for (int c = 0; c < R; c += 16)
            transpose_into<R>(src + (r0 + c) * stride_r, stride_r, std::clamp<int64_t>(rows - c, 0, 16), kc, dst + c,
                              std::min(16, R - c));
    }
}

}  // namespace

template <int MR>
void gemm_pack_a_avx512(bool trans, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                        float* dst) {
    static_assert(MR <= 16, "one transposed block per panel");
    const int64_t stride_r = trans ? 1 : lda, stride_p = trans ? lda : 1;
    pack_block<MR>(a + i0 * stride_r + p0 * stride_p, stride_r, stride_p, mc, kc, dst);
}

template <int NR>
void gemm_pack_b_avx512(bool trans, const float* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
                        float* dst) {
    static_assert(NR % 16 == 0, "whole transposed blocks");
    const int64_t stride_r = trans ? ldb : 1, stride_p = trans ? 1 : ldb;
    pack_block<NR>(b + j0 * stride_r + p0 * stride_p, stride_r, stride_p, nc, kc, dst);
}

template void gemm_pack_a_avx512<14>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_b_avx512<32>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);

}  // namespace graft::kernels::cpu
