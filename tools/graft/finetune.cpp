// graft finetune: a pretrained zoo model fine-tuned on an image folder or
// Fashion-MNIST with transfer::Finetuner (transfer/finetune/finetuner.h):
//
//   graft finetune --model efficientnet_lite0 --weights efficientnet-lite0-57934424.pth
//       --data fashion-mnist --shots 100 --image-size 96 --epochs 30,10 --out fmnist.safetensors
//
// Phase 1 ("probe") trains the new head alone; phase 2 ("top", when its epoch
// count is > 0) also trains the --top stages (default: the model's last
// block) with learning rates from --lr-lo up to --lr. --freeze keeps parameters
// matching a pattern frozen in every phase; --lora-rank puts LoRA adapters on
// the top stages instead of unfreezing their weights. The stages frozen in both
// phases run once over the data when features are cached (the default).
// --baseline trains the same architecture from scratch for the same time and
// prints both results. The saved file carries the recipe, so
// `graft predict --weights fmnist.safetensors IMAGE` needs nothing else.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "kernels/parallel.h"
#include "nn/models/efficientnet_lite.h"
#include "nn/models/stages.h"
#include "nn/models/zoo.h"
#include "tools/graft/commands.h"
#include "transfer/finetune/data.h"
#include "transfer/finetune/finetuner.h"
#include "transfer/load_pretrained.h"
#include "transfer/surgery.h"

