// Views (core/ops/views.cpp) and layout conversions: storage sharing, strides
// and offsets, when view() refuses and reshape() copies, and errors that name
// the op.
#include <catch2/catch.hpp>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

// [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as float32.
Tensor grid() { return from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4}); }

}  // namespace

TEST_CASE("writing through a view changes the base", "[views]") {
    Tensor base = grid();
    base.select(0, 1).fill_(-1);
    base.narrow(1, 3, 1).fill_(9);
    base.t().select(0, 0).fill_(5);  // column 0
    CHECK(base.to_vector<float>() == std::vector<float>{5, 1, 2, 9, 5, -1, -1, 9, 5, 9, 10, 9});
    Tensor v = base.view({12});
    v.slice(0, 0, 12, 5).fill_(7);  // elements 0, 5, 10
    CHECK(base.to_vector<float>() == std::vector<float>{7, 1, 2, 9, 5, 7, -1, 9, 5, 9, 7, 9});
    const uint64_t before = base.version();
    v.fill_(0);
    CHECK(base.version() > before);  // views share the version counter
}

TEST_CASE("views compute strides and offsets", "[views]") {
    Tensor x = grid();
    CHECK(x.strides() == Strides{4, 1});
    Tensor t = x.t();
    CHECK(t.shape() == Shape{4, 3});
    CHECK(t.strides() == Strides{1, 4});
    CHECK_FALSE(t.is_contiguous());
    CHECK(t.storage() == x.storage());

    Tensor s = x.slice(1, 1, 4, 2);  // columns 1 and 3
    CHECK(s.shape() == Shape{3, 2});
    CHECK(s.strides() == Strides{4, 2});
    CHECK(s.offset() == 1);
    CHECK(s.to_vector<float>() == std::vector<float>{1, 3, 5, 7, 9, 11});
    CHECK(x.slice(0, -2, 100).offset() == 4);
    CHECK(x.slice(0, 2, 1).shape() == Shape{0, 4});  // end before start: empty

    Tensor row = x.select(0, -1);
    CHECK(row.shape() == Shape{4});
    CHECK(row.offset() == 8);
    CHECK(x.narrow(1, 1, 2).select(0, 2).to_vector<float>() == std::vector<float>{9, 10});

    Tensor p = from_vector<float>(std::vector<float>(24, 0.0f), {2, 3, 4}).permute({2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.strides() == Strides{1, 12, 4});
    CHECK(x.unsqueeze(1).strides()[0] == 4);
    CHECK(x.unsqueeze(-1).shape() == Shape{3, 4, 1});
    CHECK(x.view({2, 1, 6}).squeeze().shape() == Shape{2, 6});
    CHECK(x.view({1, 3, 1, 4}).squeeze(-2).shape() == Shape{1, 3, 4});
    CHECK(x.flatten().shape() == Shape{12});
    CHECK(x.view({2, 3, 2}).flatten(1).shape() == Shape{2, 6});
    CHECK(from_vector<float>({3}, {}).flatten().shape() == Shape{1});
}

TEST_CASE("view refuses an incompatible layout and reshape copies instead", "[views][errors]") {
    Tensor x = grid();
    Tensor t = x.t();
    CHECK_THROWS_WITH(t.view({12}), Contains("view") && Contains("[4, 3]") && Contains("reshape"));
    Tensor r = t.reshape({12});
    CHECK(r.to_vector<float>() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
    CHECK(r.storage() != x.storage());  // copied
    Tensor same = x.reshape({6, 2});
    CHECK(same.storage() == x.storage());  // viewable: no copy
    // Splitting a dim of a non-contiguous tensor is still a view.
    Tensor split = t.view({2, 2, 3});
    CHECK(split.strides() == Strides{2, 1, 4});
    CHECK(split.storage() == x.storage());
    // Merging dims that are contiguous among themselves is a view too.
    Tensor cube = from_vector<float>(std::vector<float>(24, 1.0f), {2, 3, 4});
    CHECK(cube.narrow(0, 1, 1).view({12}).offset() == 12);
    CHECK_THROWS_WITH(cube.narrow(2, 0, 2).view({12}), Contains("view") && Contains("reshape"));
}

TEST_CASE("contiguous copies a permuted tensor in its logical order", "[views]") {
    Tensor x = grid();
    CHECK(x.contiguous().is_same(x));
    Tensor c = x.permute({1, 0}).contiguous();
    CHECK(c.is_contiguous());
    CHECK(c.strides() == Strides{3, 1});
    CHECK(c.to_vector<float>() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
    Tensor cube = from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
    CHECK(cube.permute({2, 0, 1}).contiguous().to_vector<float>() == std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7});
    Tensor strided = x.slice(1, 0, 4, 3).contiguous();  // columns 0 and 3
    CHECK(strided.to_vector<float>() == std::vector<float>{0, 3, 4, 7, 8, 11});
}

TEST_CASE("expand broadcasts with stride 0 and keeps sizes given as -1", "[views]") {
    Tensor col = from_vector<float>({1, 2, 3}, {3, 1});
    Tensor e = col.expand({2, -1, 4});
    CHECK(e.shape() == Shape{2, 3, 4});
    CHECK(e.strides() == Strides{0, 1, 0});
    CHECK(e.storage() == col.storage());
    CHECK(e.select(0, 1).select(0, 2).to_vector<float>() == std::vector<float>{3, 3, 3, 3});
    CHECK(col.expand({3, 0}).numel() == 0);
    CHECK(from_vector<float>({5}, {}).expand({2, 2}).to_vector<float>() == std::vector<float>{5, 5, 5, 5});
    CHECK_THROWS_WITH(col.expand({4, 1}), Contains("expand") && Contains("[3, 1]") && Contains("[4, 1]"));
    CHECK_THROWS_WITH(col.expand({1}), Contains("expand") && Contains("fewer dimensions"));
    CHECK_THROWS_WITH(col.expand({-1, 3, 1}), Contains("expand") && Contains("-1"));
}

TEST_CASE("negative dims count from the end", "[views]") {
    Tensor x = from_vector<float>(std::vector<float>(24, 0.0f), {2, 3, 4});
    CHECK(x.transpose(-1, 0).shape() == Shape{4, 3, 2});
    CHECK(x.permute({-1, -3, -2}).shape() == Shape{4, 2, 3});
    CHECK(x.narrow(-1, 1, 2).shape() == Shape{2, 3, 2});
    CHECK(x.select(-2, -1).shape() == Shape{2, 4});
    CHECK(x.unsqueeze(-4).shape() == Shape{1, 2, 3, 4});
    CHECK(x.flatten(-2, -1).shape() == Shape{2, 12});
    CHECK(x.narrow(1, -2, 2).offset() == 4);
}

TEST_CASE("views reject bad dims and ranges naming the op", "[views][errors]") {
    Tensor x = grid();
    CHECK_THROWS_WITH(x.select(2, 0), Contains("select"));
    CHECK_THROWS_WITH(x.select(0, 3), Contains("select") && Contains("index 3") && Contains("[3, 4]"));
    CHECK_THROWS_WITH(x.narrow(1, 2, 3), Contains("narrow") && Contains("[3, 4]"));
    CHECK_THROWS_WITH(x.narrow(-3, 0, 1), Contains("narrow"));
    CHECK_THROWS_WITH(x.slice(0, 0, 2, 0), Contains("slice") && Contains("step"));
    CHECK_THROWS_WITH(x.permute({0}), Contains("permute"));
    CHECK_THROWS_WITH(x.permute({0, 0}), Contains("permute") && Contains("repeats"));
    CHECK_THROWS_WITH(x.transpose(0, 2), Contains("transpose"));
    CHECK_THROWS_WITH(x.unsqueeze(3), Contains("unsqueeze"));
    CHECK_THROWS_WITH(x.squeeze(2), Contains("squeeze"));
    CHECK_THROWS_WITH(x.flatten(1, 0), Contains("flatten"));
    CHECK_THROWS_WITH(x.view({5, -1}), Contains("view") && Contains("[5, -1]"));
    CHECK_THROWS_WITH(x.view({-1, -1}), Contains("view") && Contains("-1"));
    CHECK_THROWS_WITH(x.reshape({7}), Contains("reshape") && Contains("12"));
    CHECK_THROWS_WITH(from_vector<float>({1}, {}).select(0, 0), Contains("select") && Contains("0-d"));
}

TEST_CASE("views of tensors that require grad refuse in-place writes", "[views][errors]") {
    Tensor w = from_vector<double>({1, 2, 3, 4}).requires_grad_();
    Tensor v = mul(w, 2.0).view({2, 2});
    CHECK_THROWS_WITH(v.add_(1.0), Contains("add_") && Contains("view"));
}

TEST_CASE("dtype conversion round-trips and rounds like a cast", "[views][convert]") {
    Tensor x = from_vector<double>({1.5, -2.25, 3.0});
    CHECK(x.to(DType::Float32).to(DType::Float64).to_vector<double>() == x.to_vector<double>());
    CHECK(x.to(DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
    CHECK(x.to(DType::Bool).to_vector<uint8_t>() == std::vector<uint8_t>{1, 1, 1});
    CHECK(x.to(DType::Float64).is_same(x));  // already float64: no copy
    Tensor c = x.clone();
    CHECK(c.storage() != x.storage());
    CHECK(grid().t().clone().is_contiguous());
}

TEST_CASE("copy_ broadcasts src into dst and refuses shapes that do not fit, empty ones included", "[views][convert]") {
    Tensor dst = zeros({2, 3});
    dst.copy_(from_vector<double>({1, 2, 3}));
    CHECK(dst.to_vector<float>() == std::vector<float>{1, 2, 3, 1, 2, 3});
    dst.t().copy_(from_vector<float>({7, 8}, {1, 2}));
    CHECK(dst.to_vector<float>() == std::vector<float>{7, 7, 7, 8, 8, 8});
    zeros({0, 3}).copy_(zeros({3}));
    zeros({0, 3}).copy_(zeros({0, 1}));
    CHECK_THROWS_WITH(zeros({3}).copy_(zeros({0})), Contains("copy_") && Contains("[0]") && Contains("[3]"));
    CHECK_THROWS_WITH(zeros({3}).copy_(zeros({0, 3})), Contains("copy_") && Contains("[0, 3]"));
    CHECK_THROWS_WITH(zeros({2, 3}).copy_(zeros({2})), Contains("copy_") && Contains("[2, 3]"));
}

TEST_CASE("expand refuses negative sizes other than -1", "[views][errors]") {
    CHECK_THROWS_WITH(from_vector<float>({1}).expand({-2}), Contains("expand") && Contains("-2"));
    CHECK_THROWS_WITH(from_vector<float>({1}).expand({-3, 1}), Contains("expand") && Contains("-3"));
}

TEST_CASE("squeeze and unsqueeze keep working on strided and broadcast layouts", "[views]") {
    Tensor x = from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 1, 2}).permute({2, 1, 0});  // [2, 1, 3]
    Tensor s = x.squeeze();
    CHECK(s.shape() == Shape{2, 3});
    CHECK(s.strides() == Strides{1, 2});
    CHECK(s.to_vector<float>() == std::vector<float>{1, 3, 5, 2, 4, 6});
    Tensor e = from_vector<float>({1, 2, 3}, {3, 1}).expand({3, 4});
    CHECK(e.unsqueeze(0).strides() == Strides{3, 1, 0});
    CHECK(e.unsqueeze(2).squeeze(2).strides() == Strides{1, 0});
    CHECK(e.view({3, 2, 2}).strides() == Strides{1, 0, 0});
}
