#include "core/ops/iter.h"

namespace graft {

Strides broadcast_strides(const Shape& t_shape, const Strides& t_strides, const Shape& shape) {
    Strides out(shape.size(), 0);
    const size_t lead = shape.size() - t_shape.size();
    for (size_t i = 0; i < t_shape.size(); ++i)
        out[lead + i] = t_shape[i] == 1 ? 0 : t_strides[i];
    return out;
}

}  // namespace graft
