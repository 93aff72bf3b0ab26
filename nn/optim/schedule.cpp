// The learning-rate schedules of schedule.h: the base's step bookkeeping and
// state, and the single schedules (step, multi-step, exponential, linear,
// cosine, cosine with warm restarts, one-cycle). Each formula is torch 1.13's,
// with its operations in the same order so the doubles agree. Composition
// (SequentialLR, ChainedScheduler) and ReduceLROnPlateau are in
// schedule_compose.cpp.
#include "nn/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "nn/optim/schedule_state.h"

namespace graft::optim {

using nlohmann::json;
using std::numbers::pi;

// ---- base ------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer, std::string type_name)
    : optimizer_(optimizer), type_name_(std::move(type_name)) {
    for (size_t i = 0; i < optimizer_.num_groups(); ++i) {
        Options& o = optimizer_.options(i);
        if (!o.initial_lr) o.initial_lr = *o.lr;  // torch: group.setdefault('initial_lr', group['lr'])
        base_lrs_.push_back(*o.initial_lr);
    }
}

void LRScheduler::initial_step() {
    step_count_ = 0;
    step();
}

std::vector<double> LRScheduler::group_lrs() const {
    std::vector<double> lrs;
    for (size_t i = 0; i < optimizer_.num_groups(); ++i) lrs.push_back(optimizer_.lr(i));
    return lrs;
}

void LRScheduler::apply(const std::vector<double>& lrs) {
    for (size_t i = 0; i < lrs.size(); ++i) optimizer_.set_lr(i, lrs[i]);
    last_lr_ = group_lrs();
}

void LRScheduler::step() {
    ++step_count_;
    ++last_epoch_;
    apply(get_lr());
}

void LRScheduler::step_to(int64_t epoch) {
    ++step_count_;
    last_epoch_ = epoch;
    apply(closed_form_lr());
}

std::string LRScheduler::state_dict() const {
    SchedulerState state;
    state.json = {{"type", type_name_},       {"last_epoch", last_epoch_}, {"step_count", step_count_},
                  {"base_lrs", base_lrs_},    {"last_lr", last_lr_}};
    save_extra(state);
    return state.json.dump();
}

void LRScheduler::load_state_dict(const std::string& text) {
    const std::string op = type_name_ + ".load_state_dict";
    const json j = parse_scheduler_state(text, type_name_);
    try {
        auto base_lrs = j.at("base_lrs").get<std::vector<double>>();
        check(base_lrs.size() == optimizer_.num_groups(), op.c_str(), "the state has ", base_lrs.size(),
              " groups, the optimizer has ", optimizer_.num_groups());
        SchedulerState state{j};
        load_extra(state);  // first: it may throw before anything changes here
        base_lrs_ = std::move(base_lrs);
        last_epoch_ = j.at("last_epoch").get<int64_t>();
        step_count_ = j.at("step_count").get<int64_t>();
        last_lr_ = j.at("last_lr").get<std::vector<double>>();
    } catch (const json::exception& e) {
        throw Error(cat_str(op, ": malformed state (", e.what(), ")"));
    }
}

// ---- StepLR, MultiStepLR, ExponentialLR -----------------------------------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer, "StepLR"), step_size_(step_size), gamma_(gamma) {
    check(step_size > 0, "StepLR", "step_size must be positive, got ", step_size);
    initial_step();
}

std::vector<double> StepLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
    for (double& lr : lrs) lr = lr * gamma_;
    return lrs;
}

std::vector<double> StepLR::closed_form_lr() {
    std::vector<double> lrs;
    for (double base : base_lrs_) lrs.push_back(base * std::pow(gamma_, double(last_epoch_ / step_size_)));
    return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer, "MultiStepLR"), milestones_(std::move(milestones)), gamma_(gamma) {
    std::sort(milestones_.begin(), milestones_.end());
    initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
    if (hits == 0) return lrs;
    for (double& lr : lrs) lr = lr * std::pow(gamma_, double(hits));
    return lrs;
}

std::vector<double> MultiStepLR::closed_form_lr() {
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
    std::vector<double> lrs;
    for (double base : base_lrs_) lrs.push_back(base * std::pow(gamma_, double(passed)));
    return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer, "ExponentialLR"), gamma_(gamma) {
    initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    if (last_epoch_ == 0) return lrs;
    for (double& lr : lrs) lr = lr * gamma_;
    return lrs;
}

std::vector<double> ExponentialLR::closed_form_lr() {
    std::vector<double> lrs;
    for (double base : base_lrs_) lrs.push_back(base * std::pow(gamma_, double(last_epoch_)));
    return lrs;
}

