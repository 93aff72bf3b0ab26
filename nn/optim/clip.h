// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (1.13).
//
//   double norm = optim::clip_grad_norm_(model->parameters(), 1.0);
//   optim::clip_grad_value_(model->parameters(), 0.5);
//
// Both act on the gradients of the given tensors in place (parameters without a
// gradient are skipped) and record nothing for autograd. Gradients must be
// float32 or float64 CPU tensors.
#pragma once

#include <limits>
#include <vector>

#include "core/tensor.h"

namespace graft::optim {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// The norm of all gradients together, as if concatenated into one vector:
// (sum |g|^norm_type)^(1/norm_type), or max |g| for kInfNorm. When it exceeds
// max_norm every gradient is scaled by max_norm / (norm + 1e-6). Returns the
// norm before clipping (0 when no tensor has a gradient). With
// error_if_nonfinite a NaN or infinite norm throws Error instead of scaling.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace graft::optim
