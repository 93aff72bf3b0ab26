// The reference softmax: one (o, i) row at a time, plain loops, std::exp.
// Shapes and layout as in softmax.h.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/softmax/softmax.h"

namespace graft::kernels::cpu {

template <typename T>
void softmax_forward_ref(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* x, T* y, bool log) {
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            const T* xr = x + o * n * ld + i;  // row element j at xr[j*ld]
            T* yr = y + o * n * ld + i;
            T mx = -std::numeric_limits<T>::infinity();
            bool nan = false;
            for (int64_t j = 0; j < n; ++j) {
                nan = nan || std::isnan(xr[j * ld]);
                mx = std::max(mx, xr[j * ld]);
            }
            if (nan) mx = std::numeric_limits<T>::quiet_NaN();
            T sum = 0;
            for (int64_t j = 0; j < n; ++j) sum += std::exp(xr[j * ld] - mx);
            for (int64_t j = 0; j < n; ++j)
                yr[j * ld] = log ? xr[j * ld] - mx - std::log(sum) : std::exp(xr[j * ld] - mx) / sum;
        }
}

template <typename T>
void softmax_backward_ref(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* y, const T* g, T* dx,
                          bool log) {
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            const int64_t base = o * n * ld + i;
            T dot = 0;  // sum(g*y) for softmax, sum(g) for log_softmax
            for (int64_t j = 0; j < n; ++j) dot += log ? g[base + j * ld] : g[base + j * ld] * y[base + j * ld];
            for (int64_t j = 0; j < n; ++j) {
                const int64_t e = base + j * ld;
                dx[e] = log ? g[e] - std::exp(y[e]) * dot : y[e] * (g[e] - dot);
            }
        }
}

template void softmax_forward_ref<float>(int64_t, int64_t, int64_t, int64_t, const float*, float*, bool);
template void softmax_forward_ref<double>(int64_t, int64_t, int64_t, int64_t, const double*, double*, bool);
template void softmax_backward_ref<float>(int64_t, int64_t, int64_t, int64_t, const float*, const float*, float*,
                                          bool);
template void softmax_backward_ref<double>(int64_t, int64_t, int64_t, int64_t, const double*, const double*,
                                           double*, bool);

}  // namespace graft::kernels::cpu
