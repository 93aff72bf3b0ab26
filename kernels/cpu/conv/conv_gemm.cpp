// The convolution entry points of conv.h: the general im2col + GEMM path, the
// 1x1 direct-GEMM path, the hand-off to the depthwise kernels, and the bias
// gradient. Layouts: x [N, C, H, W], w [O, C/groups, kH, kW], y [N, O, Ho, Wo].
//
// The general path never builds the whole column matrix. It cuts each image's
// P = Ho*Wo output pixels into blocks of pb (conv_pixel_block) and builds the
// columns of one block at a time, col [Kg, pb] with Kg = Cg*kH*kW rows ordered
// (c, i, j), in a per-thread buffer small enough to stay in L2 while the GEMM
// reads it. Per group g:
//   forward   y[n, g][:, block]  = W[g] [Og, Kg] · col [Kg, pb]          one task per (n, g, block)
//   dx        col = W[g]ᵀ · dy[n, g][:, block], col2im adds it into dx   one task per (n, g)
//   dw        dW[g][:, rows]    += dy[n, g][:, block] · colᵀ             one task per (g, channel tile);
//             each task walks n and the blocks in order, so every dw element is summed in
//             the same order whatever the thread count.
#include <algorithm>
#include <vector>

#include "kernels/cpu/conv/conv.h"
#include "kernels/cpu/conv/conv_depthwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu {

