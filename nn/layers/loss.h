// Loss modules as torch.nn's: small classes holding the options, called as
// loss(input, target). They hold no parameters; class weights and pos_weight
// are constants (as torch registers them: buffers, not parameters).
//
//   nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});
//   Tensor loss = criterion(logits, labels);   // logits [N, C], labels int64 [N]
//   loss.backward();
#pragma once

#include "core/ops/loss.h"
#include "core/tensor.h"

namespace graft::nn {

// logits [N, C] or [N, C, d...], target int64 class indices [N] or [N, d...].
class CrossEntropyLoss {
public:
    explicit CrossEntropyLoss(CrossEntropyOptions options = {}) : options(std::move(options)) {}
    Tensor operator()(const Tensor& input, const Tensor& target) const;
    CrossEntropyOptions options;
};

// log-probabilities [N, C] or [N, C, d...], target as for CrossEntropyLoss
// (label_smoothing must stay 0).
class NLLLoss {
public:
    explicit NLLLoss(CrossEntropyOptions options = {}) : options(std::move(options)) {}
    Tensor operator()(const Tensor& input, const Tensor& target) const;
    CrossEntropyOptions options;
};

class MSELoss {
public:
    explicit MSELoss(Reduction reduction = Reduction::Mean) : reduction(reduction) {}
    Tensor operator()(const Tensor& input, const Tensor& target) const;
    Reduction reduction;
};

class L1Loss {
public:
    explicit L1Loss(Reduction reduction = Reduction::Mean) : reduction(reduction) {}
    Tensor operator()(const Tensor& input, const Tensor& target) const;
    Reduction reduction;
};

// Quadratic below beta, linear above (Huber loss divided by beta).
class SmoothL1Loss {
public:
    explicit SmoothL1Loss(Reduction reduction = Reduction::Mean, double beta = 1.0)
        : reduction(reduction), beta(beta) {}
    Tensor operator()(const Tensor& input, const Tensor& target) const;
    Reduction reduction;
    double beta;
};

// Sigmoid and binary cross-entropy in one stable op. weight broadcasts to the
// input; pos_weight [C] weighs the positive term of each class (last dim).
class BCEWithLogitsLoss {
public:
    explicit BCEWithLogitsLoss(Tensor weight = {}, Reduction reduction = Reduction::Mean, Tensor pos_weight = {})
        : weight(std::move(weight)), reduction(reduction), pos_weight(std::move(pos_weight)) {}
    Tensor operator()(const Tensor& input, const Tensor& target) const;
    Tensor weight;
    Reduction reduction;
    Tensor pos_weight;
};

}  // namespace graft::nn
