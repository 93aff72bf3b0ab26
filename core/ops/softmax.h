// softmax and log_softmax along one dimension, numerically stable (max-shifted).
#pragma once

#include "core/tensor.h"

namespace graft {

Tensor softmax(const Tensor& t, int64_t dim);
Tensor log_softmax(const Tensor& t, int64_t dim);

}  // namespace graft
