// The raw convolution and pooling kernels: the SIMD depthwise kernels at every
// ISA level against conv_depthwise_ref (forward, input and weight gradients)
// at awkward widths (1, 3, 17, 63, 129) and paddings; the im2col path over
// several batch chunks and the 1x1 path against the depthwise/naive truth; the
// pooling kernels against their scalar references.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/conv/conv.h"
#include "kernels/cpu/conv/conv_depthwise.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/pool/pool.h"

using namespace graft::kernels;
using namespace graft::kernels::cpu;

namespace {

template <typename T>
std::vector<T> lcg(size_t n, uint64_t seed) {
    std::vector<T> v(n);
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (T& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = T(2.0 * double(s >> 11) / double(1ull << 53) - 1.0);
    }
    return v;
}

// |got - want| <= atol + rtol |want| everywhere; names the kernel, ISA, geometry and first bad index.
template <typename T>
void compare(const std::vector<T>& got, const std::vector<T>& want, const char* what, const ConvGeometry& g) {
    const double rtol = std::is_same_v<T, float> ? 1e-5 : 1e-13, atol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= atol * (1 + g.n * g.ho * g.wo / 64.0) + rtol * std::abs(double(want[i]))))
            FAIL(what << " " << isa_name(active_isa()) << " N" << g.n << " C" << g.c << " H" << g.h << " W" << g.w
                      << " k" << g.kh << " s" << g.stride_h << " pads " << g.pad_top << "," << g.pad_left
                      << ": element " << i << " = " << got[i] << ", want " << want[i]);
}

ConvGeometry depthwise(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s, int64_t pt, int64_t pb,
                       int64_t pl, int64_t pr) {
    ConvGeometry g;
    g.n = n, g.c = c, g.h = h, g.w = w, g.o = c, g.kh = g.kw = k, g.groups = c;
    g.stride_h = g.stride_w = s, g.pad_top = pt, g.pad_left = pl;
    g.ho = (h + pt + pb - k) / s + 1, g.wo = (w + pl + pr - k) / s + 1;
    return g;
}

template <typename T>
void check_depthwise(const ConvGeometry& g) {
    const auto x = lcg<T>(size_t(g.n * g.c * g.h * g.w), 1), w = lcg<T>(size_t(g.c * g.kh * g.kw), 2);
    const auto bias = lcg<T>(size_t(g.c), 3), dy = lcg<T>(size_t(g.n * g.c * g.ho * g.wo), 4);
    std::vector<T> y(dy.size()), want_y(dy.size()), dx(x.size()), want_dx(x.size()), dw(w.size()), want_dw(w.size());
    conv_depthwise_ref(g, x.data(), w.data(), bias.data(), want_y.data());
    conv_depthwise_backward_input_ref(g, dy.data(), w.data(), want_dx.data());
    conv_depthwise_backward_weight_ref(g, x.data(), dy.data(), want_dw.data());
    const DepthwiseKernels<T> k = conv_depthwise_kernels<T>(active_isa());
    k.forward(g, x.data(), w.data(), bias.data(), y.data());
    compare(y, want_y, "depthwise forward", g);
    k.backward_input(g, dy.data(), w.data(), dx.data());
    compare(dx, want_dx, "depthwise backward_input", g);
    k.backward_weight(g, x.data(), dy.data(), dw.data());
    compare(dw, want_dw, "depthwise backward_weight", g);
}

template <typename T>
void depthwise_all_levels() {
    const Isa saved = active_isa();
    for (int level = 0; level <= int(detected_isa()); ++level) {
        set_isa(Isa(level));
        for (int64_t k : {3, 5})
            for (int64_t s : {1, 2})
                for (int64_t w : {1, 3, 17, 63, 129}) {
                    const int64_t p = k / 2;
                    if (w + 2 * p < k) continue;
                    check_depthwise<T>(depthwise(2, 3, 5 + w % 4, w, k, s, p, p, p, p));
                    check_depthwise<T>(depthwise(1, 2, 7, w + 2, k, s, 0, 1, 1, k));  // asymmetric, wide right pad
                }
    }
    set_isa(saved);
}

