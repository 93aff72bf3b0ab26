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

// Offset (in elements) of multi-index number `linear` (row-major) of (sizes, strides).
inline int64_t offset_of(int64_t linear, const Shape& sizes, const Strides& strides) {
    int64_t off = 0;
    for (size_t d = sizes.size(); d-- > 0;) {
        off += (linear % sizes[d]) * strides[d];
        linear /= sizes[d];
    }
    return off;
}

// Visits the reduced elements of one output element in row-major order,
// passing each value to `acc`. `base` points at the output element's first one.
template <typename T, typename Acc>
void walk_reduced(const T* base, const ReducePlan& plan, Acc&& acc) {
    const size_t nr = plan.reduced_sizes.size();
    if (nr == 0) {
        acc(base[0]);
        return;
    }
    const int64_t inner = plan.reduced_sizes[nr - 1], inner_stride = plan.reduced_strides[nr - 1];
    if (inner == 0) return;
    const int64_t outer = plan.reduced_numel / inner;
    for (int64_t o = 0; o < outer; ++o) {
        int64_t off = 0, rem = o;
        for (size_t d = nr - 1; d-- > 0;) {
            off += (rem % plan.reduced_sizes[d]) * plan.reduced_strides[d];
            rem /= plan.reduced_sizes[d];
        }
        const T* p = base + off;
        for (int64_t i = 0; i < inner; ++i) acc(p[i * inner_stride]);
    }
}

// A single-dim reduction of a contiguous tensor, seen as [outer, n, inner]:
// element (o, j, i) at (o*n + j)*inner + i; the output is [outer, inner].
struct AxisShape {
    int64_t outer = 1, n = 1, inner = 1;
};
AxisShape axis_shape(const Shape& shape, int64_t dim);

}  // namespace graft
