// Seeded random numbers on the CPU: the Philox 4x32-10 block function, and the
// draws built on it (uniform, normal, bernoulli, randperm, in-place fills).
//
// Every draw reserves its words from the generator up front (Generator::advance)
// and then turns Philox block b into a fixed number of elements, so element i
// depends only on (seed, first block + i / per_block). The blocks are filled in
// parallel, and the result is bit-identical for any thread count.
// Other devices get a CPU draw copied over, so they see the same numbers.
#include "core/ops/random.h"

#include <algorithm>
#include <cmath>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;

// ---- Philox 4x32-10 ---------------------------------------------------------
// Constants from Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy
// as 1, 2, 3" (SC'11), Table 2 and section 3.3 (Weyl key schedule).
namespace {
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kPhiloxRounds = 10;
}  // namespace

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < kPhiloxRounds; ++round) {
        const uint64_t p0 = uint64_t(kPhiloxM0) * c0;
        const uint64_t p1 = uint64_t(kPhiloxM1) * c2;
        const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
        const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void philox4x32(uint64_t seed, uint64_t counter, uint32_t out[4]) {
    const uint32_t ctr[4] = {uint32_t(counter), uint32_t(counter >> 32), 0u, 0u};
    const uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
    philox4x32_10(ctr, key, out);
}

Generator& default_generator() {
    static Generator generator;
    return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {

// Blocks per parallel chunk: 8k words, enough work to amortise a task switch.
constexpr int64_t kGrainBlocks = 2048;
constexpr double kTwoPi = 6.283185307179586476925286766559;

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

// [0, 1) with 24 random bits (every float32 in the grid k * 2^-24 is reachable).
inline float uniform24(uint32_t w) { return float(w >> 8) * 0x1.0p-24f; }
// [0, 1) with 53 random bits from two words.
inline double uniform53(uint32_t hi, uint32_t lo) {
    return double(((uint64_t(hi) << 32) | lo) >> 11) * 0x1.0p-53;
}

// Box-Muller: two uniforms, u1 in (0, 1] so the log is finite, to two N(0, 1).
inline void box_muller(double u1, double u2, double& z0, double& z1) {
    const double r = std::sqrt(-2.0 * std::log(u1));
    z0 = r * std::cos(kTwoPi * u2);
    z1 = r * std::sin(kTwoPi * u2);
}

// Reserves ceil(n / per_block) Philox blocks from `gen` and runs
// make(block_index, words, values) for each, in parallel; values[0..per_block)
// become out[block_index * per_block ...] (the tail of the last block is dropped).
template <typename T, int per_block, typename Make>
void fill_blocks(T* out, int64_t n, Generator& gen, Make make) {
    if (n <= 0) return;
    const int64_t blocks = (n + per_block - 1) / per_block;
    const uint64_t seed = gen.seed();
    const uint64_t first_block = gen.advance(uint64_t(blocks) * 4) / 4;
    parallel_for(0, blocks, kGrainBlocks, [&](int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b) {
            uint32_t w[4];
            philox4x32(seed, first_block + uint64_t(b), w);
            T values[per_block];
            make(b, w, values);
            const int64_t base = b * per_block;
            const int64_t count = std::min<int64_t>(per_block, n - base);
            for (int64_t j = 0; j < count; ++j) out[base + j] = values[j];
        }
    });
}

void check_float_dtype(DType dtype, const char* op) {
    check(is_floating(dtype), op, "expected a floating-point dtype, got ", dtype_name(dtype));
}

void check_sizes(const Shape& shape, const char* op) {
    for (int64_t s : shape)
        check(s >= 0, op, "negative size ", s, " in shape ", shape_str(shape));
}

// The compute dtype of a draw: float64 keeps its 53 bits, the rest draw float32.
DType draw_dtype(DType dtype) { return dtype == DType::Float64 ? DType::Float64 : DType::Float32; }
Tensor finish(const Tensor& drawn, DType dtype) { return drawn.dtype() == dtype ? drawn : drawn.to(dtype); }

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, DType dtype, Generator* gen) {
    check_float_dtype(dtype, "uniform");
    check_sizes(shape, "uniform");
    check(low <= high, "uniform", "expected low <= high, got low ", low, " and high ", high);
    check(std::isfinite(low) && std::isfinite(high), "uniform", "expected finite bounds, got ", low, " and ", high);
    Generator& g = pick(gen);
    Tensor out = Tensor::empty(shape, draw_dtype(dtype));
    const double span = high - low;
    // low + span * u can round up to `high`; the largest value below it keeps [low, high).
    const double top64 = low < high ? std::nextafter(high, low) : high;
    const float top32 = float(low) < float(high) ? std::nextafter(float(high), float(low)) : float(high);
    if (out.dtype() == DType::Float64) {
        fill_blocks<double, 2>(out.data<double>(), out.numel(), g, [&](int64_t, const uint32_t* w, double* v) {
            v[0] = std::min(low + span * uniform53(w[0], w[1]), top64);
            v[1] = std::min(low + span * uniform53(w[2], w[3]), top64);
        });
    } else {
        fill_blocks<float, 4>(out.data<float>(), out.numel(), g, [&](int64_t, const uint32_t* w, float* v) {
            for (int j = 0; j < 4; ++j) v[j] = std::min(float(low + span * double(uniform24(w[j]))), top32);
        });
    }
    return finish(out, dtype);
}

Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
    check_float_dtype(dtype, "rand");
    return uniform(shape, 0.0, 1.0, dtype, gen);
}

