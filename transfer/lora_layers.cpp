// LoRA layers (see lora_layers.h): construction, the forward hook, merging.
#include "transfer/lora_layers.h"

#include <cmath>
#include <cstdio>

#include "core/autograd/grad_mode.h"
#include "core/ops/matmul.h"
#include "nn/init.h"

namespace graft::transfer {

namespace {

void check_config(const char* op, const LoraConfig& c) {
    check(c.rank >= 1, op, "rank must be at least 1, got ", c.rank);
    check(std::isfinite(c.alpha), op, "alpha must be a finite number, got ", c.alpha);
    check(c.dropout >= 0.0 && c.dropout < 1.0, op, "dropout must be in [0, 1), got ", c.dropout);
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    return buf;
}

}  // namespace

LoraLayer::LoraLayer(std::string type_name, std::shared_ptr<nn::Module> base, const LoraConfig& config)
    : Module(std::move(type_name)), rank_(config.rank), alpha_(config.alpha) {
    check_config(this->type_name().c_str(), config);
    check(base != nullptr, this->type_name().c_str(), "the base layer is null");
    base_layer = std::move(base);
}

LoraLayer::~LoraLayer() { detach_hook(); }

void LoraLayer::detach_hook() {
    if (hook_ != 0 && base_layer) base_layer->remove_hook(hook_);
    hook_ = 0;
}

void LoraLayer::finish(std::shared_ptr<nn::Module> a, std::shared_ptr<nn::Module> b, double dropout) {
    const Tensor w = base_weight();
    // PEFT's child order: base_layer, lora_dropout, lora_A, lora_B.
    register_module("base_layer", base_layer);
    lora_dropout = register_module("lora_dropout", std::make_shared<nn::Dropout>(dropout));
    lora_A = register_module("lora_A", std::move(a));
    lora_B = register_module("lora_B", std::move(b));
    for (auto& [name, p] : base_layer->named_parameters()) p.requires_grad_(false);
    // A and B live where the base does, in its dtype (the update is added to its output).
    for (auto* m : {lora_A.get(), lora_B.get()}) {
        if (m->parameters()[0].device() != w.device()) m->to(w.device());
        if (m->parameters()[0].dtype() != w.dtype()) m->to(w.dtype());
    }
    train(base_layer->is_training());
}

Tensor LoraLayer::forward(const Tensor& x) { return (*base_layer)(x); }

Tensor LoraLayer::update(const Tensor& x) {
    const Tensor dropped = lora_dropout->p > 0.0 ? (*lora_dropout)(x) : x;
    return (*lora_B)((*lora_A)(dropped)) * scaling();
}

Tensor LoraLayer::weight_A() const { return lora_A->tensor("weight"); }
Tensor LoraLayer::weight_B() const { return lora_B->tensor("weight"); }

std::string LoraLayer::extra_repr() const {
    return cat_str("r=", rank_, ", alpha=", number(alpha_), ", scaling=", number(scaling()),
                   ", merged=", merged_ ? "True" : "False");
}

void LoraLayer::merge() {
    check(!merged_, type_name().c_str(), "merge: the adapter is merged already");
    NoGradGuard no_grad;
    base_weight().add_(delta_weight());
    merged_ = true;
}

void LoraLayer::unmerge() {
    check(merged_, type_name().c_str(), "unmerge: the adapter is not merged");
    NoGradGuard no_grad;
    base_weight().sub_(delta_weight());
    merged_ = false;
}

void LoraLayer::set_alpha(double alpha) {
    check(!merged_, type_name().c_str(), "cannot change alpha while merged (unmerge first)");
    check(std::isfinite(alpha), type_name().c_str(), "alpha must be a finite number, got ", alpha);
    alpha_ = alpha;
}

// The hook that makes a call of the base layer include the update. It holds the
// wrapper weakly: the wrapper owns the base layer, so a strong reference would be a cycle.
void attach_lora_hook(const std::shared_ptr<LoraLayer>& layer) {
    std::weak_ptr<LoraLayer> weak = layer;
    layer->hook_ = layer->base_layer->register_forward_hook(
        [weak](nn::Module&, const Tensor& input, const Tensor& output) -> Tensor {
            auto self = weak.lock();
            if (!self || self->merged()) return Tensor();  // keep the base's output
            return output + self->update(input);
        });
}

// ---- Linear -------------------------------------------------------------------------

LoraLinear::LoraLinear(Key, std::shared_ptr<nn::Linear> base_, const LoraConfig& config, Generator* gen)
    : LoraLayer("LoraLinear", base_, config), base(std::move(base_)) {
    auto a = std::make_shared<nn::Linear>(base->in_features, config.rank, false);   // [r, in]
    auto b = std::make_shared<nn::Linear>(config.rank, base->out_features, false);  // [out, r]
    nn::init::kaiming_uniform_(a->weight, std::sqrt(5.0), nn::init::FanMode::FanIn,
                               nn::init::Nonlinearity::LeakyReLU, gen);
    nn::init::zeros_(b->weight);
    finish(a, b, config.dropout);
}

Tensor LoraLinear::delta_weight() const {
    NoGradGuard no_grad;
    return matmul(weight_B(), weight_A()) * scaling();  // [out, r]·[r, in] -> [out, in]
}

// ---- Conv2d -------------------------------------------------------------------------

LoraConv2d::LoraConv2d(Key, std::shared_ptr<nn::Conv2d> base_, const LoraConfig& config, Generator* gen)
    : LoraLayer("LoraConv2d", base_, config), base(std::move(base_)) {
    check(base->options.groups == 1, "LoraConv2d", "grouped convolutions (groups=", base->options.groups,
          ") are not supported: ", base->extra_repr());
    nn::Conv2dOptions a_options = base->options;
    a_options.bias = false;
    // kernel, stride, padding and dilation of the base; kaiming_uniform_(a = sqrt(5)) is Conv2d's own init
    auto a = std::make_shared<nn::Conv2d>(base->in_channels, config.rank, base->kernel_size, a_options, gen);
    auto b = std::make_shared<nn::Conv2d>(config.rank, base->out_channels, nn::Size2d(1, 1),
                                          nn::Conv2dOptions{.bias = false}, gen);
    nn::init::zeros_(b->weight);
    finish(a, b, config.dropout);
}

Tensor LoraConv2d::delta_weight() const {
    NoGradGuard no_grad;
    const Tensor a = weight_A(), b = weight_B();              // [r, in, kH, kW], [out, r, 1, 1]
    const Tensor d = matmul(b.reshape({b.size(0), b.size(1)}),  // [out, r]·[r, in·kH·kW]
                            a.reshape({a.size(0), -1}));
    return d.reshape(base_weight().shape()) * scaling();
}

std::shared_ptr<LoraLinear> make_lora_linear(std::shared_ptr<nn::Linear> base, const LoraConfig& config,
                                             Generator* gen) {
    auto layer = std::make_shared<LoraLinear>(LoraLayer::Key(), std::move(base), config, gen);
    attach_lora_hook(layer);
    return layer;
}

std::shared_ptr<LoraConv2d> make_lora_conv2d(std::shared_ptr<nn::Conv2d> base, const LoraConfig& config,
                                             Generator* gen) {
    auto layer = std::make_shared<LoraConv2d>(LoraLayer::Key(), std::move(base), config, gen);
    attach_lora_hook(layer);
    return layer;
}

}  // namespace graft::transfer
