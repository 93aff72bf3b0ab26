// softmax and log_softmax forward: against a naive reference in double, along
// every dim, on views; extreme values; thread-count independence; errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::vector<double> lcg_values(int64_t n, uint64_t seed, double scale) {
    std::vector<double> v(static_cast<size_t>(n));
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (double& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = scale * (2.0 * double(s >> 11) / double(1ull << 53) - 1.0);
    }
    return v;
}

// Naive softmax of a contiguous [outer, n, inner] block along n, in double.
std::vector<double> naive_softmax(const std::vector<double>& x, int64_t outer, int64_t n, int64_t inner, bool log) {
    std::vector<double> y(x.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            auto at = [&](int64_t j) { return size_t((o * n + j) * inner + i); };
            double mx = -INFINITY, s = 0;
            for (int64_t j = 0; j < n; ++j) mx = std::max(mx, x[at(j)]);
            for (int64_t j = 0; j < n; ++j) s += std::exp(x[at(j)] - mx);
            for (int64_t j = 0; j < n; ++j) y[at(j)] = log ? x[at(j)] - mx - std::log(s) : std::exp(x[at(j)] - mx) / s;
        }
    return y;
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
    const auto g = got.to(DType::Float64).contiguous().to_vector<double>();
    REQUIRE(g.size() == want.size());
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < g.size(); ++i) {
        const double err = std::abs(g[i] - want[i]) / (tol + tol * std::abs(want[i]));
        if (err > worst) worst = err, at = i;
    }
    INFO("worst element " << at << ": got " << g[at] << ", want " << want[at]);
    CHECK(worst <= 1.0);
}

}  // namespace

TEST_CASE("softmax and log_softmax match a naive reference along every dim", "[softmax]") {
    const Shape shape{3, 37, 20};
    const auto xv = lcg_values(shape_numel(shape), 1, 8.0);
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double tol = dtype == DType::Float32 ? 2e-6 : 1e-13;
        const Tensor x = from_vector(xv, shape).to(dtype);
        for (int64_t dim : {0, 1, 2, -1}) {
            const int64_t d = dim < 0 ? dim + 3 : dim;
            int64_t outer = 1, inner = 1;
            for (int64_t k = 0; k < d; ++k) outer *= shape[size_t(k)];
            for (int64_t k = d + 1; k < 3; ++k) inner *= shape[size_t(k)];
            INFO(dtype_name(dtype) << " dim " << dim);
            check_close(softmax(x, dim), naive_softmax(xv, outer, shape[size_t(d)], inner, false), tol);
            check_close(log_softmax(x, dim), naive_softmax(xv, outer, shape[size_t(d)], inner, true), tol);
        }
    }
}

TEST_CASE("softmax of a transposed view equals softmax of its copy", "[softmax]") {
    const Tensor x = from_vector(lcg_values(60, 2, 3.0), {6, 10}).to(DType::Float32);
    const Tensor xt = x.t();
    CHECK(softmax(xt, 1).to_vector<float>() == softmax(xt.contiguous(), 1).to_vector<float>());
    CHECK(log_softmax(xt, 0).to_vector<float>() == log_softmax(xt.contiguous(), 0).to_vector<float>());
}

TEST_CASE("softmax is stable for large values and masks -inf to zero", "[softmax]") {
    const float inf = std::numeric_limits<float>::infinity();
    const Tensor x = from_vector<float>({1000, 1001, -inf, 1000}, {1, 4});
    const auto y = softmax(x, 1).to_vector<float>();
    const double e = std::exp(-1.0), s = 2 * e + 1;
    CHECK(y[0] == Approx(e / s));
    CHECK(y[1] == Approx(1 / s));
    CHECK(y[2] == 0.0f);
    const auto l = log_softmax(x, 1).to_vector<float>();
    CHECK(l[1] == Approx(-std::log(s)));
    CHECK(l[2] == -inf);
    CHECK(softmax(scalar_tensor(3.0), 0).item<float>() == 1.0f);
    CHECK(softmax(zeros({0, 4}), 1).shape() == Shape{0, 4});
    const auto rows = softmax(from_vector(lcg_values(500, 3, 30.0), {5, 100}), 1);
    for (float v : sum(rows, {1}).to_vector<float>()) CHECK(v == Approx(1.0f).epsilon(1e-5));
}

TEST_CASE("softmax results do not depend on the thread count", "[softmax][threads]") {
    const Tensor x = from_vector(lcg_values(64 * 1000, 4, 5.0), {64, 1000}).to(DType::Float32);
    const int before = get_num_threads();
    auto run = [&] {
        Tensor leaf = x.detach().clone().requires_grad_();
        Tensor y = log_softmax(leaf, 1);
        Tensor z = softmax(leaf, 0);
        sum(mul(add(y, z), from_vector(lcg_values(64 * 1000, 5, 1.0), {64, 1000}).to(DType::Float32))).backward();
        return std::vector<std::vector<float>>{y.to_vector<float>(), z.to_vector<float>(), leaf.grad().to_vector<float>()};
    };
    set_num_threads(1);
    const auto one = run();
    set_num_threads(2);
    const auto two = run();
    set_num_threads(before);
    CHECK(one == two);
}

TEST_CASE("softmax names the op in its errors", "[softmax][errors]") {
    CHECK_THROWS_WITH(softmax(zeros({2, 3}), 2), Contains("softmax"));
    CHECK_THROWS_WITH(log_softmax(zeros({2, 3}), -3), Contains("log_softmax"));
    CHECK_THROWS_WITH(softmax(from_vector<int64_t>({1, 2}), 0), Contains("softmax") && Contains("int64"));
}