Tensor normal(const Shape& shape, double mean, double std, DType dtype, Generator* gen) {
    check_float_dtype(dtype, "normal");
    check_sizes(shape, "normal");
    check(std >= 0.0, "normal", "expected std >= 0, got ", std);
    Generator& g = pick(gen);
    Tensor out = Tensor::empty(shape, draw_dtype(dtype));
    if (out.dtype() == DType::Float64) {
        fill_blocks<double, 2>(out.data<double>(), out.numel(), g, [&](int64_t, const uint32_t* w, double* v) {
            double z0, z1;
            box_muller(1.0 - uniform53(w[0], w[1]), uniform53(w[2], w[3]), z0, z1);
            v[0] = mean + std * z0;
            v[1] = mean + std * z1;
        });
    } else {
        fill_blocks<float, 4>(out.data<float>(), out.numel(), g, [&](int64_t, const uint32_t* w, float* v) {
            double z0, z1, z2, z3;
            box_muller(1.0 - double(uniform24(w[0])), double(uniform24(w[1])), z0, z1);
            box_muller(1.0 - double(uniform24(w[2])), double(uniform24(w[3])), z2, z3);
            v[0] = float(mean + std * z0);
            v[1] = float(mean + std * z1);
            v[2] = float(mean + std * z2);
            v[3] = float(mean + std * z3);
        });
    }
    return finish(out, dtype);
}

Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
    check_float_dtype(dtype, "randn");
    return normal(shape, 0.0, 1.0, dtype, gen);
}

// ---- bernoulli ---------------------------------------------------------------

namespace {

// 1 where a uniform draw falls below p[i]; T is float (24-bit draws) or double (53-bit).
template <typename T>
Tensor bernoulli_cpu(const Tensor& p, Generator& g) {
    const Tensor pc = p.contiguous();
    const T* prob = pc.data<T>();
    const int64_t n = pc.numel();
    for (int64_t i = 0; i < n; ++i)
        check(prob[i] >= T(0) && prob[i] <= T(1), "bernoulli", "probabilities must be in [0, 1], got ",
              double(prob[i]), " at flat index ", i, " of ", describe(p));
    Tensor out = Tensor::empty(p.shape(), p.dtype());
    T* o = out.data<T>();
    if constexpr (std::is_same_v<T, double>) {
        fill_blocks<double, 2>(o, n, g, [&](int64_t b, const uint32_t* w, double* v) {
            v[0] = uniform53(w[0], w[1]) < prob[b * 2] ? 1.0 : 0.0;
            v[1] = b * 2 + 1 < n && uniform53(w[2], w[3]) < prob[b * 2 + 1] ? 1.0 : 0.0;
        });
    } else {
        fill_blocks<float, 4>(o, n, g, [&](int64_t b, const uint32_t* w, float* v) {
            for (int64_t j = 0; j < 4; ++j) v[j] = b * 4 + j < n && uniform24(w[j]) < prob[b * 4 + j] ? 1.0f : 0.0f;
        });
    }
    return out;
}

}  // namespace

