// 2-d pooling kernels on contiguous NCHW arrays, seen as P = N*C planes:
//
//   x [P, H, W] -> y [P, Ho, Wo]
//   window of output (ho, wo): rows ho*sh - ph + i*dh (0 <= i < kH), columns likewise.
//
// max:      y = max over the window's in-image elements (padding counts as -inf);
//           a NaN wins, as in PyTorch. idx holds the winner's flat index h*W + w
//           within its plane; the backward adds dy to dx at idx.
// avg:      y = sum over the window's in-image elements / divisor, the divisor
//           counting the padded positions inside [-ph, H + ph) when
//           count_include_pad (PyTorch's rule, which ceil_mode can clip), or
//           only the in-image ones otherwise.
// adaptive: bin i of Ho covers rows floor(i*H/Ho) .. ceil((i+1)*H/Ho) (torch's
//           rule), the mean of its elements.
//
// The fast versions (pool.cpp) run planes in parallel and clip each window once;
// the _ref versions (pool_ref.cpp) test every position of every window: the
// readable truth. Backward kernels overwrite dx. Defined for float and double.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

struct PoolGeometry {
    int64_t planes = 1, h = 1, w = 1;  // input [planes, H, W]
    int64_t ho = 1, wo = 1;            // output spatial size
    int64_t kh = 1, kw = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dil_h = 1, dil_w = 1;      // max pooling only
    bool count_include_pad = true;     // avg pooling only
};

template <typename T> void max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, int64_t* idx);
template <typename T> void max_pool2d_backward(const PoolGeometry& g, const T* dy, const int64_t* idx, T* dx);
template <typename T> void avg_pool2d_forward(const PoolGeometry& g, const T* x, T* y);
template <typename T> void avg_pool2d_backward(const PoolGeometry& g, const T* dy, T* dx);
// Only planes, h, w, ho, wo of the geometry are read.
template <typename T> void adaptive_avg_pool2d_forward(const PoolGeometry& g, const T* x, T* y);
template <typename T> void adaptive_avg_pool2d_backward(const PoolGeometry& g, const T* dy, T* dx);

template <typename T> void max_pool2d_forward_ref(const PoolGeometry& g, const T* x, T* y, int64_t* idx);
template <typename T> void avg_pool2d_forward_ref(const PoolGeometry& g, const T* x, T* y);
template <typename T> void avg_pool2d_backward_ref(const PoolGeometry& g, const T* dy, T* dx);
template <typename T> void adaptive_avg_pool2d_forward_ref(const PoolGeometry& g, const T* x, T* y);
template <typename T> void adaptive_avg_pool2d_backward_ref(const PoolGeometry& g, const T* dy, T* dx);

// The rows [start, end) of adaptive bin i of `out` over `in`.
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return i * in / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

}  // namespace graft::kernels::cpu
