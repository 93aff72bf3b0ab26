// ResNet-18/34/50 with torchvision's module tree, so that a torchvision
// state_dict (resnet18-f37072fd.pth, ...) loads by name and a Graft state_dict
// loads into torchvision:
//
//   auto model = nn::models::resnet18({.num_classes = 10});
//   Tensor logits = (*model)(x);                 // x [N, 3, H, W] -> [N, 10]
//   model->named_parameters();                   // conv1.weight, bn1.weight, ...,
//                                                // layer4.1.bn2.bias, fc.weight, fc.bias
//
// Tree, in registration order (= state_dict order, 122 entries for ResNet-18):
//   conv1 7x7/2 (bias-free), bn1, relu, maxpool 3/2/1,
//   layer1..layer4 (Sequential of blocks "0", "1", ...), avgpool (adaptive 1x1), fc.
// BasicBlock: conv1 3x3 (stride), bn1, relu, conv2 3x3, bn2[, downsample].
// Bottleneck (torchvision's "v1.5": the stride sits on the 3x3 conv2):
//   conv1 1x1, bn1, conv2 3x3 (stride), bn2, conv3 1x1 (4x width), bn3, relu[, downsample].
// downsample = Sequential(conv 1x1 with the block's stride, BatchNorm2d), present
// when the stride is not 1 or the channel count changes.
//
// Options beyond torchvision's num_classes: in_channels (1 for grey images) and
// a CIFAR-style stem (conv1 3x3, stride 1, padding 1; maxpool replaced by an
// Identity) for 32x32 inputs. Both change conv1's shape only; every other name
// and shape stays torchvision's.
//
// Init as torchvision: kaiming_normal_(fan_out, relu) on every conv weight,
// BatchNorm weight 1 and bias 0, fc with Linear's default rule. Random draws come
// from options.gen (or the default generator), so a seeded generator gives the
// same model on every run; the values differ from torch's (another RNG).
//
// Stages (nn/models/stages.h): "stem" (conv1, bn1, relu, maxpool), "layer1".."layer4",
// "pool" (avgpool + flatten), "fc". The model runs its top-level children by
// name, so transfer::attach_head can swap any of them (the typed handles below
// follow through children_replaced(); a handle whose new module has another
// type, say fc replaced by a Sequential head, becomes null).
//
// Not here: groups/width_per_group (ResNeXt, Wide ResNet), dilation,
// zero_init_residual, ResNet-101/152 (one more line in resnet.cpp each when needed).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/ops/random.h"
#include "nn/layers/activation.h"
#include "nn/layers/container.h"
#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/pooling.h"
#include "nn/models/preprocessing.h"
#include "nn/models/stages.h"
#include "nn/module.h"

namespace graft::nn::models {

struct ResNetOptions {
    int64_t num_classes = 1000;
    int64_t in_channels = 3;
    bool cifar_stem = false;   // conv1 3x3/1/1 and no max pool, for 32x32 inputs
    Generator* gen = nullptr;  // init draws; null = default_generator()
};

// Two 3x3 convs (ResNet-18/34). expansion 1: out channels = planes.
class BasicBlock : public Module {
public:
    static constexpr int64_t expansion = 1;
    // downsample may be null (identity shortcut).
    BasicBlock(int64_t inplanes, int64_t planes, int64_t stride = 1, std::shared_ptr<Sequential> downsample = nullptr,
               Generator* gen = nullptr);
    // x [N, inplanes, H, W] -> [N, planes, H/stride, W/stride]
    Tensor forward(const Tensor& x) override;

    std::shared_ptr<Conv2d> conv1;
    std::shared_ptr<BatchNorm2d> bn1;
    std::shared_ptr<ReLU> relu;
    std::shared_ptr<Conv2d> conv2;
    std::shared_ptr<BatchNorm2d> bn2;
    std::shared_ptr<Sequential> downsample;  // null without one
};

// 1x1 reduce, 3x3 (stride), 1x1 expand (ResNet-50). expansion 4: out = 4 * planes.
class Bottleneck : public Module {
public:
    static constexpr int64_t expansion = 4;
    Bottleneck(int64_t inplanes, int64_t planes, int64_t stride = 1, std::shared_ptr<Sequential> downsample = nullptr,
               Generator* gen = nullptr);
    // x [N, inplanes, H, W] -> [N, 4 * planes, H/stride, W/stride]
    Tensor forward(const Tensor& x) override;

    std::shared_ptr<Conv2d> conv1;
    std::shared_ptr<BatchNorm2d> bn1;
    std::shared_ptr<Conv2d> conv2;
    std::shared_ptr<BatchNorm2d> bn2;
    std::shared_ptr<Conv2d> conv3;
    std::shared_ptr<BatchNorm2d> bn3;
    std::shared_ptr<ReLU> relu;
    std::shared_ptr<Sequential> downsample;
};

enum class BlockKind { Basic, Bottleneck };

class ResNet : public Module, public Staged {
public:
    // layers: blocks per stage, e.g. {2, 2, 2, 2} for ResNet-18.
    ResNet(BlockKind block, const std::vector<int64_t>& layers, const ResNetOptions& options = {});
    // x [N, in_channels, H, W] -> logits [N, num_classes]
    Tensor forward(const Tensor& x) override;
    // Everything before fc: x -> pooled features [N, 512 * expansion].
    Tensor features(const Tensor& x);
    // stem, layer1..layer4, pool, fc (see the header comment).
    std::vector<Stage> stages() override;
    void children_replaced() override;
    // torchvision's ImageNet preprocessing of the pretrained weights (256 / 224, ImageNet mean/std).
    static Preprocessing preprocessing() { return imagenet_preprocessing(); }

    const BlockKind block;
    const ResNetOptions options;
    std::shared_ptr<Conv2d> conv1;
    std::shared_ptr<BatchNorm2d> bn1;
    std::shared_ptr<ReLU> relu;
    std::shared_ptr<Module> maxpool;  // MaxPool2d, or Identity with the CIFAR stem
    std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
    std::shared_ptr<AdaptiveAvgPool2d> avgpool;
    std::shared_ptr<Linear> fc;

private:
    Tensor stem(const Tensor& x);  // conv1, bn1, relu, maxpool
    Tensor pool(const Tensor& h);  // avgpool, flatten
    std::shared_ptr<Sequential> make_layer(int64_t planes, int64_t blocks, int64_t stride);
    int64_t inplanes_ = 64;
};

std::shared_ptr<ResNet> resnet18(const ResNetOptions& options = {});
std::shared_ptr<ResNet> resnet34(const ResNetOptions& options = {});
std::shared_ptr<ResNet> resnet50(const ResNetOptions& options = {});

}  // namespace graft::nn::models
