// fit() and evaluate(): the loop, one screen per phase.
#include "transfer/training/fit.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/loss.h"
#include "nn/module.h"
#include "nn/optim/clip.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/schedule.h"
#include "transfer/checkpoint.h"
#include "transfer/training/metrics_log.h"

namespace graft::transfer {
namespace {

Tensor default_loss(const Tensor& output, const Tensor& target) { return cross_entropy(output, target); }

double seconds_now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Restores the model's train/eval mode when evaluation ends (also on error).
struct ModeGuard {
    nn::Module& model;
    bool was_training;
    ~ModeGuard() { model.train(was_training); }
};

MetricRow epoch_row(const EpochResult& r) {
    MetricRow row{{"epoch", r.epoch}, {"step", r.steps}, {"train_loss", r.train_loss}};
    if (!std::isnan(r.train_acc)) row.emplace_back("train_acc", r.train_acc);
    if (!std::isnan(r.val_loss)) row.emplace_back("val_loss", r.val_loss);
    if (!std::isnan(r.val_acc)) row.emplace_back("val_acc", r.val_acc);
    row.emplace_back("seconds", r.seconds);
    return row;
}

// A run killed inside an epoch logged steps of that epoch; the resumed run
// logs them again, so the history keeps only the finished epochs.
TrainingHistory history_up_to(const TrainingHistory& h, int64_t last_epoch) {
    TrainingHistory out;
    for (size_t i = 0; i < h.step_x.size(); ++i)
        if (h.step_x[i] <= double(last_epoch) + 1e-9) out.add_step(h.step_x[i], h.step_loss[i]);
    for (size_t i = 0; i < h.epoch.size(); ++i)
        if (h.epoch[i] <= double(last_epoch))
            out.add_epoch(h.epoch[i], h.train_loss[i], h.val_loss[i], h.train_acc[i], h.val_acc[i]);
    return out;
}

void check_options(const FitOptions& o) {
    check(o.epochs >= 1, "fit", "epochs must be at least 1, got ", o.epochs);
    check(o.num_classes >= 0, "fit", "num_classes must be >= 0, got ", o.num_classes);
    check(o.log_every_steps >= 1, "fit", "log_every_steps must be >= 1, got ", o.log_every_steps);
    check(o.clip_grad_norm >= 0, "fit", "clip_grad_norm must be >= 0, got ", o.clip_grad_norm);
    check(o.steps_per_epoch >= 0, "fit", "steps_per_epoch must be >= 0, got ", o.steps_per_epoch);
}

}  // namespace

BatchSource batches_of(std::vector<Batch> batches) {
    return [batches = std::move(batches)](int64_t, const BatchVisitor& visit) {
        for (const Batch& b : batches) visit(b.input, b.target);
    };
}

TrainingHistory history_from_log(const std::string& path) {
    struct Step {
        int64_t epoch, step;
        double loss;
    };
    std::vector<Step> steps;
    std::map<int64_t, int64_t> epoch_length;  // from epoch rows, or the largest logged step
    TrainingHistory h;
    for (const MetricRow& row : read_metrics_log(path)) {
        std::map<std::string, const MetricValue*> v;
        for (const auto& [key, value] : row) v[key] = &value;
        auto num = [&](const char* key) { return v.count(key) ? v[key]->real() : NAN; };
        if (!v.count("epoch")) continue;
        const int64_t epoch = int64_t(num("epoch"));
        if (v.count("train_loss")) {
            h.add_epoch(double(epoch), num("train_loss"), num("val_loss"), num("train_acc"), num("val_acc"));
            if (v.count("step")) epoch_length[epoch] = int64_t(num("step"));
        } else if (v.count("loss") && v.count("step")) {
            steps.push_back({epoch, int64_t(num("step")), num("loss")});
            int64_t& length = epoch_length[epoch];
            length = std::max(length, steps.back().step);
        }
    }
    for (const Step& s : steps)
        h.add_step(double(s.epoch - 1) + double(s.step) / double(std::max<int64_t>(1, epoch_length[s.epoch])), s.loss);
    return h;
}

double evaluate(nn::Module& model, const BatchSource& data, const LossFn& loss, ClassificationMetrics* metrics,
                int64_t epoch) {
    check(bool(data), "evaluate", "no data: the BatchSource is empty");
    const LossFn& loss_fn = loss ? loss : LossFn(default_loss);
    ModeGuard mode{model, model.is_training()};
    model.eval();
    NoGradGuard no_grad;
    if (metrics) metrics->reset();
    double sum = 0;
    int64_t count = 0;
    data(epoch, [&](const Tensor& input, const Tensor& target) {
        Tensor output = model(input);
        const double l = loss_fn(output, target).item<double>();
        const int64_t n = output.dim() > 0 ? output.size(0) : 1;
        sum += l * double(n);
        count += n;
        if (metrics) metrics->update(output, target);
    });
    if (metrics && count) metrics->add_loss(sum / double(count), count);
    return count ? sum / double(count) : NAN;
}

FitResult fit(nn::Module& model, optim::Optimizer& optimizer, const BatchSource& train, const BatchSource& val,
              const FitOptions& options) {
    check_options(options);
    check(bool(train), "fit", "no training data: the BatchSource is empty");
    const LossFn loss_fn = options.loss ? options.loss : LossFn(default_loss);
    const bool classify = options.num_classes > 0;
    FitResult result;
    if (classify) result.last_val_metrics = ClassificationMetrics(options.num_classes, options.class_names);
    ClassificationMetrics train_metrics = result.last_val_metrics;

    const TrainingObjects saved{.model = &model, .optimizer = &optimizer, .scheduler = options.scheduler};
    int64_t first_epoch = 1;
    if (options.resume && !options.checkpoint_path.empty() && std::filesystem::exists(options.checkpoint_path)) {
        result.resumed_after = load_checkpoint(options.checkpoint_path, saved).epoch;
        first_epoch = result.resumed_after + 1;
        if (!options.log_path.empty() && std::filesystem::exists(options.log_path))
            result.history = history_up_to(history_from_log(options.log_path), result.resumed_after);
    }
    std::optional<MetricsLog> log;
    if (!options.log_path.empty()) {
        MetricsLogOptions lo;
        if (log_format_for(options.log_path) == LogFormat::Csv)
            lo.columns = {"epoch", "step", "loss", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"};
        lo.append = first_epoch > 1;
        log.emplace(options.log_path, lo);
    }
    int64_t steps_per_epoch = options.steps_per_epoch;
    std::vector<Tensor> params = model.parameters();

    std::optional<ProgressBar> bar;
    if (options.show_progress) bar.emplace(options.epochs, steps_per_epoch, options.progress);
    for (int64_t epoch = first_epoch; epoch <= options.epochs; ++epoch) {
        const double started = seconds_now();
        if (bar) {
            bar->set_steps_per_epoch(steps_per_epoch);
            bar->start_epoch(epoch);
        }
        train_metrics.reset();
        model.train();
        int64_t step = 0;
        train(epoch, [&](const Tensor& input, const Tensor& target) {
            Tensor output = model(input);
            Tensor loss = loss_fn(output, target);
            loss.backward();
            if (options.clip_grad_norm > 0) optim::clip_grad_norm_(params, options.clip_grad_norm);
            const double lr = optimizer.lr(0);  // the rate this step used
            optimizer.step();
            optimizer.zero_grad();
            if (options.scheduler && options.scheduler_per_step) options.scheduler->step();
            ++step;
            const double l = loss.item<double>();
            const int64_t n = output.dim() > 0 ? output.size(0) : 1;
            if (classify) train_metrics.update(output.detach(), target, l);
            else train_metrics.add_loss(l, n);
            if (bar) bar->step(l, n, {{"lr", lr}});
            if (log && step % options.log_every_steps == 0)
                log->write({{"epoch", epoch}, {"step", step}, {"loss", l}, {"lr", lr}});
            result.history.add_step(double(epoch), l);  // placed within the epoch below
        });
        // Step positions in epochs, now that this epoch's length is known; the
        // next epoch's progress bar knows it too.
        for (size_t i = result.history.step_x.size() - size_t(step), k = 1; i < result.history.step_x.size(); ++i, ++k)
            result.history.step_x[i] = double(epoch - 1) + double(k) / double(step);
        if (step > 0) steps_per_epoch = step;
        if (options.scheduler && !options.scheduler_per_step) options.scheduler->step();

        EpochResult r;
        r.epoch = epoch;
        r.steps = step;
        r.train_loss = train_metrics.mean_loss();
        if (classify) r.train_acc = train_metrics.accuracy();
        if (val) {
            r.val_loss = evaluate(model, val, loss_fn, classify ? &result.last_val_metrics : nullptr, epoch);
            if (classify) r.val_acc = result.last_val_metrics.accuracy();
        }
        r.seconds = seconds_now() - started;
        result.epochs.push_back(r);
        result.history.add_epoch(double(epoch), r.train_loss, r.val_loss, r.train_acc, r.val_acc);
        if (bar) {
            ProgressValues extra;
            if (!std::isnan(r.train_acc)) extra.emplace_back("acc", r.train_acc);
            if (!std::isnan(r.val_loss)) extra.emplace_back("val_loss", r.val_loss);
            if (!std::isnan(r.val_acc)) extra.emplace_back("val_acc", r.val_acc);
            bar->end_epoch(extra);
        }
        if (log) log->write(epoch_row(r));
        if (!options.checkpoint_path.empty()) save_checkpoint(options.checkpoint_path, saved,
                            {.epoch = epoch, .step = step, .extra_json = options.checkpoint_extra_json});
        if (!options.chart_path.empty()) write_training_chart(options.chart_path, result.history, options.chart_title);
        if (options.on_epoch_end && !options.on_epoch_end(r)) {
            result.stopped_early = epoch < options.epochs;
            break;
        }
    }
    return result;
}

}  // namespace graft::transfer
