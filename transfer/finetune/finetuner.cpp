#include "transfer/finetune/finetuner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/join.h"
#include "core/ops/loss.h"
#include "core/ops/random.h"
#include "io/formats/safetensors.h"
#include "io/datasets/tensor_dataset.h"
#include "io/loader/data_loader.h"
#include "nn/models/stages.h"
#include "nn/optim/adamw.h"
#include "nn/optim/schedule.h"
#include "transfer/early_stopping.h"
#include "transfer/feature_cache.h"
#include "transfer/freeze.h"
#include "transfer/lora.h"

namespace graft::transfer {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The stages [begin, end) of a model as a Module, so that fit() can drive the
// trainable top of a network on cached features. The model is its only child:
// train()/eval() reach it, and its state_dict is the model's under "model.".
class StageRange final : public nn::Module {
public:
    StageRange(std::shared_ptr<nn::Module> model, std::vector<nn::models::Stage> stages, size_t begin, size_t end)
        : Module("StageRange"), stages_(std::move(stages)), begin_(begin), end_(end) {
        register_module("model", std::move(model));
    }
    Tensor forward(const Tensor& x) override { return nn::models::run_stages(stages_, begin_, end_, x); }

private:
    std::vector<nn::models::Stage> stages_;
    size_t begin_, end_;
};

bool under(const std::string& name, const std::string& module) {
    return name == module || (name.size() > module.size() && name.compare(0, module.size(), module) == 0 &&
                              name[module.size()] == '.');
}

// The parameters of stage `s`, only those that train when `trainable_only`.
std::vector<std::pair<std::string, Tensor>> stage_params(nn::Module& model, const nn::models::Stage& s,
                                                         bool trainable_only) {
    auto all = nn::models::stage_parameters(model, s);
    if (!trainable_only) return all;
    std::vector<std::pair<std::string, Tensor>> out;
    for (auto& p : all)
        if (p.second.requires_grad()) out.push_back(p);
    return out;
}

std::vector<double> geometric(size_t n, double lo, double hi) {
    std::vector<double> lrs(n, hi);
    if (lo <= 0 || n < 2) return lrs;
    for (size_t i = 0; i < n; ++i) lrs[i] = lo * std::pow(hi / lo, double(i) / double(n - 1));
    return lrs;
}

// The last stage boundary at or before `first` that a cache may stop at: not
// inside a run of parameter-free stages (Dropout is random in training mode,
// so it must run in every step as it would without a cache).
size_t cache_point(nn::Module& model, const std::vector<nn::models::Stage>& stages, size_t first) {
    while (first > 0 && nn::models::stage_parameters(model, stages[first - 1]).empty()) --first;
    return first;
}

BatchNormPolicy parse_batchnorm(const std::string& s) {
    if (s == "follow-freeze") return BatchNormPolicy::FollowFreeze;
    if (s == "always-eval") return BatchNormPolicy::AlwaysEval;
    if (s == "always-train") return BatchNormPolicy::AlwaysTrain;
    throw Error(cat_str("Finetuner: unknown batchnorm policy '", s, "' (follow-freeze, always-eval, always-train)"));
}

BatchSource loader_source(const io::DatasetPtr& data, int64_t batch_size, bool shuffle, uint64_t seed,
                          int64_t workers) {
    auto loader = std::make_shared<io::DataLoader>(
        data, io::DataLoaderOptions{.batch_size = batch_size, .shuffle = shuffle, .seed = seed,
                                    .num_workers = int(workers)});
    // fit's epoch e (1-based) gets the loader's pass e - 1, whichever phase asks:
    // the order FeatureCache::batches gives, so cached and uncached runs agree.
    return [loader](int64_t epoch, const BatchVisitor& visit) {
        loader->set_epoch(std::max<int64_t>(epoch - 1, 0));
        for (const io::Batch& b : *loader) visit(b.inputs, b.targets);
    };
}

std::string with_suffix(const std::string& path, const std::string& suffix) {
    if (path.empty()) return path;
    std::filesystem::path p(path);
    return (p.parent_path() / (p.stem().string() + "." + suffix + p.extension().string())).string();
}

nlohmann::json preprocessing_json(const nn::models::Preprocessing& p, const std::string& text) {
    return {{"resize", p.resize}, {"crop", p.crop}, {"mean", p.mean}, {"std", p.std}, {"pipeline", text}};
}

// Everything that decides what a run computes: stored in the final model file
// and in every phase checkpoint, so predict can rebuild the model and a resume
// can refuse a checkpoint written by another recipe.
nlohmann::json recipe_json(const FinetuneOptions& o, const std::string& cache_stage) {
    nlohmann::json recipe;
    recipe["model"] = o.model_name;
    recipe["num_classes"] = o.num_classes;
    recipe["class_names"] = o.class_names;
    recipe["preprocessing"] = preprocessing_json(o.preprocessing, o.preprocessing_text);
    recipe["batchnorm"] = o.batchnorm;
    recipe["keep_frozen"] = o.keep_frozen;
    recipe["cache_stage"] = cache_stage;
    recipe["lora_rank"] = o.lora_rank;
    recipe["lora_alpha"] = o.lora_alpha;
    recipe["batch_size"] = o.batch_size;
    recipe["seed"] = o.seed;
    for (const auto& ph : o.phases)
        recipe["phases"].push_back({{"name", ph.name},
                                    {"epochs", ph.epochs},
                                    {"trainable", ph.trainable},
                                    {"lr", ph.lr},
                                    {"lr_lo", ph.lr_lo},
                                    {"group_lrs", geometric(ph.trainable.size(), ph.lr_lo, ph.lr)},
                                    {"weight_decay", ph.weight_decay},
                                    {"schedule", ph.schedule}});
    return recipe;
}

// A resumed phase must come from the same recipe: the checkpoint's "extra"
// metadata holds the recipe that wrote it.
void check_resume_recipe(const std::string& path, const nlohmann::json& recipe) {
    if (!std::filesystem::exists(path)) return;
    const auto metadata = io::read_safetensors(path).metadata;
    auto it = metadata.find("extra");
    check(it != metadata.end() && !it->second.empty(), "Finetuner: cannot resume from ", path,
          ": it records no recipe (written by another program?)");
    nlohmann::json saved;
    try {
        saved = nlohmann::json::parse(it->second).at("recipe");
    } catch (const nlohmann::json::exception& e) {
        throw Error(cat_str("Finetuner: cannot resume from ", path, ": its recipe metadata is unreadable: ", e.what()));
    }
    if (saved == recipe) return;
    std::string differs;
    for (const auto& [key, value] : recipe.items())
        if (!saved.contains(key) || saved[key] != value) differs += (differs.empty() ? "" : ", ") + key;
    throw Error(cat_str("Finetuner: cannot resume from ", path, ": it was written by another recipe (", differs,
                        " differ); use another checkpoint folder or the same options"));
}

}  // namespace

