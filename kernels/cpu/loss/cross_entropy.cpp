// Fused cross-entropy rows on top of the per-ISA softmax kernels. Formulas and
// layout: cross_entropy.h.
#include "kernels/cpu/loss/cross_entropy.h"

#include <cstddef>
#include <vector>

#include "kernels/cpu/softmax/softmax.h"

namespace graft::kernels::cpu {

namespace {

template <typename T>
double class_weight(const CrossEntropyRows<T>& p, int64_t c) {
    return p.weight ? double(p.weight[c]) : 1.0;
}

// Σ_c w_c v_c in double (the smoothing term's weighted sum of log-probabilities).
template <typename T>
double weighted_sum(const CrossEntropyRows<T>& p, const T* v) {
    double s = 0;
    if (p.weight)
        for (int64_t c = 0; c < p.C; ++c) s += double(p.weight[c]) * double(v[c]);
    else
        for (int64_t c = 0; c < p.C; ++c) s += double(v[c]);
    return s;
}

}  // namespace

template <typename T>
void cross_entropy_forward(Isa isa, const CrossEntropyRows<T>& p, int64_t R, const T* x, T* loss,
                           double* target_weight) {
    const auto log_softmax = softmax_forward<T>(isa);
    std::vector<T> logp(std::size_t(p.C));
    for (int64_t r = 0; r < R; ++r) {
        const int64_t t = p.target[r];
        if (t == p.ignore_index) {
            loss[r] = T(0);
            target_weight[r] = 0.0;
            continue;
        }
        log_softmax(1, p.C, 1, 1, x + r * p.C, logp.data(), true);
        const double wt = class_weight(p, t);
        double l = -(1.0 - p.smoothing) * wt * double(logp[std::size_t(t)]);
        if (p.smoothing != 0.0) l -= p.smoothing / double(p.C) * weighted_sum(p, logp.data());
        loss[r] = T(l);
        target_weight[r] = wt;
    }
}

template <typename T>
void cross_entropy_backward(Isa isa, const CrossEntropyRows<T>& p, int64_t R, const T* x, const T* coeff,
                            int64_t coeff_stride, T* dx) {
    const auto softmax = softmax_forward<T>(isa);
    const double D = p.smoothing / double(p.C);
    double W = double(p.C);
    if (p.weight) {
        W = 0;
        for (int64_t c = 0; c < p.C; ++c) W += double(p.weight[c]);
    }
    for (int64_t r = 0; r < R; ++r) {
        T* row = dx + r * p.C;
        const int64_t t = p.target[r];
        if (t == p.ignore_index) {
            for (int64_t c = 0; c < p.C; ++c) row[c] = T(0);
            continue;
        }
        softmax(1, p.C, 1, 1, x + r * p.C, row, false);
        const double g = double(coeff[r * coeff_stride]), B = (1.0 - p.smoothing) * class_weight(p, t);
        const T scale = T(g * (B + D * W));
        if (D == 0.0) {
            for (int64_t c = 0; c < p.C; ++c) row[c] *= scale;
        } else if (p.weight) {
            for (int64_t c = 0; c < p.C; ++c) row[c] = row[c] * scale - T(g * D * double(p.weight[c]));
        } else {
            const T off = T(g * D);
            for (int64_t c = 0; c < p.C; ++c) row[c] = row[c] * scale - off;
        }
        row[t] -= T(g * B);
    }
}

template void cross_entropy_forward<float>(Isa, const CrossEntropyRows<float>&, int64_t, const float*, float*,
                                           double*);
template void cross_entropy_forward<double>(Isa, const CrossEntropyRows<double>&, int64_t, const double*, double*,
                                            double*);
template void cross_entropy_backward<float>(Isa, const CrossEntropyRows<float>&, int64_t, const float*,
                                            const float*, int64_t, float*);
template void cross_entropy_backward<double>(Isa, const CrossEntropyRows<double>&, int64_t, const double*,
                                             const double*, int64_t, double*);

}  // namespace graft::kernels::cpu
