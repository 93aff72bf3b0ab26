// Freezing: choosing which parameters of a pretrained model learn, and making
// the rest behave as fixed -- in autograd, in the optimizer and in their
// train/eval mode -- for as long as they stay frozen.
//
//   auto model = nn::models::resnet18({.num_classes = 10});
//   transfer::freeze(*model, "*");              // everything ...
//   transfer::unfreeze(*model, "layer4");       // ... but the last stage
//   transfer::unfreeze(*model, "fc");           // and the head
//   optim::SGD sgd(transfer::trainable_parameters(*model), {.lr = 0.01});
//   std::cout << transfer::trainable_summary(*model);
//   model->train();                             // frozen BatchNorms stay in eval
//
// What a frozen parameter means here:
//   - requires_grad is off (and any old .grad is dropped), so autograd records
//     nothing for it. Ops whose inputs all need no gradient record no node and
//     save no tensor, so a frozen prefix of the network (conv1 .. layer3 above)
//     costs a plain inference forward: no graph, no saved activations, no
//     backward kernels; the first trainable layer computes only its weight
//     gradient, not the gradient of its (frozen) input.
//   - trainable_parameters() leaves it out: give optimizers that list, so
//     frozen parameters are in no group and carry no optimizer state.
//   - Its part of the model runs in eval mode, also inside model.train():
//     BatchNorm normalises with its running statistics and leaves them alone,
//     Dropout is off. This is done with Module::pin_mode; PyTorch leaves it to
//     user code that re-applies eval() after every train() (pytorch/pytorch#66073,
//     #9046).
//
// Which modules are pinned ("frozen parts"): a module that has parameters, all
// of them frozen, is frozen, and so is everything under it. After every
// freeze/unfreeze/set_batchnorm_policy call the pins of the whole tree passed
// are recomputed: every module in a frozen part is pinned to eval, every other
// module is unpinned (so pins set by hand with pin_mode inside that tree are
// replaced). Freezing a whole model thus pins the model itself: a frozen model
// is a feature extractor and runs in eval. A BatchNorm's own rule can be
// changed with set_batchnorm_policy.
//
// Patterns are NamePattern's (transfer/name_pattern.h): globs such as "layer[1-3]*"
// or "*.bias", or "re:<regex>", matched against named_parameters() names; a pattern
// that names a module ("layer1", "layer4.1.bn2") stands for everything under it.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace graft::transfer {

// Freezes the parameters whose names match `pattern` ("*" for all); returns how
// many parameter tensors changed state (0 when all were frozen already). Throws
// graft::Error, listing some existing names, when the pattern matches no
// parameter at all (a typo must not silently train everything).
size_t freeze(nn::Module& model, const std::string& pattern);
// The same, turning requires_grad back on.
size_t unfreeze(nn::Module& model, const std::string& pattern);
// Every parameter of `module` (and below), then its pins recomputed. A module
// without parameters is fine (nothing changes). Pins are recomputed inside
// `module` only: when the change can make an enclosing module frozen or
// unfrozen (unfreezing layer4 of a wholly frozen model), use the pattern form on
// the model (unfreeze(model, "layer4")) so the enclosing pins follow. (The
// pattern overloads have no default pattern: freeze(model) would then be
// ambiguous; it means this one.)
void freeze(nn::Module& module);
void unfreeze(nn::Module& module);

// Parameters with requires_grad on, in registration order, each tensor once
// (tied weights appear under their first name): what optimizers should get.
std::vector<Tensor> trainable_parameters(const nn::Module& model);
std::vector<std::pair<std::string, Tensor>> named_trainable_parameters(const nn::Module& model);

// How BatchNorm layers choose their mode:
//   FollowFreeze  (default) a BatchNorm in a frozen part is pinned to eval
//                 (running statistics, no updates); unfreezing unpins it.
//   AlwaysEval    every BatchNorm is pinned to eval, trainable or not (the
//                 "frozen BatchNorm" recipe for small batches); its weight
//                 and bias still learn if they are trainable.
//   AlwaysTrain   no BatchNorm is pinned: each follows model.train()/eval(),
//                 frozen or not, updating its running statistics while the model
//                 trains (PyTorch's behaviour). eval() still puts it in eval.
// Applies to the BatchNorms under `model` and is remembered per BatchNorm module,
// so later freeze/unfreeze calls keep it. Dropout and other modules always
// follow the freeze rule.
enum class BatchNormPolicy { FollowFreeze, AlwaysEval, AlwaysTrain };
void set_batchnorm_policy(nn::Module& model, BatchNormPolicy policy);

// A table of what will learn: one row per module at `depth` (1: the top-level
// children; modules with no children stop the descent earlier), with its type,
// trainable and frozen parameter counts (elements), and the mode its
// BatchNorms are in now; then the totals. depth >= 1.
std::string trainable_summary(nn::Module& model, int depth = 1);

}  // namespace graft::transfer
