// conv2d against a direct naive reference (7 nested loops, in double): forward,
// input and weight gradients, over strides, asymmetric padding, dilation,
// groups, depthwise and 1x1 geometries, awkward sizes, both float dtypes and
// every ISA level; weight gradients bit-identical at 1 and 2 threads; error
// messages that name the shapes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "graft.h"
#include "kernels/cpu/isa.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

struct Case {
    Shape x, w;  // [N, C, H, W], [O, C/groups, kH, kW]
    Conv2dParams p;
};

struct Naive {
    std::vector<double> y, dx, dw, db;
    Shape y_shape;
};

// y[n,o,ho,wo] = b[o] + sum_{c,i,j} w[o,c,i,j] x[n, g*Cg+c, ho*sh-pt+i*dh, wo*sw-pl+j*dw];
// dx, dw, db from dy by the same loops, scattering instead of gathering.
Naive naive(const Case& k, const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
            const std::vector<double>& dy) {
    const int64_t N = k.x[0], C = k.x[1], H = k.x[2], W = k.x[3], O = k.w[0], Cg = k.w[1], KH = k.w[2], KW = k.w[3];
    const Conv2dParams& p = k.p;
    const int64_t Og = O / p.groups;
    const int64_t Ho = (H + p.pad_top + p.pad_bottom - p.dilation_h * (KH - 1) - 1) / p.stride_h + 1;
    const int64_t Wo = (W + p.pad_left + p.pad_right - p.dilation_w * (KW - 1) - 1) / p.stride_w + 1;
    Naive r;
    r.y_shape = {N, O, Ho, Wo};
    r.y.assign(size_t(N * O * Ho * Wo), 0.0);
    r.dx.assign(x.size(), 0.0), r.dw.assign(w.size(), 0.0), r.db.assign(size_t(O), 0.0);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o)
            for (int64_t ho = 0; ho < Ho; ++ho)
                for (int64_t wo = 0; wo < Wo; ++wo) {
                    const int64_t yi = ((n * O + o) * Ho + ho) * Wo + wo;
                    double acc = b.empty() ? 0.0 : b[size_t(o)];
                    r.db[size_t(o)] += dy[size_t(yi)];
                    for (int64_t c = 0; c < Cg; ++c)
                        for (int64_t i = 0; i < KH; ++i)
                            for (int64_t j = 0; j < KW; ++j) {
                                const int64_t h = ho * p.stride_h - p.pad_top + i * p.dilation_h;
                                const int64_t ww = wo * p.stride_w - p.pad_left + j * p.dilation_w;
                                if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                                const int64_t xi = ((n * C + o / Og * Cg + c) * H + h) * W + ww;
                                const int64_t wi = ((o * Cg + c) * KH + i) * KW + j;
                                acc += w[size_t(wi)] * x[size_t(xi)];
                                r.dx[size_t(xi)] += w[size_t(wi)] * dy[size_t(yi)];
                                r.dw[size_t(wi)] += x[size_t(xi)] * dy[size_t(yi)];
                            }
                    r.y[size_t(yi)] = acc;
                }
    return r;
}

// max |got - want| <= tol * max(1, max |want|).
void expect_close(const Tensor& got, const std::vector<double>& want, double tol, const char* what) {
    const std::vector<double> g = got.to_vector<double>();
    REQUIRE(g.size() == want.size());
    double scale = 1.0, worst = 0.0;
    size_t at = 0;
    for (double v : want) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < g.size(); ++i) {
        const double e = std::fabs(g[i] - want[i]);
        if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e, at = i;
    }
    INFO(what << ": worst error " << worst << " at element " << at << " (scale " << scale << ", isa "
              << kernels::isa_name(kernels::active_isa()) << ")");
    CHECK(worst <= tol * scale);
}