Finetuner::Finetuner(std::shared_ptr<nn::Module> model, FinetuneOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
    check(model_ != nullptr, "Finetuner: no model");
    check(!options_.phases.empty(), "Finetuner: the recipe has no phases");
    check(options_.num_classes > 0, "Finetuner: num_classes must be set (got ", options_.num_classes, ")");
    auto stages = nn::models::stages_of(*model_);
    for (const auto& ph : options_.phases) {
        check(!ph.trainable.empty(), "Finetuner: phase '", ph.name, "' trains nothing (trainable is empty)");
        check(ph.epochs >= 0, "Finetuner: phase '", ph.name, "' has ", ph.epochs, " epochs");
        for (const auto& s : ph.trainable) nn::models::stage_index(stages, s);  // throws listing the names
    }
    parse_batchnorm(options_.batchnorm);
    check(options_.eval_every >= 0, "Finetuner: eval_every must be >= 0, got ", options_.eval_every);
    check(options_.early_stopping_patience <= 0 || options_.eval_every == 1,
          "Finetuner: early stopping needs an evaluation every epoch (eval_every 1, got ", options_.eval_every, ")");
}

// What run() and find_lr() share: the stages, where the fixed trunk ends, and
// the batches (cached trunk outputs or images) the trainable part sees.
struct Finetuner::Session {
    std::vector<nn::models::Stage> stages;
    size_t first_trained = 0;  // stages [0, first_trained) are frozen in every phase
    size_t cut = 0;            // with a cache: its features are the output of stage cut - 1
    BatchSource train_src, eval_src;
    std::shared_ptr<nn::Module> driven;  // the model, or its stages from first_trained on
    std::unique_ptr<FeatureCache> train_cache, eval_cache;
    int64_t steps_per_epoch = 0;
    double cache_seconds = 0;
    double train_cache_seconds = 0, eval_cache_seconds = 0;  // the trunk's forward time over each set
};