namespace graft::cli {
namespace {

struct FinetuneArgs {
    std::string model, weights, data, out, json_summary, log, chart, checkpoint_dir, cache_dir;
    int64_t shots = 0, image_size = 0, batch_size = 32, lora_rank = 0, max_eval = 0, threads = 0, patience = 0,
            eval_every = 1;
    std::string epochs = "5,0";
    std::vector<std::string> top, freeze;
    double lr = 1e-3, lr_lo = 0, probe_lr = 3e-3, weight_decay = 0.01;
    std::string schedule = "cosine", batchnorm = "follow-freeze";
    bool cache = true, resume = false, progress = true;
    double baseline = -1;  // < 0: none; 0: the fine-tune's time; > 0: seconds
    uint64_t seed = 0;
};

// The last block of each zoo model: what "fine-tune the top" means by default.
std::vector<std::string> default_top(const std::string& model) {
    if (model.rfind("resnet", 0) == 0) return {"layer4"};
    if (model == "mobilenet_v2") return {"features.18"};
    if (model.rfind("efficientnet_lite", 0) == 0) return {"_blocks.15", "head"};
    return {};
}

// A freshly initialised model for the from-scratch baseline. EfficientNet-Lite
// keeps TF's BatchNorm momentum (0.01) for its pretrained weights; trained from
// scratch for a few hundred steps it needs torch's 0.1, or its running
// statistics are still near their initial values at evaluation.
nn::models::ZooModel scratch_model(const std::string& name, int64_t classes, int64_t image_size) {
    auto entry = nn::models::zoo_model(name, classes, image_size);
    if (name == "efficientnet_lite0")
        entry.model = nn::models::efficientnet_lite0(
            {.num_classes = classes, .image_size = image_size > 0 ? image_size : 224, .bn_momentum = 0.1});
    return entry;
}

std::pair<int64_t, int64_t> parse_epochs(const std::string& s) {
    std::istringstream in(s);
    int64_t probe = 0, top = 0;
    char comma = 0;
    in >> probe;
    check(bool(in) && probe >= 0, "finetune: --epochs must be PROBE[,TOP] (e.g. 30,10), got '", s, "'");
    if (in >> comma) {
        check(comma == ',' && bool(in >> top) && top >= 0, "finetune: --epochs must be PROBE[,TOP] (e.g. 30,10), got '",
              s, "'");
    }
    return {probe, top};
}

// What finetune and lr-find share: the model with pretrained weights and a new
// head, the data, and the recipe.
struct Setup {
    nn::models::ZooModel entry;
    transfer::FinetuneData data;
    transfer::FinetuneOptions options;
};

Setup prepare(const FinetuneArgs& a) {
    if (a.threads > 0) set_num_threads(int(a.threads));
    check(std::filesystem::is_regular_file(a.weights), "finetune: no such weights file: ", a.weights,
          " (tools/fetch_weights.sh installs efficientnet-lite0-57934424.pth)");
    auto [probe_epochs, top_epochs] = parse_epochs(a.epochs);
    check(probe_epochs + top_epochs > 0, "finetune: --epochs ", a.epochs, " trains for zero epochs");

    auto entry = nn::models::zoo_model(a.model, 1000, a.image_size);  // unknown names list the known ones
    nn::models::Preprocessing pre = entry.preprocessing;
    if (a.image_size > 0) pre.resize = pre.crop = a.image_size;
    auto data = transfer::load_finetune_data(a.data, pre, {.shots = a.shots, .seed = a.seed, .max_eval = a.max_eval});
    const int64_t classes = int64_t(data.class_names.size());
    check(classes >= 2, "finetune: ", a.data, " has ", classes, " class(es); at least 2 are needed");
    std::printf("data: %s\n", data.description.c_str());

    // Pretrained weights for the ImageNet head, then a new head for our classes.
    // The old head may have another class count (a model fine-tuned before): it
    // is replaced anyway, so only its shapes may differ.
    const std::string old_head = transfer::head_info(*entry.model).path;
    transfer::LoadReport report;
    try {
        report = transfer::load_pretrained(*entry.model, a.weights,
                                           {.on_shape_mismatch = transfer::ShapeMismatch::Skip});
    } catch (const Error& e) {
        throw Error(cat_str("finetune: the weights do not fit model '", a.model, "' (", a.weights, "):\n", e.what()));
    }
    for (const auto& m : report.mismatched)
        check(m.name.rfind(old_head + ".", 0) == 0, "finetune: the weights do not fit model '", a.model, "' (",
              a.weights, "): ", m.name, " has shape ", shape_str(m.source_shape), " in the file but ", shape_str(m.model_shape),
              " in the model\n", report.table());
    std::printf("loaded %zu tensors from %s%s\n", report.loaded.size(), a.weights.c_str(),
                report.mismatched.empty() ? "" : " (its head, for another class count, is replaced)");
    Generator head_gen(a.seed);
    std::string head = transfer::replace_head(*entry.model, classes, &head_gen);
    std::printf("new head %s: %lld classes\n", head.c_str(), (long long)classes);

    auto stages = nn::models::stages_of(*entry.model);
    const std::string head_stage = stages.back().name;
    std::vector<std::string> top = a.top.empty() ? default_top(a.model) : a.top;
    top.push_back(head_stage);

    transfer::FinetuneOptions o;
    if (probe_epochs > 0)
        o.phases.push_back({.name = "probe", .epochs = probe_epochs, .trainable = {head_stage}, .lr = a.probe_lr,
                            .weight_decay = a.weight_decay, .schedule = a.schedule});
    if (top_epochs > 0)
        o.phases.push_back({.name = "top", .epochs = top_epochs, .trainable = top, .lr = a.lr, .lr_lo = a.lr_lo,
                            .weight_decay = a.weight_decay, .schedule = a.schedule});
    o.num_classes = classes;
    o.class_names = data.class_names;
    o.model_name = a.model;
    o.preprocessing = pre;
    o.preprocessing_text = data.preprocessing;
    o.batch_size = a.batch_size;
    o.seed = a.seed;
    o.cache_features = a.cache;
    o.cache_dir = a.cache_dir;
    o.batchnorm = a.batchnorm;
    o.keep_frozen = a.freeze;
    o.lora_rank = a.lora_rank;
    o.early_stopping_patience = a.patience;
    o.eval_every = a.eval_every;
    o.out_path = a.out;
    o.checkpoint_dir = a.checkpoint_dir;
    o.resume = a.resume;
    o.log_path = a.log;
    o.chart_path = a.chart;
    o.show_progress = a.progress;
    return Setup{entry, data, o};
}

void run_finetune(const FinetuneArgs& a) {
    Setup setup = prepare(a);
    const auto& data = setup.data;
    transfer::Finetuner tuner(setup.entry.model, setup.options);
    transfer::FinetuneResult r = tuner.run(data.train, data.eval);
    std::printf("\nfine-tuned: eval accuracy %.2f%% (%lld images) in %.1fs\n", 100 * r.val_acc,
                (long long)data.eval->size(), r.seconds);
    if (r.cache_speedup > 0)
        std::printf("feature caching at '%s': %.1fs once; %.2fs per epoch instead of %.2fs (%.1fx)\n",
                    r.cache_stage.c_str(), r.cache_seconds, r.cached_seconds_per_epoch,
                    r.uncached_seconds_per_epoch, r.cache_speedup);

    nlohmann::ordered_json summary;
    summary["model"] = a.model;
    summary["data"] = data.description;
    summary["eval_accuracy"] = r.val_acc;
    summary["eval_loss"] = r.val_loss;
    summary["seconds"] = r.seconds;
    summary["cache_stage"] = r.cache_stage;
    summary["cache_seconds"] = r.cache_seconds;
    summary["cache_speedup"] = r.cache_speedup;
    for (const auto& p : r.phases) {
        nlohmann::ordered_json ph{{"name", p.name}, {"seconds", p.seconds}, {"best_val_acc", p.best_val_acc},
                                  {"best_epoch", p.best_epoch}};
        for (const auto& e : p.epochs)
            ph["epochs"].push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"val_loss", e.val_loss},
                                    {"val_acc", e.val_acc}, {"seconds", e.seconds}});
        summary["phases"].push_back(ph);
    }
    const int64_t classes = setup.options.num_classes;
    if (a.baseline >= 0) {
        const double budget = a.baseline > 0 ? a.baseline : r.seconds;
        std::printf("\nbaseline: %s from scratch on the same data for %.0fs\n", a.model.c_str(), budget);
        auto scratch = scratch_model(a.model, classes, a.image_size);
        transfer::BaselineResult b = transfer::train_baseline(
            *scratch.model, data.train, data.eval,
            {.budget_seconds = budget, .batch_size = a.batch_size, .num_classes = classes, .seed = a.seed,
             .show_progress = a.progress});
        std::printf("\n%s", transfer::compare_to_baseline(r, b).c_str());
        summary["baseline"] = {{"eval_accuracy", b.val_acc}, {"train_seconds", b.train_seconds},
                               {"epochs_completed", b.epochs_completed}, {"steps", b.steps}};
    }
    if (!a.json_summary.empty()) {
        std::ofstream f(a.json_summary);
        check(bool(f), "finetune: cannot write ", a.json_summary);
        f << summary.dump(2) << "\n";
    }
}

