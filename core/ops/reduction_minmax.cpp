// max and min: over all elements (gradient split evenly among ties), along one
// dim with the index of the first extreme (gradient to that index), and
// argmax/argmin. A NaN is the extreme of any slice holding one (as PyTorch).
// Comparisons are exact, so results never depend on the thread count; ties
// resolve to the first index because each slice is scanned in order by one thread.
#include <algorithm>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/reduce_plan.h"
#include "core/ops/reduction.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

// Whether v replaces the current extreme: a larger (smaller) value, or the
// first NaN. Branch-free so that loops over it vectorise.
template <bool Max, typename T>
inline bool beats(T v, T best) {
    const bool better = Max ? v > best : v < best;
    if constexpr (std::is_floating_point_v<T>) return better | ((v != v) & (best == best));
    else return better;
}

// The extreme of a contiguous run (n >= 1), in 8 lanes so the loop vectorises.
template <bool Max, typename T>
T extreme_contiguous(const T* p, int64_t n) {
    T lanes[8];
    std::fill(lanes, lanes + 8, p[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) lanes[l] = beats<Max>(p[i + l], lanes[l]) ? p[i + l] : lanes[l];
    T best = lanes[0];
    for (int l = 1; l < 8; ++l) best = beats<Max>(lanes[l], best) ? lanes[l] : best;
    for (; i < n; ++i) best = beats<Max>(p[i], best) ? p[i] : best;
    return best;
}

constexpr int64_t kBlock = 1 << 16;

template <bool Max>
Tensor extreme_all(const char* op, const Tensor& t) {
    check(t.device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(t));
    check(t.numel() > 0, op, "the ", op, " of an empty tensor is undefined, got ", describe(t),
          "; reduce along a dim or check the size first");
    const Tensor x = t.contiguous();
    Tensor out = Tensor::empty({}, t.dtype());
    visit_compute_dtype(t.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* p = x.data<T>();
        const int64_t n = x.numel();
        std::vector<T> partial(size_t((n + kBlock - 1) / kBlock));
        for_each_block(n, kBlock, [&](int64_t b, int64_t lo, int64_t hi) {
            partial[size_t(b)] = extreme_contiguous<Max>(p + lo, hi - lo);
        });
        *out.data<T>() = extreme_contiguous<Max>(partial.data(), int64_t(partial.size()));
    });
    return out;
}

// d max(x) = g / (number of elements equal to the max) at each of them, 0 elsewhere
Tensor record_all(const char* op, const Tensor& t, const Tensor& out) {
    if (autograd::should_record({&t}))
        autograd::record(op, {t}, out, [op, sx = SavedTensor(t), so = SavedTensor(out)](const Tensor& g, const Needs&) {
            const Tensor ties = eq(sx.get(op), so.get(op)).to(g.dtype());
            return Grads{mul(ties, div(g, sum(ties)))};
        });
    return out;
}

// The first index of `value` in a contiguous run (a NaN value matches a NaN).
template <typename T>
int64_t first_index_of(const T* p, int64_t n, T value) {
    for (int64_t j = 0; j < n; ++j)
        if (p[j] == value || (p[j] != p[j] && value != value)) return j;
    return 0;
}

// values[o, i], indices[o, i] = extreme of x[o, :, i] and its first index.
// Contiguous rows (inner 1) take two passes: the extreme, found in vector
// lanes, then its first position. Otherwise rows of a tile of columns are
// compared as vectors, keeping the index where a value wins.
template <bool Max, typename T>
void extreme_axis(const T* x, const AxisShape& s, T* values, int64_t* indices) {
    if (s.inner == 1) {
        parallel_for(0, s.outer, std::max<int64_t>(1, 32768 / s.n), [&](int64_t lo, int64_t hi) {
            for (int64_t o = lo; o < hi; ++o) {
                values[o] = extreme_contiguous<Max>(x + o * s.n, s.n);
                indices[o] = first_index_of(x + o * s.n, s.n, values[o]);
            }
        });
        return;
    }
    constexpr int64_t kTile = 256;
    const int64_t tiles = (s.inner + kTile - 1) / kTile;
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, s.n * std::min(s.inner, kTile)));
    parallel_for(0, s.outer * tiles, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t o = t / tiles, i0 = t % tiles * kTile, w = std::min(kTile, s.inner - i0);
            const T* base = x + o * s.n * s.inner + i0;
            T* best = values + o * s.inner + i0;
            int64_t* index = indices + o * s.inner + i0;
            std::copy(base, base + w, best);
            std::fill(index, index + w, int64_t(0));
            for (int64_t j = 1; j < s.n; ++j) {
                const T* row = base + j * s.inner;
                for (int64_t i = 0; i < w; ++i) {
                    const bool take = beats<Max>(row[i], best[i]);
                    best[i] = take ? row[i] : best[i];
                    index[i] = take ? j : index[i];
                }
            }
        }
    });
}

