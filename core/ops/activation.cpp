// Placeholder until the activation ops land: each throws.
#include "core/ops/activation.h"

namespace graft {
Tensor relu(const Tensor& t) { throw Error("relu: not implemented yet"); }
Tensor relu6(const Tensor& t) { throw Error("relu6: not implemented yet"); }
Tensor leaky_relu(const Tensor& t, double negative_slope) { throw Error("leaky_relu: not implemented yet"); }
Tensor gelu(const Tensor& t, GeluApproximation approximate) { throw Error("gelu: not implemented yet"); }
Tensor silu(const Tensor& t) { throw Error("silu: not implemented yet"); }
Tensor sigmoid(const Tensor& t) { throw Error("sigmoid: not implemented yet"); }
Tensor tanh(const Tensor& t) { throw Error("tanh: not implemented yet"); }
Tensor softplus(const Tensor& t, double beta, double threshold) { throw Error("softplus: not implemented yet"); }
Tensor hardswish(const Tensor& t) { throw Error("hardswish: not implemented yet"); }
const Tensor& relu_(const Tensor& t) { throw Error("relu_: not implemented yet"); }
const Tensor& relu6_(const Tensor& t) { throw Error("relu6_: not implemented yet"); }
const Tensor& leaky_relu_(const Tensor& t, double negative_slope) { throw Error("leaky_relu_: not implemented yet"); }
const Tensor& gelu_(const Tensor& t, GeluApproximation approximate) { throw Error("gelu_: not implemented yet"); }
const Tensor& silu_(const Tensor& t) { throw Error("silu_: not implemented yet"); }
const Tensor& sigmoid_(const Tensor& t) { throw Error("sigmoid_: not implemented yet"); }
const Tensor& tanh_(const Tensor& t) { throw Error("tanh_: not implemented yet"); }
const Tensor& softplus_(const Tensor& t, double beta, double threshold) { throw Error("softplus_: not implemented yet"); }
const Tensor& hardswish_(const Tensor& t) { throw Error("hardswish_: not implemented yet"); }

}  // namespace graft
