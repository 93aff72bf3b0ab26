// Gradient checks for reductions: subsets of dims, keepdim, negative dims,
// non-contiguous inputs, size-1 and size-0 dimensions, and the row-sum path
// (reduced dims leading a contiguous tensor).
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;
using Dims = std::vector<int64_t>;

namespace {

enum Degenerate { kNone = 0, kSingle = 1, kEmptyToo = 2 };

// fn(x, dims, keepdim) over the usual dims/keepdim/layout combinations, with
// single-element reductions (kSingle) and empty ones (kEmptyToo) where the
// function is smooth there.
template <typename Fn>
void check_dims(Fn fn, Degenerate degenerate) {
    auto run = [&](const Shape& shape, Dims dims, bool keepdim, bool transposed = false) {
        expect_gradcheck([&](const Inputs& x) { return fn(transposed ? x[0].t() : x[0], dims, keepdim); },
                         {rand64(shape)});
    };
    run({2, 3, 4}, {}, false);
    run({2, 3, 4}, {1}, false);
    run({2, 3, 4}, {0, 2}, true);
    run({2, 3, 4}, {-1}, false);
    run({2, 3, 4}, {0, 1}, false);  // leading dims of a contiguous tensor
    run({5, 4}, {0}, true);         // a bias gradient's shape
    run({4, 3}, {1}, false, true);  // a transposed view
    run({4, 3}, {0}, false, true);
    run({3, 1, 2}, {0, 2}, true);   // a size-1 kept dim
    if (degenerate >= kSingle) {
        run({3, 1, 2}, {1}, true);  // a size-1 reduced dim
        run({}, {}, false);         // 0-d
    }
    if (degenerate >= kEmptyToo) run({0, 3}, {0}, false);
}

const GradCase sum_case{"sum", [] {
    check_dims([](const Tensor& x, const Dims& d, bool k) { return sum(x, d, k); }, kEmptyToo);
}};
const GradCase mean_case{"mean", [] {
    check_dims([](const Tensor& x, const Dims& d, bool k) { return mean(x, d, k); }, kSingle);
}};
const GradCase var_case{"var", [] {
    check_dims([](const Tensor& x, const Dims& d, bool k) { return var(x, d, 1, k); }, kNone);
    check_dims([](const Tensor& x, const Dims& d, bool k) { return var(x, d, 0, k); }, kSingle);
    expect_gradcheck([](const Inputs& x) { return var(x[0], {1}, 0, false); }, {rand64({3, 5})});
    expect_gradcheck([](const Inputs& x) { return var(x[0], {0, 2}, 2, true); }, {rand64({3, 2, 4})});
}};
const GradCase std_case{"std", [] {
    check_dims([](const Tensor& x, const Dims& d, bool k) { return graft::std(x, d, 1, k); }, kNone);
    expect_gradcheck([](const Inputs& x) { return graft::std(x[0], {-1}, 0, true); }, {rand64({3, 5})});
}};
const GradCase logsumexp_case{"logsumexp", [] {
    check_dims([](const Tensor& x, const Dims& d, bool k) { return logsumexp(x, d, k); }, kSingle);
    expect_gradcheck([](const Inputs& x) { return logsumexp(x[0], {1}, false); }, {rand64({2, 6}, -30.0, 30.0)});
}};

const GradCase max_case{"max", [] {
    expect_gradcheck([](const Inputs& x) { return max(x[0]); }, {rand64_off_kinks({3, 4})});
    expect_gradcheck([](const Inputs& x) { return max(x[0].t()); }, {rand64_off_kinks({3, 4})});
    expect_gradcheck([](const Inputs& x) { return max(x[0]); }, {rand64_off_kinks({})});
}};
const GradCase min_case{"min", [] {
    expect_gradcheck([](const Inputs& x) { return min(x[0]); }, {rand64_off_kinks({3, 4})});
    expect_gradcheck([](const Inputs& x) { return min(x[0].t()); }, {rand64_off_kinks({2, 5})});
}};

template <typename Fn>
void check_dim_extreme(Fn fn) {
    for (int64_t dim : {0, 1, -1})
        for (bool keepdim : {false, true})
            expect_gradcheck([&](const Inputs& x) { return fn(x[0], dim, keepdim); }, {rand64_off_kinks({3, 4})});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0].t(), 1, false); }, {rand64_off_kinks({3, 4})});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], 1, true); }, {rand64_off_kinks({2, 3, 5})});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], 1, false); }, {rand64_off_kinks({3, 1})});
    expect_gradcheck([&](const Inputs& x) { return fn(x[0], 1, false); }, {rand64_off_kinks({0, 4})});
}

const GradCase max_dim_case{"max_dim", [] {
    check_dim_extreme([](const Tensor& x, int64_t d, bool k) { return max(x, d, k).values; });
}};
const GradCase min_dim_case{"min_dim", [] {
    check_dim_extreme([](const Tensor& x, int64_t d, bool k) { return min(x, d, k).values; });
}};

}  // namespace
