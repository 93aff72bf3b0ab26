// RMSprop's update of one parameter, written on the contiguous data as torch's
// _single_tensor_rmsprop does it with tensor ops.
#include "nn/optim/rmsprop.h"

#include <cmath>

namespace graft::optim {

namespace {

Options rmsprop_table() {
    Options t;
    t.lr = 1e-2;
    t.alpha = 0.99;
    t.eps = 1e-8;
    t.weight_decay = 0.0;
    t.momentum = 0.0;
    t.centered = false;
    t.maximize = false;
    return t;
}

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, const Options& options)
    : Optimizer("RMSprop", rmsprop_table(), options) {
    add_groups({ParamGroup{std::move(params), {}, ""}});
}

RMSprop::RMSprop(std::vector<ParamGroup> groups, const Options& options)
    : Optimizer("RMSprop", rmsprop_table(), options) {
    add_groups(std::move(groups));
}

// With g = ±grad (+ weight_decay * p):
//   s = alpha * s + (1 - alpha) * g * g
//   centered    a = alpha * a + (1 - alpha) * g;   avg = sqrt(s - a * a) + eps
//   otherwise   avg = sqrt(s) + eps
//   momentum    b = momentum * b + g / avg;        p = p - lr * b
//   otherwise   p = p - lr * g / avg
void RMSprop::update(const Options& o, const Tensor& param, const Tensor& grad, ParamState& state) {
    const double lr = *o.lr, alpha = *o.alpha, eps = *o.eps, wd = *o.weight_decay, momentum = *o.momentum;
    const bool centered = *o.centered, maximize = *o.maximize;
    Tensor square_avg = state.buffer("square_avg", param);
    Tensor buffer = momentum > 0 ? state.buffer("momentum_buffer", param) : Tensor();
    Tensor grad_avg = centered ? state.buffer("grad_avg", param) : Tensor();
    visit_float(param.dtype(), "RMSprop", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = param.data<T>();
        const T* g = grad.data<T>();
        T* s = square_avg.data<T>();
        T* b = momentum > 0 ? buffer.data<T>() : nullptr;
        T* a = centered ? grad_avg.data<T>() : nullptr;
        for_each_chunk(param.numel(), [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                T d = maximize ? -g[i] : g[i];
                if (wd != 0) d = d + T(wd) * p[i];
                s[i] = s[i] * T(alpha) + T(1 - alpha) * d * d;
                T avg;
                if (centered) {
                    a[i] = a[i] * T(alpha) + T(1 - alpha) * d;
                    avg = std::sqrt(s[i] + T(-1) * a[i] * a[i]);
                } else {
                    avg = std::sqrt(s[i]);
                }
                avg = avg + T(eps);
                if (momentum > 0) {
                    b[i] = b[i] * T(momentum) + d / avg;
                    p[i] = p[i] + T(-lr) * b[i];
                } else {
                    p[i] = p[i] + T(-lr) * d / avg;
                }
            }
        });
    });
}

}  // namespace graft::optim
