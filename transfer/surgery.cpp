// replace_head, attach_head, head_info, cut_at (see surgery.h).
#include "transfer/surgery.h"

#include "core/error.h"
#include "nn/layers/container.h"
#include "nn/layers/linear.h"
#include "nn/models/stages.h"

namespace graft::transfer {

namespace {

// Every Linear under `path` (the path itself included), in module order.
std::vector<std::pair<std::string, std::shared_ptr<nn::Linear>>> linears(nn::Module& model, const std::string& path) {
    std::vector<std::pair<std::string, std::shared_ptr<nn::Linear>>> out;
    for (auto& [name, m] : model.submodule(path)->named_modules(path))
        if (auto linear = std::dynamic_pointer_cast<nn::Linear>(m)) out.emplace_back(name, linear);
    return out;
}

// Whether `parent` runs its children by looking them up by name, so a module
// swapped in under a child's name is the one that runs.
bool runs_children_by_name(nn::Module& parent) {
    return dynamic_cast<nn::IndexedModules*>(&parent) != nullptr || dynamic_cast<nn::ModuleDict*>(&parent) != nullptr ||
           dynamic_cast<nn::models::Staged*>(&parent) != nullptr;
}

}  // namespace

HeadInfo head_info(nn::Module& model) {
    const std::vector<nn::models::Stage> stages = nn::models::stages_of(model);
    check(!stages.empty(), "head_info", "a ", model.type_name(), " has no stages");
    const nn::models::Stage& last = stages.back();
    HeadInfo info;
    info.stage = last.name;
    for (const std::string& path : last.modules)
        for (auto& [name, linear] : linears(model, path)) {
            if (info.linear.empty()) info.in_features = linear->in_features;  // the first one reads the features
            info.linear = name;  // the last one makes the logits
        }
    check(!info.linear.empty(), "head_info", "the last stage '", last.name, "' of a ", model.type_name(),
          " holds no Linear");
    info.path = last.modules.size() == 1 ? last.modules[0] : info.linear;
    return info;
}

std::string replace_head(nn::Module& model, int64_t num_classes, Generator* gen) {
    check(num_classes > 0, "replace_head", "num_classes must be positive, got ", num_classes);
    const HeadInfo info = head_info(model);
    auto old = std::dynamic_pointer_cast<nn::Linear>(model.submodule(info.linear));
    auto head = std::make_shared<nn::Linear>(old->in_features, num_classes, old->bias.defined());
    head->reset_parameters(gen);  // Linear's constructor drew from the default generator; redraw from gen
    head->to(old->weight.dtype());
    head->to(old->weight.device());
    attach_head(model, info.linear, head);
    return info.linear;
}

void attach_head(nn::Module& model, const std::string& path, std::shared_ptr<nn::Module> head) {
    check(head != nullptr, "attach_head", "the module to put at '", path, "' is null");
    check(!path.empty(), "attach_head", "empty path (the model itself cannot be replaced)");
    const size_t dot = path.rfind('.');
    const std::string child = dot == std::string::npos ? path : path.substr(dot + 1);
    std::shared_ptr<nn::Module> owner = dot == std::string::npos ? nullptr : model.submodule(path.substr(0, dot));
    nn::Module& parent = owner ? *owner : model;
    model.submodule(path);  // throws naming the path and what exists
    check(runs_children_by_name(parent), "attach_head", "'", path, "' is inside a ", parent.type_name(),
          ", whose forward runs its children through typed members, so a module put there would never run; "
          "replace '", dot == std::string::npos ? path : path.substr(0, dot), "' as a whole instead");
    head->train(parent.is_training());
    parent.replace_module(child, head);
    if (auto* staged = dynamic_cast<nn::models::Staged*>(&parent)) staged->children_replaced();
}

Cut cut_at(nn::Module& model, const std::string& stage_name) {
    auto stages = std::make_shared<const std::vector<nn::models::Stage>>(nn::models::stages_of(model));
    const size_t split = nn::models::stage_index(*stages, stage_name) + 1;
    // Holding the model (when a shared_ptr owns it) keeps the stages' model alive.
    std::shared_ptr<nn::Module> keep = model.weak_from_this().lock();
    Cut cut;
    cut.split = split;
    cut.trunk = [stages, split, keep](const Tensor& x) { return nn::models::run_stages(*stages, 0, split, x); };
    cut.top = [stages, split, keep](const Tensor& x) {
        return nn::models::run_stages(*stages, split, stages->size(), x);
    };
    for (size_t i = 0; i < stages->size(); ++i)
        for (const std::string& m : (*stages)[i].modules) (i < split ? cut.trunk_modules : cut.top_modules).push_back(m);
    return cut;
}

}  // namespace graft::transfer
