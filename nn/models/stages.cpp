// stages_of, run_stages, stage_index, stage_parameters (see stages.h).
#include "nn/models/stages.h"

#include "core/error.h"

namespace graft::nn::models {

std::vector<Stage> stages_of(Module& model) {
    auto* staged = dynamic_cast<Staged*>(&model);
    check(staged != nullptr, "stages_of", "a ", model.type_name(),
          " is not a staged model (the staged ones: ResNet, MobileNetV2, EfficientNet-Lite, small_cnn)");
    return staged->stages();
}

Tensor run_stages(const std::vector<Stage>& stages, size_t begin, size_t end, const Tensor& x) {
    check(begin <= end && end <= stages.size(), "run_stages", "range [", begin, ", ", end, ") is outside the ",
          stages.size(), " stages");
    Tensor h = x;
    for (size_t i = begin; i < end; ++i) h = stages[i].forward(h);
    return h;
}

size_t stage_index(const std::vector<Stage>& stages, const std::string& name) {
    std::string names;
    for (size_t i = 0; i < stages.size(); ++i) {
        if (stages[i].name == name) return i;
        names += (i ? ", " : "") + stages[i].name;
    }
    throw Error(cat_str("stage_index: no stage named '", name, "' (stages: ", names.empty() ? "none" : names, ")"));
}

std::vector<std::pair<std::string, Tensor>> stage_parameters(Module& model, const Stage& stage) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const std::string& path : stage.modules)
        for (auto& [name, t] : model.submodule(path)->named_parameters()) out.emplace_back(path + "." + name, t);
    return out;
}

Tensor run_child(Module& parent, const std::string& name, const Tensor& x) {
    for (auto& [n, child] : parent.named_children())
        if (n == name) return (*child)(x);
    throw Error(cat_str(parent.type_name(), ": no child module named '", name, "'"));
}

}  // namespace graft::nn::models
