// Binary elementwise kernels compiled for the avx512 level (flags set per file in CMake).
#define GRAFT_ISA_NAMESPACE avx512
#include "kernels/cpu/elementwise/binary_impl.h"

namespace graft::kernels::cpu::avx512 {
template void binary<float>(BinaryOp, int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, float);
template void binary<double>(BinaryOp, int64_t, const double*, int64_t, const double*, int64_t, double*, int64_t, double);
}  // namespace graft::kernels::cpu::avx512
