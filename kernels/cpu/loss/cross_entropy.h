// Fused cross-entropy over rows of logits, forward and backward, on raw
// pointers. Row r of x is x[r*C .. r*C + C) (classes last, contiguous), its
// target class target[r] in [0, C) or ignore_index (checked by the caller).
// With class weights w (null means all 1), smoothing ε, lse = log Σ_c exp(x_c):
//
//   loss_r = (1-ε) w_t (lse - x_t) + ε/C Σ_c w_c (lse - x_c)          (0 if ignored)
//   dx_c   = coeff_r (p_c (B + D W) - B [c == t] - D w_c),  p = softmax(x),
//            B = (1-ε) w_t,  D = ε/C,  W = Σ_c w_c                     (0 if ignored)
//
// which is torch's cross_entropy (log_softmax, nll_loss and the label-smoothing
// term) for one row. Each row's log-softmax or softmax runs through the per-ISA
// softmax kernels (kernels/cpu/softmax/) into a row of scratch, so the logits
// are read once from memory. Rows are independent: results never depend on how
// a caller splits them among threads. Defined for float and double.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

template <typename T>
struct CrossEntropyRows {
    int64_t C = 0;
    const int64_t* target = nullptr;
    const T* weight = nullptr;  // [C] or null
    int64_t ignore_index = -100;
    double smoothing = 0.0;
};

// loss[r] for rows [0, R); target_weight[r] = w_t (1 without weights, 0 when
// ignored), whose sum is the denominator of the mean reduction.
template <typename T>
void cross_entropy_forward(Isa isa, const CrossEntropyRows<T>& p, int64_t R, const T* x, T* loss,
                           double* target_weight);
// dx for rows [0, R); coeff[r * coeff_stride] scales row r (stride 0: one value).
template <typename T>
void cross_entropy_backward(Isa isa, const CrossEntropyRows<T>& p, int64_t R, const T* x, const T* coeff,
                            int64_t coeff_stride, T* dx);

}  // namespace graft::kernels::cpu
