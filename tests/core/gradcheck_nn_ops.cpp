// Gradient checks for dropout and embedding (core/ops/nn_ops.cpp). Dropout
// seeds its own generator inside the function, so every evaluation of the
// check draws the same mask.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

Tensor seeded_dropout(const Tensor& x, double p, bool training) {
    Generator gen(42);
    return dropout(x, p, training, &gen);
}

const GradCase dropout_case{"dropout", [] {
    for (double p : {0.0, 0.3, 0.5, 1.0})
        expect_gradcheck([p](const Inputs& t) { return seeded_dropout(t[0], p, true); }, {rand64({4, 5})});
    expect_gradcheck([](const Inputs& t) { return seeded_dropout(t[0], 0.5, false); }, {rand64({3, 2})});
    expect_gradcheck([](const Inputs& t) { return seeded_dropout(t[0].t(), 0.25, true); }, {rand64({3, 7})});
}};

// The padding row's gradient is 0 by definition, not by calculus: with padding,
// the checked function zeroes the padded positions' outputs, so the true
// derivative of that row is 0 too and every other row is still checked.
Tensor embedding_masked(const Tensor& w, const Tensor& idx, int64_t pad) {
    const int64_t row = pad < 0 ? pad + w.size(0) : pad;
    const Tensor keep = ne(idx, row).to(w.dtype());  // [...], 0 at padded positions
    return mul(embedding(w, idx, pad), keep.unsqueeze(-1));
}

const GradCase embedding_case{"embedding", [] {
    const Tensor idx = from_vector<int64_t>({3, 0, 3, 5, 1, 3}, {2, 3});  // repeats add up
    expect_gradcheck([&](const Inputs& t) { return embedding(t[0], idx); }, {rand64({6, 4})});
    expect_gradcheck([&](const Inputs& t) { return embedding_masked(t[0], idx, 3); }, {rand64({6, 4})});
    expect_gradcheck([&](const Inputs& t) { return embedding_masked(t[0], idx, -1); }, {rand64({6, 4})});  // row 5
    expect_gradcheck([](const Inputs& t) { return embedding(t[0], from_vector<int32_t>({2})); }, {rand64({3, 2})});
    expect_gradcheck([](const Inputs& t) { return embedding(t[0], scalar_tensor(1, DType::Int64)); },
                     {rand64({3, 2})});
}};

}  // namespace
