// MobileNetV2, built child by child in torchvision's order (see mobilenet_v2.h).
#include "nn/models/mobilenet_v2.h"

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/ops/views.h"
#include "nn/init.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/dropout.h"
#include "nn/layers/norm.h"
#include "nn/layers/pooling.h"

namespace graft::nn::models {

namespace {

// torchvision's _make_divisible: the nearest multiple of `divisor`, never more
// than 10% below v (the rule of the TF original).
int64_t make_divisible(double v, int64_t divisor = 8) {
    int64_t rounded = std::max<int64_t>(divisor, int64_t(v + divisor / 2.0) / divisor * divisor);
    if (double(rounded) < 0.9 * v) rounded += divisor;
    return rounded;
}

// torchvision's Conv2dNormActivation: conv (bias-free, "same" padding for odd
// kernels), BatchNorm2d, ReLU6, as children "0", "1", "2".
std::shared_ptr<Sequential> conv_bn_relu6(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                          Generator* gen) {
    return sequential({std::make_shared<Conv2d>(
                           in, out, kernel,
                           Conv2dOptions{.stride = stride, .padding = (kernel - 1) / 2, .groups = groups, .bias = false},
                           gen),
                       std::make_shared<BatchNorm2d>(out), std::make_shared<ReLU6>()});
}

}  // namespace

InvertedResidual::InvertedResidual(int64_t inp, int64_t oup, int64_t stride_, int64_t expand_ratio, Generator* gen)
    : Module("InvertedResidual"), stride(stride_), use_res_connect(stride_ == 1 && inp == oup) {
    check(stride == 1 || stride == 2, "InvertedResidual", "stride must be 1 or 2, got ", stride);
    check(inp > 0 && oup > 0 && expand_ratio > 0, "InvertedResidual", "channels and expand ratio must be positive, got ",
          inp, ", ", oup, ", ", expand_ratio);
    const int64_t hidden = inp * expand_ratio;
    conv = std::make_shared<Sequential>();
    if (expand_ratio != 1) conv->push_back(conv_bn_relu6(inp, hidden, 1, 1, 1, gen));
    conv->push_back(conv_bn_relu6(hidden, hidden, 3, stride, hidden, gen));
    conv->push_back(std::make_shared<Conv2d>(hidden, oup, 1, Conv2dOptions{.bias = false}, gen));
    conv->push_back(std::make_shared<BatchNorm2d>(oup));
    register_module("conv", conv);
}

Tensor InvertedResidual::forward(const Tensor& x) {
    Tensor out = (*conv)(x);
    if (use_res_connect) out.add_(x);  // the block's own fresh output; BN backward does not read it
    return out;
}

MobileNetV2::MobileNetV2(const MobileNetV2Options& options_) : Module("MobileNetV2"), options(options_) {
    check(options.num_classes > 0, "MobileNetV2", "num_classes must be positive, got ", options.num_classes);
    check(options.width_mult > 0, "MobileNetV2", "width_mult must be positive, got ", options.width_mult);
    check(options.dropout >= 0 && options.dropout < 1, "MobileNetV2", "dropout must be in [0, 1), got ",
          options.dropout);
    Generator* gen = options.gen;
    struct Stage { int64_t t, c, n, s; };
    const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                            {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int64_t input_channel = make_divisible(32 * options.width_mult);
    last_channel = make_divisible(1280 * std::max(1.0, options.width_mult));

    features = std::make_shared<Sequential>();
    features->push_back(conv_bn_relu6(3, input_channel, 3, 2, 1, gen));
    for (const Stage& st : stages) {
        const int64_t out = make_divisible(double(st.c) * options.width_mult);
        for (int64_t i = 0; i < st.n; ++i) {
            features->push_back(std::make_shared<InvertedResidual>(input_channel, out, i == 0 ? st.s : 1, st.t, gen));
            input_channel = out;
        }
    }
    features->push_back(conv_bn_relu6(input_channel, last_channel, 1, 1, 1, gen));
    register_module("features", features);
    classifier = register_module("classifier", sequential({std::make_shared<Dropout>(options.dropout),
                                                           std::make_shared<Linear>(last_channel, options.num_classes)}));

    // torchvision's init loop.
    NoGradGuard no_grad;
    apply([gen](Module& m) {
        if (auto* c = dynamic_cast<Conv2d*>(&m)) {
            init::kaiming_normal_(c->weight, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU, gen);
            if (c->bias.defined()) c->bias.zero_();
        } else if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
            bn->reset_parameters();
        } else if (auto* fc = dynamic_cast<Linear*>(&m)) {
            normal_(fc->weight, 0.0, 0.01, gen);
            fc->bias.zero_();
        }
    });
}

void MobileNetV2::check_input(const Tensor& x) const {
    check(x.dim() == 4 && x.size(1) == 3, "MobileNetV2", "expects input [N, 3, H, W], got ", describe(x));
}

namespace {
// Global average pool to 1x1, flattened: [N, C, H, W] -> [N, C].
Tensor global_pool(const Tensor& h) { return flatten(h.mean({2, 3}), 1); }
}  // namespace

Tensor MobileNetV2::features_pooled(const Tensor& x) {
    check_input(x);
    return global_pool(run_child(*this, "features", x));
}

Tensor MobileNetV2::forward(const Tensor& x) { return run_child(*this, "classifier", features_pooled(x)); }

std::vector<Stage> MobileNetV2::stages() {
    std::vector<Stage> out;
    // One stage per child of features, run by path: a Sequential runs exactly
    // these children in this order, so the chain equals (*features)(x).
    const auto blocks = submodule("features")->named_children();
    for (size_t i = 0; i < blocks.size(); ++i) {
        const std::string path = "features." + blocks[i].first;
        out.push_back({path, {path}, [this, path, first = i == 0](const Tensor& h) {
                           if (first) check_input(h);
                           return (*submodule(path))(h);
                       }});
    }
    out.push_back({"pool", {}, [](const Tensor& h) { return global_pool(h); }});
    out.push_back({"classifier", {"classifier"}, [this](const Tensor& h) { return run_child(*this, "classifier", h); }});
    return out;
}

void MobileNetV2::children_replaced() {
    features = std::dynamic_pointer_cast<Sequential>(submodule("features"));
    classifier = std::dynamic_pointer_cast<Sequential>(submodule("classifier"));
}

std::shared_ptr<MobileNetV2> mobilenet_v2(const MobileNetV2Options& options) {
    return std::make_shared<MobileNetV2>(options);
}

}  // namespace graft::nn::models
