// Indexing ops (core/ops/indexing.cpp): forward values against hand-computed
// results, every dtype the moves support, errors that name the op, the index,
// the dim and the shapes, and results independent of the thread count.
#include <catch2/catch.hpp>

#include <tuple>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

// [[0, 1, 2], [3, 4, 5]] as float32.
Tensor m23() { return from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}); }
Tensor idx(const std::vector<int64_t>& v, const Shape& shape) { return from_vector(v, shape); }
Tensor idx(const std::vector<int64_t>& v) { return from_vector(v); }

}  // namespace

TEST_CASE("index_select picks rows and columns, repeats allowed", "[indexing]") {
    Tensor x = m23();
    CHECK(x.index_select(0, idx({1, 1, 0})).to_vector<float>() == std::vector<float>{3, 4, 5, 3, 4, 5, 0, 1, 2});
    Tensor cols = x.index_select(1, idx({2, 0}));
    CHECK(cols.shape() == Shape{2, 2});
    CHECK(cols.to_vector<float>() == std::vector<float>{2, 0, 5, 3});
    CHECK(x.index_select(-1, from_vector<int32_t>({1})).to_vector<float>() == std::vector<float>{1, 4});
    CHECK(x.t().index_select(0, idx({2})).to_vector<float>() == std::vector<float>{2, 5});
    CHECK(x.index_select(0, idx({}, {0})).shape() == Shape{0, 3});
    CHECK(x.index_select(0, from_vector<int64_t>({1}, {})).shape() == Shape{1, 3});
    // Moves work in every dtype, 16-bit floats and bool included.
    CHECK(x.to(DType::Int64).index_select(1, idx({1})).to_vector<int64_t>() == std::vector<int64_t>{1, 4});
    CHECK(x.to(DType::BFloat16).index_select(0, idx({1})).to_vector<float>() == std::vector<float>{3, 4, 5});
    CHECK(x.to(DType::Bool).index_select(1, idx({0})).to_vector<uint8_t>() == std::vector<uint8_t>{0, 1});
}

TEST_CASE("index_select's gradient adds up repeated rows", "[indexing]") {
    Tensor w = from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_();
    sum(w.index_select(0, idx({2, 0, 2, 2}))).backward();
    CHECK(w.grad().to_vector<double>() == std::vector<double>{1, 1, 0, 0, 3, 3});
}

TEST_CASE("gather picks along a dim", "[indexing]") {
    Tensor x = m23();
    // out[i][j] = x[i][index[i][j]]
    CHECK(x.gather(1, idx({2, 0, 1, 1}, {2, 2})).to_vector<float>() == std::vector<float>{2, 0, 4, 4});
    // out[i][j] = x[index[i][j]][j], index smaller than x in dim 1
    CHECK(x.gather(0, idx({1, 0}, {1, 2})).to_vector<float>() == std::vector<float>{3, 1});
    CHECK(x.t().gather(0, idx({2, 0}, {1, 2})).to_vector<float>() == std::vector<float>{2, 3});
    CHECK(x.gather(1, idx({2, 0, 1, 1}, {2, 2}).t()).to_vector<float>() == std::vector<float>{2, 1, 3, 4});
    CHECK(x.to(DType::Float16).gather(1, idx({2}, {1, 1})).to_vector<float>() == std::vector<float>{2});
}

TEST_CASE("scatter_add adds src into a copy at the indexed positions", "[indexing]") {
    Tensor base = zeros({2, 3});
    Tensor src = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    // out[i][index[i][j]] += src[i][j]
    Tensor out = base.scatter_add(1, idx({0, 0, 2, 1, 1, 1}, {2, 3}), src);
    CHECK(out.to_vector<float>() == std::vector<float>{3, 0, 3, 0, 15, 0});
    CHECK(base.to_vector<float>() == std::vector<float>(6, 0.0f));  // out of place
    // out[index[i][j]][j] += src[i][j], src larger than the index
    Tensor ones23 = ones({2, 3});
    CHECK(ones23.scatter_add(0, idx({1, 1}, {1, 2}), src).to_vector<float>() == std::vector<float>{1, 1, 1, 2, 3, 1});
    CHECK(from_vector<int64_t>({10, 20}).scatter_add(0, idx({1, 1, 0}), from_vector<int64_t>({1, 2, 3}))
              .to_vector<int64_t>() == std::vector<int64_t>{13, 23});
    CHECK(from_vector<float>({1, 2}).to(DType::BFloat16).scatter_add(0, idx({0}), from_vector<float>({3}).to(DType::BFloat16))
              .to_vector<float>() == std::vector<float>{4, 2});
    CHECK(m23().t().scatter_add(0, idx({2, 2}, {1, 2}), src.t()).to_vector<float>() ==
          std::vector<float>{0, 3, 1, 4, 3, 9});
}

