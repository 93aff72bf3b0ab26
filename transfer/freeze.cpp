// freeze/unfreeze, the pins that keep frozen parts in eval, the BatchNorm
// policy registry and the trainable summary (see freeze.h).
#include "transfer/freeze.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "nn/layers/norm.h"
#include "transfer/name_pattern.h"

namespace graft::transfer {

namespace {

// ---- BatchNorm policies, remembered per BatchNorm module ----------------------------------
// Keyed by address; the weak pointer tells a live module from a dead one whose
// address was reused (modules are built with make_shared; one that is not keeps
// its entry until another policy is set at its address).
struct PolicyEntry {
    std::weak_ptr<const nn::Module> owner;
    bool has_owner = false;
    BatchNormPolicy policy = BatchNormPolicy::FollowFreeze;
};

std::mutex& policy_mutex() {
    static std::mutex m;
    return m;
}

std::unordered_map<const nn::Module*, PolicyEntry>& policy_table() {
    static std::unordered_map<const nn::Module*, PolicyEntry> table;
    return table;
}

BatchNormPolicy policy_of(const nn::Module& bn) {
    std::lock_guard lock(policy_mutex());
    auto& table = policy_table();
    const auto it = table.find(&bn);
    if (it == table.end()) return BatchNormPolicy::FollowFreeze;
    if (it->second.has_owner && it->second.owner.expired()) {
        table.erase(it);
        return BatchNormPolicy::FollowFreeze;
    }
    return it->second.policy;
}

void remember_policy(const nn::Module& bn, BatchNormPolicy policy) {
    std::lock_guard lock(policy_mutex());
    auto& table = policy_table();
    std::erase_if(table, [](const auto& kv) { return kv.second.has_owner && kv.second.owner.expired(); });
    if (policy == BatchNormPolicy::FollowFreeze) {
        table.erase(&bn);
        return;
    }
    PolicyEntry entry;
    entry.owner = bn.weak_from_this();
    entry.has_owner = !entry.owner.expired();
    entry.policy = policy;
    table[&bn] = entry;
}

bool is_batchnorm(const nn::Module& m) { return dynamic_cast<const nn::BatchNormBase*>(&m) != nullptr; }

// ---- pins ----------------------------------------------------------------------------------
// A module with parameters, all frozen, is a frozen part, and so is all below it.
void pin_tree(nn::Module& m, bool in_frozen_part) {
    const std::vector<Tensor> params = m.parameters();
    const bool all_frozen = !params.empty() &&
                            std::none_of(params.begin(), params.end(), [](const Tensor& p) { return p.requires_grad(); });
    const bool frozen = in_frozen_part || all_frozen;
    std::optional<bool> pin = frozen ? std::optional<bool>(false) : std::nullopt;
    if (is_batchnorm(m)) {
        switch (policy_of(m)) {
            case BatchNormPolicy::FollowFreeze: break;
            case BatchNormPolicy::AlwaysEval: pin = false; break;
            case BatchNormPolicy::AlwaysTrain: pin = std::nullopt; break;
        }
    }
    m.pin_mode(pin);
    for (auto& [name, child] : m.named_children()) pin_tree(*child, frozen);
}

void refresh_pins(nn::Module& root) { pin_tree(root, false); }

// ---- requires_grad by pattern --------------------------------------------------------------
std::string no_match_message(const char* op, const nn::Module& model, const NamePattern& pattern) {
    const auto named = model.named_parameters();
    std::ostringstream os;
    os << op << ": the pattern \"" << pattern.text() << "\" matches no parameter of " << model.type_name();
    if (named.empty()) {
        os << " (it has no parameters)";
        return os.str();
    }
    os << " (" << named.size() << " parameter tensors).";
    const auto children = model.named_children();
    if (!children.empty()) {
        os << " Its top-level modules:";
        for (size_t i = 0; i < children.size(); ++i) os << (i ? ", " : " ") << children[i].first;
        os << ".";
    }
    os << " Parameter names look like:";
    const size_t shown = std::min<size_t>(named.size(), 6);
    for (size_t i = 0; i < shown; ++i) os << (i ? ", " : " ") << named[i].first;
    if (shown < named.size()) os << ", ..., " << named.back().first;
    os << ". A module name (\"layer1\") covers all below it; '*' spans dots; \"re:<regex>\" for a regex.";
    return os.str();
}

size_t set_requires_grad(nn::Module& model, const std::string& pattern_text, bool on, const char* op) {
    const NamePattern pattern(pattern_text);
    size_t matched = 0, changed = 0;
    for (auto& [name, p] : model.named_parameters()) {
        if (!pattern.matches_or_within(name)) continue;
        ++matched;
        if (p.requires_grad() == on) continue;
        p.requires_grad_(on);
        if (!on) p.set_grad(Tensor());  // a frozen parameter keeps no stale gradient
        ++changed;
    }
    if (matched == 0) throw Error(no_match_message(op, model, pattern));
    refresh_pins(model);
    return changed;
}

void set_all(nn::Module& module, bool on) {
    for (auto& [name, p] : module.named_parameters()) {
        if (p.requires_grad() == on) continue;
        p.requires_grad_(on);
        if (!on) p.set_grad(Tensor());
    }
    refresh_pins(module);
}

}  // namespace

size_t freeze(nn::Module& model, const std::string& pattern) { return set_requires_grad(model, pattern, false, "freeze"); }

size_t unfreeze(nn::Module& model, const std::string& pattern) {
    return set_requires_grad(model, pattern, true, "unfreeze");
}

void freeze(nn::Module& module) { set_all(module, false); }

void unfreeze(nn::Module& module) { set_all(module, true); }

std::vector<std::pair<std::string, Tensor>> named_trainable_parameters(const nn::Module& model) {
    std::vector<std::pair<std::string, Tensor>> out;
    std::unordered_set<const TensorImpl*> seen;
    for (auto& [name, p] : model.named_parameters())
        if (p.requires_grad() && seen.insert(p.impl()).second) out.emplace_back(name, p);
    return out;
}

std::vector<Tensor> trainable_parameters(const nn::Module& model) {
    std::vector<Tensor> out;
    for (auto& [name, p] : named_trainable_parameters(model)) out.push_back(p);
    return out;
}

void set_batchnorm_policy(nn::Module& model, BatchNormPolicy policy) {
    // By hand rather than named_modules(): that needs the root to be owned by a shared_ptr.
    const std::function<void(nn::Module&)> visit = [&](nn::Module& m) {
        if (is_batchnorm(m)) remember_policy(m, policy);
        for (auto& [name, child] : m.named_children()) visit(*child);
    };
    visit(model);
    refresh_pins(model);
}

}  // namespace graft::transfer
