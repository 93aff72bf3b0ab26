// Adam's (and AdamW's) update of one parameter, written on the contiguous data
// as torch's _single_tensor_adam / _single_tensor_adamw do it with tensor ops.
#include "nn/optim/adam.h"

#include <algorithm>
#include <cmath>

namespace graft::optim {

namespace {

Options adam_table(double weight_decay) {
    Options t;
    t.lr = 1e-3;
    t.betas = std::array<double, 2>{0.9, 0.999};
    t.eps = 1e-8;
    t.weight_decay = weight_decay;
    t.amsgrad = false;
    t.maximize = false;
    return t;
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, const Options& options)
    : Adam("Adam", 0.0, false, {ParamGroup{std::move(params), {}, ""}}, options) {}

Adam::Adam(std::vector<ParamGroup> groups, const Options& options)
    : Adam("Adam", 0.0, false, std::move(groups), options) {}

Adam::Adam(std::string type_name, double default_weight_decay, bool decoupled, std::vector<ParamGroup> groups,
           const Options& options)
    : Optimizer(std::move(type_name), adam_table(default_weight_decay), options), decoupled_(decoupled) {
    add_groups(std::move(groups));
}

// With t the step count (1 on the first step) and g = ±grad:
//   Adam (L2)      g = g + weight_decay * p
//   AdamW          p = p * (1 - lr * weight_decay)
//   moments        m = beta1 * m + (1 - beta1) * g
//                  v = beta2 * v + (1 - beta2) * g * g
//   AMSGrad        v_max = max(v_max, v), used in place of v below
//   update         p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
void Adam::update(const Options& o, const Tensor& param, const Tensor& grad, ParamState& state) {
    const double lr = *o.lr, beta1 = (*o.betas)[0], beta2 = (*o.betas)[1], eps = *o.eps, wd = *o.weight_decay;
    const bool amsgrad = *o.amsgrad, maximize = *o.maximize, decoupled = decoupled_;
    // Scalars in double, as torch computes them in Python.
    const double step = double(state.step);
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, step));
    const double step_size = lr / bias_correction1;
    Tensor exp_avg = state.buffer("exp_avg", param);
    Tensor exp_avg_sq = state.buffer("exp_avg_sq", param);
    Tensor max_exp_avg_sq = amsgrad ? state.buffer("max_exp_avg_sq", param) : Tensor();
    visit_float(param.dtype(), type_name().c_str(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = param.data<T>();
        const T* g = grad.data<T>();
        T* m = exp_avg.data<T>();
        T* v = exp_avg_sq.data<T>();
        T* v_max = amsgrad ? max_exp_avg_sq.data<T>() : nullptr;
        for_each_chunk(param.numel(), [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                T d = maximize ? -g[i] : g[i];
                if (decoupled)
                    p[i] = p[i] * T(1 - lr * wd);
                else if (wd != 0)
                    d = d + T(wd) * p[i];
                m[i] = m[i] * T(beta1) + T(1 - beta1) * d;
                v[i] = v[i] * T(beta2) + T(1 - beta2) * d * d;
                T second = v[i];
                if (amsgrad) second = v_max[i] = std::max(v_max[i], v[i]);
                const T denom = std::sqrt(second) / T(bias_correction2_sqrt) + T(eps);
                p[i] = p[i] + T(-step_size) * m[i] / denom;
            }
        });
    });
}

}  // namespace graft::optim