// ---- LinearLR --------------------------------------------------------------------

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer, "LinearLR"), start_factor_(start_factor), end_factor_(end_factor),
      total_iters_(total_iters) {
    check(start_factor > 0 && start_factor <= 1, "LinearLR", "start_factor must be in (0, 1], got ", start_factor);
    check(end_factor >= 0 && end_factor <= 1, "LinearLR", "end_factor must be in [0, 1], got ", end_factor);
    check(total_iters > 0, "LinearLR", "total_iters must be positive, got ", total_iters);
    initial_step();
}

// Epoch e (1 <= e <= total) multiplies by the ratio of consecutive factors:
//   lr *= 1 + (end - start) / (total * start + (e - 1) * (end - start))
std::vector<double> LinearLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    const double span = end_factor_ - start_factor_;
    if (last_epoch_ == 0) {
        for (double& lr : lrs) lr = lr * start_factor_;
    } else if (last_epoch_ <= total_iters_) {
        const double ratio = 1. + span / (double(total_iters_) * start_factor_ + double(last_epoch_ - 1) * span);
        for (double& lr : lrs) lr = lr * ratio;
    }
    return lrs;
}

std::vector<double> LinearLR::closed_form_lr() {
    const double done = double(std::min(total_iters_, last_epoch_));
    std::vector<double> lrs;
    for (double base : base_lrs_)
        lrs.push_back(base * (start_factor_ + (end_factor_ - start_factor_) * done / double(total_iters_)));
    return lrs;
}

// ---- CosineAnnealingLR -----------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer, "CosineAnnealingLR"), T_max_(T_max), eta_min_(eta_min) {
    check(T_max > 0, "CosineAnnealingLR", "T_max must be positive, got ", T_max);
    initial_step();
}

// torch's recursive form: each step scales (lr - eta_min) by the ratio of
// consecutive cosine factors; at the bottom of a period (where that ratio would
// divide by zero) it adds the first step's increment instead.
std::vector<double> CosineAnnealingLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    const double e = double(last_epoch_), T = double(T_max_);
    if (last_epoch_ == 0) return lrs;
    if (step_count_ == 1 && last_epoch_ > 0) return closed_form_lr();
    for (size_t i = 0; i < lrs.size(); ++i) {
        if ((last_epoch_ - 1 - T_max_) % (2 * T_max_) == 0)
            lrs[i] = lrs[i] + (base_lrs_[i] - eta_min_) * (1 - std::cos(pi / T)) / 2;
        else
            lrs[i] = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (lrs[i] - eta_min_) + eta_min_;
    }
    return lrs;
}

std::vector<double> CosineAnnealingLR::closed_form_lr() {
    std::vector<double> lrs;
    for (double base : base_lrs_)
        lrs.push_back(eta_min_ + (base - eta_min_) * (1 + std::cos(pi * double(last_epoch_) / double(T_max_))) / 2);
    return lrs;
}

// ---- CosineAnnealingWarmRestarts ---------------------------------------------------

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& optimizer, int64_t T_0, int64_t T_mult,
                                                         double eta_min)
    : LRScheduler(optimizer, "CosineAnnealingWarmRestarts"), T_0_(T_0), T_mult_(T_mult), eta_min_(eta_min),
      T_i_(T_0), T_cur_(-1) {
    check(T_0 > 0, "CosineAnnealingWarmRestarts", "T_0 must be a positive integer, got ", T_0);
    check(T_mult >= 1, "CosineAnnealingWarmRestarts", "T_mult must be an integer >= 1, got ", T_mult);
    initial_step();
}

std::vector<double> CosineAnnealingWarmRestarts::get_lr() {
    std::vector<double> lrs;
    for (double base : base_lrs_)
        lrs.push_back(eta_min_ + (base - eta_min_) * (1 + std::cos(pi * T_cur_ / double(T_i_))) / 2);
    return lrs;
}

void CosineAnnealingWarmRestarts::write_lrs() { apply(get_lr()); }

// T_cur += 1; at the end of a period T_cur -= T_i and T_i *= T_mult.
void CosineAnnealingWarmRestarts::step() {
    if (last_epoch_ < 0) return step_to(0);
    last_epoch_ += 1;
    T_cur_ = T_cur_ + 1;
    if (T_cur_ >= double(T_i_)) {
        T_cur_ = T_cur_ - double(T_i_);
        T_i_ = T_i_ * T_mult_;
    }
    write_lrs();
}

