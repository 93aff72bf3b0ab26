// What a pretrained zoo model expects of its input image, so that a caller (or
// an io/transforms pipeline) can prepare images the way the weights were trained:
//
//   const auto& pre = nn::models::mobilenet_v2_preprocessing();
//   // resize the short side to pre.resize, centre-crop pre.crop, scale to [0, 1],
//   // then per channel (x - pre.mean[c]) / pre.std[c]
//
// Values are the ones published with each model's weights (torchvision's
// ImageNet mean/std for torchvision models).
#pragma once

#include <array>
#include <cstdint>

namespace graft::nn::models {

struct Preprocessing {
    int64_t resize = 256;                 // short side before the centre crop
    int64_t crop = 224;                   // the model's input size (square)
    std::array<double, 3> mean{0.485, 0.456, 0.406};  // RGB, on [0, 1] pixels
    std::array<double, 3> std{0.229, 0.224, 0.225};
};

// torchvision's ImageNet classification models (ResNet, MobileNetV2): resize 256,
// crop 224, ImageNet mean/std.
inline constexpr Preprocessing imagenet_preprocessing() { return {}; }

}  // namespace graft::nn::models
