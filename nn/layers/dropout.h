// Dropout as torch.nn.Dropout: in training, zeroes each element with
// probability p and scales the rest by 1/(1-p); in eval, the identity.
//
//   auto drop = std::make_shared<nn::Dropout>(0.1);
//   Tensor y = (*drop)(x);
#pragma once

#include <string>

#include "core/ops/random.h"
#include "nn/module.h"

namespace graft::nn {

class Dropout : public Module {
public:
    explicit Dropout(double p = 0.5);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;  // "p=0.5, inplace=False"

    const double p;
    // Where masks are drawn from; null means graft::default_generator(). Give a
    // layer its own Generator for reproducible masks independent of other draws.
    Generator* generator = nullptr;
};

}  // namespace graft::nn
