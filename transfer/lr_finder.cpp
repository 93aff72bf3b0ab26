// find_lr (lr_finder.h): the sweep with its save/restore, the suggestion rule
// and the chart.
#include "transfer/lr_finder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/ops/loss.h"
#include "core/ops/random.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"
#include "transfer/training/chart.h"

namespace graft::transfer {
namespace {

// Thrown through the BatchSource to end its pass when the sweep is done.
struct SweepDone {};

std::string sci(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2e", v);
    return buf;
}

void check_options(const LrFinderOptions& o) {
    check(o.start_lr > 0 && std::isfinite(o.start_lr), "find_lr", "start_lr must be positive, got ", o.start_lr);
    check(o.end_lr > o.start_lr && std::isfinite(o.end_lr), "find_lr", "end_lr must be finite and above start_lr (",
          o.start_lr, "), got ", o.end_lr);
    check(o.num_steps >= 2, "find_lr", "num_steps must be at least 2, got ", o.num_steps);
    check(o.smoothing >= 0 && o.smoothing < 1, "find_lr", "smoothing (the EMA's beta) must be in [0, 1), got ",
          o.smoothing);
    check(o.diverge_factor > 1, "find_lr", "diverge_factor must be above 1, got ", o.diverge_factor);
}

// Everything the sweep changes, copied before it and put back after it.
struct Snapshot {
    nn::Module& model;
    optim::Optimizer& optimizer;
    NamedTensors model_state;
    NamedTensors optim_state;
    bool training;
    uint64_t rng_seed, rng_offset;

