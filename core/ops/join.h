// Joining and splitting along a dimension, as in PyTorch. cat and stack copy
// into a new tensor (promoting dtypes); split and chunk return views.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace graft {

// Concatenates along dim; all sizes but dim's must match. A 1-d empty tensor
// (shape [0]) is skipped whatever the others' rank, as PyTorch does.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins tensors of one shape along a new dimension `dim` (in [-ndim-1, ndim]).
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of size split_size along dim (the last may be smaller); an empty
// dimension gives one empty view.
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim = 0);
// Views of ceil(size / chunks) along dim, as torch.chunk: there may be fewer
// than `chunks` of them.
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);

}  // namespace graft
