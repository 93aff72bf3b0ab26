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
        for (int64_t l = 0; l < nc; ++l)
            for (int64_t h = 0; h < g.h && h + g.pad_top < rows; ++h)
                for (int64_t w = 0; w < g.w && w + g.pad_left < width; ++w)
                    xb[((h + g.pad_top) * width + w + g.pad_left) * L + l] = x[(l * g.h + h) * g.w + w];
    }
};

// [Ho*Wo][L] <-> the block's planes [nc][Ho, Wo].
template <typename T>
void to_lanes(const T* planes, int64_t nc, int64_t p, int64_t lanes, T* out) {
    if (nc < lanes) std::fill(out, out + p * lanes, T(0));
    for (int64_t l = 0; l < nc; ++l)
        for (int64_t q = 0; q < p; ++q) out[q * lanes + l] = planes[l * p + q];
}
template <typename T>
void from_lanes(const T* in, int64_t nc, int64_t p, int64_t lanes, T* planes) {
    for (int64_t l = 0; l < nc; ++l)
        for (int64_t q = 0; q < p; ++q) planes[l * p + q] = in[q * lanes + l];
}

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
    from_lanes(yb, b.nc, g.ho * g.wo, L, y + (n * g.c + c0) * g.ho * g.wo);
}

// dx planes of channels c0 .. c0+L of image n: each dy scattered back over its taps.
template <typename T, int K, int S>
void cblock_backward_input(const ConvGeometry& g, int64_t n, int64_t c0, const T* dy, const T* w, T* dx) {
    using S_ = Simd<T>;
    constexpr int64_t L = S_::L;
    const ChannelBlock<T, K, S> b(g, w, c0);
    T* dxb = scratch<T>(0, b.rows * b.width * L);
    T* dyb = scratch<T>(1, g.ho * g.wo * L);
    to_lanes(dy + (n * g.c + c0) * g.ho * g.wo, b.nc, g.ho * g.wo, L, dyb);
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
    T* out = dx + (n * g.c + c0) * g.h * g.w;
    for (int64_t l = 0; l < b.nc; ++l)
        for (int64_t h = 0; h < g.h; ++h)
            for (int64_t w = 0; w < g.w; ++w) {
                const int64_t r = h + g.pad_top, q = w + g.pad_left;  // rows/columns past the block read no tap
                out[(l * g.h + h) * g.w + w] = r < b.rows && q < b.width ? dxb[(r * b.width + q) * L + l] : T(0);
            }
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
        to_lanes(dy + (n * g.c + c0) * g.ho * g.wo, b.nc, g.ho * g.wo, L, dyb);
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
