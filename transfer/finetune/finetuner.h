// Finetuner: the transfer-learning recipe as one object. A pretrained model is
// trained in phases; each phase says which stages learn (everything else is
// frozen: no gradients, out of the optimizer, BatchNorm on running statistics),
// with what learning rates. The classic recipe, a linear probe followed by
// unfreezing the top of the network with discriminative learning rates:
//
//   auto entry = nn::models::zoo_model("efficientnet_lite0", 1000);
//   transfer::load_pretrained(*entry.model, "efficientnet-lite0-57934424.pth");
//   transfer::replace_head(*entry.model, 10);
//   transfer::FinetuneOptions o;
//   o.phases = {{.name = "probe", .epochs = 30, .trainable = {"_fc"}, .lr = 3e-3},
//               {.name = "top", .epochs = 10, .trainable = {"_blocks.15", "head", "_fc"},
//                .lr = 1e-3, .lr_lo = 1e-4}};
//   o.num_classes = 10;
//   transfer::Finetuner tuner(entry.model, o);
//   transfer::FinetuneResult r = tuner.run(data.train, data.eval);
//
// Feature caching: the stages that are frozen in every phase (here _conv_stem
// .. _blocks.14) form a trunk whose output does not change during the run.
// With cache_features, the trunk runs once over the training and evaluation
// images (transfer/feature_cache.h) and every epoch trains the remaining
// stages on the cached features. Within a phase the same holds one level up:
// the probe phase also keeps _blocks.15 and the head frozen, so at its start
// their output is computed once from the cache, and its epochs run the
// classifier alone. Without augmentation this is exact: the same numbers reach
// the trainable stages as in the uncached loop (a test checks the weights bit
// for bit); what it saves is the frozen stages' forward pass in every epoch.
// Parameter-free stages right before a trained one (Dropout, pooling) are left
// out of the cache: they may be random in training mode. FinetuneResult
// reports the measured trunk time and what the uncached run would have spent.
//
// Each phase is one transfer::fit() run (progress bar, metrics, log, chart,
// per-epoch checkpoint under checkpoint_dir so a killed run resumes), with
// AdamW over one parameter group per trainable stage: learning rates spread
// geometrically from lr_lo (lowest stage) to lr (the head), fastai's
// discriminative rates, and a cosine or one-cycle schedule per step.
// Optional: LoRA adapters on the trainable stages' Linear/Conv2d layers instead
// of unfreezing their weights, early stopping per phase with the best epoch's
// weights restored.
//
// The final model is saved (out_path, safetensors, atomically) with the recipe
// in its metadata -- model name, classes, preprocessing, phases, the frozen
// set, parameter groups, BatchNorm policy -- so `graft predict` and a resumed
// run rebuild the same model (read_recipe below).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/datasets/dataset.h"
#include "nn/models/preprocessing.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"
#include "transfer/lr_finder.h"
#include "transfer/training/fit.h"

