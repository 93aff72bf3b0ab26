// Depthwise 2-d convolution (groups == C == O, weight [C, 1, kH, kW]) on
// contiguous NCHW arrays: the layer MobileNet and EfficientNet live on.
//
//   y[n, c, ho, wo] = bias[c] + sum_{i, j} w[c, i, j] * x[n, c, ho*sh - pt + i*dh, wo*sw - pl + j*dw]
//   dx[n, c, h, w]  = sum over the (ho, wo, i, j) that read x[n, c, h, w] of w[c, i, j] * dy[n, c, ho, wo]
//   dw[c, i, j]     = sum_{n, ho, wo} dy[n, c, ho, wo] * x[n, c, ho*sh - pt + i*dh, wo*sw - pl + j*dw]
//
// conv_depthwise_ref and its backward twins are plain loops for every geometry
// (any kernel size, stride, dilation, padding): the readable truth.
//
// The fast kernels (conv_depthwise_impl.h, compiled per ISA level) handle
// square 3x3 and 5x5 kernels at stride 1 or 2 (the same in both directions),
// dilation 1, any padding: conv_depthwise_simd_supports says which. Each image
// plane is copied once into a zero-padded scratch plane split into `stride`
// column phases (phase p holds padded columns p, p+s, p+2s, ...), so every tap
// is a contiguous vector load and no edge needs a branch. Weight gradients are
// summed per channel over the batch in order, so they do not depend on the
// thread count. Outputs are overwritten. Defined for float and double.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv/conv.h"
#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

template <typename T>
struct DepthwiseKernels {
    void (*forward)(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y);
    void (*backward_input)(const ConvGeometry& g, const T* dy, const T* w, T* dx);
    void (*backward_weight)(const ConvGeometry& g, const T* x, const T* dy, T* dw);
};

// True for geometries the SIMD kernels take (depthwise, 3x3 or 5x5, equal
// strides of 1 or 2, dilation 1).
bool conv_depthwise_simd_supports(const ConvGeometry& g);

// The SIMD kernels compiled for `isa` (Scalar: the same body built for
// baseline x86-64). Only for geometries conv_depthwise_simd_supports accepts.
template <typename T> DepthwiseKernels<T> conv_depthwise_kernels(Isa isa);

template <typename T>
void conv_depthwise_ref(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void conv_depthwise_backward_input_ref(const ConvGeometry& g, const T* dy, const T* w, T* dx);
template <typename T>
void conv_depthwise_backward_weight_ref(const ConvGeometry& g, const T* x, const T* dy, T* dw);

}  // namespace graft::kernels::cpu
