// Normalisation kernels: batch, group and layer norm, forward and backward, on
// raw pointers. No Tensor, no autograd; core/ops/norm.cpp splits the work among
// threads and builds the formulas' per-channel coefficients.
//
// Channel kernels see x as [A, C, S]: element (a, c, s) at a*ld + c*S + s,
// ld >= C*S (a caller hands a block of channels by offsetting the pointers and
// keeping ld). The statistics of channel c run over its A*S elements.
//   batch norm   [N, C, H*W]            A = N, C = C,   S = H*W
//   group norm   [1, N*G, C/G*H*W]      stats per (n, g) row
//                [1, N*C, H*W]          scale/shift and gradient sums per (n, c)
// Layer-norm kernels see x as rows [M, D] (D = numel of normalized_shape), with
// weight and bias per column d.
//
// Sums accumulate in double whatever T is, in a fixed order within one call,
// so a result never depends on how the caller split channels or rows among
// threads. The fast bodies (norm_impl.h) are compiled per ISA level and picked
// by norm_kernels<T>(isa); the *_ref functions are plain loops, the readable
// truth the tests compare against. Defined for float and double.
//
//   moments:      mean[c] = Σ x / n,  var[c] = Σ (x - mean)² / n     (n = A*S, biased)
//   affine:       y = (x - center[c]) * scale[c] + shift[c]
//   grad_sums:    sum_g[c] = Σ g,  sum_gxm[c] = Σ g * (x - mean[c])
//   grad_apply:   dx = a[c] * g + b[c] * (x - center[c]) + k[c]
// (x - center) comes first in both so that a large mean cancels exactly
// instead of through two large products.
//   layer norm:   y = (x - mean) * rstd * w[d] + b[d]           (w, b may be null)
//                 dx = rstd * (wg - Σwg / D - x̂ Σ(wg x̂) / D),  wg = w[d] g, x̂ = (x - mean) rstd
//                 dw[d] = Σ_m g x̂,  db[d] = Σ_m g              (over rows; dw, db may be null)
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

template <typename T>
struct NormKernels {
    void (*moments)(int64_t A, int64_t C, int64_t S, int64_t ld, const T* x, double* mean, double* var);
    void (*affine)(int64_t A, int64_t C, int64_t S, int64_t ld, const T* x, const T* center, const T* scale,
                   const T* shift, T* y);
    void (*grad_sums)(int64_t A, int64_t C, int64_t S, int64_t ld, const T* g, const T* x, const double* mean,
                      double* sum_g, double* sum_gxm);
    void (*grad_apply)(int64_t A, int64_t C, int64_t S, int64_t ld, const T* g, const T* x, const T* center,
                       const T* a, const T* b, const T* k, T* dx);
    // Rows [M, D] contiguous; writes y and each row's mean and rstd = 1/sqrt(var + eps).
    void (*layer_forward)(int64_t M, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, double* mean,
                          double* rstd);
    void (*layer_backward)(int64_t M, int64_t D, const T* g, const T* x, const T* w, const double* mean,
                           const double* rstd, T* dx);
    // A tile of D columns of rows with stride ld (the full row length); writes dw[0..D), db[0..D).
    void (*layer_param_grads)(int64_t M, int64_t D, int64_t ld, const T* g, const T* x, const double* mean,
                              const double* rstd, T* dw, T* db);
};

template <typename T> NormKernels<T> norm_kernels(Isa isa);
template <typename T> NormKernels<T> norm_kernels_ref();

}  // namespace graft::kernels::cpu
