// Separable antialiased bilinear resampling: PIL's fixed-point arithmetic for uint8
// HWC images, torch's float arithmetic for float CHW tensor images. Each pass first
// builds, per output position, the first input index, the tap count and the weights
// (the triangle filter stretched by the scale when shrinking), then runs plain loops.
#include "io/transforms/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops/creation.h"

namespace graft::io::transforms {

namespace {

// ---- PIL (uint8) ---------------------------------------------------------------------

// PIL's PRECISION_BITS: 32 - 8 (pixel) - 2 (headroom for sums of weights > 1).
constexpr int kPrecisionBits = 32 - 8 - 2;

struct FixedTaps {
    int ksize = 0;             // coefficients stored per output position
    std::vector<int> first;    // first input index
    std::vector<int> count;    // taps used
    std::vector<int32_t> coef; // [out][ksize], 22-bit fixed point
};

double triangle(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

// PIL's precompute_coeffs + normalize_coeffs_8bpc for a box [0, in_size).
FixedTaps pil_taps(int in_size, int out_size) {
    double scale = double(in_size) / out_size;
    double filterscale = std::max(scale, 1.0);
    double support = 1.0 * filterscale;  // the bilinear filter's support is 1
    FixedTaps t;
    t.ksize = int(std::ceil(support)) * 2 + 1;
    t.first.resize(size_t(out_size));
    t.count.resize(size_t(out_size));
    t.coef.assign(size_t(out_size) * size_t(t.ksize), 0);
    std::vector<double> k(static_cast<size_t>(t.ksize));
    for (int xx = 0; xx < out_size; ++xx) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale;
        int xmin = std::max(int(center - support + 0.5), 0);
        int xmax = std::min(int(center + support + 0.5), in_size) - xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            k[size_t(x)] = triangle((x + xmin - center + 0.5) * ss);
            ww += k[size_t(x)];
        }
        int32_t* out = &t.coef[size_t(xx) * size_t(t.ksize)];
        for (int x = 0; x < xmax; ++x) {
            double w = ww != 0.0 ? k[size_t(x)] / ww : k[size_t(x)];
            out[x] = int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
        }
        t.first[size_t(xx)] = xmin;
        t.count[size_t(xx)] = xmax;
    }
    return t;
}

inline uint8_t clip8(int32_t v) {
    if (v >= (255 << kPrecisionBits)) return 255;
    if (v <= 0) return 0;
    return uint8_t(v >> kPrecisionBits);
}

// Horizontal pass over rows [row0, row0 + rows) of src (row stride in bytes, pixels
// of C bytes packed); dst is [rows, out_w, C] contiguous.
template <int C>
void pil_horizontal(const uint8_t* src, int64_t src_row_stride, int64_t row0, int64_t rows,
                    const FixedTaps& t, int out_w, uint8_t* dst) {
    for (int64_t y = 0; y < rows; ++y) {
        const uint8_t* in = src + (row0 + y) * src_row_stride;
        uint8_t* out = dst + y * out_w * C;
        for (int xx = 0; xx < out_w; ++xx) {
            const int32_t* k = &t.coef[size_t(xx) * size_t(t.ksize)];
            const uint8_t* p = in + int64_t(t.first[size_t(xx)]) * C;
            int32_t ss[C];
            for (int c = 0; c < C; ++c) ss[c] = 1 << (kPrecisionBits - 1);
            for (int x = 0, n = t.count[size_t(xx)]; x < n; ++x)
                for (int c = 0; c < C; ++c) ss[c] += int32_t(p[x * C + c]) * k[x];
            for (int c = 0; c < C; ++c) out[xx * C + c] = clip8(ss[c]);
        }
    }
}

// Vertical pass: each output row is a weighted sum of whole input rows, accumulated
// in an int32 row so the loop over the row vectorises.
void pil_vertical(const uint8_t* src, int64_t src_row_stride, int64_t row_bytes, const FixedTaps& t,
                  int out_h, int64_t row_offset, uint8_t* dst) {
    std::vector<int32_t> acc(static_cast<size_t>(row_bytes));
    for (int yy = 0; yy < out_h; ++yy) {
        const int32_t* k = &t.coef[size_t(yy) * size_t(t.ksize)];
        std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
        int32_t* a = acc.data();
        for (int y = 0, n = t.count[size_t(yy)]; y < n; ++y) {
            const uint8_t* in = src + (t.first[size_t(yy)] - row_offset + y) * src_row_stride;
            const int32_t w = k[y];
            for (int64_t i = 0; i < row_bytes; ++i) a[i] += int32_t(in[i]) * w;
        }
        uint8_t* out = dst + int64_t(yy) * row_bytes;
        for (int64_t i = 0; i < row_bytes; ++i) out[i] = clip8(a[i]);
    }
}

Tensor resize_uint8(const Tensor& image, int64_t out_h, int64_t out_w) {
    // Rows may be strided (a crop of a larger image); a pixel's channels must be packed.
    const int64_t C = image.size(2);
    Tensor src = (image.stride(2) == 1 && image.stride(1) == C) ? image : image.contiguous();
    const int64_t in_h = src.size(0), in_w = src.size(1), row_stride = src.stride(0);
    const uint8_t* in = src.data<uint8_t>();
    Tensor out = Tensor::empty({out_h, out_w, C}, DType::UInt8);
    uint8_t* dst = out.data<uint8_t>();
    const bool need_h = out_w != in_w, need_v = out_h != in_h;
    if (!need_h && !need_v) {
        for (int64_t y = 0; y < in_h; ++y) std::copy_n(in + y * row_stride, in_w * C, dst + y * in_w * C);
        return out;
    }
    FixedTaps vt = pil_taps(int(in_h), int(out_h));
    // Rows the vertical pass reads; the horizontal pass computes only those.
    const int64_t row0 = vt.first.front();
    const int64_t row1 = vt.first.back() + vt.count.back();
    std::vector<uint8_t> temp;
    const uint8_t* vsrc = in;
    int64_t vstride = row_stride, voffset = 0;
    if (need_h) {
        FixedTaps ht = pil_taps(int(in_w), int(out_w));
        uint8_t* hdst = dst;
        if (need_v) {
            temp.resize(size_t((row1 - row0) * out_w * C));
            hdst = temp.data();
        }
        const int64_t rows = need_v ? row1 - row0 : in_h;
        const int64_t first_row = need_v ? row0 : 0;
        switch (C) {
            case 1: pil_horizontal<1>(in, row_stride, first_row, rows, ht, int(out_w), hdst); break;
            case 3: pil_horizontal<3>(in, row_stride, first_row, rows, ht, int(out_w), hdst); break;
            default: pil_horizontal<4>(in, row_stride, first_row, rows, ht, int(out_w), hdst); break;
        }
        if (!need_v) return out;
        vsrc = temp.data();
        vstride = out_w * C;
        voffset = row0;
    }
    pil_vertical(vsrc, vstride, out_w * C, vt, int(out_h), voffset, dst);
    return out;
}

// ---- torch (float) ---------------------------------------------------------------------

struct FloatTaps {
    int64_t ksize = 0;
    std::vector<int64_t> first, count;
    std::vector<float> weight;  // [out][ksize]
};

float aa_triangle(float x) {
    if (x < 0) x = -x;
    return x < 1 ? 1 - x : 0;
}

// torch's _compute_weights_aa (UpSampleKernel.cpp) with scalar_t = float, keeping
// its mix of float and double steps so weights agree to the last bit.
FloatTaps torch_taps(int64_t in_size, int64_t out_size) {
    const float scale = float(in_size) / float(out_size);
    const float support = scale >= 1.0f ? (2 * 0.5f) * scale : 2 * 0.5f;
    FloatTaps t;
    t.ksize = int64_t(std::ceil(support)) * 2 + 1;
    t.first.resize(size_t(out_size));
    t.count.resize(size_t(out_size));
    t.weight.assign(size_t(out_size * t.ksize), 0.0f);
    for (int64_t i = 0; i < out_size; ++i) {
        const float center = float(scale * (i + 0.5));
        const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
        const int64_t xmin = std::max(int64_t(center - support + 0.5), int64_t(0));
        const int64_t xsize = std::min(int64_t(center + support + 0.5), in_size) - xmin;
        float* w = &t.weight[size_t(i * t.ksize)];
        float total = 0.0f;
        for (int64_t j = 0; j < xsize; ++j) {
            w[j] = aa_triangle(float((float(j + xmin) - center + 0.5) * invscale));
            total += w[j];
        }
        if (total != 0.0f)
            for (int64_t j = 0; j < xsize; ++j) w[j] /= total;
        t.first[size_t(i)] = xmin;
        t.count[size_t(i)] = xsize;
    }
    return t;
}

// One pass along the last dimension of [planes, rows, in_w] (strides given).
void torch_horizontal(const float* src, int64_t planes, int64_t rows, int64_t plane_stride,
                      int64_t row_stride, const FloatTaps& t, int64_t out_w, float* dst) {
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t y = 0; y < rows; ++y) {
            const float* in = src + p * plane_stride + y * row_stride;
            float* out = dst + (p * rows + y) * out_w;
            for (int64_t x = 0; x < out_w; ++x) {
                const float* w = &t.weight[size_t(x * t.ksize)];
                const float* s = in + t.first[size_t(x)];
                float acc = s[0] * w[0];
                for (int64_t j = 1, n = t.count[size_t(x)]; j < n; ++j) acc += s[j] * w[j];
                out[x] = acc;
            }
        }
}

