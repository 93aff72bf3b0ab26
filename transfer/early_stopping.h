// EarlyStopping: stop training when a monitored metric has not improved for
// `patience` epochs, keeping the best epoch's weights (in a file, atomically,
// and/or in memory) and putting them back at the end. Plugs into fit():
//
//   transfer::EarlyStopping stopper(*model, {.monitor = "val_loss", .patience = 3,
//                                            .best_path = "runs/a/best.safetensors"});
//   fit_options.on_epoch_end = stopper;       // copies share one state
//   transfer::fit(*model, opt, train, val, fit_options);
//   stopper.restore();                         // the best epoch's weights, whether or not it stopped
//   std::printf("best val_loss %.4f at epoch %lld\n", stopper.best(), (long long)stopper.best_epoch());
//
// Monitors: "val_loss" and "train_loss" are minimised, "val_acc" and
// "train_acc" maximised. An epoch improves when it beats the best by more
// than min_delta (loss < best - min_delta; acc > best + min_delta); the first
// epoch always does. After `patience` epochs in a row without improvement the
// call returns false (stop). A NaN value of the monitored metric (val_loss
// without validation data, an accuracy without num_classes) is an Error
// naming the monitor, not a silent "no improvement".
//
// The best weights: on each improvement, with best_path set, the model is
// saved there as a Graft checkpoint (transfer/checkpoint.h: model tensors only,
// metadata "epoch" and "extra" = {"monitor": ..., "value": ..., "epoch": ...}),
// atomically, so a crash leaves the previous best. Without best_path they are
// kept as a copy in memory. restore() loads them back (from memory, else the
// file); with restore_best the call that returns false restores them itself,
// but a run that ends by reaching its last epoch needs restore() from the
// caller, since the callback cannot know the last epoch.
//
// Copies (e.g. the one std::function holds inside FitOptions) share state with
// the original, so the caller's object sees what the callback saw. The model
// must outlive them all.
// Leaves out: resuming its own state from a fit checkpoint (a resumed run
// starts counting patience afresh), monitors other than the four above.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "transfer/training/fit.h"

namespace graft::nn {
class Module;
}

namespace graft::transfer {

struct EarlyStoppingOptions {
    std::string monitor = "val_loss";  // or val_acc, train_loss, train_acc
    int64_t patience = 3;              // epochs without improvement before stopping (>= 1)
    double min_delta = 0;              // an improvement must exceed this (>= 0)
    std::string best_path;             // save the model here (atomically) when it improves; "" keeps it in memory
    bool restore_best = true;          // load the best weights back when stopping
};

class EarlyStopping {
public:
    EarlyStopping(nn::Module& model, EarlyStoppingOptions options = {});

    // Records the epoch; false means stop.
    bool operator()(const EpochResult& epoch);

    double best() const;          // the best value seen (NaN before the first epoch)
    int64_t best_epoch() const;   // its epoch (0 before the first)
    int64_t bad_epochs() const;   // epochs since the last improvement
    bool stopped() const;         // whether a call returned false
    // Loads the best epoch's weights into the model. Throws Error before any epoch.
    void restore();

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace graft::transfer
