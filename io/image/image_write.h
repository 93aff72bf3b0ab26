// Writing images: PNG and JPEG files (or bytes in memory) from uint8 tensors,
// encoded by stb_image_write (Debian's libstb-dev), PNG deflate done by zlib.
//
//   Tensor rgb = ...;                                   // uint8 [H, W, 3]
//   io::write_png("out.png", rgb);
//   io::write_jpeg("out.jpg", rgb, 90);                 // quality 1..100
//   io::write_png("grid.png", io::chw_to_hwc_uint8(x)); // float [C, H, W] in [0, 1]
//
// Accepted images: uint8 [H, W, C] with C = 1 (grey), 2 (grey + alpha, PNG only),
// 3 (RGB) or 4 (RGBA), or uint8 [H, W] (grey); any strides (non-contiguous
// tensors are copied). Width and height must be at least 1 and fit stb's int.
// JPEG has no alpha: 2- and 4-channel images are refused rather than silently
// flattened.
//
// Files are written atomically through io::AtomicFile (temporary file beside
// the target, fsync, rename), so a crash never leaves a half written image
// under the final name. Every failure throws graft::Error naming
// the file and the tensor's dtype and shape.
//
// Reading images lives in io/image/image_read.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace graft::io {

// The encoded file contents, for callers that store or send them elsewhere.
std::vector<uint8_t> encode_png(const Tensor& image);
std::vector<uint8_t> encode_jpeg(const Tensor& image, int quality = 90);

void write_png(const std::string& path, const Tensor& image);
void write_jpeg(const std::string& path, const Tensor& image, int quality = 90);

// float [C, H, W] (C = 1, 3 or 4; values in [0, 1], clamped, NaN -> 0) to
// uint8 [H, W, C], rounding to nearest: the layout models use, turned into the
// layout image files use. Any floating dtype is accepted.
Tensor chw_to_hwc_uint8(const Tensor& image);

}  // namespace graft::io
