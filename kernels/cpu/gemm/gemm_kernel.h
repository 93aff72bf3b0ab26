// Internal to the GEMM kernels: the pieces the five-loop driver
// (gemm_driver.cpp) is assembled from, and the table that joins them per ISA
// level and dtype (gemm_blocking.cpp).
//
//   micro-kernel  c[m, n] = alpha · ap[MR, k] · bp[k, NR] + beta · c, m <= MR, n <= NR
//                 ap packed [k][MR] (column p of the panel: MR contiguous values),
//                 bp packed [k][NR] (row p of the panel: NR contiguous values),
//                 C element (i, j) at c[i*rs_c + j*cs_c]. beta == 0 never reads C.
//                 bf16 panels hold k in pairs: ap [k/2][MR][2], bp [k/2][NR][2],
//                 k rounded up to even with zeros (the pair vdpbf16ps consumes).
//   pack_a        op(A)[i0 : i0+mc, p0 : p0+kc] -> ceil(mc/MR) micro-panels of [kc][MR]
//   pack_b        op(B)[p0 : p0+kc, j0 : j0+nc] -> ceil(nc/NR) micro-panels of [kc][NR]
//                 rows/columns past the edge are zero, so a micro-kernel may compute
//                 the whole MR x NR tile and store only m x n of it (the AVX-512 one
//                 runs a smaller register block on edge tiles instead).
//   alpha         applied by the micro-kernel when it stores C (once per C element
//                 per KC slice); the packers only copy.
//
// Names pair across files: gemm_ukernel_ref (generic scalar, any MR x NR),
// gemm_ukernel_avx2_6x16 (float) / _6x8 (double), gemm_ukernel_avx512_14x32 /
// _14x16 / _14x32_strided, gemm_ukernel_avx512bf16_14x32; gemm_pack_a / _b
// (reference, any dtype) and gemm_pack_a_avx512 / _b_avx512 (float).
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

// bfloat16 as its 16 bits (the top half of a float32); kernels/ knows no core types.
using bf16_bits = uint16_t;

// Micro-kernel: In is the packed element (float, double, bf16_bits), Out the C
// element and the type of alpha/beta (float for bf16).
template <typename In, typename Out>
using GemmUkernel = void (*)(int64_t m, int64_t n, int64_t k, Out alpha, const In* a, const In* b, Out beta, Out* c,
                             int64_t rs_c, int64_t cs_c);

// The same product with A read in place, to skip packing it: A element (i, p)
// at a[i*rs_a + p*cs_a], all MR rows readable; B packed as above. (The packed
// A panel is rs_a 1, cs_a MR.)
template <typename In, typename Out>
using GemmUkernelStrided = void (*)(int64_t m, int64_t n, int64_t k, Out alpha, const In* a, int64_t rs_a,
                                    int64_t cs_a, const In* b, Out beta, Out* c, int64_t rs_c, int64_t cs_c);

// Packs a block of op(X) (X row-major with leading dimension ld, transposed when
// `trans`) into micro-panels: pack_a walks rows [r0, r0+rows) x k [p0, p0+kc),
// pack_b k [p0, p0+kc) x columns [r0, r0+rows). dst holds ceil(rows/R) panels.
template <typename In>
using GemmPack = void (*)(bool trans, const In* x, int64_t ld, int64_t r0, int64_t rows, int64_t p0, int64_t kc,
                          In* dst);

// One row of the blocking table: register block, cache blocks, and the
// functions built for them. MC is a multiple of MR, NC of NR, KC of k_unit.
// With a strided micro-kernel, the driver reads op(A) in place when n <= a_inplace_n:
// packing an A that few columns reuse costs more than it saves (12544x576x64:
// 93 GFLOP/s in place, 62 packed, on Zen 4). k slices then grow to kc_a_inplace:
// the B block [kc, n <= a_inplace_n] still fits L2, and long runs along A's rows
// keep the hardware prefetchers ahead. (B is always packed: read in place it
// lost at every m measured, 4 to 96, with cold caches.)
template <typename In, typename Out>
struct GemmConfig {
    const char* name;        // e.g. "avx512 14x32", for test and benchmark messages
    int64_t mr, nr;          // register block: C tile per micro-kernel call
    int64_t mc, kc, nc;      // cache blocks: A block mc x kc (L2), B block kc x nc (L3)
    int64_t k_unit;          // k steps the packed layout groups (2 for bf16 pairs)
    GemmUkernel<In, Out> ukernel;
    GemmPack<In> pack_a;
    GemmPack<In> pack_b;
    GemmUkernelStrided<In, Out> ukernel_strided = nullptr;  // optional
    int64_t a_inplace_n = 0;                                // 0: always pack A
    int64_t kc_a_inplace = 0;
};

