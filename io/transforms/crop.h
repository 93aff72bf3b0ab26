// Crops and padding with torchvision's semantics: crop (zero-filled outside the
// image), pad (constant, edge, reflect, symmetric), center_crop, and the random
// crops RandomCrop and RandomResizedCrop. All take either image kind (transform.h):
// uint8 [H, W, C] or float32 [C, H, W].
//
// Crops inside the image return views (no copy); the next op reads them in place.
#pragma once

#include <array>
#include <vector>

#include "io/transforms/resize.h"

namespace graft::io::transforms {

// A crop window: top row, left column, height, width.
struct CropBox {
    int64_t top = 0, left = 0, height = 0, width = 0;
    bool operator==(const CropBox&) const = default;
};

enum class PadMode { constant, edge, reflect, symmetric };

// Padding in torchvision's order: left, top, right, bottom.
struct Padding {
    Padding(int64_t all = 0) : left(all), top(all), right(all), bottom(all) {}  // NOLINT
    Padding(int64_t left_right, int64_t top_bottom)
        : left(left_right), top(top_bottom), right(left_right), bottom(top_bottom) {}
    Padding(int64_t l, int64_t t, int64_t r, int64_t b) : left(l), top(t), right(r), bottom(b) {}
    int64_t left, top, right, bottom;
};

// F.crop: the window may extend past the image; what lies outside is 0.
Tensor crop(const Tensor& image, const CropBox& box);
// F.pad. `fill` (constant mode) is one value or one per channel; for uint8 images
// it is truncated to an integer as torchvision does. reflect needs padding < side,
// symmetric padding <= side.
Tensor pad(const Tensor& image, const Padding& padding, const std::vector<double>& fill = {0.0},
           PadMode mode = PadMode::constant);
// F.center_crop: zero-pads first when the crop is larger than the image; the
// offset is round((side - crop) / 2) with Python's round (halves to even).
Tensor center_crop(const Tensor& image, int64_t height, int64_t width);
// F.resized_crop with bilinear antialiased resize to exactly {out_h, out_w}.
Tensor resized_crop(const Tensor& image, const CropBox& box, int64_t out_h, int64_t out_w);

class CenterCrop final : public Transform {
public:
    explicit CenterCrop(int64_t size) : CenterCrop(size, size) {}
    CenterCrop(int64_t height, int64_t width);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;

private:
    int64_t height_, width_;
};

struct RandomCropOptions {
    std::optional<Padding> padding;  // applied first, on every image
    bool pad_if_needed = false;      // pad a side shorter than the crop (both ends)
    std::vector<double> fill = {0.0};
    PadMode padding_mode = PadMode::constant;
};

class RandomCrop final : public Transform {
public:
    explicit RandomCrop(int64_t size, RandomCropOptions options = {}) : RandomCrop(size, size, std::move(options)) {}
    RandomCrop(int64_t height, int64_t width, RandomCropOptions options = {});
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;
    // get_params: the window for an (already padded) image of this size.
    CropBox sample(int64_t image_h, int64_t image_w, Generator& rng) const;

private:
    int64_t height_, width_;
    RandomCropOptions options_;
};

class RandomResizedCrop final : public Transform {
public:
    explicit RandomResizedCrop(int64_t size, std::array<double, 2> scale = {0.08, 1.0},
                               std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0})
        : RandomResizedCrop(size, size, scale, ratio) {}
    RandomResizedCrop(int64_t height, int64_t width, std::array<double, 2> scale = {0.08, 1.0},
                      std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0});
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;
    // get_params: up to 10 tries of area ~ U(scale) * H * W and log aspect ratio ~
    // U(log ratio), accepted when the window fits; otherwise the central crop with the
    // aspect ratio clamped into `ratio` (the whole image when it is already inside).
    CropBox sample(int64_t image_h, int64_t image_w, Generator& rng) const;

private:
    int64_t height_, width_;
    std::array<double, 2> scale_, ratio_;
};

}  // namespace graft::io::transforms
