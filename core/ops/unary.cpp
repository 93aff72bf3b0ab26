// Unary elementwise math: each forward is one kernel pass (kernels/cpu/elementwise/
// unary.h) and its backward is written beside it, from other ops or, where it
// saves passes, a backward kernel. Integer inputs of exp, log, log1p, sqrt and
// rsqrt compute in float32; neg, abs, sign and clamp keep integer dtypes.
#include "core/ops/unary.h"

#include <cmath>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/creation.h"
#include "core/ops/unary_common.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;
using detail::IntInputs;
using detail::UnaryArgs;
using kernels::cpu::UnaryGradOp;
using kernels::cpu::UnaryOp;

// d(-x) = -1
Tensor neg(const Tensor& t) {
    Tensor out = detail::unary_forward("neg", UnaryOp::Neg, t, IntInputs::Keep);
    if (autograd::should_record({&t}))
        autograd::record("neg", {t}, out, [](const Tensor& g, const Needs&) { return Grads{neg(g)}; });
    return out;
}

// d exp(x) = exp(x): the saved output
Tensor exp(const Tensor& t) {
    Tensor out = detail::unary_forward("exp", UnaryOp::Exp, t, IntInputs::ToFloat);
    if (autograd::should_record({&t}))
        autograd::record("exp", {t}, out, [so = SavedTensor(out)](const Tensor& g, const Needs&) {
            return Grads{mul(g, so.get("exp"))};
        });
    return out;
}

// d log(x) = 1/x
Tensor log(const Tensor& t) {
    Tensor out = detail::unary_forward("log", UnaryOp::Log, t, IntInputs::ToFloat);
    if (autograd::should_record({&t}))
        autograd::record("log", {t}, out,
                         [sx = SavedTensor(t)](const Tensor& g, const Needs&) { return Grads{div(g, sx.get("log"))}; });
    return out;
}

// d log(1 + x) = 1/(1 + x)
Tensor log1p(const Tensor& t) {
    Tensor out = detail::unary_forward("log1p", UnaryOp::Log1p, t, IntInputs::ToFloat);
    if (autograd::should_record({&t}))
        autograd::record("log1p", {t}, out, [sx = SavedTensor(t)](const Tensor& g, const Needs&) {
            return Grads{div(g, add(sx.get("log1p"), 1.0))};
        });
    return out;
}

// d sqrt(x) = 1 / (2 sqrt(x)): from the saved output
Tensor sqrt(const Tensor& t) {
    Tensor out = detail::unary_forward("sqrt", UnaryOp::Sqrt, t, IntInputs::ToFloat);
    if (autograd::should_record({&t}))
        autograd::record("sqrt", {t}, out, [so = SavedTensor(out)](const Tensor& g, const Needs&) {
            return Grads{div(g, mul(so.get("sqrt"), 2.0))};
        });
    return out;
}

// d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2 with y the saved output
Tensor rsqrt(const Tensor& t) {
    Tensor out = detail::unary_forward("rsqrt", UnaryOp::Rsqrt, t, IntInputs::ToFloat);
    if (autograd::should_record({&t}))
        autograd::record("rsqrt", {t}, out, [so = SavedTensor(out)](const Tensor& g, const Needs&) {
            const Tensor y = so.get("rsqrt");
            return Grads{mul(g, mul(mul(y, mul(y, y)), -0.5))};
        });
    return out;
}

// d |x| = sign(x) (0 at 0)
Tensor abs(const Tensor& t) {
    Tensor out = detail::unary_forward("abs", UnaryOp::Abs, t, IntInputs::Keep);
    if (autograd::should_record({&t}))
        autograd::record("abs", {t}, out, [sx = SavedTensor(t)](const Tensor& g, const Needs&) {
            return Grads{detail::unary_backward("abs", UnaryGradOp::Abs, sx.get("abs"), g)};
        });
    return out;
}

// d sign(x) = 0 (almost everywhere, and taken as 0 at 0)
Tensor sign(const Tensor& t) {
    Tensor out = detail::unary_forward("sign", UnaryOp::Sign, t, IntInputs::Keep);
    if (autograd::should_record({&t}))
        autograd::record("sign", {t}, out, [](const Tensor& g, const Needs&) { return Grads{zeros_like(g)}; });
    return out;
}

namespace {

// PyTorch promotes an integer tensor clamped by float bounds to float32. The
// bounds arrive as doubles, so an integral value counts as an integer bound.
IntInputs clamp_int_inputs(std::optional<double> lo, std::optional<double> hi) {
    const auto fractional = [](std::optional<double> b) { return b && *b != std::floor(*b); };
    return fractional(lo) || fractional(hi) ? IntInputs::ToFloat : IntInputs::Keep;
}

}  // namespace

// d clamp(x, lo, hi) = 1 where lo <= x <= hi (inclusive, as PyTorch), else 0
Tensor clamp(const Tensor& t, std::optional<double> min, std::optional<double> max) {
    check(min || max, "clamp", "at least one of min and max must be given (", describe(t), ")");
    const UnaryArgs args{.lo = min, .hi = max};
    Tensor out = detail::unary_forward("clamp", UnaryOp::Clamp, t, clamp_int_inputs(min, max), args);
    if (autograd::should_record({&t}))
        autograd::record("clamp", {t}, out, [sx = SavedTensor(t), args](const Tensor& g, const Needs&) {
            return Grads{detail::unary_backward("clamp", UnaryGradOp::Clamp, sx.get("clamp"), g, args)};
        });
    return out;
}

const Tensor& neg_(const Tensor& t) {
    return detail::unary_inplace("neg_", UnaryOp::Neg, t, IntInputs::Keep, {}, [](const Tensor& s) { return neg(s); });
}
const Tensor& exp_(const Tensor& t) {
    return detail::unary_inplace("exp_", UnaryOp::Exp, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return exp(s); });
}
const Tensor& log_(const Tensor& t) {
    return detail::unary_inplace("log_", UnaryOp::Log, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return log(s); });
}
const Tensor& log1p_(const Tensor& t) {
    return detail::unary_inplace("log1p_", UnaryOp::Log1p, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return log1p(s); });
}
const Tensor& sqrt_(const Tensor& t) {
    return detail::unary_inplace("sqrt_", UnaryOp::Sqrt, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return sqrt(s); });
}
const Tensor& rsqrt_(const Tensor& t) {
    return detail::unary_inplace("rsqrt_", UnaryOp::Rsqrt, t, IntInputs::ToFloat, {},
                                 [](const Tensor& s) { return rsqrt(s); });
}
const Tensor& abs_(const Tensor& t) {
    return detail::unary_inplace("abs_", UnaryOp::Abs, t, IntInputs::Keep, {}, [](const Tensor& s) { return abs(s); });
}
const Tensor& sign_(const Tensor& t) {
    return detail::unary_inplace("sign_", UnaryOp::Sign, t, IntInputs::Keep, {},
                                 [](const Tensor& s) { return sign(s); });
}
const Tensor& clamp_(const Tensor& t, std::optional<double> min, std::optional<double> max) {
    check(min || max, "clamp_", "at least one of min and max must be given (", describe(t), ")");
    return detail::unary_inplace("clamp_", UnaryOp::Clamp, t, clamp_int_inputs(min, max), {.lo = min, .hi = max},
                                 [min, max](const Tensor& s) { return clamp(s, min, max); });
}

}  // namespace graft
