// Reductions forward: against naive references (float, double, int64), ties,
// NaN, empty tensors, the row-sum path, thread-count independence, errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

// Deterministic values in [-1, 1) (independent of the library's generator).
std::vector<double> lcg_values(int64_t n, uint64_t seed) {
    std::vector<double> v(static_cast<size_t>(n));
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (double& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = 2.0 * double(s >> 11) / double(1ull << 53) - 1.0;
    }
    return v;
}

Tensor random_tensor(const Shape& shape, DType dtype, uint64_t seed = 7) {
    return from_vector(lcg_values(shape_numel(shape), seed), shape).to(dtype);
}

// The naive reduction of a [A, B, C] double tensor over the dims flagged in
// `reduce`, as a vector in row-major order of the kept dims.
std::vector<double> naive_reduce(const std::vector<double>& x, const Shape& s, std::array<bool, 3> reduce,
                                 const std::function<double(const std::vector<double>&)>& f) {
    std::vector<double> out;
    const int64_t A = reduce[0] ? 1 : s[0], B = reduce[1] ? 1 : s[1], C = reduce[2] ? 1 : s[2];
    for (int64_t a = 0; a < A; ++a)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t c = 0; c < C; ++c) {
                std::vector<double> slice;
                for (int64_t i = 0; i < s[0]; ++i)
                    for (int64_t j = 0; j < s[1]; ++j)
                        for (int64_t k = 0; k < s[2]; ++k)
                            if ((reduce[0] || i == a) && (reduce[1] || j == b) && (reduce[2] || k == c))
                                slice.push_back(x[size_t((i * s[1] + j) * s[2] + k)]);
                out.push_back(f(slice));
            }
    return out;
}

double naive_sum(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
}

double naive_var(const std::vector<double>& v, int64_t correction) {
    const double mu = naive_sum(v) / double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mu) * (x - mu);
    return ss / std::max(0.0, double(v.size()) - double(correction));
}

double naive_logsumexp(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += std::exp(x);
    return std::log(s);
}

void check_close(const Tensor& got, const std::vector<double>& want, double rtol, double atol = 1e-12) {
    const std::vector<double> g = got.to(DType::Float64).contiguous().to_vector<double>();
    REQUIRE(g.size() == want.size());
    for (size_t i = 0; i < g.size(); ++i) {
        INFO("element " << i << ": got " << g[i] << ", want " << want[i]);
        CHECK(std::abs(g[i] - want[i]) <= atol + rtol * std::abs(want[i]));
    }
}

const std::vector<std::pair<std::vector<int64_t>, std::array<bool, 3>>> kDimSets = {
    {{0}, {true, false, false}},  {{1}, {false, true, false}},  {{-1}, {false, false, true}},
    {{0, 1}, {true, true, false}}, {{0, 2}, {true, false, true}}, {{}, {true, true, true}},
};

}  // namespace

TEST_CASE("sum, mean, var, std and logsumexp match naive references", "[reduction]") {
    const Shape shape{5, 7, 3};
    const std::vector<double> xv = lcg_values(shape_numel(shape), 3);
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x = from_vector(xv, shape).to(dtype);
        const double rtol = dtype == DType::Float32 ? 1e-5 : 1e-12, atol = dtype == DType::Float32 ? 1e-5 : 1e-12;
        for (const auto& [dims, flags] : kDimSets) {
            INFO("dtype " << dtype_name(dtype) << " dims " << shape_str(dims));
            check_close(sum(x, dims), naive_reduce(xv, shape, flags, naive_sum), rtol, atol);
            check_close(mean(x, dims), naive_reduce(xv, shape, flags, [](const auto& v) {
                            return naive_sum(v) / double(v.size());
                        }), rtol, atol);
            for (int64_t c : {0, 1})
                check_close(var(x, dims, c), naive_reduce(xv, shape, flags, [c](const auto& v) {
                                return naive_var(v, c);
                            }), rtol, atol);
            check_close(graft::std(x, dims), naive_reduce(xv, shape, flags, [](const auto& v) {
                            return std::sqrt(naive_var(v, 1));
                        }), rtol, atol);
            check_close(logsumexp(x, dims), naive_reduce(xv, shape, flags, naive_logsumexp), rtol, atol);
        }
    }
}

TEST_CASE("reductions of non-contiguous views match those of their copies", "[reduction]") {
    const Tensor x = random_tensor({6, 4, 5}, DType::Float32).permute({2, 0, 1});  // [5, 6, 4]
    const Tensor xc = x.contiguous();
    for (const auto& [dims, flags] : kDimSets) {
        INFO(shape_str(dims));
        check_close(sum(x, dims), sum(xc, dims).to(DType::Float64).to_vector<double>(), 1e-6, 1e-6);
        check_close(var(x, dims), var(xc, dims).to(DType::Float64).to_vector<double>(), 1e-6, 1e-6);
        check_close(logsumexp(x, dims), logsumexp(xc, dims).to(DType::Float64).to_vector<double>(), 1e-6, 1e-6);
    }
}

