// stb_image behind graft::Error: header check first, then one decode straight
// into a tensor-sized copy. The only translation unit that compiles stb_image.
#include "io/image/image_read.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "core/ops/creation.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO            // bytes come from our own reads (error messages name the file)
// Only the four formats Graft promises: less parser surface for hostile files, and
// no TGA (which has no magic number, so stb would take random bytes for one).
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace graft::io {

namespace {

template <typename... Parts>
[[noreturn]] void fail(const std::string& name, const Parts&... parts) {
    throw Error(cat_str("image: ", name, ": ", parts...));
}

std::string reason() {
    const char* r = stbi_failure_reason();
    return r ? r : "unknown error";
}

std::vector<unsigned char> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail(path, "cannot open: ", std::strerror(errno));
    std::streamoff size = in.tellg();
    if (size < 0) fail(path, "cannot read its size");
    std::vector<unsigned char> bytes(static_cast<size_t>(size));
    in.seekg(0);
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
        fail(path, "read failed after ", in.gcount(), " of ", size, " bytes");
    return bytes;
}

int desired_channels(ImageChannels channels) {
    switch (channels) {
        case ImageChannels::keep: return 0;
        case ImageChannels::grey: return 1;
        case ImageChannels::rgb: return 3;
        case ImageChannels::rgba: return 4;
    }
    return 0;
}

uint32_t le16(const unsigned char* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
uint32_t le32(const unsigned char* p) { return le16(p) | le16(p + 2) << 16; }

// stb_image decodes a BMP or GIF cut short without complaint (missing bytes read
// as zeros), so these two formats are measured here first.
void check_bmp_length(const unsigned char* p, size_t n, const std::string& name) {
    if (n < 30) return;  // stb refuses a header this short itself
    const uint32_t header = le32(p + 14);
    uint64_t width, height, bpp, compression = 0;
    if (header == 12) {  // OS/2 BITMAPCOREHEADER
        width = le16(p + 18);
        height = le16(p + 20);
        bpp = le16(p + 24);
    } else {
        if (n < 34) return;
        width = uint64_t(std::abs(int64_t(int32_t(le32(p + 18)))));
        height = uint64_t(std::abs(int64_t(int32_t(le32(p + 22)))));
        bpp = le16(p + 28);
        compression = le32(p + 30);
    }
    // Uncompressed rows (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS) are padded to 4 bytes.
    if (compression != 0 && compression != 3 && compression != 6) return;
    const uint64_t need = uint64_t(le32(p + 10)) + (bpp * width + 31) / 32 * 4 * height;
    if (n < need) fail(name, "truncated BMP: ", n, " bytes, its header needs ", need);
}

void check_gif_length(const unsigned char* p, size_t n, const std::string& name) {
    auto truncated = [&] { fail(name, "truncated GIF: ", n, " bytes end inside the first frame"); };
    auto color_table = [](unsigned flags) { return (flags & 0x80) ? size_t(3) << ((flags & 7) + 1) : size_t(0); };
    auto skip_sub_blocks = [&](size_t pos) {
        for (;;) {
            if (pos >= n) truncated();
            const size_t len = p[pos++];
            if (len == 0) return pos;
            pos += len;
        }
    };
    if (n < 13) truncated();
    size_t pos = 13 + color_table(p[10]);
    for (;;) {
        if (pos >= n) truncated();
        if (p[pos] == 0x21) {  // extension: label, then sub-blocks
            pos = skip_sub_blocks(pos + 2);
        } else if (p[pos] == 0x2C) {  // image descriptor, local colours, LZW size, data
            if (pos + 10 > n) truncated();
            pos += 10 + color_table(p[pos + 9]);
            if (pos >= n) truncated();
            skip_sub_blocks(pos + 1);
            return;
        } else {
            return;  // trailer or garbage: stb's decoder reports it
        }
    }
}

// stb_image 2.27 (Debian 12's libstb) writes past its 257-entry code-length array
// when a JPEG Huffman table declares more than 256 codes (fixed upstream in 2.28).
// Every DHT segment, before and between scans, is checked here first.
void check_jpeg_huffman_tables(const unsigned char* p, size_t n, const std::string& name) {
    // Walks the markers as stb's reader does: bytes between markers skipped, fill
    // bytes skipped, and a DHT read table by table while its declared length lasts
    // (stb reads a whole table even when the length ends inside it).
    auto at = [&](size_t i) -> unsigned { return i < n ? p[i] : 0u; };  // stb reads 0 past the end
    size_t pos = 0;  // stb accepts fill bytes (0xFF) before the SOI marker
    while (pos < n && p[pos] == 0xFF) ++pos;
    ++pos;  // after SOI (the caller saw 0xD8 here)
    for (;;) {
        while (pos < n && p[pos] != 0xFF) ++pos;
        while (pos < n && p[pos] == 0xFF) ++pos;
        if (pos + 2 >= n) return;
        const unsigned marker = p[pos++];
        if (marker == 0xD9) return;  // EOI
        if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) continue;
        const long length = long(p[pos]) << 8 | long(p[pos + 1]);
        if (marker == 0xC4) {
            size_t q = pos + 2;
            for (long left = length - 2; left > 0 && q < n;) {
                unsigned codes = 0;
                for (size_t i = 1; i <= 16; ++i) codes += at(q + i);
                if (codes > 256)
                    fail(name, "corrupt JPEG: a Huffman table declares ", codes, " codes (at most 256)");
                q += 17 + codes;
                left -= long(17 + codes);
            }
            pos = q;
        } else {
            pos += size_t(length);
        }
        if (marker == 0xDA) {  // entropy-coded data runs to the next marker other than RSTn
            while (pos + 1 < n) {
                const void* ff = std::memchr(p + pos, 0xFF, n - pos - 1);
                if (!ff) return;
                pos = size_t(static_cast<const unsigned char*>(ff) - p);
                const unsigned next = p[pos + 1];
                if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7)) break;
                pos += 2;
            }
        }
    }
}

