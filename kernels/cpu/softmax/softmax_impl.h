// The fast softmax bodies, included once per ISA level inside namespace
// GRAFT_ISA_NAMESPACE (softmax_dispatch.cpp: baseline x86-64, softmax_avx2.cpp,
// softmax_avx512.cpp). Loops are shaped for the compiler's vectoriser: fixed
// lanes for the sums over a contiguous row, and whole inner tiles at a time
// for the strided case. float uses a polynomial exp that vectorises; double
// keeps std::exp. Layout and formulas: softmax.h.
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

// exp(x) for float as Cephes expf: x = k ln2 + r, |r| <= ln2/2, exp(r) by a
// polynomial, 2^k built in the exponent bits. About 1 ulp; 0 below the
// smallest normal result, NaN stays NaN; inputs above 88 are taken as 88
// (softmax only needs x <= 0). Branch-free so it vectorises.
inline float exp_poly(float x) {
    constexpr float lo = -87.33654f, hi = 88.0f;
    const float xc = std::min(std::max(x, lo), hi);
    const float k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
    float r = xc - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t e = (int32_t(k == k ? k : 0.0f) + 127) << 23;
    float scale;
    std::memcpy(&scale, &e, sizeof(scale));
    return x < lo ? 0.0f : p * scale;
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

// One contiguous row [n]. A NaN never wins the max, but its exp makes the sum
// and so the whole row NaN, as it should.
template <typename T>
void row_forward(int64_t n, const T* x, T* y, bool log) {
    const T mx = row_max(n, x);
    T s[kLanes] = {};
    T rest = 0;
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const T e = exp_fast(x[j + l] - mx);
            if (!log) y[j + l] = e;
            s[l] += e;
        }
    for (; j < n; ++j) {
        const T e = exp_fast(x[j] - mx);
        if (!log) y[j] = e;
        rest += e;
    }
    T sum = 0;
    for (int l = 0; l < kLanes; ++l) sum += s[l];
    sum += rest;
    if (log) {  // (x - max) - log sum: adding log sum to a large max first would round it away
        const T log_sum = std::log(sum);
        for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mx) - log_sum;
    } else {
        const T inv = T(1) / sum;
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
        for (int64_t j = 0; j < n; ++j) dx[j] = g[j] - exp_fast(y[j]) * dot;
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
