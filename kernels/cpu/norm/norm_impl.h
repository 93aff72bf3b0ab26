// The fast normalisation bodies, included once per ISA level inside namespace
// GRAFT_ISA_NAMESPACE (norm_dispatch.cpp: baseline x86-64, norm_avx2.cpp,
// norm_avx512.cpp). Loops are shaped for the compiler's vectoriser under each
// file's flags: sums in kLanes double lanes along contiguous runs, or across
// channels when S == 1 ([N, C] batch norm, where a channel is a strided
// column). Statistics take one pass, summing x - K and (x - K)² for a shift K
// (the first value), which keeps E[(x-K)²] - E[x-K]² free of cancellation
// when |mean| >> std. Lane counts do not depend on the ISA, so every level
// sums in the same order. Layouts and formulas: norm.h.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/norm/norm.h"

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

namespace {

constexpr int kLanes = 8;
constexpr int64_t kColumnBlock = 1024;  // layer_param_grads columns per pass (16 KiB of accumulators)

// Σ a and Σ a*b into lanes, where (a, b) = map(j) over a contiguous run.
struct Sums {
    double s1[kLanes] = {}, s2[kLanes] = {};
    double r1 = 0, r2 = 0;  // the tails of runs that are not a multiple of kLanes
    double total1() const { double t = 0; for (double v : s1) t += v; return t + r1; }
    double total2() const { double t = 0; for (double v : s2) t += v; return t + r2; }
};

// s1 += x - K, s2 += (x - K)² over x[0..n).
template <typename T>
inline void add_shifted(Sums& acc, const T* x, int64_t n, double K) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const double d = double(x[j + l]) - K;
            acc.s1[l] += d;
            acc.s2[l] += d * d;
        }
    for (; j < n; ++j) {
        const double d = double(x[j]) - K;
        acc.r1 += d;
        acc.r2 += d * d;
    }
}

// s1 += w*g, s2 += w*g*(x - m) over [0..n); Weighted false means w = 1. (A
// template flag, not a null test in the loop, so that the loop vectorises.)
template <bool Weighted, typename T>
inline void add_grad(Sums& acc, const T* g, const T* x, const T* w, int64_t n, double m) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const double wg = Weighted ? double(g[j + l]) * double(w[j + l]) : double(g[j + l]);
            acc.s1[l] += wg;
            acc.s2[l] += wg * (double(x[j + l]) - m);
        }
    for (; j < n; ++j) {
        const double wg = Weighted ? double(g[j]) * double(w[j]) : double(g[j]);
        acc.r1 += wg;
        acc.r2 += wg * (double(x[j]) - m);
    }
}

// mean and biased variance from shifted sums over n values.
inline void finish_moments(double K, double s1, double s2, double n, double& mean, double& var) {
    const double m1 = s1 / n;
    mean = K + m1;
    var = std::max(s2 / n - m1 * m1, 0.0);
}

// S == 1: channel c is the column x[a*ld + c]; sums run down each column, a
// row at a time, so the loop over c vectorises.
template <typename T>
void moments_columns(int64_t A, int64_t C, int64_t ld, const T* x, double* mean, double* var) {
    std::vector<double> s1(size_t(C), 0.0), s2(size_t(C), 0.0);
    for (int64_t a = 0; a < A; ++a) {
        const T* row = x + a * ld;
        for (int64_t c = 0; c < C; ++c) {
            const double d = double(row[c]) - double(x[c]);
            s1[size_t(c)] += d;
            s2[size_t(c)] += d * d;
        }
    }
    for (int64_t c = 0; c < C; ++c)
        finish_moments(double(x[c]), s1[size_t(c)], s2[size_t(c)], double(A), mean[c], var[c]);
}

template <typename T>
void moments(int64_t A, int64_t C, int64_t S, int64_t ld, const T* x, double* mean, double* var) {
    if (A * S == 0) return;
    if (S == 1) return moments_columns(A, C, ld, x, mean, var);
    for (int64_t c = 0; c < C; ++c) {
        const double K = double(x[c * S]);
        Sums acc;
        for (int64_t a = 0; a < A; ++a) add_shifted(acc, x + a * ld + c * S, S, K);
        finish_moments(K, acc.total1(), acc.total2(), double(A * S), mean[c], var[c]);
    }
}

template <typename T>
void affine(int64_t A, int64_t C, int64_t S, int64_t ld, const T* x, const T* center, const T* scale, const T* shift,
            T* y) {
    for (int64_t a = 0; a < A; ++a) {
        if (S == 1) {
            const T* xr = x + a * ld;
            T* yr = y + a * ld;
            for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - center[c]) * scale[c] + shift[c];
            continue;
        }
        for (int64_t c = 0; c < C; ++c) {
            const T* xr = x + a * ld + c * S;
            T* yr = y + a * ld + c * S;
            const T m = center[c], sc = scale[c], sh = shift[c];
            for (int64_t s = 0; s < S; ++s) yr[s] = (xr[s] - m) * sc + sh;
        }
    }
}