TEST_CASE("masked_fill and where select by a broadcast mask", "[indexing]") {
    Tensor x = m23();
    Tensor row = from_vector<bool>({true, false, true});
    CHECK(x.masked_fill(row, -1).to_vector<float>() == std::vector<float>{-1, 1, -1, -1, 4, -1});
    CHECK(x.t().masked_fill(from_vector<bool>({false, true}), 9.5).to_vector<float>() ==
          std::vector<float>{0, 9.5, 1, 9.5, 2, 9.5});
    CHECK(from_vector<int64_t>({1, 2}).masked_fill(from_vector<bool>({true, false}), 7).to_vector<int64_t>() ==
          std::vector<int64_t>{7, 2});
    CHECK(x.to(DType::Bool).masked_fill(row, false).to_vector<uint8_t>() == std::vector<uint8_t>{0, 1, 0, 0, 1, 0});

    Tensor c = from_vector<bool>({true, false}, {2, 1});
    Tensor w = where(c, x, from_vector<double>({10, 20, 30}));
    CHECK(w.dtype() == DType::Float64);
    CHECK(w.shape() == Shape{2, 3});
    CHECK(w.to_vector<double>() == std::vector<double>{0, 1, 2, 10, 20, 30});
    Tensor ints = where(from_vector<bool>({true, false, true}), from_vector<int64_t>({1, 2, 3}),
                        from_vector<int32_t>({-1}, {1}));
    CHECK(ints.dtype() == DType::Int64);
    CHECK(ints.to_vector<int64_t>() == std::vector<int64_t>{1, -1, 3});
    CHECK(where(from_vector<bool>({true}, {}), zeros({2, 1}), ones({3})).shape() == Shape{2, 3});
}

TEST_CASE("out-of-range indices name the op, the index, the dim and the shapes", "[indexing][errors]") {
    Tensor x = m23();
    CHECK_THROWS_WITH(x.index_select(1, idx({0, 3})), Contains("index_select") && Contains("index 3") &&
                                                           Contains("dimension 1") && Contains("[2, 3]") &&
                                                           Contains("int64[2]"));
    CHECK_THROWS_WITH(x.index_select(0, idx({-1})), Contains("index_select") && Contains("index -1"));
    CHECK_THROWS_WITH(x.index_select(0, from_vector<int32_t>({2})),
                      Contains("index 2") && Contains("dimension 0") && Contains("int32[1]"));
    CHECK_THROWS_WITH(x.gather(0, idx({0, 2}, {1, 2})), Contains("gather") && Contains("index 2") &&
                                                             Contains("dimension 0") && Contains("[2, 3]") &&
                                                             Contains("[1, 2]"));
    CHECK_THROWS_WITH(x.scatter_add(1, idx({5}, {1, 1}), x), Contains("scatter_add") && Contains("index 5") &&
                                                                  Contains("dimension 1") && Contains("[2, 3]"));
}

