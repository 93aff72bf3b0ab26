// Picks the normalisation kernels for an ISA level; this file also compiles the
// fast bodies for baseline x86-64 (the level used when no AVX is present).
#define GRAFT_ISA_NAMESPACE baseline
#include "kernels/cpu/norm/norm_impl.h"

namespace graft::kernels::cpu {

namespace avx2 {
template <typename T> NormKernels<T> norm_kernels();
}  // namespace avx2
namespace avx512 {
template <typename T> NormKernels<T> norm_kernels();
}  // namespace avx512

template <typename T>
NormKernels<T> norm_kernels(Isa isa) {
    if (isa == Isa::Avx512) return avx512::norm_kernels<T>();
    if (isa == Isa::Avx2) return avx2::norm_kernels<T>();
    return baseline::norm_kernels<T>();
}

template NormKernels<float> norm_kernels<float>(Isa);
template NormKernels<double> norm_kernels<double>(Isa);

}  // namespace graft::kernels::cpu
