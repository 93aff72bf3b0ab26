// Activation modules: each forward is one op call.
#include "nn/layers/activation.h"

#include <charconv>
#include <cmath>

#include "core/ops/softmax.h"
#include "core/ops/views.h"

namespace graft::nn {

namespace {

GeluApproximation parse_gelu(const std::string& approximate) {
    if (approximate == "none") return GeluApproximation::None;
    if (approximate == "tanh") return GeluApproximation::Tanh;
    throw Error(cat_str("GELU: approximate must be 'none' or 'tanh', got '", approximate, "'"));
}

// torch's defaults are Python ints and print as "beta=1, threshold=20"; other
// values print as the floats a caller would pass ("beta=2.0").
std::string softplus_number(double value, double int_default) {
    return value == int_default ? cat_str(int64_t(int_default)) : python_float(value);
}

}  // namespace

std::string python_float(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    std::string s(buf, end);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor ReLU6::forward(const Tensor& x) { return relu6(x); }
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Hardswish::forward(const Tensor& x) { return hardswish(x); }

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope); }
std::string LeakyReLU::extra_repr() const { return "negative_slope=" + python_float(negative_slope); }

GELU::GELU(const std::string& approximate) : Module("GELU"), approximate(parse_gelu(approximate)) {}
GELU::GELU(GeluApproximation approximate) : Module("GELU"), approximate(approximate) {}
Tensor GELU::forward(const Tensor& x) { return gelu(x, approximate); }
std::string GELU::extra_repr() const {
    return approximate == GeluApproximation::Tanh ? "approximate='tanh'" : "approximate='none'";
}

Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta, threshold); }
std::string Softplus::extra_repr() const {
    return "beta=" + softplus_number(beta, 1.0) + ", threshold=" + softplus_number(threshold, 20.0);
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }
std::string Flatten::extra_repr() const { return cat_str("start_dim=", start_dim, ", end_dim=", end_dim); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
std::string Softmax::extra_repr() const { return cat_str("dim=", dim); }

Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }
std::string LogSoftmax::extra_repr() const { return cat_str("dim=", dim); }

}  // namespace graft::nn
