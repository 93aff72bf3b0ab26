// Indexing ops: index_select, gather, scatter_add, masked_fill and where, each
// with its backward beside it. CPU only for now.
//
// Two loops carry all the index work, both run through the elementwise
// iterator (core/ops/iter.h) so any layout is walked without a copy:
//   gather_into       out[p] = t[p with p[dim] = index[p]]     (gather, index_select)
//   scatter_add_loop  out[p with p[dim] = index[p]] += src[p]  (scatter_add, backwards)
// index_select is gather with the 1-d index laid over the output as a stride-0
// view, and its backward (index_add) is scatter with the same view.
// Moves never look at values, so they go through a same-width unsigned type and
// work for every dtype; only scatter adds, in the compute dtypes (16-bit floats
// go through float32).
#include "core/ops/indexing.h"

#include <algorithm>
#include <array>
#include <atomic>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/iter.h"
#include "core/ops/views.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

void check_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
    for (const Tensor* t : tensors)
        check(t->device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(*t));
}

// Calls fn(TypeTag<W>{}) with W an unsigned integer as wide as one element.
template <typename Fn>
void visit_width(size_t element_size, Fn&& fn) {
    switch (element_size) {
        case 1: return fn(TypeTag<uint8_t>{});
        case 2: return fn(TypeTag<uint16_t>{});
        case 4: return fn(TypeTag<uint32_t>{});
        case 8: return fn(TypeTag<uint64_t>{});
        default: throw Error(cat_str("indexing: unsupported element size ", element_size));
    }
}

// The index as a contiguous int64 tensor (int32 accepted, as in PyTorch).
Tensor as_index(const char* op, const Tensor& index) {
    check(index.dtype() == DType::Int64 || index.dtype() == DType::Int32, op,
          "the index must be int64 or int32, got ", describe(index));
    return index.to(DType::Int64).contiguous();
}

// Every index must lie in [0, size). The scan runs in parallel; when it finds
// a bad one, a serial pass reports the first, so the message never depends on
// the thread count.
void check_index_range(const char* op, const Tensor& idx, int64_t dim, int64_t size, const Tensor& self,
                       const Tensor& index) {
    const int64_t* p = idx.data<int64_t>();
    const int64_t n = idx.numel();
    std::atomic<bool> bad{false};
    parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
            if (p[i] < 0 || p[i] >= size) {
                bad.store(true, std::memory_order_relaxed);
                return;
            }
    });
    if (!bad.load()) return;
    for (int64_t i = 0; i < n; ++i)
        check(p[i] >= 0 && p[i] < size, op, "index ", p[i], " is out of range for dimension ", dim, " with size ",
              size, " (self ", describe(self), ", index ", describe(index), ")");
}

// `strides` with the entry for `dim` set to 0: the loops add index * stride themselves.
Strides without_dim(Strides strides, int64_t dim) {
    strides[size_t(dim)] = 0;
    return strides;
}

// out[p] = t[p with p[dim] = idx[p]] over out's shape; idx_strides lay the
// index over that shape (any layout, broadcast allowed).
void gather_into(const Tensor& out, const Tensor& t, int64_t dim, const Tensor& idx, const Strides& idx_strides) {
    const int64_t t_stride = t.strides()[size_t(dim)];
    std::array<IterOperand, 3> ops{{{out.raw_data(), out.strides(), out.element_size()},
                                    {idx.raw_data(), idx_strides, sizeof(int64_t)},
                                    {t.raw_data(), without_dim(t.strides(), dim), t.element_size()}}};
    visit_width(t.element_size(), [&](auto tag) {
        using W = typename decltype(tag)::type;
        for_each_run<3>(out.shape(), ops, [&](int64_t n, char* const* p, const int64_t* s) {
            W* o = reinterpret_cast<W*>(p[0]);
            const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
            const W* in = reinterpret_cast<const W*>(p[2]);
            for (int64_t i = 0; i < n; ++i) o[i * s[0]] = in[i * s[2] + ix[i * s[1]] * t_stride];
        });
    });
}

