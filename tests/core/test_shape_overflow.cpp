// Shapes read from files (IDX headers, safetensors, pickles) can be hostile:
// products of their sizes that do not fit in 64 bits are errors, not wrapped
// sizes (found by fuzz_idx: a zero-size dim beside two huge ones).
#include <catch2/catch.hpp>

#include "core/ops/creation.h"
#include "core/shape.h"
#include "core/tensor.h"

using namespace graft;
using Catch::Matchers::Contains;

TEST_CASE("shape products that overflow 64 bits are errors", "[shape]") {
    const int64_t huge = int64_t(1) << 40;
    CHECK(shape_numel({huge, huge, 0}) == 0);
    CHECK(shape_numel({0, huge, huge}) == 0);
    CHECK_THROWS_WITH(shape_numel({huge, huge}), Contains("does not fit in 64 bits"));
    CHECK_THROWS_WITH(contiguous_strides({0, huge, huge}), Contains("do not fit in 64 bits"));
    CHECK_THROWS_WITH(Tensor::empty({0, huge, huge}), Contains("do not fit in 64 bits"));
    CHECK(contiguous_strides({2, 3, 4}) == Strides{12, 4, 1});
    CHECK(contiguous_strides({0, 3, 4}) == Strides{12, 4, 1});
    CHECK(Tensor::empty({3, 0, 5}).numel() == 0);
}