// The general path at a chunk size of one image (so several chunks run) against
// the depthwise reference, on a depthwise geometry both can compute.
template <typename T>
void im2col_matches_depthwise(const ConvGeometry& g) {
    const auto x = lcg<T>(size_t(g.n * g.c * g.h * g.w), 5), w = lcg<T>(size_t(g.c * g.kh * g.kw), 6);
    const auto dy = lcg<T>(size_t(g.n * g.c * g.ho * g.wo), 7);
    std::vector<T> y(dy.size()), want_y(dy.size()), dx(x.size()), want_dx(x.size());
    conv_depthwise_ref(g, x.data(), w.data(), static_cast<const T*>(nullptr), want_y.data());
    conv2d_forward_im2col(g, x.data(), w.data(), static_cast<const T*>(nullptr), y.data());
    compare(y, want_y, "im2col forward", g);
    conv_depthwise_backward_input_ref(g, dy.data(), w.data(), want_dx.data());
    conv2d_backward_input_col2im(g, dy.data(), w.data(), dx.data());
    compare(dx, want_dx, "col2im backward_input", g);
}

}  // namespace

TEST_CASE("depthwise SIMD kernels match conv_depthwise_ref at every ISA level", "[kernels][conv]") {
    depthwise_all_levels<float>();
    depthwise_all_levels<double>();
}

TEST_CASE("im2col path matches the depthwise reference, dilated and strided", "[kernels][conv]") {
    ConvGeometry g = depthwise(3, 4, 11, 13, 3, 2, 1, 2, 0, 1);
    im2col_matches_depthwise<float>(g);
    im2col_matches_depthwise<double>(g);
    g.dil_h = 2, g.dil_w = 3, g.stride_w = 1, g.ho = (11 + 3 - 5) / 2 + 1, g.wo = (13 + 1 - 7) + 1;
    im2col_matches_depthwise<double>(g);
}

namespace {

// The general path (forward, dx, dw) against direct loops, groups == 1.
void general_vs_loops(const ConvGeometry& g) {
    const auto x = lcg<double>(size_t(g.n * g.c * g.h * g.w), 8), w = lcg<double>(size_t(g.o * g.c * g.kh * g.kw), 9);
    const auto dy = lcg<double>(size_t(g.n * g.o * g.ho * g.wo), 10);
    std::vector<double> y(dy.size()), want(dy.size(), 0.0), dw(w.size()), want_dw(w.size(), 0.0);
    std::vector<double> dx(x.size()), want_dx(x.size(), 0.0);
    for (int64_t n = 0; n < g.n; ++n)
        for (int64_t o = 0; o < g.o; ++o)
            for (int64_t c = 0; c < g.c; ++c)
                for (int64_t i = 0; i < g.kh; ++i)
                    for (int64_t j = 0; j < g.kw; ++j)
                        for (int64_t ho = 0; ho < g.ho; ++ho)
                            for (int64_t wo = 0; wo < g.wo; ++wo) {
                                const int64_t h = ho * g.stride_h - g.pad_top + i, ww = wo * g.stride_w - g.pad_left + j;
                                if (h < 0 || h >= g.h || ww < 0 || ww >= g.w) continue;
                                const size_t xi = size_t(((n * g.c + c) * g.h + h) * g.w + ww);
                                const size_t yi = size_t(((n * g.o + o) * g.ho + ho) * g.wo + wo);
                                const size_t wi = size_t(((o * g.c + c) * g.kh + i) * g.kw + j);
                                want[yi] += w[wi] * x[xi];
                                want_dw[wi] += dy[yi] * x[xi];
                                want_dx[xi] += dy[yi] * w[wi];
                            }
    conv2d_forward_im2col(g, x.data(), w.data(), static_cast<const double*>(nullptr), y.data());
    compare(y, want, "im2col forward", g);
    conv2d_backward_input_col2im(g, dy.data(), w.data(), dx.data());
    compare(dx, want_dx, "col2im backward_input", g);
    conv2d_backward_weight_im2col(g, x.data(), dy.data(), dw.data());
    compare(dw, want_dw, "im2col backward_weight", g);
}

}  // namespace

