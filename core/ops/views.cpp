// Views: each computes a new (sizes, strides, offset) over the same storage and
// records a backward that maps the gradient back to the input's shape.
#include "core/ops/views.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/reduction.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;

namespace {

Tensor make_view(const Tensor& t, Shape sizes, Strides strides, int64_t offset) {
    Tensor v = Tensor::from_storage(t.storage(), std::move(sizes), std::move(strides), offset, t.dtype());
    autograd::mark_view(t, v);
    return v;
}

// The gradient of a view that picks a region of the input: zeros of the
// input's shape with g written into the same region.
template <typename Region>
Tensor scatter_into_zeros(const Tensor& g, const Shape& input_shape, Region region) {
    Tensor full = zeros(input_shape, g.dtype(), g.device());
    region(full).copy_(g);
    return full;
}

// Strides for viewing (sizes, strides) as `shape` without copying, if possible
// (the rule of PyTorch's computeStride: each group of merged or split dims must
// be contiguous within itself).
std::optional<Strides> view_strides(const Shape& sizes, const Strides& strides, const Shape& shape) {
    Strides out(shape.size());
    if (sizes.empty() || shape_numel(sizes) == 0) return contiguous_strides(shape);
    int64_t view_d = int64_t(shape.size()) - 1;
    int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
    int64_t tensor_numel = 1, view_numel = 1;
    for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
        tensor_numel *= sizes[size_t(d)];
        if (d == 0 || (sizes[size_t(d - 1)] != 1 && strides[size_t(d - 1)] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || shape[size_t(view_d)] == 1)) {
                out[size_t(view_d)] = view_numel * chunk_base_stride;
                view_numel *= shape[size_t(view_d)];
                --view_d;
            }
            if (view_numel != tensor_numel) return std::nullopt;
            if (d > 0) {
                chunk_base_stride = strides[size_t(d - 1)];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    if (view_d != -1) return std::nullopt;
    return out;
}

}  // namespace

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
    Shape out = shape;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1) {
            check(infer < 0, op, "only one dimension can be -1, got ", shape_str(shape));
            infer = int64_t(i);
        } else {
            check(out[i] >= 0, op, "invalid size ", out[i], " in shape ", shape_str(shape));
            known *= out[i];
        }
    }
    if (infer >= 0) {
        check(known != 0 && numel % known == 0, op, "shape ", shape_str(shape), " is invalid for input of size ", numel);
        out[size_t(infer)] = numel / known;
    }
    check(shape_numel(out) == numel, op, "shape ", shape_str(shape), " is invalid for input of size ", numel);
    return out;
}

// d view(x) = g.reshape(x.shape)
Tensor view(const Tensor& t, const Shape& shape) {
    const Shape target = infer_shape(shape, t.numel(), "view");
    auto strides = view_strides(t.shape(), t.strides(), target);
    check(strides.has_value(), "view", "cannot view ", describe(t), " with strides ", shape_str(t.strides()),
          " as shape ", shape_str(target), "; use reshape() (which copies) instead");
    Tensor out = make_view(t, target, *strides, t.offset());
    if (autograd::should_record({&t}))
        autograd::record("view", {t}, out, [in = t.shape()](const Tensor& g, const Needs&) { return Grads{g.reshape(in)}; });
    return out;
}

// d reshape(x) = g.reshape(x.shape)
Tensor reshape(const Tensor& t, const Shape& shape) {
    const Shape target = infer_shape(shape, t.numel(), "reshape");
    if (view_strides(t.shape(), t.strides(), target)) return view(t, target);
    Tensor copy = clone(t);  // records clone's backward; view records its own
    return view(copy, target);
}

// d permute(x, p) = permute(g, p^-1)
Tensor permute(const Tensor& t, const std::vector<int64_t>& dims) {
    const int64_t nd = t.dim();
    check(int64_t(dims.size()) == nd, "permute", "expected ", nd, " dims for ", describe(t), ", got ",
          shape_str(dims));
    Shape sizes(static_cast<size_t>(nd));
    Strides strides(static_cast<size_t>(nd));
    std::vector<int64_t> inverse(static_cast<size_t>(nd), -1);
    for (int64_t i = 0; i < nd; ++i) {
        const int64_t d = wrap_dim(dims[size_t(i)], nd, "permute");
        check(inverse[size_t(d)] < 0, "permute", "dimension ", d, " repeats in ", shape_str(dims));
        inverse[size_t(d)] = i;
        sizes[size_t(i)] = t.shape()[size_t(d)];
        strides[size_t(i)] = t.strides()[size_t(d)];
    }
    Tensor out = make_view(t, sizes, strides, t.offset());
    if (autograd::should_record({&t}))
        autograd::record("permute", {t}, out, [inverse](const Tensor& g, const Needs&) {
            return Grads{permute(g, inverse)};
        });
    return out;
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
    const int64_t nd = t.dim();
    if (nd == 0) return t;
    std::vector<int64_t> p(static_cast<size_t>(nd));
    std::iota(p.begin(), p.end(), 0);
    std::swap(p[size_t(wrap_dim(dim0, nd, "transpose"))], p[size_t(wrap_dim(dim1, nd, "transpose"))]);
    return permute(t, p);
}

