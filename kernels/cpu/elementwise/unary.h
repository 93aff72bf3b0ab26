// Unary elementwise kernels and the backward kernels of the activations:
// strided 1-D loops that the core's iterator calls for each run of the tensor.
//
//   forward:   out[i*so] = op(x[i*sx])                 for 0 <= i < n
//   backward:  dx[i*so]  = grad_op(x[i*sx], g[i*sg])   for 0 <= i < n
//
// The backward loop takes the forward input (or, where marked, the forward
// output) and the incoming gradient, so an activation's backward is one pass
// instead of a chain of binary ops.
//
// The bodies are written once (unary_impl.h, with the float32 approximations in
// unary_math.h) and compiled three times: by unary_dispatch.cpp for baseline
// x86-64 (the scalar reference), and by unary_avx2.cpp and unary_avx512.cpp with
// their own flags; unary_loop<T>(isa) picks one. Each copy lives in its own
// namespace (ref, avx2, avx512) so the linker never merges code built for
// different levels.
//
// Dtypes: float and double have one copy per level. int64_t, int32_t and uint8_t
// use the reference copy and support only the ops whose result is an integer
// (Neg, Abs, Sign, Clamp, Relu, Relu6); the core promotes integer inputs of the
// other ops to float32 before they reach a kernel.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

enum class UnaryOp : uint8_t {
    Neg, Exp, Log, Log1p, Sqrt, Rsqrt, Abs, Sign,
    Clamp,      // min(max(x, lo), hi); an absent bound is -inf/+inf (or the int type's limit)
    Relu, Relu6,
    LeakyRelu,  // x > 0 ? x : slope * x
    Gelu,       // x * Phi(x), Phi the standard normal CDF (the erf form)
    GeluTanh,   // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Silu, Sigmoid, Tanh,
    Softplus,   // beta x > threshold ? x : log1p(exp(beta x)) / beta
    Hardswish,  // x * min(max(x + 3, 0), 6) / 6
};

// Backward kernels: dx from the gradient g. "(y)" marks those that read the
// forward output y instead of the input x.
enum class UnaryGradOp : uint8_t {
    Abs,        // g * sign(x)
    Clamp,      // g where lo <= x <= hi, else 0
    Relu,       // (y) g where y > 0, else 0
    Relu6,      // g where 0 < x < 6, else 0 (hardtanh's backward)
    LeakyRelu,  // x > 0 ? g : slope * g
    Gelu, GeluTanh, Silu,
    Sigmoid,    // (y) g y (1 - y)
    Tanh,       // (y) g (1 - y^2)
    Softplus,   // beta x > threshold ? g : g * sigmoid(beta x)
    Hardswish,  // x < -3 ? 0 : x > 3 ? g : g (2x + 3) / 6
};

// The scalar arguments some ops take; the others ignore them. In the element
// type so that integer clamps stay exact.
template <typename T>
struct UnaryParams {
    T lo{}, hi{};       // Clamp bounds (the caller fills absent bounds with the limits)
    T slope{};          // LeakyRelu negative slope
    T beta{1};          // Softplus
    T threshold{20};    // Softplus
};

template <typename T>
using UnaryLoop = void (*)(UnaryOp op, int64_t n, const T* x, int64_t sx, T* out, int64_t so,
                           const UnaryParams<T>& p);
template <typename T>
using UnaryGradLoop = void (*)(UnaryGradOp op, int64_t n, const T* x, int64_t sx, const T* g, int64_t sg,
                               T* out, int64_t so, const UnaryParams<T>& p);

// unary_loop: float, double, int64_t, int32_t, uint8_t. unary_grad_loop: float, double.
template <typename T> UnaryLoop<T> unary_loop(Isa isa);
template <typename T> UnaryGradLoop<T> unary_grad_loop(Isa isa);

}  // namespace graft::kernels::cpu
