// Random numbers: Philox 4x32-10 against the Random123 known answers, pinned
// first values of each draw, reproducibility, thread-count independence (bit
// exact), distribution moments, bernoulli rates, randperm, generator state,
// and the in-place fills' autograd rules.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

struct Moments {
    double mean, std;
};

Moments moments(const Tensor& t) {
    const std::vector<double> v = t.to_vector<double>();
    double s = 0, s2 = 0;
    for (double x : v) s += x;
    const double mean = s / double(v.size());
    for (double x : v) s2 += (x - mean) * (x - mean);
    return {mean, std::sqrt(s2 / double(v.size() - 1))};
}

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           std::memcmp(a.raw_data(), b.raw_data(), size_t(a.numel()) * a.element_size()) == 0;
}

// Restores the pool size when a test that changes it ends (or fails).
struct ThreadCountGuard {
    int saved = get_num_threads();
    ~ThreadCountGuard() { set_num_threads(saved); }
};

}  // namespace

TEST_CASE("philox4x32_10 matches the Random123 known-answer vectors", "[random]") {
    // Random123 tests/kat_vectors, philox4x32_10 rows: counter, key, expected.
    struct Kat {
        uint32_t ctr[4], key[2], out[4];
    };
    const Kat kats[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (const Kat& k : kats) {
        uint32_t out[4];
        philox4x32_10(k.ctr, k.key, out);
        for (int i = 0; i < 4; ++i) CHECK(out[i] == k.out[i]);
    }
    // The (seed, counter) form: key = seed's words, counter = (low, high, 0, 0).
    uint32_t a[4], b[4];
    const uint32_t ctr[4] = {0x89abcdefu, 0x01234567u, 0, 0}, key[2] = {42u, 7u};
    philox4x32((uint64_t(7) << 32) | 42u, 0x0123456789abcdefull, a);
    philox4x32_10(ctr, key, b);
    CHECK(std::equal(a, a + 4, b));
}

TEST_CASE("first values of each draw are pinned", "[random]") {
    // Computed independently (Python) from Philox with seed 42, counters 0 and 1:
    // rand = (word >> 8) * 2^-24; randn = Box-Muller on word pairs with u1 = 1 - u.
    Generator g(42);
    CHECK(rand({8}, DType::Float32, &g).to_vector<float>() ==
          std::vector<float>{0.6129598617553711f, 0.4685865044593811f, 0.07323169708251953f, 0.3408614993095398f,
                             0.9877186417579651f, 0.32706332206726074f, 0.5139061212539673f, 0.45431554317474365f});
    g.manual_seed(42);
    const std::vector<float> z = randn({8}, DType::Float32, &g).to_vector<float>();
    const std::vector<float> want{-1.3510921001434326f, 0.27019208669662476f, -0.2107541412115097f,
                                  0.3281555473804474f,  -1.3808543682098389f, 2.625373601913452f,
                                  -1.1519832611083984f, 0.3400611877441406f};
    for (size_t i = 0; i < want.size(); ++i) CHECK(z[i] == Approx(want[i]).epsilon(1e-6));
    g.manual_seed(42);
    const std::vector<double> d = rand({2}, DType::Float64, &g).to_vector<double>();
    CHECK(d == std::vector<double>{0.6129598811894158, 0.07323173744158384});
}

TEST_CASE("the same seed reproduces a draw and different seeds differ", "[random]") {
    manual_seed(123);
    Tensor a = randn({1000});
    Tensor a2 = randn({1000});  // the generator moved on
    manual_seed(123);
    Tensor b = randn({1000});
    CHECK(bit_equal(a, b));
    CHECK_FALSE(bit_equal(a, a2));
    Generator g1(1), g2(2);
    CHECK_FALSE(bit_equal(rand({100}, DType::Float32, &g1), rand({100}, DType::Float32, &g2)));
}

TEST_CASE("a draw advances the offset, so element i depends only on (seed, counter)", "[random]") {
    Generator g(9);
    Tensor first = rand({5}, DType::Float32, &g);
    CHECK(g.offset() == 8);  // two blocks of four words
    Tensor second = rand({4}, DType::Float32, &g);
    CHECK(g.offset() == 12);
    g.manual_seed(9);
    const std::vector<float> all = rand({12}, DType::Float32, &g).to_vector<float>();
    const std::vector<float> f = first.to_vector<float>(), s = second.to_vector<float>();
    CHECK(std::equal(f.begin(), f.end(), all.begin()));
    CHECK(std::equal(s.begin(), s.end(), all.begin() + 8));
}

TEST_CASE("draws are bit-identical for any thread count", "[random]") {
    ThreadCountGuard guard;
    auto draw_all = [] {
        Generator g(2024);
        std::vector<Tensor> out;
        out.push_back(rand({100003}, DType::Float32, &g));
        out.push_back(randn({100003}, DType::Float32, &g));
        out.push_back(randn({50001}, DType::Float64, &g));
        out.push_back(uniform({70001}, -2, 3, DType::Float64, &g));
        out.push_back(bernoulli({90001}, 0.25, DType::Float32, &g));
        out.push_back(bernoulli(full({80001}, 0.5), &g));
        return out;
    };
    set_num_threads(1);
    const std::vector<Tensor> one = draw_all();
    set_num_threads(2);
    const std::vector<Tensor> two = draw_all();
    set_num_threads(3);
    const std::vector<Tensor> three = draw_all();
    for (size_t i = 0; i < one.size(); ++i) {
        INFO("draw " << i);
        CHECK(bit_equal(one[i], two[i]));
        CHECK(bit_equal(one[i], three[i]));
    }
}

TEST_CASE("uniform and normal have the right moments over 1e5 samples", "[random]") {
    Generator g(7);
    // Standard errors of the mean: 0.29/316 ~ 1e-3 (uniform), 1/316 ~ 3e-3 (normal).
    for (DType dt : {DType::Float32, DType::Float64}) {
        Tensor u = rand({100000}, dt, &g);
        const Moments mu = moments(u);
        CHECK(mu.mean == Approx(0.5).margin(0.005));
        CHECK(mu.std == Approx(std::sqrt(1.0 / 12)).margin(0.005));
        const std::vector<double> v = u.to_vector<double>();
        CHECK(*std::min_element(v.begin(), v.end()) >= 0.0);
        CHECK(*std::max_element(v.begin(), v.end()) < 1.0);
        const Moments mn = moments(randn({100000}, dt, &g));
        CHECK(mn.mean == Approx(0.0).margin(0.015));
        CHECK(mn.std == Approx(1.0).margin(0.015));
    }
    const Moments m2 = moments(normal({100000}, 3, 2, DType::Float32, &g));
    CHECK(m2.mean == Approx(3.0).margin(0.03));
    CHECK(m2.std == Approx(2.0).margin(0.03));
    const Moments m3 = moments(uniform({100000}, -4, 2, DType::Float32, &g));
    CHECK(m3.mean == Approx(-1.0).margin(0.03));
    CHECK(m3.std == Approx(6.0 / std::sqrt(12.0)).margin(0.03));
}

TEST_CASE("uniform stays below high even where rounding would reach it", "[random]") {
    // One float32 step above 1: low + span * u rounds to high for u >= 1/2.
    const double high = 1.0 + std::ldexp(1.0, -23);
    for (float x : uniform({1000}, 1.0, high, DType::Float32).to_vector<float>()) REQUIRE(double(x) < high);
    const double high64 = 1.0 + std::ldexp(1.0, -52);
    for (double x : uniform({1000}, 1.0, high64, DType::Float64).to_vector<double>()) REQUIRE(x < high64);
    CHECK(uniform({3}, 2, 2).to_vector<float>() == std::vector<float>{2, 2, 2});
}

TEST_CASE("16-bit float draws are converted float32 draws", "[random]") {
    Generator g(5);
    Tensor h = rand({64}, DType::Float16, &g);
    CHECK(h.dtype() == DType::Float16);
    g.manual_seed(5);
    CHECK(bit_equal(h, rand({64}, DType::Float32, &g).to(DType::Float16)));
    CHECK(randn({3, 4}, DType::BFloat16).dtype() == DType::BFloat16);
}

TEST_CASE("bernoulli hits its rate, per element or constant", "[random]") {
    Generator g(11);
    CHECK(moments(bernoulli({100000}, 0.3, DType::Float32, &g)).mean == Approx(0.3).margin(0.006));
    Tensor b = bernoulli({10}, 1.0, DType::Bool, &g);
    CHECK(b.dtype() == DType::Bool);
    CHECK(b.to_vector<uint8_t>() == std::vector<uint8_t>(10, 1));
    CHECK(bernoulli({10}, 0.0, DType::Int64, &g).to_vector<int64_t>() == std::vector<int64_t>(10, 0));
    // Per-element p: 0 and 1 are certain; 0.5 lands near half.
    Tensor p = from_vector<double>({0.0, 1.0, 0.5}).reshape({1, 3}).expand({20000, 3});
    const std::vector<double> v = bernoulli(p, &g).to_vector<double>();
    double ones_at[3] = {0, 0, 0};
    for (size_t i = 0; i < v.size(); ++i) ones_at[i % 3] += v[i];
    CHECK(ones_at[0] == 0);
    CHECK(ones_at[1] == 20000);
    CHECK(ones_at[2] / 20000 == Approx(0.5).margin(0.015));
    CHECK(bernoulli(full({4}, 0.5, DType::Float16), &g).dtype() == DType::Float16);
    CHECK_THROWS_WITH(bernoulli({2}, 1.5), Contains("bernoulli") && Contains("1.5"));
    CHECK_THROWS_WITH(bernoulli(from_vector<float>({0.5f, -0.25f})), Contains("bernoulli") && Contains("-0.25"));
    CHECK_THROWS_WITH(bernoulli(ones({2}, DType::Int64)), Contains("bernoulli") && Contains("int64"));
}

TEST_CASE("randperm is a deterministic permutation", "[random]") {
    Generator g(3);
    Tensor p = randperm(1000, &g);
    CHECK(p.dtype() == DType::Int64);
    std::vector<int64_t> v = p.to_vector<int64_t>();
    std::vector<int64_t> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == arange(1000).to_vector<int64_t>());
    CHECK(v != sorted);
    g.manual_seed(3);
    CHECK(randperm(1000, &g).to_vector<int64_t>() == v);
    CHECK(randperm(0).numel() == 0);
    CHECK(randperm(1).to_vector<int64_t>() == std::vector<int64_t>{0});
    // Every position sees every value about equally often.
    int64_t first_is_zero = 0;
    for (int i = 0; i < 3000; ++i) first_is_zero += randperm(3, &g).to_vector<int64_t>()[0] == 0;
    CHECK(double(first_is_zero) / 3000 == Approx(1.0 / 3).margin(0.04));
    CHECK_THROWS_WITH(randperm(-1), Contains("randperm") && Contains("-1"));
}

