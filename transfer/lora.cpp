// LoRA over a whole model (see lora.h): wrapping by pattern, merging, the
// parameter list and the base-name views. The files are in lora_io.cpp.
#include "transfer/lora.h"

#include <cmath>
#include <functional>
#include <set>

namespace graft::transfer {

namespace {

std::string join_path(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
}

// Depth-first over the tree (the root first), with dotted paths; `inside` says
// whether an ancestor is a LoRA wrapper. Uses named_children, which is const.
void walk(const nn::Module& module, const std::string& path, bool inside,
          const std::function<void(const std::string&, const std::shared_ptr<nn::Module>&, bool)>& fn) {
    for (const auto& [name, child] : module.named_children()) {
        const std::string child_path = join_path(path, name);
        fn(child_path, child, inside);
        walk(*child, child_path, inside || std::dynamic_pointer_cast<LoraLayer>(child) != nullptr, fn);
    }
}

bool any_glob(const std::vector<std::string>& patterns, const std::string& path) {
    for (const auto& p : patterns)
        if (glob_match(p, path)) return true;
    return false;
}

std::string some_module_paths(const nn::Module& model) {
    std::string out;
    int shown = 0, total = 0;
    walk(model, "", false, [&](const std::string& path, const std::shared_ptr<nn::Module>& m, bool) {
        ++total;
        if (shown < 12) {
            out += cat_str(shown == 0 ? "" : ", ", path, " (", m->type_name(), ")");
            ++shown;
        }
    });
    if (total == 0) return "the model has no submodules";
    if (total > shown) out += cat_str(", ... (", total, " modules)");
    return out;
}

std::string regex_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::vector<std::string> apply_lora(nn::Module& model, const LoraOptions& options) {
    const LoraConfig config{options.rank, options.alpha, options.dropout};
    check(config.rank >= 1, "apply_lora", "rank must be at least 1, got ", config.rank);
    check(config.dropout >= 0.0 && config.dropout < 1.0, "apply_lora", "dropout must be in [0, 1), got ",
          config.dropout);
    check(std::isfinite(config.alpha), "apply_lora", "alpha must be a finite number, got ", config.alpha);
    // Collect first, then replace: replacing while walking would visit the new wrappers.
    struct Target {
        std::string path;
        std::shared_ptr<nn::Module> layer;
    };
    std::vector<Target> targets;
    std::set<const nn::Module*> seen;  // a layer shared by two paths gets one adapter (its hook serves both)
    walk(model, "", false, [&](const std::string& path, const std::shared_ptr<nn::Module>& m, bool inside) {
        if (inside || std::dynamic_pointer_cast<LoraLayer>(m) || !seen.insert(m.get()).second) return;
        const bool is_linear = std::dynamic_pointer_cast<nn::Linear>(m) != nullptr;
        const bool is_conv = std::dynamic_pointer_cast<nn::Conv2d>(m) != nullptr;
        if (!is_linear && !is_conv) return;
        const bool wanted = options.target_modules.empty() ? is_linear : any_glob(options.target_modules, path);
        if (wanted) targets.push_back({path, m});
    });
    if (targets.empty()) {
        std::string patterns;
        for (const auto& p : options.target_modules) patterns += (patterns.empty() ? "" : ", ") + ("'" + p + "'");
        throw Error(cat_str("apply_lora: no Linear or Conv2d module matches ",
                            patterns.empty() ? std::string("(every Linear)") : patterns,
                            " outside existing LoRA layers; module paths: ", some_module_paths(model)));
    }
    for (const Target& t : targets)
        if (auto conv = std::dynamic_pointer_cast<nn::Conv2d>(t.layer))
            check(conv->options.groups == 1, "apply_lora", "'", t.path, "' is a grouped Conv2d (",
                  conv->extra_repr(), "), which LoRA does not support; leave it out of target_modules");

    std::vector<std::string> wrapped;
    for (const Target& t : targets) {
        const size_t dot = t.path.rfind('.');
        const std::string parent_path = dot == std::string::npos ? "" : t.path.substr(0, dot);
        const std::string name = dot == std::string::npos ? t.path : t.path.substr(dot + 1);
        std::shared_ptr<nn::Module> parent =
            parent_path.empty() ? model.shared_from_this() : model.submodule(parent_path);
        std::shared_ptr<LoraLayer> layer;
        if (auto linear = std::dynamic_pointer_cast<nn::Linear>(t.layer))
            layer = make_lora_linear(linear, config, options.gen);
        else
            layer = make_lora_conv2d(std::dynamic_pointer_cast<nn::Conv2d>(t.layer), config, options.gen);
        parent->replace_module(name, layer);
        wrapped.push_back(t.path);
    }
    if (options.freeze_base_model) {
        std::set<const TensorImpl*> adapters;
        for (const Tensor& p : lora_parameters(model)) adapters.insert(p.impl());
        for (auto& [name, p] : model.named_parameters())
            if (!adapters.count(p.impl())) p.requires_grad_(false);
    }
    return wrapped;
}

std::vector<std::pair<std::string, std::shared_ptr<LoraLayer>>> lora_layers(const nn::Module& model) {
    std::vector<std::pair<std::string, std::shared_ptr<LoraLayer>>> out;
    walk(model, "", false, [&](const std::string& path, const std::shared_ptr<nn::Module>& m, bool) {
        if (auto layer = std::dynamic_pointer_cast<LoraLayer>(m)) out.emplace_back(path, layer);
    });
    return out;
}

void merge_lora(nn::Module& model) {
    const auto layers = lora_layers(model);
    check(!layers.empty(), "merge_lora", "the model has no LoRA layers (call apply_lora first)");
    for (const auto& [path, layer] : layers)
        check(!layer->merged(), "merge_lora", "'", path, "' is merged already");
    for (const auto& [path, layer] : layers) layer->merge();
}

void unmerge_lora(nn::Module& model) {
    const auto layers = lora_layers(model);
    check(!layers.empty(), "unmerge_lora", "the model has no LoRA layers (call apply_lora first)");
    for (const auto& [path, layer] : layers)
        check(layer->merged(), "unmerge_lora", "'", path, "' is not merged");
    for (const auto& [path, layer] : layers) layer->unmerge();
}

void unload_lora(nn::Module& model, bool merge) {
    const auto layers = lora_layers(model);
    check(!layers.empty(), "unload_lora", "the model has no LoRA layers");
    for (const auto& [path, layer] : layers) {
        if (merge && !layer->merged()) layer->merge();
        if (!merge && layer->merged()) layer->unmerge();
        layer->detach_hook();
        const size_t dot = path.rfind('.');
        std::shared_ptr<nn::Module> parent =
            dot == std::string::npos ? model.shared_from_this() : model.submodule(path.substr(0, dot));
        parent->replace_module(dot == std::string::npos ? path : path.substr(dot + 1), layer->base_layer);
    }
}

std::vector<Tensor> lora_parameters(const nn::Module& model) {
    std::vector<Tensor> out;
    for (const auto& [path, layer] : lora_layers(model)) {
        out.push_back(layer->weight_A());
        out.push_back(layer->weight_B());
    }
    return out;
}

NamedTensors base_state_dict(const nn::Module& model) {
    std::vector<std::string> paths;
    for (const auto& [path, layer] : lora_layers(model)) paths.push_back(path);
    const NamedTensors full = model.state_dict();
    NamedTensors out;
    out.metadata = full.metadata;
    for (const auto& [name, t] : full) {
        std::string renamed = name;
        bool adapter = false;
        for (const auto& p : paths) {
            const std::string base = p + ".base_layer.";
            if (name.rfind(base, 0) == 0) renamed = p + "." + name.substr(base.size());
            if (name.rfind(p + ".lora_A.", 0) == 0 || name.rfind(p + ".lora_B.", 0) == 0) adapter = true;
        }
        if (!adapter) out.set(renamed, t);
    }
    return out;
}

LoadOptions lora_base_load_options(const nn::Module& model, LoadOptions base) {
    for (const auto& [path, layer] : lora_layers(model)) {
        base.rename.push_back({"^" + regex_escape(path) + "\\.(weight|bias)$", path + ".base_layer.$1"});
        base.skip.push_back(path + ".lora_A.*");
        base.skip.push_back(path + ".lora_B.*");
    }
    return base;
}

}  // namespace graft::transfer
