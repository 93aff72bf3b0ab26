// Gradient clipping by global norm and by value. The norm is accumulated in
// double per tensor, then combined across tensors the way torch does:
// norm(stack([norm(g_i, p) for i]), p), or the max of the maxima for inf.
#include "nn/optim/clip.h"

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "nn/optim/optimizer.h"

namespace graft::optim {

namespace {

// The gradients of `params` that exist, checked and made contiguous.
std::vector<Tensor> gradients_of(const std::vector<Tensor>& params, const char* op) {
    std::vector<Tensor> grads;
    for (const Tensor& p : params) {
        Tensor g = p.defined() ? p.grad() : Tensor();
        if (!g.defined()) continue;
        check(g.device().is_cpu(), op, "only CPU gradients are supported, got ", describe(g));
        grads.push_back(g);
    }
    return grads;
}

// ||g||_p of one tensor (max |g| for p = inf), accumulated in double.
double tensor_norm(const Tensor& grad, double p, const char* op) {
    const Tensor g = grad.contiguous();
    double result = 0;
    visit_float(g.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* x = g.data<T>();
        const int64_t n = g.numel();
        double acc = 0;
        if (std::isinf(p)) {
            for (int64_t i = 0; i < n; ++i) acc = std::max(acc, double(std::abs(x[i])));
            result = acc;
        } else if (p == 2) {
            for (int64_t i = 0; i < n; ++i) acc += double(x[i]) * double(x[i]);
            result = std::sqrt(acc);
        } else {
            for (int64_t i = 0; i < n; ++i) acc += std::pow(std::abs(double(x[i])), p);
            result = std::pow(acc, 1.0 / p);
        }
    });
    return result;
}

// ||v||_p of the per-tensor norms (all non-negative).
double combine_norms(const std::vector<double>& norms, double p) {
    if (std::isinf(p)) return *std::max_element(norms.begin(), norms.end());
    double acc = 0;
    for (double v : norms) acc += p == 2 ? v * v : std::pow(v, p);
    return p == 2 ? std::sqrt(acc) : std::pow(acc, 1.0 / p);
}

// grad[i] = fn(grad[i]) in place, on the gradient's own storage.
template <typename Fn>
void map_(const Tensor& grad, const char* op, Fn&& fn) {
    NoGradGuard no_grad;
    const Tensor g = grad.contiguous();
    visit_float(g.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* x = g.data<T>();
        for_each_chunk(g.numel(), [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) x[i] = fn(x[i]);
        });
    });
    if (!g.is_same(grad)) grad.copy_(g);
    grad.storage()->bump_version();
}

}  // namespace

// total = ||(||g_1||, ..., ||g_n||)||;  g_i = g_i * min(1, max_norm / (total + 1e-6))
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
    const char* op = "clip_grad_norm_";
    check(norm_type > 0, op, "norm_type must be positive (or kInfNorm), got ", norm_type);
    const std::vector<Tensor> grads = gradients_of(params, op);
    if (grads.empty()) return 0.0;
    std::vector<double> norms;
    for (const Tensor& g : grads) norms.push_back(tensor_norm(g, norm_type, op));
    const double total = combine_norms(norms, norm_type);
    check(!error_if_nonfinite || std::isfinite(total), op, "the total norm of order ", norm_type,
          " of the gradients is non-finite (", total, "), so it cannot be clipped");
    const double clip_coef = max_norm / (total + 1e-6);
    if (!(clip_coef >= 1.0)) {  // torch scales by clamp(coef, max=1): NaN stays NaN
        for (const Tensor& g : grads)
            visit_float(g.dtype(), op, [&](auto tag) {
                using T = typename decltype(tag)::type;
                map_(g, op, [c = T(clip_coef)](T x) { return x * c; });
            });
    }
    return total;
}

// g = clamp(g, -clip_value, clip_value)
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
    const char* op = "clip_grad_value_";
    check(clip_value >= 0, op, "clip_value must be non-negative, got ", clip_value);
    for (const Tensor& g : gradients_of(params, op)) {
        visit_float(g.dtype(), op, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T lo = T(-clip_value), hi = T(clip_value);
            map_(g, op, [=](T x) { return x < lo ? lo : (x > hi ? hi : x); });
        });
    }
}

}  // namespace graft::optim