namespace {

// A per-thread buffer, kept across calls so it is not page-faulted in each time.
template <typename T>
T* scratch(int64_t count) {
    thread_local std::vector<T> buffer;
    if (int64_t(buffer.size()) < count) buffer.resize(size_t(count));
    return buffer.data();
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Calls fn(dst_offset, ho, wo0, wo1) for each output-row run of pixels [p0, p0 + pb).
template <typename Fn>
void for_each_row_run(const ConvGeometry& g, int64_t p0, int64_t pb, Fn&& fn) {
    for (int64_t p = p0; p < p0 + pb;) {
        const int64_t ho = p / g.wo, wo0 = p % g.wo, wo1 = std::min(g.wo, wo0 + (p0 + pb - p));
        fn(p - p0, ho, wo0, wo1);
        p += wo1 - wo0;
    }
}

// Output columns [lo, hi) whose input column wo*sw + off lies inside [0, W), clipped to [wo0, wo1).
struct Cols {
    int64_t lo, hi;
};
Cols valid_cols(const ConvGeometry& g, int64_t off, int64_t wo0, int64_t wo1) {
    const int64_t lo = std::clamp<int64_t>(ceil_div(-off, g.stride_w), wo0, wo1);
    const int64_t hi = std::clamp<int64_t>(ceil_div(g.w - off, g.stride_w), lo, wo1);
    return {lo, hi};
}

// col [nch*kH*kW, pb] for pixels [p0, p0 + pb) of the planes xc [nch, H, W].
template <typename T>
void im2col_block(const ConvGeometry& g, const T* xc, int64_t nch, int64_t p0, int64_t pb, T* col) {
    for (int64_t c = 0; c < nch; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
                T* row = col + ((c * g.kh + i) * g.kw + j) * pb;
                const int64_t off = j * g.dil_w - g.pad_left;
                for_each_row_run(g, p0, pb, [&](int64_t d, int64_t ho, int64_t wo0, int64_t wo1) {
                    T* dst = row + d - wo0;  // dst[wo] is pixel (ho, wo)
                    const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                    if (h < 0 || h >= g.h) return std::fill(dst + wo0, dst + wo1, T(0));
                    const Cols r = valid_cols(g, off, wo0, wo1);
                    const T* src = xc + (c * g.h + h) * g.w + off;
                    std::fill(dst + wo0, dst + r.lo, T(0));
                    if (g.stride_w == 1) std::copy(src + r.lo, src + r.hi, dst + r.lo);
                    else
                        for (int64_t wo = r.lo; wo < r.hi; ++wo) dst[wo] = src[wo * g.stride_w];
                    std::fill(dst + r.hi, dst + wo1, T(0));
                });
            }
}

// The inverse scatter: dxc [nch, H, W] += the col rows of pixels [p0, p0 + pb).
template <typename T>
void col2im_block(const ConvGeometry& g, const T* col, int64_t nch, int64_t p0, int64_t pb, T* dxc) {
    for (int64_t c = 0; c < nch; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
                const T* row = col + ((c * g.kh + i) * g.kw + j) * pb;
                const int64_t off = j * g.dil_w - g.pad_left;
                for_each_row_run(g, p0, pb, [&](int64_t d, int64_t ho, int64_t wo0, int64_t wo1) {
                    const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                    if (h < 0 || h >= g.h) return;
                    const Cols r = valid_cols(g, off, wo0, wo1);
                    const T* src = row + d - wo0;
                    T* dst = dxc + (c * g.h + h) * g.w + off;
                    for (int64_t wo = r.lo; wo < r.hi; ++wo) dst[wo * g.stride_w] += src[wo];
                });
            }
}

// y[n, o, :] += bias[o] for every row.
template <typename T>
void add_bias(const ConvGeometry& g, const T* bias, T* y) {
    const int64_t p = g.ho * g.wo;
    parallel_for(0, g.n * g.o, std::max<int64_t>(1, 4096 / p), [&](int64_t lo, int64_t hi) {
        for (int64_t row = lo; row < hi; ++row) {
            const T b = bias[row % g.o];
            T* yr = y + row * p;
            for (int64_t q = 0; q < p; ++q) yr[q] += b;
        }
    });
}

// y_n[g] = W[g] · x_n[g] for every image: x [C, H*W] is already the column matrix.
template <typename T>
void forward_1x1(const ConvGeometry& g, const T* x, const T* w, T* y) {
    const int64_t p = g.h * g.w, cg = g.cg(), og = g.og();
    for (int64_t grp = 0; grp < g.groups; ++grp)
        gemm_strided_batched(false, false, og, p, cg, T(1), w + grp * og * cg, cg, 0, x + grp * cg * p, p, g.c * p,
                             T(0), y + grp * og * p, p, g.o * p, g.n);
}

template <typename T>
void backward_input_1x1(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    const int64_t p = g.h * g.w, cg = g.cg(), og = g.og();
    for (int64_t grp = 0; grp < g.groups; ++grp)
        gemm_strided_batched(true, false, cg, p, og, T(1), w + grp * og * cg, cg, 0, dy + grp * og * p, p, g.o * p,
                             T(0), dx + grp * cg * p, p, g.c * p, g.n);
}

// Weight-gradient tasks: input channels per tile, about kWeightTileRows column rows each.
// A function of the geometry only, so the summation order never depends on threads.
constexpr int64_t kWeightTileRows = 288;  // 32 channels of a 3x3 kernel: whole 16- and 32-wide GEMM panels
int64_t weight_tile_channels(const ConvGeometry& g) {
    const int64_t tiles = std::clamp<int64_t>(ceil_div(g.cg() * g.kh * g.kw, kWeightTileRows), 1, g.cg());
    return ceil_div(g.cg(), tiles);
}

}  // namespace

int64_t conv_pixel_block(int64_t col_rows, int64_t pixels, int64_t elem_size) {
    const int64_t fit = std::max<int64_t>(16, kConvColumnBudget / std::max<int64_t>(1, col_rows * elem_size));
    const int64_t blocks = ceil_div(pixels, fit);
    return std::max<int64_t>(1, ceil_div(pixels, blocks));
}

template <typename T>
void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
    const int64_t p = g.ho * g.wo, kg = g.cg() * g.kh * g.kw, og = g.og();
    const int64_t pb = conv_pixel_block(kg, p, sizeof(T)), blocks = ceil_div(p, pb);
    parallel_for(0, g.n * g.groups * blocks, 1, [&](int64_t lo, int64_t hi) {
        T* col = scratch<T>(kg * pb);
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t n = t / (g.groups * blocks), grp = t / blocks % g.groups, p0 = t % blocks * pb;
            const int64_t len = std::min(pb, p - p0);
            im2col_block(g, x + (n * g.c + grp * g.cg()) * g.h * g.w, g.cg(), p0, len, col);
            gemm(false, false, og, len, kg, T(1), w + grp * og * kg, kg, col, len, T(0),
                 y + (n * g.o + grp * og) * p + p0, p);
        }
    });
    if (bias) add_bias(g, bias, y);
}

template <typename T>
void conv2d_backward_input_col2im(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    const int64_t p = g.ho * g.wo, kg = g.cg() * g.kh * g.kw, og = g.og();
    const int64_t pb = conv_pixel_block(kg, p, sizeof(T));
    // Blocks of one image overlap in dx, so a task owns a whole (image, group).
    parallel_for(0, g.n * g.groups, 1, [&](int64_t lo, int64_t hi) {
        T* col = scratch<T>(kg * pb);
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t n = t / g.groups, grp = t % g.groups;
            T* dxc = dx + (n * g.c + grp * g.cg()) * g.h * g.w;
            std::fill(dxc, dxc + g.cg() * g.h * g.w, T(0));
            for (int64_t p0 = 0; p0 < p; p0 += pb) {
                const int64_t len = std::min(pb, p - p0);
                gemm(true, false, kg, len, og, T(1), w + grp * og * kg, kg, dy + (n * g.o + grp * og) * p + p0, p,
                     T(0), col, len);
                col2im_block(g, col, g.cg(), p0, len, dxc);
            }
        }
    });
}

