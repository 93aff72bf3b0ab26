// Gradient checks for matmul: 1-d operands, matrices, broadcast batches, and
// transposed (non-contiguous) operands that reach GEMM as transpose flags.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

void check_matmul(const Shape& a, const Shape& b) {
    expect_gradcheck([](const Inputs& x) { return matmul(x[0], x[1]); }, {rand64(a), rand64(b)});
}

const GradCase matmul_case{"matmul", [] {
    check_matmul({4}, {4});           // dot
    check_matmul({3, 4}, {4});        // matrix-vector
    check_matmul({4}, {4, 2});        // vector-matrix
    check_matmul({3, 4}, {4, 2});
    check_matmul({2, 3, 4}, {4, 5});  // a batch against a shared matrix
    check_matmul({3, 4}, {2, 4, 5});
    check_matmul({2, 1, 3, 4}, {3, 4, 2});  // broadcast batch dims
    check_matmul({2, 3, 4}, {4});
    check_matmul({4}, {2, 4, 3});
    check_matmul({1, 4}, {4, 1});
    check_matmul({0, 4}, {4, 3});
    check_matmul({3, 0}, {0, 2});
    // Transposed views: GEMM reads them through its transpose flags.
    expect_gradcheck([](const Inputs& x) { return matmul(x[0].t(), x[1]); }, {rand64({4, 3}), rand64({4, 2})});
    expect_gradcheck([](const Inputs& x) { return matmul(x[0], x[1].t()); }, {rand64({3, 4}), rand64({2, 4})});
    expect_gradcheck([](const Inputs& x) { return matmul(x[0].t(), x[1].t()); }, {rand64({4, 3}), rand64({2, 4})});
    expect_gradcheck([](const Inputs& x) { return matmul(x[0].transpose(1, 2), x[1]); },
                     {rand64({2, 4, 3}), rand64({2, 4, 5})});
    // A column slice (row stride larger than the width).
    expect_gradcheck([](const Inputs& x) { return matmul(x[0].narrow(1, 1, 4), x[1]); }, {rand64({3, 6}), rand64({4, 2})});
}};

// The bias reaches GEMM as its fused column-bias epilogue; b as a transposed
// weight view, as Linear passes it.
const GradCase addmm_case{"addmm", [] {
    expect_gradcheck([](const Inputs& x) { return addmm(x[0], x[1], x[2]); },
                     {rand64({5}), rand64({3, 4}), rand64({4, 5})});
    expect_gradcheck([](const Inputs& x) { return addmm(x[0], x[1], x[2].t()); },
                     {rand64({2}), rand64({6, 3}), rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return addmm(x[0], x[1], x[2]); },
                     {rand64({3}), rand64({0, 4}), rand64({4, 3})});
}};

}  // namespace
