// The generic scalar GEMM micro-kernels: the readable truth every SIMD
// micro-kernel is tested against (same signature, same packed panels), and the
// kernel the scalar ISA level runs.
//
//   gemm_ukernel_ref<T, MR, NR>       c[m, n] = alpha · ap[MR, k] · bp[k, NR] + beta · c
//                                     ap [k][MR], bp [k][NR]; only m <= MR, n <= NR stored
//   gemm_ukernel_bf16_ref<MR, NR>     the same on bf16 panels in k pairs,
//                                     ap [k/2][MR][2], bp [k/2][NR][2], float C
//
// C element (i, j) lives at c[i*rs_c + j*cs_c]; beta == 0 never reads C.
#include <cstring>

#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

template <typename T, int MR, int NR>
void gemm_ukernel_ref(int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c, int64_t rs_c,
                      int64_t cs_c) {
    T acc[MR][NR] = {};
    for (int64_t p = 0; p < k; ++p)  // one rank-1 update per k step: column p of A times row p of B
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i][j] += a[p * MR + i] * b[p * NR + j];
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T& out = c[i * rs_c + j * cs_c];
            out = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * out;
        }
}

namespace {
float bf16_to_float(bf16_bits x) {
    const uint32_t u = uint32_t(x) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
}  // namespace

template <int MR, int NR>
void gemm_ukernel_bf16_ref(int64_t m, int64_t n, int64_t k, float alpha, const bf16_bits* a, const bf16_bits* b,
                           float beta, float* c, int64_t rs_c, int64_t cs_c) {
    float acc[MR][NR] = {};
    for (int64_t q = 0; q < (k + 1) / 2; ++q)  // k pair q: A[i][2q..2q+1] · B[2q..2q+1][j]
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) {
                const bf16_bits* ai = a + (q * MR + i) * 2;
                const bf16_bits* bj = b + (q * NR + j) * 2;
                acc[i][j] += bf16_to_float(ai[0]) * bf16_to_float(bj[0]) + bf16_to_float(ai[1]) * bf16_to_float(bj[1]);
            }
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            float& out = c[i * rs_c + j * cs_c];
            out = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * out;
        }
}

template void gemm_ukernel_ref<float, 4, 8>(int64_t, int64_t, int64_t, float, const float*, const float*, float,
                                            float*, int64_t, int64_t);
template void gemm_ukernel_ref<float, 6, 16>(int64_t, int64_t, int64_t, float, const float*, const float*, float,
                                             float*, int64_t, int64_t);
template void gemm_ukernel_ref<float, 14, 32>(int64_t, int64_t, int64_t, float, const float*, const float*, float,
                                              float*, int64_t, int64_t);
template void gemm_ukernel_ref<double, 4, 4>(int64_t, int64_t, int64_t, double, const double*, const double*, double,
                                             double*, int64_t, int64_t);
template void gemm_ukernel_ref<double, 6, 8>(int64_t, int64_t, int64_t, double, const double*, const double*, double,
                                             double*, int64_t, int64_t);
template void gemm_ukernel_ref<double, 14, 16>(int64_t, int64_t, int64_t, double, const double*, const double*,
                                               double, double*, int64_t, int64_t);
template void gemm_ukernel_bf16_ref<14, 32>(int64_t, int64_t, int64_t, float, const bf16_bits*, const bf16_bits*,
                                            float, float*, int64_t, int64_t);

}  // namespace graft::kernels::cpu
