// Shapes and strides: the plain vectors every tensor layout is made of, and the
// few rules on them that many ops share (contiguous strides, dimension wrapping,
// NumPy broadcasting). Sizes and strides count elements, never bytes.
#pragma once

#include <cstdint>
#include <vector>

namespace graft {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// Product of the sizes; 1 for a 0-d shape.
int64_t shape_numel(const Shape& shape);
// Row-major strides for `shape` (the last dimension has stride 1).
Strides contiguous_strides(const Shape& shape);
// Turns a possibly negative dim into 0..ndim-1; throws Error naming `op` if out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// NumPy broadcasting of two shapes; throws Error naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// True when (shape, strides) describe a dense row-major block.
bool is_contiguous(const Shape& shape, const Strides& strides);

}  // namespace graft
