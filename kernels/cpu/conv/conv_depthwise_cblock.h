// Depthwise kernels for small planes (output rows narrower than one vector, as
// the 7x7 and 14x14 layers of MobileNet), included by conv_depthwise_impl.h inside
// its ISA namespace after Simd, scratch and round_up. Row vectors would leave
// most lanes idle there, so these put L channels side by side in the lanes
// instead (the blocked layout oneDNN calls nChw16c), built per block of
// channels in a scratch buffer:
//
//   xb [R][Wp][L]   xb[r][q][l] = x[n, c0 + l, r - pt, q - pl] (0 outside), R = (Ho-1)*S + K, Wp = (Wo-1)*S + K
//   y[n, c0 + l, ho, wo] = bias + sum_{i,j} wb[i][j][l] * xb[ho*S + i][wo*S + j][l]
//
// Every tap is one full-width FMA; the cost moves to the transposes in and out,
// which touch each element once. Channels past C in the last block are zero lanes.
#pragma once

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

namespace {

// Channel planes <-> lanes. planes_to_lanes writes, for each position (h, w)
// of planes [nc][H, W], the L lanes (channel l in lane l, zero past nc) to
// dst(h, w), or skips it when dst is null; lanes_to_planes is the inverse,
// reading the lanes of (h, w) from src(h, w) (null: zeros). With AVX-512 float, 16 positions at a
// time go through an in-register 16 x 16 transpose; otherwise one element at a time.
#if defined(__AVX512F__)
// idx[s][half]: the permutexvar indices of butterfly stage s (1, 2, 4, 8): rows i and
// i + s swap the elements whose column has bit s set (lo) or clear (hi).
struct TransposeIndex {
    int32_t idx[4][2][16];
    constexpr TransposeIndex() : idx() {
        for (int st = 0; st < 4; ++st)
            for (int k = 0; k < 16; ++k) {
                const int s = 1 << st;
                idx[st][0][k] = (k & s) ? 16 + k - s : k;
                idx[st][1][k] = (k & s) ? 16 + k : k + s;
            }
    }
};
inline constexpr TransposeIndex kTransposeIndex{};

// r[i][k] -> r[k][i] for a 16 x 16 block of floats.
inline void transpose16(__m512* r) {
#pragma GCC unroll 4
    for (int st = 0; st < 4; ++st) {
        const int s = 1 << st;
        const __m512i lo = _mm512_loadu_si512(kTransposeIndex.idx[st][0]);
        const __m512i hi = _mm512_loadu_si512(kTransposeIndex.idx[st][1]);
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
            if (i & s) continue;
            const __m512 a = r[i], b = r[i + s];
            r[i] = _mm512_permutex2var_ps(a, lo, b);
            r[i + s] = _mm512_permutex2var_ps(a, hi, b);
        }
    }
}
#endif

// Calls fn(k, h, w) for the positions p0 + k (k < n) of a [H, W] plane, one division per call.
template <typename Fn>
inline void positions(int64_t p0, int64_t n, int64_t w_size, Fn&& fn) {
    int64_t h = p0 / w_size, w = p0 % w_size;
    for (int64_t k = 0; k < n; ++k) {
        fn(k, h, w);
        if (++w == w_size) w = 0, ++h;
    }
}

template <typename T, typename Dst>
void planes_to_lanes(const T* planes, int64_t nc, int64_t h_size, int64_t w_size, Dst&& dst) {
    constexpr int64_t L = Simd<T>::L;
    const int64_t hw = h_size * w_size;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        for (int64_t p0 = 0; p0 < hw; p0 += 16) {
            const int64_t n = std::min<int64_t>(16, hw - p0);
            const __mmask16 m = __mmask16((1u << n) - 1);
            __m512 r[16];
#pragma GCC unroll 16
            for (int64_t l = 0; l < 16; ++l) r[l] = l < nc ? _mm512_maskz_loadu_ps(m, planes + l * hw + p0) : _mm512_setzero_ps();
            transpose16(r);
            alignas(64) float tmp[16][16];
#pragma GCC unroll 16
            for (int64_t k = 0; k < 16; ++k) _mm512_store_ps(tmp[k], r[k]);
            positions(p0, n, w_size, [&](int64_t k, int64_t h, int64_t w) {
                if (T* d = dst(h, w)) _mm512_storeu_ps(d, _mm512_load_ps(tmp[k]));
            });
        }
        return;
    }
