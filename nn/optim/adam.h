// Adam: adaptive moment estimation with bias correction, L2 weight decay added
// to the gradient, AMSGrad and maximize, exactly as torch.optim.Adam (1.13).
// AdamW (adamw.h) shares this update with decoupled weight decay.
//
//   optim::Adam adam(model->parameters(), {.lr = 1e-3, .betas = {{0.9, 0.98}}});
//
// Options read (torch defaults): lr 1e-3, betas {0.9, 0.999}, eps 1e-8,
// weight_decay 0, amsgrad false, maximize false. State per parameter: step,
// "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" with amsgrad.
#pragma once

#include "nn/optim/optimizer.h"

namespace graft::optim {

class Adam : public Optimizer {
public:
    Adam(std::vector<Tensor> params, const Options& options = {});
    Adam(std::vector<ParamGroup> groups, const Options& options = {});

protected:
    // For AdamW: a different name and default weight decay, decoupled decay.
    Adam(std::string type_name, double default_weight_decay, bool decoupled, std::vector<ParamGroup> groups,
         const Options& options);
    void update(const Options& options, const Tensor& param, const Tensor& grad, ParamState& state) override;
    std::vector<std::string> state_names() const override { return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}; }

private:
    bool decoupled_ = false;
};

}  // namespace graft::optim
