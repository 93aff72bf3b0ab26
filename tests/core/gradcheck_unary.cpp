// Gradient checks for the unary math ops (neg exp log log1p sqrt rsqrt abs sign
// clamp): contiguous, transposed (non-contiguous), 0-d, size-1 and size-0
// inputs; positive inputs where the domain asks for them and inputs kept off
// the kinks of abs and clamp.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

// Runs gradcheck on fn over the shapes every unary op must handle. `make`
// draws the input for a shape.
template <typename Fn, typename Make>
void check_unary_shapes(Fn fn, Make make) {
    const auto f = [&](const Inputs& x) { return fn(x[0]); };
    expect_gradcheck(f, {make(Shape{2, 3})});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0].t()); }, {make(Shape{3, 4})});
    expect_gradcheck(f, {make(Shape{})});
    expect_gradcheck(f, {make(Shape{1, 1, 5})});
    expect_gradcheck(f, {make(Shape{0, 3})});
}

template <typename Fn>
void check_unary_shapes(Fn fn, double low = -1.0, double high = 1.0) {
    check_unary_shapes(fn, [=](const Shape& s) { return rand64(s, low, high); });
}

template <typename Fn>
void check_unary_off_kinks(Fn fn, double gap = 0.05) {
    check_unary_shapes(fn, [=](const Shape& s) { return rand64_off_kinks(s, gap); });
}

const GradCase neg_case{"neg", [] { check_unary_shapes([](const Tensor& x) { return neg(x); }); }};
const GradCase exp_case{"exp", [] { check_unary_shapes([](const Tensor& x) { return exp(x); }, -2.0, 2.0); }};
const GradCase log_case{"log", [] { check_unary_shapes([](const Tensor& x) { return log(x); }, 0.3, 3.0); }};
const GradCase log1p_case{"log1p", [] {
    check_unary_shapes([](const Tensor& x) { return log1p(x); }, -0.7, 3.0);
}};
const GradCase sqrt_case{"sqrt", [] { check_unary_shapes([](const Tensor& x) { return sqrt(x); }, 0.3, 3.0); }};
const GradCase rsqrt_case{"rsqrt", [] { check_unary_shapes([](const Tensor& x) { return rsqrt(x); }, 0.3, 3.0); }};
const GradCase abs_case{"abs", [] { check_unary_off_kinks([](const Tensor& x) { return abs(x); }); }};
const GradCase sign_case{"sign", [] { check_unary_off_kinks([](const Tensor& x) { return sign(x); }); }};
const GradCase clamp_case{"clamp", [] {
    // Off-kink values lie at +-0.05 k + 0.0185; these bounds are at least 0.0085 away from all of them.
    check_unary_off_kinks([](const Tensor& x) { return clamp(x, -0.06, 0.1); });
    check_unary_off_kinks([](const Tensor& x) { return clamp(x, std::nullopt, 0.01); });
    check_unary_off_kinks([](const Tensor& x) { return clamp(x, -0.04, std::nullopt); });
}};

}  // namespace

TEST_CASE("unary gradients follow PyTorch at their kinks", "[unary][autograd]") {
    // abs: sign(x), so 0 at 0; clamp: 1 on [min, max] inclusive, 0 outside.
    Tensor x = from_vector<double>({-2, -1, 0, 1, 2}).requires_grad_();
    abs(x).sum().backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{-1, -1, 0, 1, 1});
    Tensor y = from_vector<double>({-2, -1, 0, 1, 2}).requires_grad_();
    clamp(y, -1.0, 1.0).sum().backward();
    CHECK(y.grad().to_vector<double>() == std::vector<double>{0, 1, 1, 1, 0});
    Tensor z = from_vector<double>({-2, 0, 3}).requires_grad_();
    sign(z).sum().backward();
    CHECK(z.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
}

TEST_CASE("unary ops keep integer dtypes where PyTorch does and promote the rest to float32", "[unary]") {
    const Tensor i = from_vector<int64_t>({-3, 0, 4});
    CHECK(neg(i).dtype() == DType::Int64);
    CHECK(neg(i).to_vector<int64_t>() == std::vector<int64_t>{3, 0, -4});
    CHECK(abs(i).to_vector<int64_t>() == std::vector<int64_t>{3, 0, 4});
    CHECK(sign(i).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 1});
    CHECK(clamp(i, -1.0, 2.0).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 2});
    CHECK(clamp(i, -1.5, std::nullopt).dtype() == DType::Float32);  // a fractional bound promotes
    CHECK(clamp(from_vector<uint8_t>({0, 7, 200}), -5.0, 100.0).to_vector<uint8_t>() ==
          std::vector<uint8_t>{0, 7, 100});  // bounds outside uint8 saturate
    CHECK(clamp(from_vector<int32_t>({5}), std::nullopt, 1e12).to_vector<int32_t>() == std::vector<int32_t>{5});
    for (const Tensor& r : {exp(i), log(i), log1p(i), sqrt(i), rsqrt(i)}) CHECK(r.dtype() == DType::Float32);
    CHECK(sqrt(from_vector<int32_t>({4, 9})).to_vector<float>() == std::vector<float>{2, 3});
    CHECK(exp(from_vector<double>({0})).dtype() == DType::Float64);
}