struct LrFindArgs {
    std::string phase = "probe";
    transfer::LrFinderOptions options;
    bool json = false;
};

void run_lr_find(FinetuneArgs a, const LrFindArgs& lr) {
    // The recipe needs the phase to exist: give it at least one epoch.
    auto [probe, top] = parse_epochs(a.epochs);
    check(lr.phase == "probe" || lr.phase == "top", "lr-find: --phase must be probe or top, got '", lr.phase, "'");
    if (lr.phase == "top" && top == 0) top = 1;
    if (probe == 0) probe = 1;
    a.epochs = std::to_string(probe) + "," + std::to_string(top);
    Setup setup = prepare(a);
    setup.options.show_progress = false;
    transfer::Finetuner tuner(setup.entry.model, setup.options);
    transfer::LrFinderResult r = tuner.find_lr(setup.data.train, lr.phase == "probe" ? 0 : 1, lr.options);
    if (lr.json) {
        nlohmann::ordered_json j{{"suggested_lr", r.suggested_lr}, {"min_loss_lr", r.min_loss_lr},
                                 {"diverged", r.diverged}, {"reason", r.reason}, {"lrs", r.lrs},
                                 {"losses", r.losses}, {"smoothed", r.smoothed}};
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::printf("swept %zu learning rates from %.2g to %.2g%s\n", r.lrs.size(), r.lrs.empty() ? 0.0 : r.lrs.front(),
                r.lrs.empty() ? 0.0 : r.lrs.back(), r.diverged ? " (stopped: the loss diverged)" : "");
    std::printf("suggested learning rate: %.3g\n%s\n", r.suggested_lr, r.reason.c_str());
    if (!lr.options.chart_path.empty()) std::printf("chart: %s\n", lr.options.chart_path.c_str());
}

}  // namespace

