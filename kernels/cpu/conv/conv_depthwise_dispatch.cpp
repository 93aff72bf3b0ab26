// Picks the SIMD depthwise kernels for an ISA level; this file also compiles
// their body for baseline x86-64 (SSE2 vectors), the level used without AVX.
#define GRAFT_ISA_NAMESPACE baseline
#include "kernels/cpu/conv/conv_depthwise_impl.h"

namespace graft::kernels::cpu {

namespace avx2 {
template <typename T> void depthwise_forward(const ConvGeometry&, const T*, const T*, const T*, T*);
template <typename T> void depthwise_backward_input(const ConvGeometry&, const T*, const T*, T*);
template <typename T> void depthwise_backward_weight(const ConvGeometry&, const T*, const T*, T*);
}  // namespace avx2
namespace avx512 {
template <typename T> void depthwise_forward(const ConvGeometry&, const T*, const T*, const T*, T*);
template <typename T> void depthwise_backward_input(const ConvGeometry&, const T*, const T*, T*);
template <typename T> void depthwise_backward_weight(const ConvGeometry&, const T*, const T*, T*);
}  // namespace avx512

bool conv_depthwise_simd_supports(const ConvGeometry& g) {
    return g.is_depthwise() && g.kh == g.kw && (g.kh == 3 || g.kh == 5) && g.stride_h == g.stride_w &&
           (g.stride_h == 1 || g.stride_h == 2) && g.dil_h == 1 && g.dil_w == 1;
}

template <typename T>
DepthwiseKernels<T> conv_depthwise_kernels(Isa isa) {
    if (isa == Isa::Avx512)
        return {&avx512::depthwise_forward<T>, &avx512::depthwise_backward_input<T>,
                &avx512::depthwise_backward_weight<T>};
    if (isa == Isa::Avx2)
        return {&avx2::depthwise_forward<T>, &avx2::depthwise_backward_input<T>, &avx2::depthwise_backward_weight<T>};
    return {&baseline::depthwise_forward<T>, &baseline::depthwise_backward_input<T>,
            &baseline::depthwise_backward_weight<T>};
}

template DepthwiseKernels<float> conv_depthwise_kernels<float>(Isa);
template DepthwiseKernels<double> conv_depthwise_kernels<double>(Isa);

}  // namespace graft::kernels::cpu