// d slice(x) = g written into zeros of x's shape at the slice
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step) {
    check(t.dim() > 0, "slice", "cannot slice a 0-d tensor");
    const int64_t d = wrap_dim(dim, t.dim(), "slice");
    check(step > 0, "slice", "step must be positive, got ", step);
    const int64_t size = t.shape()[size_t(d)];
    if (start < 0) start += size;
    if (end < 0) end += size;
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, start, size);
    Shape sizes = t.shape();
    Strides strides = t.strides();
    sizes[size_t(d)] = (end - start + step - 1) / step;
    strides[size_t(d)] *= step;
    Tensor out = make_view(t, sizes, strides, t.offset() + start * t.strides()[size_t(d)]);
    if (autograd::should_record({&t}))
        autograd::record("slice", {t}, out, [in = t.shape(), d, start, end, step](const Tensor& g, const Needs&) {
            return Grads{scatter_into_zeros(g, in, [&](const Tensor& z) { return slice(z, d, start, end, step); })};
        });
    return out;
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
    check(t.dim() > 0, "narrow", "cannot narrow a 0-d tensor");
    const int64_t d = wrap_dim(dim, t.dim(), "narrow");
    const int64_t size = t.shape()[size_t(d)];
    if (start < 0) start += size;
    check(start >= 0 && length >= 0 && start + length <= size, "narrow", "range [", start, ", ", start + length,
          ") is out of bounds for dimension ", d, " of ", describe(t));
    return slice(t, d, start, start + length, 1);
}

// d select(x, d, i) = g inserted at index i of zeros of x's shape
Tensor select(const Tensor& t, int64_t dim, int64_t index) {
    check(t.dim() > 0, "select", "cannot select from a 0-d tensor");
    const int64_t d = wrap_dim(dim, t.dim(), "select");
    const int64_t size = t.shape()[size_t(d)];
    check(index >= -size && index < size, "select", "index ", index, " is out of range for dimension ", d,
          " of ", describe(t));
    if (index < 0) index += size;
    Shape sizes = t.shape();
    Strides strides = t.strides();
    sizes.erase(sizes.begin() + d);
    strides.erase(strides.begin() + d);
    Tensor out = make_view(t, sizes, strides, t.offset() + index * t.strides()[size_t(d)]);
    if (autograd::should_record({&t}))
        autograd::record("select", {t}, out, [in = t.shape(), d, index](const Tensor& g, const Needs&) {
            return Grads{scatter_into_zeros(g, in, [&](const Tensor& z) { return select(z, d, index); })};
        });
    return out;
}

// d expand(x) = sum of g over the expanded dims
Tensor expand(const Tensor& t, const Shape& shape) {
    check(shape.size() >= size_t(t.dim()), "expand", "the target shape ", shape_str(shape),
          " has fewer dimensions than ", describe(t));
    const size_t lead = shape.size() - size_t(t.dim());
    Shape sizes(shape.size());
    Strides strides(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i < lead) {
            check(shape[i] >= 0, "expand", "size ", shape[i], " is not allowed in a new leading dimension: ",
                  shape_str(shape));
            sizes[i] = shape[i];
            strides[i] = 0;
            continue;
        }
        const int64_t have = t.shape()[i - lead];
        const int64_t want = shape[i] == -1 ? have : shape[i];
        check(want >= 0, "expand", "invalid size ", shape[i], " in ", shape_str(shape), " for ", describe(t));
        check(have == want || have == 1, "expand", "cannot expand ", describe(t), " to ", shape_str(shape),
              " (dimension ", i, ": ", have, " vs ", want, ")");
        sizes[i] = want;
        strides[i] = have == want ? t.strides()[i - lead] : 0;
    }
    Tensor out = make_view(t, sizes, strides, t.offset());
    if (autograd::should_record({&t}))
        autograd::record("expand", {t}, out, [in = t.shape()](const Tensor& g, const Needs&) {
            return Grads{autograd::sum_to(g, in)};
        });
    return out;
}

Tensor squeeze(const Tensor& t) {
    Shape shape;
    for (int64_t s : t.shape())
        if (s != 1) shape.push_back(s);
    return view(t, shape);
}

Tensor squeeze(const Tensor& t, int64_t dim) {
    if (t.dim() == 0) return view(t, {});
    const int64_t d = wrap_dim(dim, t.dim(), "squeeze");
    if (t.shape()[size_t(d)] != 1) return view(t, t.shape());
    Shape shape = t.shape();
    shape.erase(shape.begin() + d);
    return view(t, shape);
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
    const int64_t d = wrap_dim(dim, t.dim() + 1, "unsqueeze");
    Shape shape = t.shape();
    shape.insert(shape.begin() + d, 1);
    return view(t, shape);
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
    if (t.dim() == 0) return reshape(t, {1});
    const int64_t s = wrap_dim(start_dim, t.dim(), "flatten"), e = wrap_dim(end_dim, t.dim(), "flatten");
    check(s <= e, "flatten", "start_dim ", start_dim, " comes after end_dim ", end_dim, " for ", describe(t));
    Shape shape(t.shape().begin(), t.shape().begin() + s);
    int64_t merged = 1;
    for (int64_t i = s; i <= e; ++i) merged *= t.shape()[size_t(i)];
    shape.push_back(merged);
    shape.insert(shape.end(), t.shape().begin() + e + 1, t.shape().end());
    return reshape(t, shape);
}

}  // namespace graft
