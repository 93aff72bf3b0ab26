// The messages users see for typical mistakes. Each must name the op and the
// shapes, dims or dtypes involved, and where there is an obvious fix, say it.
// Only the op families that are stable (binary, views, sum/mean, conversion,
// creation, autograd) are exercised here.
#include <catch2/catch.hpp>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

TEST_CASE("add with mismatched shapes names both shapes", "[errors]") {
    Tensor a = zeros({2, 3}), b = zeros({4});
    CHECK_THROWS_WITH(add(a, b), Contains("add") && Contains("[2, 3]") && Contains("[4]") && Contains("broadcast"));
    CHECK_THROWS_WITH(a * zeros({3, 3}), Contains("mul") && Contains("[2, 3]") && Contains("[3, 3]"));
}

TEST_CASE("in-place result that does not fit self", "[errors]") {
    Tensor a = zeros({3}), b = zeros({2, 3});
    CHECK_THROWS_WITH(a.add_(b), Contains("add_") && Contains("[2, 3]") && Contains("[3]"));
    CHECK_THROWS_WITH(zeros({2}, DType::Int64).mul_(full({2}, 0.5)), Contains("mul_") && Contains("int64"));
}

TEST_CASE("a bad dim names the dim and the number of dims", "[errors]") {
    Tensor t = zeros({2, 3});
    CHECK_THROWS_WITH(sum(t, {5}), Contains("sum") && Contains("dimension 5") && Contains("2 dimensions"));
    CHECK_THROWS_WITH(t.mean({-3}), Contains("mean") && Contains("dimension -3") && Contains("2 dimensions"));
    CHECK_THROWS_WITH(t.transpose(0, 2), Contains("transpose") && Contains("dimension 2") && Contains("2 dimensions"));
    CHECK_THROWS_WITH(sum(t, {1, 1}), Contains("sum") && Contains("appears twice"));
    CHECK_THROWS_WITH(t.size(2), Contains("dimension 2"));
}

TEST_CASE("view on an incompatible layout suggests reshape", "[errors]") {
    Tensor t = zeros({2, 3}).t();
    CHECK_THROWS_WITH(t.view({6}), Contains("view") && Contains("[3, 2]") && Contains("reshape"));
    CHECK(t.reshape({6}).numel() == 6);
    CHECK_THROWS_WITH(zeros({2, 3}).view({4}), Contains("view") && Contains("[4]") && Contains("size 6"));
    CHECK_THROWS_WITH(zeros({2, 3}).view({-1, -1}), Contains("view") && Contains("only one dimension can be -1"));
}

TEST_CASE("expand to an incompatible shape names both", "[errors]") {
    CHECK_THROWS_WITH(zeros({2, 3}).expand({4, 3}),
                      Contains("expand") && Contains("[2, 3]") && Contains("[4, 3]") && Contains("dimension 0"));
    CHECK_THROWS_WITH(zeros({2, 3}).expand({3}), Contains("expand") && Contains("[3]"));
}

TEST_CASE("permute, select and narrow with bad arguments", "[errors]") {
    Tensor t = zeros({2, 3});
    CHECK_THROWS_WITH(t.permute({0}), Contains("permute") && Contains("expected 2 dims"));
    CHECK_THROWS_WITH(t.permute({0, 0}), Contains("permute") && Contains("repeats"));
    CHECK_THROWS_WITH(t.select(1, 3), Contains("select") && Contains("index 3"));
    CHECK_THROWS_WITH(t.narrow(1, 2, 2), Contains("narrow") && Contains("[2, 4)") && Contains("dimension 1"));
}

TEST_CASE("dtype mistakes name the dtype", "[errors]") {
    CHECK_THROWS_WITH(arange(3).requires_grad_(),
                      Contains("requires_grad_") && Contains("floating-point") && Contains("int64"));
    CHECK_THROWS_WITH(zeros({2}, DType::Float64).data<float>(),
                      Contains("data") && Contains("float32") && Contains("float64"));
    CHECK_THROWS_WITH(arange(4).mean(), Contains("mean") && Contains("int64") && Contains(".to("));
    CHECK_THROWS_WITH(from_vector<bool>({true}) - from_vector<bool>({false}), Contains("sub") && Contains("bool"));
}

TEST_CASE("item on a multi-element tensor names its shape", "[errors]") {
    CHECK_THROWS_WITH(zeros({2, 2}).item<float>(), Contains("item") && Contains("one element") && Contains("[2, 2]"));
}

TEST_CASE("backward twice without retain_graph says how to fix it", "[errors][autograd]") {
    Tensor x = from_vector<float>({1, 2}).requires_grad_();
    Tensor y = sum(mul(x, x));
    y.backward();
    CHECK_THROWS_WITH(y.backward(), Contains("backward: trying to backward") && Contains("second time") && Contains("retain_graph"));
}

TEST_CASE("changing a saved tensor in place is detected at backward", "[errors][autograd]") {
    Tensor x = from_vector<float>({1, 2}).requires_grad_();
    Tensor a = mul(x, 3.0);
    Tensor y = sum(mul(a, a));
    a.add_(1.0);
    CHECK_THROWS_WITH(y.backward(), Contains("mul") && Contains("modified by an in-place operation"));
}

TEST_CASE("in-place on a leaf that requires grad", "[errors][autograd]") {
    Tensor w = zeros({2}).requires_grad_();
    CHECK_THROWS_WITH(w.mul_(2.0), Contains("mul_") && Contains("leaf") && Contains("NoGradGuard"));
    CHECK_THROWS_WITH(w.fill_(1), Contains("fill_") && Contains("leaf"));
}

TEST_CASE("backward on a non-scalar output needs a gradient", "[errors][autograd]") {
    Tensor x = from_vector<float>({1, 2}).requires_grad_();
    Tensor y = mul(x, 2.0);
    CHECK_THROWS_WITH(y.backward(), Contains("backward") && Contains("non-scalar") && Contains("[2]"));
    CHECK_THROWS_WITH(y.backward(zeros({3})), Contains("backward") && Contains("[3]") && Contains("[2]"));
    CHECK_THROWS_WITH(zeros({1}).backward(), Contains("backward") && Contains("does not require grad"));
}

TEST_CASE("creation mistakes", "[errors]") {
    CHECK_THROWS_WITH(from_vector<float>({1, 2, 3}, {2, 2}),
                      Contains("from_vector") && Contains("3 values") && Contains("[2, 2]"));
    CHECK_THROWS_WITH(arange(0, 10, 0), Contains("arange") && Contains("step must be nonzero"));
    CHECK_THROWS_WITH(zeros({3, -2}), Contains("zeros") && Contains("negative size") && Contains("[3, -2]"));
    CHECK_THROWS_WITH(from_blob(nullptr, {2}, DType::Float32), Contains("from_blob") && Contains("null"));
}

TEST_CASE("copy_ between incompatible shapes names both", "[errors]") {
    CHECK_THROWS_WITH(zeros({2, 3}).copy_(zeros({4})), Contains("copy_") && Contains("[4]") && Contains("[2, 3]"));
}

TEST_CASE("using an undefined tensor says so", "[errors]") {
    Tensor t;
    CHECK_THROWS_WITH(t.shape(), Contains("undefined tensor"));
    CHECK_THROWS_WITH(add(t, zeros({1})), Contains("undefined tensor"));
}

TEST_CASE("thread count must be positive", "[errors]") {
    CHECK_THROWS_WITH(set_num_threads(0), Contains("set_num_threads") && Contains("0"));
}
