// How a reduction walks its input: the kept dimensions (one output element each)
// and the reduced dimensions (summed, maxed, ... into it), with their strides.
// Shared by every reduction op so that dims, keepdim and empty-dims rules are in
// one place.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace graft {

struct ReducePlan {
    Shape out_shape;        // with or without the reduced dims, per keepdim
    Shape keepdim_shape;    // reduced dims set to 1 (for broadcasting in backward)
    Shape kept_sizes;       // the kept dims, in order
    Strides kept_strides;   // input strides of the kept dims
    Shape reduced_sizes;    // the reduced dims, in order
    Strides reduced_strides;
    int64_t reduced_numel = 1;
    int64_t out_numel = 1;
};

// `dims` empty means all dims. Repeated dims throw; names `op` in errors.
ReducePlan plan_reduction(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim, const char* op);

}  // namespace graft
