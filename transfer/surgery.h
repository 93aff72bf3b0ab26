// Head surgery for the zoo models: a new classifier for N classes, any module
// swapped for another by its dotted path, and a model cut at a named stage
// into a trunk (a feature extractor that shares the model's parameters) and the
// rest. Works on every nn::models::Staged model (ResNet, MobileNetV2,
// EfficientNet-Lite, small_cnn) through its stages (nn/models/stages.h):
//
//   auto model = nn::models::resnet18();
//   transfer::load_pretrained(*model, "resnet18.pth", ...);
//   transfer::replace_head(*model, 10, &gen);           // "fc": Linear(512, 10), torch's default init
//   transfer::HeadInfo h = transfer::head_info(*model); // {"fc", 512, "fc", "fc"}
//   transfer::attach_head(*model, h.path, nn::sequential({std::make_shared<nn::Linear>(h.in_features, 256),
//                                                         std::make_shared<nn::ReLU>(),
//                                                         std::make_shared<nn::Linear>(256, 10)}));
//   transfer::Cut cut = transfer::cut_at(*model, "layer3");
//   Tensor f = cut.trunk(x);                           // what layer3 outputs inside model(x)
//   Tensor logits = cut.top(f);                        // == model(x)
//
// Names stay the published ones: the new head sits under the old name, so a
// ResNet's state_dict still says "fc.weight" and "fc.bias" (with new shapes).
//
// Leaves out: surgery inside a block whose forward reaches its children
// through typed members (a BasicBlock's conv1): attach_head refuses such a
// path rather than swapping a module that would never run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/random.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace graft::transfer {

// Replaces the classifier of a zoo model (ResNet fc, MobileNetV2 classifier.1,
// Lite _fc, SmallCnn's last Linear) by a fresh Linear(in_features, num_classes)
// with torch's default init, drawn from `gen` (or the default generator), on the
// old head's dtype and device, with a bias when the old one had one, trainable.
// Returns its dotted name. Throws Error naming the model type when the model is
// not Staged, and when num_classes is not positive.
std::string replace_head(nn::Module& model, int64_t num_classes, Generator* gen = nullptr);

// Replaces the module at a dotted path by `head` (Module::replace_module on its
// parent); the new module takes the parent's train/eval mode. The parent must
// run its children by name: a container (Sequential, ModuleList, ModuleDict)
// or a Staged model, whose typed handles are then refreshed
// (Staged::children_replaced). Throws Error naming the path otherwise, when the
// path does not exist, or when head is null.
void attach_head(nn::Module& model, const std::string& path, std::shared_ptr<nn::Module> head);

// The classifier: the last stage of the model.
struct HeadInfo {
    // What attach_head replaces to swap the whole classifier: the module the
    // last stage owns ("fc", "classifier", "_fc", "12" for small_cnn).
    std::string path;
    int64_t in_features = 0;  // the width of the features the classifier reads
    std::string stage;        // the last stage's name ("fc", "classifier", "_fc", "fc2")
    std::string linear;       // the Linear inside it that replace_head swaps ("classifier.1")
};
// Throws Error naming the model type when it is not Staged or its last stage
// holds no Linear.
HeadInfo head_info(nn::Module& model);

// A model split after a stage: trunk runs stages [0, stage_index(name)]
// (inclusive), top the rest, so top(trunk(x)) == model(x) bitwise. Both share
// the model's parameters (training through them trains the model) and keep the
// model alive when it is owned by a shared_ptr (else it must outlive them).
struct Cut {
    std::function<Tensor(const Tensor&)> trunk, top;
    size_t split = 0;  // the number of stages in the trunk: top starts at stage `split`
    std::vector<std::string> trunk_modules, top_modules;  // dotted module paths each part owns
};
// Throws Error listing the stage names when there is no stage `stage_name`.
Cut cut_at(nn::Module& model, const std::string& stage_name);

}  // namespace graft::transfer
