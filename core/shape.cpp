#include "core/shape.h"

#include "core/error.h"

namespace graft {

// Shapes come from files too (IDX headers, safetensors, pickles), so products
// of sizes are checked: a hostile shape is an Error, not a wrapped-around size.
int64_t shape_numel(const Shape& shape) {
    for (int64_t s : shape)
        if (s == 0) return 0;
    int64_t n = 1;
    for (int64_t s : shape)
        check(!__builtin_mul_overflow(n, s, &n), "shape", "the number of elements of ", shape_str(shape),
              " does not fit in 64 bits");
    return n;
}

Strides contiguous_strides(const Shape& shape) {
    Strides strides(shape.size());
    int64_t stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = stride;
        // Size-0 and size-1 dims do not scale the strides of the dims before them.
        if (i > 0)
            check(!__builtin_mul_overflow(stride, shape[i] > 0 ? shape[i] : 1, &stride), "shape", "the strides of ",
                  shape_str(shape), " do not fit in 64 bits");
    }
    return strides;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
    const int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
    check(dim >= lo && dim <= hi, op, "dimension ", dim, " is out of range for a tensor of ", ndim,
          " dimensions (expected ", lo, "..", hi, ")");
    return dim < 0 ? dim + (ndim == 0 ? 1 : ndim) : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    const size_t n = a.size() > b.size() ? a.size() : b.size();
    Shape out(n);
    for (size_t i = 0; i < n; ++i) {
        const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        check(da == db || da == 1 || db == 1, op, "shapes ", shape_str(a), " and ", shape_str(b),
              " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

bool is_contiguous(const Shape& shape, const Strides& strides) {
    int64_t expected = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] == 1) continue;
        if (shape[i] == 0) return true;
        if (strides[i] != expected) return false;
        expected *= shape[i];
    }
    return true;
}

}  // namespace graft
