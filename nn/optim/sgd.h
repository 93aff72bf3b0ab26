// SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum,
// L2 weight decay and maximize, exactly as torch.optim.SGD (1.13).
//
//   optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//
// Options read (torch defaults): lr (required), momentum 0, dampening 0,
// weight_decay 0, nesterov false, maximize false. Nesterov needs momentum > 0
// and dampening 0. State per parameter: "momentum_buffer" (when momentum > 0).
#pragma once

#include "nn/optim/optimizer.h"

namespace graft::optim {

class SGD : public Optimizer {
public:
    SGD(std::vector<Tensor> params, const Options& options);
    SGD(std::vector<ParamGroup> groups, const Options& options);

protected:
    void update(const Options& options, const Tensor& param, const Tensor& grad, ParamState& state) override;
    std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
    void check_options(const Options& options, const std::string& where) const override;
};

}  // namespace graft::optim