// What one phase trains on: the session's batches, or features computed at the
// phase's start from the cache through the stages this phase keeps frozen.
struct Finetuner::PhaseData {
    BatchSource train_src, eval_src;
    std::shared_ptr<nn::Module> driven;
    size_t begin = 0;          // the first stage `driven` runs
    double derive_seconds = 0;  // computing the phase's features (once)
    double derive_train_seconds = 0, derive_eval_seconds = 0;  // its parts
};

Finetuner::Session Finetuner::prepare(const io::DatasetPtr& train, const io::DatasetPtr& eval) {
    const FinetuneOptions& o = options_;
    check(train != nullptr && train->size() > 0, "Finetuner: the training set is empty");
    Session ss;
    ss.stages = nn::models::stages_of(*model_);
    manual_seed(o.seed);

    // The first stage any phase trains: everything before it is a fixed trunk.
    ss.first_trained = ss.stages.size();
    for (const auto& ph : o.phases)
        for (const auto& s : ph.trainable)
            ss.first_trained = std::min(ss.first_trained, nn::models::stage_index(ss.stages, s));

    // LoRA: adapters on the trainable stages below the head; their base weights stay frozen.
    if (o.lora_rank > 0 && !lora_applied_) {
        std::vector<std::string> targets;
        for (const auto& ph : o.phases)
            for (const auto& s : ph.trainable) {
                size_t i = nn::models::stage_index(ss.stages, s);
                if (i + 1 == ss.stages.size()) continue;  // the head trains fully
                for (const auto& m : ss.stages[i].modules) {
                    targets.push_back(m);         // the module itself ("layer4", "9")
                    targets.push_back(m + ".*");  // and every layer inside it
                }
            }
        check(!targets.empty(), "Finetuner: LoRA needs a phase that trains a stage below the head");
        LoraOptions lo;
        lo.rank = o.lora_rank;
        lo.alpha = o.lora_alpha;
        lo.target_modules = targets;
        auto wrapped = apply_lora(*model_, lo);
        lora_applied_ = true;
        if (o.verbose) std::printf("LoRA rank %lld on %zu layers\n", (long long)o.lora_rank, wrapped.size());
        ss.stages = nn::models::stages_of(*model_);
    }

    freeze(*model_);
    set_batchnorm_policy(*model_, parse_batchnorm(o.batchnorm));
    ss.steps_per_epoch = (train->size() + o.batch_size - 1) / o.batch_size;

    ss.cut = o.cache_features ? cache_point(*model_, ss.stages, ss.first_trained) : 0;
    if (ss.cut > 0) {
        const auto t_cache = Clock::now();
        const size_t cut = ss.cut;
        std::vector<Tensor> trunk_params;
        for (size_t i = 0; i < cut; ++i)
            for (auto& [n, t] : stage_params(*model_, ss.stages[i], false)) trunk_params.push_back(t);
        for (auto& [n, t] : model_->named_buffers())
            for (size_t i = 0; i < cut; ++i)
                for (const auto& m : ss.stages[i].modules)
                    if (under(n, m)) trunk_params.push_back(t);
        auto stages = ss.stages;
        Trunk trunk = [stages, cut](const Tensor& x) { return nn::models::run_stages(stages, 0, cut, x); };
        FeatureCacheOptions co;
        co.dir = o.cache_dir;
        co.batch_size = o.eval_batch_size;
        co.num_workers = o.num_workers;
        co.show_progress = o.show_progress;
        co.preprocessing = o.preprocessing_text + " | " + o.model_name + " up to stage " + ss.stages[cut - 1].name;
        if (o.verbose)
            std::printf("caching the output of stage '%s': the %zu stages up to it are frozen in every phase\n",
                        ss.stages[cut - 1].name.c_str(), cut);
        const bool was_training = model_->is_training();
        model_->eval();
        co.dataset_id = "train";
        ss.train_cache = std::make_unique<FeatureCache>(FeatureCache::build(trunk, trunk_params, *train, co));
        ss.train_src = ss.train_cache->batches(o.batch_size, /*shuffle=*/true, o.seed);
        if (eval) {
            co.dataset_id = "eval";
            ss.eval_cache = std::make_unique<FeatureCache>(FeatureCache::build(trunk, trunk_params, *eval, co));
            ss.eval_src = ss.eval_cache->batches(o.eval_batch_size, false, 0);
        }
        model_->train(was_training);
        ss.cache_seconds = since(t_cache);
        ss.driven = std::make_shared<StageRange>(model_, ss.stages, cut, ss.stages.size());
    } else {
        ss.train_src = loader_source(train, o.batch_size, true, o.seed, o.num_workers);
        if (eval) ss.eval_src = loader_source(eval, o.eval_batch_size, false, 0, o.num_workers);
        ss.driven = model_;
    }
    return ss;
}

