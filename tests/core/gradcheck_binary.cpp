// Gradient checks for binary ops: broadcast shapes, non-contiguous inputs,
// size-1 and size-0 dimensions.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

template <typename Fn>
void check_binary_shapes(Fn fn, double low = -1.0, double high = 1.0) {
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], x[1]); }, {rand64({2, 3}, low, high), rand64({2, 3}, low, high)});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], x[1]); }, {rand64({2, 1, 3}, low, high), rand64({4, 1}, low, high)});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], x[1]); }, {rand64({3}, low, high), rand64({}, low, high)});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0].t(), x[1]); }, {rand64({3, 2}, low, high), rand64({2, 3}, low, high)});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], x[1]); }, {rand64({0, 3}, low, high), rand64({3}, low, high)});
}

const GradCase add_case{"add", [] {
    check_binary_shapes([](const Tensor& a, const Tensor& b) { return add(a, b); });
    check_binary_shapes([](const Tensor& a, const Tensor& b) { return add(a, b, 2.5); });
}};
const GradCase sub_case{"sub", [] {
    check_binary_shapes([](const Tensor& a, const Tensor& b) { return sub(a, b, 0.5); });
}};
const GradCase mul_case{"mul", [] {
    check_binary_shapes([](const Tensor& a, const Tensor& b) { return mul(a, b); });
}};
const GradCase div_case{"div", [] {
    check_binary_shapes([](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 2.0);
}};
const GradCase pow_case{"pow", [] {
    check_binary_shapes([](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2.0);
}};
const GradCase pow_scalar_case{"pow_scalar", [] {
    for (double e : {0.0, 1.0, 2.0, 3.0, -1.5, 0.5})
        expect_gradcheck([e](const Inputs& x) { return pow(x[0], e); }, {rand64({2, 3}, 0.5, 2.0)});
}};
const GradCase maximum_case{"maximum", [] {
    expect_gradcheck([](const Inputs& x) { return maximum(x[0], x[1]); },
                     {rand64_off_kinks({2, 3}), rand64_off_kinks({2, 3})});
    expect_gradcheck([](const Inputs& x) { return maximum(x[0], x[1]); }, {rand64_off_kinks({2, 3}), rand64_off_kinks({3})});
}};
const GradCase minimum_case{"minimum", [] {
    expect_gradcheck([](const Inputs& x) { return minimum(x[0], x[1]); },
                     {rand64_off_kinks({2, 3}), rand64_off_kinks({1, 3})});
}};

}  // namespace

TEST_CASE("binary ops broadcast and promote like PyTorch", "[binary]") {
    Tensor a = from_vector<float>({1, 2, 3}, {3, 1});
    Tensor b = from_vector<float>({10, 20}, {2});
    Tensor c = add(a, b);
    CHECK(c.shape() == Shape{3, 2});
    CHECK(c.to_vector<float>() == std::vector<float>{11, 21, 12, 22, 13, 23});
    CHECK(add(from_vector<int64_t>({1, 2}), 0.5).dtype() == DType::Float32);
    CHECK(mul(from_vector<int64_t>({1, 2}), 3).dtype() == DType::Int64);
    CHECK(div(from_vector<int64_t>({1, 2}), from_vector<int64_t>({2, 2})).to_vector<float>() ==
          std::vector<float>{0.5f, 1.0f});
    CHECK(add(from_vector<float>({1}), from_vector<double>({1})).dtype() == DType::Float64);
    CHECK((from_vector<float>({1, 5}) > 2.0).to_vector<uint8_t>() == std::vector<uint8_t>{0, 1});
}

TEST_CASE("binary ops name the op and both shapes on mismatch", "[binary][errors]") {
    CHECK_THROWS_WITH(add(zeros({2, 3}), zeros({4})),
                      Catch::Matchers::Contains("add") && Catch::Matchers::Contains("[2, 3]") &&
                          Catch::Matchers::Contains("[4]"));
    CHECK_THROWS_WITH(zeros({2, 3}).add_(zeros({4, 2, 3})), Catch::Matchers::Contains("add_"));
}

TEST_CASE("large elementwise results do not depend on the thread count", "[binary][threads]") {
    Tensor a = arange(0.0, 100000.0, 1.0).to(DType::Float32);
    const int before = get_num_threads();
    set_num_threads(1);
    const auto one = mul(a, a).to_vector<float>();
    set_num_threads(2);
    const auto two = mul(a, a).to_vector<float>();
    set_num_threads(before);
    CHECK(one == two);
}
