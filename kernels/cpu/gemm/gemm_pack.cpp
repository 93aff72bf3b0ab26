// GEMM packing: copies a block of op(A) or op(B) into the micro-panel layout the
// micro-kernels read (gemm_kernel.h), so the kernel's inner loop walks memory in
// one contiguous stream whatever the operands' transposes and leading dimensions.
//
//   gemm_pack_a<T, MR>   op(A)[i0 : i0+mc, p0 : p0+kc] -> ceil(mc/MR) panels [kc][MR]
//   gemm_pack_b<T, NR>   op(B)[p0 : p0+kc, j0 : j0+nc] -> ceil(nc/NR) panels [kc][NR]
//   *_bf16               the same for bf16 bits in k pairs: panels [ceil(kc/2)][R][2]
//
// Rows (columns) past the edge of the last panel, and the odd k of a bf16 pair,
// are zeros. The copies are plain loops ordered so both sides move through memory
// in order where the layout allows; alpha is applied by the micro-kernel, not here.
#include <algorithm>

#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

// `count` source vectors -> ceil(count/R) panels [kc][R]: vector r starts at
// src + r*stride_r and steps by stride_p along k; vectors past count are zero.
template <typename T, int R>
void pack_block(const T* src, int64_t stride_r, int64_t stride_p, int64_t count, int64_t kc, T* dst) {
    const int64_t tail = count % R, full = count - tail;
    if (tail != 0) std::fill(dst + full * kc, dst + (full + R) * kc, T(0));
    if (stride_r == 1) {  // each k step holds `count` contiguous values: walk it once, left to right
        for (int64_t p = 0; p < kc; ++p) {
            const T* s = src + p * stride_p;
            for (int64_t r = 0; r < full; r += R) std::copy(s + r, s + r + R, dst + r * kc + p * R);
            std::copy(s + full, s + count, dst + full * kc + p * R);
        }
        return;
    }
    // Each source vector contiguous along k (stride_p == 1): a transpose, panel
    // by panel, in blocks of 8 k steps that keep the writes to a few cache lines.
    for (int64_t r0 = 0; r0 < count; r0 += R, dst += kc * R) {
        const int64_t rows = std::min<int64_t>(R, count - r0);
        const T* s0 = src + r0 * stride_r;
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8)
            for (int64_t r = 0; r < rows; ++r) {
                const T* s = s0 + r * stride_r + p * stride_p;
                for (int q = 0; q < 8; ++q) dst[(p + q) * R + r] = s[q * stride_p];
            }
        for (; p < kc; ++p)
            for (int64_t r = 0; r < rows; ++r) dst[p * R + r] = s0[r * stride_r + p * stride_p];
    }
}

// The bf16 pair layout: `count` source vectors -> ceil(count/R) panels
// [ceil(kc/2)][R][2], element (p, r) of a panel at ((p/2)*R + r)*2 + p%2; vectors
// past count, and an odd kc's last pair half, are zero.
template <int R>
void pack_block_bf16(const bf16_bits* src, int64_t stride_r, int64_t stride_p, int64_t count, int64_t kc,
                     bf16_bits* dst) {
    const int64_t pairs = (kc + 1) / 2, panel = pairs * R * 2, panels = (count + R - 1) / R;
    if (count % R != 0 || kc % 2 != 0) std::fill(dst, dst + panels * panel, bf16_bits(0));
    if (stride_r == 1) {  // each k step holds `count` contiguous values: interleave two rows at a time
        for (int64_t q = 0; q < pairs; ++q) {
            const bf16_bits* s0 = src + 2 * q * stride_p;
            const bf16_bits* s1 = 2 * q + 1 < kc ? s0 + stride_p : nullptr;
            for (int64_t r = 0; r < count; ++r) {
                bf16_bits* d = dst + (r / R) * panel + (q * R + r % R) * 2;
                d[0] = s0[r];
                if (s1) d[1] = s1[r];
            }
        }
        return;
    }
    for (int64_t r = 0; r < count; ++r) {  // each vector contiguous along k: copy its pairs
        const bf16_bits* s = src + r * stride_r;
        bf16_bits* d = dst + (r / R) * panel + (r % R) * 2;
        for (int64_t p = 0; p + 1 < kc; p += 2) {
            d[p * R] = s[p];  // (p/2)*R*2 == p*R for even p
            d[p * R + 1] = s[p + 1];
        }
        if (kc % 2 != 0) d[(kc - 1) * R] = s[kc - 1];
    }
}

}  // namespace

// A row-major [m, k]: row i at a + i*lda (stride 1 along k); transposed, A is
// stored [k, m] and row i of op(A) is column i of the storage.
template <typename T, int MR>
void gemm_pack_a(bool trans, const T* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* dst) {
    const int64_t stride_r = trans ? 1 : lda, stride_p = trans ? lda : 1;
    pack_block<T, MR>(a + i0 * stride_r + p0 * stride_p, stride_r, stride_p, mc, kc, dst);
}

// B row-major [k, n]: column j steps by ldb along k; transposed, B is stored [n, k].
template <typename T, int NR>
void gemm_pack_b(bool trans, const T* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0, int64_t kc, T* dst) {
    const int64_t stride_r = trans ? ldb : 1, stride_p = trans ? 1 : ldb;
    pack_block<T, NR>(b + j0 * stride_r + p0 * stride_p, stride_r, stride_p, nc, kc, dst);
}

template <int MR>
void gemm_pack_a_bf16(bool trans, const bf16_bits* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                      bf16_bits* dst) {
    const int64_t stride_r = trans ? 1 : lda, stride_p = trans ? lda : 1;
    pack_block_bf16<MR>(a + i0 * stride_r + p0 * stride_p, stride_r, stride_p, mc, kc, dst);
}

template <int NR>
void gemm_pack_b_bf16(bool trans, const bf16_bits* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
                      bf16_bits* dst) {
    const int64_t stride_r = trans ? ldb : 1, stride_p = trans ? 1 : ldb;
    pack_block_bf16<NR>(b + j0 * stride_r + p0 * stride_p, stride_r, stride_p, nc, kc, dst);
}

template void gemm_pack_a<float, 4>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_a<float, 6>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_a<float, 14>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_b<float, 8>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_b<float, 16>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_b<float, 32>(bool, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void gemm_pack_a<double, 4>(bool, const double*, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void gemm_pack_a<double, 6>(bool, const double*, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void gemm_pack_a<double, 14>(bool, const double*, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void gemm_pack_b<double, 4>(bool, const double*, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void gemm_pack_b<double, 8>(bool, const double*, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void gemm_pack_b<double, 16>(bool, const double*, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void gemm_pack_a_bf16<14>(bool, const bf16_bits*, int64_t, int64_t, int64_t, int64_t, int64_t, bf16_bits*);
template void gemm_pack_b_bf16<32>(bool, const bf16_bits*, int64_t, int64_t, int64_t, int64_t, int64_t, bf16_bits*);

}  // namespace graft::kernels::cpu