Finetuner::PhaseData Finetuner::phase_data(Session& ss, size_t k) {
    PhaseData pd{ss.train_src, ss.eval_src, ss.driven, ss.cut, 0};
    if (!ss.train_cache) return pd;
    size_t first = ss.stages.size();
    for (const auto& s : options_.phases[k].trainable) first = std::min(first, nn::models::stage_index(ss.stages, s));
    const size_t begin = cache_point(*model_, ss.stages, first);
    if (begin <= ss.cut) return pd;
    // Stages [cut, begin) are frozen during this phase: run them once.
    const auto t0 = Clock::now();
    const bool was_training = model_->is_training();
    model_->eval();
    auto derive = [&](const FeatureCache& cache) {
        NoGradGuard no_grad;
        std::vector<Tensor> parts;
        const Tensor& f = cache.features();
        for (int64_t b = 0; b < f.size(0); b += options_.eval_batch_size)
            parts.push_back(nn::models::run_stages(ss.stages, ss.cut, begin,
                                                   f.slice(0, b, std::min(f.size(0), b + options_.eval_batch_size))));
        return std::make_shared<io::TensorDataset>(cat(parts), cache.targets());
    };
    auto train_ds = derive(*ss.train_cache);
    pd.train_src = loader_source(train_ds, options_.batch_size, true, options_.seed, 0);
    pd.derive_train_seconds = since(t0);
    if (ss.eval_cache) pd.eval_src = loader_source(derive(*ss.eval_cache), options_.eval_batch_size, false, 0, 0);
    model_->train(was_training);
    pd.driven = std::make_shared<StageRange>(model_, ss.stages, begin, ss.stages.size());
    pd.begin = begin;
    pd.derive_seconds = since(t0);
    pd.derive_eval_seconds = pd.derive_seconds - pd.derive_train_seconds;
    return pd;
}

