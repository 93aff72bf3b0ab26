// The body of the unary kernels and the activations' backward kernels,
// included once per ISA by unary_<isa>.cpp inside namespace GRAFT_ISA_NAMESPACE.
// Each op is a template instantiated per loop, and the contiguous case is split
// out, so the compiler vectorises it at that file's ISA (the float32 math in
// unary_math.h is written for that). Formulas follow PyTorch's CPU kernels;
// where one is rewritten (gelu as x erfc(-x/sqrt 2)/2, its tanh form as
// x sigmoid(2u), softplus as max(bx, 0) + log1p(e^-|bx|)), it is the same
// function with less cancellation or overflow.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/elementwise/unary.h"
#include "kernels/cpu/elementwise/unary_math.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

// sqrt(2/pi) and the cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel).
template <typename T> inline constexpr T kGeluBeta = T(0.79788456080286535588);
template <typename T> inline constexpr T kGeluKappa = T(0.044715);

// x < 0, without a comparison that -Wtype-limits flags for unsigned types.
template <typename T>
inline bool negative(T x) {
    if constexpr (std::is_unsigned_v<T>) return false;
    else return x < T(0);
}

// In floating-point code below, a ?: whose arms are computed is written with
// math::select, which GCC cannot turn back into a branch (unary_math.h).
template <UnaryOp Op, typename T>
inline T apply(T x, const UnaryParams<T>& p) {
    using namespace math;
    if constexpr (Op == UnaryOp::Neg) return T(-x);
    if constexpr (Op == UnaryOp::Abs) {
        if constexpr (std::is_floating_point_v<T>) return std::fabs(x);
        else return negative(x) ? T(-x) : x;
    }
    // sign: 0 for 0 and NaN, as PyTorch.
    if constexpr (Op == UnaryOp::Sign) return T(0) < x ? T(1) : (negative(x) ? T(-1) : T(0));
    // Comparisons written so that NaN passes through, as in torch.clamp.
    if constexpr (Op == UnaryOp::Clamp) {
        const T lo = x < p.lo ? p.lo : x;
        return lo > p.hi ? p.hi : lo;
    }
    if constexpr (Op == UnaryOp::Relu) return negative(x) ? T(0) : x;
    if constexpr (Op == UnaryOp::Relu6) {
        const T lo = negative(x) ? T(0) : x;
        return lo > T(6) ? T(6) : lo;
    }
    if constexpr (std::is_floating_point_v<T>) {
        if constexpr (Op == UnaryOp::Exp) return vexp(x);
        if constexpr (Op == UnaryOp::Log) return vlog(x);
        if constexpr (Op == UnaryOp::Log1p) return vlog1p(x);
        if constexpr (Op == UnaryOp::Sqrt) return std::sqrt(x);
        if constexpr (Op == UnaryOp::Rsqrt) return T(1) / std::sqrt(x);
        if constexpr (Op == UnaryOp::LeakyRelu) return select(x > T(0), x, T(x * p.slope));
        if constexpr (Op == UnaryOp::Gelu) return x * vnormal_cdf(x);
        // 0.5 x (1 + tanh u) = x sigmoid(2u) = x / (1 + exp(-2u)).
        if constexpr (Op == UnaryOp::GeluTanh) return x / (T(1) + vgelu_tanh_exp(x));
        if constexpr (Op == UnaryOp::Silu) return x / (T(1) + vexp(-x));
        if constexpr (Op == UnaryOp::Sigmoid) return vsigmoid(x);
        if constexpr (Op == UnaryOp::Tanh) return vtanh(x);
        // log(1 + e^bx) = max(bx, 0) + log1p(e^-|bx|): the same value, with no overflow in exp.
        if constexpr (Op == UnaryOp::Softplus) {
            const T bx = x * p.beta;
            const T soft = ((bx > T(0) ? bx : T(0)) + vlog1p(vexp(-std::fabs(bx)))) / p.beta;
            return select(bx > p.threshold, x, soft);
        }
        if constexpr (Op == UnaryOp::Hardswish) {
            T r = x + T(3);
            r = r < T(0) ? T(0) : r;
            return x * (r > T(6) ? T(6) : r) / T(6);
        }
    }
    return x;  // integer types never get the floating-point ops (unary.h)
}

