// Seeded random numbers. A Generator is counter-based (Philox 4x32-10): value i of
// a draw depends only on (seed, offset + i), so results do not depend on the
// number of threads that fill a tensor, and a generator's state is two integers
// that checkpoints can save. Each draw advances the offset by what it consumed.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor.h"

namespace graft {

class Generator {
public:
    explicit Generator(uint64_t seed = 0x9e3779b97f4a7c15ull) : seed_(seed) {}
    void manual_seed(uint64_t seed) { seed_ = seed; offset_ = 0; }
    uint64_t seed() const { return seed_; }
    uint64_t offset() const { return offset_; }
    void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; }
    // Reserves `count` 32-bit random words; returns the first counter value.
    uint64_t advance(uint64_t count) { uint64_t first = offset_; offset_ += (count + 3) / 4 * 4; return first; }

private:
    uint64_t seed_;
    uint64_t offset_ = 0;
};

// The process-wide generator used when none is passed (not thread-safe: give
// each thread its own Generator).
Generator& default_generator();
void manual_seed(uint64_t seed);

// The 4 random 32-bit words at `counter` for `seed` (Philox 4x32-10): the
// 128-bit counter is (low, high word of `counter`, 0, 0) and the 64-bit key
// (low, high word of `seed`). A draw at generator offset o (in words) reads
// blocks o/4, o/4 + 1, ...
void philox4x32(uint64_t seed, uint64_t counter, uint32_t out[4]);
// The full block function, as in the Random123 paper (Salmon et al., SC'11),
// for known-answer tests.
void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

Tensor rand(const Shape& shape, DType dtype = DType::Float32, Generator* gen = nullptr);   // U[0, 1)
Tensor randn(const Shape& shape, DType dtype = DType::Float32, Generator* gen = nullptr);  // N(0, 1)
Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::Float32, Generator* gen = nullptr);
Tensor normal(const Shape& shape, double mean, double std, DType dtype = DType::Float32, Generator* gen = nullptr);
// 1 with probability p (per element of `p`, or a constant), as the dtype of p / float32.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, DType dtype = DType::Float32, Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, Generator* gen = nullptr);
// Fills `t` in place (floating dtypes).
const Tensor& uniform_(const Tensor& t, double low, double high, Generator* gen = nullptr);
const Tensor& normal_(const Tensor& t, double mean, double std, Generator* gen = nullptr);

}  // namespace graft
