// Reduction planning: which dims are reduced and kept, with their strides.
#include "core/ops/reduce_plan.h"

namespace graft {

ReducePlan plan_reduction(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim, const char* op) {
    const int64_t nd = t.dim();
    std::vector<bool> reduced(size_t(nd), dims.empty());
    for (int64_t d : dims) {
        const int64_t w = wrap_dim(d, nd, op);
        check(!reduced[size_t(w)], op, "dimension ", w, " appears twice in the reduction dims ", shape_str(dims));
        reduced[size_t(w)] = true;
    }
    ReducePlan plan;
    for (int64_t d = 0; d < nd; ++d) {
        const int64_t size = t.shape()[size_t(d)], stride = t.strides()[size_t(d)];
        if (reduced[size_t(d)]) {
            plan.reduced_sizes.push_back(size);
            plan.reduced_strides.push_back(stride);
            plan.reduced_numel *= size;
            plan.keepdim_shape.push_back(1);
            if (keepdim) plan.out_shape.push_back(1);
        } else {
            plan.kept_sizes.push_back(size);
            plan.kept_strides.push_back(stride);
            plan.out_numel *= size;
            plan.keepdim_shape.push_back(size);
            plan.out_shape.push_back(size);
        }
    }
    return plan;
}

AxisShape axis_shape(const Shape& shape, int64_t dim) {
    AxisShape s;
    for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
        if (d < dim) s.outer *= shape[size_t(d)];
        else if (d == dim) s.n = shape[size_t(d)];
        else s.inner *= shape[size_t(d)];
    }
    return s;
}

}  // namespace graft
