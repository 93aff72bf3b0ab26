// PNG/JPEG encoding through stb_image_write. This is the one translation unit
// that instantiates stb_image_write; it does so with static linkage, so the
// decoder side (stb_image) or a user's own copy of stb cannot clash with it.
#include "io/image/image_write.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <zlib.h>

#include "core/ops/creation.h"
#include "io/formats/atomic_file.h"

namespace {

// stb's own deflate is simple and weak; zlib's level 6 makes charts and
// screenshots several times smaller. stb frees the result with STBIW_FREE
// (free), so it is allocated with malloc.
unsigned char* zlib_deflate(unsigned char* data, int data_len, int* out_len, int /*quality*/) {
    uLongf capacity = compressBound(uLong(data_len));
    auto* out = static_cast<unsigned char*>(std::malloc(capacity));
    if (!out) return nullptr;
    if (compress2(out, &capacity, data, uLong(data_len), 6) != Z_OK) {
        std::free(out);
        return nullptr;
    }
    *out_len = int(capacity);
    return out;
}

}  // namespace

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#define STBIW_ZLIB_COMPRESS zlib_deflate
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace graft::io {
namespace {

struct ImageView {
    Tensor contiguous;  // uint8 [H, W, C], owns the bytes below
    int height = 0, width = 0, channels = 0;
};

ImageView check_image(const Tensor& image, const char* op, const std::string& where, bool allow_alpha) {
    check(image.defined(), op, where, "the image tensor is undefined");
    check(image.dtype() == DType::UInt8, op, where, "expected a uint8 image [H, W, C], got ", describe(image),
          " (convert float [C, H, W] in [0, 1] with chw_to_hwc_uint8)");
    check(image.device().is_cpu(), op, where, "the image must be on the cpu, got ", describe(image));
    check(image.dim() == 2 || image.dim() == 3, op, where, "expected [H, W] or [H, W, C], got ", describe(image));
    const int64_t h = image.size(0), w = image.size(1), c = image.dim() == 3 ? image.size(2) : 1;
    check(h >= 1 && w >= 1, op, where, "the image is empty: ", describe(image));
    check(c >= 1 && c <= 4, op, where, "expected 1, 2, 3 or 4 channels (last dimension), got ", describe(image));
    check(allow_alpha || c == 1 || c == 3, op, where, "JPEG has no alpha channel; expected 1 or 3 channels, got ",
          describe(image));
    constexpr int64_t kMax = std::numeric_limits<int>::max();
    check(h <= (1 << 24) && w <= (1 << 24) && w * c <= kMax, op, where, "image too large to encode: ",
          describe(image));
    return ImageView{image.contiguous(), int(h), int(w), int(c)};
}

void append_bytes(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

std::vector<uint8_t> encode(const Tensor& image, bool png, int quality, const std::string& where) {
    const char* op = png ? "write_png" : "write_jpeg";
    if (!png) check(quality >= 1 && quality <= 100, op, where, "JPEG quality must be in 1..100, got ", quality);
    ImageView v = check_image(image, op, where, png);
    std::vector<uint8_t> bytes;
    const void* pixels = v.contiguous.raw_data();
    int ok = png ? stbi_write_png_to_func(append_bytes, &bytes, v.width, v.height, v.channels, pixels,
                                          v.width * v.channels)
                 : stbi_write_jpg_to_func(append_bytes, &bytes, v.width, v.height, v.channels, pixels, quality);
    check(ok != 0 && !bytes.empty(), op, where, "the encoder failed for ", describe(image));
    return bytes;
}

}  // namespace

std::vector<uint8_t> encode_png(const Tensor& image) { return encode(image, true, 0, ""); }

std::vector<uint8_t> encode_jpeg(const Tensor& image, int quality) { return encode(image, false, quality, ""); }

namespace {

// Encodes first, so a bad tensor never touches the file system.
void write_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
    AtomicFile out(path);
    out.write(bytes.data(), bytes.size());
    out.commit();
}

}  // namespace

void write_png(const std::string& path, const Tensor& image) {
    write_atomically(path, encode(image, true, 0, "'" + path + "': "));
}

void write_jpeg(const std::string& path, const Tensor& image, int quality) {
    write_atomically(path, encode(image, false, quality, "'" + path + "': "));
}

Tensor chw_to_hwc_uint8(const Tensor& image) {
    const char* op = "chw_to_hwc_uint8";
    check(image.defined(), op, "the image tensor is undefined");
    check(is_floating(image.dtype()), op, "expected a floating [C, H, W] image in [0, 1], got ", describe(image));
    check(image.dim() == 3, op, "expected [C, H, W], got ", describe(image));
    const int64_t c = image.size(0), h = image.size(1), w = image.size(2);
    check(c == 1 || c == 3 || c == 4, op, "expected 1, 3 or 4 channels (first dimension), got ", describe(image));
    std::vector<float> values = image.to(Device::cpu()).to_vector<float>();  // row-major [C, H, W]
    Tensor out = empty({h, w, c}, DType::UInt8);
    uint8_t* dst = out.data<uint8_t>();
    const int64_t plane = h * w;
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < plane; ++i) {
            float v = values[size_t(ch * plane + i)];
            v = std::isnan(v) ? 0.0f : std::fmin(std::fmax(v, 0.0f), 1.0f);
            dst[i * c + ch] = uint8_t(std::lround(v * 255.0f));
        }
    return out;
}

}  // namespace graft::io