std::vector<optim::ParamGroup> Finetuner::setup_phase(Session& ss, size_t k, std::string* summary) {
    const FinetuneOptions& o = options_;
    const FinetunePhase& ph = o.phases.at(k);
    // Trainability: only this phase's stages (LoRA keeps base weights frozen).
    freeze(*model_);
    std::vector<size_t> trained;
    for (const auto& s : ph.trainable) trained.push_back(nn::models::stage_index(ss.stages, s));
    std::sort(trained.begin(), trained.end());
    trained.erase(std::unique(trained.begin(), trained.end()), trained.end());
    const auto params = model_->named_parameters();
    for (size_t i : trained)
        for (const auto& m : ss.stages[i].modules) {
            // Parameter-free modules (ReLU, pooling) have nothing to unfreeze.
            const bool has_params =
                std::any_of(params.begin(), params.end(), [&](const auto& p) { return under(p.first, m); });
            if (has_params) unfreeze(*model_, m);
        }
    for (const auto& pattern : o.keep_frozen) freeze(*model_, pattern);
    if (o.lora_rank > 0)
        for (auto& [name, t] : model_->named_parameters())
            if (name.find("base_layer.") != std::string::npos) t.requires_grad_(false);
    set_batchnorm_policy(*model_, parse_batchnorm(o.batchnorm));
    if (summary) *summary = trainable_summary(*model_);

    // One parameter group per trained stage, discriminative rates lo..hi.
    std::vector<double> lrs = geometric(trained.size(), ph.lr_lo, ph.lr);
    std::vector<optim::ParamGroup> groups;
    for (size_t g = 0; g < trained.size(); ++g) {
        optim::ParamGroup group;
        group.name = ss.stages[trained[g]].name;
        group.options.lr = lrs[g];
        for (auto& [n, t] : stage_params(*model_, ss.stages[trained[g]], true)) group.params.push_back(t);
        if (!group.params.empty()) groups.push_back(std::move(group));
    }
    check(!groups.empty(), "Finetuner: phase '", ph.name, "' has no trainable parameters (",
          "its stages are frozen by keep_frozen, or have no parameters)");
    return groups;
}

