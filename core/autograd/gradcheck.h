// Gradient checking by central differences, as torch.autograd.gradcheck does:
// for each input that requires grad, every element is nudged by ±eps and the
// numerical Jacobian-vector product is compared with the analytical one from
// backward(). Run it in float64 (eps 1e-6, atol 1e-5, rtol 1e-3).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace graft::autograd {

struct GradcheckOptions {
    double eps = 1e-6;
    double atol = 1e-5;
    double rtol = 1e-3;
};

struct GradcheckResult {
    bool ok = true;
    std::string message;  // the first mismatch: input, element, numerical vs analytical
};

// `fn` maps the inputs to one output tensor. The check uses a fixed random
// projection of the output (so every output element matters) and compares
// d<proj, fn(x)>/dx numerically and analytically for every input that
// requires grad.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace graft::autograd
