// The fast softmax bodies, included once per ISA level inside namespace
// GRAFT_ISA_NAMESPACE (softmax_dispatch.cpp: baseline x86-64, softmax_avx2.cpp,
// softmax_avx512.cpp). Contiguous float rows run on explicit 16-lane vectors
// with a polynomial exp; double rows and the strided case (whole inner tiles
// at a time) are loops shaped for the compiler's vectoriser, double keeping
// std::exp. Sums use fixed lanes. Layout and formulas: softmax.h.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/cpu/softmax/softmax.h"

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

namespace {

constexpr int kLanes = 16;   // partial sums along a contiguous row
constexpr int64_t kTile = 64;  // inner columns handled together in the strided case

// The widest float vector of this file's ISA level (its compile flags), as a
// GCC/Clang vector type so the compiler emits this level's instructions
// without intrinsics. Contiguous rows go 16 floats at a time, kPer16 vectors,
// with one accumulator per float position: the summation order is the same
// at every level.
#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif
using FloatVec = float __attribute__((vector_size(kVecBytes)));
using IntVec = int32_t __attribute__((vector_size(kVecBytes)));
constexpr int kWidth = kVecBytes / 4, kPer16 = 16 / kWidth;

inline int32_t to_int(float k) { return int32_t(k); }
inline IntVec to_int(FloatVec k) { return __builtin_convertvector(k, IntVec); }

inline FloatVec load(const float* p) {
    FloatVec v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}
inline void store(float* p, FloatVec v) { std::memcpy(p, &v, sizeof(v)); }

// exp(x) for float (F = float or FloatVec) as Cephes expf: x = k ln2 + r,
// |r| <= ln2/2, exp(r) by a polynomial, 2^k built in the exponent bits. About
// 1 ulp; 0 below the smallest normal result, NaN stays NaN; inputs above 88
// are taken as 88 (softmax only needs x <= 0). Branch-free.
template <typename F>
inline F exp_poly(F x) {
    const F lo = F{} + -87.33654f, hi = F{} + 88.0f, zero = F{};
    F xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    const F k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
    F r = xc - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    F p = zero + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const auto e = (to_int(k == k ? k : zero) + 127) << 23;
    F scale;
    std::memcpy(&scale, &e, sizeof(scale));
    return x < lo ? zero : p * scale;
}

template <typename T>
inline T exp_fast(T x) {
    if constexpr (std::is_same_v<T, float>) return exp_poly(x);
    else return std::exp(x);
}

template <typename T>
T row_max(int64_t n, const T* x) {
    T m[kLanes];
    std::fill(m, m + kLanes, -std::numeric_limits<T>::infinity());
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
    for (; j < n; ++j) m[0] = x[j] > m[0] ? x[j] : m[0];
    T mx = m[0];
    for (int l = 1; l < kLanes; ++l) mx = m[l] > mx ? m[l] : mx;
    return mx;
}

inline float row_max(int64_t n, const float* x) {
    FloatVec m[kPer16];
    for (FloatVec& v : m) v = FloatVec{} - std::numeric_limits<float>::infinity();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int v = 0; v < kPer16; ++v) {
            const FloatVec xv = load(x + j + v * kWidth);
            m[v] = xv > m[v] ? xv : m[v];
        }
    float mx = -std::numeric_limits<float>::infinity();
    for (int v = 0; v < kPer16; ++v)
        for (int l = 0; l < kWidth; ++l) mx = m[v][l] > mx ? m[v][l] : mx;
    for (; j < n; ++j) mx = x[j] > mx ? x[j] : mx;
    return mx;
}

// sum(exp(x - mx)) over a contiguous row in lanes, storing each exp into y
// when Store is set (softmax) and only summing otherwise (log_softmax).
template <bool Store, typename T>
T row_exp_sum(int64_t n, const T* x, T mx, T* y) {
    T s[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const T e = exp_fast(x[j + l] - mx);
            if constexpr (Store) y[j + l] = e;
            s[l] += e;
        }
    T rest = 0;
    for (; j < n; ++j) {
        const T e = exp_fast(x[j] - mx);
        if constexpr (Store) y[j] = e;
        rest += e;
    }
    T sum = 0;
    for (int l = 0; l < kLanes; ++l) sum += s[l];
    return sum + rest;
}

