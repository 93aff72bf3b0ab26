// Linear: y = x·Wᵀ + b over the last dimension, as torch.nn.Linear.
//
//   auto fc = std::make_shared<nn::Linear>(784, 10);   // weight [10, 784], bias [10]
//   Tensor logits = (*fc)(x);                           // x [..., 784] -> [..., 10]
//
// Parameters "weight" [out_features, in_features] and "bias" [out_features]
// (absent when bias is false, as torch leaves it out of the state_dict).
// Default init as torch: kaiming_uniform_(a = sqrt(5)) on the weight, which is
// U(-1/sqrt(in), 1/sqrt(in)), and the bias from the same range.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops/random.h"
#include "nn/module.h"

namespace graft::nn {

class Linear : public Module {
public:
    Linear(int64_t in_features, int64_t out_features, bool bias = true);

    // x [..., in_features] -> [..., out_features]; a 1-d x gives [out_features].
    Tensor forward(const Tensor& x) override;
    // "in_features=784, out_features=10, bias=True"
    std::string extra_repr() const override;
    // Draws fresh values with torch's default rule (from `gen`, or the default generator).
    void reset_parameters(Generator* gen = nullptr);

    const int64_t in_features;
    const int64_t out_features;
    Tensor weight;  // [out_features, in_features]
    Tensor bias;    // [out_features], undefined without bias
};

// The functional form: x [..., in] · weight[out, in]ᵀ (+ bias [out]).
// Leading dims fold into one GEMM; weight.t() is a transposed view, not a copy.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace graft::nn
