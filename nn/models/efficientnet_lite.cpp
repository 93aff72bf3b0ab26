// EfficientNet-Lite0, built in the port's order with its static TF SAME padding
// (see efficientnet_lite.h).
#include "nn/models/efficientnet_lite.h"

#include <algorithm>

#include "core/autograd/grad_mode.h"
#include "core/ops/activation.h"
#include "core/ops/views.h"

namespace graft::nn::models {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

BatchNormOptions tf_bn(double momentum) { return {.eps = 1e-3, .momentum = momentum}; }

std::shared_ptr<Conv2d> same_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                  int64_t image_size, Generator* gen) {
    return std::make_shared<Conv2d>(in, out, kernel,
                                    Conv2dOptions{.stride = stride,
                                                  .padding = tf_same_padding(image_size, kernel, stride),
                                                  .groups = groups,
                                                  .bias = false},
                                    gen);
}

}  // namespace

Padding2d tf_same_padding(int64_t size, int64_t kernel, int64_t stride) {
    const int64_t out = ceil_div(size, stride);
    const int64_t pad = std::max<int64_t>((out - 1) * stride + kernel - size, 0);
    return Padding2d{pad / 2, pad - pad / 2, pad / 2, pad - pad / 2};
}

MBConvBlock::MBConvBlock(int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t expand_ratio,
                         int64_t image_size, double drop_connect_rate_, Generator* gen_, double bn_momentum)
    : Module("MBConvBlock"),
      stride(stride_),
      has_skip(stride_ == 1 && in == out),
      drop_connect_rate(drop_connect_rate_),
      gen(gen_) {
    check(in > 0 && out > 0 && expand_ratio > 0 && kernel > 0 && stride > 0, "MBConvBlock",
          "channels, kernel, stride and expand ratio must be positive, got in ", in, ", out ", out, ", kernel ", kernel,
          ", stride ", stride, ", expand ", expand_ratio);
    check(drop_connect_rate >= 0 && drop_connect_rate < 1, "MBConvBlock", "drop_connect_rate must be in [0, 1), got ",
          drop_connect_rate);
    const int64_t hidden = in * expand_ratio;
    if (expand_ratio != 1) {
        _expand_conv = register_module("_expand_conv", same_conv(in, hidden, 1, 1, 1, image_size, gen));
        _bn0 = register_module("_bn0", std::make_shared<BatchNorm2d>(hidden, tf_bn(bn_momentum)));
    }
    _depthwise_conv = register_module("_depthwise_conv", same_conv(hidden, hidden, kernel, stride, hidden, image_size, gen));
    _bn1 = register_module("_bn1", std::make_shared<BatchNorm2d>(hidden, tf_bn(bn_momentum)));
    _project_conv = register_module("_project_conv", same_conv(hidden, out, 1, 1, 1, ceil_div(image_size, stride), gen));
    _bn2 = register_module("_bn2", std::make_shared<BatchNorm2d>(out, tf_bn(bn_momentum)));
}

Tensor MBConvBlock::forward(const Tensor& x) {
    Tensor h = x;
    if (_expand_conv) h = relu6_((*_bn0)((*_expand_conv)(h)));
    h = relu6_((*_bn1)((*_depthwise_conv)(h)));
    h = (*_bn2)((*_project_conv)(h));
    if (!has_skip) return h;
    if (is_training() && drop_connect_rate > 0) {
        // Stochastic depth, per sample: keep the branch with probability 1 - p,
        // scaled by 1 / (1 - p), as the port's drop_connect.
        const double keep = 1.0 - drop_connect_rate;
        Tensor mask = bernoulli(Shape{h.size(0), 1, 1, 1}, keep, h.dtype(), gen);
        if (h.device() != mask.device()) mask = mask.to(h.device());
        h = h * (mask * (1.0 / keep));
    }
    return h.add_(x);
}

