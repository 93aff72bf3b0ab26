// Stages: a zoo model seen as a chain of named pieces, so transfer code can cut
// it, cache a trunk's output, group its layers for discriminative learning
// rates and unfreeze it piece by piece, without knowing its architecture:
//
//   std::vector<Stage> st = nn::models::stages_of(*model);       // ResNet: stem, layer1..layer4, pool, fc
//   size_t k = nn::models::stage_index(st, "layer3");
//   Tensor f = nn::models::run_stages(st, 0, k + 1, x);          // features after layer3
//   Tensor logits = nn::models::run_stages(st, k + 1, st.size(), f);
//
// The contract every Staged model keeps: forward(x) == run_stages(stages(), 0,
// n, x), bitwise, in eval and in train mode (the same ops in the same order, the
// same random draws). Each stage lists the dotted module paths it owns, so
// "the parameters of stage s" are those under its paths; stages without
// parameters (pooling, dropout) list what they own too, possibly nothing.
//
// A stage's forward refers to the model it came from (not a copy): the model
// must outlive its stages, and a stage sees modules swapped in afterwards
// (the zoo models look their children up by name when they run).
//
// Granularity (see each model's header): ResNet stem, layer1..layer4, pool, fc;
// MobileNetV2 features.0..features.18, pool, classifier; EfficientNet-Lite stem,
// _blocks.0.._blocks.15, head, _dropout, _fc; SmallCnn conv1, conv2, fc1, fc2.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace graft::nn::models {

struct Stage {
    std::string name;                  // "layer3", "_blocks.4", "classifier"
    std::vector<std::string> modules;  // dotted paths this stage owns ("conv1", "bn1", ...)
    std::function<Tensor(const Tensor&)> forward;
};

// Implemented by the zoo models beside nn::Module (multiple inheritance).
class Staged {
public:
    virtual ~Staged() = default;
    virtual std::vector<Stage> stages() = 0;
    // Called by transfer::attach_head after a direct child of the model was
    // swapped by name, so the model's typed member handles (ResNet::fc, ...)
    // follow the registry. A handle whose new module has another type becomes
    // null; the model itself keeps running, as it runs children by name.
    virtual void children_replaced() {}
};

// The stages of `model`; throws Error naming its type when it is not Staged.
std::vector<Stage> stages_of(Module& model);
// Runs stages [begin, end) one after another on x (x itself when begin == end);
// throws Error when the range is out of bounds.
Tensor run_stages(const std::vector<Stage>& stages, size_t begin, size_t end, const Tensor& x);
// The position of the stage `name`; throws Error listing the stage names.
size_t stage_index(const std::vector<Stage>& stages, const std::string& name);
// The parameters a stage owns, with their full dotted names, in model order.
std::vector<std::pair<std::string, Tensor>> stage_parameters(Module& model, const Stage& stage);

// Runs the direct child `name` of `parent` through Module::operator() (hooks
// included), looked up by name so a swapped child is the one that runs.
Tensor run_child(Module& parent, const std::string& name, const Tensor& x);

}  // namespace graft::nn::models
