// The body of the SIMD depthwise kernels (conv_depthwise.h), included once per
// ISA level inside namespace GRAFT_ISA_NAMESPACE by conv_depthwise_<isa>.cpp.
// Vectors are GCC vector types as wide as the level's registers (16, 32 or 64
// bytes), so the same source becomes SSE2, AVX2 or AVX-512 code.
//
// Layout trick: a plane x [H, W] is copied into a zero-padded scratch plane of
// R = (Ho-1)*S + K rows, split into S column phases of PW columns each:
//
//   xph[p][r][m] = xpad[r][m*S + p],   xpad[r][q] = x[r - pt][q - pl] (0 outside)
//
// so tap (i, j) of output column wo reads xph[j % S][ho*S + i][wo + j / S]:
// consecutive wo are consecutive in memory for either stride. Planes narrower
// than a vector use channels as lanes instead (conv_depthwise_cblock.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "kernels/cpu/conv/conv_depthwise.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX2__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif

template <typename T>
struct Simd {
    static constexpr int64_t L = kVecBytes / int64_t(sizeof(T));
    typedef T V __attribute__((vector_size(kVecBytes)));
    static V load(const T* p) { V v; std::memcpy(&v, p, sizeof(V)); return v; }
    static void store(T* p, V v) { std::memcpy(p, &v, sizeof(V)); }
    static V set1(T s) {
        V v;
        for (int64_t l = 0; l < L; ++l) v[l] = s;
        return v;
    }
    // a*b + c, one fused instruction where the level has FMA. (ISO C++ builds do
    // not contract a*b + c, and a lane loop of std::fma is not vectorised.)
    static V fmadd(V a, V b, V c) {
#if defined(__AVX512F__)
        if constexpr (std::is_same_v<T, float>) return (V)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
        else return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(__FMA__)
        if constexpr (std::is_same_v<T, float>) return (V)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
        else return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#else
        return a * b + c;
#endif
    }
    // Stores the first n lanes (n < L) of v.
    static void store_part(T* p, V v, int64_t n) {
        T tmp[L];
        std::memcpy(tmp, &v, sizeof(V));
        std::memcpy(p, tmp, size_t(n) * sizeof(T));
    }
};

template <typename T>
T* scratch(int slot, int64_t count) {
    thread_local std::vector<T> buffers[3];
    std::vector<T>& b = buffers[slot];
    if (int64_t(b.size()) < count) b.resize(size_t(count));
    return b.data();
}

inline int64_t round_up(int64_t v, int64_t unit) { return (v + unit - 1) / unit * unit; }

constexpr int64_t kUnroll = 2;  // output vectors per step along a row (then single vectors for the rest)

// Calls step.template operator()<U>(m0) over [0, round_up(width, L)): steps of
// kUnroll vectors while they fit, then one vector at a time.
template <int64_t L, typename Step>
void along_row(int64_t width, Step&& step) {
    const int64_t end = round_up(width, L);
    int64_t m0 = 0;
    for (; m0 + L * kUnroll <= end; m0 += L * kUnroll) step.template operator()<kUnroll>(m0);
    for (; m0 < end; m0 += L) step.template operator()<1>(m0);
}

// The phase-split padded plane of one image plane (see above).
template <typename T, int K, int S>
struct PhasePlane {
    int64_t rows, width;  // R and PW
    T* data;
    PhasePlane(const ConvGeometry& g, int slot) {
        rows = (g.ho - 1) * S + K;
        width = round_up(g.wo, Simd<T>::L) + (K - 1) / S + 1;
        data = scratch<T>(slot, S * rows * width);
    }
    const T* row(int64_t phase, int64_t r) const { return data + (phase * rows + r) * width; }

