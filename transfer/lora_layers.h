// LoRA layers: a frozen Linear or Conv2d plus a trainable low-rank update, as
// PEFT's LoraLayer (Hu et al., "LoRA: Low-Rank Adaptation of Large Language
// Models", 2021).
//
//   y = base(x) + lora_B(lora_A(dropout(x))) * scaling,   scaling = alpha / r
//
// Linear  [out, in]:  lora_A = Linear(in, r, no bias), lora_B = Linear(r, out, no bias)
// Conv2d  [out, in, kH, kW]: lora_A = Conv2d(in, r, kH x kW) with the base's stride,
//         padding and dilation, no bias; lora_B = Conv2d(r, out, 1 x 1), no bias
//
// lora_A starts as kaiming_uniform_(a = sqrt(5)) (PEFT's choice, torch's default
// Linear/Conv2d init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))), lora_B as zeros, so a
// freshly wrapped model computes exactly what the base did; only B's gradient is
// non-zero at the first step. The base's weight and bias get requires_grad off.
//
// Merging folds the update into the base weight, so inference pays nothing:
//   Linear: W += (B A) * scaling                              [out, r]·[r, in]
//   Conv2d: W[o, i, :, :] += sum_r B[o, r] A[r, i, :, :] * scaling
// The conv form is exact because B is 1x1: conv_B(conv_A(x)) is one convolution
// with kernel B·A at A's stride, padding and dilation (those of the base).
// merge() marks the layer so forward does not add the update twice; unmerge()
// subtracts the same delta (float rounding aside, the weight comes back).
//
// Tree and names: the wrapper holds "base_layer", "lora_dropout", "lora_A",
// "lora_B" (PEFT's names without its adapter-name level), so a wrapped BERT shows
// "...attention.self.query.base_layer.weight" and "...query.lora_A.weight".
//
// How forward reaches the adapter: models keep typed pointers to their layers
// (BertSelfAttention::query is a shared_ptr<Linear>) and call them directly, so
// swapping the registry entry alone would never run the wrapper. The wrapper
// therefore installs a forward hook on its base layer that adds the update to
// the base's output; a call through the parent's old pointer and a call of the
// wrapper itself (Sequential, user code) both give base(x) + update. The hook
// holds the wrapper weakly and is removed when the wrapper dies. Hooks (Taps)
// put on "<path>.base_layer" afterwards see the output with the update; hooks on
// "<path>" itself fire only when something calls the wrapper, which typed
// parents never do.
//
// Not handled: grouped convolutions (PEFT's newer grouped lora_B), several named
// adapters per layer, DoRA / rsLoRA variants, a trainable lora bias.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/ops/random.h"
#include "nn/layers/conv.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"
#include "nn/module.h"

namespace graft::transfer {

struct LoraConfig {
    int64_t rank = 8;
    double alpha = 16;
    double dropout = 0.0;
};

class LoraLinear;
class LoraConv2d;
// Builds the wrapper and hooks it into `base` (whose forward now includes the
// update). Errors: rank < 1, dropout outside [0, 1), a non-finite alpha.
std::shared_ptr<LoraLinear> make_lora_linear(std::shared_ptr<nn::Linear> base, const LoraConfig& config,
                                             Generator* gen = nullptr);
std::shared_ptr<LoraConv2d> make_lora_conv2d(std::shared_ptr<nn::Conv2d> base, const LoraConfig& config,
                                             Generator* gen = nullptr);

// What LoraLinear and LoraConv2d share: the children, scaling, the hook, merging.
class LoraLayer : public nn::Module {
public:
    // Only make_lora_linear / make_lora_conv2d can build one: a layer made without
    // its hook would leave calls of the base layer without the update.
    class Key {
        Key() = default;
        friend std::shared_ptr<LoraLinear> make_lora_linear(std::shared_ptr<nn::Linear>, const LoraConfig&, Generator*);
        friend std::shared_ptr<LoraConv2d> make_lora_conv2d(std::shared_ptr<nn::Conv2d>, const LoraConfig&, Generator*);
    };
    ~LoraLayer() override;

    // (*base_layer)(x): the base's forward hook adds the update (unless merged).
    Tensor forward(const Tensor& x) override;
    // "r=8, alpha=16, scaling=2, merged=False"
    std::string extra_repr() const override;

    // lora_B(lora_A(dropout(x))) * scaling: the update alone, as recorded by autograd.
    Tensor update(const Tensor& x);
    // The weight-shaped delta the update equals: (B A) * scaling, reshaped like the base weight.
    virtual Tensor delta_weight() const = 0;
    // The base weight, [out, in] or [out, in, kH, kW].
    virtual Tensor base_weight() const = 0;
    // Adds delta_weight() into the base weight (no autograd). Error if merged already.
    void merge();
    // Subtracts it again. Error if not merged.
    void unmerge();
    bool merged() const { return merged_; }
    // Removes the hook from the base layer: from then on the base computes only
    // base(x), whatever this wrapper's state (unload_lora calls it).
    void detach_hook();

    int64_t rank() const { return rank_; }
    double alpha() const { return alpha_; }
    double scaling() const { return alpha_ / double(rank_); }
    // A new alpha (load_lora adopts a saved adapter's). Error while merged.
    void set_alpha(double alpha);

    std::shared_ptr<nn::Module> base_layer;
    std::shared_ptr<nn::Dropout> lora_dropout;
    std::shared_ptr<nn::Module> lora_A;
    std::shared_ptr<nn::Module> lora_B;
    // The adapter's weights: lora_A's and lora_B's "weight".
    Tensor weight_A() const;
    Tensor weight_B() const;

protected:
    LoraLayer(std::string type_name, std::shared_ptr<nn::Module> base, const LoraConfig& config);
    // Registers the children (in PEFT's order), freezes the base, matches dtype,
    // device and training mode. Subclass constructors call it once A and B exist.
    void finish(std::shared_ptr<nn::Module> a, std::shared_ptr<nn::Module> b, double dropout);

private:
    friend void attach_lora_hook(const std::shared_ptr<LoraLayer>& layer);
    const int64_t rank_;
    double alpha_;
    bool merged_ = false;
    size_t hook_ = 0;  // on base_layer; 0 = none
};

class LoraLinear : public LoraLayer {
public:
    LoraLinear(Key, std::shared_ptr<nn::Linear> base, const LoraConfig& config, Generator* gen);
    Tensor delta_weight() const override;
    Tensor base_weight() const override { return base->weight; }
    std::shared_ptr<nn::Linear> base;
};

class LoraConv2d : public LoraLayer {
public:
    // Error for groups != 1.
    LoraConv2d(Key, std::shared_ptr<nn::Conv2d> base, const LoraConfig& config, Generator* gen);
    Tensor delta_weight() const override;
    Tensor base_weight() const override { return base->weight; }
    std::shared_ptr<nn::Conv2d> base;
};


}  // namespace graft::transfer
