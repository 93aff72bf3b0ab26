// Gradient checks for joining and splitting (core/ops/join.cpp): several
// inputs, negative dims, non-contiguous inputs, size-0 pieces, and for split
// and chunk every piece (they are narrow() views, checked here all the same).
#include <catch2/catch.hpp>

#include "tests/support/grad_cases.h"

using namespace graft;
using namespace graft::testing;
using Inputs = std::vector<Tensor>;

namespace {

const GradCase cat_case{"cat", [] {
    expect_gradcheck([](const Inputs& x) { return cat(x, 0); }, {rand64({2, 3}), rand64({1, 3}), rand64({4, 3})});
    expect_gradcheck([](const Inputs& x) { return cat(x, -1); }, {rand64({2, 3}), rand64({3, 2}).t()});
    expect_gradcheck([](const Inputs& x) { return cat(x, 1); }, {rand64({2, 0}), rand64({2, 2}), rand64({2, 1})});
    // A legacy empty 1-d tensor is skipped whatever the others' rank.
    expect_gradcheck([](const Inputs& x) { return cat(x, 1); }, {rand64({0}), rand64({2, 2}), rand64({2, 1})});
    // A float32 input without grad is promoted; the float64 ones get gradients.
    const Tensor f32 = from_vector<float>({1, 2}, {1, 2});
    expect_gradcheck([&](const Inputs& x) { return cat({x[0], f32, x[1]}, 0); }, {rand64({1, 2}), rand64({2, 2})});
}};

const GradCase stack_case{"stack", [] {
    expect_gradcheck([](const Inputs& x) { return stack(x, 0); }, {rand64({2, 3}), rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return stack(x, 1); }, {rand64({2, 3}), rand64({3, 2}).t(), rand64({2, 3})});
    expect_gradcheck([](const Inputs& x) { return stack(x, -1); }, {rand64({2}), rand64({2})});
    expect_gradcheck([](const Inputs& x) { return stack(x, 0); }, {rand64({0, 2}), rand64({0, 2})});
    expect_gradcheck([](const Inputs& x) { return stack(x, 0); }, {rand64({}), rand64({})});
}};

// Checks every piece fn(x)[k] of a split for the given input.
template <typename Split>
void check_every_piece(Split fn, const Tensor& input) {
    const size_t pieces = fn(input.detach()).size();
    for (size_t k = 0; k < pieces; ++k) expect_gradcheck([&](const Inputs& x) { return fn(x[0])[k]; }, {input});
}

const GradCase split_case{"split", [] {
    check_every_piece([](const Tensor& t) { return t.split(2, 0); }, rand64({5, 2}));
    check_every_piece([](const Tensor& t) { return t.split(3, -1); }, rand64({4, 3}).t());
    check_every_piece([](const Tensor& t) { return t.split(1, 1); }, rand64({4, 2}).t());
    check_every_piece([](const Tensor& t) { return t.split(2, 0); }, rand64({0, 3}));
    // The pieces together feed one result.
    expect_gradcheck([](const Inputs& x) { auto p = x[0].split(2, 1); return add(mul(p[0], p[1]), p[2]); },
                     {rand64({3, 6})});
}};

const GradCase chunk_case{"chunk", [] {
    check_every_piece([](const Tensor& t) { return t.chunk(3, 0); }, rand64({7, 2}));
    check_every_piece([](const Tensor& t) { return t.chunk(4, 1); }, rand64({2, 3}).t());
    check_every_piece([](const Tensor& t) { return t.chunk(2, -1); }, rand64({5, 3}).t());
    check_every_piece([](const Tensor& t) { return t.chunk(3, 0); }, rand64({0, 2}));
}};

}  // namespace

