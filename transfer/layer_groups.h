// Layer groups: a model's stages merged into a few groups of consecutive
// layers, so that each group can have its own learning rate (discriminative
// fine-tuning: small steps for the general early layers, large ones for the
// new head) and be unfrozen one after another from the head down (gradual
// unfreezing). These are fastai's slice(lo, hi) + freeze_to and timm's
// layer-wise decay, on Graft's optimizers:
//
//   auto groups = transfer::layer_groups(*model, 3);  // ResNet: stem..layer2, layer3..pool, fc
//   auto lrs = transfer::lr_range(groups.size(), 1e-5, 1e-3);  // 1e-5, 1e-4, 1e-3
//   transfer::freeze_to(*model, groups, -1);           // train the head only
//   optim::AdamW adamw(transfer::param_groups(groups, lrs), {.lr = 1e-3});
//   // ... a few epochs, then everything with its own lr:
//   transfer::freeze_to(*model, groups, -3);
//
// or, as a schedule that grows the optimizer as it unfreezes:
//
//   transfer::GradualUnfreezing unfreeze(*model, groups, lrs);  // freezes all but the head
//   optim::AdamW adamw(transfer::param_groups(groups, lrs), {.lr = 1e-3});
//   for (int64_t epoch = 1; epoch <= 5; ++epoch) {
//       for (const std::string& line : unfreeze.on_epoch_begin(epoch, adamw)) std::cout << line << "\n";
//       ...train one epoch...
//   }
//
// Freezing and unfreezing go through transfer::freeze/unfreeze (freeze.h), so a
// frozen group means what a frozen pattern means there: requires_grad off, old
// gradients dropped, modules whose parameters are all frozen (BatchNorm) pinned
// to eval through model.train(); unfreezing undoes it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace graft::transfer {

struct LayerGroup {
    std::string name;                                  // "layer3..pool", or one stage's name
    std::vector<std::pair<std::string, Tensor>> params;  // full dotted names, model order
};

// The model's stages (nn/models/stages.h) merged into n groups of consecutive
// stages, fastai's split: the last stage with parameters (the classifier) is a
// group of its own, the stages before it are split into n - 1 runs of about
// equal numbers of stages with parameters (earlier runs take the extra), and a
// stage without parameters (pooling, dropout) goes with the group before it.
// ResNet, n = 3: [stem..layer2], [layer3..pool], [fc]. n = 1: one group of
// everything. n == 0: one group per stage that has parameters, named after it.
// Throws Error when the model is not Staged or n exceeds the number of stages
// with parameters.
std::vector<LayerGroup> layer_groups(nn::Module& model, size_t n = 0);

// lo..hi geometrically across groups (first group lo, last hi), fastai's
// slice(lo, hi): lo * (hi / lo)^(i / (n - 1)); one group gets hi. lo, hi > 0.
std::vector<double> lr_range(size_t num_groups, double lo, double hi);
// timm layer-wise decay: group i of n gets base_lr * decay^(n-1-i) (the head
// base_lr, each group before it `decay` times its successor's). decay in (0, 1].
std::vector<double> layer_decay(size_t num_groups, double base_lr, double decay);

// One optimizer ParamGroup per layer group with its lr, only trainable params
// (requires_grad); groups left empty are dropped; group names = layer group
// names. Throws Error when lrs and groups differ in number.
std::vector<optim::ParamGroup> param_groups(const std::vector<LayerGroup>& groups, const std::vector<double>& lrs);

// freeze_to(model, groups, -n): freeze every group except the last n (n >= 1),
// unfreezing those n; fastai's freeze_to(-n). Also accepts n itself (2 == -2).
// Throws Error when n is 0 or larger than the group count, or when a group's
// parameter is not the model's parameter of that name (groups of another model).
void freeze_to(nn::Module& model, const std::vector<LayerGroup>& groups, int n_from_end);

// Gradual unfreezing as a schedule. The constructor freezes all groups but the
// last (the head). At each on_epoch_begin(epoch) (1-based), once epoch exceeds
// `warm_epochs`, one more group from the end is unfrozen every `every` epochs
// (epoch warm_epochs + 1 unfreezes the second-to-last group, warm_epochs + 1 +
// every the next, ...), and its newly trainable parameters go into the
// optimizer as a new param group named after the layer group with its lr from
// `lrs` (parameters already in the optimizer are not added twice), so frozen
// parameters are never in the optimizer. Returns one line per change ("epoch 2:
// unfroze 'layer3..pool' (30 tensors, 10,493,440 parameters) at lr 0.0001 as
// optimizer group 1"); empty when nothing changed. Epochs may jump (a resumed
// run catches up in one call); going back unfreezes nothing and refreezes
// nothing. Resuming: build the GradualUnfreezing and the optimizer as at the
// start, call on_epoch_begin(resume_epoch) (it adds the groups in the order the
// first run did), then load the optimizer's state_dict. An LR schedule built on
// the optimizer earlier does not know groups added later (as in torch): build
// schedules after the last group is in, or rebuild them when one is added.
class GradualUnfreezing {
public:
    GradualUnfreezing(nn::Module& model, std::vector<LayerGroup> groups, std::vector<double> lrs,
                      int64_t warm_epochs = 1, int64_t every = 1);
    std::vector<std::string> on_epoch_begin(int64_t epoch, optim::Optimizer& optimizer);
    // Trainable groups counted from the end (1 after construction).
    int unfrozen_groups() const { return unfrozen_; }

private:
    nn::Module& model_;
    std::vector<LayerGroup> groups_;
    std::vector<double> lrs_;
    int64_t warm_epochs_, every_;
    int unfrozen_ = 1;
};

}  // namespace graft::transfer
