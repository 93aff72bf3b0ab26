// Bilinear resize with antialiasing, as torchvision's Resize does it.
//
// uint8 [H, W, C] images are resampled exactly as PIL's Image.resize(BILINEAR), which
// is what torchvision runs on PIL images: a triangle filter widened by the scale when
// shrinking (antialias), coefficients in 22-bit fixed point, a horizontal pass rounded
// to uint8 and then a vertical pass. Outputs equal PIL's bit for bit (RGB and L images;
// for RGBA, PIL premultiplies alpha and Graft does not, so only opaque images match).
// float32 [C, H, W] tensor images follow torch's interpolate(mode="bilinear",
// antialias=True, align_corners=False) in float arithmetic.
//
// The coefficients of each pass are computed once per call (per output row/column),
// so the inner loops are plain multiply-adds the compiler vectorises.
#pragma once

#include <array>
#include <optional>

#include "io/transforms/transform.h"

namespace graft::io::transforms {

// A target size: one number resizes the shorter side to it (keeping the aspect
// ratio, the longer side truncated as torchvision does); two are exact {h, w}.
struct Size {
    Size(int64_t shorter) : values{shorter, 0}, exact(false) {}  // NOLINT: Resize(256)
    Size(int64_t h, int64_t w) : values{h, w}, exact(true) {}
    std::array<int64_t, 2> values;
    bool exact;
};

// torchvision's _compute_resized_output_size: {new_h, new_w}. max_size caps the longer
// side when `size` is a single number (it must exceed that number).
std::array<int64_t, 2> resized_size(int64_t height, int64_t width, const Size& size,
                                    std::optional<int64_t> max_size = std::nullopt);

// Resizes either kind of image to exactly {out_h, out_w}.
Tensor resize(const Tensor& image, int64_t out_h, int64_t out_w);
// torchvision.transforms.functional.resize(img, size, BILINEAR, max_size, antialias=True).
Tensor resize(const Tensor& image, const Size& size, std::optional<int64_t> max_size = std::nullopt);

class Resize final : public Transform {
public:
    explicit Resize(Size size, std::optional<int64_t> max_size = std::nullopt);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;

private:
    Size size_;
    std::optional<int64_t> max_size_;
};

}  // namespace graft::io::transforms
