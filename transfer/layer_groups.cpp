// layer_groups, lr_range, layer_decay, param_groups, freeze_to and
// GradualUnfreezing (see layer_groups.h).
#include "transfer/layer_groups.h"

#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "nn/models/stages.h"
#include "transfer/freeze.h"

namespace graft::transfer {

namespace {

// A stage with parameters plus the parameter-less stages after it (the first
// unit also takes any parameter-less stages before it).
struct Unit {
    std::string first, last;  // stage names
    std::string own;          // the stage with parameters
    std::vector<std::pair<std::string, Tensor>> params;
};

std::vector<Unit> units_of(nn::Module& model) {
    std::vector<Unit> units;
    std::string leading;  // parameter-less stages before the first unit
    for (const nn::models::Stage& stage : nn::models::stages_of(model)) {
        auto params = nn::models::stage_parameters(model, stage);
        if (!params.empty()) {
            units.push_back({leading.empty() ? stage.name : leading, stage.name, stage.name, std::move(params)});
            leading.clear();
        } else if (units.empty()) {
            if (leading.empty()) leading = stage.name;
        } else {
            units.back().last = stage.name;
        }
    }
    check(!units.empty(), "layer_groups", "a ", model.type_name(), " has no stage with parameters");
    return units;
}

LayerGroup merge(const std::vector<Unit>& units, size_t begin, size_t end) {
    LayerGroup g;
    g.name = units[begin].first == units[end - 1].last ? units[begin].first
                                                         : units[begin].first + ".." + units[end - 1].last;
    for (size_t i = begin; i < end; ++i) g.params.insert(g.params.end(), units[i].params.begin(), units[i].params.end());
    return g;
}

int64_t count_elements(const std::vector<Tensor>& tensors) {
    int64_t n = 0;
    for (const Tensor& t : tensors) n += t.numel();
    return n;
}

// "10494976" -> "10,494,976"
std::string with_commas(int64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// Every group's parameters must be the model's tensors of the same name.
void check_groups_belong(nn::Module& model, const std::vector<LayerGroup>& groups, const char* op) {
    std::unordered_map<std::string, const TensorImpl*> own;
    for (auto& [name, t] : model.named_parameters()) own[name] = t.impl();
    for (const LayerGroup& g : groups)
        for (auto& [name, t] : g.params) {
            auto it = own.find(name);
            check(it != own.end() && it->second == t.impl(), op, "parameter '", name, "' of group '", g.name,
                  "' is not a parameter of this ", model.type_name(), " (layer groups of another model?)");
        }
}

// `name` as a glob that matches only itself (NamePattern's escapes).
std::string exact_glob(const std::string& name) {
    std::string out;
    for (char c : name) {
        if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// Through transfer::freeze/unfreeze, parameter by parameter, so a frozen group
// also drops its gradients and its all-frozen modules (BatchNorm) are pinned
// to eval, exactly as freezing by pattern does.
void set_trainable(nn::Module& model, const LayerGroup& group, bool on) {
    for (auto& [name, t] : group.params) {
        if (t.requires_grad() == on) continue;
        if (on)
            unfreeze(model, exact_glob(name));
        else
            freeze(model, exact_glob(name));
    }
}

}  // namespace

std::vector<LayerGroup> layer_groups(nn::Module& model, size_t n) {
    const std::vector<Unit> units = units_of(model);
    std::vector<LayerGroup> groups;
    if (n == 0) {
        // One group per stage with parameters, named after that stage alone.
        for (const Unit& u : units) groups.push_back({u.own, u.params});
        return groups;
    }
    check(n <= units.size(), "layer_groups", "asked for ", n, " groups but a ", model.type_name(), " has only ",
          units.size(), " stages with parameters");
    if (n == 1) return {merge(units, 0, units.size())};
    // The head alone; the body's units in n - 1 runs, earlier runs one longer.
    const size_t body = units.size() - 1, runs = n - 1;
    size_t begin = 0;
    for (size_t r = 0; r < runs; ++r) {
        const size_t len = body / runs + (r < body % runs ? 1 : 0);
        groups.push_back(merge(units, begin, begin + len));
        begin += len;
    }
    groups.push_back(merge(units, body, units.size()));
    return groups;
}

std::vector<double> lr_range(size_t num_groups, double lo, double hi) {
    check(num_groups > 0, "lr_range", "needs at least one group");
    check(lo > 0 && hi > 0 && std::isfinite(lo) && std::isfinite(hi), "lr_range", "lo and hi must be positive, got ",
          lo, " and ", hi);
    if (num_groups == 1) return {hi};
    std::vector<double> lrs(num_groups);
    const double ratio = hi / lo;
    for (size_t i = 0; i < num_groups; ++i) lrs[i] = lo * std::pow(ratio, double(i) / double(num_groups - 1));
    lrs.back() = hi;  // exact at both ends despite rounding in pow
    return lrs;
}

std::vector<double> layer_decay(size_t num_groups, double base_lr, double decay) {
    check(num_groups > 0, "layer_decay", "needs at least one group");
    check(base_lr > 0 && std::isfinite(base_lr), "layer_decay", "base_lr must be positive, got ", base_lr);
    check(decay > 0 && decay <= 1, "layer_decay", "decay must be in (0, 1], got ", decay);
    std::vector<double> lrs(num_groups);
    for (size_t i = 0; i < num_groups; ++i) lrs[i] = base_lr * std::pow(decay, double(num_groups - 1 - i));
    return lrs;
}

std::vector<optim::ParamGroup> param_groups(const std::vector<LayerGroup>& groups, const std::vector<double>& lrs) {
    check(groups.size() == lrs.size(), "param_groups", groups.size(), " layer groups but ", lrs.size(),
          " learning rates");
    std::vector<optim::ParamGroup> out;
    for (size_t i = 0; i < groups.size(); ++i) {
        optim::ParamGroup pg;
        pg.name = groups[i].name;
        pg.options.lr = lrs[i];
        for (auto& [name, t] : groups[i].params)
            if (t.requires_grad()) pg.params.push_back(t);
        if (!pg.params.empty()) out.push_back(std::move(pg));
    }
    return out;
}

void freeze_to(nn::Module& model, const std::vector<LayerGroup>& groups, int n_from_end) {
    const size_t n = size_t(std::abs(n_from_end));
    check(n >= 1 && n <= groups.size(), "freeze_to", "n must name 1..", groups.size(),
          " groups from the end (as -1..-", groups.size(), "), got ", n_from_end);
    check_groups_belong(model, groups, "freeze_to");
    for (size_t i = 0; i < groups.size(); ++i) set_trainable(model, groups[i], i + n >= groups.size());
}

GradualUnfreezing::GradualUnfreezing(nn::Module& model, std::vector<LayerGroup> groups, std::vector<double> lrs,
                                     int64_t warm_epochs, int64_t every)
    : model_(model), groups_(std::move(groups)), lrs_(std::move(lrs)), warm_epochs_(warm_epochs), every_(every) {
    check(!groups_.empty(), "GradualUnfreezing", "needs at least one layer group");
    check(groups_.size() == lrs_.size(), "GradualUnfreezing", groups_.size(), " layer groups but ", lrs_.size(),
          " learning rates");
    check(warm_epochs_ >= 0 && every_ >= 1, "GradualUnfreezing", "warm_epochs must be >= 0 and every >= 1, got ",
          warm_epochs_, " and ", every_);
    freeze_to(model_, groups_, -1);
}

std::vector<std::string> GradualUnfreezing::on_epoch_begin(int64_t epoch, optim::Optimizer& optimizer) {
    check(epoch >= 1, "GradualUnfreezing", "epochs count from 1, got ", epoch);
    const int64_t groups = int64_t(groups_.size());
    int64_t target = 1;
    if (epoch > warm_epochs_) target = std::min(groups, 2 + (epoch - warm_epochs_ - 1) / every_);
    std::unordered_set<const TensorImpl*> in_optimizer;
    for (const optim::ParamGroup& pg : optimizer.param_groups())
        for (const Tensor& t : pg.params) in_optimizer.insert(t.impl());

    std::vector<std::string> report;
    while (unfrozen_ < target) {
        const size_t g = size_t(groups - 1 - unfrozen_);
        set_trainable(model_, groups_[g], true);
        ++unfrozen_;
        optim::ParamGroup pg;
        pg.name = groups_[g].name;
        pg.options.lr = lrs_[g];
        for (auto& [name, t] : groups_[g].params)
            if (!in_optimizer.count(t.impl())) pg.params.push_back(t);
        std::string line = cat_str("epoch ", epoch, ": unfroze '", groups_[g].name, "' (", pg.params.size(),
                                   " tensors, ", with_commas(count_elements(pg.params)), " parameters) at lr ",
                                   lrs_[g]);
        if (pg.params.empty()) {
            line += ", already all in the optimizer";
        } else {
            line += cat_str(" as optimizer group ", optimizer.num_groups());
            optimizer.add_param_group(std::move(pg));
        }
        report.push_back(std::move(line));
    }
    return report;
}

}  // namespace graft::transfer
