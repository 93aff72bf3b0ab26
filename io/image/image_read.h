// Decoding images into uint8 tensors: JPEG (baseline and progressive), PNG (8 and
// 16-bit, reduced to 8), BMP and GIF (first frame), through stb_image built with only
// these four formats (others are refused as not readable). Layout is HWC, the
// layout of decoded pixels and of PIL/numpy arrays; io/transforms/to_tensor.h
// turns it into the CHW float tensor that models take.
//
// Channels: `keep` gives the file's own count (1 grey, 2 grey+alpha, 3 RGB,
// 4 RGBA); `grey`, `rgb` and `rgba` convert (stb's conversion: grey = (77 R +
// 150 G + 29 B) >> 8, alpha dropped, or 255 added). Note that PIL's
// convert("L") uses different weights (ITU-R 601-2, 299/587/114); use
// io/transforms Grayscale on an RGB image when PIL parity matters.
//
// Validation: the header is read first (stbi_info_from_memory) and images with a
// zero side or more than kMaxImagePixels pixels are refused before any pixel
// memory is allocated. Every failure throws graft::Error naming the file (or the
// in-memory name) and stb's reason ("bad huffman code", "unknown image type").
// Truncated files are errors: PNG and JPEG through stb's own checks, BMP and GIF
// (which stb would silently complete with zeros) through a length check of the
// pixel data and of the first frame's blocks made here. Exceptions: a PNG that
// lost only its final IEND chunk, or a GIF only its trailer byte, still holds
// every pixel and decodes.
//
// Thread safety: decode calls may run concurrently from many threads. stb_image
// keeps a few process-wide flags (vertical flip on load, iPhone PNG
// unpremultiply/BGR conversion); this file never sets them and nothing else in
// Graft may.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace graft::io {

enum class ImageChannels { keep, grey, rgb, rgba };

// Largest accepted image: 2^28 pixels (16384 x 16384), about 1 GiB as RGBA.
constexpr int64_t kMaxImagePixels = int64_t(1) << 28;

struct ImageInfo {
    int64_t height = 0;
    int64_t width = 0;
    int64_t channels = 0;  // as stored in the file (1..4)
};

// Header only: the size and channel count, without decoding pixels.
ImageInfo read_image_info(const std::string& path);
ImageInfo image_info(const void* bytes, size_t size, const std::string& name);

// Decodes the file to a contiguous uint8 tensor [H, W, C].
Tensor read_image(const std::string& path, ImageChannels channels = ImageChannels::keep);
// Decodes `size` bytes in memory; `name` is used in error messages.
Tensor decode_image(const void* bytes, size_t size, const std::string& name,
                    ImageChannels channels = ImageChannels::keep);

// uint8 [H, W, C] -> float32 [H, W, C] scaled to [0, 1] (value / 255), layout
// kept. For the CHW float tensor that models take use ToTensor.
Tensor image_to_float(const Tensor& image);

}  // namespace graft::io
