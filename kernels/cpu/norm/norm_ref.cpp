// The reference normalisation kernels: plain loops, two-pass statistics in
// double, one element at a time. Layouts and formulas as in norm.h.
#include <cmath>

#include "kernels/cpu/norm/norm.h"

namespace graft::kernels::cpu {

namespace {

// Element (a, c, s) of the [A, C, S] layout.
inline int64_t at(int64_t a, int64_t c, int64_t s, int64_t S, int64_t ld) { return a * ld + c * S + s; }

template <typename T>
void moments(int64_t A, int64_t C, int64_t S, int64_t ld, const T* x, double* mean, double* var) {
    const double n = double(A * S);
    for (int64_t c = 0; c < C; ++c) {
        double sum = 0;
        for (int64_t a = 0; a < A; ++a)
            for (int64_t s = 0; s < S; ++s) sum += double(x[at(a, c, s, S, ld)]);
        const double m = sum / n;
        double sq = 0;
        for (int64_t a = 0; a < A; ++a)
            for (int64_t s = 0; s < S; ++s) {
                const double d = double(x[at(a, c, s, S, ld)]) - m;
                sq += d * d;
            }
        mean[c] = m;
        var[c] = sq / n;
    }
}

template <typename T>
void affine(int64_t A, int64_t C, int64_t S, int64_t ld, const T* x, const T* center, const T* scale, const T* shift,
            T* y) {
    for (int64_t a = 0; a < A; ++a)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t s = 0; s < S; ++s) {
                const int64_t e = at(a, c, s, S, ld);
                y[e] = (x[e] - center[c]) * scale[c] + shift[c];
            }
}

template <typename T>
void grad_sums(int64_t A, int64_t C, int64_t S, int64_t ld, const T* g, const T* x, const double* mean,
               double* sum_g, double* sum_gxm) {
    for (int64_t c = 0; c < C; ++c) {
        double sg = 0, sgx = 0;
        for (int64_t a = 0; a < A; ++a)
            for (int64_t s = 0; s < S; ++s) {
                const int64_t e = at(a, c, s, S, ld);
                sg += double(g[e]);
                sgx += double(g[e]) * (double(x[e]) - mean[c]);
            }
        sum_g[c] = sg;
        sum_gxm[c] = sgx;
    }
}

template <typename T>
void grad_apply(int64_t A, int64_t C, int64_t S, int64_t ld, const T* g, const T* x, const T* center, const T* a_,
                const T* b_, const T* k_, T* dx) {
    for (int64_t a = 0; a < A; ++a)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t s = 0; s < S; ++s) {
                const int64_t e = at(a, c, s, S, ld);
                dx[e] = a_[c] * g[e] + b_[c] * (x[e] - center[c]) + k_[c];
            }
}

template <typename T>
void layer_forward(int64_t M, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, double* mean,
                   double* rstd) {
    for (int64_t m = 0; m < M; ++m) {
        const T* xr = x + m * D;
        double var = 0;
        moments<T>(1, 1, D, D, xr, &mean[m], &var);
        rstd[m] = 1.0 / std::sqrt(var + eps);
        for (int64_t d = 0; d < D; ++d) {
            const double xhat = (double(xr[d]) - mean[m]) * rstd[m];
            y[m * D + d] = T(xhat * (w ? double(w[d]) : 1.0) + (b ? double(b[d]) : 0.0));
        }
    }
}

template <typename T>
void layer_backward(int64_t M, int64_t D, const T* g, const T* x, const T* w, const double* mean, const double* rstd,
                    T* dx) {
    for (int64_t m = 0; m < M; ++m) {
        const int64_t r = m * D;
        double s1 = 0, s2 = 0;  // Σ wg, Σ wg x̂
        for (int64_t d = 0; d < D; ++d) {
            const double wg = double(g[r + d]) * (w ? double(w[d]) : 1.0);
            s1 += wg;
            s2 += wg * (double(x[r + d]) - mean[m]) * rstd[m];
        }
        for (int64_t d = 0; d < D; ++d) {
            const double wg = double(g[r + d]) * (w ? double(w[d]) : 1.0);
            const double xhat = (double(x[r + d]) - mean[m]) * rstd[m];
            dx[r + d] = T(rstd[m] * (wg - s1 / double(D) - xhat * s2 / double(D)));
        }
    }
}

template <typename T>
void layer_param_grads(int64_t M, int64_t D, int64_t ld, const T* g, const T* x, const double* mean,
                       const double* rstd, T* dw, T* db) {
    for (int64_t d = 0; d < D; ++d) {
        double sw = 0, sb = 0;
        for (int64_t m = 0; m < M; ++m) {
            const int64_t e = m * ld + d;
            sw += double(g[e]) * (double(x[e]) - mean[m]) * rstd[m];
            sb += double(g[e]);
        }
        if (dw) dw[d] = T(sw);
        if (db) db[d] = T(sb);
    }
}

}  // namespace

template <typename T>
NormKernels<T> norm_kernels_ref() {
    return {&moments<T>,       &affine<T>,         &grad_sums<T>,        &grad_apply<T>,
            &layer_forward<T>, &layer_backward<T>, &layer_param_grads<T>};
}

template NormKernels<float> norm_kernels_ref<float>();
template NormKernels<double> norm_kernels_ref<double>();

}  // namespace graft::kernels::cpu
