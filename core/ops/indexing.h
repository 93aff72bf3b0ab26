// Indexing by integer tensors and masks, and selecting by condition, as in
// PyTorch. Index tensors are int64 (int32 accepted); every index must lie in
// [0, size) of the indexed dimension, and one that does not throws an Error
// naming the op, the index value, the dim and both shapes. CPU only for now.
// All five are differentiable in their float inputs (never in index or mask).
#pragma once

#include "core/tensor.h"

namespace graft {

// The slices t[..., index[j], ...] along dim, in index order (repeats allowed).
// index is 1-d (or 0-d); the result has index.numel() entries along dim.
Tensor index_select(const Tensor& t, int64_t dim, const Tensor& index);
// out[i][j][k] = t[i][index[i][j][k]][k] for dim 1 (likewise for other dims).
// index has t's rank and is no larger than t outside dim; out has its shape.
Tensor gather(const Tensor& t, int64_t dim, const Tensor& index);
// A copy of t with src added at the positions given by index along dim:
// out[i][index[i][j][k]][k] += src[i][j][k] for dim 1. src has t's dtype and is
// no smaller than index; repeated positions add up in index order, whatever
// the thread count.
Tensor scatter_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src);
// A copy of t with `value` (converted to t's dtype) where the bool mask, broadcast
// to t's shape, is true.
Tensor masked_fill(const Tensor& t, const Tensor& mask, Scalar value);
// condition ? a : b, broadcasting all three (condition is bool); the result has
// the promoted dtype of a and b.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

}  // namespace graft
