// torch.nn.init's rules in C++. The random fills delegate to core's draws
// (core/ops/random.h); trunc_normal_ maps uniform draws through erfinv on the
// host in double precision, then copies into the tensor.
#include "nn/init.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/ops/creation.h"

namespace graft::nn::init {

namespace {

double norm_cdf(double x) { return (1.0 + std::erf(x / std::numbers::sqrt2)) / 2.0; }

// Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): about
// single precision; erfinv() refines it with Newton steps.
double erfinv_estimate(double y) {
    double w = -std::log((1.0 - y) * (1.0 + y)), p;
    if (w < 5.0) {
        w -= 2.5;
        p = 2.81022636e-08;
        for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                         -0.00417768164, 0.246640727, 1.50140941})
            p = c + p * w;
    } else {
        w = std::sqrt(w) - 3.0;
        p = -0.000200214257;
        for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                         0.00943887047, 1.00167406, 2.83297682})
            p = c + p * w;
    }
    return p * y;
}

void check_floating(const Tensor& t, const char* op) {
    check(t.defined(), op, "the tensor is undefined");
    check(is_floating(t.dtype()), op, "expected a floating-point tensor, got ", describe(t));
}

}  // namespace

double erfinv(double y) {
    if (std::isnan(y) || y < -1.0 || y > 1.0) return std::nan("");
    if (y == 1.0) return INFINITY;
    if (y == -1.0) return -INFINITY;
    const double ay = std::fabs(y), t = 1.0 - ay;  // t = erfc(x), exact in the tail
    double x = std::min(erfinv_estimate(ay), 6.0);  // erfc(6) ~ 2e-17 is below any t > 0 in double
    const double two_over_sqrt_pi = 2.0 / std::sqrt(std::numbers::pi);
    for (int step = 0; step < 4; ++step) {
        if (ay <= 0.9) {  // Newton on erf(x) = y
            x -= (std::erf(x) - ay) / (two_over_sqrt_pi * std::exp(-x * x));
        } else {  // Newton on log erfc(x) = log t: well scaled however small t is
            const double c = std::erfc(x);
            x -= (std::log(c) - std::log(t)) / (-two_over_sqrt_pi * std::exp(-x * x) / c);
        }
    }
    return y < 0 ? -x : x;
}

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
    switch (nonlinearity) {
        case Nonlinearity::Tanh: return 5.0 / 3.0;
        case Nonlinearity::ReLU: return std::numbers::sqrt2;
        case Nonlinearity::LeakyReLU: {
            const double slope = param.value_or(0.01);
            return std::sqrt(2.0 / (1.0 + slope * slope));
        }
        case Nonlinearity::SELU: return 3.0 / 4.0;
        default: return 1.0;  // linear, conv*, conv_transpose*, sigmoid
    }
}

Fans calculate_fan_in_and_fan_out(const Tensor& t) {
    check(t.dim() >= 2, "calculate_fan_in_and_fan_out",
          "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got ", describe(t));
    int64_t receptive_field = 1;
    for (int64_t d = 2; d < t.dim(); ++d) receptive_field *= t.size(d);
    return {t.size(1) * receptive_field, t.size(0) * receptive_field};
}

int64_t calculate_correct_fan(const Tensor& t, FanMode mode) {
    const Fans fans = calculate_fan_in_and_fan_out(t);
    return mode == FanMode::FanIn ? fans.fan_in : fans.fan_out;
}

const Tensor& kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
    check_floating(t, "kaiming_uniform_");
    if (t.numel() == 0) return t;  // torch warns and leaves it
    const double std = calculate_gain(nonlinearity, a) / std::sqrt(double(calculate_correct_fan(t, mode)));
    const double bound = std::sqrt(3.0) * std;
    return init::uniform_(t, -bound, bound, gen);
}

const Tensor& kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
    check_floating(t, "kaiming_normal_");
    if (t.numel() == 0) return t;
    const double std = calculate_gain(nonlinearity, a) / std::sqrt(double(calculate_correct_fan(t, mode)));
    return init::normal_(t, 0.0, std, gen);
}

const Tensor& xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
    check_floating(t, "xavier_uniform_");
    const Fans fans = calculate_fan_in_and_fan_out(t);
    const double std = gain * std::sqrt(2.0 / double(fans.fan_in + fans.fan_out));
    const double a = std::sqrt(3.0) * std;
    return init::uniform_(t, -a, a, gen);
}

const Tensor& xavier_normal_(const Tensor& t, double gain, Generator* gen) {
    check_floating(t, "xavier_normal_");
    const Fans fans = calculate_fan_in_and_fan_out(t);
    return init::normal_(t, 0.0, gain * std::sqrt(2.0 / double(fans.fan_in + fans.fan_out)), gen);
}

const Tensor& uniform_(const Tensor& t, double a, double b, Generator* gen) {
    check_floating(t, "uniform_");
    NoGradGuard no_grad;
    return graft::uniform_(t, a, b, gen);
}

const Tensor& normal_(const Tensor& t, double mean, double std, Generator* gen) {
    check_floating(t, "normal_");
    NoGradGuard no_grad;
    return graft::normal_(t, mean, std, gen);
}

const Tensor& trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator* gen) {
    check_floating(t, "trunc_normal_");
    check(std > 0 && a < b, "trunc_normal_", "expected std > 0 and a < b, got std ", std, ", [", a, ", ", b, "]");
    NoGradGuard no_grad;
    const double lo = norm_cdf((a - mean) / std), hi = norm_cdf((b - mean) / std);
    std::vector<double> values = graft::uniform(t.shape(), 2 * lo - 1, 2 * hi - 1, DType::Float64, gen)
                                     .to_vector<double>();
    for (double& v : values) v = std::clamp(mean + std * std::numbers::sqrt2 * erfinv(v), a, b);
    const Tensor host = from_vector(values, t.shape());
    t.copy_(t.device() == host.device() ? host : host.to(t.device()));
    return t;
}

const Tensor& zeros_(const Tensor& t) { return constant_(t, 0.0); }
const Tensor& ones_(const Tensor& t) { return constant_(t, 1.0); }

const Tensor& constant_(const Tensor& t, double value) {
    check(t.defined(), "constant_", "the tensor is undefined");
    NoGradGuard no_grad;
    return t.fill_(value);
}

}  // namespace graft::nn::init
