// Loss functions with PyTorch's semantics and reductions. cross_entropy is fused
// (log-softmax and NLL in one pass forward, softmax - onehot backward).
#pragma once

#include "core/tensor.h"

namespace graft {

enum class Reduction { None, Mean, Sum };

struct CrossEntropyOptions {
    Tensor weight;                // [C] class weights, optional
    int64_t ignore_index = -100;  // targets equal to this contribute nothing
    double label_smoothing = 0.0;
    Reduction reduction = Reduction::Mean;
};

// logits [N, C] (or [N, C, d1, ...]), target int64 [N] (or [N, d1, ...]) of class
// indices. Mean reduction divides by the summed weights of non-ignored targets.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {});
// log_probs [N, C], target int64 [N].
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& options = {});
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta = 1.0,
                      Reduction reduction = Reduction::Mean);
// pos_weight [C] optional, broadcast over the last dim as torch.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight = {},
                                        const Tensor& pos_weight = {}, Reduction reduction = Reduction::Mean);

}  // namespace graft
