// softmax and log_softmax along one dim: argument checks, the [outer, n, inner]
// view of the input, the split among threads, and the backward, which runs a
// dedicated kernel (kernels/cpu/softmax/) rather than a chain of ops.
#include "core/ops/softmax.h"

#include <algorithm>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/reduce_plan.h"
#include "kernels/cpu/softmax/softmax.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

constexpr int64_t kInnerTile = 256;      // columns per task when softmax runs along a strided dim
constexpr int64_t kWorkPerTask = 16384;  // elements below which a task is not worth a thread

// Runs fn(outer_lo, outer_hi, i0, width) over [outer, inner] in tasks whose
// bounds depend only on the shape. Each softmax row belongs to one task, so the
// thread count never changes a result.
template <typename Fn>
void for_each_task(const AxisShape& s, Fn&& fn) {
    if (s.inner == 1) {
        const int64_t grain = std::max<int64_t>(1, kWorkPerTask / std::max<int64_t>(s.n, 1));
        parallel_for(0, s.outer, grain, [&](int64_t lo, int64_t hi) { fn(lo, hi, 0, 1); });
        return;
    }
    const int64_t tiles = (s.inner + kInnerTile - 1) / kInnerTile;
    const int64_t grain = std::max<int64_t>(1, kWorkPerTask / std::max<int64_t>(s.n * std::min(s.inner, kInnerTile), 1));
    parallel_for(0, s.outer * tiles, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t o = t / tiles, i0 = t % tiles * kInnerTile;
            fn(o, o + 1, i0, std::min(kInnerTile, s.inner - i0));
        }
    });
}

Tensor softmax_forward(const char* op, const Tensor& t, int64_t dim, bool log) {
    check(t.device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(t));
    check(t.dtype() == DType::Float32 || t.dtype() == DType::Float64, op, "expected a float32 or float64 tensor, got ",
          describe(t));
    const int64_t d = wrap_dim(dim, std::max<int64_t>(t.dim(), 1), op);  // a 0-d tensor is one row of one
    const Tensor x = t.contiguous();
    Tensor y = Tensor::empty(t.shape(), t.dtype());
    if (t.numel() == 0) return y;
    const AxisShape s = axis_shape(t.shape(), d);
    visit_float_dtype(t.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const auto kernel = kernels::cpu::softmax_forward<T>(kernels::active_isa());
        const T* px = x.data<T>();
        T* py = y.data<T>();
        for_each_task(s, [&](int64_t o0, int64_t o1, int64_t i0, int64_t w) {
            const int64_t off = o0 * s.n * s.inner + i0;
            kernel(o1 - o0, s.n, w, s.inner, px + off, py + off, log);
        });
    });
    return y;
}

// dx from the output y and its gradient g (both shaped like the input).
Tensor softmax_backward(const char* op, const Tensor& y, const Tensor& g_in, int64_t dim, bool log) {
    const Tensor g = g_in.dtype() == y.dtype() ? g_in.contiguous() : g_in.to(y.dtype()).contiguous();
    Tensor dx = Tensor::empty(y.shape(), y.dtype());
    if (y.numel() == 0) return dx;
    const AxisShape s = axis_shape(y.shape(), dim);
    visit_float_dtype(y.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const auto kernel = kernels::cpu::softmax_backward<T>(kernels::active_isa());
        const T* py = y.data<T>();
        const T* pg = g.data<T>();
        T* pdx = dx.data<T>();
        for_each_task(s, [&](int64_t o0, int64_t o1, int64_t i0, int64_t w) {
            const int64_t off = o0 * s.n * s.inner + i0;
            kernel(o1 - o0, s.n, w, s.inner, py + off, pg + off, pdx + off, log);
        });
    });
    return dx;
}

Tensor softmax_op(const char* op, const Tensor& t, int64_t dim, bool log) {
    Tensor y = softmax_forward(op, t, dim, log);
    if (autograd::should_record({&t})) {
        const int64_t d = t.dim() == 0 ? 0 : wrap_dim(dim, t.dim(), op);
        autograd::record(op, {t}, y, [op, sy = SavedTensor(y), d, log](const Tensor& g, const Needs&) {
            return Grads{softmax_backward(op, sy.get(op), g, d, log)};
        });
    }
    return y;
}

}  // namespace

// d softmax: dx = y * (g - sum(g * y))        (the Jacobian diag(y) - y yᵀ applied to g)
Tensor softmax(const Tensor& t, int64_t dim) { return softmax_op("softmax", t, dim, false); }

// d log_softmax: dx = g - exp(y) * sum(g)     (the Jacobian I - 1 softmaxᵀ applied to g)
Tensor log_softmax(const Tensor& t, int64_t dim) { return softmax_op("log_softmax", t, dim, true); }

}  // namespace graft
