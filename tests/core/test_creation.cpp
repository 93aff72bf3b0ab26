// Creation ops: filled tensors, arange (PyTorch's length and dtype rules),
// linspace (exact ends, symmetric error), eye, from_vector/from_blob, and the
// errors each gives for impossible arguments.
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

TEST_CASE("zeros, ones, full and scalar_tensor fill every dtype", "[creation]") {
    CHECK(zeros({2, 2}).to_vector<float>() == std::vector<float>(4, 0.0f));
    CHECK(ones({3}, DType::Int32).to_vector<int32_t>() == std::vector<int32_t>{1, 1, 1});
    CHECK(full({2}, 2.5, DType::Float64).to_vector<double>() == std::vector<double>{2.5, 2.5});
    CHECK(float(ones({1}, DType::Float16).to(DType::Float32).item<float>()) == 1.0f);
    CHECK(full({2}, 1.5, DType::BFloat16).to_vector<float>() == std::vector<float>{1.5f, 1.5f});
    CHECK(full({2}, true, DType::Bool).to_vector<uint8_t>() == std::vector<uint8_t>{1, 1});
    Tensor s = scalar_tensor(int64_t(1) << 60, DType::Int64);
    CHECK(s.dim() == 0);
    CHECK(s.item<int64_t>() == int64_t(1) << 60);
    CHECK(zeros({0, 3}).numel() == 0);
    Tensor like = full_like(ones({2, 3}, DType::Float64), 7);
    CHECK(like.dtype() == DType::Float64);
    CHECK(like.shape() == Shape{2, 3});
    CHECK(like.to_vector<double>() == std::vector<double>(6, 7.0));
}

TEST_CASE("arange picks int64 for integral arguments and float32 otherwise", "[creation]") {
    Tensor a = arange(5);
    CHECK(a.dtype() == DType::Int64);
    CHECK(a.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
    Tensor b = arange(1, 2.5, 0.5);
    CHECK(b.dtype() == DType::Float32);
    CHECK(b.to_vector<float>() == std::vector<float>{1.0f, 1.5f, 2.0f});
    CHECK(arange(10, 0, -3).to_vector<int64_t>() == std::vector<int64_t>{10, 7, 4, 1});
    CHECK(arange(2.0).dtype() == DType::Float32);
    CHECK(arange(3, 3).numel() == 0);
    Tensor c = arange(0, 5, 2, DType::Float64);
    CHECK(c.dtype() == DType::Float64);
    CHECK(c.to_vector<double>() == std::vector<double>{0, 2, 4});
}

TEST_CASE("arange follows PyTorch's length rule ceil((end - start) / step)", "[creation]") {
    CHECK(arange(0, 1, 0.1).numel() == 10);
    CHECK(arange(0, 1.01, 0.1).numel() == 11);
    CHECK(arange(-1, 1, 0.3).numel() == 7);  // ceil(6.67)
    CHECK(arange(0, 10, 3).numel() == 4);
    // Values are start + i * step computed in double, then rounded once.
    const std::vector<float> v = arange(0, 1, 0.1).to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == float(0.1 * double(i)));
}

TEST_CASE("arange keeps int64 values exact beyond 2^53", "[creation]") {
    const int64_t big = int64_t(1) << 53;
    CHECK(arange(big, big + 3).to_vector<int64_t>() == std::vector<int64_t>{big, big + 1, big + 2});
}

TEST_CASE("arange refuses a zero step or one of the wrong sign, naming the values", "[creation][errors]") {
    CHECK_THROWS_WITH(arange(0, 5, 0), Contains("arange") && Contains("step must be nonzero") && Contains("end 5"));
    CHECK_THROWS_WITH(arange(0, 5, -1),
                      Contains("arange") && Contains("step -1") && Contains("wrong sign") && Contains("to 5"));
    CHECK_THROWS_WITH(arange(5, 0, 1), Contains("arange") && Contains("wrong sign"));
    CHECK_THROWS_WITH(arange(0, INFINITY, 1), Contains("arange") && Contains("finite"));
}

TEST_CASE("linspace hits both ends exactly and is symmetric", "[creation]") {
    CHECK(linspace(0, 1, 5).to_vector<float>() == std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f, 1.0f});
    const std::vector<float> v = linspace(-1, 1, 7).to_vector<float>();
    REQUIRE(v.size() == 7);
    CHECK(v.front() == -1.0f);
    CHECK(v.back() == 1.0f);
    for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == -v[v.size() - 1 - i]);
    // Exact end for a step that does not divide evenly (0.1 is inexact in binary).
    const std::vector<double> d = linspace(0, 0.7, 8, DType::Float64).to_vector<double>();
    CHECK(d.back() == 0.7);
    for (size_t i = 0; i < d.size(); ++i) CHECK(d[i] == Approx(0.1 * double(i)).epsilon(1e-15));
}

TEST_CASE("linspace edge cases and dtypes", "[creation]") {
    CHECK(linspace(3, 7, 1).to_vector<float>() == std::vector<float>{3.0f});
    CHECK(linspace(3, 7, 0).numel() == 0);
    CHECK(linspace(0, 10, 3, DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{0, 5, 10});
    CHECK(linspace(1, 0, 3).to_vector<float>() == std::vector<float>{1.0f, 0.5f, 0.0f});
    CHECK(linspace(0, 1, 3, DType::BFloat16).dtype() == DType::BFloat16);
    CHECK_THROWS_WITH(linspace(0, 1, -2), Contains("linspace") && Contains("-2"));
}

TEST_CASE("eye builds square and rectangular identities", "[creation]") {
    CHECK(eye(3).to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1});
    Tensor r = eye(2, 3, DType::Int64);
    CHECK(r.shape() == Shape{2, 3});
    CHECK(r.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0, 0, 1, 0});
    CHECK(eye(3, 2).to_vector<float>() == std::vector<float>{1, 0, 0, 1, 0, 0});
    CHECK(eye(0).shape() == Shape{0, 0});
    CHECK(eye(2, -1, DType::Float16).to_vector<float>() == std::vector<float>{1, 0, 0, 1});
    CHECK_THROWS_WITH(eye(-1), Contains("eye") && Contains("-1"));
    CHECK_THROWS_WITH(eye(2, -3), Contains("eye") && Contains("-3"));
}

TEST_CASE("from_vector and from_blob copy or borrow host data", "[creation]") {
    Tensor t = from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(t.dtype() == DType::Int32);
    CHECK(t.shape() == Shape{2, 3});
    CHECK(from_vector<bool>({true, false}).to_vector<uint8_t>() == std::vector<uint8_t>{1, 0});
    float buf[4] = {1, 2, 3, 4};
    Tensor copied = from_blob(buf, {2, 2}, DType::Float32);
    Tensor borrowed = from_blob(buf, {2, 2}, DType::Float32, /*copy=*/false);
    buf[0] = 9;
    CHECK(copied.to_vector<float>()[0] == 1.0f);
    CHECK(borrowed.to_vector<float>()[0] == 9.0f);
}

TEST_CASE("creation errors name the function and the shape", "[creation][errors]") {
    CHECK_THROWS_WITH(zeros({2, -1}), Contains("zeros") && Contains("negative size -1") && Contains("[2, -1]"));
    CHECK_THROWS_WITH(ones({-3}), Contains("ones") && Contains("[-3]"));
    CHECK_THROWS_WITH(full({-3}, 1), Contains("full") && Contains("[-3]"));
    CHECK_THROWS_WITH(from_vector<float>({1, 2, 3}, {2, 2}),
                      Contains("from_vector") && Contains("3 values") && Contains("[2, 2]"));
}