// out[p with p[dim] = idx[p]] += src[p] for p over `shape` (idx and src laid
// over it by their strides). Positions that collide differ only along dim, so
// the work is split over the other dims and each output element receives its
// terms in ascending order along dim: no races, and the same sums whatever the
// thread count.
template <typename T>
void scatter_add_loop(const Tensor& out, int64_t dim, const Shape& shape, const Tensor& idx,
                      const Strides& idx_strides, const Tensor& src) {
    const int64_t steps = shape[size_t(dim)];
    const int64_t out_stride = out.strides()[size_t(dim)];
    const int64_t idx_step = idx_strides[size_t(dim)], src_step = src.strides()[size_t(dim)];
    Shape outer = shape;
    outer[size_t(dim)] = 1;  // size-1 dims are dropped by the iterator, so their strides do not matter
    std::array<IterOperand, 3> ops{{{out.raw_data(), out.strides(), sizeof(T)},
                                    {idx.raw_data(), idx_strides, sizeof(int64_t)},
                                    {src.raw_data(), src.strides(), sizeof(T)}}};
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(steps, 1));
    for_each_run<3>(
        outer, ops,
        [&](int64_t n, char* const* p, const int64_t* s) {
            T* o = reinterpret_cast<T*>(p[0]);
            const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
            const T* in = reinterpret_cast<const T*>(p[2]);
            for (int64_t j = 0; j < steps; ++j)
                for (int64_t i = 0; i < n; ++i)
                    o[i * s[0] + ix[i * s[1] + j * idx_step] * out_stride] += in[i * s[2] + j * src_step];
        },
        grain);
}

// A copy of `base` with src scattered in (indices already checked). src has
// base's dtype; 16-bit floats are accumulated in float32.
Tensor scatter_added(const char* op, const Tensor& base, int64_t dim, const Shape& shape, const Tensor& idx,
                     const Strides& idx_strides, const Tensor& src) {
    const bool narrow_float = base.dtype() == DType::Float16 || base.dtype() == DType::BFloat16;
    NoGradGuard no_grad;  // internal copies and conversions; the caller records the op
    if (narrow_float) {
        Tensor wide = scatter_added(op, base.to(DType::Float32), dim, shape, idx, idx_strides, src.to(DType::Float32));
        return wide.to(base.dtype());
    }
    Tensor out = base.clone();
    if (shape_numel(shape) == 0) return out;
    visit_compute_dtype(out.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        scatter_add_loop<T>(out, dim, shape, idx, idx_strides, src);
    });
    return out;
}

// The strides that lay a 1-d index along `dim` of a tensor of `ndim` dims.
Strides index_along(int64_t ndim, int64_t dim) {
    Strides s(size_t(ndim), 0);
    s[size_t(dim)] = 1;
    return s;
}

// index_add into zeros: the gradient of index_select. Row index[j] of the
// result (along dim) is the sum of the rows j of g that picked it.
Tensor index_add_into_zeros(const Tensor& g, int64_t dim, const Tensor& idx, const Shape& input_shape) {
    return scatter_added("index_select backward", zeros(input_shape, g.dtype()), dim, g.shape(), idx,
                         index_along(g.dim(), dim), g);
}

// The gradient of a gather-like pick: g scattered into zeros of the input's shape.
Tensor scatter_into_zeros(const Tensor& g, int64_t dim, const Tensor& idx, const Shape& input_shape) {
    return scatter_added("gather backward", zeros(input_shape, g.dtype()), dim, idx.shape(), idx, idx.strides(), g);
}

// The shape rule shared by gather and scatter_add: index has t's rank and is no
// larger than `other` in any dim but `dim` (and no larger than src in any dim).
void check_index_shape(const char* op, const Tensor& t, int64_t d, const Tensor& index, const Tensor* src) {
    check(index.dim() == t.dim(), op, "the index must have as many dimensions as self: index ", describe(index),
          ", self ", describe(t));
    for (int64_t i = 0; i < t.dim(); ++i) {
        check(i == d || index.size(i) <= t.size(i), op, "index ", describe(index), " is larger than self ",
              describe(t), " in dimension ", i);
        if (src)
            check(index.size(i) <= src->size(i), op, "index ", describe(index), " is larger than src ",
                  describe(*src), " in dimension ", i);
    }
}

// src's gradient from the output's: g picked at the scattered positions, in
// src's shape (zero where src reached past the index).
Tensor src_grad(const Tensor& g, int64_t d, const Tensor& idx, const Shape& src_shape) {
    Tensor picked = Tensor::empty(idx.shape(), g.dtype());
    gather_into(picked, g, d, idx, idx.strides());
    if (picked.shape() == src_shape) return picked;
    Tensor full = zeros(src_shape, g.dtype());
    Tensor region = full;
    for (int64_t i = 0; i < full.dim(); ++i) region = narrow(region, i, 0, idx.size(i));
    region.copy_(picked);
    return full;
}

}  // namespace

