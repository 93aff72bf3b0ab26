// Activation modules, as torch.nn's: thin Modules over the ops in
// core/ops/activation.h and core/ops/softmax.h, with no parameters, printed as
// PyTorch prints them ("LeakyReLU(negative_slope=0.01)", "GELU(approximate='none')").
// Flatten lives here too: it is the other parameter-free shape step between
// layers. In-place variants (torch's inplace=True) are not offered.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops/activation.h"
#include "nn/module.h"

namespace graft::nn {

class ReLU : public Module {
public:
    ReLU() : Module("ReLU") {}
    Tensor forward(const Tensor& x) override;
};

class ReLU6 : public Module {
public:
    ReLU6() : Module("ReLU6") {}
    Tensor forward(const Tensor& x) override;
};

class LeakyReLU : public Module {
public:
    explicit LeakyReLU(double negative_slope = 0.01) : Module("LeakyReLU"), negative_slope(negative_slope) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const double negative_slope;
};

class GELU : public Module {
public:
    // approximate: "none" (the erf form) or "tanh", as torch.
    explicit GELU(const std::string& approximate = "none");
    explicit GELU(GeluApproximation approximate);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const GeluApproximation approximate;
};

class SiLU : public Module {
public:
    SiLU() : Module("SiLU") {}
    Tensor forward(const Tensor& x) override;
};

class Sigmoid : public Module {
public:
    Sigmoid() : Module("Sigmoid") {}
    Tensor forward(const Tensor& x) override;
};

class Tanh : public Module {
public:
    Tanh() : Module("Tanh") {}
    Tensor forward(const Tensor& x) override;
};

// log(1 + exp(beta x)) / beta, linear where beta x > threshold.
class Softplus : public Module {
public:
    explicit Softplus(double beta = 1.0, double threshold = 20.0)
        : Module("Softplus"), beta(beta), threshold(threshold) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const double beta;
    const double threshold;
};

class Hardswish : public Module {
public:
    Hardswish() : Module("Hardswish") {}
    Tensor forward(const Tensor& x) override;
};

// Returns its input unchanged (the same tensor): a placeholder, e.g. for a removed head.
class Identity : public Module {
public:
    Identity() : Module("Identity") {}
    Tensor forward(const Tensor& x) override { return x; }
};

// Flattens dims start_dim..end_dim into one: [N, C, H, W] -> [N, C*H*W] by default.
class Flatten : public Module {
public:
    explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
        : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const int64_t start_dim;
    const int64_t end_dim;
};

class Softmax : public Module {
public:
    explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const int64_t dim;
};

class LogSoftmax : public Module {
public:
    explicit LogSoftmax(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const int64_t dim;
};

// A double as Python's repr prints a float: shortest round trip, "1.0" not "1".
std::string python_float(double value);

}  // namespace graft::nn
