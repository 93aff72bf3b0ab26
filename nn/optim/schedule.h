// Learning-rate schedules: objects that write the lr of every parameter group
// of an Optimizer, with torch.optim.lr_scheduler's formulas (1.13) so that the
// learning rates match torch's step for step.
//
//   optim::SGD sgd(params, {.lr = 0.1, .momentum = 0.9});
//   optim::CosineAnnealingLR cosine(sgd, /*T_max=*/100);
//   for (...) { ...; sgd.step(); cosine.step(); }
//
// As in torch, constructing a schedule performs its first step (epoch 0) and
// records each group's starting lr as Options::initial_lr (the first schedule
// on an optimizer sets it; later ones reuse it). step() advances one epoch with
// torch's recursive ("chainable") form; step_to(epoch) jumps with the closed
// form, as torch's deprecated step(epoch), which SequentialLR uses at its
// milestones. Schedules compose: SequentialLR hands over at milestones,
// ChainedScheduler steps several every time (their factors multiply).
//
// state_dict() is JSON text with the type and the counters (last_epoch, ...);
// load_state_dict() checks the type and group count and restores them. The
// hyper-parameters (gamma, T_max, ...) come from construction, not the state.
//
// Leaves out: LambdaLR, MultiplicativeLR, ConstantLR, PolynomialLR, CyclicLR,
// verbose printing and torch's call-order warnings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/optim/optimizer.h"

namespace graft::optim {

struct SchedulerState;  // JSON, defined in schedule.cpp

class LRScheduler {
public:
    virtual ~LRScheduler() = default;
    LRScheduler(const LRScheduler&) = delete;
    LRScheduler& operator=(const LRScheduler&) = delete;

    // Advances one epoch (or iteration) and writes each group's lr.
    virtual void step();
    // Sets the epoch and writes the closed-form lrs (torch's step(epoch)).
    virtual void step_to(int64_t epoch);
    // The lrs written by the last step, one per group.
    const std::vector<double>& last_lr() const { return last_lr_; }
    int64_t last_epoch() const { return last_epoch_; }
    const std::vector<double>& base_lrs() const { return base_lrs_; }
    Optimizer& optimizer() const { return optimizer_; }
    const std::string& type_name() const { return type_name_; }

    virtual std::string state_dict() const;
    // Throws Error naming the difference when the type or group count differ.
    virtual void load_state_dict(const std::string& json);

protected:
    // Records initial_lr in each group that lacks one; base_lrs = initial_lrs.
    LRScheduler(Optimizer& optimizer, std::string type_name);
    // torch's _initial_step: resets the step count and steps once. Derived
    // constructors call it last.
    void initial_step();
    // The lrs for last_epoch_ from the groups' current lrs (recursive form).
    virtual std::vector<double> get_lr() = 0;
    // The lrs for last_epoch_ from base_lrs_ (closed form; get_lr by default).
    virtual std::vector<double> closed_form_lr() { return get_lr(); }
    void apply(const std::vector<double>& lrs);
    std::vector<double> group_lrs() const;
    virtual void save_extra(SchedulerState&) const {}
    virtual void load_extra(const SchedulerState&) {}

    Optimizer& optimizer_;
    std::string type_name_;
    std::vector<double> base_lrs_;
    std::vector<double> last_lr_;
    int64_t last_epoch_ = -1;
    int64_t step_count_ = 0;  // torch's _step_count (CosineAnnealingLR reads it)

    friend class SequentialLR;
    friend class ChainedScheduler;
};

// lr = base_lr * gamma^(epoch / step_size)   (integer division)
class StepLR : public LRScheduler {
public:
    StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

protected:
    std::vector<double> get_lr() override;
    std::vector<double> closed_form_lr() override;

private:
    int64_t step_size_;
    double gamma_;
};

// lr = base_lr * gamma^(number of milestones <= epoch)   (repeats count twice)
class MultiStepLR : public LRScheduler {
public:
    MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

protected:
    std::vector<double> get_lr() override;
    std::vector<double> closed_form_lr() override;

private:
    std::vector<int64_t> milestones_;  // sorted
    double gamma_;
};

// lr = base_lr * gamma^epoch
class ExponentialLR : public LRScheduler {
public:
    ExponentialLR(Optimizer& optimizer, double gamma);

protected:
    std::vector<double> get_lr() override;
    std::vector<double> closed_form_lr() override;

private:
    double gamma_;
};

// lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters):
// torch's LinearLR; with end_factor 1 it is a linear warm-up.
class LinearLR : public LRScheduler {
public:
    LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);

protected:
    std::vector<double> get_lr() override;
    std::vector<double> closed_form_lr() override;

private:
    double start_factor_, end_factor_;
    int64_t total_iters_;
};
using LinearWarmup = LinearLR;

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
public:
    CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0);

protected:
    std::vector<double> get_lr() override;
    std::vector<double> closed_form_lr() override;

private:
    int64_t T_max_;
    double eta_min_;
};

