// Loss forward values against composites of primitive ops (log_softmax,
// gather, ...) and hand-computed numbers: torch's weighted mean, label
// smoothing with class weights, ignore_index, [N, C, d...] inputs; the fused
// cross_entropy gradient against the composite's; target errors naming the op,
// the value and C; thread-count independence.
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

Tensor values(const Shape& shape, uint64_t seed, double scale = 2.0, DType dtype = DType::Float64) {
    Generator gen(seed);
    return mul(sub(rand(shape, DType::Float64, &gen), 0.5), 2.0 * scale).to(dtype);
}

double max_rel(const Tensor& a, const Tensor& b) {
    const auto x = a.to(DType::Float64).contiguous().to_vector<double>();
    const auto y = b.to(DType::Float64).contiguous().to_vector<double>();
    REQUIRE(x.size() == y.size());
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]) / (1e-9 + std::abs(y[i])));
    return worst;
}

// torch's cross_entropy from primitives, for logits [N, C] and no ignored targets:
// per row (1-ε) w_t (-lp_t) + ε/C Σ_c w_c (-lp_c); mean divides by Σ w_t.
Tensor composite_ce(const Tensor& x, const Tensor& t, const Tensor& w, double eps, Reduction r) {
    const int64_t C = x.size(1);
    const Tensor lp = log_softmax(x, 1);
    const Tensor wt = w.index_select(0, t);
    const Tensor nll = neg(mul(lp.gather(1, t.unsqueeze(1)).squeeze(1), wt));
    const Tensor smooth = neg(sum(mul(lp, w), {1}));
    const Tensor per_row = add(mul(nll, 1.0 - eps), mul(smooth, eps / double(C)));
    if (r == Reduction::None) return per_row;
    return r == Reduction::Sum ? sum(per_row) : div(sum(per_row), sum(wt));
}

}  // namespace

TEST_CASE("cross_entropy matches the composite in value and gradient", "[loss]") {
    const Tensor t = from_vector<int64_t>({3, 0, 4, 4, 1, 2}, {6});
    const Tensor w = add(values({5}, 1, 0.5), 1.0);
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
        for (double eps : {0.0, 0.15}) {
            const Tensor x = values({6, 5}, 2);
            x.requires_grad_(true);
            const Tensor xc = x.detach().clone();
            xc.requires_grad_(true);
            CrossEntropyOptions o;
            o.weight = w;
            o.label_smoothing = eps;
            o.reduction = r;
            const Tensor got = cross_entropy(x, t, o), want = composite_ce(xc, t, w, eps, r);
            CHECK(max_rel(got, want) < 1e-12);
            sum(mul(got, got)).backward();
            sum(mul(want, want)).backward();
            CHECK(max_rel(x.grad(), xc.grad()) < 1e-10);
        }
}

TEST_CASE("cross_entropy mean divides by the weights of targets not ignored", "[loss]") {
    // Two rows, the second ignored: the mean is the first row's loss (w_t cancels).
    const Tensor x = from_vector<double>({0.0, 0.0, 0.0, 1.0, 2.0, 3.0}, {2, 3});
    const Tensor t = from_vector<int64_t>({1, -100}, {2});
    CrossEntropyOptions o;
    o.weight = from_vector<double>({1.0, 3.0, 1.0});
    CHECK(cross_entropy(x, t, o).item<double>() == Approx(std::log(3.0)).epsilon(1e-14));
    o.reduction = Reduction::Sum;
    CHECK(cross_entropy(x, t, o).item<double>() == Approx(3.0 * std::log(3.0)).epsilon(1e-14));
    o.reduction = Reduction::None;
    CHECK(cross_entropy(x, t, o).to_vector<double>()[1] == 0.0);
    // All targets ignored: 0 / 0, as torch.
    o.reduction = Reduction::Mean;
    CHECK(std::isnan(cross_entropy(x, from_vector<int64_t>({-100, -100}, {2}), o).item<double>()));
}

TEST_CASE("cross_entropy on [N, C, H, W] equals the [N*H*W, C] rows", "[loss]") {
    const Tensor x = values({2, 4, 3, 2}, 3, 2.0, DType::Float32);
    const Tensor t = from_vector<int64_t>({0, 3, 2, 1, 1, 0, 3, 3, 2, 2, 0, 1}, {2, 3, 2});
    CrossEntropyOptions o;
    o.reduction = Reduction::None;
    o.label_smoothing = 0.1;
    const Tensor got = cross_entropy(x, t, o);
    const Tensor rows = x.permute({0, 2, 3, 1}).reshape({12, 4});
    CHECK(got.shape() == Shape{2, 3, 2});
    CHECK(max_rel(got.reshape({12}), cross_entropy(rows, t.reshape({12}), o)) < 1e-6);
}

