// IDX files: the format of MNIST, Fashion-MNIST, KMNIST and EMNIST, read into a
// Tensor. Files may be gzip-compressed (detected by the 1f 8b magic) or raw.
//
// Layout (all integers big-endian):
//   bytes 0-1   zero
//   byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
//               0x0D float32, 0x0E float64
//   byte  3     ndim (1..8 accepted here)
//   ndim x u32  sizes, outermost first
//   data        row-major, product(sizes) elements, big-endian
//
// Dtypes: uint8 -> UInt8, int32 -> Int32, float32 -> Float32, float64 -> Float64.
// Graft has no int8 or int16 dtype, so those two are widened to Int32.
//
// Validation is strict: every problem throws graft::Error naming the file and
// what is wrong (missing file, bad magic, unknown type, bad ndim, sizes whose
// byte count overflows, truncated data, a corrupt gzip stream). Bytes after the
// declared data are refused too: a file with trailing data is more likely a
// wrong or damaged file than a deliberate extension, and silently dropping it
// would hide that. Memory is bounded by what the file really holds: a header
// that declares gigabytes in a tiny file fails before allocating them.
//
// Not handled: writing IDX, memory-mapping (raw files are read, not mapped).
// Fuzzed: tests/fuzz/fuzz_idx.cpp (parse_idx).
#pragma once

#include <string>

#include "core/tensor.h"

namespace graft::io {

// Reads the whole file into a new contiguous CPU tensor of the declared shape.
Tensor read_idx(const std::string& path);
// The same from `size` bytes in memory (raw or gzipped); `name` stands for the
// file in error messages. The fuzz target drives this entry point.
Tensor parse_idx(const void* data, size_t size, const std::string& name);

}  // namespace graft::io