// d index_select(x, d, i) = index_add of g into zeros of x's shape
Tensor index_select(const Tensor& t, int64_t dim, const Tensor& index) {
    check_cpu("index_select", {&t, &index});
    check(t.dim() > 0, "index_select", "cannot index a 0-d tensor ", describe(t));
    const int64_t d = wrap_dim(dim, t.dim(), "index_select");
    check(index.dim() <= 1, "index_select", "the index must be 0-d or 1-d, got ", describe(index), " for ",
          describe(t));
    const Tensor idx = as_index("index_select", index).reshape({index.numel()});
    check_index_range("index_select", idx, d, t.size(d), t, index);
    Shape shape = t.shape();
    shape[size_t(d)] = idx.numel();
    Tensor out = Tensor::empty(shape, t.dtype());
    gather_into(out, t, d, idx, index_along(t.dim(), d));
    if (autograd::should_record({&t})) {
        autograd::record("index_select", {t}, out, [in = t.shape(), d, si = SavedTensor(idx)](const Tensor& g, const Needs&) {
            return Grads{index_add_into_zeros(g, d, si.get("index_select"), in)};
        });
    }
    return out;
}

// d gather(x, d, i) = scatter_add of g into zeros of x's shape
Tensor gather(const Tensor& t, int64_t dim, const Tensor& index) {
    check_cpu("gather", {&t, &index});
    check(t.dim() > 0, "gather", "cannot gather from a 0-d tensor ", describe(t));
    const int64_t d = wrap_dim(dim, t.dim(), "gather");
    check_index_shape("gather", t, d, index, nullptr);
    const Tensor idx = as_index("gather", index);
    check_index_range("gather", idx, d, t.size(d), t, index);
    Tensor out = Tensor::empty(idx.shape(), t.dtype());
    gather_into(out, t, d, idx, idx.strides());
    if (autograd::should_record({&t})) {
        autograd::record("gather", {t}, out, [in = t.shape(), d, si = SavedTensor(idx)](const Tensor& g, const Needs&) {
            return Grads{scatter_into_zeros(g, d, si.get("gather"), in)};
        });
    }
    return out;
}

// d scatter_add(x, d, i, s) = (g, gather(g, d, i))
Tensor scatter_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) {
    check_cpu("scatter_add", {&t, &index, &src});
    check(t.dim() > 0, "scatter_add", "cannot scatter into a 0-d tensor ", describe(t));
    const int64_t d = wrap_dim(dim, t.dim(), "scatter_add");
    check(src.dtype() == t.dtype(), "scatter_add", "src must have self's dtype: self ", describe(t), ", src ",
          describe(src));
    check(src.dim() == t.dim(), "scatter_add", "src must have as many dimensions as self: self ", describe(t),
          ", src ", describe(src));
    check_index_shape("scatter_add", t, d, index, &src);
    const Tensor idx = as_index("scatter_add", index);
    check_index_range("scatter_add", idx, d, t.size(d), t, index);
    Tensor out = scatter_added("scatter_add", t, d, idx.shape(), idx, idx.strides(), src);
    if (autograd::should_record({&t, &src})) {
        autograd::record("scatter_add", {t, src}, out,
                         [d, si = SavedTensor(idx), src_shape = src.shape()](const Tensor& g, const Needs& needs) {
                             return Grads{needs[0] ? g : Tensor(),
                                          needs[1] ? src_grad(g, d, si.get("scatter_add"), src_shape) : Tensor()};
                         });
    }
    return out;
}

namespace {

// The fill value in T; integers written as integers stay exact beyond 2^53.
template <typename T>
T value_as(Scalar v) {
    if constexpr (std::is_same_v<T, bool>) return v.to_double() != 0.0;
    else if constexpr (std::is_integral_v<T>)
        return v.kind() == Scalar::Kind::Integral ? T(v.to_int()) : T(v.to_double());
    else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return T(float(v.to_double()));
    else return T(v.to_double());
}

void check_bool_mask(const char* op, const Tensor& mask, const Tensor& t) {
    check(mask.dtype() == DType::Bool, op, "the mask must be bool, got ", describe(mask), " for ", describe(t));
}

}  // namespace

