// Gradient checks for max_pool2d, avg_pool2d and adaptive_avg_pool2d: padding,
// stride, dilation, ceil_mode, count_include_pad, 3-d input and a strided view.
// Max pooling inputs are kept apart from each other so no window has a tie.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

Pool2dParams pool(int64_t k, int64_t s, int64_t pad = 0, bool ceil_mode = false, bool include_pad = true,
                  int64_t dil = 1) {
    Pool2dParams p = Pool2dParams::make(k, s, pad);
    p.ceil_mode = ceil_mode;
    p.count_include_pad = include_pad;
    p.dilation_h = p.dilation_w = dil;
    return p;
}

void check_max(const Shape& x, const Pool2dParams& p) {
    expect_gradcheck([p](const Inputs& t) { return max_pool2d(t[0], p); }, {rand64_off_kinks(x)});
}
void check_avg(const Shape& x, const Pool2dParams& p) {
    expect_gradcheck([p](const Inputs& t) { return avg_pool2d(t[0], p); }, {rand64(x)});
}

const GradCase max_pool_case{"max_pool2d", [] {
    check_max({1, 2, 6, 6}, pool(2, 2));
    check_max({2, 2, 7, 7}, pool(3, 2, 1));                 // ResNet stem pooling
    check_max({1, 1, 7, 8}, pool(3, 2, 1, true));           // ceil_mode
    check_max({1, 2, 8, 8}, pool(3, 1, 1, false, true, 2)); // dilation 2
    check_max({2, 5, 5}, pool(2, 1));                       // 3-d input
    expect_gradcheck([](const Inputs& t) { return max_pool2d(t[0].transpose(2, 3), pool(2, 2)); },
                     {rand64_off_kinks({1, 2, 6, 4})});
}};

const GradCase avg_pool_case{"avg_pool2d", [] {
    check_avg({1, 2, 6, 6}, pool(2, 2));
    check_avg({2, 2, 7, 7}, pool(3, 2, 1));                      // counts the padding
    check_avg({1, 2, 7, 7}, pool(3, 2, 1, false, false));        // does not count it
    check_avg({1, 1, 6, 7}, pool(3, 2, 1, true, true));          // ceil_mode clips the divisor
    check_avg({1, 1, 6, 7}, pool(3, 2, 1, true, false));
    expect_gradcheck([](const Inputs& t) { return avg_pool2d(t[0].transpose(2, 3), pool(3, 1, 1)); },
                     {rand64({1, 2, 5, 4})});
}};

const GradCase adaptive_case{"adaptive_avg_pool2d", [] {
    expect_gradcheck([](const Inputs& t) { return adaptive_avg_pool2d(t[0], 1, 1); }, {rand64({2, 3, 4, 5})});
    expect_gradcheck([](const Inputs& t) { return adaptive_avg_pool2d(t[0], 3, 2); }, {rand64({1, 2, 7, 5})});  // overlapping bins
    expect_gradcheck([](const Inputs& t) { return adaptive_avg_pool2d(t[0], 4, 6); }, {rand64({1, 1, 3, 4})});  // upsampling bins
    expect_gradcheck([](const Inputs& t) { return adaptive_avg_pool2d(t[0].transpose(1, 2), 2, 2); },
                     {rand64({2, 5, 4})});
}};

}  // namespace