TEST_CASE("a generator's state can be saved and restored", "[random]") {
    Generator g(77);
    rand({13}, DType::Float32, &g);
    const uint64_t seed = g.seed(), offset = g.offset();
    Tensor a = randn({50}, DType::Float32, &g);
    Tensor b = randn({50}, DType::Float32, &g);
    g.set_state(seed, offset);
    CHECK(bit_equal(randn({50}, DType::Float32, &g), a));
    CHECK(bit_equal(randn({50}, DType::Float32, &g), b));
}

TEST_CASE("uniform_ and normal_ fill in place and bump the version", "[random]") {
    Generator g(8);
    Tensor t = zeros({4, 5});
    const uint64_t v0 = t.version();
    uniform_(t, 2, 3, &g);
    CHECK(t.version() > v0);
    for (float x : t.to_vector<float>()) CHECK((x >= 2 && x < 3));
    // A non-contiguous view is filled through its own layout.
    Tensor base = zeros({3, 4}, DType::Float64);
    normal_(base.t(), 10, 0.01, &g);
    for (double x : base.to_vector<double>()) CHECK(x == Approx(10).margin(0.1));
    CHECK_THROWS_WITH(uniform_(zeros({2}, DType::Int32), 0, 1), Contains("uniform_") && Contains("int32"));
    CHECK_THROWS_WITH(uniform({2}, 1, 0), Contains("uniform") && Contains("low"));
    CHECK_THROWS_WITH(normal({2}, 0, -1), Contains("normal") && Contains("std"));
    CHECK_THROWS_WITH(rand({2}, DType::Int64), Contains("rand") && Contains("int64"));
}

TEST_CASE("in-place fills respect autograd", "[random][autograd]") {
    Tensor leaf = zeros({3}).requires_grad_();
    CHECK_THROWS_WITH(uniform_(leaf, 0, 1), Contains("uniform_") && Contains("leaf"));
    {
        NoGradGuard no_grad;
        normal_(leaf, 0, 1);  // allowed: initialising a parameter
    }
    Tensor x = from_vector<float>({1, 2, 3}).requires_grad_();
    Tensor a = mul(x, 2.0);
    normal_(a, 0, 1);  // the new values do not depend on x
    REQUIRE(a.grad_fn());
    sum(mul(a, a)).backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 0, 0});
}
