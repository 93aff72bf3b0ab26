// dropout and embedding: dropout's rate and scaling, its seeded masks and their
// independence from the thread count, p == 0 / 1 and eval; embedding rows,
// the padding row's missing gradient, repeated indices adding up, and errors.
#include <catch2/catch.hpp>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

TEST_CASE("dropout zeroes about p of the elements and scales the rest", "[nn_ops]") {
    Generator gen(7);
    const Tensor x = ones({200, 500});
    const Tensor y = dropout(x, 0.3, true, &gen);
    const auto v = y.to_vector<float>();
    int64_t kept = 0;
    for (float f : v) {
        REQUIRE((f == 0.0f || f == Approx(1.0 / 0.7)));
        kept += f != 0.0f;
    }
    CHECK(double(kept) / double(v.size()) == Approx(0.7).margin(0.005));
    CHECK(dropout(x, 1.0, true, &gen).to_vector<float>() == std::vector<float>(v.size(), 0.0f));
    CHECK(dropout(x, 0.3, false, &gen).is_same(x));
    CHECK(dropout(x, 0.0, true, &gen).is_same(x));
    CHECK_THROWS_WITH(dropout(x, 1.5, true), Contains("dropout") && Contains("1.5"));
}

TEST_CASE("dropout masks depend on the seed only, not the thread count", "[nn_ops]") {
    const Tensor x = ones({300, 301}, DType::Float64);
    std::vector<std::vector<double>> masks;
    const int before = get_num_threads();
    for (int n : {1, 2, 3}) {
        set_num_threads(n);
        Generator gen(11);
        masks.push_back(dropout(x, 0.5, true, &gen).to_vector<double>());
    }
    set_num_threads(before);
    CHECK(masks[0] == masks[1]);
    CHECK(masks[0] == masks[2]);
}

TEST_CASE("dropout's gradient is the mask it applied", "[nn_ops]") {
    Generator gen(3);
    const Tensor x = ones({50}, DType::Float64);
    x.requires_grad_(true);
    const Tensor y = dropout(x, 0.4, true, &gen);
    sum(y).backward();
    CHECK(x.grad().to_vector<double>() == y.detach().to_vector<double>());
}

TEST_CASE("embedding looks up rows; the padding row gets no gradient", "[nn_ops]") {
    const Tensor w = arange(0.0, 12.0, 1.0, DType::Float64).reshape({4, 3});
    w.requires_grad_(true);
    const Tensor idx = from_vector<int64_t>({2, 0, 2, 3}, {2, 2});
    const Tensor y = embedding(w, idx, 0);
    CHECK(y.shape() == Shape{2, 2, 3});
    CHECK(y.to_vector<double>() == std::vector<double>{6, 7, 8, 0, 1, 2, 6, 7, 8, 9, 10, 11});
    sum(y).backward();
    CHECK(w.grad().to_vector<double>() == std::vector<double>{0, 0, 0, 0, 0, 0, 2, 2, 2, 1, 1, 1});
}

TEST_CASE("embedding indices out of range name the op, the value and V", "[nn_ops][errors]") {
    const Tensor w = zeros({4, 3});
    CHECK_THROWS_WITH(embedding(w, from_vector<int64_t>({1, 4})),
                      Contains("embedding") && Contains("index 4") && Contains("V = 4"));
    CHECK_THROWS_WITH(embedding(w, from_vector<int64_t>({-1})), Contains("embedding") && Contains("index -1"));
    CHECK_THROWS_WITH(embedding(w, from_vector<double>({1.0})), Contains("embedding") && Contains("int64"));
    CHECK_THROWS_WITH(embedding(w, from_vector<int64_t>({1}), 4), Contains("embedding") && Contains("padding_idx 4"));
}