Tensor bernoulli(const Tensor& p, Generator* gen) {
    check(is_floating(p.dtype()), "bernoulli", "expected a floating-point tensor of probabilities, got ",
          describe(p));
    Tensor host = p.device().is_cpu() ? p.detach() : p.detach().to(Device::cpu());
    Tensor out = host.dtype() == DType::Float64 ? bernoulli_cpu<double>(host, pick(gen))
                                                : bernoulli_cpu<float>(host.to(DType::Float32), pick(gen));
    out = finish(out, p.dtype());
    return p.device().is_cpu() ? out : out.to(p.device());
}

Tensor bernoulli(const Shape& shape, double p, DType dtype, Generator* gen) {
    check(p >= 0.0 && p <= 1.0, "bernoulli", "probability must be in [0, 1], got ", p);
    check_sizes(shape, "bernoulli");
    Tensor out = Tensor::empty(shape, DType::UInt8);
    // 53-bit draws against a double p: the rate is p to within 2^-53.
    fill_blocks<uint8_t, 2>(out.data<uint8_t>(), out.numel(), pick(gen), [&](int64_t, const uint32_t* w, uint8_t* v) {
        v[0] = uniform53(w[0], w[1]) < p;
        v[1] = uniform53(w[2], w[3]) < p;
    });
    return finish(out, dtype);
}

// ---- randperm ------------------------------------------------------------------

// Fisher-Yates from the end: step k (i = n-1-k) swaps i with j uniform in [0, i],
// j from the 64-bit word pair k by Lemire's multiply-shift (bias below i / 2^64).
Tensor randperm(int64_t n, Generator* gen) {
    check(n >= 0, "randperm", "n must be non-negative, got ", n);
    Tensor out = arange(int64_t(0), n, int64_t(1));
    if (n < 2) return out;
    int64_t* p = out.data<int64_t>();
    Generator& g = pick(gen);
    const uint64_t seed = g.seed();
    const uint64_t first_block = g.advance(uint64_t(n - 1) * 2) / 4;
    uint32_t w[4];
    for (int64_t k = 0; k < n - 1; ++k) {
        if (k % 2 == 0) philox4x32(seed, first_block + uint64_t(k / 2), w);
        const uint64_t x = (uint64_t(w[(k % 2) * 2]) << 32) | w[(k % 2) * 2 + 1];
        const int64_t i = n - 1 - k;
        const auto j = int64_t((unsigned __int128)x * uint64_t(i + 1) >> 64);
        std::swap(p[i], p[j]);
    }
    return out;
}

// ---- in place ----------------------------------------------------------------------

namespace {

// Writes a fresh draw into t. The new values do not depend on the old ones, so
// when t carries history the gradient flowing back into it is zero (as PyTorch).
const Tensor& write_draw(const Tensor& t, Tensor drawn, const char* op) {
    if (!t.device().is_cpu()) drawn = drawn.to(t.device());
    if (autograd::should_record({&t})) {
        autograd::record(op, {t}, drawn, [shape = t.shape(), dtype = t.dtype()](const Tensor& g, const Needs&) {
            return Grads{zeros(shape, dtype, g.device())};
        });
        autograd::rebase_history(t, drawn);
    } else {
        copy_(t, drawn);  // bumps the version counter
    }
    return t;
}

}  // namespace

const Tensor& uniform_(const Tensor& t, double low, double high, Generator* gen) {
    autograd::check_inplace(t, "uniform_");
    check(is_floating(t.dtype()), "uniform_", "expected a floating-point tensor, got ", describe(t));
    return write_draw(t, uniform(t.shape(), low, high, t.dtype(), gen), "uniform_");
}

const Tensor& normal_(const Tensor& t, double mean, double std, Generator* gen) {
    autograd::check_inplace(t, "normal_");
    check(is_floating(t.dtype()), "normal_", "expected a floating-point tensor, got ", describe(t));
    return write_draw(t, normal(t.shape(), mean, std, t.dtype(), gen), "normal_");
}

}  // namespace graft
