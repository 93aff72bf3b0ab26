// The convolution entry points of conv.h: the general im2col + GEMM path, the
// 1x1 direct-GEMM path, the hand-off to the depthwise kernels, and the bias
// gradient. Layouts: x [N, C, H, W], w [O, C/groups, kH, kW], y [N, O, Ho, Wo].
//
// The general path never builds the whole column matrix. A block is either a
// run of pb output pixels of one image (large images) or nb whole images
// (small ones), sized by conv_block_plan so that its columns, col [Kg, cols]
// with Kg = Cg*kH*kW rows ordered (c, i, j), stay under kConvColumnBudget in a
// per-thread buffer, and so that each GEMM has enough columns to amortise
// packing the weights. Per group g:
//   forward   y[block, g]  = W[g] [Og, Kg] · col [Kg, cols]            one task per (block, g)
//   dx        col = W[g]ᵀ · dy[block, g], col2im adds it into dx       one task per (image group, g)
//   dw        dW[g][:, rows] += dy[block, g] · colᵀ                    one task per (g, channel tile);
//             each task walks the blocks in batch order, and the plan depends on the
//             geometry alone, so dw is summed in the same order whatever the thread count.
// Blocks of several images gather dy into [Og, cols] (and scatter y out of it),
// since NCHW does not lay the images' [Og, P] slabs side by side.
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
T* scratch(int slot, int64_t count) {
    thread_local std::vector<T> buffers[2];
    std::vector<T>& b = buffers[slot];
    if (int64_t(b.size()) < count) b.resize(size_t(count));
    return b.data();
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

// col [nch*kH*kW, len] (row stride ld) for pixels [p0, p0 + len) of the planes xc [nch, H, W].
// Plain loops rather than std::copy/fill: the runs are one output row, often 7 or 14 long.
template <typename T>
void im2col_block(const ConvGeometry& g, const T* xc, int64_t nch, int64_t p0, int64_t len, T* col, int64_t ld) {
    for (int64_t c = 0; c < nch; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
                T* row = col + ((c * g.kh + i) * g.kw + j) * ld;
                const int64_t off = j * g.dil_w - g.pad_left;
                const Cols full = valid_cols(g, off, 0, g.wo);
                for_each_row_run(g, p0, len, [&](int64_t d, int64_t ho, int64_t wo0, int64_t wo1) {
                    T* dst = row + d - wo0;  // dst[wo] is pixel (ho, wo)
                    const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                    const int64_t lo = std::clamp(full.lo, wo0, wo1), hi = std::clamp(full.hi, lo, wo1);
                    if (h < 0 || h >= g.h) {
                        for (int64_t wo = wo0; wo < wo1; ++wo) dst[wo] = T(0);
                        return;
                    }
                    const T* src = xc + (c * g.h + h) * g.w + off;
                    for (int64_t wo = wo0; wo < lo; ++wo) dst[wo] = T(0);
                    if (g.stride_w == 1)
                        for (int64_t wo = lo; wo < hi; ++wo) dst[wo] = src[wo];
                    else
                        for (int64_t wo = lo; wo < hi; ++wo) dst[wo] = src[wo * g.stride_w];
                    for (int64_t wo = hi; wo < wo1; ++wo) dst[wo] = T(0);
                });
            }
}

// The inverse scatter: dxc [nch, H, W] += the col rows (row stride ld) of pixels [p0, p0 + len).
template <typename T>
void col2im_block(const ConvGeometry& g, const T* col, int64_t ld, int64_t nch, int64_t p0, int64_t len, T* dxc) {
    for (int64_t c = 0; c < nch; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
                const T* row = col + ((c * g.kh + i) * g.kw + j) * ld;
                const int64_t off = j * g.dil_w - g.pad_left;
                for_each_row_run(g, p0, len, [&](int64_t d, int64_t ho, int64_t wo0, int64_t wo1) {
                    const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                    if (h < 0 || h >= g.h) return;
                    const Cols r = valid_cols(g, off, wo0, wo1);
                    const T* src = row + d - wo0;
                    T* dst = dxc + (c * g.h + h) * g.w + off;
                    for (int64_t wo = r.lo; wo < r.hi; ++wo) dst[wo * g.stride_w] += src[wo];
                });
            }
}

// One block of the plan: images [n0, n0 + nimg), pixels [p0, p0 + len) of each.
struct Block {
    int64_t n0, nimg, p0, len;
    int64_t cols() const { return nimg * len; }
};
Block block_at(const ConvBlockPlan& plan, const ConvGeometry& g, int64_t b) {
    if (plan.images > 1) return {b * plan.images, std::min(plan.images, g.n - b * plan.images), 0, plan.pixels};
    const int64_t per_image = ceil_div(g.ho * g.wo, plan.pixels), p0 = b % per_image * plan.pixels;
    return {b / per_image, 1, p0, std::min(plan.pixels, g.ho * g.wo - p0)};
}
int64_t block_count(const ConvBlockPlan& plan, const ConvGeometry& g) {
    return plan.images > 1 ? ceil_div(g.n, plan.images) : g.n * ceil_div(g.ho * g.wo, plan.pixels);
}

// col [nch*kH*kW, cols] of a block, channels c0 .. c0+nch of each image.
template <typename T>
void im2col(const ConvGeometry& g, const T* x, const Block& b, int64_t c0, int64_t nch, T* col) {
    for (int64_t k = 0; k < b.nimg; ++k)
        im2col_block(g, x + ((b.n0 + k) * g.c + c0) * g.h * g.w, nch, b.p0, b.len, col + k * b.len, b.cols());
}

// The [rows, cols] slab of a [N, ch, P] tensor for channels c0 .. c0+rows of a block:
// in place when the block is one image (row stride P), else gathered into buf.
template <typename T>
const T* block_rows(const ConvGeometry& g, const T* t, int64_t ch, const Block& b, int64_t c0, int64_t rows, T* buf,
                    int64_t* ld) {
    const int64_t p = g.ho * g.wo;
    if (b.nimg == 1) return *ld = p, t + (b.n0 * ch + c0) * p + b.p0;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < b.nimg; ++k) std::copy_n(t + ((b.n0 + k) * ch + c0 + r) * p, p, buf + r * b.cols() + k * p);
    return *ld = b.cols(), buf;
}

