// Ops that layers are built on and that fit no other family: dropout and
// embedding lookup, with PyTorch's semantics.
#pragma once

#include <optional>

#include "core/ops/random.h"
#include "core/tensor.h"

namespace graft {

// Inverted dropout: in training each element is zeroed with probability p and
// the rest scaled by 1/(1-p), so the expectation is unchanged; p == 1 gives
// zeros. Outside training (or p == 0) the input is returned as is. The mask is
// a bernoulli draw from `gen` (default_generator() when null): counter-based,
// so it does not depend on the thread count. Backward: g * mask / (1-p).
Tensor dropout(const Tensor& input, double p, bool training, Generator* gen = nullptr);

// weight [V, H], indices int64 (or int32) of any shape [...] -> [..., H]: row
// indices[i] of weight for each i. Every index must lie in [0, V). Backward adds
// each gradient row into row indices[i] of a zero [V, H] (index_add, in index
// order whatever the thread count); rows at padding_idx get no gradient.
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace graft
