// Colour transforms on uint8 [H, W, C] images (C = 1 or 3), with the arithmetic of
// torchvision's PIL path, so outputs equal torchvision's on the same pixels:
//   grey       PIL convert("L"): (19595 R + 38470 G + 7471 B + 2^15) >> 16, the
//              ITU-R 601-2 luma weights 0.299, 0.587, 0.114 in 16-bit fixed point.
//   brightness blend(black, image, factor)            (ImageEnhance.Brightness)
//   contrast   blend(mean grey level, image, factor)  (ImageEnhance.Contrast; the mean
//              of the grey image rounded to an integer)
//   saturation blend(grey image, image, factor)       (ImageEnhance.Color)
//   hue        PIL's 8-bit HSV: H shifted by uint8(hue * 255) modulo 256
// where blend(a, b, f) = a + f (b - a) in float, clamped to [0, 255] and truncated,
// as PIL's ImagingBlend. Grey images pass unchanged through saturation and hue.
// Float tensor images are refused: apply colour transforms before ToTensor.
#pragma once

#include <optional>

#include "io/transforms/transform.h"

namespace graft::io::transforms {

Tensor adjust_brightness(const Tensor& image, double factor);
Tensor adjust_contrast(const Tensor& image, double factor);
Tensor adjust_saturation(const Tensor& image, double factor);
// hue_factor in [-0.5, 0.5].
Tensor adjust_hue(const Tensor& image, double hue_factor);
// F.rgb_to_grayscale / to_grayscale: 1 or 3 (replicated) output channels. RGBA
// images are accepted here (alpha ignored, as PIL's convert("L")).
Tensor rgb_to_grayscale(const Tensor& image, int num_output_channels = 1);

class Grayscale final : public Transform {
public:
    explicit Grayscale(int num_output_channels = 1);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;

private:
    int channels_;
};

// A jitter amount: one number v gives [center - v, center + v] (clipped at 0 for
// brightness, contrast and saturation), a pair is the range itself.
struct Jitter {
    Jitter(double v = 0.0) : lo(v), hi(v), pair(false) {}  // NOLINT: ColorJitter(0.4, 0.4)
    Jitter(double low, double high) : lo(low), hi(high), pair(true) {}
    double lo, hi;
    bool pair;
};

// Factors drawn by ColorJitter for one image: the order in which the four
// adjustments run (0 brightness, 1 contrast, 2 saturation, 3 hue) and each factor
// (absent when that adjustment is off).
struct JitterParams {
    std::array<int, 4> order{0, 1, 2, 3};
    std::optional<double> brightness, contrast, saturation, hue;
};

class ColorJitter final : public Transform {
public:
    explicit ColorJitter(Jitter brightness = 0.0, Jitter contrast = 0.0, Jitter saturation = 0.0, Jitter hue = 0.0);
    Tensor apply(const Tensor& image, Generator& rng) const override;
    std::string repr() const override;
    // get_params: a random order (permutation of 4), then one uniform factor per
    // enabled adjustment, drawn in the order brightness, contrast, saturation, hue.
    JitterParams sample(Generator& rng) const;
    // Runs the adjustments of `params` in their order.
    static Tensor apply_params(const Tensor& image, const JitterParams& params);

private:
    // [lo, hi] per adjustment; absent when the range is the single centre value.
    std::optional<std::array<double, 2>> ranges_[4];
};

}  // namespace graft::io::transforms