    void fill(const ConvGeometry& g, const T* x) {
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t h = r - g.pad_top;
            for (int64_t p = 0; p < S; ++p) {
                T* dst = data + (p * rows + r) * width;
                if (h < 0 || h >= g.h) {
                    std::fill(dst, dst + width, T(0));
                    continue;
                }
                // Columns m whose padded column m*S + p - pl lies inside the image.
                const int64_t first = std::clamp<int64_t>((g.pad_left - p + S - 1) / S, 0, width);
                const int64_t last = g.w - 1 + g.pad_left - p < 0
                                         ? 0 : std::clamp<int64_t>((g.w - 1 + g.pad_left - p) / S + 1, first, width);
                const T* src = x + h * g.w + p - g.pad_left;
                std::fill(dst, dst + first, T(0));
                for (int64_t m = first; m < last; ++m) dst[m] = src[m * S];
                std::fill(dst + last, dst + width, T(0));
            }
        }
    }
};

// One plane: y [Ho, Wo] = bias + depthwise(x [H, W], w [K, K]).
template <typename T, int K, int S>
void forward_plane(const ConvGeometry& g, const PhasePlane<T, K, S>& xp, const T* w, T bias, T* y) {
    using S_ = Simd<T>;
    using V = typename S_::V;
    constexpr int64_t L = S_::L;
    V wv[K * K];
    for (int t = 0; t < K * K; ++t) wv[t] = S_::set1(w[t]);
    for (int64_t ho = 0; ho < g.ho; ++ho) {
        T* yr = y + ho * g.wo;
        along_row<L>(g.wo, [&]<int64_t U>(int64_t m0) {
            V acc[U];
            for (int64_t u = 0; u < U; ++u) acc[u] = S_::set1(bias);
            for (int i = 0; i < K; ++i)
                for (int j = 0; j < K; ++j) {
                    const T* src = xp.row(j % S, ho * S + i) + j / S + m0;
                    for (int64_t u = 0; u < U; ++u) acc[u] = S_::fmadd(wv[i * K + j], S_::load(src + u * L), acc[u]);
                }
            for (int64_t u = 0; u < U; ++u) {
                const int64_t col = m0 + u * L;
                if (col + L <= g.wo) S_::store(yr + col, acc[u]);
                else if (col < g.wo) S_::store_part(yr + col, acc[u], g.wo - col);
            }
        });
    }
}

// Phase P of one dx row in phase space: out[m] = sum over the kernel rows i
// that reach this row (their dy rows in src[v], weights in wrow[v]) and the
// taps j = P (mod S) of w[i][j] * dyrow[m - (j - P)/S].
template <typename T, int K, int S, int P>
void backward_input_phase(int nv, const T* const* src, const typename Simd<T>::V* const* wrow, int64_t mp, T* out) {
    using S_ = Simd<T>;
    using V = typename S_::V;
    constexpr int64_t L = S_::L;
    along_row<L>(mp, [&]<int64_t U>(int64_t m0) {
        V acc[U] = {};
        for (int v = 0; v < nv; ++v)
            for (int j = P; j < K; j += S)
                for (int64_t u = 0; u < U; ++u)
                    acc[u] = S_::fmadd(wrow[v][j], S_::load(src[v] + m0 - (j - P) / S + u * L), acc[u]);
        for (int64_t u = 0; u < U; ++u) S_::store(out + m0 + u * L, acc[u]);
    });
}

