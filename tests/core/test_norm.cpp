// batch_norm, layer_norm and group_norm forward against composites of
// primitive ops (the oracle: mean, var, sqrt, ...), in float64 and float32;
// running-statistics updates and their version bump; the eval-mode input
// gradient; thread-count independence; errors that name the op and shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

Tensor values(const Shape& shape, uint64_t seed, double scale = 1.0, double offset = 0.0,
              DType dtype = DType::Float64) {
    Generator gen(seed);
    return add(mul(rand(shape, DType::Float64, &gen), 2.0 * scale), offset - scale).to(dtype);
}

// max |a - b| / (floor + |b|): relative above `floor`, absolute below it.
double max_rel(const Tensor& a, const Tensor& b, double floor = 1e-6) {
    const auto x = a.to(DType::Float64).contiguous().to_vector<double>();
    const auto y = b.to(DType::Float64).contiguous().to_vector<double>();
    REQUIRE(x.size() == y.size());
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]) / (floor + std::abs(y[i])));
    return worst;
}

Tensor f64(const Tensor& t) { return t.to(DType::Float64); }

// (x - mean) / sqrt(var + eps) over `dims`, from primitives.
Tensor normalise(const Tensor& x, const std::vector<int64_t>& dims, double eps) {
    const Tensor m = mean(x, dims, true);
    const Tensor v = var(x, dims, 0, true);
    return div(sub(x, m), sqrt(add(v, eps)));
}

// weight/bias [C] as [1, C, 1, ...] for broadcasting against x.
Tensor per_channel(const Tensor& p, int64_t dim) {
    Shape s(size_t(dim), 1);
    s[1] = p.size(0);
    return p.reshape(s);
}

}  // namespace

TEST_CASE("batch_norm in training matches the composite and updates running statistics", "[norm]") {
    for (DType dtype : {DType::Float64, DType::Float32}) {
        const double tol = dtype == DType::Float64 ? 1e-10 : 1e-5;
        const Tensor x = values({4, 3, 5, 2}, 1, 2.0, 30.0, dtype);  // mean 30: no cancellation allowed
        const Tensor w = values({3}, 2, 1.0, 0.0, dtype), b = values({3}, 3, 1.0, 0.0, dtype);
        const Tensor rm = zeros({3}, dtype), rv = ones({3}, dtype);
        const uint64_t v0 = rm.version();
        const Tensor y = batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
        // The oracle runs in float64 on the same values (float32 converts exactly).
        const Tensor want =
            add(mul(normalise(f64(x), {0, 2, 3}, 1e-5), per_channel(f64(w), 4)), per_channel(f64(b), 4));
        CHECK(max_rel(y, want, 1.0) < tol);
        CHECK(rm.version() > v0);
        CHECK(max_rel(rm, mul(mean(f64(x), {0, 2, 3}), 0.1)) < tol);
        CHECK(max_rel(rv, add(mul(var(f64(x), {0, 2, 3}, 1), 0.1), 0.9)) < tol);  // unbiased
    }
}

TEST_CASE("batch_norm on [N, C] uses the column path and matches the composite", "[norm]") {
    const Tensor x = values({7, 5}, 4);
    const Tensor y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
    CHECK(max_rel(y, normalise(x, {0}, 1e-5)) < 1e-10);
}

TEST_CASE("batch_norm in eval uses running statistics; the input gradient is g w / sqrt(rv + eps)", "[norm]") {
    const Tensor x = values({2, 3, 4}, 5);
    x.requires_grad_(true);
    const Tensor w = values({3}, 6), rm = values({3}, 7), rv = values({3}, 8, 0.5, 1.0);
    const Tensor y = batch_norm(x, w, Tensor(), rm, rv, false, 0.1, 1e-3);
    const Tensor scale = div(per_channel(w, 3), sqrt(add(per_channel(rv, 3), 1e-3)));
    CHECK(max_rel(y, mul(sub(x.detach(), per_channel(rm, 3)), scale)) < 1e-12);
    const Tensor g = values({2, 3, 4}, 9);
    y.backward(g);
    CHECK(max_rel(x.grad(), mul(g, scale)) < 1e-12);
}

