// Picks the unary loop for an ISA level. Floating types have one compiled copy
// per level; integer loops (neg, abs, sign, clamp, relu) are memory-bound and
// use the reference build at every level.
#define GRAFT_ISA_NAMESPACE ref
#include "kernels/cpu/elementwise/unary_impl.h"

namespace graft::kernels::cpu {

namespace avx2 {
template <typename T> void unary(UnaryOp, int64_t, const T*, int64_t, T*, int64_t, const UnaryParams<T>&);
template <typename T>
void unary_grad(UnaryGradOp, int64_t, const T*, int64_t, const T*, int64_t, T*, int64_t, const UnaryParams<T>&);
}  // namespace avx2
namespace avx512 {
template <typename T> void unary(UnaryOp, int64_t, const T*, int64_t, T*, int64_t, const UnaryParams<T>&);
template <typename T>
void unary_grad(UnaryGradOp, int64_t, const T*, int64_t, const T*, int64_t, T*, int64_t, const UnaryParams<T>&);
}  // namespace avx512

template <typename T>
UnaryLoop<T> unary_loop(Isa isa) {
    if constexpr (std::is_floating_point_v<T>) {
        if (isa == Isa::Avx512) return &avx512::unary<T>;
        if (isa == Isa::Avx2) return &avx2::unary<T>;
    }
    return &ref::unary<T>;
}

template <typename T>
UnaryGradLoop<T> unary_grad_loop(Isa isa) {
    if (isa == Isa::Avx512) return &avx512::unary_grad<T>;
    if (isa == Isa::Avx2) return &avx2::unary_grad<T>;
    return &ref::unary_grad<T>;
}

template UnaryLoop<float> unary_loop<float>(Isa);
template UnaryLoop<double> unary_loop<double>(Isa);
template UnaryLoop<int64_t> unary_loop<int64_t>(Isa);
template UnaryLoop<int32_t> unary_loop<int32_t>(Isa);
template UnaryLoop<uint8_t> unary_loop<uint8_t>(Isa);
template UnaryGradLoop<float> unary_grad_loop<float>(Isa);
template UnaryGradLoop<double> unary_grad_loop<double>(Isa);

}  // namespace graft::kernels::cpu
