// Crops are views when inside the image. Everything else (zero fill past the
// border, padding in its four modes) goes through one gather: a source row index
// and a source column index per output position, -1 meaning "fill".
#include "io/transforms/crop.h"

#include <algorithm>
#include <cmath>

#include "core/ops/creation.h"

namespace graft::io::transforms {

namespace {

const char* mode_name(PadMode m) {
    switch (m) {
        case PadMode::constant: return "constant";
        case PadMode::edge: return "edge";
        case PadMode::reflect: return "reflect";
        case PadMode::symmetric: return "symmetric";
    }
    return "?";
}

// Source index for output position i of a side of length n padded by `before`.
std::vector<int64_t> index_map(int64_t out_len, int64_t before, int64_t n, PadMode mode) {
    std::vector<int64_t> map(static_cast<size_t>(out_len));
    for (int64_t o = 0; o < out_len; ++o) {
        int64_t i = o - before;
        if (i < 0 || i >= n) {
            switch (mode) {
                case PadMode::constant: i = -1; break;
                case PadMode::edge: i = i < 0 ? 0 : n - 1; break;
                case PadMode::reflect: i = i < 0 ? -i : 2 * (n - 1) - i; break;
                case PadMode::symmetric: i = i < 0 ? -i - 1 : 2 * n - 1 - i; break;
            }
        }
        map[size_t(o)] = i;
    }
    return map;
}

template <typename T>
void gather(const Tensor& src, bool hwc, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols,
            const std::vector<double>& fill, Tensor& out) {
    const int64_t C = image_channels(src);
    // Element strides for (channel, row, column) in either layout.
    const int64_t sc = hwc ? src.stride(2) : src.stride(0);
    const int64_t sy = hwc ? src.stride(0) : src.stride(1);
    const int64_t sx = hwc ? src.stride(1) : src.stride(2);
    const int64_t oh = int64_t(rows.size()), ow = int64_t(cols.size());
    const T* in = src.data<T>();
    T* o = out.data<T>();
    std::vector<T> fills(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
        double f = fill.size() == 1 ? fill[0] : fill[size_t(c)];
        fills[size_t(c)] = hwc ? T(int64_t(f)) : T(f);
    }
    for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
            for (int64_t c = 0; c < C; ++c) {
                const int64_t r = rows[size_t(y)], q = cols[size_t(x)];
                const T v = (r < 0 || q < 0) ? fills[size_t(c)] : in[c * sc + r * sy + q * sx];
                o[hwc ? (y * ow + x) * C + c : (c * oh + y) * ow + x] = v;
            }
}

Tensor remap(const Tensor& image, bool hwc, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols,
             const std::vector<double>& fill) {
    const int64_t C = image_channels(image), oh = int64_t(rows.size()), ow = int64_t(cols.size());
    Tensor out = hwc ? Tensor::empty({oh, ow, C}, DType::UInt8) : Tensor::empty({C, oh, ow}, DType::Float32);
    if (hwc) gather<uint8_t>(image, true, rows, cols, fill, out);
    else gather<float>(image, false, rows, cols, fill, out);
    return out;
}

}  // namespace

// Outputs past this many pixels are refused before any index map is allocated.
constexpr int64_t kMaxPixels = int64_t(1) << 28;

Tensor crop(const Tensor& image, const CropBox& box) {
    const bool hwc = is_uint8_image(image, "crop");
    check(box.height > 0 && box.width > 0, "crop", "crop size must be positive, got ", box.height, "x", box.width);
    check(box.height <= kMaxPixels / box.width, "crop", "crop of ", box.height, "x", box.width, " is too large");
    const int64_t h = image_height(image), w = image_width(image);
    const int64_t hdim = hwc ? 0 : 1, wdim = hwc ? 1 : 2;
    if (box.top >= 0 && box.left >= 0 && box.top + box.height <= h && box.left + box.width <= w)
        return image.narrow(hdim, box.top, box.height).narrow(wdim, box.left, box.width);
    std::vector<int64_t> rows(static_cast<size_t>(box.height)), cols(size_t(box.width));
    for (int64_t y = 0; y < box.height; ++y) {
        int64_t r = box.top + y;
        rows[size_t(y)] = (r >= 0 && r < h) ? r : -1;
    }
    for (int64_t x = 0; x < box.width; ++x) {
        int64_t q = box.left + x;
        cols[size_t(x)] = (q >= 0 && q < w) ? q : -1;
    }
    return remap(image, hwc, rows, cols, {0.0});
}

Tensor pad(const Tensor& image, const Padding& p, const std::vector<double>& fill, PadMode mode) {
    const bool hwc = is_uint8_image(image, "pad");
    const int64_t h = image_height(image), w = image_width(image), C = image_channels(image);
    check(p.left >= 0 && p.top >= 0 && p.right >= 0 && p.bottom >= 0, "pad",
          "padding must be non-negative, got (", p.left, ", ", p.top, ", ", p.right, ", ", p.bottom, ")");
    check(fill.size() == 1 || int64_t(fill.size()) == C, "pad", "fill has ", fill.size(),
          " values for an image of ", C, " channels");
    check(std::max({p.left, p.top, p.right, p.bottom}) <= kMaxPixels &&
              (h + p.top + p.bottom) <= kMaxPixels / (w + p.left + p.right),
          "pad", "padded image of ", h + p.top + p.bottom, "x", w + p.left + p.right, " is too large");
    const int64_t limit_h = mode == PadMode::reflect ? h - 1 : h, limit_w = mode == PadMode::reflect ? w - 1 : w;
    if (mode == PadMode::reflect || mode == PadMode::symmetric)
        check(std::max(p.top, p.bottom) <= limit_h && std::max(p.left, p.right) <= limit_w, "pad",
              mode_name(mode), " padding (", p.left, ", ", p.top, ", ", p.right, ", ", p.bottom,
              ") is too large for an image of ", h, "x", w);
    return remap(image, hwc, index_map(h + p.top + p.bottom, p.top, h, mode),
                 index_map(w + p.left + p.right, p.left, w, mode), fill);
}

Tensor center_crop(const Tensor& image, int64_t ch, int64_t cw) {
    is_uint8_image(image, "center_crop");
    check(ch > 0 && cw > 0, "center_crop", "crop size must be positive, got ", ch, "x", cw);
    Tensor img = image;
    int64_t h = image_height(img), w = image_width(img);
    if (cw > w || ch > h) {
        Padding p(cw > w ? (cw - w) / 2 : 0, ch > h ? (ch - h) / 2 : 0, cw > w ? (cw - w + 1) / 2 : 0,
                  ch > h ? (ch - h + 1) / 2 : 0);
        img = pad(img, p);
        h = image_height(img);
        w = image_width(img);
        if (cw == w && ch == h) return img;
    }
    const int64_t top = round_half_even(double(h - ch) / 2.0), left = round_half_even(double(w - cw) / 2.0);
    return crop(img, {top, left, ch, cw});
}

Tensor resized_crop(const Tensor& image, const CropBox& box, int64_t out_h, int64_t out_w) {
    return resize(crop(image, box), out_h, out_w);
}

// ---- CenterCrop ------------------------------------------------------------------------

CenterCrop::CenterCrop(int64_t height, int64_t width) : height_(height), width_(width) {
    check(height > 0 && width > 0, "CenterCrop", "size must be positive, got ", height, "x", width);
}
Tensor CenterCrop::apply(const Tensor& image, Generator&) const { return center_crop(image, height_, width_); }
std::string CenterCrop::repr() const { return cat_str("CenterCrop(size=(", height_, ", ", width_, "))"); }

// ---- RandomCrop ------------------------------------------------------------------------

RandomCrop::RandomCrop(int64_t height, int64_t width, RandomCropOptions options)
    : height_(height), width_(width), options_(std::move(options)) {
    check(height > 0 && width > 0, "RandomCrop", "size must be positive, got ", height, "x", width);
    check(!options_.fill.empty(), "RandomCrop", "fill needs at least one value");
}

CropBox RandomCrop::sample(int64_t h, int64_t w, Generator& rng) const {
    check(h >= height_ && w >= width_, "RandomCrop", "required crop size (", height_, ", ", width_,
          ") is larger than input image size (", h, ", ", w, ")");
    if (h == height_ && w == width_) return {0, 0, h, w};
    const int64_t top = uniform_int(rng, 0, h - height_ + 1);
    const int64_t left = uniform_int(rng, 0, w - width_ + 1);
    return {top, left, height_, width_};
}

Tensor RandomCrop::apply(const Tensor& image, Generator& rng) const {
    is_uint8_image(image, "RandomCrop");
    Tensor img = image;
    const auto& o = options_;
    if (o.padding) img = pad(img, *o.padding, o.fill, o.padding_mode);
    // As torchvision: the missing amount is added on both sides.
    if (o.pad_if_needed && image_width(img) < width_)
        img = pad(img, Padding(width_ - image_width(img), 0), o.fill, o.padding_mode);
    if (o.pad_if_needed && image_height(img) < height_)
        img = pad(img, Padding(0, height_ - image_height(img)), o.fill, o.padding_mode);
    return crop(img, sample(image_height(img), image_width(img), rng));
}

std::string RandomCrop::repr() const {
    const auto& o = options_;
    std::string pad_text = o.padding ? cat_str("(", o.padding->left, ", ", o.padding->top, ", ", o.padding->right,
                                               ", ", o.padding->bottom, ")")
                                     : std::string("None");
    return cat_str("RandomCrop(size=(", height_, ", ", width_, "), padding=", pad_text,
                   ", pad_if_needed=", o.pad_if_needed ? "True" : "False", ", padding_mode=", mode_name(o.padding_mode),
                   ")");
}

// ---- RandomResizedCrop ------------------------------------------------------------------

RandomResizedCrop::RandomResizedCrop(int64_t height, int64_t width, std::array<double, 2> scale,
                                     std::array<double, 2> ratio)
    : height_(height), width_(width), scale_(scale), ratio_(ratio) {
    check(height > 0 && width > 0, "RandomResizedCrop", "size must be positive, got ", height, "x", width);
    check(scale[0] > 0 && scale[0] <= scale[1], "RandomResizedCrop", "scale must be (min, max) with 0 < min <= max, got (",
          scale[0], ", ", scale[1], ")");
    check(ratio[0] > 0 && ratio[0] <= ratio[1], "RandomResizedCrop", "ratio must be (min, max) with 0 < min <= max, got (",
          ratio[0], ", ", ratio[1], ")");
}

CropBox RandomResizedCrop::sample(int64_t height, int64_t width, Generator& rng) const {
    const double area = double(height) * double(width);
    const double log_lo = std::log(ratio_[0]), log_hi = std::log(ratio_[1]);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target_area = area * uniform_real(rng, scale_[0], scale_[1]);
        const double aspect = std::exp(uniform_real(rng, log_lo, log_hi));
        const int64_t w = round_half_even(std::sqrt(target_area * aspect));
        const int64_t h = round_half_even(std::sqrt(target_area / aspect));
        if (0 < w && w <= width && 0 < h && h <= height) {
            const int64_t top = uniform_int(rng, 0, height - h + 1);
            const int64_t left = uniform_int(rng, 0, width - w + 1);
            return {top, left, h, w};
        }
    }
    // Fallback: central crop with the aspect ratio clamped into [ratio min, max].
    const double in_ratio = double(width) / double(height);
    int64_t w = width, h = height;
    if (in_ratio < ratio_[0]) {
        h = round_half_even(double(w) / ratio_[0]);
    } else if (in_ratio > ratio_[1]) {
        w = round_half_even(double(h) * ratio_[1]);
    }
    return {(height - h) / 2, (width - w) / 2, h, w};
}

Tensor RandomResizedCrop::apply(const Tensor& image, Generator& rng) const {
    is_uint8_image(image, "RandomResizedCrop");
    return resized_crop(image, sample(image_height(image), image_width(image), rng), height_, width_);
}

std::string RandomResizedCrop::repr() const {
    return cat_str("RandomResizedCrop(size=(", height_, ", ", width_, "), scale=(", scale_[0], ", ", scale_[1],
                   "), ratio=(", ratio_[0], ", ", ratio_[1], "), interpolation=bilinear, antialias=True)");
}

}  // namespace graft::io::transforms