    Snapshot(nn::Module& m, optim::Optimizer& o)
        : model(m), optimizer(o), optim_state(o.state_dict()), training(m.is_training()),
          rng_seed(default_generator().seed()), rng_offset(default_generator().offset()) {
        for (const auto& [name, t] : m.state_dict()) model_state.set(name, t.clone());  // state_dict shares storage
    }
    void restore() {
        model.load_state_dict(model_state);
        optimizer.load_state_dict(optim_state);
        optimizer.zero_grad();
        model.zero_grad();
        model.train(training);
        default_generator().set_state(rng_seed, rng_offset);
    }
};

void sweep(nn::Module& model, optim::Optimizer& optimizer, const BatchSource& train, const LrFinderOptions& o,
           LrFinderResult& r) {
    const LossFn loss_fn = o.loss ? o.loss : LossFn([](const Tensor& out, const Tensor& t) { return cross_entropy(out, t); });
    std::vector<double> ratio(optimizer.num_groups(), 1.0);  // each group's lr relative to group 0's
    for (size_t g = 1; g < ratio.size(); ++g)
        if (optimizer.lr(0) > 0) ratio[g] = optimizer.lr(g) / optimizer.lr(0);
    const double growth = std::log(o.end_lr / o.start_lr) / double(o.num_steps - 1);
    double avg = 0, best = INFINITY;
    int64_t step = 0;
    model.train();
    optimizer.zero_grad();
    model.zero_grad();
    const BatchVisitor visit = [&](const Tensor& input, const Tensor& target) {
        const double lr = o.start_lr * std::exp(growth * double(step));
        for (size_t g = 0; g < ratio.size(); ++g) optimizer.set_lr(g, lr * ratio[g]);
        Tensor loss = loss_fn(model(input), target);
        const double l = loss.item<double>();
        if (!std::isfinite(l)) {
            r.diverged = true;
            r.reason = cat_str("the loss was ", l, " at lr ", sci(lr));
            throw SweepDone{};
        }
        loss.backward();
        optimizer.step();
        optimizer.zero_grad();
        ++step;
        avg = o.smoothing * avg + (1 - o.smoothing) * l;
        const double smoothed = avg / (1 - std::pow(o.smoothing, double(step)));
        r.lrs.push_back(lr);
        r.losses.push_back(l);
        r.smoothed.push_back(smoothed);
        best = std::min(best, smoothed);
        if (step > 1 && smoothed > o.diverge_factor * best) {
            r.diverged = true;
            r.reason = cat_str("the smoothed loss reached ", smoothed, ", ", smoothed / best, "x its best, at lr ",
                               sci(lr));
            throw SweepDone{};
        }
        if (step == o.num_steps) throw SweepDone{};
    };
    try {
        for (int64_t epoch = 1;; ++epoch) {
            const int64_t before = step;
            train(epoch, visit);
            check(step > before, "find_lr", "pass ", epoch, " of the training data gave no batches");
        }
    } catch (const SweepDone&) {
    }
}

}  // namespace

void suggest_lr(LrFinderResult& r) {
    const std::vector<double>& s = r.smoothed;
    check(r.lrs.size() == s.size(), "suggest_lr", "lrs (", r.lrs.size(), ") and smoothed (", s.size(),
          ") differ in length");
    const int64_t n = int64_t(s.size());
    r.suggested_lr = r.min_loss_lr = NAN;
    if (n < 3) {
        r.reason = cat_str("too few steps (", n, ") to suggest a rate");
        return;
    }
    const int64_t imin = int64_t(std::min_element(s.begin(), s.end()) - s.begin());
    r.min_loss_lr = r.lrs[size_t(imin)];
    const int64_t lo = std::min(std::max<int64_t>(1, n / 10), imin), w = std::max<int64_t>(1, n / 20);
    int64_t best = -1;
    double best_slope = 0;
    for (int64_t i = lo; i <= imin; ++i) {
        const int64_t a = std::max<int64_t>(0, i - w), b = std::min(n - 1, i + w);
        const double slope = (s[size_t(b)] - s[size_t(a)]) / std::log10(r.lrs[size_t(b)] / r.lrs[size_t(a)]);
        if (slope < best_slope) best_slope = slope, best = i;
    }
    const std::string minimum =
        cat_str("the smoothed loss is lowest (", s[size_t(imin)], ") at lr ", sci(r.min_loss_lr));
    if (best < 0) {
        r.reason = cat_str("no suggestion: the smoothed loss never falls before its minimum; ", minimum,
                           " (try a smaller start_lr, or check the data and loss)");
        return;
    }
    r.suggested_lr = r.lrs[size_t(best)];
    r.reason = cat_str("suggested lr ", sci(r.suggested_lr), ": the steepest descent of the smoothed loss (",
                       best_slope, " per decade of lr); ", minimum);
}

void write_lr_finder_chart(const std::string& path, const LrFinderResult& r) {
    ChartPanel p;
    p.x_label = "learning rate";
    p.y_label = "loss";
    p.log_x = true;
    ChartSeries raw("loss", r.lrs, r.losses, palette_color(0));
    raw.line_width = 1.2;
    raw.opacity = 0.35;
    raw.markers = false;
    ChartSeries smooth("smoothed loss", r.lrs, r.smoothed, palette_color(0));
    smooth.markers = false;
    p.series = {raw, smooth};
    // The diverging tail runs off the top instead of squashing the useful part.
    if (std::isfinite(r.min_loss_lr) && !r.smoothed.empty()) {
        const auto end = std::find(r.lrs.begin(), r.lrs.end(), r.min_loss_lr) - r.lrs.begin() + 1;
        p.y_soft_max = *std::max_element(r.smoothed.begin(), r.smoothed.begin() + end) * 1.1;
    }
    // Short labels: the two marks are often close, and a label stops at the next mark.
    char text[32];
    if (std::isfinite(r.suggested_lr)) {
        std::snprintf(text, sizeof text, "%.1e", r.suggested_lr);
        p.x_marks.push_back({r.suggested_lr, text, {214, 39, 40}});
    }
    if (std::isfinite(r.min_loss_lr)) p.x_marks.push_back({r.min_loss_lr, "min"});
    p.title = std::isfinite(r.suggested_lr) ? "LR finder (red: suggested, grey: minimum)"
                                            : "LR finder (no suggestion: the loss never falls)";
    write_chart_png(path, {p});
}

LrFinderResult find_lr(nn::Module& model, optim::Optimizer& optimizer, const BatchSource& train,
                       const LrFinderOptions& options) {
    check_options(options);
    check(bool(train), "find_lr", "no training data: the BatchSource is empty");
    check(optimizer.num_groups() > 0, "find_lr", "the optimizer has no parameter groups");
    Snapshot before(model, optimizer);
    LrFinderResult r;
    try {
        sweep(model, optimizer, train, options, r);
    } catch (...) {
        before.restore();
        throw;
    }
    before.restore();
    const std::string stopped = r.reason;
    suggest_lr(r);
    r.reason += r.diverged ? cat_str("; the sweep stopped after ", r.lrs.size(), " of ", options.num_steps,
                                     " steps: ", stopped)
                           : cat_str("; the sweep ran ", r.lrs.size(), " steps from lr ", sci(options.start_lr),
                                     " to ", sci(options.end_lr));
    if (!options.chart_path.empty()) write_lr_finder_chart(options.chart_path, r);
    return r;
}

}  // namespace graft::transfer