TEST_CASE("batch_norm does not depend on the thread count", "[norm]") {
    const Tensor x = values({64, 8, 33}, 10, 1.0, 0.0, DType::Float32);
    x.requires_grad_(true);
    const Tensor w = values({8}, 11, 1.0, 0.0, DType::Float32);
    w.requires_grad_(true);
    const Tensor g = values({64, 8, 33}, 12, 1.0, 0.0, DType::Float32);
    std::vector<std::vector<float>> outs;
    const int before = get_num_threads();
    for (int t : {1, 2, 3}) {
        set_num_threads(t);
        x.set_grad(Tensor());
        w.set_grad(Tensor());
        const Tensor y = batch_norm(x, w, Tensor(), Tensor(), Tensor(), true);
        y.backward(g);
        std::vector<float> all = y.to_vector<float>();
        for (const Tensor& grad : {x.grad(), w.grad()}) {
            const std::vector<float> v = grad.to_vector<float>();
            all.insert(all.end(), v.begin(), v.end());
        }
        outs.push_back(all);
    }
    set_num_threads(before);
    CHECK(outs[0] == outs[1]);
    CHECK(outs[0] == outs[2]);
}

TEST_CASE("layer_norm and group_norm match their composites", "[norm]") {
    for (DType dtype : {DType::Float64, DType::Float32}) {
        const double tol = dtype == DType::Float64 ? 1e-10 : 1e-5;
        const Tensor x = values({2, 6, 3, 4}, 13, 1.5, -20.0, dtype);
        const Tensor w = values({3, 4}, 14, 1.0, 0.0, dtype), b = values({3, 4}, 15, 1.0, 0.0, dtype);
        const Tensor ln = layer_norm(x, {3, 4}, w, b);
        CHECK(max_rel(ln, add(mul(normalise(f64(x), {2, 3}, 1e-5), f64(w)), f64(b)), 1.0) < tol);
        const Tensor gw = values({6}, 16, 1.0, 0.0, dtype), gb = values({6}, 17, 1.0, 0.0, dtype);
        const Tensor gn = group_norm(x, 3, gw, gb);
        const Tensor grouped = normalise(f64(x).reshape({2, 3, 2, 3, 4}), {2, 3, 4}, 1e-5).reshape(x.shape());
        CHECK(max_rel(gn, add(mul(grouped, per_channel(f64(gw), 4)), per_channel(f64(gb), 4)), 1.0) < tol);
    }
}

TEST_CASE("norm ops name the op and shapes in their errors", "[norm][errors]") {
    const Tensor x = zeros({2, 3, 4});
    CHECK_THROWS_WITH(batch_norm(x, zeros({4}), Tensor(), Tensor(), Tensor(), true),
                      Contains("batch_norm") && Contains("weight") && Contains("[3]") && Contains("[4]"));
    CHECK_THROWS_WITH(batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                      Contains("batch_norm") && Contains("more than 1 value per channel"));
    CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                      Contains("batch_norm") && Contains("running_mean"));
    CHECK_THROWS_WITH(layer_norm(x, {3}, Tensor(), Tensor()),
                      Contains("layer_norm") && Contains("[3]") && Contains("[2, 3, 4]"));
    CHECK_THROWS_WITH(group_norm(x, 2, Tensor(), Tensor()),
                      Contains("group_norm") && Contains("3") && Contains("divisible") && Contains("2"));
    CHECK_THROWS_WITH(batch_norm(zeros({2, 3}, DType::Int64), Tensor(), Tensor(), Tensor(), Tensor(), true),
                      Contains("batch_norm") && Contains("int64"));
}

TEST_CASE("a frozen weight records no work for it in batch_norm", "[norm]") {
    const Tensor x = values({4, 2, 3}, 18);
    x.requires_grad_(true);
    const Tensor w = ones({2}, DType::Float64);  // requires_grad off
    const Tensor y = batch_norm(x, w, Tensor(), Tensor(), Tensor(), true);
    sum(y).backward();
    CHECK(x.grad().defined());
    CHECK_FALSE(w.grad().defined());
}