template <bool Store>
float row_exp_sum(int64_t n, const float* x, float mx, float* y) {
    FloatVec s[kPer16] = {};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int v = 0; v < kPer16; ++v) {
            const FloatVec e = exp_poly(load(x + j + v * kWidth) - mx);
            if constexpr (Store) store(y + j + v * kWidth, e);
            s[v] += e;
        }
    float rest = 0;
    for (; j < n; ++j) {
        const float e = exp_poly(x[j] - mx);
        if constexpr (Store) y[j] = e;
        rest += e;
    }
    float sum = 0;
    for (int v = 0; v < kPer16; ++v)
        for (int l = 0; l < kWidth; ++l) sum += s[v][l];
    return sum + rest;
}

// dx = g - exp(y) * sum_g along a contiguous row (log_softmax backward).
template <typename T>
void row_log_backward(int64_t n, const T* y, const T* g, T* dx, T sum_g) {
    for (int64_t j = 0; j < n; ++j) dx[j] = g[j] - exp_fast(y[j]) * sum_g;
}

inline void row_log_backward(int64_t n, const float* y, const float* g, float* dx, float sum_g) {
    int64_t j = 0;
    for (; j + kWidth <= n; j += kWidth) store(dx + j, load(g + j) - exp_poly(load(y + j)) * sum_g);
    for (; j < n; ++j) dx[j] = g[j] - exp_poly(y[j]) * sum_g;
}

// One contiguous row [n]. A NaN never wins the max, but its exp makes the sum
// and so the whole row NaN, as it should.
template <typename T>
void row_forward(int64_t n, const T* x, T* y, bool log) {
    const T mx = row_max(n, x);
    if (log) {  // (x - max) - log sum: adding log sum to a large max first would round it away
        const T log_sum = std::log(row_exp_sum<false>(n, x, mx, y));
        for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mx) - log_sum;
    } else {
        const T inv = T(1) / row_exp_sum<true>(n, x, mx, y);
        for (int64_t i = 0; i < n; ++i) y[i] *= inv;
    }
}

// A tile of w <= kTile columns, element (j, i) at j*ld + i: each column is one
// softmax, the loops run along i so they vectorise.
template <typename T>
void tile_forward(int64_t n, int64_t w, int64_t ld, const T* x, T* y, bool log) {
    T m[kTile], s[kTile];
    std::fill(m, m + w, -std::numeric_limits<T>::infinity());
    std::fill(s, s + w, T(0));
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < w; ++i) m[i] = x[j * ld + i] > m[i] ? x[j * ld + i] : m[i];
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < w; ++i) {
            const T e = exp_fast(x[j * ld + i] - m[i]);
            if (!log) y[j * ld + i] = e;
            s[i] += e;
        }
    for (int64_t i = 0; i < w; ++i) s[i] = log ? std::log(s[i]) : T(1) / s[i];
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < w; ++i)
            y[j * ld + i] = log ? (x[j * ld + i] - m[i]) - s[i] : y[j * ld + i] * s[i];
}

// The float tile on vectors: columns [0, nv*kWidth) as nv vectors per row,
// the few columns left over by the generic loop.
inline void tile_forward(int64_t n, int64_t w, int64_t ld, const float* x, float* y, bool log) {
    const int64_t nv = w / kWidth;
    FloatVec m[kTile / 4], s[kTile / 4];
    for (int64_t v = 0; v < nv; ++v) {
        m[v] = FloatVec{} - std::numeric_limits<float>::infinity();
        s[v] = FloatVec{};
    }
    for (int64_t j = 0; j < n; ++j)
        for (int64_t v = 0; v < nv; ++v) {
            const FloatVec xv = load(x + j * ld + v * kWidth);
            m[v] = xv > m[v] ? xv : m[v];
        }
    for (int64_t j = 0; j < n; ++j)
        for (int64_t v = 0; v < nv; ++v) {
            const FloatVec e = exp_poly(load(x + j * ld + v * kWidth) - m[v]);
            if (!log) store(y + j * ld + v * kWidth, e);
            s[v] += e;
        }
    for (int64_t v = 0; v < nv; ++v)
        for (int l = 0; l < kWidth; ++l) s[v][l] = log ? std::log(s[v][l]) : 1.0f / s[v][l];
    for (int64_t j = 0; j < n; ++j)
        for (int64_t v = 0; v < nv; ++v) {
            float* yv = y + j * ld + v * kWidth;
            store(yv, log ? (load(x + j * ld + v * kWidth) - m[v]) - s[v] : load(yv) * s[v]);
        }
    if (nv * kWidth < w) tile_forward<float>(n, w - nv * kWidth, ld, x + nv * kWidth, y + nv * kWidth, log);
}

