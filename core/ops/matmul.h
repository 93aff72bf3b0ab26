// Matrix products with torch.matmul's rules: 1-d operands are promoted (and the
// added dimension removed again), leading batch dimensions broadcast.
// Computed by the GEMM kernel behind kernels/cpu/gemm.h.
#pragma once

#include "core/tensor.h"

namespace graft {

Tensor matmul(const Tensor& a, const Tensor& b);

// a [M, K] · b [K, N] + bias [N] (broadcast over rows): a Linear layer's
// `x · Wᵀ + b` with b = W.t() as a view. The bias is added by the GEMM's fused
// epilogue while each tile of the output is in cache, not in a pass of its own.
// Gradients: (dC.sum(0), dC·bᵀ, aᵀ·dC). As torch.addmm(bias, a, b).
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b);

}  // namespace graft
