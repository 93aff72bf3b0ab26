// Unary elementwise kernels compiled for the avx2 level (flags set per file in CMake).
#define GRAFT_ISA_NAMESPACE avx2
#include "kernels/cpu/elementwise/unary_impl.h"

namespace graft::kernels::cpu::avx2 {
template void unary<float>(UnaryOp, int64_t, const float*, int64_t, float*, int64_t, const UnaryParams<float>&);
template void unary<double>(UnaryOp, int64_t, const double*, int64_t, double*, int64_t, const UnaryParams<double>&);
template void unary_grad<float>(UnaryGradOp, int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t,
                                const UnaryParams<float>&);
template void unary_grad<double>(UnaryGradOp, int64_t, const double*, int64_t, const double*, int64_t, double*,
                                 int64_t, const UnaryParams<double>&);
}  // namespace graft::kernels::cpu::avx2