FinetuneResult Finetuner::run(const io::DatasetPtr& train, const io::DatasetPtr& eval) {
    const auto t_run = Clock::now();
    const FinetuneOptions& o = options_;
    check(eval != nullptr && eval->size() > 0, "Finetuner: the evaluation set is empty");
    Session ss = prepare(train, eval);
    FinetuneResult result;
    if (ss.train_cache) {
        result.cache_stage = ss.stages[ss.cut - 1].name;
        result.cache_seconds = ss.cache_seconds;
        result.cache_loaded = ss.train_cache->loaded_from_disk() && ss.eval_cache->loaded_from_disk();
        ss.train_cache_seconds = ss.train_cache->seconds();
        ss.eval_cache_seconds = ss.eval_cache->seconds();
        result.trunk_seconds_per_train_epoch = ss.train_cache_seconds;
    }

    double epoch_seconds = 0, uncached_estimate = 0;
    int64_t epochs_run = 0;
    PhaseData pd;
    bool last_eval_current = false;
    EpochResult last_eval;
    ClassificationMetrics last_metrics(o.num_classes, o.class_names);
    for (size_t k = 0; k < o.phases.size(); ++k) {
        const FinetunePhase& ph = o.phases[k];
        PhaseResult pr;
        pr.name = ph.name;
        const auto t_phase = Clock::now();
        std::vector<optim::ParamGroup> groups = setup_phase(ss, k, &pr.summary);
        pd = phase_data(ss, k);
        if (ss.train_cache) pr.cache_stage = ss.stages[pd.begin - 1].name;
        if (o.verbose && pd.begin > ss.cut)
            std::printf("this phase keeps stages up to '%s' frozen: their output computed once (%.1fs)\n",
                        pr.cache_stage.c_str(), pd.derive_seconds);
        if (o.verbose) {
            std::printf("\n== phase %zu/%zu: %s, %lld epochs ==\n%s", k + 1, o.phases.size(), ph.name.c_str(),
                        (long long)ph.epochs, pr.summary.c_str());
            std::printf("parameter groups:");
            for (const auto& g : groups) std::printf(" %s lr %.3g;", g.name.c_str(), *g.options.lr);
            std::printf("\n");
        }
        optim::AdamW opt(groups, {.lr = ph.lr, .weight_decay = ph.weight_decay});
        std::unique_ptr<optim::LRScheduler> sched;
        const int64_t total_steps = std::max<int64_t>(1, ph.epochs * ss.steps_per_epoch);
        if (ph.schedule == "cosine") {
            sched = std::make_unique<optim::CosineAnnealingLR>(opt, total_steps);
        } else if (ph.schedule == "one-cycle") {
            std::vector<double> max_lrs;
            for (const auto& g : groups) max_lrs.push_back(*g.options.lr);
            sched = std::make_unique<optim::OneCycleLR>(opt, max_lrs, total_steps);
        } else {
            check(ph.schedule == "constant", "Finetuner: phase '", ph.name, "': unknown schedule '", ph.schedule,
                  "' (constant, cosine, one-cycle)");
        }

        FitOptions fo;
        fo.epochs = ph.epochs;
        fo.num_classes = o.num_classes;
        fo.class_names = o.class_names;
        fo.scheduler = sched.get();
        fo.scheduler_per_step = true;
        fo.steps_per_epoch = ss.steps_per_epoch;
        fo.show_progress = o.show_progress;
        fo.log_path = with_suffix(o.log_path, ph.name);
        fo.chart_path = with_suffix(o.chart_path, ph.name);
        fo.chart_title = ph.name;
        if (!o.checkpoint_dir.empty()) {
            std::filesystem::create_directories(o.checkpoint_dir);
            fo.checkpoint_path = (std::filesystem::path(o.checkpoint_dir) /
                                  ("phase-" + std::to_string(k + 1) + "-" + ph.name + ".safetensors"))
                                     .string();
            fo.resume = o.resume;
            const nlohmann::json recipe = recipe_json(o, "");
            fo.checkpoint_extra_json = nlohmann::json{{"recipe", recipe}, {"phase", k + 1}}.dump();
            if (o.resume) check_resume_recipe(fo.checkpoint_path, recipe);
        }
        // Early stopping on evaluation accuracy: the best epoch's weights come back
        // (transfer/early_stopping.h), also when the phase runs to its end.
        std::unique_ptr<EarlyStopping> stopper;
        if (o.early_stopping_patience > 0)
            stopper = std::make_unique<EarlyStopping>(
                *model_, EarlyStoppingOptions{.monitor = "val_acc", .patience = o.early_stopping_patience,
                                              .best_path = with_suffix(o.best_path, ph.name)});
        double best = -1;
        int64_t best_epoch = 0;
        fo.on_epoch_end = [&](const EpochResult& e) {
            if (o.verbose && !o.show_progress && std::isnan(e.val_acc))
                std::printf("  %s epoch %lld/%lld: train loss %.4f (%.1fs)\n", ph.name.c_str(), (long long)e.epoch,
                            (long long)ph.epochs, e.train_loss, e.seconds);
            else if (o.verbose && !o.show_progress)
                std::printf("  %s epoch %lld/%lld: train loss %.4f, eval loss %.4f, eval acc %.2f%% (%.1fs)\n",
                            ph.name.c_str(), (long long)e.epoch, (long long)ph.epochs, e.train_loss, e.val_loss,
                            100 * e.val_acc, e.seconds);
            if (e.val_acc > best) {
                best = e.val_acc;
                best_epoch = e.epoch;
            }
            return stopper ? (*stopper)(e) : true;
        };
        // Evaluation every eval_every epochs and always after the phase's last;
        // the epochs in between report NaN for the evaluation columns.
        BatchSource fit_eval = pd.eval_src;
        if (o.eval_every != 1)
            fit_eval = [src = pd.eval_src, every = o.eval_every, last = ph.epochs](int64_t epoch,
                                                                                 const BatchVisitor& visit) {
                if ((every > 0 && epoch % every == 0) || epoch == last) src(epoch, visit);
            };
        FitResult fr = fit(*pd.driven, opt, pd.train_src, fit_eval, fo);
        last_eval_current = !fr.epochs.empty() && !std::isnan(fr.epochs.back().val_acc);
        if (last_eval_current) {
            last_eval = fr.epochs.back();
            last_metrics = fr.last_val_metrics;
        }
        if (stopper && !fr.epochs.empty() && stopper->best_epoch() != fr.epochs.back().epoch) {
            last_eval_current = false;
            stopper->restore();
            if (o.verbose)
                std::printf("early stopping: restored epoch %lld (eval acc %.4f)\n", (long long)stopper->best_epoch(),
                            stopper->best());
        }
        pr.epochs = fr.epochs;
        pr.best_val_acc = best;
        pr.best_epoch = best_epoch;
        pr.seconds = since(t_phase);
        for (const auto& e : fr.epochs) {
            epoch_seconds += e.seconds;
            // Without caching, each epoch would also run the cached trunk and this
            // phase's frozen stages over the training and evaluation images.
            // (the evaluation part only in epochs that evaluated).
            const bool evaluated = !std::isnan(e.val_acc);
            uncached_estimate += e.seconds + ss.train_cache_seconds + pd.derive_train_seconds +
                                 (evaluated ? ss.eval_cache_seconds + pd.derive_eval_seconds : 0.0);
            ++epochs_run;
        }
        result.phases.push_back(std::move(pr));
    }

    // The last phase's last evaluation is the final model's, unless early stopping
    // put other weights back (or the phase had no epochs).
    if (last_eval_current) {
        result.val_loss = last_eval.val_loss;
        result.val_acc = last_eval.val_acc;
        result.metrics = last_metrics;
    } else {
        ClassificationMetrics metrics(o.num_classes, o.class_names);
        result.val_loss = evaluate(*pd.driven, pd.eval_src, {}, &metrics);
        result.val_acc = metrics.accuracy();
        result.metrics = metrics;
    }
    result.seconds = since(t_run);
    if (ss.train_cache && epochs_run > 0) {
        result.cached_seconds_per_epoch = epoch_seconds / double(epochs_run);
        result.uncached_seconds_per_epoch = uncached_estimate / double(epochs_run);
        result.cache_speedup = uncached_estimate / epoch_seconds;
    }

    if (!o.out_path.empty()) {
        nlohmann::json recipe = recipe_json(o, result.cache_stage);
        std::vector<std::string> frozen;
        for (auto& [n, t] : model_->named_parameters())
            if (!t.requires_grad()) frozen.push_back(n);
        std::vector<std::string> trainable;
        for (auto& [n, t] : model_->named_parameters())
            if (t.requires_grad()) trainable.push_back(n);
        recipe["frozen_at_end"] = frozen.size();
        recipe["trainable_at_end"] = trainable;
        recipe["val_acc"] = result.val_acc;
        // LoRA adapters are merged into the weights the file carries, so predict
        // loads a plain model.
        if (o.lora_rank > 0) merge_lora(*model_);
        NamedTensors sd = o.lora_rank > 0 ? base_state_dict(*model_) : model_->state_dict();
        sd.metadata["format"] = "graft.finetuned/1";
        sd.metadata["graft.recipe"] = recipe.dump();
        io::write_safetensors(o.out_path, sd);
        if (o.verbose) std::printf("saved %s (recipe in its metadata)\n", o.out_path.c_str());
    }
    return result;
}


