// RMSprop: gradients scaled by a running root-mean-square, optionally centered
// (divided by the running standard deviation instead) and with momentum, L2
// weight decay and maximize, exactly as torch.optim.RMSprop (1.13).
//
//   optim::RMSprop rms(model->parameters(), {.lr = 1e-3, .momentum = 0.9, .centered = true});
//
// Options read (torch defaults): lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0,
// momentum 0, centered false, maximize false. State per parameter: step,
// "square_avg", "momentum_buffer" (momentum > 0), "grad_avg" (centered).
#pragma once

#include "nn/optim/optimizer.h"

namespace graft::optim {

class RMSprop : public Optimizer {
public:
    RMSprop(std::vector<Tensor> params, const Options& options = {});
    RMSprop(std::vector<ParamGroup> groups, const Options& options = {});

protected:
    void update(const Options& options, const Tensor& param, const Tensor& grad, ParamState& state) override;
    std::vector<std::string> state_names() const override { return {"square_avg", "momentum_buffer", "grad_avg"}; }
};

}  // namespace graft::optim
