// Content hashes of tensors: what the FeatureCache keys its files by, so that a
// changed weight, shape or dtype gives a different key.
//
//   uint64_t h = transfer::hash_tensors(model->parameters());   // 64 bits
//   std::string hex = transfer::hash_hex(h);                    // "9c0e...": 16 hex digits
//
// The hash is XXH64 (Yann Collet's xxHash, 64-bit variant, written here from
// its published specification; known-answer tests in test_feature_cache.cpp).
// hash_tensors chains it over, for each tensor in order: the dtype's name, the
// rank and sizes, then the bytes of the values in row-major order (non-
// contiguous tensors and tensors on other devices are copied to contiguous CPU
// memory first). So the result depends on values, shapes, dtypes and order,
// never on strides, offsets or storage sharing.
//
// Not cryptographic: it detects change, not tampering.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace graft::transfer {

// XXH64 of `size` bytes at `data` with `seed`. (No default seed here, so that
// xxh64("text", seed) cannot silently pick this form with seed as the size.)
uint64_t xxh64(const void* data, size_t size, uint64_t seed);
inline uint64_t xxh64(std::string_view bytes, uint64_t seed = 0) { return xxh64(bytes.data(), bytes.size(), seed); }

// The chained hash of dtype, shape and values of each tensor (see above).
uint64_t hash_tensors(const std::vector<Tensor>& tensors, uint64_t seed = 0);
// One tensor's values only (its bytes, row-major), e.g. to check a file's payload.
uint64_t hash_values(const Tensor& tensor, uint64_t seed = 0);

// 16 lowercase hex digits.
std::string hash_hex(uint64_t hash);

}  // namespace graft::transfer
