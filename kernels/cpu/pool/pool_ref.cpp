// Scalar references of the pooling kernels (pool.h): every window position is
// visited and tested against the image bounds, single-threaded, in the order
// PyTorch's CPU kernels use (so ties and NaNs pick the same index).
#include <cmath>
#include <limits>

#include "kernels/cpu/pool/pool.h"

namespace graft::kernels::cpu {

template <typename T>
void max_pool2d_forward_ref(const PoolGeometry& g, const T* x, T* y, int64_t* idx) {
    for (int64_t pl = 0; pl < g.planes; ++pl)
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                T best = -std::numeric_limits<T>::infinity();
                int64_t best_i = -1;
                for (int64_t i = 0; i < g.kh; ++i)
                    for (int64_t j = 0; j < g.kw; ++j) {
                        const int64_t h = ho * g.stride_h - g.pad_h + i * g.dil_h;
                        const int64_t w = wo * g.stride_w - g.pad_w + j * g.dil_w;
                        if (h < 0 || h >= g.h || w < 0 || w >= g.w) continue;  // padding is -inf
                        const T v = x[pl * g.h * g.w + h * g.w + w];
                        if (v > best || std::isnan(v) || best_i < 0) {
                            best = v;
                            best_i = h * g.w + w;
                        }
                    }
                y[(pl * g.ho + ho) * g.wo + wo] = best;
                idx[(pl * g.ho + ho) * g.wo + wo] = best_i;
            }
}

// The divisor of window (ho, wo) and whether it holds any in-image element.
inline int64_t avg_divisor_ref(const PoolGeometry& g, int64_t ho, int64_t wo, int64_t* inside) {
    int64_t padded = 0, in = 0;
    for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t h = ho * g.stride_h - g.pad_h + i, w = wo * g.stride_w - g.pad_w + j;
            padded += h < g.h + g.pad_h && w < g.w + g.pad_w;  // ceil_mode windows may run past the padding
            in += h >= 0 && h < g.h && w >= 0 && w < g.w;
        }
    *inside = in;
    return g.count_include_pad ? padded : in;
}

template <typename T>
void avg_pool2d_forward_ref(const PoolGeometry& g, const T* x, T* y) {
    for (int64_t pl = 0; pl < g.planes; ++pl)
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                int64_t inside = 0;
                const int64_t div = avg_divisor_ref(g, ho, wo, &inside);
                T sum = 0;
                for (int64_t i = 0; i < g.kh; ++i)
                    for (int64_t j = 0; j < g.kw; ++j) {
                        const int64_t h = ho * g.stride_h - g.pad_h + i, w = wo * g.stride_w - g.pad_w + j;
                        if (h >= 0 && h < g.h && w >= 0 && w < g.w) sum += x[pl * g.h * g.w + h * g.w + w];
                    }
                y[(pl * g.ho + ho) * g.wo + wo] = inside == 0 ? T(0) : sum / T(div);
            }
}

template <typename T>
void avg_pool2d_backward_ref(const PoolGeometry& g, const T* dy, T* dx) {
    for (int64_t k = 0; k < g.planes * g.h * g.w; ++k) dx[k] = 0;
    for (int64_t pl = 0; pl < g.planes; ++pl)
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                int64_t inside = 0;
                const int64_t div = avg_divisor_ref(g, ho, wo, &inside);
                if (inside == 0) continue;
                const T share = dy[(pl * g.ho + ho) * g.wo + wo] / T(div);
                for (int64_t i = 0; i < g.kh; ++i)
                    for (int64_t j = 0; j < g.kw; ++j) {
                        const int64_t h = ho * g.stride_h - g.pad_h + i, w = wo * g.stride_w - g.pad_w + j;
                        if (h >= 0 && h < g.h && w >= 0 && w < g.w) dx[pl * g.h * g.w + h * g.w + w] += share;
                    }
            }
}

template <typename T>
void adaptive_avg_pool2d_forward_ref(const PoolGeometry& g, const T* x, T* y) {
    for (int64_t pl = 0; pl < g.planes; ++pl)
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const int64_t h0 = adaptive_start(ho, g.h, g.ho), h1 = adaptive_end(ho, g.h, g.ho);
                const int64_t w0 = adaptive_start(wo, g.w, g.wo), w1 = adaptive_end(wo, g.w, g.wo);
                T sum = 0;
                for (int64_t h = h0; h < h1; ++h)
                    for (int64_t w = w0; w < w1; ++w) sum += x[pl * g.h * g.w + h * g.w + w];
                y[(pl * g.ho + ho) * g.wo + wo] = sum / T((h1 - h0) * (w1 - w0));
            }
}

template <typename T>
void adaptive_avg_pool2d_backward_ref(const PoolGeometry& g, const T* dy, T* dx) {
    for (int64_t k = 0; k < g.planes * g.h * g.w; ++k) dx[k] = 0;
    for (int64_t pl = 0; pl < g.planes; ++pl)
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const int64_t h0 = adaptive_start(ho, g.h, g.ho), h1 = adaptive_end(ho, g.h, g.ho);
                const int64_t w0 = adaptive_start(wo, g.w, g.wo), w1 = adaptive_end(wo, g.w, g.wo);
                const T share = dy[(pl * g.ho + ho) * g.wo + wo] / T((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; ++h)
                    for (int64_t w = w0; w < w1; ++w) dx[pl * g.h * g.w + h * g.w + w] += share;
            }
}

template void max_pool2d_forward_ref<float>(const PoolGeometry&, const float*, float*, int64_t*);
template void max_pool2d_forward_ref<double>(const PoolGeometry&, const double*, double*, int64_t*);
template void avg_pool2d_forward_ref<float>(const PoolGeometry&, const float*, float*);
template void avg_pool2d_forward_ref<double>(const PoolGeometry&, const double*, double*);
template void avg_pool2d_backward_ref<float>(const PoolGeometry&, const float*, float*);
template void avg_pool2d_backward_ref<double>(const PoolGeometry&, const double*, double*);
template void adaptive_avg_pool2d_forward_ref<float>(const PoolGeometry&, const float*, float*);
template void adaptive_avg_pool2d_forward_ref<double>(const PoolGeometry&, const double*, double*);
template void adaptive_avg_pool2d_backward_ref<float>(const PoolGeometry&, const float*, float*);
template void adaptive_avg_pool2d_backward_ref<double>(const PoolGeometry&, const double*, double*);

}  // namespace graft::kernels::cpu
