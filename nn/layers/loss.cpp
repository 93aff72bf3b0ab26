// The loss modules: each forwards to its op in core/ops/loss.h.
#include "nn/layers/loss.h"

namespace graft::nn {

Tensor CrossEntropyLoss::operator()(const Tensor& input, const Tensor& target) const {
    return cross_entropy(input, target, options);
}

Tensor NLLLoss::operator()(const Tensor& input, const Tensor& target) const {
    return nll_loss(input, target, options);
}

Tensor MSELoss::operator()(const Tensor& input, const Tensor& target) const {
    return mse_loss(input, target, reduction);
}

Tensor L1Loss::operator()(const Tensor& input, const Tensor& target) const {
    return l1_loss(input, target, reduction);
}

Tensor SmoothL1Loss::operator()(const Tensor& input, const Tensor& target) const {
    return smooth_l1_loss(input, target, beta, reduction);
}

Tensor BCEWithLogitsLoss::operator()(const Tensor& input, const Tensor& target) const {
    return binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction);
}

}  // namespace graft::nn
