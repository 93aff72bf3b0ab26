// The backward engine: walks the graph from the roots in reverse topological
// order (dependency counts, later nodes first), sums gradients arriving at the
// same node output, runs hooks, and accumulates into leaf .grad.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace graft::autograd {

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph);

}  // namespace graft::autograd
