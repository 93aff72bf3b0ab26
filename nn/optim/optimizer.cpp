// Optimizer: parameter groups, option merging, the step loop that skips frozen
// parameters, and zero_grad. Checkpoints are in optimizer_state.cpp; the update
// rules in sgd.cpp, adam.cpp (Adam and AdamW) and rmsprop.cpp.
#include "nn/optim/optimizer.h"

#include <cmath>
#include <unordered_set>

#include "core/autograd/grad_mode.h"
#include "core/ops/creation.h"
#include "kernels/parallel.h"
#include "nn/optim/options_json.h"

namespace graft::optim {

void for_each_chunk(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    constexpr int64_t kGrain = 1 << 15;  // elements per chunk; small tensors run inline
    parallel_for(0, n, kGrain, fn);
}

const Tensor& Optimizer::ParamState::buffer(const std::string& name, const Tensor& param) {
    if (const Tensor* found = buffers.find(name)) return *found;
    buffers.set(name, zeros_like(param));
    return buffers.at(name);
}

Optimizer::Optimizer(std::string type_name, Options table, const Options& options)
    : type_name_(std::move(type_name)), table_(std::move(table)) {
    for_each_option([&](const char* name, auto member) {
        if (!(table_.*member)) {
            check(!(options.*member), type_name_.c_str(), "option '", name, "' is not used by ", type_name_);
            return;
        }
        defaults_.*member = (options.*member) ? options.*member : table_.*member;
    });
    check(!std::isnan(*defaults_.lr), type_name_.c_str(), "lr is required (torch has no default for it)");
    check(!options.initial_lr, type_name_.c_str(), "initial_lr is set by schedules, not by options");
}

void Optimizer::check_options(const Options& o, const std::string& where) const {
    const char* op = type_name_.c_str();
    check(*o.lr >= 0, op, "invalid lr ", *o.lr, " in ", where);
    if (o.weight_decay) check(*o.weight_decay >= 0, op, "invalid weight_decay ", *o.weight_decay, " in ", where);
    if (o.momentum) check(*o.momentum >= 0, op, "invalid momentum ", *o.momentum, " in ", where);
    if (o.eps) check(*o.eps >= 0, op, "invalid eps ", *o.eps, " in ", where);
    if (o.alpha) check(*o.alpha >= 0, op, "invalid alpha ", *o.alpha, " in ", where);
    if (o.betas) {
        for (int i = 0; i < 2; ++i)
            check((*o.betas)[i] >= 0 && (*o.betas)[i] < 1, op, "invalid beta parameter at index ", i, ": ",
                  (*o.betas)[i], " in ", where, " (need 0 <= beta < 1)");
    }
}

Options Optimizer::merge(const Options& group, const std::string& where) const {
    Options out;
    for_each_option([&](const char* name, auto member) {
        if (!(table_.*member)) {
            check(!(group.*member), type_name_.c_str(), "option '", name, "' in ", where, " is not used by ",
                  type_name_);
            return;
        }
        out.*member = (group.*member) ? group.*member : defaults_.*member;
    });
    out.initial_lr = group.initial_lr;
    return out;
}

std::string Optimizer::group_label(size_t index) const {
    const std::string& name = index < groups_.size() ? groups_[index].name : std::string();
    return name.empty() ? cat_str("group ", index) : cat_str("group ", index, " ('", name, "')");
}

void Optimizer::add_param_group(ParamGroup group) {
    const std::string where = group.name.empty() ? cat_str("group ", groups_.size())
                                                 : cat_str("group ", groups_.size(), " ('", group.name, "')");
    const char* op = type_name_.c_str();
    std::unordered_set<const TensorImpl*> seen;
    for (const auto& g : groups_)
        for (const auto& p : g.params) seen.insert(p.impl());
    for (size_t i = 0; i < group.params.size(); ++i) {
        const Tensor& p = group.params[i];
        check(p.defined(), op, "parameter ", i, " of ", where, " is undefined");
        check(p.is_leaf(), op, "parameter ", i, " of ", where, " is not a leaf; optimizers update leaves only");
        check(p.dtype() == DType::Float32 || p.dtype() == DType::Float64, op, "parameter ", i, " of ", where,
              " is ", describe(p), "; only float32 and float64 parameters are supported");
        check(p.device().is_cpu(), op, "parameter ", i, " of ", where, " is ", describe(p), "; only CPU is supported");
        check(p.is_contiguous(), op, "parameter ", i, " of ", where, " is not contiguous");
        check(seen.insert(p.impl()).second, op, "parameter ", i, " of ", where,
              " appears in more than one place among the parameter groups");
    }
    group.options = merge(group.options, where);
    check_options(group.options, where);
    groups_.push_back(std::move(group));
}

void Optimizer::add_groups(std::vector<ParamGroup> groups) {
    check(!groups.empty(), type_name_.c_str(), "got an empty list of parameter groups");
    for (auto& g : groups) add_param_group(std::move(g));
}

Options& Optimizer::options(size_t group) {
    check(group < groups_.size(), type_name_.c_str(), "group ", group, " out of range (", groups_.size(), " groups)");
    return groups_[group].options;
}

double Optimizer::lr(size_t group) const {
    check(group < groups_.size(), type_name_.c_str(), "group ", group, " out of range (", groups_.size(), " groups)");
    return *groups_[group].options.lr;
}

void Optimizer::set_lr(size_t group, double lr) { options(group).lr = lr; }

void Optimizer::step() {
    NoGradGuard no_grad;
    const char* op = type_name_.c_str();
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
        const ParamGroup& group = groups_[gi];
        for (size_t i = 0; i < group.params.size(); ++i) {
            const Tensor& p = group.params[i];
            if (!p.requires_grad()) continue;
            Tensor grad = p.grad();
            if (!grad.defined()) continue;
            // set_data may have changed a parameter since it was added.
            check(p.is_contiguous() && p.device().is_cpu(), op, "parameter ", i, " of ", group_label(gi),
                  " is no longer a contiguous CPU tensor");
            check(grad.dtype() == p.dtype() && grad.shape() == p.shape(), op, "gradient ", describe(grad),
                  " of parameter ", i, " of ", group_label(gi), " does not match the parameter ", describe(p));
            ParamState& state = state_[p.impl()];
            ++state.step;
            update(group.options, p, grad.contiguous(), state);
            p.storage()->bump_version();
        }
    }
}

void Optimizer::zero_grad(bool set_to_none) {
    NoGradGuard no_grad;
    for (const auto& group : groups_) {
        for (const auto& p : group.params) {
            Tensor grad = p.grad();
            if (!grad.defined()) continue;
            if (set_to_none)
                p.set_grad(Tensor());
            else
                grad.zero_();
        }
    }
}

}  // namespace graft::optim