// Options that finetune and lr-find share.
void add_recipe_options(CLI::App* cmd, const std::shared_ptr<FinetuneArgs>& a) {
    std::string known;
    for (const auto& n : nn::models::zoo_model_names()) known += (known.empty() ? "" : ", ") + n;
    cmd->add_option("--model", a->model, "one of: " + known)->required();
    cmd->add_option("--weights", a->weights, "pretrained weights (.pth/.pt/.bin/.safetensors)")->required();
    cmd->add_option("--data", a->data, "a folder of class folders (with train/ and val/ inside, or split), or fashion-mnist")
        ->required();
    cmd->add_option("--shots", a->shots, "training images per class (default: all)");
    cmd->add_option("--image-size", a->image_size, "input size (default: the model's, e.g. 224)");
    cmd->add_option("--epochs", a->epochs, "PROBE[,TOP]: epochs of the head alone, then of the top stages (default 5,0)");
    cmd->add_option("--top", a->top, "stages trained in the second phase (default: the last block)")->delimiter(',');
    cmd->add_option("--freeze", a->freeze, "keep parameters matching this glob (or re:REGEX) frozen throughout");
    cmd->add_option("--lr", a->lr, "head learning rate of the second phase (default 1e-3)");
    cmd->add_option("--lr-lo", a->lr_lo, "lowest top stage's learning rate, geometric up to --lr (default: all --lr)");
    cmd->add_option("--probe-lr", a->probe_lr, "head learning rate of the first phase (default 3e-3)");
    cmd->add_option("--weight-decay", a->weight_decay, "AdamW weight decay (default 0.01)");
    cmd->add_option("--batch-size", a->batch_size, "training batch size (default 32)");
    cmd->add_option("--batchnorm", a->batchnorm, "follow-freeze (default), always-eval, always-train");
    cmd->add_flag("--cache-features,!--no-cache-features", a->cache,
                  "run the stages frozen in every phase once and train on their outputs (default on)");
    cmd->add_option("--cache-dir", a->cache_dir, "keep cached features on disk here (reused while the weights match)");
    cmd->add_option("--lora-rank", a->lora_rank, "LoRA adapters of this rank on the top stages instead of unfreezing them");
    cmd->add_option("--max-eval", a->max_eval, "evaluate on the first N held-out images only");
    cmd->add_option("--threads", a->threads, "compute threads (default: GRAFT_NUM_THREADS or all cores)");
    cmd->add_option("--seed", a->seed, "seed for the few-shot draw, shuffling and the head");
    cmd->add_flag("!--no-progress", a->progress, "no progress lines");
}

void add_finetune(CLI::App& app) {
    auto a = std::make_shared<FinetuneArgs>();
    CLI::App* cmd = app.add_subcommand("finetune", "Fine-tune a pretrained model on a labelled image set");
    add_recipe_options(cmd, a);
    cmd->add_option("--schedule", a->schedule, "constant, cosine (default) or one-cycle, per step");
    cmd->add_option("--patience", a->patience, "early stopping: epochs without a better eval accuracy (default off)");
    cmd->add_option("--eval-every", a->eval_every, "evaluate every N epochs (0: at the end of each phase; default 1)");
    cmd->add_option("--out", a->out, "save the fine-tuned model with its recipe (.safetensors)");
    cmd->add_option("--json-summary", a->json_summary, "write the results as JSON");
    cmd->add_option("--log", a->log, "per-step and per-epoch metrics (.csv or .jsonl; one file per phase)");
    cmd->add_option("--chart", a->chart, "loss and accuracy curves (.png; one per phase)");
    cmd->add_option("--checkpoint-dir", a->checkpoint_dir, "per-phase checkpoints for --resume");
    cmd->add_flag("--resume", a->resume, "continue from the checkpoints in --checkpoint-dir");
    cmd->add_option("--baseline", a->baseline,
                    "also train from scratch for SECONDS (0: as long as the fine-tune took) and compare");
    cmd->callback([a] { run_finetune(*a); });
}

void add_lr_find(CLI::App& app) {
    auto a = std::make_shared<FinetuneArgs>();
    auto lr = std::make_shared<LrFindArgs>();
    CLI::App* cmd = app.add_subcommand("lr-find", "Sweep the learning rate for one phase of a fine-tuning recipe");
    add_recipe_options(cmd, a);
    cmd->add_option("--phase", lr->phase, "which phase: probe (default) or top");
    cmd->add_option("--start-lr", lr->options.start_lr, "first learning rate (default 1e-7)");
    cmd->add_option("--end-lr", lr->options.end_lr, "last learning rate (default 10)");
    cmd->add_option("--steps", lr->options.num_steps, "steps of the sweep (default 100)");
    cmd->add_option("--chart", lr->options.chart_path, "PNG of the loss against the learning rate");
    cmd->add_flag("--json", lr->json, "print the sweep and the suggestion as JSON");
    cmd->callback([a, lr] { run_lr_find(*a, *lr); });
}

}  // namespace graft::cli
