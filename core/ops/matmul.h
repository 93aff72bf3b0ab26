// Matrix products with torch.matmul's rules: 1-d operands are promoted (and the
// added dimension removed again), leading batch dimensions broadcast.
// Computed by the GEMM kernel behind kernels/cpu/gemm.h.
#pragma once

#include "core/tensor.h"

namespace graft {

Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace graft
