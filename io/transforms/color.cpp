// PIL's colour arithmetic, pixel by pixel (the formulas are in color.h). The HSV
// round trip reproduces Pillow's rgb2hsv / hsv2rgb (libImaging/Convert.c), including
// where they compute in float and where in double, so hue shifts match exactly.
#include "io/transforms/color.h"

#include <cmath>

namespace graft::io::transforms {

namespace {

inline uint8_t pil_luma(uint8_t r, uint8_t g, uint8_t b) {
    return uint8_t((uint32_t(r) * 19595u + uint32_t(g) * 38470u + uint32_t(b) * 7471u + 0x8000u) >> 16);
}

inline uint8_t blend(uint8_t degenerate, uint8_t pixel, float alpha) {
    const float v = float(int(degenerate)) + alpha * float(int(pixel) - int(degenerate));
    if (v <= 0.0f) return 0;
    if (v >= 255.0f) return 255;
    return uint8_t(v);
}

// A contiguous copy of a colour-op input, checked: uint8 HWC with 1 or 3 channels.
Tensor colour_input(const Tensor& image, const char* op) {
    check(image.defined() && image.dtype() == DType::UInt8, op,
          "expects a uint8 [H, W, C] image (apply colour transforms before ToTensor), got ",
          image.defined() ? describe(image) : TensorText{image});
    is_uint8_image(image, op);
    check(image.size(2) != 4, op, "RGBA images are not supported; convert to RGB first (ImageChannels::rgb)");
    return image.contiguous();
}

void check_factor(double factor, const char* op) {
    check(std::isfinite(factor) && factor >= 0.0, op, "factor must be a non-negative number, got ", factor);
}

// Converts HSV (PIL's 8-bit encoding) back to RGB.
inline void hsv_to_rgb(uint8_t h, uint8_t s, uint8_t v, uint8_t* out) {
    if (s == 0) {
        out[0] = out[1] = out[2] = v;
        return;
    }
    const int i = int(std::floor(float(h) * 6.0 / 255.0));
    const float f = float(float(h) * 6.0 / 255.0 - float(i));
    const float fs = float(float(s) / 255.0);
    auto clip = [](double x) { return uint8_t(std::clamp(int(std::round(x)), 0, 255)); };
    const uint8_t p = clip(float(v) * (1.0 - fs));
    const uint8_t q = clip(float(v) * (1.0 - fs * f));
    const uint8_t t = clip(float(v) * (1.0 - fs * (1.0 - f)));
    switch (i % 6) {
        case 0: out[0] = v; out[1] = t; out[2] = p; break;
        case 1: out[0] = q; out[1] = v; out[2] = p; break;
        case 2: out[0] = p; out[1] = v; out[2] = t; break;
        case 3: out[0] = p; out[1] = q; out[2] = v; break;
        case 4: out[0] = t; out[1] = p; out[2] = v; break;
        default: out[0] = v; out[1] = p; out[2] = q; break;
    }
}

inline void rgb_to_hsv(uint8_t r, uint8_t g, uint8_t b, uint8_t* hsv) {
    const uint8_t maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
    hsv[2] = maxc;
    if (minc == maxc) {
        hsv[0] = hsv[1] = 0;
        return;
    }
    const float cr = float(maxc - minc);
    const float s = cr / float(maxc);
    const float rc = float(maxc - r) / cr, gc = float(maxc - g) / cr, bc = float(maxc - b) / cr;
    float h;
    if (r == maxc) h = bc - gc;
    else if (g == maxc) h = float(2.0 + rc - bc);
    else h = float(4.0 + gc - rc);
    h = float(std::fmod(h / 6.0 + 1.0, 1.0));
    hsv[0] = uint8_t(std::clamp(int(h * 255.0), 0, 255));
    hsv[1] = uint8_t(std::clamp(int(s * 255.0), 0, 255));
}

}  // namespace

Tensor adjust_brightness(const Tensor& image, double factor) {
    check_factor(factor, "adjust_brightness");
    Tensor src = colour_input(image, "adjust_brightness");
    Tensor out = Tensor::empty(src.shape(), DType::UInt8);
    const uint8_t* in = src.data<uint8_t>();
    uint8_t* o = out.data<uint8_t>();
    const float a = float(factor);
    for (int64_t i = 0, n = src.numel(); i < n; ++i) o[i] = blend(0, in[i], a);
    return out;
}

Tensor adjust_contrast(const Tensor& image, double factor) {
    check_factor(factor, "adjust_contrast");
    Tensor src = colour_input(image, "adjust_contrast");
    const int64_t C = src.size(2), pixels = src.size(0) * src.size(1);
    const uint8_t* in = src.data<uint8_t>();
    uint64_t sum = 0;
    for (int64_t p = 0; p < pixels; ++p)
        sum += C == 1 ? in[p] : pil_luma(in[3 * p], in[3 * p + 1], in[3 * p + 2]);
    const uint8_t mean = uint8_t(int(double(sum) / double(pixels) + 0.5));
    Tensor out = Tensor::empty(src.shape(), DType::UInt8);
    uint8_t* o = out.data<uint8_t>();
    const float a = float(factor);
    for (int64_t i = 0, n = src.numel(); i < n; ++i) o[i] = blend(mean, in[i], a);
    return out;
}

Tensor adjust_saturation(const Tensor& image, double factor) {
    check_factor(factor, "adjust_saturation");
    Tensor src = colour_input(image, "adjust_saturation");
    if (src.size(2) == 1) return src.clone();
    const int64_t pixels = src.size(0) * src.size(1);
    const uint8_t* in = src.data<uint8_t>();
    Tensor out = Tensor::empty(src.shape(), DType::UInt8);
    uint8_t* o = out.data<uint8_t>();
    const float a = float(factor);
    for (int64_t p = 0; p < pixels; ++p) {
        const uint8_t* px = in + 3 * p;
        const uint8_t grey = pil_luma(px[0], px[1], px[2]);
        for (int c = 0; c < 3; ++c) o[3 * p + c] = blend(grey, px[c], a);
    }
    return out;
}

Tensor adjust_hue(const Tensor& image, double hue_factor) {
    check(hue_factor >= -0.5 && hue_factor <= 0.5, "adjust_hue", "hue_factor (", hue_factor,
          ") is not in [-0.5, 0.5]");
    Tensor src = colour_input(image, "adjust_hue");
    if (src.size(2) == 1) return src.clone();
    // numpy's np.uint8(hue_factor * 255): truncation toward zero, then modulo 256.
    const uint8_t shift = uint8_t(int(hue_factor * 255.0) & 0xFF);
    const int64_t pixels = src.size(0) * src.size(1);
    const uint8_t* in = src.data<uint8_t>();
    Tensor out = Tensor::empty(src.shape(), DType::UInt8);
    uint8_t* o = out.data<uint8_t>();
    for (int64_t p = 0; p < pixels; ++p) {
        uint8_t hsv[3];
        rgb_to_hsv(in[3 * p], in[3 * p + 1], in[3 * p + 2], hsv);
        hsv_to_rgb(uint8_t(hsv[0] + shift), hsv[1], hsv[2], o + 3 * p);
    }
    return out;
}

Tensor rgb_to_grayscale(const Tensor& image, int num_output_channels) {
    check(num_output_channels == 1 || num_output_channels == 3, "rgb_to_grayscale",
          "num_output_channels must be 1 or 3, got ", num_output_channels);
    check(image.defined() && image.dtype() == DType::UInt8, "rgb_to_grayscale",
          "expects a uint8 [H, W, C] image (apply colour transforms before ToTensor)");
    is_uint8_image(image, "rgb_to_grayscale");
    Tensor src = image.contiguous();
    const int64_t C = src.size(2), h = src.size(0), w = src.size(1), pixels = h * w;
    const uint8_t* in = src.data<uint8_t>();
    Tensor out = Tensor::empty({h, w, int64_t(num_output_channels)}, DType::UInt8);
    uint8_t* o = out.data<uint8_t>();
    for (int64_t p = 0; p < pixels; ++p) {
        const uint8_t* px = in + C * p;
        const uint8_t grey = C == 1 ? px[0] : pil_luma(px[0], px[1], px[2]);
        for (int c = 0; c < num_output_channels; ++c) o[num_output_channels * p + c] = grey;
    }
    return out;
}

Grayscale::Grayscale(int num_output_channels) : channels_(num_output_channels) {
    check(num_output_channels == 1 || num_output_channels == 3, "Grayscale",
          "num_output_channels must be 1 or 3, got ", num_output_channels);
}
Tensor Grayscale::apply(const Tensor& image, Generator&) const { return rgb_to_grayscale(image, channels_); }
std::string Grayscale::repr() const { return cat_str("Grayscale(num_output_channels=", channels_, ")"); }

// ---- ColorJitter -----------------------------------------------------------------------

namespace {
const char* kJitterNames[4] = {"brightness", "contrast", "saturation", "hue"};

std::optional<std::array<double, 2>> jitter_range(const Jitter& j, int which) {
    const bool is_hue = which == 3;
    const double center = is_hue ? 0.0 : 1.0;
    const double bound_lo = is_hue ? -0.5 : 0.0;
    const double bound_hi = is_hue ? 0.5 : INFINITY;
    std::array<double, 2> r;
    if (!j.pair) {
        check(j.lo >= 0.0, "ColorJitter", "If ", kJitterNames[which], " is a single number, it must be non negative, got ",
              j.lo);
        r = {center - j.lo, center + j.lo};
        if (!is_hue) r[0] = std::max(r[0], 0.0);
    } else {
        r = {j.lo, j.hi};
    }
    check(bound_lo <= r[0] && r[0] <= r[1] && r[1] <= bound_hi, "ColorJitter", kJitterNames[which],
          " values should be between ", bound_lo, " and ", bound_hi, ", got (", r[0], ", ", r[1], ")");
    if (r[0] == center && r[1] == center) return std::nullopt;
    return r;
}
}  // namespace

ColorJitter::ColorJitter(Jitter brightness, Jitter contrast, Jitter saturation, Jitter hue) {
    const Jitter* js[4] = {&brightness, &contrast, &saturation, &hue};
    for (int i = 0; i < 4; ++i) ranges_[i] = jitter_range(*js[i], i);
}

JitterParams ColorJitter::sample(Generator& rng) const {
    JitterParams p;
    std::vector<int> order = permutation(rng, 4);
    for (int i = 0; i < 4; ++i) p.order[size_t(i)] = order[size_t(i)];
    std::optional<double>* factors[4] = {&p.brightness, &p.contrast, &p.saturation, &p.hue};
    for (int i = 0; i < 4; ++i)
        if (ranges_[i]) *factors[i] = uniform_real(rng, (*ranges_[i])[0], (*ranges_[i])[1]);
    return p;
}

Tensor ColorJitter::apply_params(const Tensor& image, const JitterParams& p) {
    Tensor x = image;
    for (int fn : p.order) {
        if (fn == 0 && p.brightness) x = adjust_brightness(x, *p.brightness);
        else if (fn == 1 && p.contrast) x = adjust_contrast(x, *p.contrast);
        else if (fn == 2 && p.saturation) x = adjust_saturation(x, *p.saturation);
        else if (fn == 3 && p.hue) x = adjust_hue(x, *p.hue);
    }
    return x;
}

Tensor ColorJitter::apply(const Tensor& image, Generator& rng) const {
    colour_input(image, "ColorJitter");
    return apply_params(image, sample(rng));
}

std::string ColorJitter::repr() const {
    std::string s = "ColorJitter(";
    for (int i = 0; i < 4; ++i) {
        s += cat_str(i ? ", " : "", kJitterNames[i], "=");
        s += ranges_[i] ? cat_str("(", (*ranges_[i])[0], ", ", (*ranges_[i])[1], ")") : std::string("None");
    }
    return s + ")";
}

}  // namespace graft::io::transforms