// sum(g*y) (softmax) or sum(g) (log_softmax) along a contiguous row, in lanes.
template <typename T>
T row_dot(int64_t n, const T* y, const T* g, bool log) {
    T s[kLanes] = {};
    T rest = 0;
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) s[l] += log ? g[j + l] : g[j + l] * y[j + l];
    for (; j < n; ++j) rest += log ? g[j] : g[j] * y[j];
    T sum = 0;
    for (int l = 0; l < kLanes; ++l) sum += s[l];
    return sum + rest;
}

template <typename T>
void row_backward(int64_t n, const T* y, const T* g, T* dx, bool log) {
    const T dot = row_dot(n, y, g, log);
    if (log)
        row_log_backward(n, y, g, dx, dot);
    else
        for (int64_t j = 0; j < n; ++j) dx[j] = y[j] * (g[j] - dot);
}

template <typename T>
void tile_backward(int64_t n, int64_t w, int64_t ld, const T* y, const T* g, T* dx, bool log) {
    T dot[kTile];
    std::fill(dot, dot + w, T(0));
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < w; ++i) dot[i] += log ? g[j * ld + i] : g[j * ld + i] * y[j * ld + i];
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < w; ++i) {
            const int64_t e = j * ld + i;
            dx[e] = log ? g[e] - exp_fast(y[e]) * dot[i] : y[e] * (g[e] - dot[i]);
        }
}

inline void tile_backward(int64_t n, int64_t w, int64_t ld, const float* y, const float* g, float* dx, bool log) {
    const int64_t nv = w / kWidth;
    FloatVec dot[kTile / 4];
    for (int64_t v = 0; v < nv; ++v) dot[v] = FloatVec{};
    for (int64_t j = 0; j < n; ++j)
        for (int64_t v = 0; v < nv; ++v) {
            const int64_t e = j * ld + v * kWidth;
            dot[v] += log ? load(g + e) : load(g + e) * load(y + e);
        }
    for (int64_t j = 0; j < n; ++j)
        for (int64_t v = 0; v < nv; ++v) {
            const int64_t e = j * ld + v * kWidth;
            const FloatVec yv = load(y + e), gv = load(g + e);
            store(dx + e, log ? gv - exp_poly(yv) * dot[v] : yv * (gv - dot[v]));
        }
    if (nv * kWidth < w)
        tile_backward<float>(n, w - nv * kWidth, ld, y + nv * kWidth, g + nv * kWidth, dx + nv * kWidth, log);
}

}  // namespace

template <typename T>
void softmax_forward(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* x, T* y, bool log) {
    for (int64_t o = 0; o < outer; ++o) {
        const int64_t base = o * n * ld;
        if (inner == 1 && ld == 1) {
            row_forward(n, x + base, y + base, log);
            continue;
        }
        for (int64_t i0 = 0; i0 < inner; i0 += kTile)
            tile_forward(n, std::min(kTile, inner - i0), ld, x + base + i0, y + base + i0, log);
    }
}

template <typename T>
void softmax_backward(int64_t outer, int64_t n, int64_t inner, int64_t ld, const T* y, const T* g, T* dx, bool log) {
    for (int64_t o = 0; o < outer; ++o) {
        const int64_t base = o * n * ld;
        if (inner == 1 && ld == 1) {
            row_backward(n, y + base, g + base, dx + base, log);
            continue;
        }
        for (int64_t i0 = 0; i0 < inner; i0 += kTile)
            tile_backward(n, std::min(kTile, inner - i0), ld, y + base + i0, g + base + i0, dx + base + i0, log);
    }
}

template void softmax_forward<float>(int64_t, int64_t, int64_t, int64_t, const float*, float*, bool);
template void softmax_forward<double>(int64_t, int64_t, int64_t, int64_t, const double*, double*, bool);
template void softmax_backward<float>(int64_t, int64_t, int64_t, int64_t, const float*, const float*, float*, bool);
template void softmax_backward<double>(int64_t, int64_t, int64_t, int64_t, const double*, const double*, double*,
                                       bool);

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