void run_case(const Case& k, DType dtype, bool bias = true) {
    INFO("x " << shape_str(k.x) << " w " << shape_str(k.w) << " stride " << k.p.stride_h << "x" << k.p.stride_w
              << " pad " << k.p.pad_top << "/" << k.p.pad_bottom << "/" << k.p.pad_left << "/" << k.p.pad_right
              << " dil " << k.p.dilation_h << "x" << k.p.dilation_w << " groups " << k.p.groups << " "
              << dtype_name(dtype));
    manual_seed(7);
    const Tensor x = randn(k.x, dtype).requires_grad_(), w = randn(k.w, dtype).requires_grad_();
    const Tensor b = bias ? randn({k.w[0]}, dtype).requires_grad_() : Tensor();
    const Tensor y = conv2d(x, w, b, k.p);
    const Tensor dy = randn(y.shape(), dtype);
    y.backward(dy);
    const Naive r = naive(k, x.to_vector<double>(), w.to_vector<double>(),
                          bias ? b.to_vector<double>() : std::vector<double>{}, dy.to_vector<double>());
    REQUIRE(y.shape() == r.y_shape);
    const double tol = dtype == DType::Float32 ? 2e-5 : 1e-12;
    expect_close(y, r.y, tol, "forward");
    expect_close(x.grad(), r.dx, tol, "input gradient");
    expect_close(w.grad(), r.dw, tol, "weight gradient");
    if (bias) expect_close(b.grad(), r.db, tol, "bias gradient");
}

Conv2dParams sym(int64_t stride, int64_t pad, int64_t dil = 1, int64_t groups = 1) {
    return Conv2dParams::make(stride, pad, dil, groups);
}

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        {{2, 3, 9, 11}, {4, 3, 3, 3}, sym(1, 1)},
        {{1, 5, 17, 13}, {7, 5, 3, 3}, sym(2, 1)},
        {{3, 4, 8, 8}, {6, 4, 2, 2}, sym(2, 0)},
        {{1, 3, 10, 9}, {2, 3, 3, 2}, {1, 2, 0, 2, 1, 1, 1, 1, 1}},   // asymmetric padding, kernel 3x2
        {{1, 2, 12, 12}, {3, 2, 3, 3}, sym(1, 2, 2)},                 // dilation
        {{2, 3, 11, 10}, {2, 3, 3, 3}, {3, 2, 1, 2, 0, 1, 2, 3, 1}},  // everything unequal
        {{2, 6, 7, 7}, {9, 2, 3, 3}, sym(1, 1, 1, 3)},                // groups
        {{1, 8, 9, 9}, {8, 4, 3, 3}, sym(2, 1, 2, 2)},                // groups, stride, dilation
        {{2, 17, 5, 7}, {3, 17, 1, 1}, sym(1, 0)},                    // 1x1 direct
        {{2, 6, 5, 7}, {6, 2, 1, 1}, sym(1, 0, 1, 3)},                // 1x1 direct, groups
        {{1, 6, 9, 9}, {4, 6, 1, 1}, sym(2, 0)},                      // 1x1 strided
        {{1, 1, 1, 1}, {1, 1, 1, 1}, sym(1, 0)},
        {{1, 2, 1, 1}, {3, 2, 3, 3}, sym(1, 1)},                      // all padding but the center
        // depthwise: SIMD geometries at awkward widths (around 16 and 32 lanes), and ref-only ones
        {{2, 3, 17, 33}, {3, 1, 3, 3}, sym(1, 1, 1, 3)},
        {{1, 5, 18, 35}, {5, 1, 3, 3}, sym(2, 1, 1, 5)},
        {{1, 2, 13, 63}, {2, 1, 5, 5}, sym(1, 2, 1, 2)},
        {{2, 2, 14, 31}, {2, 1, 5, 5}, sym(2, 2, 1, 2)},
        {{1, 3, 3, 1}, {3, 1, 3, 3}, sym(1, 1, 1, 3)},
        {{1, 2, 9, 10}, {2, 1, 3, 3}, {2, 2, 0, 1, 0, 1, 1, 1, 2}},   // TF SAME padding, stride 2
        {{1, 2, 8, 9}, {2, 1, 3, 3}, {1, 1, 3, 2, 1, 3, 1, 1, 2}},    // padding wider than the kernel's half
        {{1, 3, 9, 9}, {3, 1, 3, 3}, sym(1, 2, 2, 3)},                // depthwise dilated: ref path
        {{1, 2, 11, 11}, {2, 1, 7, 7}, sym(2, 3, 1, 2)},              // depthwise 7x7: ref path
        {{1, 2, 6, 6}, {4, 1, 3, 3}, sym(1, 1, 1, 2)},                // channel multiplier 2: general path
    };
    return all;
}

}  // namespace

