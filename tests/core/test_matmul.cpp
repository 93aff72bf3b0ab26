// matmul forward: torch.matmul's shape rules against a naive reference,
// transposed and sliced operands, broadcast batches, thread-count
// independence, and errors that name both shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

Tensor random_tensor(const Shape& shape, DType dtype, uint64_t seed) {
    std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (double& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = 2.0 * double(s >> 11) / double(1ull << 53) - 1.0;
    }
    return from_vector(v, shape).to(dtype);
}

// The naive product of [B, M, K] and [B, K, N] (contiguous, double).
std::vector<double> naive_bmm(const std::vector<double>& a, const std::vector<double>& b, int64_t B, int64_t M,
                              int64_t K, int64_t N) {
    std::vector<double> c(size_t(B * M * N), 0.0);
    for (int64_t t = 0; t < B; ++t)
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j)
                for (int64_t p = 0; p < K; ++p)
                    c[size_t((t * M + i) * N + j)] += a[size_t((t * M + i) * K + p)] * b[size_t((t * K + p) * N + j)];
    return c;
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
    const auto g = got.to(DType::Float64).contiguous().to_vector<double>();
    REQUIRE(g.size() == want.size());
    for (size_t i = 0; i < g.size(); ++i) {
        INFO("element " << i);
        CHECK(std::abs(g[i] - want[i]) <= tol * (1 + std::abs(want[i])));
    }
}

}  // namespace

TEST_CASE("matmul follows torch.matmul's shape rules", "[matmul]") {
    auto shape_of = [](const Shape& a, const Shape& b) { return matmul(zeros(a), zeros(b)).shape(); };
    CHECK(shape_of({4}, {4}) == Shape{});
    CHECK(shape_of({3, 4}, {4}) == Shape{3});
    CHECK(shape_of({4}, {4, 5}) == Shape{5});
    CHECK(shape_of({3, 4}, {4, 5}) == Shape{3, 5});
    CHECK(shape_of({2, 3, 4}, {4}) == Shape{2, 3});
    CHECK(shape_of({4}, {2, 4, 5}) == Shape{2, 5});
    CHECK(shape_of({2, 1, 3, 4}, {5, 4, 6}) == Shape{2, 5, 3, 6});
    CHECK(shape_of({0, 4}, {4, 5}) == Shape{0, 5});
    CHECK(matmul(ones({3, 0}), ones({0, 2})).to_vector<float>() == std::vector<float>(6, 0.0f));
    CHECK(matmul(from_vector<float>({1, 2, 3}), from_vector<float>({4, 5, 6})).item<float>() == 32.0f);
}

TEST_CASE("matmul matches a naive product for matrices, views and batches", "[matmul]") {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double tol = dtype == DType::Float32 ? 1e-5 : 1e-12;
        INFO(dtype_name(dtype));
        const Tensor a = random_tensor({2, 37, 70}, dtype, 1), b = random_tensor({2, 70, 19}, dtype, 2);
        const auto av = a.to(DType::Float64).to_vector<double>(), bv = b.to(DType::Float64).to_vector<double>();
        const auto want = naive_bmm(av, bv, 2, 37, 70, 19);
        check_close(matmul(a, b), want, tol);
        // Transposed storage read through GEMM's flags, and a batch of views.
        check_close(matmul(a.transpose(1, 2).contiguous().transpose(1, 2), b.transpose(1, 2).contiguous().transpose(1, 2)),
                    want, tol);
        // Row stride larger than the width: a column slice.
        const Tensor wide = random_tensor({37, 90}, dtype, 3);
        check_close(matmul(wide.narrow(1, 5, 70), b.select(0, 1)), matmul(wide.narrow(1, 5, 70).contiguous(), b.select(0, 1))
                                                                       .to(DType::Float64).to_vector<double>(), tol);
        // Broadcast batch dims in a pattern no single stride describes.
        const Tensor a4 = random_tensor({2, 1, 5, 6}, dtype, 4), b4 = random_tensor({3, 6, 4}, dtype, 5);
        const Tensor got = matmul(a4, b4);
        REQUIRE(got.shape() == Shape{2, 3, 5, 4});
        for (int64_t i = 0; i < 2; ++i)
            for (int64_t j = 0; j < 3; ++j)
                check_close(got.select(0, i).select(0, j),
                            naive_bmm(a4.select(0, i).select(0, 0).to(DType::Float64).contiguous().to_vector<double>(),
                                      b4.select(0, j).to(DType::Float64).contiguous().to_vector<double>(), 1, 5, 6, 4),
                            tol);
    }
}

TEST_CASE("matmul gradients of an MLP layer match the formulas", "[matmul]") {
    const Tensor x = random_tensor({8, 5}, DType::Float64, 6), w = random_tensor({3, 5}, DType::Float64, 7);
    const Tensor xl = x.detach().clone().requires_grad_(), wl = w.detach().clone().requires_grad_();
    sum(matmul(xl, wl.t())).backward();  // d/dx = 1·W, d/dW = 1ᵀ·x
    check_close(xl.grad(), matmul(ones({8, 3}, DType::Float64), w).to_vector<double>(), 1e-12);
    check_close(wl.grad(), matmul(ones({3, 8}, DType::Float64), x).to_vector<double>(), 1e-12);
}

TEST_CASE("matmul results do not depend on the thread count", "[matmul][threads]") {
    const Tensor a = random_tensor({300, 200}, DType::Float32, 8), b = random_tensor({150, 200}, DType::Float32, 9);
    const int before = get_num_threads();
    set_num_threads(1);
    const auto one = matmul(a, b.t()).to_vector<float>();
    set_num_threads(2);
    const auto two = matmul(a, b.t()).to_vector<float>();
    set_num_threads(before);
    CHECK(one == two);
}

TEST_CASE("matmul errors name both shapes", "[matmul][errors]") {
    CHECK_THROWS_WITH(matmul(zeros({2, 3}), zeros({4, 5})),
                      Contains("matmul") && Contains("[2, 3]") && Contains("[4, 5]"));
    CHECK_THROWS_WITH(matmul(zeros({3}), zeros({4})), Contains("matmul") && Contains("[3]") && Contains("[4]"));
    CHECK_THROWS_WITH(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})),
                      Contains("matmul") && Contains("[2]") && Contains("[3]"));
    CHECK_THROWS_WITH(matmul(scalar_tensor(1.0), zeros({3})), Contains("matmul"));
    CHECK_THROWS_WITH(matmul(zeros({2, 2}), zeros({2, 2}, DType::Float64)), Contains("matmul") && Contains("float64"));
    CHECK_THROWS_WITH(matmul(from_vector<int64_t>({1, 2}), from_vector<int64_t>({1, 2})), Contains("matmul"));
}

TEST_CASE("addmm equals matmul plus a broadcast bias, and checks its bias", "[matmul][addmm]") {
    const Tensor x = random_tensor({37, 70}, DType::Float32, 10), w = random_tensor({45, 70}, DType::Float32, 11);
    const Tensor b = random_tensor({45}, DType::Float32, 12);
    const Tensor want = add(matmul(x, w.t()), b);
    check_close(addmm(b, x, w.t()), want.to(DType::Float64).to_vector<double>(), 1e-5);
    CHECK_THROWS_WITH(addmm(random_tensor({44}, DType::Float32, 13), x, w.t()),
                      Catch::Contains("addmm") && Catch::Contains("[45]"));
}