LrFinderResult Finetuner::find_lr(const io::DatasetPtr& train, size_t phase, const LrFinderOptions& options) {
    check(phase < options_.phases.size(), "Finetuner::find_lr: phase ", phase, " of a ", options_.phases.size(),
          "-phase recipe");
    Session ss = prepare(train, nullptr);
    std::vector<optim::ParamGroup> groups = setup_phase(ss, phase, nullptr);
    PhaseData pd = phase_data(ss, phase);
    if (options_.verbose) std::printf("%s", trainable_summary(*model_).c_str());
    optim::AdamW opt(groups, {.lr = options.start_lr, .weight_decay = options_.phases[phase].weight_decay});
    return transfer::find_lr(*pd.driven, opt, pd.train_src, options);
}

BaselineResult train_baseline(nn::Module& model, const io::DatasetPtr& train, const io::DatasetPtr& eval,
                              const BaselineOptions& o) {
    check(o.num_classes > 0, "train_baseline: num_classes must be set");
    manual_seed(o.seed);
    BaselineResult r;
    optim::AdamW opt(model.parameters(), {.lr = o.lr, .weight_decay = o.weight_decay});
    io::DataLoader loader(train, {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed,
                                  .num_workers = int(o.num_workers)});
    const auto t0 = Clock::now();
    bool out_of_time = false;
    model.train();
    for (int64_t epoch = 1; !out_of_time; ++epoch) {
        double loss_sum = 0;
        int64_t seen = 0;
        for (const io::Batch& b : loader) {
            Tensor loss = cross_entropy(model(b.inputs), b.targets);
            loss.backward();
            opt.step();
            opt.zero_grad();
            ++r.steps;
            loss_sum += loss.item<double>() * double(b.inputs.size(0));
            seen += b.inputs.size(0);
            if (since(t0) >= o.budget_seconds) {
                out_of_time = true;
                break;
            }
        }
        if (o.show_progress)
            std::printf("scratch epoch %lld: train loss %.4f over %lld images, %.1fs of %.0fs budget%s\n",
                        (long long)epoch, loss_sum / double(std::max<int64_t>(seen, 1)), (long long)seen, since(t0),
                        o.budget_seconds, out_of_time ? " (budget reached)" : "");
        if (!out_of_time) ++r.epochs_completed;
    }
    r.train_seconds = since(t0);
    const auto t1 = Clock::now();
    ClassificationMetrics m(o.num_classes);
    r.val_loss = evaluate(model, loader_source(eval, o.eval_batch_size, false, 0, o.num_workers), {}, &m);
    r.val_acc = m.accuracy();
    r.metrics = m;
    r.eval_seconds = since(t1);
    return r;
}

