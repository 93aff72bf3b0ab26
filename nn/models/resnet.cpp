// ResNet blocks and the ResNet trunk, built child by child in torchvision's order
// so named_parameters() and state_dict() equal torchvision's (see resnet.h).
#include "nn/models/resnet.h"

#include "core/autograd/grad_mode.h"
#include "core/ops/activation.h"
#include "core/ops/views.h"
#include "nn/init.h"

namespace graft::nn::models {

namespace {

std::shared_ptr<Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride, Generator* gen) {
    return std::make_shared<Conv2d>(in, out, 3, Conv2dOptions{.stride = stride, .padding = 1, .bias = false}, gen);
}

std::shared_ptr<Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride, Generator* gen) {
    return std::make_shared<Conv2d>(in, out, 1, Conv2dOptions{.stride = stride, .bias = false}, gen);
}

// The block's tail, as torchvision: out += shortcut; relu. In place, as
// torchvision's inplace ReLU: the sum is consumed by nothing else, and neither
// add's nor BatchNorm's backward reads the tensor being overwritten.
Tensor residual_relu(const Tensor& out, const Tensor& shortcut) {
    out.add_(shortcut);
    relu_(out);
    return out;
}

}  // namespace

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Sequential> downsample_,
                       Generator* gen)
    : Module("BasicBlock") {
    conv1 = register_module("conv1", conv3x3(inplanes, planes, stride, gen));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
    relu = register_module("relu", std::make_shared<ReLU>());
    conv2 = register_module("conv2", conv3x3(planes, planes, 1, gen));
    bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
    if (downsample_) downsample = register_module("downsample", std::move(downsample_));
}

Tensor BasicBlock::forward(const Tensor& x) {
    Tensor out = relu_((*bn1)((*conv1)(x)));
    out = (*bn2)((*conv2)(out));
    return residual_relu(out, downsample ? (*downsample)(x) : x);
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Sequential> downsample_,
                       Generator* gen)
    : Module("Bottleneck") {
    conv1 = register_module("conv1", conv1x1(inplanes, planes, 1, gen));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
    conv2 = register_module("conv2", conv3x3(planes, planes, stride, gen));
    bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
    conv3 = register_module("conv3", conv1x1(planes, planes * expansion, 1, gen));
    bn3 = register_module("bn3", std::make_shared<BatchNorm2d>(planes * expansion));
    relu = register_module("relu", std::make_shared<ReLU>());
    if (downsample_) downsample = register_module("downsample", std::move(downsample_));
}

Tensor Bottleneck::forward(const Tensor& x) {
    Tensor out = relu_((*bn1)((*conv1)(x)));
    out = relu_((*bn2)((*conv2)(out)));
    out = (*bn3)((*conv3)(out));
    return residual_relu(out, downsample ? (*downsample)(x) : x);
}

ResNet::ResNet(BlockKind block, const std::vector<int64_t>& layers, const ResNetOptions& options)
    : Module("ResNet"), block(block), options(options) {
    check(layers.size() == 4, "ResNet", "expects 4 stage sizes, got ", layers.size());
    for (int64_t n : layers) check(n > 0, "ResNet", "every stage needs at least one block, got ", n);
    check(options.num_classes > 0 && options.in_channels > 0, "ResNet",
          "num_classes and in_channels must be positive, got ", options.num_classes, " and ", options.in_channels);
    Generator* gen = options.gen;

    conv1 = register_module(
        "conv1", options.cifar_stem
                     ? std::make_shared<Conv2d>(options.in_channels, 64, 3,
                                                Conv2dOptions{.stride = 1, .padding = 1, .bias = false}, gen)
                     : std::make_shared<Conv2d>(options.in_channels, 64, 7,
                                                Conv2dOptions{.stride = 2, .padding = 3, .bias = false}, gen));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(64));
    relu = register_module("relu", std::make_shared<ReLU>());
    if (options.cifar_stem)
        maxpool = register_module("maxpool", std::make_shared<Identity>());
    else
        maxpool = register_module("maxpool", std::make_shared<MaxPool2d>(3, MaxPool2dOptions{.stride = 2, .padding = 1}));
    layer1 = register_module("layer1", make_layer(64, layers[0], 1));
    layer2 = register_module("layer2", make_layer(128, layers[1], 2));
    layer3 = register_module("layer3", make_layer(256, layers[2], 2));
    layer4 = register_module("layer4", make_layer(512, layers[3], 2));
    avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(Size2d{1, 1}));
    fc = register_module("fc", std::make_shared<Linear>(inplanes_, options.num_classes));

    // torchvision's init loop: He init preserving the backward pass's variance
    // (fan_out) for convs, identity BatchNorm; fc keeps Linear's default rule.
    NoGradGuard no_grad;
    apply([gen](Module& m) {
        if (auto* conv = dynamic_cast<Conv2d*>(&m))
            init::kaiming_normal_(conv->weight, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU, gen);
        else if (auto* bn = dynamic_cast<BatchNorm2d*>(&m))
            bn->reset_parameters();
    });
    fc->reset_parameters(gen);
}