// The period containing `epoch`: with T_mult > 1, n = floor(log_{T_mult}(epoch / T_0
// * (T_mult - 1) + 1)) restarts have passed, T_i = T_0 * T_mult^n.
void CosineAnnealingWarmRestarts::step_to(int64_t epoch) {
    check(epoch >= 0, "CosineAnnealingWarmRestarts", "expected a non-negative epoch, got ", epoch);
    if (epoch >= T_0_) {
        if (T_mult_ == 1) {
            T_cur_ = double(epoch % T_0_);
        } else {
            const double x = double(epoch) / double(T_0_) * double(T_mult_ - 1) + 1;
            const int64_t n = int64_t(std::log(x) / std::log(double(T_mult_)));
            const double power = std::pow(double(T_mult_), double(n));
            T_cur_ = double(epoch) - double(T_0_) * (power - 1) / double(T_mult_ - 1);
            T_i_ = T_0_ * int64_t(power);
        }
    } else {
        T_i_ = T_0_;
        T_cur_ = double(epoch);
    }
    last_epoch_ = epoch;
    write_lrs();
}

void CosineAnnealingWarmRestarts::save_extra(SchedulerState& state) const {
    state.json["T_i"] = T_i_;
    state.json["T_cur"] = T_cur_;
}

void CosineAnnealingWarmRestarts::load_extra(const SchedulerState& state) {
    const int64_t T_i = state.json.at("T_i").get<int64_t>();
    T_cur_ = state.json.at("T_cur").get<double>();
    T_i_ = T_i;
}

// ---- OneCycleLR --------------------------------------------------------------------

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, OneCycleOptions options)
    : OneCycleLR(optimizer, std::vector<double>(optimizer.num_groups(), max_lr), total_steps, options) {}

OneCycleLR::OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, int64_t total_steps,
                       OneCycleOptions options)
    : LRScheduler(optimizer, "OneCycleLR"), total_steps_(total_steps), options_(options) {
    const char* op = "OneCycleLR";
    check(total_steps > 0, op, "total_steps must be positive, got ", total_steps);
    check(max_lrs.size() == optimizer.num_groups(), op, "expected ", optimizer.num_groups(), " max_lrs, got ",
          max_lrs.size());
    check(options.pct_start >= 0 && options.pct_start <= 1, op, "pct_start must be in [0, 1], got ",
          options.pct_start);
    check(!options.cycle_momentum || optimizer.uses_momentum() || optimizer.uses_betas(), op,
          optimizer.type_name(), " has no momentum to cycle; set cycle_momentum = false");
    const double pct = options.pct_start, total = double(total_steps);
    enum { kInitial = 0, kMax = 1, kMin = 2, kMaxMomentum = 0, kBaseMomentum = 1 };
    if (options.three_phase)
        phases_ = {{pct * total - 1, kInitial, kMax, kMaxMomentum, kBaseMomentum},
                   {2 * pct * total - 2, kMax, kInitial, kBaseMomentum, kMaxMomentum},
                   {total - 1, kInitial, kMin, kMaxMomentum, kMaxMomentum}};
    else
        phases_ = {{pct * total - 1, kInitial, kMax, kMaxMomentum, kBaseMomentum},
                   {total - 1, kMax, kMin, kBaseMomentum, kMaxMomentum}};
    for (size_t i = 0; i < optimizer.num_groups(); ++i) {
        const double initial = max_lrs[i] / options.div_factor;
        lrs_.push_back({initial, max_lrs[i], initial / options.final_div_factor});
        momentums_.push_back({options.max_momentum, options.base_momentum});
        Options& o = optimizer.options(i);
        o.initial_lr = initial;
        base_lrs_[i] = initial;
        if (!options.cycle_momentum) continue;
        if (o.betas)
            (*o.betas)[0] = options.max_momentum;
        else
            o.momentum = options.max_momentum;
    }
    initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
    if (!options_.cos_anneal) return (end - start) * pct + start;
    const double cos_out = std::cos(pi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

// In the phase holding step s (from start_step to end_step): pct = (s - start) /
// (end - start); lr = anneal(phase start lr, phase end lr, pct), likewise momentum.
std::vector<double> OneCycleLR::get_lr() {
    check(last_epoch_ <= total_steps_, "OneCycleLR", "tried to step ", last_epoch_ + 1,
          " times; the specified number of total steps is ", total_steps_);
    const double s = double(last_epoch_);
    std::vector<double> lrs;
    for (size_t g = 0; g < lrs_.size(); ++g) {
        double start_step = 0;
        for (size_t i = 0; i < phases_.size(); ++i) {
            const Phase& phase = phases_[i];
            if (s <= phase.end_step || i + 1 == phases_.size()) {
                const double pct = (s - start_step) / (phase.end_step - start_step);
                lrs.push_back(anneal(lrs_[g][phase.start_lr], lrs_[g][phase.end_lr], pct));
                if (options_.cycle_momentum) {
                    const double m = anneal(momentums_[g][phase.start_momentum], momentums_[g][phase.end_momentum], pct);
                    Options& o = optimizer_.options(g);
                    if (o.betas)
                        (*o.betas)[0] = m;
                    else
                        o.momentum = m;
                }
                break;
            }
            start_step = phase.end_step;
        }
    }
    return lrs;
}

}  // namespace graft::optim