TEST_CASE("indexing rejects bad arguments naming the op and shapes", "[indexing][errors]") {
    Tensor x = m23();
    CHECK_THROWS_WITH(x.index_select(0, from_vector<float>({0})), Contains("index_select") && Contains("int64"));
    CHECK_THROWS_WITH(x.index_select(0, idx({0, 1}, {1, 2})), Contains("index_select") && Contains("1-d"));
    CHECK_THROWS_WITH(x.index_select(2, idx({0})), Contains("index_select"));
    CHECK_THROWS_WITH(x.gather(1, idx({0, 0, 0}, {3, 1})), Contains("gather") && Contains("[3, 1]") &&
                                                               Contains("[2, 3]") && Contains("dimension 0"));
    CHECK_THROWS_WITH(x.gather(1, idx({0})), Contains("gather") && Contains("dimensions"));
    CHECK_THROWS_WITH(x.scatter_add(1, idx({0, 0}, {1, 2}), from_vector<double>({1, 2}, {1, 2})),
                      Contains("scatter_add") && Contains("dtype"));
    CHECK_THROWS_WITH(x.scatter_add(1, idx({0, 0}, {1, 2}), zeros({1, 1})),
                      Contains("scatter_add") && Contains("src") && Contains("[1, 1]"));
    CHECK_THROWS_WITH(x.masked_fill(from_vector<float>({1}), 0), Contains("masked_fill") && Contains("bool"));
    CHECK_THROWS_WITH(x.masked_fill(from_vector<bool>({true, false}), 0),
                      Contains("masked_fill") && Contains("[2]") && Contains("[2, 3]"));
    CHECK_THROWS_WITH(x.masked_fill(from_vector<bool>(std::vector<bool>(12, true), {2, 2, 3}), 0),
                      Contains("masked_fill"));
    CHECK_THROWS_WITH(where(from_vector<float>({1}), x, x), Contains("where") && Contains("bool"));
    CHECK_THROWS_WITH(where(from_vector<bool>({true, false}), x, x), Contains("where") && Contains("[2]"));
}

TEST_CASE("large indexing results do not depend on the thread count", "[indexing][threads]") {
    // Many collisions: 200000 source values scattered into 7 slots per row.
    const int64_t rows = 4, cols = 50000;
    std::vector<float> values(size_t(rows * cols));
    std::vector<int64_t> targets(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        values[i] = float(i % 1000) * 0.001f + 1e-4f * float(i % 7);
        targets[i] = int64_t((i * 2654435761u) % 7);
    }
    Tensor src = from_vector(values, {rows, cols});
    Tensor index = from_vector(targets, {rows, cols});
    Tensor big = from_vector(values, {rows * cols});
    Tensor picks = from_vector(targets, {rows * cols});
    auto run = [&] {
        return std::make_tuple(zeros({rows, 7}).scatter_add(1, index, src).to_vector<float>(),
                               zeros({7, cols}).scatter_add(0, index, src).to_vector<float>(),
                               big.index_select(0, picks).to_vector<float>(),
                               src.gather(1, index).to_vector<float>());
    };
    const int before = get_num_threads();
    set_num_threads(1);
    const auto one = run();
    set_num_threads(2);
    const auto two = run();
    set_num_threads(4);
    const auto four = run();
    set_num_threads(before);
    CHECK(one == two);
    CHECK(one == four);
    // The serial sum of row 0 into slot targets[0] agrees exactly (same order).
    float expect = 0.0f;
    for (int64_t j = 0; j < cols; ++j)
        if (targets[size_t(j)] == targets[0]) expect += values[size_t(j)];
    CHECK(std::get<0>(one)[size_t(targets[0])] == expect);
}

TEST_CASE("the first bad index of a large index is reported at any thread count", "[indexing][errors][threads]") {
    std::vector<int64_t> picks(200000, 1);
    picks[150000] = 11;
    picks[70000] = -4;
    const Tensor index = from_vector(picks);
    const int before = get_num_threads();
    for (int n : {1, 2, 4}) {
        set_num_threads(n);
        CHECK_THROWS_WITH(m23().index_select(1, index), Contains("index -4") && Contains("int64[200000]"));
    }
    set_num_threads(before);
}

TEST_CASE("masked_fill keeps large integers exact", "[indexing]") {
    const int64_t big = (int64_t(1) << 53) + 1;
    Tensor x = from_vector<int64_t>({0, 0});
    CHECK(x.masked_fill(from_vector<bool>({false, true}), big).to_vector<int64_t>() == std::vector<int64_t>{0, big});
}
