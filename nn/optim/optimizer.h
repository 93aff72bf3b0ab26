// Optimizer: the base of SGD, Adam, AdamW and RMSprop (see their headers).
//
// It holds parameter groups (tensors plus their own hyper-parameters), the
// per-parameter state (momentum buffers, moment estimates, step counts), and
// turns both into a NamedTensors for checkpoints. A subclass writes one thing:
// the update of one parameter from its gradient, exactly as torch.optim does.
//
//   optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9});
//   optim::AdamW adamw({{.params = trunk, .options = {.lr = 1e-4}, .name = "trunk"},
//                       {.params = head, .name = "head"}},
//                      {.lr = 1e-3, .weight_decay = 0.05});
//   loss.backward(); adamw.step(); adamw.zero_grad();
//
// Hyper-parameters follow torch's dicts: an option a group leaves unset comes
// from the optimizer's options, and one those leave unset from torch's default.
// Setting an option the optimizer does not use (betas on SGD) is an error.
//
// step() skips parameters whose requires_grad is off or whose grad is undefined,
// records nothing for autograd and writes parameters in place (bumping their
// version counters). Parameters must be contiguous float32/float64 leaves.
//
// Leaves out: step(closure), sparse and complex gradients, foreach/fused
// multi-tensor kernels, CUDA-graph capture, float16 parameters.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/named_tensors.h"
#include "core/tensor.h"

namespace graft::optim {

// Hyper-parameters of one group, by torch's names. Each optimizer documents
// which it reads; after construction every one it reads is set in every group.
// Designated initializers follow this order: {.lr, .momentum, .dampening,
// .nesterov, .betas, .eps, .alpha, .centered, .amsgrad, .weight_decay, .maximize}.
struct Options {
    std::optional<double> lr{};
    std::optional<double> momentum{};               // SGD, RMSprop
    std::optional<double> dampening{};              // SGD
    std::optional<bool> nesterov{};                 // SGD
    std::optional<std::array<double, 2>> betas{};   // Adam, AdamW: {beta1, beta2}
    std::optional<double> eps{};                    // Adam, AdamW, RMSprop
    std::optional<double> alpha{};                  // RMSprop
    std::optional<bool> centered{};                 // RMSprop
    std::optional<bool> amsgrad{};                  // Adam, AdamW
    std::optional<double> weight_decay{};           // all
    std::optional<bool> maximize{};                 // all
    // The lr a schedule started from (torch's group['initial_lr']); set by the
    // first schedule built on the optimizer, unset before.
    std::optional<double> initial_lr{};
};

struct ParamGroup {
    std::vector<Tensor> params{};
    Options options{};
    std::string name{};  // optional; used in error messages and checkpoints
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // "SGD", "Adam", ...
    const std::string& type_name() const { return type_name_; }
    // The optimizer-wide options (torch's `defaults`), every used one set.
    const Options& defaults() const { return defaults_; }
    // Whether this optimizer reads `betas` (Adam, AdamW) rather than `momentum`.
    bool uses_betas() const { return table_.betas.has_value(); }
    bool uses_momentum() const { return table_.momentum.has_value(); }

    // Adds a group; unset options are filled from defaults(). Throws Error if a
    // tensor is already in a group, is not a contiguous floating-point leaf, or an
    // option is invalid or unused by this optimizer.
    void add_param_group(ParamGroup group);
    const std::vector<ParamGroup>& param_groups() const { return groups_; }
    size_t num_groups() const { return groups_.size(); }
    // Writable hyper-parameters of a group (schedules write lr and momentum).
    Options& options(size_t group);
    double lr(size_t group = 0) const;
    void set_lr(size_t group, double lr);

    // One update of every parameter that has a gradient, under NoGradGuard.
    void step();
    // Drops the gradients (set_to_none) or zeroes them in place.
    void zero_grad(bool set_to_none = true);

    // Per-parameter state as tensors "state.<index>.<buffer>" (index counts the
    // parameters of all groups in order; "state.<index>.step" is an int64
    // scalar) and metadata "optimizer" (the type) and "param_groups" (JSON: each
    // group's name, options and parameter indices). Tensors are copies.
    NamedTensors state_dict() const;
    // Restores what state_dict() wrote: checks the type, group and parameter
    // counts, buffer names and shapes first and throws Error naming the first
    // difference (then nothing has changed); then replaces the state and the
    // groups' options (copying tensors, converted to each parameter's dtype).
    void load_state_dict(const NamedTensors& state);

protected:
    // `table` lists the options this optimizer reads, with torch's defaults; an
    // lr that is NaN there is required. `options` are the user's defaults.
    Optimizer(std::string type_name, Options table, const Options& options);
    void add_groups(std::vector<ParamGroup> groups);

    struct ParamState {
        int64_t step = 0;
        NamedTensors buffers;  // "momentum_buffer", "exp_avg", ... in creation order
        // The buffer `name`, created as zeros shaped like `param` if absent.
        const Tensor& buffer(const std::string& name, const Tensor& param);
    };
    // Updates `param` in place from `grad` (same dtype and shape, contiguous).
    virtual void update(const Options& options, const Tensor& param, const Tensor& grad, ParamState& state) = 0;
    // Buffer names a checkpoint may hold for this optimizer.
    virtual std::vector<std::string> state_names() const = 0;
    // Range checks of merged options (throws Error naming the option and group).
    virtual void check_options(const Options& options, const std::string& where) const;

private:
    Options merge(const Options& group, const std::string& where) const;
    std::string group_label(size_t index) const;
    void check_state(const NamedTensors& state, const std::vector<Tensor>& flat) const;

    std::string type_name_;
    Options table_;
    Options defaults_;
    std::vector<ParamGroup> groups_;
    std::unordered_map<const TensorImpl*, ParamState> state_;
};

// Runs fn(begin, end) over [0, n) in chunks, threaded when n is large. The
// elementwise updates are independent, so any split gives the same result.
void for_each_chunk(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

// Calls fn(TypeTag<float>) or fn(TypeTag<double>) for a float32/float64 dtype;
// throws Error naming `op` otherwise.
template <typename Fn>
void visit_float(DType dtype, const char* op, Fn&& fn) {
    if (dtype == DType::Float32) return fn(TypeTag<float>{});
    if (dtype == DType::Float64) return fn(TypeTag<double>{});
    throw Error(cat_str(op, ": parameters must be float32 or float64, got ", dtype_name(dtype)));
}

}  // namespace graft::optim
