// Gradient checks for batch_norm, layer_norm and group_norm (core/ops/norm.cpp):
// input, weight and bias together and each alone; [N, C] (the S == 1 column
// path) and [N, C, H, W]; training and eval batch norm; no affine parameters;
// non-contiguous input; a mean far from 0.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

Tensor plain(const Tensor& t) { return t.detach(); }  // a value that takes no gradient

void check_batch_norm(const Shape& x, bool training) {
    const int64_t C = x[1];
    INFO("batch_norm " << shape_str(x) << (training ? " training" : " eval"));
    // Running statistics are state, not inputs: each evaluation may update them.
    const Tensor rm = plain(rand64({C}, -0.5, 0.5)), rv = plain(rand64({C}, 0.5, 1.5));
    expect_gradcheck([&](const Inputs& t) { return batch_norm(t[0], t[1], t[2], rm, rv, training, 0.1, 1e-5); },
                     {rand64(x, -2.0, 2.0), rand64({C}, 0.5, 1.5), rand64({C})});
    expect_gradcheck([&](const Inputs& t) { return batch_norm(t[0], Tensor(), Tensor(), rm, rv, training); },
                     {rand64(x, -2.0, 2.0)});
    // Weight and bias alone (the input takes no gradient).
    const Tensor fixed = plain(rand64(x, -2.0, 2.0));
    expect_gradcheck([&](const Inputs& t) { return batch_norm(fixed, t[0], t[1], rm, rv, training); },
                     {rand64({C}), rand64({C})});
}

const GradCase batch_norm_case{"batch_norm", [] {
    for (bool training : {true, false}) {
        check_batch_norm({5, 3}, training);
        check_batch_norm({2, 3, 4}, training);
        check_batch_norm({2, 2, 3, 2}, training);
    }
    // Without running statistics (track_running_stats=False), and a transposed input.
    expect_gradcheck([](const Inputs& t) { return batch_norm(t[0].t(), t[1], t[2], Tensor(), Tensor(), true); },
                     {rand64({3, 6}), rand64({3}), rand64({3})});
    // A mean of 50 with std ~1: the statistics must not cancel.
    expect_gradcheck([](const Inputs& t) { return batch_norm(add(t[0], 50.0), t[1], t[2], Tensor(), Tensor(), true); },
                     {rand64({4, 2, 3}), rand64({2}), rand64({2})});
}};

const GradCase layer_norm_case{"layer_norm", [] {
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0], {4}, t[1], t[2]); },
                     {rand64({3, 4}), rand64({4}, 0.5, 1.5), rand64({4})});
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0], {3, 4}, t[1], t[2]); },
                     {rand64({2, 3, 4}), rand64({3, 4}), rand64({3, 4})});
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0], {2, 3}, Tensor(), Tensor()); },
                     {rand64({2, 3})});
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0], {5}, t[1], Tensor()); },
                     {rand64({2, 5}), rand64({5})});
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0], {3}, Tensor(), t[1], 1e-3); },
                     {rand64({2, 3}), rand64({3})});
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0].t(), {3}, t[1], t[2]); },  // non-contiguous
                     {rand64({3, 4}), rand64({3}), rand64({3})});
    expect_gradcheck([](const Inputs& t) { return layer_norm(t[0], {70}, t[1], t[2]); },  // past the lanes and tile
                     {rand64({2, 70}), rand64({70}), rand64({70})});
}};

const GradCase group_norm_case{"group_norm", [] {
    expect_gradcheck([](const Inputs& t) { return group_norm(t[0], 2, t[1], t[2]); },
                     {rand64({2, 4, 3}), rand64({4}, 0.5, 1.5), rand64({4})});
    expect_gradcheck([](const Inputs& t) { return group_norm(t[0], 3, t[1], t[2]); },
                     {rand64({2, 6, 2, 2}), rand64({6}), rand64({6})});
    expect_gradcheck([](const Inputs& t) { return group_norm(t[0], 1, Tensor(), Tensor()); }, {rand64({2, 3, 2})});
    expect_gradcheck([](const Inputs& t) { return group_norm(t[0], 4, t[1], t[2]); },  // one channel per group
                     {rand64({3, 4, 2}), rand64({4}), rand64({4})});
    expect_gradcheck([](const Inputs& t) { return group_norm(t[0], 2, t[1], t[2]); },  // [N, C]: S == 1
                     {rand64({3, 4}), rand64({4}), rand64({4})});
}};

}  // namespace