namespace graft::transfer {

struct FinetunePhase {
    std::string name;                    // "probe", "top", ...
    int64_t epochs = 1;
    std::vector<std::string> trainable;  // stage names (nn/models/stages.h) that learn; the rest is frozen
    double lr = 1e-3;                    // the last trainable stage's (the head's) learning rate
    double lr_lo = 0;                    // > 0: geometric lr_lo .. lr across the trainable stages
    double weight_decay = 0.01;
    std::string schedule = "cosine";     // "constant", "cosine" (per step, to 0), "one-cycle"
};

struct FinetuneOptions {
    std::vector<FinetunePhase> phases;
    int64_t num_classes = 0;
    std::vector<std::string> class_names;
    std::string model_name;                 // the zoo name, recorded for predict
    nn::models::Preprocessing preprocessing;  // recorded for predict
    std::string preprocessing_text;         // what the data pipeline did (cache key)
    int64_t batch_size = 32;
    int64_t eval_batch_size = 100;
    int64_t num_workers = 1;                // loader threads (decoding, transforms)
    uint64_t seed = 0;                      // shuffling, head init, dropout
    bool cache_features = true;
    std::string cache_dir;                  // empty: features kept in memory only
    std::string batchnorm = "follow-freeze";  // or "always-eval", "always-train"
    std::vector<std::string> keep_frozen;   // parameter patterns frozen in every phase (transfer/freeze.h)
    int64_t lora_rank = 0;                  // > 0: LoRA on the trainable stages instead of unfreezing them
    double lora_alpha = 16;
    int64_t eval_every = 1;                 // evaluate every N epochs (0: only at the end of each phase)
    int64_t early_stopping_patience = 0;    // > 0: per phase, on validation accuracy; best weights restored
    std::string best_path;                  // with early stopping: each phase's best model (.safetensors, phase in the name)
    std::string out_path;                   // final model + recipe (.safetensors)
    std::string checkpoint_dir;             // per-phase checkpoints for resume; empty: none
    bool resume = false;
    std::string log_path;                   // one CSV/JSONL for all phases (a column names the phase)
    std::string chart_path;                 // PNG curves, redrawn every epoch
    bool show_progress = true;
    bool verbose = true;                    // print the summary tables and phase headers
};

struct PhaseResult {
    std::string name;
    std::vector<EpochResult> epochs;
    double seconds = 0;
    double best_val_acc = 0;
    int64_t best_epoch = 0;
    std::string cache_stage;  // this phase's inputs: the output of this stage ("" when not cached)
    std::string summary;  // the trainable table at the start of the phase
};

struct FinetuneResult {
    std::vector<PhaseResult> phases;
    double val_acc = 0;            // final model on the evaluation set
    double val_loss = 0;
    double seconds = 0;            // the whole run, caching included
    // Caching (0 when off): trunk forward time spent once, the measured time per
    // cached epoch, and the trunk time per epoch the uncached loop would add.
    std::string cache_stage;       // the last cached stage ("" when off)
    double cache_seconds = 0;
    double trunk_seconds_per_train_epoch = 0;  // the cached trunk's forward over the training data
    double cached_seconds_per_epoch = 0;       // measured, mean over all epochs
    double uncached_seconds_per_epoch = 0;     // the same plus the trunk work caching saved (measured parts)
    double cache_speedup = 0;      // uncached / cached per epoch
    bool cache_loaded = false;
    ClassificationMetrics metrics{1};
};

class Finetuner {
public:
    Finetuner(std::shared_ptr<nn::Module> model, FinetuneOptions options);
    // Trains on `train`, evaluates on `eval` after each epoch and at the end.
    FinetuneResult run(const io::DatasetPtr& train, const io::DatasetPtr& eval);
    // An LR finder (transfer/lr_finder.h) for phase `phase` (0-based) of the
    // recipe: the same frozen set, data and caching as run() would use, one
    // learning rate swept across all of the phase's groups. The model and the
    // optimizer come back unchanged; LoRA, when asked for, stays applied.
    LrFinderResult find_lr(const io::DatasetPtr& train, size_t phase, const LrFinderOptions& options);
    const FinetuneOptions& options() const { return options_; }

private:
    struct Session;
    struct PhaseData;
    Session prepare(const io::DatasetPtr& train, const io::DatasetPtr& eval);
    PhaseData phase_data(Session& session, size_t phase);
    std::vector<optim::ParamGroup> setup_phase(Session& session, size_t phase, std::string* summary);

    std::shared_ptr<nn::Module> model_;
    FinetuneOptions options_;
    bool lora_applied_ = false;
};

// Train a freshly initialised `model` on the same data for at most
// `budget_seconds` of wall time (whole epochs while they fit, then the last one
// is cut short), AdamW at `lr`, then evaluate: the baseline a fine-tune is
// compared with. Everything trains; nothing is cached.
struct BaselineOptions {
    double budget_seconds = 60;
    double lr = 1e-3;
    double weight_decay = 0.01;
    int64_t batch_size = 32;
    int64_t eval_batch_size = 100;
    int64_t num_workers = 1;
    int64_t num_classes = 0;
    uint64_t seed = 0;
    bool show_progress = true;
};
struct BaselineResult {
    double val_acc = 0, val_loss = 0;
    double train_seconds = 0, eval_seconds = 0;
    int64_t epochs_completed = 0, steps = 0;
    ClassificationMetrics metrics{1};
};
BaselineResult train_baseline(nn::Module& model, const io::DatasetPtr& train, const io::DatasetPtr& eval,
                              const BaselineOptions& options);

// Both results side by side, with a warning line when the pretrained model did
// worse than the baseline (negative transfer) or less than 1 point better.
std::string compare_to_baseline(const FinetuneResult& pretrained, const BaselineResult& baseline);

// The recipe a Finetuner stored in a model file's metadata (empty name when
// the file has none).
struct SavedRecipe {
    std::string model_name;
    int64_t num_classes = 0;
    std::vector<std::string> class_names;
    nn::models::Preprocessing preprocessing;
    bool resize_direct = false;  // resize straight to crop x crop (no short-side resize + crop)
    std::string json;            // the whole recipe
};
SavedRecipe read_recipe(const std::map<std::string, std::string>& metadata);

}  // namespace graft::transfer
