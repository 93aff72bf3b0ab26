// The public GEMM entry points (kernels/cpu/gemm.h): each picks the blocking-table
// row of the active ISA level and hands the problem to the driver
// (gemm_driver.cpp), or to OpenBLAS when that backend is chosen
// (gemm_openblas.cpp). gemm_bf16 runs the AVX512_BF16 kernel where the CPU has
// it and the active level is avx512; elsewhere it widens A and B to float32
// (exact: bf16 is a float32's top half) and calls sgemm.
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm/gemm_kernel.h"
#include "kernels/cpu/gemm/gemm_openblas.h"

namespace graft::kernels::cpu {

void sgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                           int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch,
                           const GemmEpilogue<float>& epilogue) {
    if (gemm_backend() == GemmBackend::OpenBlas)
        return openblas_gemm<float>(trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc,
                                    stride_c, batch, epilogue);
    gemm_run<float, float>(gemm_config_f32(active_isa()), {trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb,
                                                           stride_b, beta, c, ldc, stride_c, batch, epilogue});
}

void dgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                           const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                           int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch,
                           const GemmEpilogue<double>& epilogue) {
    if (gemm_backend() == GemmBackend::OpenBlas)
        return openblas_gemm<double>(trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c,
                                     ldc, stride_c, batch, epilogue);
    gemm_run<double, double>(gemm_config_f64(active_isa()), {trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b,
                                                             ldb, stride_b, beta, c, ldc, stride_c, batch, epilogue});
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const GemmEpilogue<float>& epilogue) {
    sgemm_strided_batched(trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1, epilogue);
}

void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
           const double* b, int64_t ldb, double beta, double* c, int64_t ldc, const GemmEpilogue<double>& epilogue) {
    dgemm_strided_batched(trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1, epilogue);
}

namespace {

// rows x cols bf16 values with leading dimension ld -> float32, densely packed.
std::vector<float> widen(const uint16_t* x, int64_t rows, int64_t cols, int64_t ld) {
    std::vector<float> out(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j) {
            const uint32_t u = uint32_t(x[r * ld + j]) << 16;
            std::memcpy(&out[size_t(r * cols + j)], &u, 4);
        }
    return out;
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const uint16_t* a,
               int64_t lda, const uint16_t* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    if (const GemmConfig<bf16_bits, float>* cfg = gemm_config_bf16(active_isa())) {
        gemm_run<bf16_bits, float>(*cfg, {trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1});
        return;
    }
    if (m <= 0 || n <= 0) return;
    // Fallback: float32 copies of A and B in their stored shapes, then sgemm.
    const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    const std::vector<float> af = widen(a, a_rows, a_cols, lda), bf = widen(b, b_rows, b_cols, ldb);
    sgemm(trans_a, trans_b, m, n, k, alpha, af.data(), a_cols, bf.data(), b_cols, beta, c, ldc);
}

}  // namespace graft::kernels::cpu
