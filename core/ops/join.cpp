// Joining and splitting along a dimension: cat and stack copy into a fresh
// tensor (their backward hands each input its slice of the gradient); split and
// chunk return narrow() views, so their backward is narrow's (core/ops/views.cpp).
#include "core/ops/join.h"

#include <algorithm>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/views.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;

namespace {

// The 1-d empty tensors PyTorch's cat skips whatever the other inputs' rank.
bool is_legacy_empty(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

DType promoted_dtype(const std::vector<Tensor>& tensors) {
    DType dtype = tensors[0].dtype();
    for (const Tensor& t : tensors) dtype = promote_types(dtype, t.dtype());
    return dtype;
}

void check_inputs(const char* op, const std::vector<Tensor>& tensors) {
    check(!tensors.empty(), op, "expected a non-empty list of tensors");
    for (size_t i = 0; i < tensors.size(); ++i) {
        check(tensors[i].defined(), op, "tensor ", i, " is undefined");
        check(tensors[i].device() == tensors[0].device(), op, "all tensors must be on one device: tensor 0 is ",
              describe(tensors[0]), " but tensor ", i, " is ", describe(tensors[i]));
    }
    check(tensors[0].device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(tensors[0]));
}

// Each input's gradient: its dtype, converted back from the promoted one.
Tensor as_dtype(const Tensor& g, DType dtype) { return g.dtype() == dtype ? g : g.to(dtype); }

}  // namespace

// d cat(x_0, ..., x_n) = (g narrowed to x_i's range along dim)_i
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
    check_inputs("cat", tensors);
    // The first input that is not a skipped legacy empty tensor sets the rank.
    size_t ref = 0;
    while (ref < tensors.size() && is_legacy_empty(tensors[ref])) ++ref;
    if (ref == tensors.size()) ref = 0;
    const Tensor& first = tensors[ref];
    check(first.dim() > 0, "cat", "zero-dimensional tensor ", ref, " (", describe(first), ") cannot be concatenated");
    const int64_t d = wrap_dim(dim, first.dim(), "cat");
    Shape shape = first.shape();
    shape[size_t(d)] = 0;
    std::vector<int64_t> starts(tensors.size(), 0);
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        starts[i] = shape[size_t(d)];
        if (is_legacy_empty(t) && i != ref) continue;
        check(t.dim() == first.dim(), "cat", "tensors must have the same number of dimensions: tensor ", ref, " is ",
              describe(first), " but tensor ", i, " is ", describe(t));
        for (int64_t k = 0; k < t.dim(); ++k)
            check(k == d || t.size(k) == first.size(k), "cat", "sizes must match except in dimension ", d,
                  ": tensor ", ref, " is ", describe(first), " but tensor ", i, " is ", describe(t),
                  " (dimension ", k, ")");
        shape[size_t(d)] += t.size(d);
    }
    const DType dtype = promoted_dtype(tensors);
    Tensor out = Tensor::empty(shape, dtype);
    {
        NoGradGuard no_grad;  // filling a fresh tensor; cat records its own backward below
        for (size_t i = 0; i < tensors.size(); ++i)
            if (!(is_legacy_empty(tensors[i]) && i != ref)) narrow(out, d, starts[i], tensors[i].size(d)).copy_(tensors[i]);
    }
    if (autograd::should_record(tensors)) {
        std::vector<Shape> shapes;
        std::vector<DType> dtypes;
        for (const Tensor& t : tensors) {
            shapes.push_back(t.shape());
            dtypes.push_back(t.dtype());
        }
        autograd::record("cat", tensors, out, [d, ref, starts, shapes, dtypes](const Tensor& g, const Needs& needs) {
            Grads grads(needs.size());
            for (size_t i = 0; i < needs.size(); ++i) {
                if (!needs[i]) continue;
                const bool skipped = shapes[i] == Shape{0} && i != ref;
                grads[i] = skipped ? Tensor::empty({0}, dtypes[i])
                                   : as_dtype(narrow(g, d, starts[i], shapes[i][size_t(d)]), dtypes[i]);
            }
            return grads;
        });
    }
    return out;
}

// d stack(x_0, ..., x_n) = (select(g, dim, i))_i
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
    check_inputs("stack", tensors);
    const Tensor& first = tensors[0];
    for (size_t i = 1; i < tensors.size(); ++i)
        check(tensors[i].shape() == first.shape(), "stack", "all tensors must have the same shape: tensor 0 is ",
              describe(first), " but tensor ", i, " is ", describe(tensors[i]));
    const int64_t d = wrap_dim(dim, first.dim() + 1, "stack");
    Shape shape = first.shape();
    shape.insert(shape.begin() + d, int64_t(tensors.size()));
    Tensor out = Tensor::empty(shape, promoted_dtype(tensors));
    {
        NoGradGuard no_grad;
        for (size_t i = 0; i < tensors.size(); ++i) select(out, d, int64_t(i)).copy_(tensors[i]);
    }
    if (autograd::should_record(tensors)) {
        std::vector<DType> dtypes;
        for (const Tensor& t : tensors) dtypes.push_back(t.dtype());
        autograd::record("stack", tensors, out, [d, dtypes](const Tensor& g, const Needs& needs) {
            Grads grads(needs.size());
            for (size_t i = 0; i < needs.size(); ++i)
                if (needs[i]) grads[i] = as_dtype(select(g, d, int64_t(i)), dtypes[i]);
            return grads;
        });
    }
    return out;
}

namespace {

// Views of the given sizes along dim, one after another.
std::vector<Tensor> split_with_sizes(const Tensor& t, const std::vector<int64_t>& sizes, int64_t d) {
    std::vector<Tensor> parts;
    parts.reserve(sizes.size());
    int64_t start = 0;
    for (int64_t s : sizes) {
        parts.push_back(narrow(t, d, start, s));
        start += s;
    }
    return parts;
}

}  // namespace

std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim) {
    check(t.dim() > 0, "split", "cannot split a 0-d tensor ", describe(t));
    const int64_t d = wrap_dim(dim, t.dim(), "split");
    const int64_t size = t.size(d);
    check(split_size > 0 || (split_size == 0 && size == 0), "split", "split_size must be positive, got ", split_size,
          " for dimension ", d, " of ", describe(t));
    // An empty dimension still gives one (empty) piece, as in PyTorch.
    const int64_t pieces = split_size == 0 ? 1 : std::max<int64_t>((size + split_size - 1) / split_size, 1);
    std::vector<int64_t> sizes(size_t(pieces), split_size);
    sizes.back() = size - split_size * (pieces - 1);
    return split_with_sizes(t, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim) {
    check(t.dim() > 0, "chunk", "cannot chunk a 0-d tensor ", describe(t));
    check(chunks > 0, "chunk", "the number of chunks must be positive, got ", chunks, " for ", describe(t));
    const int64_t d = wrap_dim(dim, t.dim(), "chunk");
    const int64_t size = t.size(d);
    // torch.chunk: pieces of ceil(size / chunks), so there may be fewer than
    // `chunks`; an empty dimension gives `chunks` empty pieces.
    if (size == 0) return split_with_sizes(t, std::vector<int64_t>(size_t(chunks), 0), d);
    return split(t, (size + chunks - 1) / chunks, d);
}

}  // namespace graft