// SGDR: cosine from base_lr to eta_min over T_i epochs, then restart with
// T_i *= T_mult. lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2
class CosineAnnealingWarmRestarts : public LRScheduler {
public:
    CosineAnnealingWarmRestarts(Optimizer& optimizer, int64_t T_0, int64_t T_mult = 1, double eta_min = 0.0);
    void step() override;
    void step_to(int64_t epoch) override;

protected:
    std::vector<double> get_lr() override;
    void save_extra(SchedulerState& state) const override;
    void load_extra(const SchedulerState& state) override;

private:
    void write_lrs();
    int64_t T_0_, T_mult_;
    double eta_min_;
    int64_t T_i_;
    double T_cur_;
};

struct OneCycleOptions {
    double pct_start = 0.3;
    bool cos_anneal = true;       // torch's anneal_strategy 'cos' (false: 'linear')
    bool cycle_momentum = true;   // momentum (SGD, RMSprop) or beta1 (Adam, AdamW)
    double base_momentum = 0.85;
    double max_momentum = 0.95;
    double div_factor = 25.0;     // initial_lr = max_lr / div_factor
    double final_div_factor = 1e4;  // min_lr = initial_lr / final_div_factor
    bool three_phase = false;
};

// The 1cycle policy: lr rises from max_lr/div_factor to max_lr over pct_start of
// total_steps, then anneals to initial_lr/final_div_factor (three_phase: back to
// initial_lr first); momentum moves the opposite way. Stepping past total_steps
// throws, as in torch.
class OneCycleLR : public LRScheduler {
public:
    OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, int64_t total_steps, OneCycleOptions options = {});
    OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, OneCycleOptions options = {});

protected:
    std::vector<double> get_lr() override;

private:
    struct Phase {
        double end_step;
        int start_lr, end_lr, start_momentum, end_momentum;  // indices into the per-group values below
    };
    double anneal(double start, double end, double pct) const;
    int64_t total_steps_;
    OneCycleOptions options_;
    std::vector<Phase> phases_;
    // Per group: [initial_lr, max_lr, min_lr] and [max_momentum, base_momentum].
    std::vector<std::array<double, 3>> lrs_;
    std::vector<std::array<double, 2>> momentums_;
};

// Runs schedulers[0] until milestones[0], then schedulers[1] (restarted with
// step_to(0)) until milestones[1], ... All must drive `optimizer`.
class SequentialLR : public LRScheduler {
public:
    SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                 std::vector<int64_t> milestones);
    void step() override;
    void step_to(int64_t epoch) override;  // throws: torch has no closed form either
    std::string state_dict() const override;
    void load_state_dict(const std::string& json) override;

protected:
    std::vector<double> get_lr() override { return group_lrs(); }

private:
    std::vector<std::shared_ptr<LRScheduler>> schedulers_;
    std::vector<int64_t> milestones_;
};

// Steps every scheduler on each step(), in order: multiplicative schedules
// compose (e.g. a warm-up LinearLR with an ExponentialLR decay).
class ChainedScheduler : public LRScheduler {
public:
    explicit ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers);
    void step() override;
    void step_to(int64_t epoch) override;  // throws
    std::string state_dict() const override;
    void load_state_dict(const std::string& json) override;

protected:
    std::vector<double> get_lr() override { return group_lrs(); }

private:
    std::vector<std::shared_ptr<LRScheduler>> schedulers_;
};

struct PlateauOptions {
    bool mode_max = false;   // torch's mode 'max' (false: 'min')
    double factor = 0.1;     // lr = max(lr * factor, min_lr)
    int64_t patience = 10;   // bad epochs tolerated before reducing
    double threshold = 1e-4;
    bool threshold_abs = false;  // torch's threshold_mode 'abs' (false: 'rel')
    int64_t cooldown = 0;    // epochs to wait after a reduction
    double min_lr = 0.0;     // for every group (min_lrs overrides per group)
    std::vector<double> min_lrs{};
    double eps = 1e-8;       // reductions smaller than eps are skipped
};

// Reduces the lrs when a metric stops improving. Not an LRScheduler: its step
// takes the metric, and it cannot sit inside SequentialLR (as in torch).
class ReduceLROnPlateau {
public:
    ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options = {});
    void step(double metric);
    const std::vector<double>& last_lr() const { return last_lr_; }
    int64_t last_epoch() const { return last_epoch_; }
    double best() const { return best_; }
    int64_t num_bad_epochs() const { return num_bad_epochs_; }
    std::string state_dict() const;
    void load_state_dict(const std::string& json);

private:
    bool is_better(double a, double best) const;
    void reduce_lr();
    Optimizer& optimizer_;
    PlateauOptions options_;
    std::vector<double> min_lrs_;
    double best_;
    int64_t num_bad_epochs_ = 0;
    int64_t cooldown_counter_ = 0;
    int64_t last_epoch_ = 0;
    std::vector<double> last_lr_;
};

}  // namespace graft::optim
