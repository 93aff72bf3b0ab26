// Gradient checks for views and conversions (core/ops/views.cpp, convert.cpp):
// each on contiguous and non-contiguous inputs, negative dims, and size-1 and
// size-0 dimensions.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

// A [rows, cols] float64 tensor that requires grad, handed over transposed: a
// non-contiguous [cols, rows] input.
Tensor transposed64(int64_t rows, int64_t cols) { return rand64({rows, cols}).t(); }

const GradCase view_case{"view", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].view({3, 2}); }, {rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return x[0].view({-1}); }, {rand64({2, 3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].view({2, 1, -1}); }, {rand64({4, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].view({0, 5}); }, {rand64({5, 0})});
    // A view of a non-contiguous input whose merged dims stay compatible.
    expect_gradcheck([](const Inputs& x) { return x[0].view({3, 4}); }, {rand64({3, 4, 2}).narrow(1, 1, 2)});
}};

const GradCase reshape_case{"reshape", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].reshape({3, -1}); }, {rand64({2, 3})});
    // Not viewable: reshape copies, and the gradient flows through the copy.
    expect_gradcheck([](const Inputs& x) { return x[0].reshape({6}); }, {transposed64(2, 3)});
    expect_gradcheck([](const Inputs& x) { return x[0].reshape({2, 0, 3}); }, {rand64({0, 6})});
}};

const GradCase permute_case{"permute", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].permute({2, 0, 1}); }, {rand64({2, 3, 4})});
    expect_gradcheck([](const Inputs& x) { return x[0].permute({-1, 0}); }, {transposed64(2, 3)});
    expect_gradcheck([](const Inputs& x) { return x[0].permute({1, 0, 2}); }, {rand64({1, 0, 3})});
}};

const GradCase transpose_case{"transpose", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].transpose(0, 2); }, {rand64({2, 3, 4})});
    expect_gradcheck([](const Inputs& x) { return x[0].transpose(-1, -2); }, {transposed64(3, 2)});
    expect_gradcheck([](const Inputs& x) { return x[0].t(); }, {rand64({1, 4})});
}};

const GradCase narrow_case{"narrow", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].narrow(1, 1, 2); }, {rand64({2, 4})});
    expect_gradcheck([](const Inputs& x) { return x[0].narrow(-1, -2, 2); }, {transposed64(4, 3)});
    expect_gradcheck([](const Inputs& x) { return x[0].narrow(0, 1, 0); }, {rand64({3, 2})});
}};

const GradCase slice_case{"slice", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].slice(1, 0, 5, 2); }, {rand64({2, 5})});
    expect_gradcheck([](const Inputs& x) { return x[0].slice(0, -3, -1, 1); }, {rand64({4, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].slice(0, 1, 100, 3); }, {transposed64(3, 7)});
    expect_gradcheck([](const Inputs& x) { return x[0].slice(0, 2, 2); }, {rand64({3, 2})});
}};

const GradCase select_case{"select", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].select(1, 2); }, {rand64({2, 3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].select(-1, -1); }, {transposed64(4, 3)});
    expect_gradcheck([](const Inputs& x) { return x[0].select(0, 0); }, {rand64({1, 0})});
}};

const GradCase expand_case{"expand", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].expand({2, 3}); }, {rand64({1, 3})});
    expect_gradcheck([](const Inputs& x) { return x[0].expand({4, -1, 3}); }, {rand64({2, 1})});
    expect_gradcheck([](const Inputs& x) { return x[0].expand({3, 2, 3}); }, {transposed64(3, 2).unsqueeze(0).select(0, 0)});
    expect_gradcheck([](const Inputs& x) { return x[0].expand({0, 3}); }, {rand64({1, 3})});
    expect_gradcheck([](const Inputs& x) { return x[0].expand({2, 2}); }, {rand64({})});
}};

const GradCase squeeze_case{"squeeze", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].squeeze(); }, {rand64({1, 3, 1, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].squeeze(-2); }, {rand64({3, 1, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].squeeze(0); }, {rand64({3, 2})});  // not size 1: unchanged
    expect_gradcheck([](const Inputs& x) { return x[0].unsqueeze(1).squeeze(1); }, {transposed64(2, 3)});
}};

const GradCase unsqueeze_case{"unsqueeze", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].unsqueeze(0); }, {rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return x[0].unsqueeze(-1); }, {transposed64(2, 3)});
    expect_gradcheck([](const Inputs& x) { return x[0].unsqueeze(1); }, {rand64({0, 2})});
}};

const GradCase flatten_case{"flatten", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].flatten(); }, {rand64({2, 3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].flatten(1); }, {rand64({2, 3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].flatten(0, -2); }, {transposed64(2, 3).unsqueeze(2)});
    expect_gradcheck([](const Inputs& x) { return x[0].flatten(); }, {rand64({})});
}};

const GradCase contiguous_case{"contiguous", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].contiguous(); }, {rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return x[0].contiguous(); }, {rand64({2, 3, 4}).permute({2, 0, 1})});
    expect_gradcheck([](const Inputs& x) { return x[0].contiguous(); }, {rand64({4, 3}).slice(0, 0, 4, 2)});
}};

const GradCase clone_case{"clone", [] {
    expect_gradcheck([](const Inputs& x) { return x[0].clone(); }, {rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return x[0].clone(); }, {transposed64(3, 2)});
    expect_gradcheck([](const Inputs& x) { return x[0].clone(); }, {rand64({0, 3})});
}};

const GradCase to_dtype_case{"to_dtype", [] {
    // float32 rounds the perturbation, so the float32 legs use a larger step and
    // tolerances near float32's precision (STYLE.md: eps ~1e-3, rtol ~1e-2).
    const autograd::GradcheckOptions f32{1e-3, 1e-4, 1e-2};
    expect_gradcheck([](const Inputs& x) { return x[0].to(DType::Float32).to(DType::Float64); }, {rand64({2, 3})}, f32);
    expect_gradcheck([](const Inputs& x) { return x[0].to(DType::Float32).to(DType::Float64); }, {transposed64(2, 3)},
                     f32);
    Tensor single = rand64({3, 2}).detach().to(DType::Float32).requires_grad_();
    expect_gradcheck([](const Inputs& x) { return x[0].to(DType::Float64); }, {single}, f32);
    expect_gradcheck([](const Inputs& x) { return x[0].to(DType::Float64); }, {rand64({2, 2})});  // no-op
}};

}  // namespace

TEST_CASE("converting to an integer dtype cuts the graph", "[views][gradcheck]") {
    Tensor x = rand64({3});
    CHECK_FALSE(x.to(DType::Int64).requires_grad());
    CHECK(x.to(DType::Float32).requires_grad());
}