TEST_CASE("nll_loss picks -w_t log_probs[t]", "[loss]") {
    const Tensor lp = from_vector<double>({-1.0, -2.0, -3.0, -0.5, -0.25, -4.0}, {2, 3});
    const Tensor t = from_vector<int64_t>({2, 0}, {2});
    CHECK(nll_loss(lp, t).item<double>() == Approx((3.0 + 0.5) / 2.0));
    CrossEntropyOptions o;
    o.weight = from_vector<double>({2.0, 1.0, 1.0});
    CHECK(nll_loss(lp, t, o).item<double>() == Approx((3.0 + 2.0 * 0.5) / 3.0));
}

TEST_CASE("elementwise losses match their formulas", "[loss]") {
    const Tensor a = from_vector<double>({0.0, 1.0, -2.0, 0.3}), b = from_vector<double>({0.5, -1.0, -2.0, 0.0});
    CHECK(mse_loss(a, b).item<double>() == Approx((0.25 + 4.0 + 0.0 + 0.09) / 4.0));
    CHECK(l1_loss(a, b, Reduction::Sum).item<double>() == Approx(0.5 + 2.0 + 0.0 + 0.3));
    // beta 1: 0.5 d² below 1, |d| - 0.5 above.
    CHECK(smooth_l1_loss(a, b, 1.0, Reduction::Sum).item<double>() == Approx(0.125 + 1.5 + 0.0 + 0.045));
    const Tensor x = from_vector<double>({0.0, 2.0, -3.0}), y = from_vector<double>({1.0, 0.0, 1.0});
    const Tensor pw = from_vector<double>({2.0, 2.0, 2.0});
    auto bce = [](double xv, double yv, double p) {
        const double s = 1.0 / (1.0 + std::exp(-xv));
        return -(p * yv * std::log(s) + (1.0 - yv) * std::log(1.0 - s));
    };
    CHECK(max_rel(binary_cross_entropy_with_logits(x, y, {}, pw, Reduction::None),
                  from_vector<double>({bce(0, 1, 2), bce(2, 0, 2), bce(-3, 1, 2)})) < 1e-12);
    // Large logits stay finite.
    CHECK(std::isfinite(binary_cross_entropy_with_logits(from_vector<double>({800.0, -800.0}),
                                                         from_vector<double>({0.0, 1.0}))
                            .item<double>()));
}

TEST_CASE("loss targets out of range name the op, the value and C", "[loss][errors]") {
    const Tensor x = zeros({2, 5});
    CHECK_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({1, 7}, {2})),
                      Contains("cross_entropy") && Contains("target 7") && Contains("C = 5"));
    CHECK_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({-1, 0}, {2})),
                      Contains("cross_entropy") && Contains("target -1") && Contains("C = 5"));
    CHECK_THROWS_WITH(nll_loss(x, from_vector<int64_t>({5, 0}, {2})),
                      Contains("nll_loss") && Contains("target 5") && Contains("C = 5"));
    CHECK_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({1, 2, 3}, {3})),
                      Contains("cross_entropy") && Contains("[3]") && Contains("[2, 5]"));
    CrossEntropyOptions o;
    o.weight = ones({4});
    CHECK_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({1, 2}, {2}), o),
                      Contains("cross_entropy") && Contains("weight") && Contains("[5]"));
    CHECK_THROWS_WITH(binary_cross_entropy_with_logits(zeros({2, 3}), zeros({3})),
                      Contains("binary_cross_entropy_with_logits") && Contains("[2, 3]"));
}

TEST_CASE("cross_entropy does not depend on the thread count", "[loss]") {
    const Tensor x = values({300, 37}, 4, 3.0, DType::Float32);
    x.requires_grad_(true);
    std::vector<int64_t> tv(300);
    for (size_t i = 0; i < tv.size(); ++i) tv[i] = int64_t(i * 7 % 37);
    const Tensor t = from_vector(tv, {300});
    std::vector<std::vector<float>> outs;
    const int before = get_num_threads();
    for (int n : {1, 2, 3}) {
        set_num_threads(n);
        x.set_grad(Tensor());
        const Tensor loss = cross_entropy(x, t);
        loss.backward();
        std::vector<float> all = x.grad().to_vector<float>();
        all.push_back(loss.item<float>());
        outs.push_back(all);
    }
    set_num_threads(before);
    CHECK(outs[0] == outs[1]);
    CHECK(outs[0] == outs[2]);
}
