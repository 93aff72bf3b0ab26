// Joining and splitting along a dimension.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace graft {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of size split_size along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim = 0);
// `chunks` views of (nearly) equal size along dim, as torch.chunk.
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);

}  // namespace graft