// The shape of a reduction along `d` of `shape` (0-d input: 0-d output).
Shape reduced_shape(const Shape& shape, int64_t d, bool keepdim) {
    if (shape.empty()) return shape;
    Shape out = shape;
    if (keepdim) out[size_t(d)] = 1;
    else out.erase(out.begin() + d);
    return out;
}

template <bool Max>
ValuesIndices extreme_dim(const char* op, const Tensor& t, int64_t dim, bool keepdim) {
    check(t.device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(t));
    const int64_t d = wrap_dim(dim, std::max<int64_t>(t.dim(), 1), op);
    const Shape shape = t.dim() == 0 ? Shape{1} : t.shape();
    check(shape[size_t(d)] > 0, op, "cannot reduce dim ", dim, " of size 0 of ", describe(t),
          "; the result would be undefined");
    const Tensor x = t.contiguous();
    const AxisShape s = axis_shape(shape, d);
    const Shape out_shape = reduced_shape(t.shape(), d, keepdim);
    ValuesIndices r{Tensor::empty(out_shape, t.dtype()), Tensor::empty(out_shape, DType::Int64)};
    if (s.outer * s.inner == 0) return r;
    visit_compute_dtype(t.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        extreme_axis<Max>(x.data<T>(), s, r.values.data<T>(), r.indices.data<int64_t>());
    });
    return r;
}

// dx = g placed at the recorded index along `dim`, zeros elsewhere.
Tensor scatter_to_index(const Tensor& g_in, const Tensor& indices, const Shape& in_shape, int64_t dim, DType dtype) {
    const AxisShape s = axis_shape(in_shape.empty() ? Shape{1} : in_shape, dim);
    Tensor dx = zeros(in_shape, dtype);
    const Tensor g = (g_in.dtype() == dtype ? g_in : g_in.to(dtype)).contiguous();
    const Tensor idx = indices.contiguous();
    visit_float_dtype(dtype, "max_dim", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* pg = g.data<T>();
        const int64_t* pi = idx.data<int64_t>();
        T* pd = dx.data<T>();
        for (int64_t e = 0; e < s.outer * s.inner; ++e) {
            const int64_t o = e / s.inner, i = e % s.inner;
            pd[(o * s.n + pi[e]) * s.inner + i] = pg[e];
        }
    });
    return dx;
}

// d max(x, dim).values = g at the index of the max along dim, 0 elsewhere
ValuesIndices record_dim(const char* op, const Tensor& t, int64_t dim, ValuesIndices r) {
    if (!autograd::should_record({&t})) return r;
    const int64_t d = wrap_dim(dim, std::max<int64_t>(t.dim(), 1), op);
    autograd::record(op, {t}, r.values,
                     [op, si = SavedTensor(r.indices), shape = t.shape(), d, dtype = t.dtype()](const Tensor& g,
                                                                                              const Needs&) {
                         return Grads{scatter_to_index(g, si.get(op), shape, d, dtype)};
                     });
    return r;
}

}  // namespace

Tensor max(const Tensor& t) { return record_all("max", t, extreme_all<true>("max", t)); }
Tensor min(const Tensor& t) { return record_all("min", t, extreme_all<false>("min", t)); }

ValuesIndices max(const Tensor& t, int64_t dim, bool keepdim) {
    return record_dim("max_dim", t, dim, extreme_dim<true>("max", t, dim, keepdim));
}
ValuesIndices min(const Tensor& t, int64_t dim, bool keepdim) {
    return record_dim("min_dim", t, dim, extreme_dim<false>("min", t, dim, keepdim));
}

Tensor argmax(const Tensor& t, int64_t dim, bool keepdim) { return extreme_dim<true>("argmax", t, dim, keepdim).indices; }
Tensor argmin(const Tensor& t, int64_t dim, bool keepdim) { return extreme_dim<false>("argmin", t, dim, keepdim).indices; }

}  // namespace graft