// d masked_fill(x, m, v) = g with zeros where m
Tensor masked_fill(const Tensor& t, const Tensor& mask, Scalar value) {
    check_cpu("masked_fill", {&t, &mask});
    check_bool_mask("masked_fill", mask, t);
    check(broadcast_shapes(t.shape(), mask.shape(), "masked_fill") == t.shape(), "masked_fill", "the mask ",
          describe(mask), " does not broadcast to self ", describe(t));
    Tensor out = Tensor::empty(t.shape(), t.dtype());
    std::array<IterOperand, 3> ops{{{out.raw_data(), out.strides(), out.element_size()},
                                    {mask.raw_data(), broadcast_strides(mask.shape(), mask.strides(), t.shape()), 1},
                                    {t.raw_data(), t.strides(), t.element_size()}}};
    visit_dtype(t.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T v = value_as<T>(value);
        for_each_run<3>(t.shape(), ops, [&](int64_t n, char* const* p, const int64_t* s) {
            T* o = reinterpret_cast<T*>(p[0]);
            const bool* m = reinterpret_cast<const bool*>(p[1]);
            const T* in = reinterpret_cast<const T*>(p[2]);
            for (int64_t i = 0; i < n; ++i) o[i * s[0]] = m[i * s[1]] ? v : in[i * s[2]];
        });
    });
    if (autograd::should_record({&t})) {
        autograd::record("masked_fill", {t}, out, [sm = SavedTensor(mask)](const Tensor& g, const Needs&) {
            return Grads{masked_fill(g, sm.get("masked_fill"), 0.0)};
        });
    }
    return out;
}

namespace {

// out = cond ? a : b, all three broadcast to out's shape; a, b of out's dtype.
void where_into(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
    const Shape& shape = out.shape();
    std::array<IterOperand, 4> ops{{{out.raw_data(), out.strides(), out.element_size()},
                                    {cond.raw_data(), broadcast_strides(cond.shape(), cond.strides(), shape), 1},
                                    {a.raw_data(), broadcast_strides(a.shape(), a.strides(), shape), a.element_size()},
                                    {b.raw_data(), broadcast_strides(b.shape(), b.strides(), shape), b.element_size()}}};
    visit_width(out.element_size(), [&](auto tag) {
        using W = typename decltype(tag)::type;
        for_each_run<4>(shape, ops, [&](int64_t n, char* const* p, const int64_t* s) {
            W* o = reinterpret_cast<W*>(p[0]);
            const bool* c = reinterpret_cast<const bool*>(p[1]);
            const W* x = reinterpret_cast<const W*>(p[2]);
            const W* y = reinterpret_cast<const W*>(p[3]);
            for (int64_t i = 0; i < n; ++i) o[i * s[0]] = c[i * s[1]] ? x[i * s[2]] : y[i * s[3]];
        });
    });
}

// The part of g that flowed through one branch of where, summed to that input.
Tensor branch_grad(const Tensor& g, const Tensor& cond, bool taken_when, const Shape& shape, DType dtype) {
    const Tensor zero = zeros({}, g.dtype());
    Tensor picked = taken_when ? where(cond, g, zero) : where(cond, zero, g);
    Tensor r = autograd::sum_to(picked, shape);
    return r.dtype() == dtype ? r : r.to(dtype);
}

}  // namespace

// d where(c, a, b) = (g where c else 0, g where !c else 0), each summed to its input's shape
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
    check_cpu("where", {&condition, &a, &b});
    check(condition.dtype() == DType::Bool, "where", "the condition must be bool, got ", describe(condition));
    const Shape shape =
        broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(), "where");
    const DType dtype = promote_types(a.dtype(), b.dtype());
    Tensor out = Tensor::empty(shape, dtype);
    if (out.numel() > 0) {
        NoGradGuard no_grad;  // the conversions are internal; where records its own backward
        where_into(out, condition, a.dtype() == dtype ? a : a.to(dtype), b.dtype() == dtype ? b : b.to(dtype));
    }
    if (autograd::should_record({&a, &b})) {
        autograd::record("where", {a, b}, out,
                         [sc = SavedTensor(condition), sa = a.shape(), da = a.dtype(), sb = b.shape(),
                          db = b.dtype()](const Tensor& g, const Needs& needs) {
                             const Tensor c = sc.get("where");
                             return Grads{needs[0] ? branch_grad(g, c, true, sa, da) : Tensor(),
                                          needs[1] ? branch_grad(g, c, false, sb, db) : Tensor()};
                         });
    }
    return out;
}

}  // namespace graft