TEST_CASE("sum keeps dims, counts integers in int64 and sums empty tensors to 0", "[reduction]") {
    const Tensor x = random_tensor({2, 3, 4}, DType::Float32);
    CHECK(sum(x, {1}, true).shape() == Shape{2, 1, 4});
    CHECK(sum(x, {0, -1}).shape() == Shape{3});
    CHECK(sum(x).shape() == Shape{});
    const Tensor ints = from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(sum(ints, {0}).dtype() == DType::Int64);
    CHECK(sum(ints, {0}).to_vector<int64_t>() == std::vector<int64_t>{5, 7, 9});
    CHECK(sum(ints).item<int64_t>() == 21);
    CHECK(sum(zeros({0, 3})).item<float>() == 0.0f);
    CHECK(sum(zeros({0, 3}), {0}).to_vector<float>() == std::vector<float>{0, 0, 0});
    CHECK(sum(zeros({3, 0}), {0}).shape() == Shape{0});
}

TEST_CASE("the row-sum path (leading dims) matches the strided walk", "[reduction]") {
    // [3000, 37]: more rows than one chunk, so partial sums are combined.
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x = random_tensor({3000, 37}, dtype, 11);
        const Tensor by_rows = sum(x, {0});
        const Tensor by_columns = sum(x.t().contiguous(), {1});  // one contiguous run per output
        const double tol = dtype == DType::Float32 ? 1e-4 : 1e-10;
        check_close(by_rows, by_columns.to(DType::Float64).to_vector<double>(), tol, tol);
    }
    const Tensor x3 = random_tensor({4, 5, 6, 7}, DType::Float64);
    check_close(sum(x3, {1, 2}), sum(x3.permute({0, 3, 1, 2}).contiguous(), {2, 3}).to_vector<double>(), 1e-12);
    const Tensor ints = from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {3, 2});
    CHECK(sum(ints, {0}).to_vector<int64_t>() == std::vector<int64_t>{9, 12});
}

TEST_CASE("sum and logsumexp results do not depend on the thread count", "[reduction][threads]") {
    const Tensor big = random_tensor({300001}, DType::Float32, 5);
    const Tensor rows = random_tensor({5000, 129}, DType::Float32, 6);
    const int before = get_num_threads();
    auto run = [&] {
        return std::vector<std::vector<float>>{sum(big).to_vector<float>(), sum(rows, {0}).to_vector<float>(),
                                               sum(rows, {1}).to_vector<float>(), var(rows, {0}).to_vector<float>(),
                                               logsumexp(rows, {1}).to_vector<float>()};
    };
    set_num_threads(1);
    const auto one = run();
    set_num_threads(2);
    const auto two = run();
    set_num_threads(before);
    CHECK(one == two);
}

TEST_CASE("var is stable for values far from zero", "[reduction]") {
    const Tensor x = from_vector<float>({1e6f + 1, 1e6f + 2, 1e6f + 3, 1e6f + 4});
    CHECK(var(x).item<float>() == Approx(5.0 / 3.0).epsilon(1e-6));
    CHECK(var(x, {}, 0).item<float>() == Approx(1.25).epsilon(1e-6));
    CHECK(std::isnan(var(from_vector<double>({2.0})).item<double>()));  // n - correction = 0
    CHECK(graft::std(from_vector<double>({1, 3})).item<double>() == Approx(std::sqrt(2.0)));
}

TEST_CASE("logsumexp does not overflow and handles -inf slices", "[reduction]") {
    const double inf = std::numeric_limits<double>::infinity();
    const Tensor x = from_vector<double>({1000, 1000, -inf, -inf, 0, -inf}, {3, 2});
    const auto r = logsumexp(x, {1}).to_vector<double>();
    CHECK(r[0] == Approx(1000 + std::log(2.0)));
    CHECK(r[1] == -inf);
    CHECK(r[2] == 0.0);
    Tensor leaf = x.detach().clone().requires_grad_();
    sum(logsumexp(leaf, {1})).backward();
    const auto g = leaf.grad().to_vector<double>();
    CHECK(g[0] == Approx(0.5));
    CHECK(g[1] == Approx(0.5));
    CHECK(std::vector<double>(g.begin() + 2, g.end()) == std::vector<double>{0, 0, 1, 0});
    CHECK(logsumexp(zeros({0, 2}), {0}).to_vector<float>() == std::vector<float>{-INFINITY, -INFINITY});
}