TEST_CASE("conv2d matches the naive loops, float64", "[conv]") {
    for (const Case& k : cases()) run_case(k, DType::Float64);
    run_case(cases()[0], DType::Float64, false);
}

TEST_CASE("conv2d matches the naive loops at every ISA level, float32", "[conv]") {
    const kernels::Isa saved = kernels::active_isa();
    for (int level = 0; level <= int(kernels::detected_isa()); ++level) {
        kernels::set_isa(kernels::Isa(level));
        for (const Case& k : cases()) run_case(k, DType::Float32);
    }
    kernels::set_isa(saved);
}

TEST_CASE("conv2d of a non-contiguous input equals that of its contiguous copy", "[conv]") {
    const Tensor base = randn({2, 9, 8, 3});
    const Tensor x = base.permute({0, 3, 1, 2});  // [2, 3, 9, 8], channels last in memory
    const Tensor w = randn({4, 3, 3, 3});
    CHECK(conv2d(x, w, Tensor(), sym(1, 1)).to_vector<float>() ==
          conv2d(x.contiguous(), w, Tensor(), sym(1, 1)).to_vector<float>());
}

TEST_CASE("conv2d gradients are bit-identical at 1 and 2 threads", "[conv]") {
    const int before = get_num_threads();
    for (const Case& k : {Case{{8, 16, 20, 20}, {32, 16, 3, 3}, sym(1, 1)}, Case{{6, 8, 15, 17}, {8, 1, 3, 3}, sym(2, 1, 1, 8)},
                          Case{{5, 12, 9, 9}, {6, 12, 1, 1}, sym(1, 0)}}) {
        std::vector<std::vector<float>> runs[2];
        for (int t = 1; t <= 2; ++t) {
            set_num_threads(t);
            manual_seed(3);
            const Tensor x = randn(k.x).requires_grad_(), w = randn(k.w).requires_grad_(), b = randn({k.w[0]}).requires_grad_();
            const Tensor y = conv2d(x, w, b, k.p);
            y.backward(randn(y.shape()));
            runs[t - 1] = {y.to_vector<float>(), x.grad().to_vector<float>(), w.grad().to_vector<float>(),
                           b.grad().to_vector<float>()};
        }
        for (size_t i = 0; i < 4; ++i) CHECK(runs[0][i] == runs[1][i]);
    }
    set_num_threads(before);
}

TEST_CASE("conv2d skips gradients nobody needs", "[conv]") {
    const Tensor x = randn({1, 2, 5, 5}), w = randn({3, 2, 3, 3}).requires_grad_(), b = randn({3});
    conv2d(x, w, b, sym(1, 1)).sum().backward();
    CHECK(w.grad().defined());
    CHECK_FALSE(x.grad().defined());
    CHECK_FALSE(b.grad().defined());
}

TEST_CASE("conv2d errors name the op and the shapes", "[conv][errors]") {
    const Tensor x = zeros({1, 3, 8, 8});
    CHECK_THROWS_WITH(conv2d(x, zeros({4, 2, 3, 3}), Tensor()),
                      Contains("conv2d") && Contains("[1, 3, 8, 8]") && Contains("[4, 2, 3, 3]") && Contains("channel"));
    CHECK_THROWS_WITH(conv2d(zeros({1, 3, 2, 2}), zeros({4, 3, 3, 3}), Tensor()),
                      Contains("conv2d") && Contains("empty") && Contains("[1, 3, 2, 2]") && Contains("[4, 3, 3, 3]"));
    CHECK_THROWS_WITH(conv2d(x, zeros({4, 1, 3, 3}), Tensor(), sym(1, 0, 1, 2)),
                      Contains("groups=2") && Contains("[1, 3, 8, 8]"));
    CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}), zeros({5})), Contains("bias") && Contains("[5]"));
    CHECK_THROWS_WITH(conv2d(zeros({3, 8, 8}), zeros({4, 3, 3, 3}), Tensor()), Contains("4-d input"));
    CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}, DType::Float64), Tensor()), Contains("float64"));
    CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}), Tensor(), sym(0, 0)), Contains("stride"));
}

TEST_CASE("conv2d of an empty batch is empty", "[conv]") {
    const Tensor y = conv2d(zeros({0, 3, 8, 8}), randn({4, 3, 3, 3}), randn({4}), sym(1, 1));
    CHECK(y.shape() == Shape{0, 4, 8, 8});
}
