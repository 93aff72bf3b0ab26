// Gradient checks for the activations (relu relu6 leaky_relu gelu gelu_tanh
// silu sigmoid tanh softplus hardswish): contiguous, transposed, 0-d, size-1
// and size-0 inputs, kept off the kinks of the piecewise ones; and their
// gradients at the kinks, which follow PyTorch's conventions.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

template <typename Fn, typename Make>
void check_activation_shapes(Fn fn, Make make) {
    const auto f = [&](const Inputs& x) { return fn(x[0]); };
    expect_gradcheck(f, {make(Shape{2, 3})});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0].t()); }, {make(Shape{3, 4})});
    expect_gradcheck(f, {make(Shape{})});
    expect_gradcheck(f, {make(Shape{1, 5, 1})});
    expect_gradcheck(f, {make(Shape{3, 0})});
}

// Smooth activations: inputs spread over [-scale, scale].
template <typename Fn>
void check_smooth(Fn fn, double scale = 4.0) {
    check_activation_shapes(fn, [=](const Shape& s) { return rand64(s, -scale, scale); });
}

// Piecewise ones: distinct values 0.05 apart, none near 0, stretched by
// `scale` and shifted by `shift` (so that every kink has values on both sides).
template <typename Fn>
void check_piecewise(Fn fn, double scale = 1.0, double shift = 0.0) {
    check_activation_shapes([&](const Tensor& x) { return fn(add(mul(x, scale), shift)); },
                            [](const Shape& s) { return rand64_off_kinks(s, 0.05); });
}

const GradCase relu_case{"relu", [] { check_piecewise([](const Tensor& x) { return relu(x); }); }};
const GradCase relu6_case{"relu6", [] {
    check_piecewise([](const Tensor& x) { return relu6(x); }, 20.0);       // values 1 apart around 0
    check_piecewise([](const Tensor& x) { return relu6(x); }, 20.0, 6.0);  // ... and around 6
}};
const GradCase leaky_relu_case{"leaky_relu", [] {
    check_piecewise([](const Tensor& x) { return leaky_relu(x); });
    check_piecewise([](const Tensor& x) { return leaky_relu(x, 0.2); });
}};
const GradCase gelu_case{"gelu", [] { check_smooth([](const Tensor& x) { return gelu(x); }); }};
const GradCase gelu_tanh_case{"gelu_tanh", [] {
    check_smooth([](const Tensor& x) { return gelu(x, GeluApproximation::Tanh); });
}};
const GradCase silu_case{"silu", [] { check_smooth([](const Tensor& x) { return silu(x); }); }};
const GradCase sigmoid_case{"sigmoid", [] { check_smooth([](const Tensor& x) { return sigmoid(x); }); }};
const GradCase tanh_case{"tanh", [] { check_smooth([](const Tensor& x) { return tanh(x); }, 2.0); }};
const GradCase softplus_case{"softplus", [] {
    check_smooth([](const Tensor& x) { return softplus(x); });
    // beta 2, threshold 1: values above 0.5 take the linear branch.
    check_piecewise([](const Tensor& x) { return softplus(x, 2.0, 1.0); }, 10.0, 0.11);
}};
const GradCase hardswish_case{"hardswish", [] {
    check_piecewise([](const Tensor& x) { return hardswish(x); }, 30.0, 0.2);  // values 1.5 apart, across +-3
}};

std::vector<double> grad_of(Tensor (*fn)(const Tensor&), const std::vector<double>& values) {
    Tensor x = from_vector<double>(values).requires_grad_();
    fn(x).sum().backward();
    return x.grad().to_vector<double>();
}

}  // namespace

TEST_CASE("activation gradients at the kinks follow PyTorch", "[activation][autograd]") {
    CHECK(grad_of([](const Tensor& x) { return relu(x); }, {-1, 0, 2}) == std::vector<double>{0, 0, 1});
    CHECK(grad_of([](const Tensor& x) { return relu6(x); }, {-1, 0, 3, 6, 7}) == std::vector<double>{0, 0, 1, 0, 0});
    CHECK(grad_of([](const Tensor& x) { return leaky_relu(x, 0.25); }, {-1, 0, 2}) ==
          std::vector<double>{0.25, 0.25, 1});
    // hardswish: 0 below -3, (2x + 3)/6 on [-3, 3] (so -0.5 at -3 and 1.5 at 3), 1 above.
    CHECK(grad_of([](const Tensor& x) { return hardswish(x); }, {-4, -3, 0, 3, 4}) ==
          std::vector<double>{0, -0.5, 0.5, 1.5, 1});
    // softplus is linear above the threshold: gradient exactly 1.
    CHECK(grad_of([](const Tensor& x) { return softplus(x, 1.0, 20.0); }, {25})[0] == 1.0);
}

TEST_CASE("activations keep integer dtypes for relu and relu6 and promote the rest", "[activation]") {
    const Tensor i = from_vector<int64_t>({-3, 0, 4, 9});
    CHECK(relu(i).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 4, 9});
    CHECK(relu6(i).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 4, 6});
    CHECK(relu(from_vector<uint8_t>({0, 200})).to_vector<uint8_t>() == std::vector<uint8_t>{0, 200});
    for (const Tensor& r : {sigmoid(i), tanh(i), gelu(i), silu(i), softplus(i), hardswish(i), leaky_relu(i)})
        CHECK(r.dtype() == DType::Float32);
    CHECK(sigmoid(from_vector<int32_t>({0})).to_vector<float>() == std::vector<float>{0.5f});
}

TEST_CASE("a frozen input records no activation backward", "[activation][autograd]") {
    const Tensor w = from_vector<float>({1, -2, 3});  // requires_grad off
    const Tensor y = gelu(w);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
}
