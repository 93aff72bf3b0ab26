// Schedules built from schedules (SequentialLR, ChainedScheduler), the metric-
// driven ReduceLROnPlateau, and the JSON parsing their states share. Same
// behaviour as torch 1.13's classes of those names.
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "nn/optim/schedule.h"
#include "nn/optim/schedule_state.h"

namespace graft::optim {

using nlohmann::json;

json parse_scheduler_state(const std::string& text, const std::string& type_name) {
    const std::string op = type_name + ".load_state_dict";
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(cat_str(op, ": the state is not valid JSON (", e.what(), ")"));
    }
    check(j.is_object() && j.contains("type") && j["type"].is_string(), op.c_str(), "the state has no \"type\"");
    const std::string saved = j["type"].get<std::string>();
    check(saved == type_name, op.c_str(), "the state was saved by ", saved, ", not ", type_name);
    return j;
}

namespace {

Optimizer& common_optimizer(const std::vector<std::shared_ptr<LRScheduler>>& schedulers, const char* op) {
    check(!schedulers.empty(), op, "needs at least one scheduler");
    for (size_t i = 0; i < schedulers.size(); ++i) {
        check(schedulers[i] != nullptr, op, "scheduler ", i, " is null");
        check(&schedulers[i]->optimizer() == &schedulers[0]->optimizer(), op, "scheduler ", i,
              " drives a different optimizer than scheduler 0");
    }
    return schedulers[0]->optimizer();
}

// {"type": ..., "last_epoch": ..., "last_lr": [...], "schedulers": [<child state>, ...]}
std::string nested_state(const std::string& type, int64_t last_epoch, const std::vector<double>& last_lr,
                         const std::vector<std::shared_ptr<LRScheduler>>& schedulers) {
    json j = {{"type", type}, {"last_epoch", last_epoch}, {"last_lr", last_lr}, {"schedulers", json::array()}};
    for (const auto& s : schedulers) j["schedulers"].push_back(json::parse(s->state_dict()));
    return j.dump();
}

// Loads the children's states; returns the saved last_epoch and last_lr.
std::pair<int64_t, std::vector<double>> load_nested(const std::string& text, const std::string& type,
                                                    const std::vector<std::shared_ptr<LRScheduler>>& schedulers) {
    const std::string op = type + ".load_state_dict";
    const json j = parse_scheduler_state(text, type);
    try {
        const json& children = j.at("schedulers");
        check(children.is_array() && children.size() == schedulers.size(), op.c_str(), "the state holds ",
              children.is_array() ? children.size() : 0, " schedulers, this ", type, " has ", schedulers.size());
        for (size_t i = 0; i < schedulers.size(); ++i) {
            const std::string saved = children[i].value("type", std::string("?"));
            check(saved == schedulers[i]->type_name(), op.c_str(), "scheduler ", i, " is ",
                  schedulers[i]->type_name(), " but the state holds ", saved);
        }
        auto result = std::make_pair(j.at("last_epoch").get<int64_t>(), j.at("last_lr").get<std::vector<double>>());
        for (size_t i = 0; i < schedulers.size(); ++i) schedulers[i]->load_state_dict(children[i].dump());
        return result;
    } catch (const json::exception& e) {
        throw Error(cat_str(op, ": malformed state (", e.what(), ")"));
    }
}

}  // namespace

// ---- SequentialLR ------------------------------------------------------------------

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler(optimizer, "SequentialLR"), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
    const char* op = "SequentialLR";
    check(&common_optimizer(schedulers_, op) == &optimizer, op, "the schedulers drive a different optimizer");
    check(milestones_.size() + 1 == schedulers_.size(), op, "expects one milestone fewer than schedulers, got ",
          schedulers_.size(), " schedulers and ", milestones_.size(), " milestones");
    check(std::is_sorted(milestones_.begin(), milestones_.end()), op, "milestones must be increasing");
    // As torch: restart from the initial lrs and replay scheduler 0's first step.
    last_epoch_ = 0;
    for (size_t i = 0; i < optimizer.num_groups(); ++i) optimizer.set_lr(i, *optimizer.options(i).initial_lr);
    for (auto& s : schedulers_) s->last_epoch_ -= 1;
    schedulers_[0]->initial_step();
    last_lr_ = schedulers_[0]->last_lr();
}

void SequentialLR::step() {
    ++last_epoch_;
    const size_t idx = std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
    LRScheduler& scheduler = *schedulers_[idx];
    if (idx > 0 && milestones_[idx - 1] == last_epoch_)
        scheduler.step_to(0);
    else
        scheduler.step();
    last_lr_ = scheduler.last_lr();
}

void SequentialLR::step_to(int64_t) { throw Error("SequentialLR: step_to is not supported (as in torch)"); }

std::string SequentialLR::state_dict() const {
    return nested_state(type_name_, last_epoch_, last_lr_, schedulers_);
}