template <typename T>
void grad_sums(int64_t A, int64_t C, int64_t S, int64_t ld, const T* g, const T* x, const double* mean,
               double* sum_g, double* sum_gxm) {
    if (S == 1) {
        std::fill(sum_g, sum_g + C, 0.0);
        std::fill(sum_gxm, sum_gxm + C, 0.0);
        for (int64_t a = 0; a < A; ++a)
            for (int64_t c = 0; c < C; ++c) {
                const double gv = double(g[a * ld + c]);
                sum_g[c] += gv;
                sum_gxm[c] += gv * (double(x[a * ld + c]) - mean[c]);
            }
        return;
    }
    for (int64_t c = 0; c < C; ++c) {
        Sums acc;
        for (int64_t a = 0; a < A; ++a) add_grad<false>(acc, g + a * ld + c * S, x + a * ld + c * S, x, S, mean[c]);
        sum_g[c] = acc.total1();
        sum_gxm[c] = acc.total2();
    }
}

template <typename T>
void grad_apply(int64_t A, int64_t C, int64_t S, int64_t ld, const T* g, const T* x, const T* center, const T* a_,
                const T* b_, const T* k_, T* dx) {
    for (int64_t a = 0; a < A; ++a) {
        if (S == 1) {
            const int64_t r = a * ld;
            for (int64_t c = 0; c < C; ++c) dx[r + c] = a_[c] * g[r + c] + b_[c] * (x[r + c] - center[c]) + k_[c];
            continue;
        }
        for (int64_t c = 0; c < C; ++c) {
            const int64_t r = a * ld + c * S;
            const T m = center[c], ca = a_[c], cb = b_[c], ck = k_[c];
            for (int64_t s = 0; s < S; ++s) dx[r + s] = ca * g[r + s] + cb * (x[r + s] - m) + ck;
        }
    }
}

template <typename T>
void layer_forward(int64_t M, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, double* mean,
                   double* rstd) {
    for (int64_t m = 0; m < M; ++m) {
        const T* xr = x + m * D;
        T* yr = y + m * D;
        Sums acc;
        add_shifted(acc, xr, D, double(xr[0]));
        double var = 0;
        finish_moments(double(xr[0]), acc.total1(), acc.total2(), double(D), mean[m], var);
        rstd[m] = 1.0 / std::sqrt(var + eps);
        const T mu = T(mean[m]), r = T(rstd[m]);
        if (w && b) for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - mu) * r * w[d] + b[d];
        else if (w) for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - mu) * r * w[d];
        else if (b) for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - mu) * r + b[d];
        else for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - mu) * r;
    }
}

// dx = r wg - r Σwg / D - (x - μ) r³ Σ(wg (x - μ)) / D
template <typename T>
void layer_backward(int64_t M, int64_t D, const T* g, const T* x, const T* w, const double* mean, const double* rstd,
                    T* dx) {
    for (int64_t m = 0; m < M; ++m) {
        const int64_t row = m * D;
        Sums acc;
        if (w) add_grad<true>(acc, g + row, x + row, w, D, mean[m]);
        else add_grad<false>(acc, g + row, x + row, w, D, mean[m]);
        const double r = rstd[m];
        const T mu = T(mean[m]), ca = T(r), cb = T(-r * r * r * acc.total2() / double(D)),
                ck = T(-r * acc.total1() / double(D));
        if (w) for (int64_t d = 0; d < D; ++d) dx[row + d] = ca * (w[d] * g[row + d]) + cb * (x[row + d] - mu) + ck;
        else for (int64_t d = 0; d < D; ++d) dx[row + d] = ca * g[row + d] + cb * (x[row + d] - mu) + ck;
    }
}

// Rows are streamed in order (contiguous reads the prefetcher follows), each
// adding into per-column double accumulators that stay in L1; walking a narrow
// column tile down the rows instead jumps a whole row per step.
template <typename T>
void layer_param_grads(int64_t M, int64_t D, int64_t ld, const T* g, const T* x, const double* mean,
                       const double* rstd, T* dw, T* db) {
    std::vector<double> sw(size_t(std::min(D, kColumnBlock))), sb(sw.size());
    for (int64_t d0 = 0; d0 < D; d0 += kColumnBlock) {
        const int64_t w = std::min(kColumnBlock, D - d0);
        std::fill(sw.begin(), sw.end(), 0.0);
        std::fill(sb.begin(), sb.end(), 0.0);
        double* pw = sw.data();
        double* pb = sb.data();
        for (int64_t m = 0; m < M; ++m) {
            const T* gr = g + m * ld + d0;
            const T* xr = x + m * ld + d0;
            const double mu = mean[m], r = rstd[m];
            for (int64_t d = 0; d < w; ++d) {
                pw[d] += double(gr[d]) * ((double(xr[d]) - mu) * r);
                pb[d] += double(gr[d]);
            }
        }
        for (int64_t d = 0; d < w; ++d) {
            if (dw) dw[d0 + d] = T(pw[d]);
            if (db) db[d0 + d] = T(pb[d]);
        }
    }
}

}  // namespace

template <typename T>
NormKernels<T> norm_kernels() {
    return {&moments<T>,       &affine<T>,         &grad_sums<T>,        &grad_apply<T>,
            &layer_forward<T>, &layer_backward<T>, &layer_param_grads<T>};
}

template NormKernels<float> norm_kernels<float>();
template NormKernels<double> norm_kernels<double>();

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