TEST_CASE("max and min over all elements", "[reduction]") {
    const Tensor x = from_vector<float>({3, -1, 7, 7, 2}, {5});
    CHECK(max(x).item<float>() == 7);
    CHECK(min(x).item<float>() == -1);
    CHECK(max(from_vector<int64_t>({4, 9, -2})).item<int64_t>() == 9);
    CHECK(min(from_vector<int64_t>({4, 9, -2})).dtype() == DType::Int64);
    const Tensor big = random_tensor({200004}, DType::Float64, 9);
    const auto v = big.to_vector<double>();
    CHECK(max(big).item<double>() == *std::max_element(v.begin(), v.end()));
    CHECK(min(big.view({7, -1}).t()).item<double>() == *std::min_element(v.begin(), v.end()));
    CHECK(std::isnan(max(from_vector<float>({1, NAN, 3})).item<float>()));
}

TEST_CASE("the gradient of max is split evenly among ties", "[reduction]") {
    const Tensor x = from_vector<double>({1, 3, 3, 2, 3}).requires_grad_();
    max(x).backward();
    const double third = 1.0 / 3.0;
    CHECK(x.grad().to_vector<double>() == std::vector<double>{0, third, third, 0, third});
    const Tensor y = from_vector<double>({1, 0, 0}).requires_grad_();
    mul(min(y), 4.0).backward();
    CHECK(y.grad().to_vector<double>() == std::vector<double>{0, 2, 2});
}

TEST_CASE("max and min along a dim return the first index among ties", "[reduction]") {
    const Tensor x = from_vector<float>({1, 5, 5, 0, 2, 2, 9, 0, 4}, {3, 3});
    const ValuesIndices r = max(x, 1);
    CHECK(r.values.to_vector<float>() == std::vector<float>{5, 2, 9});
    CHECK(r.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 1, 0});
    CHECK(r.indices.dtype() == DType::Int64);
    const ValuesIndices c = min(x, 0, true);
    CHECK(c.values.shape() == Shape{1, 3});
    CHECK(c.values.to_vector<float>() == std::vector<float>{0, 0, 2});
    CHECK(c.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 1});
    CHECK(argmax(x, -1).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 0});
    CHECK(argmin(x.t(), 1).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 1});
    CHECK(argmax(from_vector<int64_t>({3, 8, 8, 1}, {2, 2}), 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    CHECK(argmax(from_vector<float>({1, NAN, 3, NAN}), 0).item<int64_t>() == 1);
    const Tensor s = scalar_tensor(4.0);
    CHECK(max(s, 0).values.shape() == Shape{});
    CHECK(max(s, 0).indices.item<int64_t>() == 0);
    CHECK(max(zeros({0, 3}), 1).values.shape() == Shape{0});
}

TEST_CASE("max along a dim matches a naive scan on a 3-d tensor", "[reduction]") {
    const Shape shape{4, 300, 5};
    const Tensor x = random_tensor(shape, DType::Float32, 4);
    const auto v = x.to_vector<float>();
    auto at = [&](std::array<int64_t, 3> i) { return v[size_t((i[0] * shape[1] + i[1]) * shape[2] + i[2])]; };
    for (int64_t dim : {0, 1, 2}) {
        const ValuesIndices r = max(x, dim, /*keepdim=*/true);
        const auto vals = r.values.to_vector<float>();
        const auto idx = r.indices.to_vector<int64_t>();
        Shape kept = shape;
        kept[size_t(dim)] = 1;
        size_t o = 0;
        for (int64_t a = 0; a < kept[0]; ++a)
            for (int64_t b = 0; b < kept[1]; ++b)
                for (int64_t c = 0; c < kept[2]; ++c, ++o) {
                    std::array<int64_t, 3> i{a, b, c}, best = i;
                    for (int64_t j = 1; j < shape[size_t(dim)]; ++j) {
                        i[size_t(dim)] = j;
                        if (at(i) > at(best)) best = i;
                    }
                    CHECK(idx[o] == best[size_t(dim)]);
                    CHECK(vals[o] == at(best));
                }
    }
}

TEST_CASE("reductions name the op and the shape in their errors", "[reduction][errors]") {
    const Tensor x = zeros({2, 3});
    CHECK_THROWS_WITH(max(zeros({0, 3})), Contains("max") && Contains("[0, 3]"));
    CHECK_THROWS_WITH(min(zeros({0})), Contains("min") && Contains("[0]"));
    CHECK_THROWS_WITH(max(zeros({2, 0}), 1), Contains("max") && Contains("[2, 0]"));
    CHECK_THROWS_WITH(sum(x, {2}), Contains("sum"));
    CHECK_THROWS_WITH(sum(x, {0, 0}), Contains("sum") && Contains("twice"));
    CHECK_THROWS_WITH(max(x, 5), Contains("max"));
    CHECK_THROWS_WITH(argmin(x, -3), Contains("argmin"));
    CHECK_THROWS_WITH(var(x, {3}), Contains("var"));
    CHECK_THROWS_WITH(logsumexp(x, {-4}), Contains("logsumexp"));
    CHECK_THROWS_WITH(var(from_vector<int64_t>({1, 2})), Contains("var") && Contains("int64"));
    CHECK_THROWS_WITH(mean(from_vector<int64_t>({1, 2})), Contains("mean"));
}
