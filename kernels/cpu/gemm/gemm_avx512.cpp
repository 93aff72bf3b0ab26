// The blocked GEMM compiled for the avx512 level (flags set per file in CMake).
// Register block: 6 rows x 2 zmm (32 floats / 16 doubles) = 12 accumulators.
#define GRAFT_ISA_NAMESPACE avx512
#include "kernels/cpu/gemm/gemm_impl.h"

namespace graft::kernels::cpu::avx512 {
template <> void gemm_run<float>(const GemmProblem<float>& p) { gemm_blocked<float, 6, 32, 16>(p); }
template <> void gemm_run<double>(const GemmProblem<double>& p) { gemm_blocked<double, 6, 16, 8>(p); }
}  // namespace graft::kernels::cpu::avx512
