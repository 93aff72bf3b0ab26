// Activation functions, with the formulas of PyTorch's CPU kernels. Each
// forward is one kernel pass and each backward one pass of a backward kernel
// (kernels/cpu/elementwise/unary.h), which reads the saved input, or the saved
// output where that is what PyTorch saves (relu, sigmoid, tanh). relu and relu6
// keep integer dtypes; the others compute integer inputs in float32.
#include "core/ops/activation.h"

#include "core/autograd/record.h"
#include "core/ops/unary_common.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;
using detail::IntInputs;
using detail::UnaryArgs;
using kernels::cpu::UnaryGradOp;
using kernels::cpu::UnaryOp;

namespace {

// The forward of every activation: one kernel pass, and a backward kernel fed
// with the saved input (or output, when `save_output`).
Tensor activation(const char* name, UnaryOp op, UnaryGradOp grad_op, const Tensor& t, IntInputs ints,
                  const UnaryArgs& args = {}, bool save_output = false) {
    Tensor out = detail::unary_forward(name, op, t, ints, args);
    if (autograd::should_record({&t})) {
        autograd::record(name, {t}, out,
                         [saved = SavedTensor(save_output ? out : t), name, grad_op, args](const Tensor& g,
                                                                                          const Needs&) {
                             return Grads{detail::unary_backward(name, grad_op, saved.get(name), g, args)};
                         });
    }
    return out;
}

const char* gelu_name(GeluApproximation a) { return a == GeluApproximation::Tanh ? "gelu_tanh" : "gelu"; }
UnaryOp gelu_op(GeluApproximation a) { return a == GeluApproximation::Tanh ? UnaryOp::GeluTanh : UnaryOp::Gelu; }

}  // namespace

// d relu = 1 where y > 0, else 0 (0 at the kink, as PyTorch)
Tensor relu(const Tensor& t) {
    return activation("relu", UnaryOp::Relu, UnaryGradOp::Relu, t, IntInputs::Keep, {}, /*save_output=*/true);
}

// relu6 = hardtanh(x, 0, 6); d = 1 on the open interval (0, 6), else 0
Tensor relu6(const Tensor& t) { return activation("relu6", UnaryOp::Relu6, UnaryGradOp::Relu6, t, IntInputs::Keep); }

// d = 1 for x > 0, else negative_slope
Tensor leaky_relu(const Tensor& t, double negative_slope) {
    return activation("leaky_relu", UnaryOp::LeakyRelu, UnaryGradOp::LeakyRelu, t, IntInputs::ToFloat,
                      {.slope = negative_slope});
}

// erf form: d x Phi(x) = Phi(x) + x phi(x); tanh form: see UnaryGradOp::GeluTanh
Tensor gelu(const Tensor& t, GeluApproximation approximate) {
    const UnaryGradOp grad_op = approximate == GeluApproximation::Tanh ? UnaryGradOp::GeluTanh : UnaryGradOp::Gelu;
    return activation(gelu_name(approximate), gelu_op(approximate), grad_op, t, IntInputs::ToFloat);
}

// silu = x sigmoid(x); d = s (1 + x (1 - s))
Tensor silu(const Tensor& t) { return activation("silu", UnaryOp::Silu, UnaryGradOp::Silu, t, IntInputs::ToFloat); }

// d sigmoid = y (1 - y)
Tensor sigmoid(const Tensor& t) {
    return activation("sigmoid", UnaryOp::Sigmoid, UnaryGradOp::Sigmoid, t, IntInputs::ToFloat, {}, true);
}

// d tanh = 1 - y^2
Tensor tanh(const Tensor& t) {
    return activation("tanh", UnaryOp::Tanh, UnaryGradOp::Tanh, t, IntInputs::ToFloat, {}, true);
}

// d = sigmoid(beta x), or 1 where beta x > threshold (the linear part)
Tensor softplus(const Tensor& t, double beta, double threshold) {
    return activation("softplus", UnaryOp::Softplus, UnaryGradOp::Softplus, t, IntInputs::ToFloat,
                      {.beta = beta, .threshold = threshold});
}

// d = 0 for x < -3, 1 for x > 3, (2x + 3)/6 between
Tensor hardswish(const Tensor& t) {
    return activation("hardswish", UnaryOp::Hardswish, UnaryGradOp::Hardswish, t, IntInputs::ToFloat);
}

const Tensor& relu_(const Tensor& t) {
    return detail::unary_inplace("relu_", UnaryOp::Relu, t, IntInputs::Keep, {},
                                 [](const Tensor& s) { return relu(s); });
}
const Tensor& relu6_(const Tensor& t) {
    return detail::unary_inplace("relu6_", UnaryOp::Relu6, t, IntInputs::Keep, {},
                                 [](const Tensor& s) { return relu6(s); });
}
const Tensor& leaky_relu_(const Tensor& t, double negative_slope) {
    return detail::unary_inplace("leaky_relu_", UnaryOp::LeakyRelu, t, IntInputs::ToFloat, {.slope = negative_slope},
                                 [negative_slope](const Tensor& s) { return leaky_relu(s, negative_slope); });
}
const Tensor& gelu_(const Tensor& t, GeluApproximation approximate) {
    return detail::unary_inplace("gelu_", gelu_op(approximate), t, IntInputs::ToFloat, {},
                                 [approximate](const Tensor& s) { return gelu(s, approximate); });
}
const Tensor& silu_(const Tensor& t) {
    return detail::unary_inplace("silu_", UnaryOp::Silu, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return silu(s); });
}
const Tensor& sigmoid_(const Tensor& t) {
    return detail::unary_inplace("sigmoid_", UnaryOp::Sigmoid, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return sigmoid(s); });
}
const Tensor& tanh_(const Tensor& t) {
    return detail::unary_inplace("tanh_", UnaryOp::Tanh, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return tanh(s); });
}
const Tensor& softplus_(const Tensor& t, double beta, double threshold) {
    return detail::unary_inplace("softplus_", UnaryOp::Softplus, t, IntInputs::ToFloat,
                                 {.beta = beta, .threshold = threshold},
                                 [beta, threshold](const Tensor& s) { return softplus(s, beta, threshold); });
}
const Tensor& hardswish_(const Tensor& t) {
    return detail::unary_inplace("hardswish_", UnaryOp::Hardswish, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return hardswish(s); });
}

}  // namespace graft