// The row for an ISA level (gemm_blocking.cpp). bf16 has a row only for
// Isa::Avx512 on CPUs with AVX512_BF16; gemm_config_bf16 returns nullptr otherwise.
const GemmConfig<float, float>& gemm_config_f32(Isa isa);
const GemmConfig<double, double>& gemm_config_f64(Isa isa);
const GemmConfig<bf16_bits, float>* gemm_config_bf16(Isa isa);

// `batch` products C_i = alpha op(A_i) op(B_i) + beta C_i, the i-th on a + i*stride_a,
// b + i*stride_b, c + i*stride_c; layouts as in kernels/cpu/gemm.h.
template <typename In, typename Out>
struct GemmProblem {
    bool trans_a, trans_b;
    int64_t m, n, k;
    Out alpha;
    const In* a;
    int64_t lda, stride_a;
    const In* b;
    int64_t ldb, stride_b;
    Out beta;
    Out* c;
    int64_t ldc, stride_c;
    int64_t batch;
    GemmEpilogue<Out> epilogue = {};  // applied after each C tile's last KC slice
};

// Runs a problem with the given table row (gemm_driver.cpp): the public entry
// points pass the active ISA's row; tests and the benchmark sweep pass their own.
// Defined for <float, float>, <double, double>, <bf16_bits, float>.
template <typename In, typename Out>
void gemm_run(const GemmConfig<In, Out>& config, const GemmProblem<In, Out>& problem);

// ---- micro-kernels ------------------------------------------------------------------

// The generic scalar reference for any MR x NR (gemm_ukernel_ref.cpp); defined for
// the shapes of the table (float 4x8, 6x16, 14x32; double 4x4, 6x8, 14x16).
template <typename T, int MR, int NR>
void gemm_ukernel_ref(int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c, int64_t rs_c,
                      int64_t cs_c);
// The bf16 reference on pair-packed panels (14x32).
template <int MR, int NR>
void gemm_ukernel_bf16_ref(int64_t m, int64_t n, int64_t k, float alpha, const bf16_bits* a, const bf16_bits* b,
                           float beta, float* c, int64_t rs_c, int64_t cs_c);

void gemm_ukernel_avx2_6x16(int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b, float beta,
                            float* c, int64_t rs_c, int64_t cs_c);
void gemm_ukernel_avx2_6x8(int64_t m, int64_t n, int64_t k, double alpha, const double* a, const double* b,
                           double beta, double* c, int64_t rs_c, int64_t cs_c);
void gemm_ukernel_avx512_14x32(int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
                               float beta, float* c, int64_t rs_c, int64_t cs_c);
void gemm_ukernel_avx512_14x32_strided(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t rs_a,
                                       int64_t cs_a, const float* b, float beta, float* c, int64_t rs_c, int64_t cs_c);
void gemm_ukernel_avx512_14x16(int64_t m, int64_t n, int64_t k, double alpha, const double* a, const double* b,
                               double beta, double* c, int64_t rs_c, int64_t cs_c);
void gemm_ukernel_avx512bf16_14x32(int64_t m, int64_t n, int64_t k, float alpha, const bf16_bits* a,
                                   const bf16_bits* b, float beta, float* c, int64_t rs_c, int64_t cs_c);

// ---- packing (gemm_pack.cpp) ------------------------------------------------------------

template <typename T, int MR>
void gemm_pack_a(bool trans, const T* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* dst);
template <typename T, int NR>
void gemm_pack_b(bool trans, const T* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0, int64_t kc, T* dst);
// The same layouts with AVX-512 (gemm_pack_avx512.cpp, float, MR <= 16, NR % 16 == 0).
template <int MR>
void gemm_pack_a_avx512(bool trans, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                        float* dst);
template <int NR>
void gemm_pack_b_avx512(bool trans, const float* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
                        float* dst);
// bf16 pair layout: [ceil(kc/2)][R][2].
template <int MR>
void gemm_pack_a_bf16(bool trans, const bf16_bits* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                      bf16_bits* dst);
template <int NR>
void gemm_pack_b_bf16(bool trans, const bf16_bits* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
                      bf16_bits* dst);

}  // namespace graft::kernels::cpu