std::shared_ptr<Sequential> ResNet::make_layer(int64_t planes, int64_t blocks, int64_t stride) {
    const int64_t expansion = block == BlockKind::Basic ? BasicBlock::expansion : Bottleneck::expansion;
    Generator* gen = options.gen;
    auto layer = std::make_shared<Sequential>();
    for (int64_t i = 0; i < blocks; ++i) {
        const int64_t s = i == 0 ? stride : 1;
        std::shared_ptr<Sequential> downsample;
        if (i == 0 && (stride != 1 || inplanes_ != planes * expansion))
            downsample = sequential({conv1x1(inplanes_, planes * expansion, stride, gen),
                                     std::make_shared<BatchNorm2d>(planes * expansion)});
        if (block == BlockKind::Basic)
            layer->push_back(std::make_shared<BasicBlock>(inplanes_, planes, s, downsample, gen));
        else
            layer->push_back(std::make_shared<Bottleneck>(inplanes_, planes, s, downsample, gen));
        inplanes_ = planes * expansion;
    }
    return layer;
}

Tensor ResNet::stem(const Tensor& x) {
    check(x.dim() == 4 && x.size(1) == options.in_channels, "ResNet",
          "expects input [N, ", options.in_channels, ", H, W], got ", describe(x));
    Tensor h = relu_(run_child(*this, "bn1", run_child(*this, "conv1", x)));
    return run_child(*this, "maxpool", h);
}

Tensor ResNet::pool(const Tensor& h) {
    return flatten(run_child(*this, "avgpool", h), 1);  // [N, C, 1, 1] -> [N, C]
}

Tensor ResNet::features(const Tensor& x) {
    Tensor h = stem(x);
    for (const char* layer : {"layer1", "layer2", "layer3", "layer4"}) h = run_child(*this, layer, h);
    return pool(h);
}

Tensor ResNet::forward(const Tensor& x) { return run_child(*this, "fc", features(x)); }

std::vector<Stage> ResNet::stages() {
    std::vector<Stage> out;
    out.push_back({"stem", {"conv1", "bn1", "relu", "maxpool"}, [this](const Tensor& x) { return stem(x); }});
    for (const char* layer : {"layer1", "layer2", "layer3", "layer4"}) {
        const std::string name = layer;
        out.push_back({name, {name}, [this, name](const Tensor& h) { return run_child(*this, name, h); }});
    }
    out.push_back({"pool", {"avgpool"}, [this](const Tensor& h) { return pool(h); }});
    out.push_back({"fc", {"fc"}, [this](const Tensor& h) { return run_child(*this, "fc", h); }});
    return out;
}

void ResNet::children_replaced() {
    auto child = [this](const std::string& name) { return submodule(name); };
    conv1 = std::dynamic_pointer_cast<Conv2d>(child("conv1"));
    bn1 = std::dynamic_pointer_cast<BatchNorm2d>(child("bn1"));
    relu = std::dynamic_pointer_cast<ReLU>(child("relu"));
    maxpool = child("maxpool");
    layer1 = std::dynamic_pointer_cast<Sequential>(child("layer1"));
    layer2 = std::dynamic_pointer_cast<Sequential>(child("layer2"));
    layer3 = std::dynamic_pointer_cast<Sequential>(child("layer3"));
    layer4 = std::dynamic_pointer_cast<Sequential>(child("layer4"));
    avgpool = std::dynamic_pointer_cast<AdaptiveAvgPool2d>(child("avgpool"));
    fc = std::dynamic_pointer_cast<Linear>(child("fc"));
}

std::shared_ptr<ResNet> resnet18(const ResNetOptions& options) {
    return std::make_shared<ResNet>(BlockKind::Basic, std::vector<int64_t>{2, 2, 2, 2}, options);
}

std::shared_ptr<ResNet> resnet34(const ResNetOptions& options) {
    return std::make_shared<ResNet>(BlockKind::Basic, std::vector<int64_t>{3, 4, 6, 3}, options);
}

std::shared_ptr<ResNet> resnet50(const ResNetOptions& options) {
    return std::make_shared<ResNet>(BlockKind::Bottleneck, std::vector<int64_t>{3, 4, 6, 3}, options);
}

}  // namespace graft::nn::models
