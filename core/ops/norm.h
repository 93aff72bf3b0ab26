// Normalisation ops with PyTorch's semantics. Forward and backward kernels
// live under kernels/cpu/norm/.
#pragma once

#include "core/tensor.h"

namespace graft {

// x [N, C, ...]. In training, normalises with the batch statistics (biased
// variance) and, when running_mean/var are defined, updates them in place:
// running = (1 - momentum) * running + momentum * batch (unbiased variance).
// Otherwise normalises with the running statistics. weight/bias [C] may be
// undefined (affine=False).
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// Normalises over the trailing dims `normalized_shape`; weight/bias of that
// shape may be undefined.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps = 1e-5);

// x [N, C, ...], C divisible by groups; weight/bias [C] may be undefined.
Tensor group_norm(const Tensor& input, int64_t groups, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

}  // namespace graft