// What stb's JPEG test accepts: any number of 0xFF fill bytes, then SOI (0xD8).
bool looks_like_jpeg(const unsigned char* p, size_t n) {
    size_t i = 0;
    while (i < n && p[i] == 0xFF) ++i;
    return i >= 1 && i < n && p[i] == 0xD8;
}

void check_complete(const unsigned char* p, size_t n, const std::string& name) {
    if (looks_like_jpeg(p, n)) check_jpeg_huffman_tables(p, n, name);
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') check_bmp_length(p, n, name);
    if (n >= 6 && std::memcmp(p, "GIF8", 4) == 0) check_gif_length(p, n, name);
}

}  // namespace

ImageInfo image_info(const void* bytes, size_t size, const std::string& name) {
    if (size == 0) fail(name, "empty (0 bytes)");
    if (size > size_t(INT32_MAX)) fail(name, size, " bytes is larger than the 2 GiB stb_image reads");
    // Before stb reads anything: its header parser already processes JPEG tables.
    check_complete(static_cast<const unsigned char*>(bytes), size, name);
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_memory(static_cast<const stbi_uc*>(bytes), int(size), &w, &h, &c))
        fail(name, "not a readable image (", reason(), ")");
    if (w <= 0 || h <= 0) fail(name, "image of size ", w, "x", h);
    if (int64_t(w) * int64_t(h) > kMaxImagePixels)
        fail(name, "image of ", w, "x", h, " pixels is larger than the limit of ", kMaxImagePixels, " pixels");
    if (c < 1 || c > 4) fail(name, "unsupported channel count ", c);
    return {h, w, c};
}

ImageInfo read_image_info(const std::string& path) {
    std::vector<unsigned char> bytes = read_file(path);
    return image_info(bytes.data(), bytes.size(), path);
}

Tensor decode_image(const void* bytes, size_t size, const std::string& name, ImageChannels channels) {
    ImageInfo info = image_info(bytes, size, name);
    int w = 0, h = 0, file_c = 0;
    int want = desired_channels(channels);
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
        stbi_load_from_memory(static_cast<const stbi_uc*>(bytes), int(size), &w, &h, &file_c, want), stbi_image_free);
    if (!pixels) fail(name, "decode failed (", reason(), ")");
    // The header said one thing; the decoder must agree (animated or odd files).
    if (w != info.width || h != info.height)
        fail(name, "decoded size ", w, "x", h, " differs from the header's ", info.width, "x", info.height);
    int c = want ? want : file_c;
    Tensor out = Tensor::empty({int64_t(h), int64_t(w), int64_t(c)}, DType::UInt8);
    std::memcpy(out.data<uint8_t>(), pixels.get(), size_t(h) * size_t(w) * size_t(c));
    return out;
}

Tensor read_image(const std::string& path, ImageChannels channels) {
    std::vector<unsigned char> bytes = read_file(path);
    return decode_image(bytes.data(), bytes.size(), path, channels);
}

Tensor image_to_float(const Tensor& image) {
    check(image.dtype() == DType::UInt8 && image.dim() == 3, "image_to_float",
          "expects a uint8 [H, W, C] image, got ", describe(image));
    Tensor src = image.contiguous();
    Tensor out = Tensor::empty(src.shape(), DType::Float32);
    // A table of v / 255.0f: the division torchvision does, at a lookup's cost.
    static const auto table = [] {
        std::array<float, 256> t{};
        for (int v = 0; v < 256; ++v) t[size_t(v)] = float(v) / 255.0f;
        return t;
    }();
    const uint8_t* s = src.data<uint8_t>();
    float* d = out.data<float>();
    for (int64_t i = 0, n = src.numel(); i < n; ++i) d[i] = table[s[i]];
    return out;
}

}  // namespace graft::io