EfficientNetLite::EfficientNetLite(const EfficientNetLiteOptions& options_)
    : Module("EfficientNet"), options(options_) {
    check(options.num_classes > 0, "EfficientNetLite", "num_classes must be positive, got ", options.num_classes);
    check(options.image_size > 0, "EfficientNetLite", "image_size must be positive, got ", options.image_size);
    check(options.dropout >= 0 && options.dropout < 1, "EfficientNetLite", "dropout must be in [0, 1), got ",
          options.dropout);
    Generator* gen = options.gen;
    int64_t size = options.image_size;
    _conv_stem = register_module("_conv_stem", same_conv(3, 32, 3, 2, 1, size, gen));
    _bn0 = register_module("_bn0", std::make_shared<BatchNorm2d>(32, tf_bn(options.bn_momentum)));
    size = ceil_div(size, 2);

    struct Stage { int64_t repeats, kernel, stride, expand, in, out; };
    const Stage stages[] = {{1, 3, 1, 1, 32, 16},   {2, 3, 2, 6, 16, 24},   {2, 5, 2, 6, 24, 40},
                            {3, 3, 2, 6, 40, 80},   {3, 5, 1, 6, 80, 112},  {4, 5, 2, 6, 112, 192},
                            {1, 3, 1, 6, 192, 320}};
    int64_t total = 0;
    for (const Stage& st : stages) total += st.repeats;
    _blocks = register_module("_blocks", std::make_shared<ModuleList>());
    int64_t index = 0;
    for (const Stage& st : stages) {
        for (int64_t r = 0; r < st.repeats; ++r, ++index) {
            const int64_t stride = r == 0 ? st.stride : 1;
            const double rate = options.drop_connect_rate * double(index) / double(total);
            _blocks->push_back(std::make_shared<MBConvBlock>(r == 0 ? st.in : st.out, st.out, st.kernel, stride,
                                                             st.expand, size, rate, gen, options.bn_momentum));
            size = ceil_div(size, stride);
        }
    }
    _conv_head = register_module("_conv_head", same_conv(320, 1280, 1, 1, 1, size, gen));
    _bn1 = register_module("_bn1", std::make_shared<BatchNorm2d>(1280, tf_bn(options.bn_momentum)));
    _dropout = register_module("_dropout", std::make_shared<Dropout>(options.dropout));
    _fc = register_module("_fc", std::make_shared<Linear>(1280, options.num_classes));
    _dropout->generator = gen;  // dropout masks from the same generator as drop connect
}

Tensor EfficientNetLite::stem(const Tensor& x) {
    check(x.dim() == 4 && x.size(1) == 3, "EfficientNetLite", "expects input [N, 3, H, W], got ", describe(x));
    return relu6_(run_child(*this, "_bn0", run_child(*this, "_conv_stem", x)));
}

Tensor EfficientNetLite::head_conv(const Tensor& h) {
    return relu6_(run_child(*this, "_bn1", run_child(*this, "_conv_head", h)));
}

Tensor EfficientNetLite::extract_features(const Tensor& x) {
    Tensor h = stem(x);
    const auto blocks = submodule("_blocks")->named_children();
    for (auto& [name, block] : blocks) h = (*block)(h);
    return head_conv(h);
}

Tensor EfficientNetLite::forward(const Tensor& x) {
    Tensor h = extract_features(x).mean({2, 3});  // adaptive average pool to 1x1, flattened
    return run_child(*this, "_fc", run_child(*this, "_dropout", h));
}

std::vector<Stage> EfficientNetLite::stages() {
    std::vector<Stage> out;
    out.push_back({"stem", {"_conv_stem", "_bn0"}, [this](const Tensor& x) { return stem(x); }});
    for (auto& [name, block] : submodule("_blocks")->named_children()) {
        const std::string path = "_blocks." + name;
        out.push_back({path, {path}, [this, path](const Tensor& h) { return (*submodule(path))(h); }});
    }
    out.push_back({"head", {"_conv_head", "_bn1"}, [this](const Tensor& h) { return head_conv(h).mean({2, 3}); }});
    for (const char* name : {"_dropout", "_fc"})
        out.push_back({name, {name}, [this, n = std::string(name)](const Tensor& h) { return run_child(*this, n, h); }});
    return out;
}

void EfficientNetLite::children_replaced() {
    _conv_stem = std::dynamic_pointer_cast<Conv2d>(submodule("_conv_stem"));
    _bn0 = std::dynamic_pointer_cast<BatchNorm2d>(submodule("_bn0"));
    _blocks = std::dynamic_pointer_cast<ModuleList>(submodule("_blocks"));
    _conv_head = std::dynamic_pointer_cast<Conv2d>(submodule("_conv_head"));
    _bn1 = std::dynamic_pointer_cast<BatchNorm2d>(submodule("_bn1"));
    _dropout = std::dynamic_pointer_cast<Dropout>(submodule("_dropout"));
    _fc = std::dynamic_pointer_cast<Linear>(submodule("_fc"));
}

std::shared_ptr<EfficientNetLite> efficientnet_lite0(const EfficientNetLiteOptions& options) {
    return std::make_shared<EfficientNetLite>(options);
}

}  // namespace graft::nn::models