TEST_CASE("im2col path over blocks of pixels and blocks of images matches direct loops", "[kernels][conv]") {
    // 64 channels, 3x3: 576 column rows, so a 40x40 output (1600 pixels) takes several pixel blocks.
    ConvGeometry g;
    g.n = 2, g.c = 64, g.h = 40, g.w = 40, g.o = 5, g.kh = g.kw = 3, g.ho = 40, g.wo = 40, g.pad_top = g.pad_left = 1;
    REQUIRE(conv_block_plan(g, g.c * 9, sizeof(double)).pixels < g.ho * g.wo);
    general_vs_loops(g);
    // 256 channels at 7x7, batch 7: blocks of 4 and 3 whole images.
    g.n = 7, g.c = 256, g.h = g.w = g.ho = g.wo = 7, g.o = 3;
    const ConvBlockPlan plan = conv_block_plan(g, g.c * 9, sizeof(double));
    REQUIRE(plan.images > 1);
    REQUIRE(plan.images < g.n);
    REQUIRE(g.n % plan.images != 0);
    general_vs_loops(g);
    // stride 2, asymmetric padding, whole batch in one block
    g.n = 3, g.c = 5, g.h = 9, g.w = 8, g.kh = 3, g.kw = 2, g.stride_h = g.stride_w = 2, g.pad_top = 0, g.pad_left = 1;
    g.ho = (9 + 0 + 1 - 3) / 2 + 1, g.wo = (8 + 1 + 0 - 2) / 2 + 1;
    general_vs_loops(g);
}

TEST_CASE("1x1 path matches the im2col path", "[kernels][conv]") {
    ConvGeometry g;
    g.n = 3, g.c = 6, g.h = 5, g.w = 17, g.o = 4, g.ho = 5, g.wo = 17, g.groups = 2;
    REQUIRE(g.is_1x1_direct());
    const auto x = lcg<double>(size_t(g.n * g.c * g.h * g.w), 11), w = lcg<double>(size_t(g.o * 3), 12);
    const auto bias = lcg<double>(4, 13), dy = lcg<double>(size_t(g.n * g.o * g.h * g.w), 14);
    std::vector<double> y(dy.size()), want(dy.size()), dx(x.size()), want_dx(x.size());
    conv2d_forward(g, x.data(), w.data(), bias.data(), y.data());
    conv2d_forward_im2col(g, x.data(), w.data(), bias.data(), want.data());
    compare(y, want, "1x1 forward", g);
    conv2d_backward_input(g, dy.data(), w.data(), dx.data());
    conv2d_backward_input_col2im(g, dy.data(), w.data(), want_dx.data());
    compare(dx, want_dx, "1x1 backward_input", g);
}

namespace {

template <typename T>
void check_pool(const PoolGeometry& g) {
    const auto x = lcg<T>(size_t(g.planes * g.h * g.w), 15), dy = lcg<T>(size_t(g.planes * g.ho * g.wo), 16);
    std::vector<T> y(dy.size()), want(dy.size()), dx(x.size()), want_dx(x.size());
    std::vector<int64_t> idx(dy.size()), want_idx(dy.size());
    ConvGeometry cg;  // for messages only
    cg.n = 1, cg.c = g.planes, cg.h = g.h, cg.w = g.w, cg.kh = g.kh, cg.stride_h = g.stride_h, cg.ho = cg.wo = 1;
    max_pool2d_forward(g, x.data(), y.data(), idx.data());
    max_pool2d_forward_ref(g, x.data(), want.data(), want_idx.data());
    compare(y, want, "max_pool2d forward", cg);
    CHECK(idx == want_idx);
    avg_pool2d_forward(g, x.data(), y.data());
    avg_pool2d_forward_ref(g, x.data(), want.data());
    compare(y, want, "avg_pool2d forward", cg);
    avg_pool2d_backward(g, dy.data(), dx.data());
    avg_pool2d_backward_ref(g, dy.data(), want_dx.data());
    compare(dx, want_dx, "avg_pool2d backward", cg);
}

}  // namespace

