// SGD's update of one parameter, written on the contiguous data as torch's
// _single_tensor_sgd does it with tensor ops.
#include "nn/optim/sgd.h"

#include <cmath>
#include <limits>

namespace graft::optim {

namespace {

Options sgd_table() {
    Options t;
    t.lr = std::numeric_limits<double>::quiet_NaN();  // required
    t.momentum = 0.0;
    t.dampening = 0.0;
    t.weight_decay = 0.0;
    t.nesterov = false;
    t.maximize = false;
    return t;
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, const Options& options) : Optimizer("SGD", sgd_table(), options) {
    add_groups({ParamGroup{std::move(params), {}, ""}});
}

SGD::SGD(std::vector<ParamGroup> groups, const Options& options) : Optimizer("SGD", sgd_table(), options) {
    add_groups(std::move(groups));
}

void SGD::check_options(const Options& o, const std::string& where) const {
    Optimizer::check_options(o, where);
    check(!*o.nesterov || (*o.momentum > 0 && *o.dampening == 0), "SGD",
          "Nesterov momentum requires a momentum and zero dampening (", where, ")");
}

// With d = ±grad (+ weight_decay * p):
//   first step   b = d
//   later        b = momentum * b + (1 - dampening) * d
//   direction    d = nesterov ? d + momentum * b : b      (when momentum != 0)
//   update       p = p - lr * d
void SGD::update(const Options& o, const Tensor& param, const Tensor& grad, ParamState& state) {
    const double lr = *o.lr, momentum = *o.momentum, dampening = *o.dampening, wd = *o.weight_decay;
    const bool nesterov = *o.nesterov, maximize = *o.maximize;
    const bool first = state.buffers.find("momentum_buffer") == nullptr;
    Tensor buffer = momentum != 0 ? state.buffer("momentum_buffer", param) : Tensor();
    visit_float(param.dtype(), "SGD", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = param.data<T>();
        const T* g = grad.data<T>();
        T* b = momentum != 0 ? buffer.data<T>() : nullptr;
        for_each_chunk(param.numel(), [&](int64_t begin, int64_t end) {
            if (momentum != 0 && !first && !maximize && wd == 0 && !nesterov) {
                // The common case without per-element branches, so the compiler
                // vectorises it; the same arithmetic as the general loop below.
                const T m = T(momentum), c = T(1 - dampening), step = T(-lr);
                for (int64_t i = begin; i < end; ++i) {
                    b[i] = b[i] * m + c * g[i];
                    p[i] = p[i] + step * b[i];
                }
                return;
            }
            for (int64_t i = begin; i < end; ++i) {
                T d = maximize ? -g[i] : g[i];
                if (wd != 0) d = d + T(wd) * p[i];
                if (momentum != 0) {
                    b[i] = first ? d : b[i] * T(momentum) + T(1 - dampening) * d;
                    d = nesterov ? d + T(momentum) * b[i] : b[i];
                }
                p[i] = p[i] + T(-lr) * d;
            }
        });
    });
}

}  // namespace graft::optim
