// Indexing by integer tensors and masks, and selecting by condition.
// Index tensors are int64 (int32 accepted); out-of-range indices throw.
#pragma once

#include "core/tensor.h"

namespace graft {

Tensor index_select(const Tensor& t, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& t, int64_t dim, const Tensor& index);
// A copy of t with src added at the positions given by index along dim.
Tensor scatter_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src);
Tensor masked_fill(const Tensor& t, const Tensor& mask, Scalar value);
// condition ? a : b, broadcasting all three (condition is bool).
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

}  // namespace graft