TEST_CASE("pooling kernels match their references", "[kernels][pool]") {
    for (bool include_pad : {true, false})
        for (int64_t w : {1, 3, 17, 63}) {
            PoolGeometry g;
            g.planes = 3, g.h = 9, g.w = w, g.kh = 3, g.kw = 3, g.stride_h = 2, g.stride_w = 2, g.pad_h = 1,
            g.pad_w = 1, g.count_include_pad = include_pad;
            g.ho = (9 + 2 - 3 + 1) / 2 + 1, g.wo = (w + 2 - 3 + 1) / 2 + 1;  // ceil_mode sizes
            if ((g.wo - 1) * 2 >= w + 1) --g.wo;
            check_pool<float>(g);
            check_pool<double>(g);
        }
    PoolGeometry g;  // dilated max pooling (avg ignores dilation)
    g.planes = 2, g.h = 10, g.w = 11, g.kh = 3, g.kw = 2, g.stride_h = 1, g.stride_w = 2, g.pad_h = 1, g.pad_w = 1;
    g.dil_h = 2, g.dil_w = 3;
    g.ho = (10 + 2 - 2 * 2 - 1) / 1 + 1, g.wo = (11 + 2 - 3 - 1) / 2 + 1;
    std::vector<float> x = lcg<float>(size_t(2 * 10 * 11), 17), y(size_t(2 * g.ho * g.wo)), want(y.size());
    std::vector<int64_t> idx(y.size()), want_idx(y.size());
    max_pool2d_forward(g, x.data(), y.data(), idx.data());
    max_pool2d_forward_ref(g, x.data(), want.data(), want_idx.data());
    CHECK(y == want);
    CHECK(idx == want_idx);
}

TEST_CASE("2x2 stride-2 max pooling (its fast path) matches the reference, ties and NaN included", "[kernels][pool]") {
    for (int64_t h : {2, 5, 28})
        for (int64_t w : {2, 7, 28}) {
            PoolGeometry g;
            g.planes = 3, g.h = h, g.w = w, g.kh = 2, g.kw = 2, g.stride_h = 2, g.stride_w = 2;
            g.ho = h / 2, g.wo = w / 2;
            std::vector<float> x = lcg<float>(size_t(3 * h * w), 20);
            for (size_t i = 0; i < x.size(); i += 7) x[i] = 0.25f;  // ties: the first tap wins
            x[5] = std::numeric_limits<float>::quiet_NaN();
            std::vector<float> y(size_t(3 * g.ho * g.wo)), want(y.size());
            std::vector<int64_t> idx(y.size()), want_idx(y.size());
            max_pool2d_forward(g, x.data(), y.data(), idx.data());
            max_pool2d_forward_ref(g, x.data(), want.data(), want_idx.data());
            for (size_t i = 0; i < y.size(); ++i) CHECK((y[i] == want[i] || (std::isnan(y[i]) && std::isnan(want[i]))));
            CHECK(idx == want_idx);
        }
}

TEST_CASE("adaptive average pooling matches its reference", "[kernels][pool]") {
    for (int64_t out : {1, 3, 7, 10}) {
        PoolGeometry g;
        g.planes = 2, g.h = 7, g.w = 9, g.ho = out, g.wo = out + 1;
        const auto x = lcg<double>(size_t(2 * 7 * 9), 18), dy = lcg<double>(size_t(2 * g.ho * g.wo), 19);
        std::vector<double> y(dy.size()), want(dy.size()), dx(x.size()), want_dx(x.size());
        adaptive_avg_pool2d_forward(g, x.data(), y.data());
        adaptive_avg_pool2d_forward_ref(g, x.data(), want.data());
        adaptive_avg_pool2d_backward(g, dy.data(), dx.data());
        adaptive_avg_pool2d_backward_ref(g, dy.data(), want_dx.data());
        for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(want[i]).epsilon(1e-13));
        for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(want_dx[i]).epsilon(1e-13));
    }
}
