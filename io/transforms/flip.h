// Horizontal flip (either image kind) and RandomHorizontalFlip(p): flips when a
// uniform draw is below p, as torchvision's `torch.rand(1) < p`.
#pragma once

#include "io/transforms/transform.h"

namespace graft::io::transforms {

// F.hflip: mirrors the columns; a new contiguous tensor.
Tensor hflip(const Tensor& image);

class RandomHorizontalFlip final : public Transform {
public:
    explicit RandomHorizontalFlip(double p = 0.5);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;

private:
    double p_;
};

}  // namespace graft::io::transforms
