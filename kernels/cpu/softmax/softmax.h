// softmax and log_softmax along the middle dimension of a [outer, n, inner]
// block, forward and backward. Element (o, j, i) of every array lives at
//
//   o*n*ld + j*ld + i        0 <= i < inner <= ld
//
// so a caller can hand a kernel a tile of the inner dimension (ld is the full
// inner size). inner == 1, ld == 1 is a softmax over the last, contiguous dim.
//
//   forward:   y = exp(x - max) / sum exp(x - max)      (log: x - max - log sum)
//   backward:  dx = y * (g - sum(g * y))                 softmax
//              dx = g - exp(y) * sum(g)                  log_softmax (y is the output)
//
// Sums run over j only, in fixed lanes, so results do not depend on how the
// caller splits outer or inner among threads. A row whose max is -inf or +inf,
// or that holds a NaN, gives NaN (as PyTorch).
//
// The fast bodies (softmax_impl.h) are compiled per ISA level and picked by
// softmax_forward/softmax_backward(isa); *_ref are plain loops with std::exp,
// the readable truth the tests compare against. Defined for float and double.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

template <typename T>
using SoftmaxForward = void (*)(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* x, T* y, bool log);
template <typename T>
using SoftmaxBackward = void (*)(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* y, const T* g, T* dx,
                                 bool log);

template <typename T> SoftmaxForward<T> softmax_forward(Isa isa);
template <typename T> SoftmaxBackward<T> softmax_backward(Isa isa);

template <typename T>
void softmax_forward_ref(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* x, T* y, bool log);
template <typename T>
void softmax_backward_ref(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* y, const T* g, T* dx,
                          bool log);

}  // namespace graft::kernels::cpu
