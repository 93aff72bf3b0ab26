// Activation functions, with the formulas PyTorch uses, and in-place forms.
#pragma once

#include "core/tensor.h"

namespace graft {

enum class GeluApproximation { None, Tanh };

Tensor relu(const Tensor& t);
Tensor relu6(const Tensor& t);
Tensor leaky_relu(const Tensor& t, double negative_slope = 0.01);
// x * Phi(x) with the erf form, or PyTorch's tanh approximation.
Tensor gelu(const Tensor& t, GeluApproximation approximate = GeluApproximation::None);
Tensor silu(const Tensor& t);
Tensor sigmoid(const Tensor& t);
Tensor tanh(const Tensor& t);
// log(1 + exp(beta x)) / beta, linear above `threshold` (as torch.nn.Softplus).
Tensor softplus(const Tensor& t, double beta = 1.0, double threshold = 20.0);
Tensor hardswish(const Tensor& t);

const Tensor& relu_(const Tensor& t);
const Tensor& relu6_(const Tensor& t);
const Tensor& leaky_relu_(const Tensor& t, double negative_slope = 0.01);
const Tensor& gelu_(const Tensor& t, GeluApproximation approximate = GeluApproximation::None);
const Tensor& silu_(const Tensor& t);
const Tensor& sigmoid_(const Tensor& t);
const Tensor& tanh_(const Tensor& t);
const Tensor& softplus_(const Tensor& t, double beta = 1.0, double threshold = 20.0);
const Tensor& hardswish_(const Tensor& t);

}  // namespace graft
