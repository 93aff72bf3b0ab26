// 2-d pooling over NCHW tensors, with PyTorch's semantics (padding, ceil_mode,
// count_include_pad, adaptive bins). Forward and backward kernels live under
// kernels/cpu/pool/.
#pragma once

#include "core/tensor.h"

namespace graft {

struct Pool2dParams {
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;  // as nn.MaxPool2d: stride defaults to the kernel size
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
    bool ceil_mode = false;
    bool count_include_pad = true;  // average pooling only

    static Pool2dParams make(int64_t kernel, int64_t stride, int64_t padding = 0) {
        return {kernel, kernel, stride, stride, padding, padding, 1, 1, false, true};
    }
};

Tensor max_pool2d(const Tensor& input, const Pool2dParams& params);
Tensor avg_pool2d(const Tensor& input, const Pool2dParams& params);
// Bins as torch: start = floor(i*H/out), end = ceil((i+1)*H/out).
Tensor adaptive_avg_pool2d(const Tensor& input, int64_t out_h, int64_t out_w);

}  // namespace graft
