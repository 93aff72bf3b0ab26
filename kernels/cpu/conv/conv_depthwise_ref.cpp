// The scalar reference of the depthwise convolution (conv_depthwise.h): plain
// loops over every geometry, with bounds checks instead of padding. It is the
// truth the SIMD kernels are tested against and the path for depthwise
// geometries they do not take (dilation, 7x7, unequal strides). Planes run in
// parallel; the weight gradient sums each channel over the batch in order.
#include <algorithm>
#include <vector>

#include "kernels/cpu/conv/conv_depthwise.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu {

namespace {

// Planes per parallel chunk: about 16K outputs of work each.
int64_t plane_grain(const ConvGeometry& g) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.ho * g.wo)); }

}  // namespace

// y [N, C, Ho, Wo] from x [N, C, H, W] and w [C, 1, kH, kW].
template <typename T>
void conv_depthwise_ref(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
    parallel_for(0, g.n * g.c, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const int64_t c = plane % g.c;
            const T* xp = x + plane * g.h * g.w;
            const T* wc = w + c * g.kh * g.kw;
            T* yp = y + plane * g.ho * g.wo;
            for (int64_t ho = 0; ho < g.ho; ++ho)
                for (int64_t wo = 0; wo < g.wo; ++wo) {
                    T acc = bias ? bias[c] : T(0);
                    for (int64_t i = 0; i < g.kh; ++i) {
                        const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                        if (h < 0 || h >= g.h) continue;
                        for (int64_t j = 0; j < g.kw; ++j) {
                            const int64_t wi = wo * g.stride_w - g.pad_left + j * g.dil_w;
                            if (wi >= 0 && wi < g.w) acc += wc[i * g.kw + j] * xp[h * g.w + wi];
                        }
                    }
                    yp[ho * g.wo + wo] = acc;
                }
        }
    });
}

// dx [N, C, H, W]: each output gradient is scattered back to the inputs it read.
template <typename T>
void conv_depthwise_backward_input_ref(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    parallel_for(0, g.n * g.c, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const int64_t c = plane % g.c;
            const T* dyp = dy + plane * g.ho * g.wo;
            const T* wc = w + c * g.kh * g.kw;
            T* dxp = dx + plane * g.h * g.w;
            std::fill(dxp, dxp + g.h * g.w, T(0));
            for (int64_t ho = 0; ho < g.ho; ++ho)
                for (int64_t wo = 0; wo < g.wo; ++wo) {
                    const T d = dyp[ho * g.wo + wo];
                    for (int64_t i = 0; i < g.kh; ++i) {
                        const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                        if (h < 0 || h >= g.h) continue;
                        for (int64_t j = 0; j < g.kw; ++j) {
                            const int64_t wi = wo * g.stride_w - g.pad_left + j * g.dil_w;
                            if (wi >= 0 && wi < g.w) dxp[h * g.w + wi] += wc[i * g.kw + j] * d;
                        }
                    }
                }
        }
    });
}

// dw [C, 1, kH, kW]: one channel per task, the batch summed in order.
template <typename T>
void conv_depthwise_backward_weight_ref(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
    parallel_for(0, g.c, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
            T* dwc = dw + c * g.kh * g.kw;
            std::fill(dwc, dwc + g.kh * g.kw, T(0));
            for (int64_t n = 0; n < g.n; ++n) {
                const T* xp = x + (n * g.c + c) * g.h * g.w;
                const T* dyp = dy + (n * g.c + c) * g.ho * g.wo;
                for (int64_t i = 0; i < g.kh; ++i)
                    for (int64_t j = 0; j < g.kw; ++j) {
                        T acc = 0;
                        for (int64_t ho = 0; ho < g.ho; ++ho) {
                            const int64_t h = ho * g.stride_h - g.pad_top + i * g.dil_h;
                            if (h < 0 || h >= g.h) continue;
                            for (int64_t wo = 0; wo < g.wo; ++wo) {
                                const int64_t wi = wo * g.stride_w - g.pad_left + j * g.dil_w;
                                if (wi >= 0 && wi < g.w) acc += dyp[ho * g.wo + wo] * xp[h * g.w + wi];
                            }
                        }
                        dwc[i * g.kw + j] += acc;
                    }
            }
        }
    });
}

template void conv_depthwise_ref<float>(const ConvGeometry&, const float*, const float*, const float*, float*);
template void conv_depthwise_ref<double>(const ConvGeometry&, const double*, const double*, const double*, double*);
template void conv_depthwise_backward_input_ref<float>(const ConvGeometry&, const float*, const float*, float*);
template void conv_depthwise_backward_input_ref<double>(const ConvGeometry&, const double*, const double*, double*);
template void conv_depthwise_backward_weight_ref<float>(const ConvGeometry&, const float*, const float*, float*);
template void conv_depthwise_backward_weight_ref<double>(const ConvGeometry&, const double*, const double*, double*);

}  // namespace graft::kernels::cpu
