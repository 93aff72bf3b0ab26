// Internal to the GEMM kernels: the problem description handed from the public
// entry points (gemm_dispatch.cpp) to the blocked driver compiled once per ISA
// level (gemm_impl.h included by gemm_dispatch.cpp, gemm_avx2.cpp,
// gemm_avx512.cpp, each in its own namespace so the linker never mixes levels).
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// batch products C_i = alpha op(A_i) op(B_i) + beta C_i; see kernels/cpu/gemm.h.
template <typename T>
struct GemmProblem {
    bool trans_a, trans_b;
    int64_t m, n, k;
    T alpha;
    const T* a;
    int64_t lda, stride_a;
    const T* b;
    int64_t ldb, stride_b;
    T beta;
    T* c;
    int64_t ldc, stride_c;
    int64_t batch;
};

namespace baseline {
template <typename T> void gemm_run(const GemmProblem<T>& p);
}
namespace avx2 {
template <typename T> void gemm_run(const GemmProblem<T>& p);
}
namespace avx512 {
template <typename T> void gemm_run(const GemmProblem<T>& p);
}

}  // namespace graft::kernels::cpu
