// Picks the softmax kernels for an ISA level; this file also compiles the fast
// bodies for baseline x86-64 (the level used when no AVX is present).
#define GRAFT_ISA_NAMESPACE baseline
#include "kernels/cpu/softmax/softmax_impl.h"

namespace graft::kernels::cpu {

namespace avx2 {
template <typename T> void softmax_forward(int64_t, int64_t, int64_t, int64_t, const T*, T*, bool);
template <typename T> void softmax_backward(int64_t, int64_t, int64_t, int64_t, const T*, const T*, T*, bool);
}  // namespace avx2
namespace avx512 {
template <typename T> void softmax_forward(int64_t, int64_t, int64_t, int64_t, const T*, T*, bool);
template <typename T> void softmax_backward(int64_t, int64_t, int64_t, int64_t, const T*, const T*, T*, bool);
}  // namespace avx512

template <typename T>
SoftmaxForward<T> softmax_forward(Isa isa) {
    if (isa == Isa::Avx512) return &avx512::softmax_forward<T>;
    if (isa == Isa::Avx2) return &avx2::softmax_forward<T>;
    return &baseline::softmax_forward<T>;
}

template <typename T>
SoftmaxBackward<T> softmax_backward(Isa isa) {
    if (isa == Isa::Avx512) return &avx512::softmax_backward<T>;
    if (isa == Isa::Avx2) return &avx2::softmax_backward<T>;
    return &baseline::softmax_backward<T>;
}

template SoftmaxForward<float> softmax_forward<float>(Isa);
template SoftmaxForward<double> softmax_forward<double>(Isa);
template SoftmaxBackward<float> softmax_backward<float>(Isa);
template SoftmaxBackward<double> softmax_backward<double>(Isa);

}  // namespace graft::kernels::cpu
