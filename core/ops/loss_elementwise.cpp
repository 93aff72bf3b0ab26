// The elementwise losses: mse_loss, l1_loss and smooth_l1_loss, written from
// differentiable primitives (their gradients are the primitives', the
// composites their own oracle), and binary_cross_entropy_with_logits, which
// has its own backward: its stable form goes through |x| and max(-x, 0),
// whose kinks at 0 would give the composite a wrong gradient at x == 0, a
// value a zero-initialised head produces. Reductions: none keeps the
// broadcast shape, mean divides by its element count, sum adds.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/indexing.h"
#include "core/ops/loss.h"
#include "core/ops/reduction.h"
#include "core/ops/unary.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

Tensor reduce(const Tensor& loss, Reduction reduction) {
    if (reduction == Reduction::Mean) return mean(loss);
    if (reduction == Reduction::Sum) return sum(loss);
    return loss;
}

void check_pair(const Tensor& input, const Tensor& target, const char* op) {
    check(is_floating(input.dtype()) && is_floating(target.dtype()), op,
          "expected floating-point input and target, got ", describe(input), " and ", describe(target));
}

// softplus(-x) = log(1 + exp(-x)), in the form that never overflows.
double softplus_neg(double x) { return std::log1p(std::exp(-std::fabs(x))) + std::max(-x, 0.0); }
// sigmoid(-x) = 1 - sigmoid(x), without cancellation for large x.
double sigmoid_neg(double x) {
    if (x >= 0) {
        const double e = std::exp(-x);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + std::exp(x));
}

// Broadcasts an optional per-element factor to `shape` as float64 values (1 when absent).
std::vector<double> factor_values(const Tensor& f, const Shape& shape, const char* what, const char* op) {
    if (!f.defined()) return std::vector<double>(size_t(shape_numel(shape)), 1.0);
    check(broadcast_shapes(shape, f.shape(), op) == shape, op, what, " ", describe(f),
          " does not broadcast to the input's shape ", shape_str(shape));
    return f.detach().to(DType::Float64).expand(shape).contiguous().to_vector<double>();
}

// The backward of binary_cross_entropy_with_logits (formulas at the op).
Grads bce_backward(const Tensor& g_in, const Tensor& logits, const Tensor& target, const std::vector<double>& w,
                   const std::vector<double>& pw, Reduction reduction, const Needs& needs) {
    const Shape& shape = logits.shape();
    const auto x = logits.to(DType::Float64).contiguous().to_vector<double>();
    const auto t = target.to(DType::Float64).contiguous().to_vector<double>();
    // The output gradient spread over the elements: g, g / numel or g[i].
    Tensor g = g_in.to(DType::Float64);
    if (reduction == Reduction::Mean) g = div(g, double(shape_numel(shape)));
    const std::vector<double> gv = g.expand(shape).contiguous().to_vector<double>();
    std::vector<double> dx(needs[0] ? x.size() : 0), dt(needs[1] ? x.size() : 0);
    for (size_t i = 0; i < x.size(); ++i) {
        const double gw = gv[i] * w[i];
        if (needs[0]) dx[i] = gw * ((1.0 - t[i]) - (1.0 + (pw[i] - 1.0) * t[i]) * sigmoid_neg(x[i]));
        if (needs[1]) dt[i] = gw * (-x[i] + (pw[i] - 1.0) * softplus_neg(x[i]));
    }
    return Grads{needs[0] ? from_vector(dx, shape).to(logits.dtype()) : Tensor(),
                 needs[1] ? from_vector(dt, shape).to(target.dtype()) : Tensor()};
}

}  // namespace

// d (a - b)² = 2 (a - b) (1, -1)
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_pair(input, target, "mse_loss");
    const Tensor d = sub(input, target);
    return reduce(mul(d, d), reduction);
}

// d |a - b| = sign(a - b) (1, -1), 0 at a == b (as torch)
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_pair(input, target, "l1_loss");
    return reduce(abs(sub(input, target)), reduction);
}

// 0.5 d² / beta where |d| < beta, |d| - 0.5 beta elsewhere; d = a - b.
// beta == 0 is l1_loss (torch), which also keeps d²/0 out of the graph.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta, Reduction reduction) {
    check_pair(input, target, "smooth_l1_loss");
    check(beta >= 0.0, "smooth_l1_loss", "beta must be non-negative, got ", beta);
    if (beta == 0.0) return l1_loss(input, target, reduction);
    const Tensor d = sub(input, target);
    const Tensor ad = abs(d);
    const Tensor quadratic = mul(mul(d, d), 0.5 / beta), linear = sub(ad, 0.5 * beta);
    return reduce(where(lt(ad.detach(), beta), quadratic, linear), reduction);
}

// l = w ((1 - t) x + lw softplus(-x)),   lw = 1 + (pos_weight - 1) t
// dl/dx = w ((1 - t) - lw sigmoid(-x)),   dl/dt = w (-x + (pos_weight - 1) softplus(-x))
// weight and pos_weight are constants (torch does not differentiate them either).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
    const char* op = "binary_cross_entropy_with_logits";
    check_pair(logits, target, op);
    check(logits.shape() == target.shape(), op, "target ", describe(target), " must have the shape of input ",
          describe(logits));
    check(logits.device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(logits));
    const Shape& shape = logits.shape();
    const std::vector<double> x = logits.detach().to(DType::Float64).contiguous().to_vector<double>();
    const std::vector<double> t = target.detach().to(DType::Float64).contiguous().to_vector<double>();
    const auto w = std::make_shared<const std::vector<double>>(factor_values(weight, shape, "weight", op));
    const auto pw = std::make_shared<const std::vector<double>>(factor_values(pos_weight, shape, "pos_weight", op));
    std::vector<double> loss(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        loss[i] = (*w)[i] * ((1.0 - t[i]) * x[i] + (1.0 + ((*pw)[i] - 1.0) * t[i]) * softplus_neg(x[i]));
    const Tensor elementwise = from_vector(loss, shape).to(logits.dtype());
    Tensor out;
    {
        NoGradGuard no_grad;  // the reduction is part of this op's own backward below
        out = reduce(elementwise, reduction);
    }
    if (autograd::should_record({&logits, &target})) {
        autograd::record("bce_with_logits", {logits, target}, out,
                         [sx = SavedTensor(logits), st = SavedTensor(target), w, pw, reduction](const Tensor& g,
                                                                                              const Needs& needs) {
                             return bce_backward(g, sx.get("bce_with_logits"), st.get("bce_with_logits"), *w, *pw,
                                                 reduction, needs);
                         });
    }
    return out;
}

}  // namespace graft
