// Gradient checks for the indexing ops (core/ops/indexing.cpp): repeated
// indices (whose gradients must add up), int32 indices, non-contiguous inputs,
// broadcasting, and size-0 dimensions.
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

Tensor idx64(const std::vector<int64_t>& v, const Shape& shape) { return from_vector(v, shape); }
Tensor idx64(const std::vector<int64_t>& v) { return from_vector(v); }
Tensor mask(const std::vector<bool>& v, const Shape& shape) { return from_vector(v, shape); }

const GradCase index_select_case{"index_select", [] {
    const Tensor rows = idx64({2, 0, 2, 1});
    expect_gradcheck([&](const Inputs& x) { return x[0].index_select(0, rows); }, {rand64({3, 4})});
    expect_gradcheck([&](const Inputs& x) { return x[0].index_select(-1, rows); }, {rand64({2, 3})});
    expect_gradcheck([&](const Inputs& x) { return x[0].index_select(2, rows); }, {rand64({3, 2}).t().unsqueeze(0)});
    const Tensor int32_rows = from_vector<int32_t>({1, 1});
    expect_gradcheck([&](const Inputs& x) { return x[0].index_select(1, int32_rows); }, {rand64({2, 3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].index_select(0, idx64({})); }, {rand64({3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].index_select(1, idx64({0, 0})); }, {rand64({0, 2})});
}};

const GradCase gather_case{"gather", [] {
    const Tensor along1 = idx64({0, 2, 2, 1, 0, 0}, {2, 3});
    expect_gradcheck([&](const Inputs& x) { return x[0].gather(1, along1); }, {rand64({2, 3})});
    expect_gradcheck([&](const Inputs& x) { return x[0].gather(-1, along1); }, {rand64({3, 2}).t()});
    // The index may be smaller than the input outside dim.
    const Tensor along0 = idx64({2, 2, 0}, {1, 3});
    expect_gradcheck([&](const Inputs& x) { return x[0].gather(0, along0); }, {rand64({3, 4})});
    expect_gradcheck([&](const Inputs& x) { return x[0].gather(0, along1.t()); }, {rand64({3, 2})});
    expect_gradcheck([](const Inputs& x) { return x[0].gather(1, idx64({}, {2, 0})); }, {rand64({2, 3})});
}};

const GradCase scatter_add_case{"scatter_add", [] {
    const Tensor index = idx64({0, 2, 0, 1, 1, 1}, {2, 3});
    expect_gradcheck([&](const Inputs& x) { return x[0].scatter_add(1, index, x[1]); },
                     {rand64({2, 4}), rand64({2, 3})});
    expect_gradcheck([&](const Inputs& x) { return x[0].scatter_add(0, index, x[1]); },
                     {rand64({3, 3}), rand64({3, 2}).t()});
    // src larger than the index: its extra elements get no gradient.
    expect_gradcheck([&](const Inputs& x) { return x[0].scatter_add(-1, index, x[1]); },
                     {rand64({4, 3}).t().narrow(0, 0, 2), rand64({3, 5})});
    expect_gradcheck([](const Inputs& x) { return x[0].scatter_add(0, idx64({}, {0, 2}), x[1]); },
                     {rand64({2, 2}), rand64({1, 2})});
}};

const GradCase masked_fill_case{"masked_fill", [] {
    const Tensor m = mask({true, false, false, true, true, false}, {2, 3});
    expect_gradcheck([&](const Inputs& x) { return x[0].masked_fill(m, 0.5); }, {rand64({2, 3})});
    expect_gradcheck([&](const Inputs& x) { return x[0].masked_fill(m.t(), -2.0); }, {rand64({2, 3}).t()});
    const Tensor row = mask({false, true, false}, {3});
    expect_gradcheck([&](const Inputs& x) { return x[0].masked_fill(row, 1.0); }, {rand64({4, 3})});
    expect_gradcheck([&](const Inputs& x) { return x[0].masked_fill(row, 1.0); }, {rand64({0, 3})});
}};

const GradCase where_case{"where", [] {
    const Tensor c = mask({true, false, true, false, false, true}, {2, 3});
    expect_gradcheck([&](const Inputs& x) { return where(c, x[0], x[1]); }, {rand64({2, 3}), rand64({2, 3})});
    // Everything broadcasts: cond [2, 1, 3], a [4, 1], b [3] -> [2, 4, 3].
    const Tensor c3 = c.view({2, 1, 3});
    expect_gradcheck([&](const Inputs& x) { return where(c3, x[0], x[1]); }, {rand64({4, 1}), rand64({3})});
    expect_gradcheck([&](const Inputs& x) { return where(c.t(), x[0], x[1]); }, {rand64({2, 3}).t(), rand64({})});
    // An integer branch needs no gradient; the result is promoted to float64.
    const Tensor ints = from_vector<int64_t>({7, 8, 9});
    expect_gradcheck([&](const Inputs& x) { return where(c, x[0], ints); }, {rand64({2, 1})});
    expect_gradcheck([&](const Inputs& x) { return where(c.narrow(0, 0, 0), x[0], x[1]); }, {rand64({3}), rand64({1})});
}};

}  // namespace

TEST_CASE("where promotes a float32 branch and hands it a float32 gradient", "[indexing][gradcheck]") {
    Tensor a = from_vector<float>({1, 2}).requires_grad_();
    Tensor b = from_vector<double>({3, 4}).requires_grad_();
    Tensor out = where(from_vector<bool>({true, false}), a, b);
    CHECK(out.dtype() == DType::Float64);
    sum(out).backward();
    CHECK(a.grad().dtype() == DType::Float32);
    CHECK(a.grad().to_vector<float>() == std::vector<float>{1, 0});
    CHECK(b.grad().to_vector<double>() == std::vector<double>{0, 1});
}

TEST_CASE("an index changed in place after the forward is refused in backward", "[indexing][errors]") {
    Tensor x = from_vector<double>({1, 2, 3}).requires_grad_();
    Tensor index = from_vector<int64_t>({0, 2});
    Tensor y = x.index_select(0, index);
    index.fill_(1);
    CHECK_THROWS_WITH(sum(y).backward(), Catch::Matchers::Contains("index_select backward"));
}