// One plane of dx [H, W] from dy [Ho, Wo], gathered in phase space: padded
// column q = m*S + p of row r receives w[i][j] * dy[(r-i)/S][m - (j-p)/S] for
// every i with (r - i) divisible by S and every j = p (mod S).
template <typename T, int K, int S>
void backward_input_plane(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    using S_ = Simd<T>;
    using V = typename S_::V;
    constexpr int64_t L = S_::L;
    constexpr int64_t PL = (K - 1) / S;  // largest column shift m - wo
    const int64_t mp = round_up((g.pad_left + g.w - 1) / S + 1, L);
    const int64_t dw_ = PL + mp + L;  // padded dy row: PL zeros, dy, zeros
    T* dyp = scratch<T>(1, g.ho * dw_);
    T* row = scratch<T>(2, S * mp);
    for (int64_t ho = 0; ho < g.ho; ++ho) {
        T* d = dyp + ho * dw_;
        std::fill(d, d + PL, T(0));
        std::copy(dy + ho * g.wo, dy + (ho + 1) * g.wo, d + PL);
        std::fill(d + PL + g.wo, d + dw_, T(0));
    }
    V wv[K * K];
    for (int t = 0; t < K * K; ++t) wv[t] = S_::set1(w[t]);
    for (int64_t h = 0; h < g.h; ++h) {
        const int64_t r = h + g.pad_top;
        const T* src[K];
        const V* wrow[K];
        int nv = 0;
        for (int i = 0; i < K; ++i)
            if (r >= i && (r - i) % S == 0 && (r - i) / S < g.ho) src[nv] = dyp + (r - i) / S * dw_ + PL, wrow[nv++] = wv + i * K;
        backward_input_phase<T, K, S, 0>(nv, src, wrow, mp, row);
        T* dxr = dx + h * g.w;
        if constexpr (S == 1) {
            std::copy(row + g.pad_left, row + g.pad_left + g.w, dxr);
        } else {
            backward_input_phase<T, K, S, 1>(nv, src, wrow, mp, row + mp);
            // Interleave the phases back: padded column q = 2m + p is dx column q - pl.
            const T* even = row;
            const T* odd = row + mp;
            T* base = dxr - g.pad_left;  // base[q] is dx column q - pl
            const int64_t q0 = g.pad_left, q1 = g.pad_left + g.w;
            int64_t q = q0;
            if (q & 1) base[q] = odd[q / 2], ++q;
            const int64_t m_end = q1 / 2;  // whole pairs (2m, 2m + 1) below q1
            for (int64_t m = q / 2; m < m_end; ++m) base[2 * m] = even[m], base[2 * m + 1] = odd[m];
            if (q1 & 1) base[q1 - 1] = even[q1 / 2];
        }
    }
}

// dw [K, K] of one channel: sum over the batch (in order) of dy * shifted x.
template <typename T, int K, int S>
void backward_weight_channel(const ConvGeometry& g, int64_t c, const T* x, const T* dy, T* dw) {
    using S_ = Simd<T>;
    using V = typename S_::V;
    constexpr int64_t L = S_::L;
    V acc[K * K] = {};
    T tail[K * K] = {};  // columns past the last full vector, summed in scalar
    const int64_t full = g.wo / L * L;
    PhasePlane<T, K, S> xp(g, 0);
    for (int64_t n = 0; n < g.n; ++n) {
        xp.fill(g, x + (n * g.c + c) * g.h * g.w);
        const T* dyp = dy + (n * g.c + c) * g.ho * g.wo;
        for (int64_t ho = 0; ho < g.ho; ++ho) {
            const T* dyr = dyp + ho * g.wo;
            for (int64_t m0 = 0; m0 < full; m0 += L) {
                const V d = S_::load(dyr + m0);
                for (int i = 0; i < K; ++i)
                    for (int j = 0; j < K; ++j)
                        acc[i * K + j] = S_::fmadd(d, S_::load(xp.row(j % S, ho * S + i) + j / S + m0), acc[i * K + j]);
            }
            for (int64_t m = full; m < g.wo; ++m)
                for (int i = 0; i < K; ++i)
                    for (int j = 0; j < K; ++j) tail[i * K + j] += dyr[m] * xp.row(j % S, ho * S + i)[j / S + m];
        }
    }
    for (int t = 0; t < K * K; ++t) {
        T s = 0;
        for (int64_t l = 0; l < L; ++l) s += acc[t][l];
        dw[t] = s + tail[t];
    }
}

int64_t plane_grain(const ConvGeometry& g) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.ho * g.wo)); }

}  // namespace
}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE

