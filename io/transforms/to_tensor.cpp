// HWC bytes to CHW floats through a 256-entry table (the division done once per
// value), and the per-channel normalisation in float as torch computes it.
#include "io/transforms/to_tensor.h"

#include <array>
#include <cmath>

namespace graft::io::transforms {

namespace {

const std::array<float, 256>& unit_table() {
    static const auto table = [] {
        std::array<float, 256> t{};
        for (int v = 0; v < 256; ++v) t[size_t(v)] = float(v) / 255.0f;
        return t;
    }();
    return table;
}

void check_image(const Tensor& image, const char* op) {
    check(image.defined() && image.dtype() == DType::UInt8, op, "expects a uint8 [H, W, C] image, got ",
          image.defined() ? describe(image) : TensorText{image});
    is_uint8_image(image, op);
}

// One value per channel (a single value is repeated), as float.
std::vector<float> per_channel(const std::vector<double>& v, int64_t C, const char* op, const char* what) {
    check(v.size() == 1 || int64_t(v.size()) == C, op, what, " has ", v.size(), " values for a tensor of ", C,
          " channels");
    std::vector<float> out(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) out[size_t(c)] = float(v.size() == 1 ? v[0] : v[size_t(c)]);
    return out;
}

// HWC bytes -> CHW floats through one 256-entry table per channel.
Tensor lookup_chw(const Tensor& image, const std::vector<const float*>& tables) {
    const int64_t C = image.size(2);
    Tensor src = (image.stride(2) == 1 && image.stride(1) == C) ? image : image.contiguous();
    const int64_t h = src.size(0), w = src.size(1), row_stride = src.stride(0);
    Tensor out = Tensor::empty({C, h, w}, DType::Float32);
    const uint8_t* in = src.data<uint8_t>();
    float* o = out.data<float>();
    for (int64_t y = 0; y < h; ++y) {
        const uint8_t* row = in + y * row_stride;
        for (int64_t c = 0; c < C; ++c) {
            const float* table = tables[size_t(c)];
            float* dst = o + (c * h + y) * w;
            for (int64_t x = 0; x < w; ++x) dst[x] = table[row[x * C + c]];
        }
    }
    return out;
}

}  // namespace

Tensor to_tensor(const Tensor& image) {
    check_image(image, "to_tensor");
    return lookup_chw(image, std::vector<const float*>(size_t(image.size(2)), unit_table().data()));
}

Tensor to_tensor_normalized(const Tensor& image, const std::vector<double>& mean, const std::vector<double>& std) {
    check_image(image, "to_tensor_normalized");
    const int64_t C = image.size(2);
    std::vector<float> m = per_channel(mean, C, "to_tensor_normalized", "mean");
    std::vector<float> s = per_channel(std, C, "to_tensor_normalized", "std");
    std::vector<float> tables(size_t(C) * 256);
    std::vector<const float*> pointers;
    for (int64_t c = 0; c < C; ++c) {
        check(s[size_t(c)] != 0.0f, "to_tensor_normalized", "std evaluated to zero, leading to division by zero");
        for (int v = 0; v < 256; ++v)
            tables[size_t(c) * 256 + size_t(v)] = (unit_table()[size_t(v)] - m[size_t(c)]) / s[size_t(c)];
        pointers.push_back(&tables[size_t(c) * 256]);
    }
    return lookup_chw(image, pointers);
}

Tensor normalize(const Tensor& tensor, const std::vector<double>& mean, const std::vector<double>& std) {
    check(tensor.defined() && tensor.dtype() == DType::Float32 && tensor.dim() == 3, "normalize",
          "expects a float32 [C, H, W] tensor image (apply ToTensor first), got ",
          tensor.defined() ? describe(tensor) : TensorText{tensor});
    const int64_t C = tensor.size(0), plane = tensor.size(1) * tensor.size(2);
    std::vector<float> m = per_channel(mean, C, "normalize", "mean"), s = per_channel(std, C, "normalize", "std");
    for (float x : s) check(x != 0.0f, "normalize", "std evaluated to zero, leading to division by zero");
    Tensor src = tensor.contiguous();
    Tensor out = Tensor::empty(src.shape(), DType::Float32);
    const float* in = src.data<float>();
    float* o = out.data<float>();
    for (int64_t c = 0; c < C; ++c) {
        const float mc = m[size_t(c)], sc = s[size_t(c)];
        const float* a = in + c * plane;
        float* b = o + c * plane;
        for (int64_t i = 0; i < plane; ++i) b[i] = (a[i] - mc) / sc;
    }
    return out;
}

Tensor ToTensor::apply(const Tensor& image, Generator&) const { return to_tensor(image); }

Normalize::Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
    check(!mean_.empty() && !std_.empty(), "Normalize", "mean and std need values");
    for (double s : std_) check(s != 0.0, "Normalize", "std evaluated to zero, leading to division by zero");
}

Tensor Normalize::apply(const Tensor& image, Generator&) const { return normalize(image, mean_, std_); }

std::string Normalize::repr() const {
    auto list = [](const std::vector<double>& v) {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) s += cat_str(i ? ", " : "", v[i]);
        return s + "]";
    };
    return cat_str("Normalize(mean=", list(mean_), ", std=", list(std_), ")");
}

}  // namespace graft::io::transforms
