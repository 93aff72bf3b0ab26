// The bridge from pixels to model input, as torchvision's ToTensor and Normalize:
//   to_tensor  uint8 [H, W, C] -> float32 [C, H, W], value / 255 (torchvision's
//              img.float().div(255), bit for bit).
//   normalize  float32 [C, H, W]: (x - mean[c]) / std[c] per channel (sub then div,
//              as torchvision, not a multiply by 1/std).
//   to_tensor_normalized  both in one pass: a uint8 value has only 256 possible
//              results per channel, so they are tabulated (computed exactly as the
//              two steps would) and the pass is a lookup. Compose uses it when a
//              ToTensor is directly followed by a Normalize; results are identical.
#pragma once

#include <vector>

#include "io/transforms/transform.h"

namespace graft::io::transforms {

Tensor to_tensor(const Tensor& image);
// mean and std have one value or one per channel; std must have no zero.
Tensor normalize(const Tensor& tensor, const std::vector<double>& mean, const std::vector<double>& std);
Tensor to_tensor_normalized(const Tensor& image, const std::vector<double>& mean, const std::vector<double>& std);

class ToTensor final : public Transform {
public:
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override { return "ToTensor()"; }
};

class Normalize final : public Transform {
public:
    Normalize(std::vector<double> mean, std::vector<double> std);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;
    const std::vector<double>& mean() const { return mean_; }
    const std::vector<double>& stddev() const { return std_; }

private:
    std::vector<double> mean_, std_;
};

// ImageNet statistics, the usual Normalize for torchvision's pretrained models.
inline const std::vector<double> kImageNetMean = {0.485, 0.456, 0.406};
inline const std::vector<double> kImageNetStd = {0.229, 0.224, 0.225};

}  // namespace graft::io::transforms
