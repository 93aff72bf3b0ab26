// Gradient checks for conv2d (input, weight and bias): stride, asymmetric
// padding, dilation, groups, the depthwise SIMD geometries (3x3 and 5x5 at
// stride 1 and 2), the 1x1 direct path, a batch of 2 and non-contiguous input.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

// x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] (or none).
void check_conv(const Shape& x, const Shape& w, const Conv2dParams& p, bool bias = true) {
    INFO("conv2d x " << shape_str(x) << " w " << shape_str(w) << " stride " << p.stride_h << "x" << p.stride_w
                     << " groups " << p.groups);
    if (bias)
        expect_gradcheck([p](const Inputs& t) { return conv2d(t[0], t[1], t[2], p); },
                         {rand64(x), rand64(w), rand64({w[0]})});
    else
        expect_gradcheck([p](const Inputs& t) { return conv2d(t[0], t[1], Tensor(), p); }, {rand64(x), rand64(w)});
}

Conv2dParams params(int64_t stride, int64_t pad, int64_t dil = 1, int64_t groups = 1) {
    return Conv2dParams::make(stride, pad, dil, groups);
}

const GradCase conv2d_case{"conv2d", [] {
    check_conv({1, 2, 5, 5}, {3, 2, 3, 3}, params(1, 0));
    check_conv({2, 3, 6, 5}, {4, 3, 3, 3}, params(1, 1));           // batch 2, padding
    check_conv({1, 2, 7, 7}, {2, 2, 3, 3}, params(2, 1), false);    // stride 2, no bias
    check_conv({1, 2, 7, 6}, {3, 2, 2, 3}, {2, 1, 1, 0, 0, 2, 1, 1, 1});  // strides 2x1, asymmetric padding
    check_conv({1, 2, 7, 7}, {2, 2, 3, 3}, params(1, 2, 2));        // dilation 2
    check_conv({1, 2, 8, 7}, {2, 2, 3, 2}, {1, 2, 0, 1, 2, 1, 2, 1, 1});  // dilation 2x1, kernel 3x2
    check_conv({2, 4, 5, 5}, {6, 2, 3, 3}, params(1, 1, 1, 2));     // groups 2
    check_conv({1, 6, 4, 4}, {3, 2, 1, 1}, params(1, 0, 1, 3));     // groups 3, 1x1
    check_conv({2, 4, 5, 6}, {3, 4, 1, 1}, params(1, 0));           // 1x1 direct GEMM
    check_conv({1, 4, 5, 6}, {3, 4, 1, 1}, params(2, 0));           // 1x1 strided: general path
    // Depthwise (groups == C == O): the SIMD kernels' geometries and a ref-only one.
    check_conv({2, 3, 6, 7}, {3, 1, 3, 3}, params(1, 1, 1, 3));
    check_conv({1, 3, 7, 8}, {3, 1, 3, 3}, params(2, 1, 1, 3));
    check_conv({1, 2, 7, 6}, {2, 1, 5, 5}, params(1, 2, 1, 2));
    check_conv({1, 2, 9, 8}, {2, 1, 5, 5}, params(2, 2, 1, 2));
    check_conv({1, 2, 6, 6}, {2, 1, 3, 3}, {1, 1, 0, 1, 1, 2, 1, 1, 2});  // depthwise, asymmetric padding (TF SAME)
    check_conv({1, 2, 7, 7}, {2, 1, 3, 3}, params(1, 2, 2, 2));    // depthwise, dilated: reference path
    // Non-contiguous input: a permuted view and a strided slice.
    const Conv2dParams p = params(1, 1);
    expect_gradcheck([p](const Inputs& t) { return conv2d(t[0].permute({0, 3, 1, 2}), t[1], t[2], p); },
                     {rand64({2, 5, 6, 3}), rand64({2, 3, 3, 3}), rand64({2})});
    expect_gradcheck([](const Inputs& t) { return conv2d(t[0].slice(3, 0, 8, 2), t[1], t[2], params(1, 1, 1, 2)); },
                     {rand64({1, 2, 5, 8}), rand64({2, 1, 3, 3}), rand64({2})});
}};

}  // namespace
