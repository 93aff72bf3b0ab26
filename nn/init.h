// Parameter initialisation, as torch.nn.init: Kaiming (He), Xavier (Glorot),
// normal, uniform, truncated normal, constants, and the fan and gain rules they
// rest on (_calculate_fan_in_and_fan_out, calculate_gain).
//
// Every function fills a tensor in place and returns it. They run under
// NoGradGuard, so parameters that require grad can be filled, and record no
// history. Random ones draw from `gen`, or from graft::default_generator()
// when gen is null: the statistics equal torch's, the exact values do not
// (Graft's generator is Philox, torch's CPU one is a Mersenne twister).
//
//   nn::init::kaiming_normal_(conv->weight, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU);
//   nn::init::trunc_normal_(pos_embed, 0.0, 0.02);
#pragma once

#include <cstdint>
#include <optional>

#include "core/ops/random.h"
#include "core/tensor.h"

namespace graft::nn::init {

// The nonlinearities calculate_gain knows, named as torch spells them
// ("linear", "conv2d", "relu", "leaky_relu", ...).
enum class Nonlinearity {
    Linear, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
    Sigmoid, Tanh, ReLU, LeakyReLU, SELU,
};
// Which fan Kaiming init preserves: fan_in keeps the forward pass's variance,
// fan_out the backward pass's.
enum class FanMode { FanIn, FanOut };

struct Fans {
    int64_t fan_in;
    int64_t fan_out;
};

// torch.nn.init.calculate_gain: 1 for linear, conv and sigmoid; 5/3 for tanh;
// sqrt(2) for relu; sqrt(2 / (1 + slope^2)) for leaky_relu (slope = param,
// 0.01 when absent); 3/4 for selu.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);
// torch.nn.init._calculate_fan_in_and_fan_out: for a weight [out, in, k...],
// fan_in = in * prod(k), fan_out = out * prod(k). Throws for fewer than 2 dims.
Fans calculate_fan_in_and_fan_out(const Tensor& t);
// The fan `mode` picks.
int64_t calculate_correct_fan(const Tensor& t, FanMode mode);

// U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
const Tensor& kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                               Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
// N(0, std^2) with std = gain / sqrt(fan).
const Tensor& kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                              Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
const Tensor& xavier_uniform_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
const Tensor& xavier_normal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);

const Tensor& uniform_(const Tensor& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
const Tensor& normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
// N(mean, std^2) restricted to [a, b], by torch's inverse-CDF method: u drawn
// from U(2 Phi(alpha) - 1, 2 Phi(beta) - 1), then mean + std sqrt(2) erfinv(u),
// clamped to [a, b] (alpha, beta = (a - mean) / std, (b - mean) / std).
const Tensor& trunc_normal_(const Tensor& t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0,
                            Generator* gen = nullptr);

const Tensor& zeros_(const Tensor& t);
const Tensor& ones_(const Tensor& t);
const Tensor& constant_(const Tensor& t, double value);

// The inverse error function on (-1, 1) (+-inf at +-1), to double precision:
// what trunc_normal_ applies to each draw.
double erfinv(double y);

}  // namespace graft::nn::init
