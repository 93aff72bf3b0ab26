// AdamW: Adam's update (adam.cpp) with decoupled weight decay and torch's
// default weight_decay of 1e-2.
#include "nn/optim/adamw.h"

namespace graft::optim {

namespace {
constexpr double kAdamWWeightDecay = 1e-2;  // torch.optim.AdamW's default
}

AdamW::AdamW(std::vector<Tensor> params, const Options& options)
    : Adam("AdamW", kAdamWWeightDecay, true, {ParamGroup{std::move(params), {}, ""}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const Options& options)
    : Adam("AdamW", kAdamWWeightDecay, true, std::move(groups), options) {}

}  // namespace graft::optim
