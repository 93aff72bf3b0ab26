// 2-d convolution, NCHW, with PyTorch's weight layout [O, I/groups, kH, kW].
// Padding may be asymmetric (TF "SAME" padding of EfficientNet needs it).
// Forward and backward (input and weight gradients; bias gradient = sum over
// N, H, W) are computed by the kernels under kernels/cpu/conv/.
#pragma once

#include "core/tensor.h"

namespace graft {

struct Conv2dParams {
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    int64_t groups = 1;

    // Symmetric padding, as nn.Conv2d(padding=(ph, pw)).
    static Conv2dParams make(int64_t stride, int64_t padding, int64_t dilation = 1, int64_t groups = 1) {
        return {stride, stride, padding, padding, padding, padding, dilation, dilation, groups};
    }
};

// input [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] or undefined.
// Output [N, O, Ho, Wo] with Ho = (H + pad_top + pad_bottom - dilation_h*(kH-1) - 1) / stride_h + 1.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Conv2dParams& params = {});

}  // namespace graft