TEST_CASE("cat and stack join values in order", "[join]") {
    Tensor a = from_vector<float>({1, 2, 3, 4}, {2, 2});
    Tensor b = from_vector<float>({5, 6}, {2, 1});
    CHECK(cat({a, b}, 1).to_vector<float>() == std::vector<float>{1, 2, 5, 3, 4, 6});
    CHECK(cat({a, b.t()}, 0).to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
    CHECK(cat({a.t(), b.t()}, 0).to_vector<float>() == std::vector<float>{1, 3, 2, 4, 5, 6});
    Tensor mixed = cat({from_vector<int64_t>({1}), from_vector<double>({2.5})});
    CHECK(mixed.dtype() == DType::Float64);
    CHECK(mixed.to_vector<double>() == std::vector<double>{1, 2.5});
    CHECK(cat({from_vector<float>({}), a}, 0).shape() == Shape{2, 2});
    CHECK(cat({from_vector<float>({}), from_vector<float>({})}).shape() == Shape{0});

    Tensor s = stack({a, a.t()}, 1);
    CHECK(s.shape() == Shape{2, 2, 2});
    CHECK(s.to_vector<float>() == std::vector<float>{1, 2, 1, 3, 3, 4, 2, 4});
    CHECK(stack({from_vector<float>({1, 2}), from_vector<float>({3, 4})}, -1).to_vector<float>() ==
          std::vector<float>{1, 3, 2, 4});
}

TEST_CASE("cat and stack name the op, the tensor and both shapes", "[join][errors]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(cat({zeros({2, 3}), zeros({2, 4}), zeros({3, 3})}, 0),
                      Contains("cat") && Contains("tensor 1") && Contains("[2, 3]") && Contains("[2, 4]"));
    CHECK_THROWS_WITH(cat({zeros({2, 3}), zeros({3})}, 0),
                      Contains("cat") && Contains("same number of dimensions") && Contains("[3]"));
    CHECK_THROWS_WITH(cat({zeros({2, 3})}, 2), Contains("cat"));
    CHECK_THROWS_WITH(cat({}), Contains("cat") && Contains("non-empty"));
    CHECK_THROWS_WITH(cat({zeros({})}), Contains("cat") && Contains("zero-dimensional"));
    CHECK_THROWS_WITH(stack({zeros({2, 3}), zeros({3, 2})}), Contains("stack") && Contains("tensor 1") &&
                                                                  Contains("[2, 3]") && Contains("[3, 2]"));
    CHECK_THROWS_WITH(stack({zeros({2})}, 2), Contains("stack"));
}

TEST_CASE("split and chunk give views with torch's sizes", "[join]") {
    Tensor x = from_vector<float>({0, 1, 2, 3, 4, 5, 6}, {7});
    auto sizes = [](const std::vector<Tensor>& parts) {
        std::vector<int64_t> s;
        for (const Tensor& p : parts) s.push_back(p.numel());
        return s;
    };
    CHECK(sizes(x.split(3)) == std::vector<int64_t>{3, 3, 1});
    CHECK(sizes(x.split(7)) == std::vector<int64_t>{7});
    CHECK(sizes(x.split(10)) == std::vector<int64_t>{7});
    CHECK(sizes(x.chunk(3)) == std::vector<int64_t>{3, 3, 1});
    CHECK(sizes(x.chunk(4)) == std::vector<int64_t>{2, 2, 2, 1});
    CHECK(sizes(x.narrow(0, 0, 6).chunk(4)) == std::vector<int64_t>{2, 2, 2});  // fewer than asked, as torch
    CHECK(sizes(x.chunk(10)) == std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
    CHECK(sizes(x.narrow(0, 0, 0).split(2)) == std::vector<int64_t>{0});
    CHECK(sizes(x.narrow(0, 0, 0).split(0)) == std::vector<int64_t>{0});
    CHECK(sizes(x.narrow(0, 0, 0).chunk(3)) == std::vector<int64_t>{0, 0, 0});
    auto parts = x.split(3);
    CHECK(parts[1].to_vector<float>() == std::vector<float>{3, 4, 5});
    CHECK(parts[1].storage() == x.storage());
    CHECK(parts[1].offset() == 3);
    Tensor m = from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
    auto cols = m.chunk(2, -1);
    CHECK(cols[0].shape() == Shape{2, 2});
    CHECK(cols[1].to_vector<float>() == std::vector<float>{2, 5});
}

TEST_CASE("split and chunk reject bad sizes naming the op", "[join][errors]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(zeros({4}).split(0), Contains("split") && Contains("positive"));
    CHECK_THROWS_WITH(zeros({4}).split(-1), Contains("split"));
    CHECK_THROWS_WITH(zeros({4}).chunk(0), Contains("chunk") && Contains("positive"));
    CHECK_THROWS_WITH(zeros({4}).split(2, 1), Contains("split"));
    CHECK_THROWS_WITH(zeros({}).chunk(2), Contains("chunk") && Contains("0-d"));
}