// dx for the activations' backward; see UnaryGradOp for which read y instead of x.
template <UnaryGradOp Op, typename T>
inline T apply_grad(T x, T g, const UnaryParams<T>& p) {
    using namespace math;
    if constexpr (Op == UnaryGradOp::Abs) return select(x > T(0), g, select(x < T(0), T(-g), T(0)));
    if constexpr (Op == UnaryGradOp::Clamp) return ((x >= p.lo) & (x <= p.hi)) ? g : T(0);
    if constexpr (Op == UnaryGradOp::Relu) return x > T(0) ? g : T(0);
    if constexpr (Op == UnaryGradOp::Relu6) return ((x > T(0)) & (x < T(6))) ? g : T(0);
    if constexpr (Op == UnaryGradOp::LeakyRelu) return select(x > T(0), g, T(g * p.slope));
    // d/dx x Phi(x) = Phi(x) + x phi(x).
    if constexpr (Op == UnaryGradOp::Gelu) return g * (vnormal_cdf(x) + x * vnormal_pdf(x));
    // d/dx x s(2u) = s + 2x s (1 - s) u', with s = sigmoid(2u) = (1 + tanh u)/2, u' = beta (1 + 3 kappa x^2).
    if constexpr (Op == UnaryGradOp::GeluTanh) {
        const T x2 = x * x;
        const T s = T(1) / (T(1) + vgelu_tanh_exp(x));
        const T du = kGeluBeta<T> * (T(1) + T(3) * kGeluKappa<T> * x2);
        return g * (s + T(2) * x * s * (T(1) - s) * du);
    }
    // d/dx x s(x) = s (1 + x (1 - s)).
    if constexpr (Op == UnaryGradOp::Silu) {
        const T s = vsigmoid(x);
        return g * s * (T(1) + x * (T(1) - s));
    }
    if constexpr (Op == UnaryGradOp::Sigmoid) return g * (T(1) - x) * x;  // x holds y
    if constexpr (Op == UnaryGradOp::Tanh) return g * (T(1) - x * x);     // x holds y
    // d/dx log(1 + exp(beta x)) / beta = sigmoid(beta x).
    if constexpr (Op == UnaryGradOp::Softplus) {
        const T bx = x * p.beta;
        return select(bx > p.threshold, g, T(g * vsigmoid(bx)));
    }
    // d/dx x (x + 3) / 6 = (2x + 3) / 6 on [-3, 3], written x/3 + 1/2 as PyTorch does.
    if constexpr (Op == UnaryGradOp::Hardswish)
        return select(x < T(-3), T(0), select(x <= T(3), T(g * (x / T(3) + T(0.5))), g));
}

// sqrt or 1/sqrt of a contiguous run. std::sqrt keeps a libm call for errno on
// negative inputs, which GCC will not vectorise, so the vector builds use the
// instruction itself: correctly rounded and NaN for negatives, like std::sqrt.
template <bool Reciprocal, typename T>
void sqrt_run(int64_t n, const T* __restrict x, T* __restrict out) {
    int64_t i = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        for (; i + 16 <= n; i += 16) {
            const __m512 v = _mm512_loadu_ps(x + i);
            const __m512 r = _mm512_mask_sqrt_ps(v, __mmask16(0xffff), v);  // the unmasked form warns in GCC 12
            _mm512_storeu_ps(out + i, Reciprocal ? _mm512_div_ps(_mm512_set1_ps(1.0f), r) : r);
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            const __m512d v = _mm512_loadu_pd(x + i);
            const __m512d r = _mm512_mask_sqrt_pd(v, __mmask8(0xff), v);
            _mm512_storeu_pd(out + i, Reciprocal ? _mm512_div_pd(_mm512_set1_pd(1.0), r) : r);
        }
    }
#elif defined(__AVX2__)
    if constexpr (std::is_same_v<T, float>) {
        for (; i + 8 <= n; i += 8) {
            const __m256 r = _mm256_sqrt_ps(_mm256_loadu_ps(x + i));
            _mm256_storeu_ps(out + i, Reciprocal ? _mm256_div_ps(_mm256_set1_ps(1.0f), r) : r);
        }
    } else {
        for (; i + 4 <= n; i += 4) {
            const __m256d r = _mm256_sqrt_pd(_mm256_loadu_pd(x + i));
            _mm256_storeu_pd(out + i, Reciprocal ? _mm256_div_pd(_mm256_set1_pd(1.0), r) : r);
        }
    }
#endif
    for (; i < n; ++i) out[i] = Reciprocal ? T(1) / std::sqrt(x[i]) : std::sqrt(x[i]);
}

template <UnaryOp Op, typename T>
void unary_run(int64_t n, const T* __restrict x, int64_t sx, T* __restrict out, int64_t so,
               const UnaryParams<T>& params) {
    const UnaryParams<T> p = params;  // a local copy: the compiler need not reload it after each store
    if constexpr (std::is_floating_point_v<T> && (Op == UnaryOp::Sqrt || Op == UnaryOp::Rsqrt)) {
        if (sx == 1 && so == 1) return sqrt_run<Op == UnaryOp::Rsqrt>(n, x, out);
    }
    if (sx == 1 && so == 1) {
        for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(x[i], p);
    } else {
        for (int64_t i = 0; i < n; ++i) out[i * so] = apply<Op>(x[i * sx], p);
    }
}