// The bias of output channels [o0, o0 + Og) as the GEMM's per-row epilogue (a row
// of the output GEMM is one channel): added while each tile is in L1, not in a
// pass of its own over y.
template <typename T>
GemmEpilogue<T> row_bias(const T* bias, int64_t o0) {
    GemmEpilogue<T> e;
    if (bias) e.row_bias = bias + o0;
    return e;
}

// y[n, o, :] += bias[o] as a pass of its own, for the 1x1 path: with k = C_in as
// small as 16-64 the epilogue inside the GEMM cost more than this SIMD pass
// (benchmarks/kernels/epilogue_bench: 64x32x12544 fused 1.24x the time).
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

// The 1x1 direct path runs one GEMM per image, packing the weights each time:
// worth it when an image has enough pixels; small ones go through blocks of images.
bool use_1x1(const ConvGeometry& g) { return g.is_1x1_direct() && g.ho * g.wo >= 256; }

}  // namespace

ConvBlockPlan conv_block_plan(const ConvGeometry& g, int64_t col_rows, int64_t elem_size) {
    const int64_t p = g.ho * g.wo;
    const int64_t fit = std::max<int64_t>(kConvMinColumns, kConvColumnBudget / std::max<int64_t>(1, col_rows * elem_size));
    if (p >= fit || g.n <= 1) return {1, std::max<int64_t>(1, ceil_div(p, ceil_div(p, fit)))};
    const int64_t images = ceil_div(g.n, ceil_div(g.n, std::max<int64_t>(1, fit / p)));  // evened over the batch
    return {images, p};
}

// For the forward and the input gradient, whose results do not depend on the
// blocking (each output is one GEMM's dot product over the same k), blocks of
// whole images are evened out over the threads: 7 blocks on 2 threads would
// leave one idle for a seventh of the time.
ConvBlockPlan balanced(const ConvGeometry& g, ConvBlockPlan plan) {
    const int64_t threads = get_num_threads(), blocks = ceil_div(g.n, plan.images);
    if (plan.images == 1 || blocks % threads == 0) return plan;
    plan.images = ceil_div(g.n, ceil_div(blocks, threads) * threads);
    return plan;
}

