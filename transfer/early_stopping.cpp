// EarlyStopping (early_stopping.h): the improvement rule and where the best
// weights live.
#include "transfer/early_stopping.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "nn/module.h"
#include "transfer/checkpoint.h"

namespace graft::transfer {

struct EarlyStopping::State {
    nn::Module& model;
    EarlyStoppingOptions options;
    bool maximize = false;
    double best = NAN;
    int64_t best_epoch = 0;
    int64_t bad_epochs = 0;
    bool stopped = false;
    NamedTensors best_weights;  // only without best_path

    double value(const EpochResult& e) const {
        const std::string& m = options.monitor;
        const double v = m == "val_loss" ? e.val_loss : m == "val_acc" ? e.val_acc : m == "train_loss" ? e.train_loss
                                                                                                         : e.train_acc;
        check(!std::isnan(v), "EarlyStopping", "the monitored ", m, " is NaN at epoch ", e.epoch,
              m.rfind("val_", 0) == 0 ? " (was validation data given to fit?)" : "",
              m.size() > 4 && m.substr(m.size() - 4) == "_acc" ? " (accuracy needs FitOptions::num_classes > 0)" : "");
        return v;
    }
    bool improves(double v) const {
        if (best_epoch == 0) return true;
        return maximize ? v > best + options.min_delta : v < best - options.min_delta;
    }
    void keep(const EpochResult& e, double v) {
        if (!options.best_path.empty()) {
            const nlohmann::json extra{{"monitor", options.monitor}, {"value", v}, {"epoch", e.epoch}};
            save_checkpoint(options.best_path, {.model = &model, .rng = nullptr},
                            {.epoch = e.epoch, .step = e.steps, .extra_json = extra.dump()});
            return;
        }
        best_weights = NamedTensors();
        for (const auto& [name, t] : model.state_dict()) best_weights.set(name, t.clone());  // state_dict shares storage
    }
};

EarlyStopping::EarlyStopping(nn::Module& model, EarlyStoppingOptions options) {
    const std::string& m = options.monitor;
    check(m == "val_loss" || m == "val_acc" || m == "train_loss" || m == "train_acc", "EarlyStopping",
          "monitor must be val_loss, val_acc, train_loss or train_acc, got \"", m, "\"");
    check(options.patience >= 1, "EarlyStopping", "patience must be at least 1, got ", options.patience);
    check(options.min_delta >= 0, "EarlyStopping", "min_delta must be >= 0, got ", options.min_delta);
    const bool maximize = m.ends_with("_acc");
    state_ = std::make_shared<State>(State{.model = model, .options = std::move(options), .maximize = maximize});
}

bool EarlyStopping::operator()(const EpochResult& epoch) {
    State& s = *state_;
    const double v = s.value(epoch);
    if (s.improves(v)) {
        s.best = v;
        s.best_epoch = epoch.epoch;
        s.bad_epochs = 0;
        s.keep(epoch, v);
        return true;
    }
    if (++s.bad_epochs < s.options.patience) return true;
    s.stopped = true;
    if (s.options.restore_best) restore();
    return false;
}

double EarlyStopping::best() const { return state_->best; }
int64_t EarlyStopping::best_epoch() const { return state_->best_epoch; }
int64_t EarlyStopping::bad_epochs() const { return state_->bad_epochs; }
bool EarlyStopping::stopped() const { return state_->stopped; }

void EarlyStopping::restore() {
    State& s = *state_;
    check(s.best_epoch > 0, "EarlyStopping::restore", "no epoch has been recorded yet");
    if (s.options.best_path.empty()) s.model.load_state_dict(s.best_weights);
    else load_checkpoint(s.options.best_path, {.model = &s.model, .rng = nullptr});
}

}  // namespace graft::transfer
