// LR finder: train for a short while with a learning rate growing
// exponentially from tiny to huge, watch the loss, and pick a rate from the
// curve (Leslie Smith, "Cyclical Learning Rates for Training Neural
// Networks", 2017, section 3.3; the smoothing and stopping rule as popularised
// by fastai's lr_find).
//
//   optim::AdamW opt(head->parameters(), {.lr = 1e-3});
//   transfer::LrFinderOptions o;
//   o.chart_path = "runs/a/lr_finder.png";
//   transfer::LrFinderResult r = transfer::find_lr(*model, opt, train, o);
//   std::puts(r.reason.c_str());        // why this rate
//   opt.set_lr(0, r.suggested_lr);      // the model and optimizer are as they were before
//
// The sweep: step i of num_steps uses lr_i = start_lr * (end_lr / start_lr)^(i / (num_steps - 1))
// for group 0; other parameter groups keep their ratio to group 0's lr (so
// discriminative rates stay discriminative). Each step is one batch of
// `train` (passes are repeated, epoch 1, 2, ..., when one is too short):
// forward in train mode, loss, backward, optimizer step. The raw losses are
// smoothed by a bias-corrected exponential moving average,
//   avg_i = beta * avg_(i-1) + (1 - beta) * loss_i,  smoothed_i = avg_i / (1 - beta^(i+1)),
// and the sweep stops early when the smoothed loss exceeds diverge_factor
// times the best smoothed loss so far, or a loss is not finite.
//
// The suggestion is the rate of steepest descent of the smoothed loss against
// log10(lr) (fastai's "steep" rule, not its "valley"), looked for between the
// first 10% of the steps (where the average still settles) and the minimum
// of the smoothed loss; the slope at a point is the difference over a window
// of about 5% of the steps each side, so one noisy step does not decide it.
// min_loss_lr is the rate at the smoothed minimum; a common alternative rule
// uses min_loss_lr / 10. When the loss never falls, suggested_lr is NaN and
// `reason` says so. The average trails the raw loss (beta 0.98 spans about 50
// steps), which moves both rates right of where the raw loss falls fastest;
// in the linear-regression test of a 100-step sweep the raw minimum is near
// 1.5e-2 and the smoothed one near 1.2e-1. Lower `smoothing` (or more steps)
// when the suggestion looks late on the chart, which shows both curves.
//
// Afterwards the model and optimizer are restored bit for bit (state_dict
// copies taken before the sweep, loaded after, also when it throws), as are
// the model's train/eval mode and the default random generator (dropout draws
// from it), so a training run after find_lr is the run without it. Gradients
// are cleared. Not restored: schedules attached to the optimizer (the sweep
// sets lr directly and does not step them), other generators, the state of the
// data source (a DataLoader's epoch counter).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transfer/training/fit.h"

namespace graft::nn {
class Module;
}
namespace graft::optim {
class Optimizer;
}

namespace graft::transfer {

struct LrFinderOptions {
    double start_lr = 1e-7, end_lr = 10;
    int64_t num_steps = 100;
    double smoothing = 0.98;    // the EMA's beta, in [0, 1)
    double diverge_factor = 4;  // stop when smoothed loss > factor * best (> 1)
    std::string chart_path;     // PNG of the loss vs lr (log x axis), suggestion marked; "" for none
    LossFn loss;                // default: cross_entropy(output, target)
};

struct LrFinderResult {
    std::vector<double> lrs, losses, smoothed;  // one entry per step taken
    double suggested_lr = NAN;                  // steepest descent of the smoothed loss
    double min_loss_lr = NAN;                   // where the smoothed loss is lowest
    bool diverged = false;                      // stopped early by diverge_factor or a non-finite loss
    std::string reason;                         // the suggestion in words, with the numbers behind it
};

// Exponential sweep; model and optimizer state restored afterwards.
LrFinderResult find_lr(nn::Module& model, optim::Optimizer& optimizer, const BatchSource& train,
                       const LrFinderOptions& options = {});

// The suggestion rule alone, on a recorded sweep (lrs increasing, same length
// as smoothed): fills suggested_lr, min_loss_lr and reason of `result`.
void suggest_lr(LrFinderResult& result);

// Draws a sweep as a PNG: raw loss (light) and smoothed loss against lr on a
// log axis, the suggestion and the minimum marked.
void write_lr_finder_chart(const std::string& path, const LrFinderResult& result);

}  // namespace graft::transfer
