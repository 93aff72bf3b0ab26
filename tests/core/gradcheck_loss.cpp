// Gradient checks for the losses (core/ops/loss.cpp, loss_elementwise.cpp):
// every reduction; class weights, label smoothing and ignored targets
// together; [N, C, d...] and [C] inputs; targets that take gradients where
// torch gives them. l1 and smooth_l1 inputs stay off their kinks (d == 0 and
// |d| == beta); bce_with_logits is also checked at a logit of exactly 0.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

Tensor labels(const std::vector<int64_t>& v, const Shape& shape) { return from_vector(v, shape); }
Tensor class_weights(int64_t C) { return rand64({C}, 0.2, 2.0).detach(); }

constexpr Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

CrossEntropyOptions options(Reduction r, const Tensor& weight = {}, double smoothing = 0.0,
                            int64_t ignore = -100) {
    CrossEntropyOptions o;
    o.reduction = r;
    o.weight = weight;
    o.label_smoothing = smoothing;
    o.ignore_index = ignore;
    return o;
}

const GradCase cross_entropy_case{"cross_entropy", [] {
    const Tensor t = labels({1, 0, 4, 2}, {4}), w = class_weights(5);
    for (Reduction r : kReductions) {
        for (const CrossEntropyOptions& o : {options(r), options(r, w), options(r, {}, 0.2), options(r, w, 0.1, 4),
                                             options(r, {}, 0.0, 0)})
            expect_gradcheck([&](const Inputs& x) { return cross_entropy(x[0], t, o); }, {rand64({4, 5}, -2, 2)});
        // [N, C, d1, d2] (classes moved last inside) with an ignored position.
        const Tensor t4 = labels({0, 2, 1, -100, 2, 2, 0, 1}, {2, 2, 2});
        const CrossEntropyOptions o4 = options(r, class_weights(3), 0.1);  // drawn once, outside the function
        expect_gradcheck([&](const Inputs& x) { return cross_entropy(x[0], t4, o4); }, {rand64({2, 3, 2, 2}, -2, 2)});
    }
    expect_gradcheck([](const Inputs& x) { return cross_entropy(x[0], labels({2}, {})); }, {rand64({4})});
    expect_gradcheck([&](const Inputs& x) { return cross_entropy(x[0].t(), t); }, {rand64({5, 4})});
    expect_gradcheck([](const Inputs& x) { return cross_entropy(x[0], labels({7, 40}, {2})); },  // past the lanes
                     {rand64({2, 41}, -3, 3)});
}};

const GradCase nll_loss_case{"nll_loss", [] {
    const Tensor t = labels({1, 0, 2, 2}, {4}), w = class_weights(3);
    for (Reduction r : kReductions) {
        expect_gradcheck([&](const Inputs& x) { return nll_loss(x[0], t, options(r)); }, {rand64({4, 3})});
        expect_gradcheck([&](const Inputs& x) { return nll_loss(x[0], t, options(r, w, 0.0, 0)); },
                         {rand64({4, 3})});
        expect_gradcheck([&](const Inputs& x) { return nll_loss(x[0], labels({0, 1, 1, 2}, {2, 2}), options(r)); },
                         {rand64({2, 3, 2})});
    }
}};

const GradCase mse_loss_case{"mse_loss", [] {
    for (Reduction r : kReductions)
        expect_gradcheck([r](const Inputs& x) { return mse_loss(x[0], x[1], r); }, {rand64({3, 4}), rand64({3, 4})});
    expect_gradcheck([](const Inputs& x) { return mse_loss(x[0], x[1]); }, {rand64({3, 4}), rand64({4})});
}};

// |input| >= 0.03 (rand64_off_kinks) and |target| <= 0.01 keep d = input - target off 0.
const GradCase l1_loss_case{"l1_loss", [] {
    for (Reduction r : kReductions)
        expect_gradcheck([r](const Inputs& x) { return l1_loss(x[0], x[1], r); },
                         {rand64_off_kinks({3, 4}), rand64({3, 4}, -0.01, 0.01)});
}};

// With beta 0.5 the inputs stay >= 0.03 away from 0 and from ±0.5.
const GradCase smooth_l1_loss_case{"smooth_l1_loss", [] {
    const std::vector<double> v{-1.3, -0.56, -0.4, -0.1, 0.05, 0.2, 0.44, 0.7, 1.1, 2.0, -2.5, 0.31};
    for (Reduction r : kReductions)
        for (double beta : {0.5, 0.0}) {
            Tensor in = from_vector(v, {3, 4});
            in.requires_grad_(true);
            expect_gradcheck([r, beta](const Inputs& x) { return smooth_l1_loss(x[0], x[1], beta, r); },
                             {in, rand64({3, 4}, -0.01, 0.01)});
        }
}};

const GradCase bce_case{"bce_with_logits", [] {
    const Tensor w = rand64({4}, 0.5, 1.5).detach(), pw = rand64({4}, 0.5, 3.0).detach();
    for (Reduction r : kReductions) {
        expect_gradcheck([r](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], {}, {}, r); },
                         {rand64({3, 4}, -3, 3), rand64({3, 4}, 0, 1)});
        expect_gradcheck([&](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], w, pw, r); },
                         {rand64({3, 4}, -3, 3), rand64({3, 4}, 0, 1)});
    }
    // Logits of exactly 0 (a zero-initialised head): the stable form's kinks must not show.
    Tensor zero = zeros({2, 4}, DType::Float64);
    zero.requires_grad_(true);
    expect_gradcheck([&](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], {}, pw); },
                     {zero, rand64({2, 4}, 0, 1)});
    // A weight [3, 1] broadcast over the last dim.
    const Tensor w31 = rand64({3, 1}, 0.5, 1.5).detach();
    expect_gradcheck([&](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], w31); },
                     {rand64({3, 4}, -3, 3), rand64({3, 4}, 0, 1)});
}};

}  // namespace
