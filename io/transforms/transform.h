// Image transforms with torchvision's semantics, and the interface they share.
//
// Two kinds of image flow through a pipeline, as in torchvision:
//   image         uint8 [H, W, C], C in {1, 3, 4}: decoded pixels (io/image/image_read.h).
//                 The geometric and colour ops here act on it exactly as torchvision's
//                 PIL path does (PIL's fixed-point resampling, PIL's enhance and convert
//                 arithmetic), so the pixels match a torchvision pipeline fed PIL images.
//   tensor image  float32 [C, H, W], values usually in [0, 1]: what ToTensor makes and
//                 Normalize and the model take. Resize, crops, flip and pad also accept
//                 it and follow torchvision's tensor path (interpolate with antialias).
// ToTensor is the bridge; colour ops (ColorJitter, Grayscale) take uint8 images only,
// so put them before ToTensor as in the usual torchvision recipe.
//
// Randomness: every transform draws from the Generator passed to it, never from a
// global. A DataLoader makes one generator per sample with sample_generator(seed,
// index), so a sample's augmentation depends only on (seed, index), whichever worker
// thread runs it and in whatever order. Transforms hold only their configuration
// (const after construction): one pipeline object is shared by all worker threads.
//
// The random draws follow torchvision's algorithms (same distributions, same order of
// decisions, same fallbacks) but not torch's random number stream: a given seed gives
// different crops in Graft and in torch.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/random.h"
#include "core/tensor.h"

namespace graft::io::transforms {

class Transform {
public:
    virtual ~Transform() = default;
    // Applies the transform; random ones draw from `rng` (advancing it).
    Tensor operator()(const Tensor& image, Generator& rng) const { return apply(image, rng); }
    // With a fixed generator (seed 0): for deterministic transforms and quick tries.
    Tensor operator()(const Tensor& image) const;
    // What each transform implements.
    virtual Tensor apply(const Tensor& image, Generator& rng) const = 0;
    // torchvision's repr, e.g. "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)".
    virtual std::string repr() const = 0;
};
using TransformPtr = std::shared_ptr<const Transform>;

// Applies transforms in order, each drawing from the same generator.
class Compose final : public Transform {
public:
    explicit Compose(std::vector<TransformPtr> transforms);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;
    const std::vector<TransformPtr>& transforms() const { return transforms_; }

private:
    std::vector<TransformPtr> transforms_;
};

// Builds a shared transform: make<Resize>(256).
template <typename T, typename... Args>
TransformPtr make(Args&&... args) {
    return std::make_shared<const T>(std::forward<Args>(args)...);
}
inline TransformPtr compose(std::vector<TransformPtr> transforms) {
    return std::make_shared<const Compose>(std::move(transforms));
}

// The generator of sample `index` under `seed`: the Philox stream of `seed` starting
// at counter index * 2^32, so samples get disjoint streams (a sample may draw up to
// 2^32 words) and the result is independent of threads and order.
Generator sample_generator(uint64_t seed, uint64_t index);

// ---- draws (the building blocks of the random transforms) ----------------------
// Uniform double in [low, high).
double uniform_real(Generator& rng, double low, double high);
// Uniform integer in [low, high); high > low.
int64_t uniform_int(Generator& rng, int64_t low, int64_t high);
// A random permutation of 0..n-1.
std::vector<int> permutation(Generator& rng, int n);

// ---- image kinds -------------------------------------------------------------------
// True for uint8 [H, W, C] with C in {1, 3, 4}; false for float32 [C, H, W]; an Error
// naming `op` and the tensor for anything else.
bool is_uint8_image(const Tensor& image, const char* op);
int64_t image_height(const Tensor& image);  // either kind
int64_t image_width(const Tensor& image);
int64_t image_channels(const Tensor& image);

// Python's round(): halves go to the even neighbour (torchvision's crop arithmetic).
int64_t round_half_even(double v);

}  // namespace graft::io::transforms
