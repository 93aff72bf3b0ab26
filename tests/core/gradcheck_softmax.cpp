// Gradient checks for softmax and log_softmax: the last (contiguous) dim, the
// strided dims before it, negative dims, non-contiguous inputs, size-1 and
// size-0 dims, 0-d inputs.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

template <typename Fn>
void check_softmax_shapes(Fn fn) {
    auto run = [&](const Shape& shape, int64_t dim, bool transposed = false) {
        expect_gradcheck([&](const Inputs& x) { return fn(transposed ? x[0].t() : x[0], dim); },
                         {rand64(shape, -2.0, 2.0)});
    };
    run({3, 5}, 1);
    run({3, 5}, -1);
    run({3, 5}, 0);
    run({2, 3, 4}, 1);
    run({2, 3, 4}, 0);
    run({4, 3}, 1, true);
    run({4, 3}, 0, true);
    run({3, 1}, 1);
    run({1, 3}, 0);
    run({0, 3}, 1);
    run({}, 0);
    run({2, 40}, 1);  // longer than the kernel's lanes
}

const GradCase softmax_case{"softmax", [] { check_softmax_shapes([](const Tensor& x, int64_t d) { return softmax(x, d); }); }};
const GradCase log_softmax_case{"log_softmax", [] {
    check_softmax_shapes([](const Tensor& x, int64_t d) { return log_softmax(x, d); });
}};

}  // namespace
