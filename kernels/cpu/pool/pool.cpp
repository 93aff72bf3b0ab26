// The pooling kernels of pool.h: planes in parallel, each window clipped to the
// image once (no per-element bounds test), visiting elements in the same order
// as the references so max pooling picks the same index on ties and NaNs.
// Backward kernels scatter within their own plane, so planes never race.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/pool/pool.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu {

namespace {

int64_t grain(const PoolGeometry& g) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.h * g.w)); }

// Runs fn(plane) for every plane, in parallel.
template <typename Fn>
void each_plane(const PoolGeometry& g, Fn&& fn) {
    parallel_for(0, g.planes, grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t pl = lo; pl < hi; ++pl) fn(pl);
    });
}

// First in-image tap and one past the last, along one axis: positions start + t*dil.
struct Taps {
    int64_t first, last;
};
Taps clip(int64_t start, int64_t k, int64_t dil, int64_t size) {
    int64_t first = 0;
    if (start < 0) first = (-start + dil - 1) / dil;
    int64_t last = k;
    if (start + (k - 1) * dil >= size) last = size - start <= 0 ? 0 : (size - 1 - start) / dil + 1;
    return {first, std::max(first, last)};
}

// avg pooling window (ho, wo): in-image rows [h0, h1), columns [w0, w1), and the divisor.
struct AvgWindow {
    int64_t h0, h1, w0, w1, div;
};
AvgWindow avg_window(const PoolGeometry& g, int64_t ho, int64_t wo) {
    int64_t h0 = ho * g.stride_h - g.pad_h, w0 = wo * g.stride_w - g.pad_w;
    int64_t h1 = std::min(h0 + g.kh, g.h + g.pad_h), w1 = std::min(w0 + g.kw, g.w + g.pad_w);
    const int64_t padded = (h1 - h0) * (w1 - w0);
    h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
    h1 = std::min(h1, g.h), w1 = std::min(w1, g.w);
    return {h0, h1, w0, w1, g.count_include_pad ? padded : (h1 - h0) * (w1 - w0)};
}

}  // namespace

// The 2x2, stride 2 window without padding (most CNNs' pooling): no clipping,
// four taps in the general loop's order, so results and indices are the same.
template <typename T>
bool max_pool2d_forward_2x2(const PoolGeometry& g, const T* x, T* y, int64_t* idx) {
    if (g.kh != 2 || g.kw != 2 || g.stride_h != 2 || g.stride_w != 2 || g.pad_h != 0 || g.pad_w != 0 ||
        g.dil_h != 1 || g.dil_w != 1 || 2 * g.ho > g.h || 2 * g.wo > g.w)
        return false;
    each_plane(g, [&](int64_t pl) {
        const T* xp = x + pl * g.h * g.w;
        T* yp = y + pl * g.ho * g.wo;
        int64_t* ip = idx + pl * g.ho * g.wo;
        for (int64_t ho = 0; ho < g.ho; ++ho) {
            const int64_t r0 = 2 * ho * g.w, r1 = r0 + g.w;
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const int64_t taps[4] = {r0 + 2 * wo, r0 + 2 * wo + 1, r1 + 2 * wo, r1 + 2 * wo + 1};
                T best = -std::numeric_limits<T>::infinity();
                int64_t best_i = taps[0];
                for (int64_t t : taps) {  // selects, not branches: on real data the max is unpredictable
                    const T v = xp[t];
                    const bool take = (v > best) | (v != v);
                    best = take ? v : best;
                    best_i = take ? t : best_i;
                }
                yp[ho * g.wo + wo] = best;
                ip[ho * g.wo + wo] = best_i;
            }
        }
    });
    return true;
}

template <typename T>
void max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, int64_t* idx) {
    if (max_pool2d_forward_2x2(g, x, y, idx)) return;
    each_plane(g, [&](int64_t pl) {
        const T* xp = x + pl * g.h * g.w;
        for (int64_t ho = 0; ho < g.ho; ++ho) {
            const int64_t hs = ho * g.stride_h - g.pad_h;
            const Taps ti = clip(hs, g.kh, g.dil_h, g.h);
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const int64_t ws = wo * g.stride_w - g.pad_w;
                const Taps tj = clip(ws, g.kw, g.dil_w, g.w);
                T best = -std::numeric_limits<T>::infinity();
                int64_t best_i = (hs + ti.first * g.dil_h) * g.w + ws + tj.first * g.dil_w;
                for (int64_t i = ti.first; i < ti.last; ++i) {
                    const int64_t row = (hs + i * g.dil_h) * g.w + ws;
                    for (int64_t j = tj.first; j < tj.last; ++j) {
                        const T v = xp[row + j * g.dil_w];
                        if (v > best || std::isnan(v)) best = v, best_i = row + j * g.dil_w;
                    }
                }
                y[(pl * g.ho + ho) * g.wo + wo] = best;
                idx[(pl * g.ho + ho) * g.wo + wo] = best_i;
            }
        }
    });
}

