// The public GEMM entry points (kernels/cpu/gemm.h): pick the build of the
// blocked driver for the active ISA level. This file also compiles that driver
// for baseline x86-64 (SSE2, 4 x 8 floats / 4 x 4 doubles per register block).
#define GRAFT_ISA_NAMESPACE baseline
#include "kernels/cpu/gemm/gemm_impl.h"

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

namespace baseline {
template <> void gemm_run<float>(const GemmProblem<float>& p) { gemm_blocked<float, 4, 8, 4>(p); }
template <> void gemm_run<double>(const GemmProblem<double>& p) { gemm_blocked<double, 6, 4, 2>(p); }
}  // namespace baseline

namespace {

template <typename T>
void run(const GemmProblem<T>& p) {
    switch (active_isa()) {
        case Isa::Avx512: return avx512::gemm_run<T>(p);
        case Isa::Avx2: return avx2::gemm_run<T>(p);
        case Isa::Scalar: break;
    }
    baseline::gemm_run<T>(p);
}

}  // namespace

void sgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                           int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch) {
    run<float>({trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, batch});
}

void dgemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                           const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                           int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch) {
    run<double>({trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, batch});
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    run<float>({trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1});
}

void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
           const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
    run<double>({trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1});
}

}  // namespace graft::kernels::cpu
