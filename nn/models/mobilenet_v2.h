// MobileNetV2 with torchvision 0.14's module tree, so that torchvision's
// state_dict (mobilenet_v2-b0353104.pth / -7ebf99e0.pth: 314 entries,
// 3,504,872 parameters) loads by name:
//
//   auto model = nn::models::mobilenet_v2({.num_classes = 10});
//   Tensor logits = (*model)(x);          // x [N, 3, H, W] -> [N, 10]
//
// Tree (registration order = state_dict order):
//   features.0            Sequential(conv 3x3/2 3->32, BatchNorm2d, ReLU6)
//   features.1..17        InvertedResidual blocks, each with a child "conv":
//       expand ratio 1:   conv.0 = Sequential(dw 3x3, BN, ReLU6), conv.1 project 1x1, conv.2 BN
//       otherwise:        conv.0 = Sequential(expand 1x1, BN, ReLU6),
//                         conv.1 = Sequential(dw 3x3 (stride), BN, ReLU6), conv.2 project, conv.3 BN
//       with a residual add when stride 1 and in == out channels.
//   features.18           Sequential(conv 1x1 320->1280, BN, ReLU6)
//   classifier            Sequential(Dropout(0.2), Linear(1280, num_classes))
// forward: features, global average pool, flatten, classifier.
//
// Stages (nn/models/stages.h): "features.0".."features.18" (one per child of
// features), "pool" (global average pool + flatten, no module), "classifier".
// The model runs its top-level children by name, so transfer::attach_head can
// swap them; the typed handles follow through children_replaced() (null when
// the new module has another type).
//
// Blocks (t expand, c channels, n repeats, s first stride), as torchvision:
//   (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1).
// width_mult scales every channel count, rounded to a multiple of 8 (never
// below 90% of the scaled value); the last channel count only grows with it.
//
// Init as torchvision: convs kaiming_normal_(fan_out), biases 0, BatchNorm 1/0,
// Linear N(0, 0.01) with bias 0 (from options.gen; values differ from torch's).
// Preprocessing: nn::models::imagenet_preprocessing() (224, ImageNet mean/std).
#pragma once

#include <cstdint>
#include <memory>

#include "core/ops/random.h"
#include "nn/layers/container.h"
#include "nn/layers/linear.h"
#include "nn/models/preprocessing.h"
#include "nn/models/stages.h"
#include "nn/module.h"

namespace graft::nn::models {

struct MobileNetV2Options {
    int64_t num_classes = 1000;
    double width_mult = 1.0;
    double dropout = 0.2;
    Generator* gen = nullptr;  // init draws; null = default_generator()
};

// Expand 1x1 (unless expand_ratio is 1), depthwise 3x3, project 1x1 (linear).
class InvertedResidual : public Module {
public:
    InvertedResidual(int64_t inp, int64_t oup, int64_t stride, int64_t expand_ratio, Generator* gen = nullptr);
    // x [N, inp, H, W] -> [N, oup, H/stride, W/stride]
    Tensor forward(const Tensor& x) override;

    const int64_t stride;
    const bool use_res_connect;  // stride 1 and inp == oup
    std::shared_ptr<Sequential> conv;
};

class MobileNetV2 : public Module, public Staged {
public:
    explicit MobileNetV2(const MobileNetV2Options& options = {});
    // x [N, 3, H, W] -> logits [N, num_classes]
    Tensor forward(const Tensor& x) override;
    // Everything before the classifier: pooled features [N, last_channel].
    Tensor features_pooled(const Tensor& x);
    // features.0..features.18, pool, classifier (see the header comment).
    std::vector<Stage> stages() override;
    void children_replaced() override;

    const MobileNetV2Options options;
    int64_t last_channel = 1280;
    std::shared_ptr<Sequential> features;
    std::shared_ptr<Sequential> classifier;  // Dropout, Linear

    static Preprocessing preprocessing() { return imagenet_preprocessing(); }

private:
    void check_input(const Tensor& x) const;
};

std::shared_ptr<MobileNetV2> mobilenet_v2(const MobileNetV2Options& options = {});

}  // namespace graft::nn::models
