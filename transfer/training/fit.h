// fit(): the plain supervised training loop, glued from the training helpers:
// forward, loss, backward, (clip), step, (schedule), with a ProgressBar, a
// MetricsLog, ClassificationMetrics on the validation data and a PNG chart of
// the curves refreshed every epoch. Small on purpose: a loop you could write
// yourself, already written, to copy and change when it does not fit.
//
//   std::vector<transfer::Batch> train = ..., val = ...;       // or any BatchSource
//   optim::AdamW opt(model->parameters(), {.lr = 1e-3});
//   transfer::FitOptions o;
//   o.epochs = 5;
//   o.num_classes = 10;                      // accuracy and confusion from logits
//   o.log_path = "runs/a/metrics.csv";       // one row per step and per epoch
//   o.chart_path = "runs/a/curves.png";      // loss and accuracy, redrawn each epoch
//   transfer::FitResult r = transfer::fit(*model, opt, transfer::batches_of(train),
//                                         transfer::batches_of(val), o);
//   std::puts(r.last_val_metrics.confusion_table().c_str());
//
// With o.checkpoint_path = "runs/a/last.safetensors" and o.resume = true, a run
// that was killed starts again where its last finished epoch left it.
//
// A BatchSource runs one pass over the data and calls `visit(input, target)`
// for each batch, so any loader fits in a lambda:
//   transfer::BatchSource src = [&](int64_t epoch, const transfer::BatchVisitor& visit) {
//       for (const auto& b : loader) visit(b.inputs, b.targets);
//   };
//
// Per step: model.train(); loss = options.loss(model(input), target);
// loss.backward(); optional clip_grad_norm_; optimizer.step(); zero_grad();
// then a per-step scheduler. Per epoch: evaluation under NoGradGuard with
// model.eval(), then a per-epoch scheduler, the log row, the chart, and
// on_epoch_end, which may stop the run early (return false).
//
// The default loss is cross_entropy(logits, target). Train accuracy is counted
// from the training logits when num_classes > 0 (it reflects the model as it
// changed during the epoch, as Keras reports it).
//
// Leaves out: gradient accumulation, mixed precision, resuming inside an
// epoch, multi-input models (write the loop; it is short).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "transfer/training/chart.h"
#include "transfer/training/metrics.h"
#include "transfer/training/progress.h"

namespace graft::nn {
class Module;
}
namespace graft::optim {
class Optimizer;
class LRScheduler;
}  // namespace graft::optim

namespace graft::transfer {

struct Batch {
    Tensor input, target;
};

using BatchVisitor = std::function<void(const Tensor& input, const Tensor& target)>;
// One pass over the data (epoch is 1-based; an evaluation pass gets the epoch it follows).
using BatchSource = std::function<void(int64_t epoch, const BatchVisitor& visit)>;

// A BatchSource over batches held in memory (the vector is copied; tensors share data).
BatchSource batches_of(std::vector<Batch> batches);

using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

struct EpochResult {
    int64_t epoch = 0;
    double train_loss = NAN, train_acc = NAN;
    double val_loss = NAN, val_acc = NAN;
    double seconds = 0;  // training and evaluation
    int64_t steps = 0;
};

struct FitOptions {
    int64_t epochs = 1;
    LossFn loss;                  // default: cross_entropy(output, target)
    int64_t num_classes = 0;      // > 0: accuracy from [N, C] logits and int64 targets
    std::vector<std::string> class_names;
    double clip_grad_norm = 0;    // > 0: optim::clip_grad_norm_ before each step
    optim::LRScheduler* scheduler = nullptr;
    bool scheduler_per_step = false;  // default: step the scheduler once per epoch
    int64_t steps_per_epoch = 0;  // for the progress bar's first epoch (0: learnt after it)
    bool show_progress = true;
    ProgressOptions progress;
    std::string log_path;         // .csv or .jsonl; empty: no log
    int64_t log_every_steps = 1;  // step rows every N steps (epoch rows always)
    std::string chart_path;       // PNG refreshed after every epoch; empty: none
    std::string chart_title;
    // Called after each epoch; return false to stop training (early stopping).
    std::function<bool(const EpochResult&)> on_epoch_end;
    // Checkpoints (transfer/checkpoint.h): with checkpoint_path set, the model,
    // optimizer, scheduler and default generator are saved there (atomically)
    // after every epoch. With resume also set and the file present, fit loads
    // it first and continues with the epoch after the saved one: the log is
    // appended to, and the history for the chart is read back from it. (Steps
    // of an epoch that a killed run did not finish stay in the log, followed by
    // the rows of the resumed run, which redoes that epoch.)
    std::string checkpoint_path;
    bool resume = false;
    // JSON stored with each checkpoint (its "extra" metadata): what produced the
    // run, for the caller to check when resuming (the Finetuner stores its recipe).
    std::string checkpoint_extra_json;
};

struct FitResult {
    std::vector<EpochResult> epochs;  // the epochs this call ran
    int64_t resumed_after = 0;        // the checkpoint's epoch when resuming, else 0
    TrainingHistory history;
    ClassificationMetrics last_val_metrics{1};  // the last evaluation (num_classes > 0)
    bool stopped_early = false;
};

// `val` may be empty (no evaluation; val_loss and val_acc stay NaN).
FitResult fit(nn::Module& model, optim::Optimizer& optimizer, const BatchSource& train, const BatchSource& val,
              const FitOptions& options);

// The TrainingHistory of a log that fit() wrote (CSV or JSONL): step rows
// (epoch, step, loss) and epoch rows (train_loss, val_loss, train_acc,
// val_acc). Redraws a run's chart after the fact, or continues it on resume.
TrainingHistory history_from_log(const std::string& path);

// One pass of `data` through the model in eval mode without gradients (the
// model's train/eval mode is restored afterwards). Returns the sample-weighted
// mean loss; `metrics`, when not null, is reset and then counts the outputs as
// [N, C] logits. An empty `loss` means cross_entropy.
double evaluate(nn::Module& model, const BatchSource& data, const LossFn& loss, ClassificationMetrics* metrics,
                int64_t epoch = 0);

}  // namespace graft::transfer
