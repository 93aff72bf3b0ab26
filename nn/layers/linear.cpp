// Linear and its functional form linear().
#include "nn/layers/linear.h"

#include <cmath>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/creation.h"
#include "core/ops/matmul.h"
#include "nn/init.h"

namespace graft::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : Module("Linear"), in_features(in_features), out_features(out_features) {
    check(in_features >= 0 && out_features >= 0, "Linear", "feature counts must be non-negative, got in_features=",
          in_features, ", out_features=", out_features);
    weight = register_parameter("weight", empty({out_features, in_features}));  // [out, in]
    if (bias) this->bias = register_parameter("bias", empty({out_features}));   // [out]
    reset_parameters();
}

void Linear::reset_parameters(Generator* gen) {
    // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen);
    if (!bias.defined()) return;
    const double bound = in_features > 0 ? 1.0 / std::sqrt(double(in_features)) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
    return cat_str("in_features=", in_features, ", out_features=", out_features,
                   ", bias=", bias.defined() ? "True" : "False");
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    check(weight.dim() == 2, "linear", "expected a 2-d weight [out, in], got ", describe(weight));
    check(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear", "input ", describe(x),
          " does not end in in_features=", weight.size(1), " (weight ", describe(weight), ")");
    check(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), "linear", "bias ",
          describe(bias), " does not match weight ", describe(weight));
    // [..., in] -> [rows, in]: one GEMM with the transposed weight view
    const Tensor x2 = x.dim() == 2 ? x : x.reshape({-1, x.size(-1)});  // a 1-d x is one row
    // [rows, out]; the bias rides in the GEMM's epilogue (no pass of its own)
    Tensor y = bias.defined() ? addmm(bias, x2, weight.t()) : matmul(x2, weight.t());
    if (x.dim() == 2) return y;
    Shape shape = x.shape();
    shape.back() = weight.size(0);
    return y.view(shape);
}

}  // namespace graft::nn
