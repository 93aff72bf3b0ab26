// Branch-free float32 approximations of exp, log, log1p, tanh, sigmoid and the
// normal CDF/PDF, written as plain scalar code (selects, bit casts, polynomials)
// so that GCC vectorises the loops that call them at each file's ISA. float64
// overloads call the std:: functions. Included by unary_impl.h inside namespace
// GRAFT_ISA_NAMESPACE, like it, so every ISA gets its own copy.
//
// Max error against libm in double (std::exp, std::log, std::log1p, std::tanh,
// std::erfc; long double for gelu_tanh), in ulp of the float32 result,
// measured on every 97th float32 of the range with both the reference build
// and an FMA build (the larger of the two):
//   vexp                  [-87.3, 88.7]             1.0
//   vexp                  [-104, -87.3] (denormal)  0.8 (of the smallest denormal)
//   vlog                  (0, inf), denormals too   0.8
//   vlog1p                (-1, inf)                 1.5
//   vtanh                 [-20, 20]                 1.3
//   vsigmoid              [-87, 100]                2.5
//   x / (1 + vexp(-x))    [-87, 100]  (silu)        2.3
//   vnormal_cdf           [-14, 20]                 8.9 (near x = 0: rounding of t and of the
//   x vnormal_cdf(x)      [-13, 20]   (gelu)        9.0  polynomial; 2 ulp for x > 0.7)
//   x / (1 + vgelu_tanh_exp(x)) [-10, 20] (gelu_tanh) 2.1
// Below the stated ranges results are denormal and lose relative accuracy.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE::math {

inline float as_float(int32_t i) { return std::bit_cast<float>(i); }
inline int32_t as_int(float f) { return std::bit_cast<int32_t>(f); }

inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// c ? a : b on the bit patterns. GCC turns a ?: between two computed floats
// back into a branch when it may not evaluate both arms (-ftrapping-math is
// the default), and a branch stops vectorisation; integer selects never do.
inline float select(bool c, float a, float b) {
    const int32_t m = -int32_t(c);
    return as_float((as_int(a) & m) | (as_int(b) & ~m));
}
inline double select(bool c, double a, double b) {
    const int64_t m = -int64_t(c);
    return std::bit_cast<double>((std::bit_cast<int64_t>(a) & m) | (std::bit_cast<int64_t>(b) & ~m));
}

// exp(hi + lo), where lo is a small correction that the caller could not add
// to hi without rounding (see neg_half_square), for hi + lo in [-106, 89]
// (callers clamp; vexp_sum below does). Cody-Waite reduction:
// n = round((hi + lo) / ln2), r = hi - n ln2 + lo with ln2 split in two so that
// n * kLn2Hi is exact, then exp = 2^n exp(r) with |r| <= ln2/2.
inline float vexp_sum_in_range(float hi, float lo) {
    constexpr float kLog2e = 1.44269504088896341f;
    constexpr float kLn2Hi = 0.693359375f;     // 355/512: 9 significant bits
    constexpr float kLn2Lo = -2.12194440e-4f;  // ln 2 - kLn2Hi
    constexpr float kRound = 12582912.0f;      // 1.5 * 2^23: x + kRound holds round(x) in its low bits
    const float t = (hi + lo) * kLog2e + kRound;
    const float n = t - kRound;
    const float r = ((hi - n * kLn2Hi) + lo) - n * kLn2Lo;
    // exp(r) = 1 + r + r^2 P(r): the polynomial of Cephes expf (S. L. Moshier).
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    // 2^n as two normal factors (n >= -154 keeps both so): a denormal result is
    // rounded once, and n = 128 gives inf.
    const int32_t ni = as_int(t) - as_int(kRound);
    const int32_t n1 = ni >> 1;
    return p * as_float((n1 + 127) << 23) * as_float((ni - n1 + 127) << 23);
}

// exp(hi + lo) for any hi: below -104 the result is 0 (or the smallest
// denormal), above 89 inf; NaN passes. (A ?: clamp here lets GCC thread the
// constant paths into branches, so the clamps are selects.)
inline float vexp_sum(float hi, float lo) {
    hi = select(hi < -104.0f, -104.0f, hi);
    hi = select(hi > 89.0f, 89.0f, hi);
    return vexp_sum_in_range(hi, lo);
}

inline float vexp(float x) { return vexp_sum(x, 0.0f); }

// log x = e ln2 + log m with x = m 2^e, m in [sqrt(1/2), sqrt(2)), and
// log(1 + f) = f - f^2/2 + f^3 P(f): the polynomial of Cephes logf (S. L. Moshier).
inline float vlog(float x) {
    const bool denormal = x < 1.17549435e-38f;       // (and zero and negatives, fixed below)
    const float xs = select(denormal, x * 8388608.0f, x);  // 2^23 lifts denormals into the normal range
    const int32_t bits = as_int(xs);
    int32_t e = ((bits >> 23) & 0xff) - 126;         // so that m is in [0.5, 1)
    const float m = as_float((bits & 0x007fffff) | 0x3f000000);
    e -= 23 & -int32_t(denormal);
    const bool low = m < 0.707106781186547524f;
    e -= int32_t(low);
    const float f = select(low, m + m, m) - 1.0f;
    const float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    const float fe = float(e);
    // ln2 split as in vexp_sum, small terms first.
    float r = f + ((p * f * z + fe * -2.12194440e-4f) - 0.5f * z) + fe * 0.693359375f;
    r = select(x == 0.0f, -kInf, r);
    r = select(x < 0.0f, kNaN, r);
    r = select(x == kInf, kInf, r);
    return select(x != x, x, r);
}

