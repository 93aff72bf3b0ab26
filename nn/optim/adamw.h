// AdamW: Adam with decoupled weight decay (p *= 1 - lr * weight_decay before the
// Adam step, instead of adding weight_decay * p to the gradient), exactly as
// torch.optim.AdamW (1.13). The update itself is Adam's (adam.cpp).
//
//   optim::AdamW adamw(model->parameters(), {.lr = 3e-4, .weight_decay = 0.05});
//
// Options read (torch defaults): lr 1e-3, betas {0.9, 0.999}, eps 1e-8,
// weight_decay 1e-2, amsgrad false, maximize false. State as Adam's.
#pragma once

#include "nn/optim/adam.h"

namespace graft::optim {

class AdamW : public Adam {
public:
    AdamW(std::vector<Tensor> params, const Options& options = {});
    AdamW(std::vector<ParamGroup> groups, const Options& options = {});
};

}  // namespace graft::optim