template <typename T>
void conv2d_backward_weight_im2col(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
    const int64_t p = g.ho * g.wo, khw = g.kh * g.kw, kg = g.cg() * khw, og = g.og();
    const int64_t ct = weight_tile_channels(g), tiles = ceil_div(g.cg(), ct);
    const int64_t pb = conv_pixel_block(ct * khw, p, sizeof(T));
    parallel_for(0, g.groups * tiles, 1, [&](int64_t lo, int64_t hi) {
        T* col = scratch<T>(ct * khw * pb);
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t grp = t / tiles, c0 = t % tiles * ct, nch = std::min(ct, g.cg() - c0);
            T* dw_tile = dw + grp * og * kg + c0 * khw;  // [Og, nch*kH*kW] with row stride Kg
            for (int64_t n = 0; n < g.n; ++n)
                for (int64_t p0 = 0; p0 < p; p0 += pb) {
                    const int64_t len = std::min(pb, p - p0);
                    im2col_block(g, x + (n * g.c + grp * g.cg() + c0) * g.h * g.w, nch, p0, len, col);
                    const bool first = n == 0 && p0 == 0;
                    gemm(false, true, og, nch * khw, len, T(1), dy + (n * g.o + grp * og) * p + p0, p, col, len,
                         first ? T(0) : T(1), dw_tile, kg);
                }
        }
    });
}

template <typename T>
void conv2d_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
    if (g.is_depthwise()) {
        if (conv_depthwise_simd_supports(g)) conv_depthwise_kernels<T>(active_isa()).forward(g, x, w, bias, y);
        else conv_depthwise_ref(g, x, w, bias, y);
        return;
    }
    if (!g.is_1x1_direct()) return conv2d_forward_im2col(g, x, w, bias, y);
    forward_1x1(g, x, w, y);
    if (bias) add_bias(g, bias, y);
}

template <typename T>
void conv2d_backward_input(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    if (g.is_depthwise()) {
        if (conv_depthwise_simd_supports(g)) conv_depthwise_kernels<T>(active_isa()).backward_input(g, dy, w, dx);
        else conv_depthwise_backward_input_ref(g, dy, w, dx);
        return;
    }
    if (g.is_1x1_direct()) return backward_input_1x1(g, dy, w, dx);
    conv2d_backward_input_col2im(g, dy, w, dx);
}

template <typename T>
void conv2d_backward_weight(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
    if (!g.is_depthwise()) return conv2d_backward_weight_im2col(g, x, dy, dw);
    if (conv_depthwise_simd_supports(g)) conv_depthwise_kernels<T>(active_isa()).backward_weight(g, x, dy, dw);
    else conv_depthwise_backward_weight_ref(g, x, dy, dw);
}

// db[o] = sum over n, ho, wo, accumulated in double in a fixed order.
template <typename T>
void conv2d_backward_bias(const ConvGeometry& g, const T* dy, T* db) {
    const int64_t p = g.ho * g.wo;
    parallel_for(0, g.o, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) {
            double s = 0;
            for (int64_t n = 0; n < g.n; ++n) {
                const T* row = dy + (n * g.o + o) * p;
                for (int64_t q = 0; q < p; ++q) s += double(row[q]);
            }
            db[o] = T(s);
        }
    });
}

template void conv2d_forward<float>(const ConvGeometry&, const float*, const float*, const float*, float*);
template void conv2d_forward_im2col<float>(const ConvGeometry&, const float*, const float*, const float*, float*);
template void conv2d_backward_input<float>(const ConvGeometry&, const float*, const float*, float*);
template void conv2d_backward_input_col2im<float>(const ConvGeometry&, const float*, const float*, float*);
template void conv2d_backward_weight<float>(const ConvGeometry&, const float*, const float*, float*);
template void conv2d_backward_weight_im2col<float>(const ConvGeometry&, const float*, const float*, float*);
template void conv2d_backward_bias<float>(const ConvGeometry&, const float*, float*);
template void conv2d_forward<double>(const ConvGeometry&, const double*, const double*, const double*, double*);
template void conv2d_forward_im2col<double>(const ConvGeometry&, const double*, const double*, const double*, double*);
template void conv2d_backward_input<double>(const ConvGeometry&, const double*, const double*, double*);
template void conv2d_backward_input_col2im<double>(const ConvGeometry&, const double*, const double*, double*);
template void conv2d_backward_weight<double>(const ConvGeometry&, const double*, const double*, double*);
template void conv2d_backward_weight_im2col<double>(const ConvGeometry&, const double*, const double*, double*);
template void conv2d_backward_bias<double>(const ConvGeometry&, const double*, double*);

}  // namespace graft::kernels::cpu
