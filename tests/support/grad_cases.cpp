#include "tests/support/grad_cases.h"

#include <catch2/catch.hpp>

namespace graft::testing {

std::multimap<std::string, std::function<void()>>& grad_cases() {
    static std::multimap<std::string, std::function<void()>> cases;
    return cases;
}

GradCase::GradCase(std::string op, std::function<void()> run) { grad_cases().emplace(std::move(op), std::move(run)); }

void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                      const autograd::GradcheckOptions& options) {
    const autograd::GradcheckResult r = autograd::gradcheck(fn, inputs, options);
    INFO(r.message);
    CHECK(r.ok);
}

namespace {
uint64_t next_seed() {
    static uint64_t seed = 1234;
    return seed++;
}
}  // namespace

Tensor rand64(const Shape& shape, double low, double high) {
    // A small LCG keeps these independent of the library's own generator.
    uint64_t state = next_seed() * 6364136223846793005ull + 1442695040888963407ull;
    std::vector<double> v(size_t(shape_numel(shape)));
    for (double& x : v) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        x = low + (high - low) * double(state >> 11) / double(1ull << 53);
    }
    Tensor t = from_vector(v, shape);
    t.requires_grad_(true);
    return t;
}

Tensor rand64_off_kinks(const Shape& shape, double gap) {
    const int64_t n = shape_numel(shape);
    std::vector<double> v(static_cast<size_t>(n));
    // Distinct values spaced `gap` apart, none near 0, in a shuffled order.
    uint64_t state = next_seed();
    for (int64_t i = 0; i < n; ++i) {
        const double magnitude = gap * double(i / 2 + 1);
        v[size_t(i)] = (i % 2 ? -magnitude : magnitude) + gap * 0.37;
    }
    for (int64_t i = n - 1; i > 0; --i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        std::swap(v[size_t(i)], v[size_t((state >> 33) % uint64_t(i + 1))]);
    }
    Tensor t = from_vector(v, shape);
    t.requires_grad_(true);
    return t;
}

}  // namespace graft::testing
