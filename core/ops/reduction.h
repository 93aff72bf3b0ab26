// Reductions over any set of dimensions (`dims` empty = all), with keepdim.
// Results do not depend on the thread count: partial results are combined in
// a fixed order.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace graft {

Tensor sum(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor max(const Tensor& t);  // over all elements; gradient split evenly among ties
Tensor min(const Tensor& t);
ValuesIndices max(const Tensor& t, int64_t dim, bool keepdim = false);  // first index among ties
ValuesIndices min(const Tensor& t, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& t, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& t, int64_t dim, bool keepdim = false);
// Variance and standard deviation with `correction` (1 = unbiased, as torch).
Tensor var(const Tensor& t, const std::vector<int64_t>& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& t, const std::vector<int64_t>& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim = false);

}  // namespace graft
