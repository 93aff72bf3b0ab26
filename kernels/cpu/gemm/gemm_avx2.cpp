// The blocked GEMM compiled for the avx2 level (flags set per file in CMake).
// Register block: 6 x 2 ymm for floats, 4 x 2 ymm for doubles (GCC
// spills one of 6 x 2 double accumulators: the A broadcasts need spare registers).
#define GRAFT_ISA_NAMESPACE avx2
#include "kernels/cpu/gemm/gemm_impl.h"

namespace graft::kernels::cpu::avx2 {
template <> void gemm_run<float>(const GemmProblem<float>& p) { gemm_blocked<float, 6, 16, 8>(p); }
template <> void gemm_run<double>(const GemmProblem<double>& p) { gemm_blocked<double, 4, 8, 4>(p); }
}  // namespace graft::kernels::cpu::avx2
