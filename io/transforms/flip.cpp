// Mirroring: whole pixels (C bytes) reversed along each row of a uint8 HWC image,
// or each row of each plane of a float CHW tensor image.
#include "io/transforms/flip.h"

#include <cstring>

namespace graft::io::transforms {

namespace {

template <typename T, int C>
void flip_rows(const T* src, int64_t rows, int64_t width, int64_t row_stride, T* dst) {
    for (int64_t y = 0; y < rows; ++y) {
        const T* in = src + y * row_stride;
        T* out = dst + y * width * C;
        for (int64_t x = 0; x < width; ++x)
            for (int c = 0; c < C; ++c) out[x * C + c] = in[(width - 1 - x) * C + c];
    }
}

}  // namespace

Tensor hflip(const Tensor& image) {
    const bool hwc = is_uint8_image(image, "hflip");
    if (hwc) {
        const int64_t C = image.size(2);
        Tensor src = (image.stride(2) == 1 && image.stride(1) == C) ? image : image.contiguous();
        Tensor out = Tensor::empty(src.shape(), DType::UInt8);
        const int64_t h = src.size(0), w = src.size(1);
        const uint8_t* in = src.data<uint8_t>();
        uint8_t* o = out.data<uint8_t>();
        switch (C) {
            case 1: flip_rows<uint8_t, 1>(in, h, w, src.stride(0), o); break;
            case 3: flip_rows<uint8_t, 3>(in, h, w, src.stride(0), o); break;
            default: flip_rows<uint8_t, 4>(in, h, w, src.stride(0), o); break;
        }
        return out;
    }
    Tensor src = image.stride(2) == 1 ? image : image.contiguous();
    Tensor out = Tensor::empty(src.shape(), DType::Float32);
    const int64_t C = src.size(0), h = src.size(1), w = src.size(2);
    for (int64_t c = 0; c < C; ++c)
        flip_rows<float, 1>(src.data<float>() + c * src.stride(0), h, w, src.stride(1), out.data<float>() + c * h * w);
    return out;
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
    check(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip", "p must be in [0, 1], got ", p);
}

Tensor RandomHorizontalFlip::apply(const Tensor& image, Generator& rng) const {
    is_uint8_image(image, "RandomHorizontalFlip");
    return uniform_real(rng, 0.0, 1.0) < p_ ? hflip(image) : image;
}

std::string RandomHorizontalFlip::repr() const { return cat_str("RandomHorizontalFlip(p=", p_, ")"); }

}  // namespace graft::io::transforms