template <UnaryGradOp Op, typename T>
void unary_grad_run(int64_t n, const T* __restrict x, int64_t sx, const T* __restrict g, int64_t sg,
                    T* __restrict out, int64_t so, const UnaryParams<T>& params) {
    const UnaryParams<T> p = params;
    if (sx == 1 && sg == 1 && so == 1) {
        for (int64_t i = 0; i < n; ++i) out[i] = apply_grad<Op>(x[i], g[i], p);
    } else if (sx == 1 && sg == 0 && so == 1) {  // the gradient of a sum arrives expanded
        const T g0 = *g;
        for (int64_t i = 0; i < n; ++i) out[i] = apply_grad<Op>(x[i], g0, p);
    } else {
        for (int64_t i = 0; i < n; ++i) out[i * so] = apply_grad<Op>(x[i * sx], g[i * sg], p);
    }
}

template <typename T>
void unary(UnaryOp op, int64_t n, const T* x, int64_t sx, T* out, int64_t so, const UnaryParams<T>& p) {
    using U = UnaryOp;
    switch (op) {
        case U::Neg: return unary_run<U::Neg>(n, x, sx, out, so, p);
        case U::Exp: return unary_run<U::Exp>(n, x, sx, out, so, p);
        case U::Log: return unary_run<U::Log>(n, x, sx, out, so, p);
        case U::Log1p: return unary_run<U::Log1p>(n, x, sx, out, so, p);
        case U::Sqrt: return unary_run<U::Sqrt>(n, x, sx, out, so, p);
        case U::Rsqrt: return unary_run<U::Rsqrt>(n, x, sx, out, so, p);
        case U::Abs: return unary_run<U::Abs>(n, x, sx, out, so, p);
        case U::Sign: return unary_run<U::Sign>(n, x, sx, out, so, p);
        case U::Clamp: return unary_run<U::Clamp>(n, x, sx, out, so, p);
        case U::Relu: return unary_run<U::Relu>(n, x, sx, out, so, p);
        case U::Relu6: return unary_run<U::Relu6>(n, x, sx, out, so, p);
        case U::LeakyRelu: return unary_run<U::LeakyRelu>(n, x, sx, out, so, p);
        case U::Gelu: return unary_run<U::Gelu>(n, x, sx, out, so, p);
        case U::GeluTanh: return unary_run<U::GeluTanh>(n, x, sx, out, so, p);
        case U::Silu: return unary_run<U::Silu>(n, x, sx, out, so, p);
        case U::Sigmoid: return unary_run<U::Sigmoid>(n, x, sx, out, so, p);
        case U::Tanh: return unary_run<U::Tanh>(n, x, sx, out, so, p);
        case U::Softplus: return unary_run<U::Softplus>(n, x, sx, out, so, p);
        case U::Hardswish: return unary_run<U::Hardswish>(n, x, sx, out, so, p);
    }
}

template <typename T>
void unary_grad(UnaryGradOp op, int64_t n, const T* x, int64_t sx, const T* g, int64_t sg, T* out, int64_t so,
                const UnaryParams<T>& p) {
    using G = UnaryGradOp;
    switch (op) {
        case G::Abs: return unary_grad_run<G::Abs>(n, x, sx, g, sg, out, so, p);
        case G::Clamp: return unary_grad_run<G::Clamp>(n, x, sx, g, sg, out, so, p);
        case G::Relu: return unary_grad_run<G::Relu>(n, x, sx, g, sg, out, so, p);
        case G::Relu6: return unary_grad_run<G::Relu6>(n, x, sx, g, sg, out, so, p);
        case G::LeakyRelu: return unary_grad_run<G::LeakyRelu>(n, x, sx, g, sg, out, so, p);
        case G::Gelu: return unary_grad_run<G::Gelu>(n, x, sx, g, sg, out, so, p);
        case G::GeluTanh: return unary_grad_run<G::GeluTanh>(n, x, sx, g, sg, out, so, p);
        case G::Silu: return unary_grad_run<G::Silu>(n, x, sx, g, sg, out, so, p);
        case G::Sigmoid: return unary_grad_run<G::Sigmoid>(n, x, sx, g, sg, out, so, p);
        case G::Tanh: return unary_grad_run<G::Tanh>(n, x, sx, g, sg, out, so, p);
        case G::Softplus: return unary_grad_run<G::Softplus>(n, x, sx, g, sg, out, so, p);
        case G::Hardswish: return unary_grad_run<G::Hardswish>(n, x, sx, g, sg, out, so, p);
    }
}

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