#endif
    positions(0, hw, w_size, [&](int64_t p, int64_t h, int64_t w) {
        if (T* d = dst(h, w))
            for (int64_t l = 0; l < L; ++l) d[l] = l < nc ? planes[l * hw + p] : T(0);
    });
}

template <typename T, typename Src>
void lanes_to_planes(Src&& src, int64_t nc, int64_t h_size, int64_t w_size, T* planes) {
    const int64_t hw = h_size * w_size;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        for (int64_t p0 = 0; p0 < hw; p0 += 16) {
            const int64_t n = std::min<int64_t>(16, hw - p0);
            alignas(64) float tmp[16][16] = {};
            positions(p0, n, w_size, [&](int64_t k, int64_t h, int64_t w) {
                if (const T* s = src(h, w)) _mm512_store_ps(tmp[k], _mm512_loadu_ps(s));
            });
            __m512 r[16];
#pragma GCC unroll 16
            for (int64_t k = 0; k < 16; ++k) r[k] = _mm512_load_ps(tmp[k]);
            transpose16(r);
            for (int64_t l = 0; l < nc; ++l) _mm512_mask_storeu_ps(planes + l * hw + p0, __mmask16((1u << n) - 1), r[l]);
        }
        return;
    }
#endif
    positions(0, hw, w_size, [&](int64_t p, int64_t h, int64_t w) {
        const T* s = src(h, w);
        for (int64_t l = 0; l < nc; ++l) planes[l * hw + p] = s ? s[l] : T(0);
    });
}

template <typename T, int K, int S>
struct ChannelBlock {
    static constexpr int64_t L = Simd<T>::L;
    using V = typename Simd<T>::V;
    int64_t rows, width, nc;  // R, Wp, channels in this block (<= L)
    V wv[K * K];              // weights, one lane per channel (zero without w)

    ChannelBlock(const ConvGeometry& g, const T* w, int64_t c0)
        : rows((g.ho - 1) * S + K), width((g.wo - 1) * S + K), nc(std::min<int64_t>(L, g.c - c0)) {
        for (int t = 0; t < K * K; ++t) {
            for (int64_t l = 0; l < L; ++l) wv[t][l] = w && l < nc ? w[(c0 + l) * K * K + t] : T(0);
        }
    }
    // xb <- the planes x[l] [H, W] of the block's channels, padded (see above).
    void gather(const ConvGeometry& g, const T* x, T* xb) const {
        std::fill(xb, xb + rows * width * L, T(0));
        planes_to_lanes(x, nc, g.h, g.w, [&](int64_t h, int64_t w) -> T* {
            const int64_t r = h + g.pad_top, q = w + g.pad_left;
            return r < rows && q < width ? xb + (r * width + q) * L : nullptr;  // past the block: read by no tap
        });
    }
};

// y planes of channels c0 .. c0+L of image n.
template <typename T, int K, int S>
void cblock_forward(const ConvGeometry& g, int64_t n, int64_t c0, const T* x, const T* w, const T* bias, T* y) {
    using S_ = Simd<T>;
    constexpr int64_t L = S_::L;
    const ChannelBlock<T, K, S> b(g, w, c0);
    T* xb = scratch<T>(0, b.rows * b.width * L);
    T* yb = scratch<T>(1, g.ho * g.wo * L);
    b.gather(g, x + (n * g.c + c0) * g.h * g.w, xb);
    typename S_::V bv = {};
    for (int64_t l = 0; l < b.nc && bias; ++l) bv[l] = bias[c0 + l];
    for (int64_t ho = 0; ho < g.ho; ++ho)
        for (int64_t wo = 0; wo < g.wo; ++wo) {
            typename S_::V acc = bv;
            for (int i = 0; i < K; ++i)
                for (int j = 0; j < K; ++j)
                    acc = S_::fmadd(b.wv[i * K + j], S_::load(xb + ((ho * S + i) * b.width + wo * S + j) * L), acc);
            S_::store(yb + (ho * g.wo + wo) * L, acc);
        }
    lanes_to_planes([&](int64_t h, int64_t w) -> const T* { return yb + (h * g.wo + w) * L; }, b.nc, g.ho, g.wo,
                    y + (n * g.c + c0) * g.ho * g.wo);
}