template <typename T>
void max_pool2d_backward(const PoolGeometry& g, const T* dy, const int64_t* idx, T* dx) {
    each_plane(g, [&](int64_t pl) {
        T* dxp = dx + pl * g.h * g.w;
        std::fill(dxp, dxp + g.h * g.w, T(0));
        for (int64_t k = pl * g.ho * g.wo; k < (pl + 1) * g.ho * g.wo; ++k)
            if (idx[k] >= 0 && idx[k] < g.h * g.w) dxp[idx[k]] += dy[k];
    });
}

template <typename T>
void avg_pool2d_forward(const PoolGeometry& g, const T* x, T* y) {
    each_plane(g, [&](int64_t pl) {
        const T* xp = x + pl * g.h * g.w;
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const AvgWindow a = avg_window(g, ho, wo);
                T sum = 0;
                for (int64_t h = a.h0; h < a.h1; ++h)
                    for (int64_t w = a.w0; w < a.w1; ++w) sum += xp[h * g.w + w];
                const bool empty = a.h0 >= a.h1 || a.w0 >= a.w1;
                y[(pl * g.ho + ho) * g.wo + wo] = empty ? T(0) : sum / T(a.div);
            }
    });
}

template <typename T>
void avg_pool2d_backward(const PoolGeometry& g, const T* dy, T* dx) {
    each_plane(g, [&](int64_t pl) {
        T* dxp = dx + pl * g.h * g.w;
        std::fill(dxp, dxp + g.h * g.w, T(0));
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const AvgWindow a = avg_window(g, ho, wo);
                if (a.h0 >= a.h1 || a.w0 >= a.w1) continue;
                const T share = dy[(pl * g.ho + ho) * g.wo + wo] / T(a.div);
                for (int64_t h = a.h0; h < a.h1; ++h)
                    for (int64_t w = a.w0; w < a.w1; ++w) dxp[h * g.w + w] += share;
            }
    });
}

template <typename T>
void adaptive_avg_pool2d_forward(const PoolGeometry& g, const T* x, T* y) {
    each_plane(g, [&](int64_t pl) {
        const T* xp = x + pl * g.h * g.w;
        for (int64_t ho = 0; ho < g.ho; ++ho) {
            const int64_t h0 = adaptive_start(ho, g.h, g.ho), h1 = adaptive_end(ho, g.h, g.ho);
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const int64_t w0 = adaptive_start(wo, g.w, g.wo), w1 = adaptive_end(wo, g.w, g.wo);
                T sum = 0;
                for (int64_t h = h0; h < h1; ++h)
                    for (int64_t w = w0; w < w1; ++w) sum += xp[h * g.w + w];
                y[(pl * g.ho + ho) * g.wo + wo] = sum / T((h1 - h0) * (w1 - w0));
            }
        }
    });
}

template <typename T>
void adaptive_avg_pool2d_backward(const PoolGeometry& g, const T* dy, T* dx) {
    each_plane(g, [&](int64_t pl) {
        T* dxp = dx + pl * g.h * g.w;
        std::fill(dxp, dxp + g.h * g.w, T(0));
        for (int64_t ho = 0; ho < g.ho; ++ho) {
            const int64_t h0 = adaptive_start(ho, g.h, g.ho), h1 = adaptive_end(ho, g.h, g.ho);
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const int64_t w0 = adaptive_start(wo, g.w, g.wo), w1 = adaptive_end(wo, g.w, g.wo);
                const T share = dy[(pl * g.ho + ho) * g.wo + wo] / T((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; ++h)
                    for (int64_t w = w0; w < w1; ++w) dxp[h * g.w + w] += share;
            }
        }
    });
}

template void max_pool2d_forward<float>(const PoolGeometry&, const float*, float*, int64_t*);
template void max_pool2d_forward<double>(const PoolGeometry&, const double*, double*, int64_t*);
template void max_pool2d_backward<float>(const PoolGeometry&, const float*, const int64_t*, float*);
template void max_pool2d_backward<double>(const PoolGeometry&, const double*, const int64_t*, double*);
template void avg_pool2d_forward<float>(const PoolGeometry&, const float*, float*);
template void avg_pool2d_forward<double>(const PoolGeometry&, const double*, double*);
template void avg_pool2d_backward<float>(const PoolGeometry&, const float*, float*);
template void avg_pool2d_backward<double>(const PoolGeometry&, const double*, double*);
template void adaptive_avg_pool2d_forward<float>(const PoolGeometry&, const float*, float*);
template void adaptive_avg_pool2d_forward<double>(const PoolGeometry&, const double*, double*);
template void adaptive_avg_pool2d_backward<float>(const PoolGeometry&, const float*, float*);
template void adaptive_avg_pool2d_backward<double>(const PoolGeometry&, const double*, double*);

}  // namespace graft::kernels::cpu