#include "kernels/cpu/conv/conv_depthwise_cblock.h"

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {
namespace {

// Output rows narrower than a vector take the channel-blocked kernels
// (conv_depthwise_cblock.h). (At 14 of 16 lanes the two are close: channel
// blocks won forward+backward at 14x14 stride 1 by ~18%, lost at 28x28 stride 2 by ~7%.)
template <typename T>
bool small_planes(const ConvGeometry& g) { return g.wo < Simd<T>::L; }
template <typename T>
int64_t channel_blocks(const ConvGeometry& g) { return (g.c + Simd<T>::L - 1) / Simd<T>::L; }

template <typename T, int K, int S>
void forward_ks(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
    if (small_planes<T>(g)) {
        const int64_t cb = channel_blocks<T>(g);
        return parallel_for(0, g.n * cb, 1, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; ++t) cblock_forward<T, K, S>(g, t / cb, t % cb * Simd<T>::L, x, w, bias, y);
        });
    }
    parallel_for(0, g.n * g.c, plane_grain(g), [&](int64_t lo, int64_t hi) {
        PhasePlane<T, K, S> xp(g, 0);
        for (int64_t plane = lo; plane < hi; ++plane) {
            const int64_t c = plane % g.c;
            xp.fill(g, x + plane * g.h * g.w);
            forward_plane<T, K, S>(g, xp, w + c * K * K, bias ? bias[c] : T(0), y + plane * g.ho * g.wo);
        }
    });
}

template <typename T, int K, int S>
void backward_input_ks(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    if (small_planes<T>(g)) {
        const int64_t cb = channel_blocks<T>(g);
        return parallel_for(0, g.n * cb, 1, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; ++t) cblock_backward_input<T, K, S>(g, t / cb, t % cb * Simd<T>::L, dy, w, dx);
        });
    }
    parallel_for(0, g.n * g.c, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane)
            backward_input_plane<T, K, S>(g, dy + plane * g.ho * g.wo, w + plane % g.c * K * K, dx + plane * g.h * g.w);
    });
}

template <typename T, int K, int S>
void backward_weight_ks(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
    if (small_planes<T>(g)) {
        return parallel_for(0, channel_blocks<T>(g), 1, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; ++t) cblock_backward_weight<T, K, S>(g, t * Simd<T>::L, x, dy, dw);
        });
    }
    parallel_for(0, g.c, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) backward_weight_channel<T, K, S>(g, c, x, dy, dw + c * K * K);
    });
}

// Calls fn.template operator()<K, S>() for the geometry's kernel size and stride.
template <typename Fn>
void with_ks(const ConvGeometry& g, Fn&& fn) {
    if (g.kh == 3 && g.stride_h == 1) return fn.template operator()<3, 1>();
    if (g.kh == 3 && g.stride_h == 2) return fn.template operator()<3, 2>();
    if (g.kh == 5 && g.stride_h == 1) return fn.template operator()<5, 1>();
    fn.template operator()<5, 2>();
}

}  // namespace

template <typename T>
void depthwise_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
    with_ks(g, [&]<int K, int S>() { forward_ks<T, K, S>(g, x, w, bias, y); });
}
template <typename T>
void depthwise_backward_input(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
    with_ks(g, [&]<int K, int S>() { backward_input_ks<T, K, S>(g, dy, w, dx); });
}
template <typename T>
void depthwise_backward_weight(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
    with_ks(g, [&]<int K, int S>() { backward_weight_ks<T, K, S>(g, x, dy, dw); });
}

template void depthwise_forward<float>(const ConvGeometry&, const float*, const float*, const float*, float*);
template void depthwise_forward<double>(const ConvGeometry&, const double*, const double*, const double*, double*);
template void depthwise_backward_input<float>(const ConvGeometry&, const float*, const float*, float*);
template void depthwise_backward_input<double>(const ConvGeometry&, const double*, const double*, double*);
template void depthwise_backward_weight<float>(const ConvGeometry&, const float*, const float*, float*);
template void depthwise_backward_weight<double>(const ConvGeometry&, const double*, const double*, double*);

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