// log1p x = log u + (x - (u - 1)) / u with u = 1 + x rounded: the second term
// restores, to first order, what rounding u lost (exact when u = 1).
inline float vlog1p(float x) {
    const float u = 1.0f + x;
    const float r = vlog(u) + (x - (u - 1.0f)) / u;
    return select(u == kInf || u == 0.0f, vlog(u), r);  // where the correction is inf/inf or 0/0
}

// tanh |x| = 1 - 2 / (exp(2|x|) + 1) for |x| >= 0.625; below that the form
// loses relative accuracy, and the odd polynomial of Cephes tanhf takes over.
inline float vtanh(float x) {
    const float ax = std::fabs(x);
    const float big = 1.0f - 2.0f / (vexp(ax + ax) + 1.0f);
    const float s = x * x;
    float p = -5.70498872745e-3f;
    p = p * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    const float small = p * s * x + x;
    return select(ax < 0.625f, small, std::copysign(big, x));
}

inline float vsigmoid(float x) { return 1.0f / (1.0f + vexp(-x)); }

// -x^2/2 as hi + lo, hi exact: x = xh + xl with xh the top 12 significant bits,
// so xh^2 fits in float32 and x^2 = xh^2 + xl (x + xh). Without the split, the
// rounding of x^2 would cost x^2/2 ulp in exp(-x^2/2) (50 ulp at x = 10).
inline void neg_half_square(float x, float& hi, float& lo) {
    const float xh = as_float(as_int(x) & int32_t(0xfffff000u));
    const float xl = x - xh;
    hi = -0.5f * (xh * xh);
    lo = -0.5f * (xl * (x + xh));
}

// Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF. For z >= 0,
// erfc(z) = t R(t) exp(-z^2) with t = 1 / (1 + 0.3 z), the form of Abramowitz &
// Stegun 7.1.26 (which PyTorch's vectorised erf uses, fitted for absolute error),
// but with R of degree 8 fitted here for relative error: Lawson's iteratively
// reweighted least squares on erfc(z) e^(z^2) / t at 4000 points evenly spaced
// in t, z in [0, 10.3]; max relative error 2e-8 (5e-8 with the coefficients
// rounded to float32). Using erfc on both sides avoids the cancellation of
// 1 + erf(z) for negative x, so the result keeps its relative accuracy down to
// the denormals; exp(-z^2) does not wait for R, which keeps the chain short.
inline float vnormal_cdf(float x) {
    // Beyond +-14.5, Phi rounds to 0 or 1; clamping keeps vexp_sum_in_range's range. NaN passes.
    const float xc = select(x < -14.5f, -14.5f, select(x > 14.5f, 14.5f, x));
    const float t = 1.0f / (1.0f + 0.212132034f * std::fabs(xc));  // 0.3 z = 0.3 |x| / sqrt 2
    float r = -6.47728443e-02f;  // the fitted R, halved (for Phi = erfc / 2)
    r = r * t + 2.42841721e-01f;
    r = r * t - 2.56274998e-01f;
    r = r * t + 2.74031848e-01f;
    r = r * t - 4.74579483e-02f;
    r = r * t + 1.07526869e-01f;
    r = r * t + 7.41508827e-02f;
    r = r * t + 8.53606537e-02f;
    r = r * t + 8.45937952e-02f;
    float hi, lo;
    neg_half_square(xc, hi, lo);
    const float half_erfc = t * r * vexp_sum_in_range(hi, lo);
    return select(xc > 0.0f, 1.0f - half_erfc, half_erfc);
}

// exp(-x^2/2) / sqrt(2 pi), the standard normal density.
inline float vnormal_pdf(float x) {
    float hi, lo;
    neg_half_square(x, hi, lo);
    return 0.398942280401432678f * vexp_sum(hi, lo);
}

// exp(-2u) for GELU's tanh form, u = sqrt(2/pi) (x + 0.044715 x^3) (Hendrycks &
// Gimpel). u is formed in double and handed to vexp_sum as hi + lo: rounded to
// float, it would cost about 2|u| ulp in the result (80 ulp at x = -9).
inline float vgelu_tanh_exp(float x) {
    const double xd = x;
    double v = -1.5957691216057307118 * (xd + 0.044715 * xd * xd * xd);  // -2 sqrt(2/pi) = -1.59576...
    v = select(v < -200.0, -200.0, select(v > 200.0, 200.0, v));         // keeps hi and lo finite; NaN passes
    const float hi = float(v);
    return vexp_sum(hi, float(v - double(hi)));
}

// float64: the library functions (not vectorised; exact to libm's accuracy).
inline double vexp(double x) { return std::exp(x); }
inline double vlog(double x) { return std::log(x); }
inline double vlog1p(double x) { return std::log1p(x); }
inline double vtanh(double x) { return std::tanh(x); }
inline double vsigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double vnormal_cdf(double x) { return 0.5 * std::erfc(-x * 0.70710678118654752440); }
inline double vnormal_pdf(double x) { return 0.39894228040143267794 * std::exp(-0.5 * x * x); }
inline double vgelu_tanh_exp(double x) { return std::exp(-1.5957691216057307118 * (x + 0.044715 * x * x * x)); }

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE::math