// One pass along rows of [planes, in_h, width] (rows of `width` packed floats).
void torch_vertical(const float* src, int64_t planes, int64_t width, int64_t plane_stride,
                    int64_t row_stride, const FloatTaps& t, int64_t out_h, float* dst) {
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t y = 0; y < out_h; ++y) {
            const float* w = &t.weight[size_t(y * t.ksize)];
            const float* s = src + p * plane_stride + t.first[size_t(y)] * row_stride;
            float* out = dst + (p * out_h + y) * width;
            for (int64_t x = 0; x < width; ++x) out[x] = s[x] * w[0];
            for (int64_t j = 1, n = t.count[size_t(y)]; j < n; ++j)
                for (int64_t x = 0; x < width; ++x) out[x] += s[j * row_stride + x] * w[j];
        }
}

Tensor resize_float(const Tensor& image, int64_t out_h, int64_t out_w) {
    Tensor src = image.stride(2) == 1 ? image : image.contiguous();
    const int64_t C = src.size(0), in_h = src.size(1), in_w = src.size(2);
    if (in_h == out_h && in_w == out_w) return src.contiguous().clone();
    const float* in = src.data<float>();
    int64_t plane_stride = src.stride(0), row_stride = src.stride(1);
    Tensor temp;
    if (in_w != out_w) {
        temp = Tensor::empty({C, in_h, out_w}, DType::Float32);
        torch_horizontal(in, C, in_h, plane_stride, row_stride, torch_taps(in_w, out_w), out_w, temp.data<float>());
        if (in_h == out_h) return temp;
        in = temp.data<float>();
        plane_stride = in_h * out_w;
        row_stride = out_w;
    }
    Tensor out = Tensor::empty({C, out_h, out_w}, DType::Float32);
    torch_vertical(in, C, out_w, plane_stride, row_stride, torch_taps(in_h, out_h), out_h, out.data<float>());
    return out;
}

}  // namespace