void SequentialLR::load_state_dict(const std::string& text) {
    std::tie(last_epoch_, last_lr_) = load_nested(text, type_name_, schedulers_);
}

// ---- ChainedScheduler --------------------------------------------------------------

ChainedScheduler::ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers)
    : LRScheduler(common_optimizer(schedulers, "ChainedScheduler"), "ChainedScheduler"),
      schedulers_(std::move(schedulers)) {
    last_lr_ = group_lrs();
}

void ChainedScheduler::step() {
    for (auto& s : schedulers_) s->step();
    last_lr_ = group_lrs();
}

void ChainedScheduler::step_to(int64_t) { throw Error("ChainedScheduler: step_to is not supported (as in torch)"); }

std::string ChainedScheduler::state_dict() const {
    return nested_state(type_name_, last_epoch_, last_lr_, schedulers_);
}

void ChainedScheduler::load_state_dict(const std::string& text) {
    std::tie(last_epoch_, last_lr_) = load_nested(text, type_name_, schedulers_);
}

// ---- ReduceLROnPlateau ---------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
    const char* op = "ReduceLROnPlateau";
    check(options_.factor < 1.0, op, "factor should be < 1.0, got ", options_.factor);
    if (options_.min_lrs.empty()) {
        min_lrs_.assign(optimizer.num_groups(), options_.min_lr);
    } else {
        check(options_.min_lrs.size() == optimizer.num_groups(), op, "expected ", optimizer.num_groups(),
              " min_lrs, got ", options_.min_lrs.size());
        min_lrs_ = options_.min_lrs;
    }
    best_ = options_.mode_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < optimizer.num_groups(); ++i) last_lr_.push_back(optimizer.lr(i));
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
    const double t = options_.threshold;
    if (!options_.mode_max) return options_.threshold_abs ? a < best - t : a < best * (1. - t);
    return options_.threshold_abs ? a > best + t : a > best * (t + 1.);
}

// Each group: lr = max(lr * factor, min_lr), unless that changes it by <= eps.
void ReduceLROnPlateau::reduce_lr() {
    for (size_t i = 0; i < optimizer_.num_groups(); ++i) {
        const double old_lr = optimizer_.lr(i);
        const double new_lr = std::max(old_lr * options_.factor, min_lrs_[i]);
        if (old_lr - new_lr > options_.eps) optimizer_.set_lr(i, new_lr);
    }
}

// Counts epochs without improvement (none during cooldown); after more than
// `patience` of them, reduces the lrs and starts a cooldown.
void ReduceLROnPlateau::step(double metric) {
    last_epoch_ += 1;
    if (is_better(metric, best_)) {
        best_ = metric;
        num_bad_epochs_ = 0;
    } else {
        num_bad_epochs_ += 1;
    }
    if (cooldown_counter_ > 0) {
        cooldown_counter_ -= 1;
        num_bad_epochs_ = 0;
    }
    if (num_bad_epochs_ > options_.patience) {
        reduce_lr();
        cooldown_counter_ = options_.cooldown;
        num_bad_epochs_ = 0;
    }
    last_lr_.clear();
    for (size_t i = 0; i < optimizer_.num_groups(); ++i) last_lr_.push_back(optimizer_.lr(i));
}

std::string ReduceLROnPlateau::state_dict() const {
    // JSON has no infinity: an unset best (still the mode's worst) is null.
    json best = std::isinf(best_) ? json(nullptr) : json(best_);
    json j = {{"type", "ReduceLROnPlateau"},           {"last_epoch", last_epoch_}, {"best", best},
              {"num_bad_epochs", num_bad_epochs_},     {"cooldown_counter", cooldown_counter_},
              {"last_lr", last_lr_}};
    return j.dump();
}

void ReduceLROnPlateau::load_state_dict(const std::string& text) {
    const json j = parse_scheduler_state(text, "ReduceLROnPlateau");
    try {
        const double worst = options_.mode_max ? -std::numeric_limits<double>::infinity()
                                               : std::numeric_limits<double>::infinity();
        const double best = j.at("best").is_null() ? worst : j.at("best").get<double>();
        const auto last_lr = j.at("last_lr").get<std::vector<double>>();
        check(last_lr.size() == optimizer_.num_groups(), "ReduceLROnPlateau.load_state_dict", "the state has ",
              last_lr.size(), " groups, the optimizer has ", optimizer_.num_groups());
        last_epoch_ = j.at("last_epoch").get<int64_t>();
        num_bad_epochs_ = j.at("num_bad_epochs").get<int64_t>();
        cooldown_counter_ = j.at("cooldown_counter").get<int64_t>();
        best_ = best;
        last_lr_ = last_lr;
    } catch (const json::exception& e) {
        throw Error(cat_str("ReduceLROnPlateau.load_state_dict: malformed state (", e.what(), ")"));
    }
}

}  // namespace graft::optim