std::string compare_to_baseline(const FinetuneResult& p, const BaselineResult& b) {
    std::ostringstream s;
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %10s %12s\n", "", "accuracy", "train time");
    s << line;
    std::snprintf(line, sizeof line, "%-22s %9.2f%% %11.1fs\n", "pretrained fine-tune", 100 * p.val_acc, p.seconds);
    s << line;
    std::snprintf(line, sizeof line, "%-22s %9.2f%% %11.1fs  (%lld epochs + part, %lld steps)\n", "from scratch",
                  100 * b.val_acc, b.train_seconds, (long long)b.epochs_completed, (long long)b.steps);
    s << line;
    const double gain = 100 * (p.val_acc - b.val_acc);
    std::snprintf(line, sizeof line, "transfer gain: %+.2f points\n", gain);
    s << line;
    if (gain < 0)
        s << "WARNING: negative transfer: the pretrained model did worse than training from scratch on the same "
             "data and budget. Check the preprocessing, the learning rates, and whether the source task is related.\n";
    else if (gain < 1)
        s << "WARNING: the pretrained model is less than a point better than scratch: little transfer.\n";
    return s.str();
}

SavedRecipe read_recipe(const std::map<std::string, std::string>& metadata) {
    SavedRecipe r;
    auto it = metadata.find("graft.recipe");
    if (it == metadata.end()) return r;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(it->second);
        r.model_name = j.at("model").get<std::string>();
        r.num_classes = j.at("num_classes").get<int64_t>();
        r.class_names = j.value("class_names", std::vector<std::string>{});
        const auto& p = j.at("preprocessing");
        r.preprocessing.resize = p.at("resize").get<int64_t>();
        r.preprocessing.crop = p.at("crop").get<int64_t>();
        r.preprocessing.mean = p.at("mean").get<std::array<double, 3>>();
        r.preprocessing.std = p.at("std").get<std::array<double, 3>>();
        r.resize_direct = p.value("pipeline", std::string()).rfind("fashion-mnist", 0) == 0;
    } catch (const nlohmann::json::exception& e) {
        throw Error(cat_str("read_recipe: the graft.recipe metadata is not a valid recipe: ", e.what()));
    }
    r.json = it->second;
    return r;
}

}  // namespace graft::transfer
