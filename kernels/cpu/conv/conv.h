// 2-d convolution kernels on contiguous NCHW arrays (no Tensor, no autograd).
//
//   x   [N, C, H, W]            input
//   w   [O, C/groups, kH, kW]   weight (OIHW, PyTorch's layout)
//   y   [N, O, Ho, Wo]          output, Ho = (H + pad_top + pad_bottom - dil_h*(kH-1) - 1) / stride_h + 1
//
//   y[n, o, ho, wo] = bias[o] + sum_{c, i, j} w[o, c, i, j] * x[n, g*Cg + c, ho*sh - pt + i*dh, wo*sw - pl + j*dw]
//
// with g = o / (O/groups), Cg = C/groups, and x read as 0 outside the image.
// The geometry carries the output size, so asymmetric padding needs only the
// top/left offsets here (the bottom/right ones decide Ho and Wo).
//
// Paths (conv2d_forward and the backward entry points pick one):
//   1x1       stride 1, no padding: y_n = W · x_n is a GEMM on NCHW as it lies.
//   depthwise groups == C == O: direct kernels (conv_depthwise.h); SIMD for
//             3x3 and 5x5 at stride 1 and 2, dilation 1; conv_depthwise_ref otherwise.
//   general   im2col, then GEMM (kernels/cpu/gemm.h), one block at a time: a
//             run of output pixels of one image, or several whole small images.
//             The column buffer of a block, [C/groups*kH*kW, columns], is
//             bounded whatever the batch and image size (kConvColumnBudget).
//             Blocks run in parallel, each with a single-threaded GEMM.
//
// Backward:
//   dx   general: col = Wᵀ · dy block, then col2im adds col back into dx;
//        1x1: dx_n = Wᵀ · dy_n.
//   dw   = sum over n and pixel blocks of dy block · colᵀ, one task per tile of
//        input channels walking the batch and the blocks in order, so dw is
//        bit-identical for any thread count (the GEMM fixes its k order too).
//   db   = sum over n, ho, wo of dy, per channel in a fixed order.
//
// Defined for float and double. Threads come from parallel_for (kernels/parallel.h).
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

struct ConvGeometry {
    int64_t n = 1, c = 1, h = 1, w = 1;  // input [N, C, H, W]
    int64_t o = 1, kh = 1, kw = 1;       // weight [O, C/groups, kH, kW]
    int64_t ho = 1, wo = 1;              // output spatial size
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_top = 0, pad_left = 0;   // the bottom/right padding is implied by ho, wo
    int64_t dil_h = 1, dil_w = 1;
    int64_t groups = 1;

    int64_t cg() const { return c / groups; }  // input channels per group
    int64_t og() const { return o / groups; }  // output channels per group
    bool is_1x1_direct() const {
        return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 && ho == h &&
               wo == w;
    }
    bool is_depthwise() const { return groups == c && groups == o && groups > 1; }
};

// The general path's blocks: columns of one block in at most kConvColumnBudget
// bytes (to stay in L2 while the GEMM packs them), but at least kConvMinColumns
// columns, so that packing the weights once per GEMM stays a small cost even
// when a kernel has thousands of column rows (7x7x512: then the block is L3's).
inline constexpr int64_t kConvColumnBudget = int64_t(512) << 10;
inline constexpr int64_t kConvMinColumns = 256;

// y = conv(x, w) + bias (bias may be null). Picks the path as described above.
template <typename T> void conv2d_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y);
// dx = d(sum y*dy)/dx, overwriting dx.
template <typename T> void conv2d_backward_input(const ConvGeometry& g, const T* dy, const T* w, T* dx);
// dw = d(sum y*dy)/dw, overwriting dw.
template <typename T> void conv2d_backward_weight(const ConvGeometry& g, const T* x, const T* dy, T* dw);
// db[o] = sum over n, ho, wo of dy[n, o, ho, wo], overwriting db.
template <typename T> void conv2d_backward_bias(const ConvGeometry& g, const T* dy, T* db);

// The general (im2col + GEMM) path on its own, for tests and benchmarks: it
// handles every geometry, including those the fast paths take.
template <typename T> void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y);
template <typename T> void conv2d_backward_input_col2im(const ConvGeometry& g, const T* dy, const T* w, T* dx);
template <typename T> void conv2d_backward_weight_im2col(const ConvGeometry& g, const T* x, const T* dy, T* dw);

// How the general path cuts the work for a column matrix of `col_rows` rows:
// `images` whole images per block (when an image is smaller than the budget's
// fit), else `pixels` output pixels of one image per block (the fit, evened out
// over the image so no block is a sliver). A function of the geometry alone.
struct ConvBlockPlan {
    int64_t images = 1, pixels = 1;
};
ConvBlockPlan conv_block_plan(const ConvGeometry& g, int64_t col_rows, int64_t elem_size);

}  // namespace graft::kernels::cpu