std::array<int64_t, 2> resized_size(int64_t height, int64_t width, const Size& size,
                                    std::optional<int64_t> max_size) {
    if (size.exact) {
        check(size.values[0] > 0 && size.values[1] > 0, "resize", "size must be positive, got (",
              size.values[0], ", ", size.values[1], ")");
        check(!max_size, "resize", "max_size applies only when size is a single number");
        return {size.values[0], size.values[1]};
    }
    const int64_t requested = size.values[0];
    check(requested > 0, "resize", "size must be positive, got ", requested);
    const bool w_short = width <= height;
    const int64_t shorter = w_short ? width : height, longer = w_short ? height : width;
    int64_t new_short = requested;
    int64_t new_long = int64_t(double(requested) * double(longer) / double(shorter));
    if (max_size) {
        check(*max_size > requested, "resize", "max_size = ", *max_size,
              " must be strictly greater than the requested size for the smaller edge size = ", requested);
        if (new_long > *max_size) {
            new_short = int64_t(double(*max_size) * double(new_short) / double(new_long));
            new_long = *max_size;
        }
    }
    check(new_short > 0, "resize", "image ", height, "x", width, " resized to an empty side");
    return w_short ? std::array<int64_t, 2>{new_long, new_short} : std::array<int64_t, 2>{new_short, new_long};
}

Tensor resize(const Tensor& image, int64_t out_h, int64_t out_w) {
    const bool u8 = is_uint8_image(image, "resize");
    check(out_h > 0 && out_w > 0, "resize", "output size must be positive, got ", out_h, "x", out_w);
    check(out_h * out_w <= (int64_t(1) << 28), "resize", "output ", out_h, "x", out_w, " is too large");
    return u8 ? resize_uint8(image, out_h, out_w) : resize_float(image, out_h, out_w);
}

Tensor resize(const Tensor& image, const Size& size, std::optional<int64_t> max_size) {
    is_uint8_image(image, "resize");
    auto [h, w] = resized_size(image_height(image), image_width(image), size, max_size);
    return resize(image, h, w);
}

Resize::Resize(Size size, std::optional<int64_t> max_size) : size_(size), max_size_(max_size) {
    resized_size(size.exact ? 1 : size.values[0] + 1, size.exact ? 1 : size.values[0] + 1, size, max_size);
}

Tensor Resize::apply(const Tensor& image, Generator&) const { return resize(image, size_, max_size_); }

std::string Resize::repr() const {
    std::string s = size_.exact ? cat_str("(", size_.values[0], ", ", size_.values[1], ")") : cat_str(size_.values[0]);
    return cat_str("Resize(size=", s, ", interpolation=bilinear, max_size=",
                   max_size_ ? cat_str(*max_size_) : std::string("None"), ", antialias=True)");
}

}  // namespace graft::io::transforms
