// Internal: the OpenBLAS backend's entry point (gemm_openblas.cpp); the public
// switch (set_gemm_backend, GRAFT_GEMM) is in kernels/cpu/gemm.h.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace graft::kernels::cpu {

// `batch` products through cblas_sgemm / cblas_dgemm, then the epilogue as a
// separate pass (OpenBLAS has none). Call only when openblas_available().
template <typename T>
void openblas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                   int64_t stride_a, const T* b, int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                   int64_t stride_c, int64_t batch, const GemmEpilogue<T>& epilogue);

}  // namespace graft::kernels::cpu