// dx planes of channels c0 .. c0+L of image n: each dy scattered back over its taps.
template <typename T, int K, int S>
void cblock_backward_input(const ConvGeometry& g, int64_t n, int64_t c0, const T* dy, const T* w, T* dx) {
    using S_ = Simd<T>;
    constexpr int64_t L = S_::L;
    const ChannelBlock<T, K, S> b(g, w, c0);
    T* dxb = scratch<T>(0, b.rows * b.width * L);
    T* dyb = scratch<T>(1, g.ho * g.wo * L);
    planes_to_lanes(dy + (n * g.c + c0) * g.ho * g.wo, b.nc, g.ho, g.wo, [&](int64_t h, int64_t w) { return dyb + (h * g.wo + w) * L; });
    std::fill(dxb, dxb + b.rows * b.width * L, T(0));
    for (int64_t ho = 0; ho < g.ho; ++ho)
        for (int64_t wo = 0; wo < g.wo; ++wo) {
            const typename S_::V d = S_::load(dyb + (ho * g.wo + wo) * L);
            for (int i = 0; i < K; ++i)
                for (int j = 0; j < K; ++j) {
                    T* p = dxb + ((ho * S + i) * b.width + wo * S + j) * L;
                    S_::store(p, S_::fmadd(b.wv[i * K + j], d, S_::load(p)));
                }
        }
    lanes_to_planes(
        [&](int64_t h, int64_t w) -> const T* {
            const int64_t r = h + g.pad_top, q = w + g.pad_left;  // past the block: no tap reached it
            return r < b.rows && q < b.width ? dxb + (r * b.width + q) * L : nullptr;
        },
        b.nc, g.h, g.w, dx + (n * g.c + c0) * g.h * g.w);
}

// dw of channels c0 .. c0+L: per lane, the sum over the batch (in order) of dy * shifted x.
template <typename T, int K, int S>
void cblock_backward_weight(const ConvGeometry& g, int64_t c0, const T* x, const T* dy, T* dw) {
    using S_ = Simd<T>;
    constexpr int64_t L = S_::L;
    const ChannelBlock<T, K, S> b(g, nullptr, c0);
    T* xb = scratch<T>(0, b.rows * b.width * L);
    T* dyb = scratch<T>(1, g.ho * g.wo * L);
    typename S_::V acc[K * K] = {};
    for (int64_t n = 0; n < g.n; ++n) {
        b.gather(g, x + (n * g.c + c0) * g.h * g.w, xb);
        planes_to_lanes(dy + (n * g.c + c0) * g.ho * g.wo, b.nc, g.ho, g.wo, [&](int64_t h, int64_t w) { return dyb + (h * g.wo + w) * L; });
        for (int64_t ho = 0; ho < g.ho; ++ho)
            for (int64_t wo = 0; wo < g.wo; ++wo) {
                const typename S_::V d = S_::load(dyb + (ho * g.wo + wo) * L);
                for (int i = 0; i < K; ++i)
                    for (int j = 0; j < K; ++j)
                        acc[i * K + j] =
                            S_::fmadd(d, S_::load(xb + ((ho * S + i) * b.width + wo * S + j) * L), acc[i * K + j]);
            }
    }
    for (int64_t l = 0; l < b.nc; ++l)
        for (int t = 0; t < K * K; ++t) dw[(c0 + l) * K * K + t] = acc[t][l];
}

}  // namespace

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