template <typename T>
void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
    const int64_t p = g.ho * g.wo, kg = g.cg() * g.kh * g.kw, og = g.og();
    const ConvBlockPlan plan = balanced(g, conv_block_plan(g, kg, sizeof(T)));
    const int64_t blocks = block_count(plan, g), max_cols = plan.images * plan.pixels;
    parallel_for(0, blocks * g.groups, 1, [&](int64_t lo, int64_t hi) {
        T* col = scratch<T>(0, kg * max_cols);
        for (int64_t t = lo; t < hi; ++t) {
            const Block b = block_at(plan, g, t / g.groups);
            const int64_t grp = t % g.groups;
            im2col(g, x, b, grp * g.cg(), g.cg(), col);
            const T* wg = w + grp * og * kg;
            if (b.nimg == 1) {
                gemm(false, false, og, b.len, kg, T(1), wg, kg, col, b.len, T(0), y + (b.n0 * g.o + grp * og) * p + b.p0, p,
                     row_bias(bias, grp * og));
                continue;
            }
            T* out = scratch<T>(1, og * b.cols());  // [Og, nimg*P], scattered to the images below
            gemm(false, false, og, b.cols(), kg, T(1), wg, kg, col, b.cols(), T(0), out, b.cols(), row_bias(bias, grp * og));
            for (int64_t k = 0; k < b.nimg; ++k)
                for (int64_t o = 0; o < og; ++o)
                    std::copy_n(out + o * b.cols() + k * p, p, y + ((b.n0 + k) * g.o + grp * og + o) * p);
        }
    });
}

template <typename T>
void conv2d_backward_input_col2im(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    const int64_t kg = g.cg() * g.kh * g.kw, og = g.og();
    const ConvBlockPlan plan = balanced(g, conv_block_plan(g, kg, sizeof(T)));
    const int64_t max_cols = plan.images * plan.pixels, per_image = ceil_div(g.ho * g.wo, plan.pixels);
    // Blocks of one image overlap in dx, so a task owns whole images: all blocks of
    // one image, or one block of whole images.
    const int64_t units = plan.images > 1 ? block_count(plan, g) : g.n;
    parallel_for(0, units * g.groups, 1, [&](int64_t lo, int64_t hi) {
        T* col = scratch<T>(0, kg * max_cols);
        T* dyb = scratch<T>(1, plan.images > 1 ? og * max_cols : 0);
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t unit = t / g.groups, grp = t % g.groups;
            const int64_t first = plan.images > 1 ? unit : unit * per_image, count = plan.images > 1 ? 1 : per_image;
            for (int64_t bi = first; bi < first + count; ++bi) {
                const Block b = block_at(plan, g, bi);
                if (b.p0 == 0)
                    for (int64_t k = 0; k < b.nimg; ++k) {
                        T* dxc = dx + ((b.n0 + k) * g.c + grp * g.cg()) * g.h * g.w;
                        std::fill(dxc, dxc + g.cg() * g.h * g.w, T(0));
                    }
                int64_t ld = 0;
                const T* d = block_rows(g, dy, g.o, b, grp * og, og, dyb, &ld);
                gemm(true, false, kg, b.cols(), og, T(1), w + grp * og * kg, kg, d, ld, T(0), col, b.cols());
                for (int64_t k = 0; k < b.nimg; ++k)
                    col2im_block(g, col + k * b.len, b.cols(), g.cg(), b.p0, b.len,
                                 dx + ((b.n0 + k) * g.c + grp * g.cg()) * g.h * g.w);
            }
        }
    });
}

template <typename T>
void conv2d_backward_weight_im2col(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
    const int64_t khw = g.kh * g.kw, kg = g.cg() * khw, og = g.og();
    const int64_t ct = weight_tile_channels(g), tiles = ceil_div(g.cg(), ct);
    const ConvBlockPlan plan = conv_block_plan(g, ct * khw, sizeof(T));
    const int64_t blocks = block_count(plan, g), max_cols = plan.images * plan.pixels;
    parallel_for(0, g.groups * tiles, 1, [&](int64_t lo, int64_t hi) {
        T* col = scratch<T>(0, ct * khw * max_cols);
        T* dyb = scratch<T>(1, plan.images > 1 ? og * max_cols : 0);
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t grp = t / tiles, c0 = t % tiles * ct, nch = std::min(ct, g.cg() - c0);
            T* dw_tile = dw + grp * og * kg + c0 * khw;  // [Og, nch*kH*kW] with row stride Kg
            for (int64_t bi = 0; bi < blocks; ++bi) {
                const Block b = block_at(plan, g, bi);
                im2col(g, x, b, grp * g.cg() + c0, nch, col);
                int64_t ld = 0;
                const T* d = block_rows(g, dy, g.o, b, grp * og, og, dyb, &ld);
                gemm(false, true, og, nch * khw, b.cols(), T(1), d, ld, col, b.cols(), bi == 0 ? T(0) : T(1), dw_tile,
                     kg);
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
    if (!use_1x1(g)) return conv2d_forward_im2col(g, x, w, bias, y);
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
    if (use_1x1(g)) return backward_input_1x1(g, dy, w, dx);
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
