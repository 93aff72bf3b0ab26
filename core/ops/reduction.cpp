// Reductions. Each output element is reduced by one thread in a fixed order, and
// a full reduction splits into fixed blocks whose partial results are combined
// in block order, so results do not depend on the thread count.
#include "core/ops/reduction.h"

#include <cmath>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/reduce_plan.h"
#include "core/ops/views.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;

namespace {

// Offset (in elements) of multi-index `linear` of (sizes, strides).
inline int64_t offset_of(int64_t linear, const Shape& sizes, const Strides& strides) {
    int64_t off = 0;
    for (size_t d = sizes.size(); d-- > 0;) {
        off += (linear % sizes[d]) * strides[d];
        linear /= sizes[d];
    }
    return off;
}

// Visits every reduced element of one output element, passing each value to `acc`.
template <typename T, typename Acc>
void walk_reduced(const T* base, const ReducePlan& plan, Acc&& acc) {
    const size_t nr = plan.reduced_sizes.size();
    if (nr == 0) { acc(base[0]); return; }
    const int64_t inner = plan.reduced_sizes[nr - 1], inner_stride = plan.reduced_strides[nr - 1];
    const int64_t outer = plan.reduced_numel / (inner == 0 ? 1 : inner);
    if (inner == 0) return;
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

template <typename T>
using AccType = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;

// Sum of a contiguous run with 8 independent partial sums (vectorisable, and the
// same association every time).
template <typename T>
AccType<T> sum_contiguous(const T* p, int64_t n) {
    using A = AccType<T>;
    A lanes[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += A(p[i + l]);
    A total = 0;
    for (; i < n; ++i) total += A(p[i]);
    for (int l = 0; l < 8; ++l) total += lanes[l];
    return total;
}

constexpr int64_t kFullReductionBlock = 1 << 16;

template <typename T, typename R>
void sum_into(const Tensor& t, const ReducePlan& plan, R* out) {
    using A = AccType<T>;
    const T* base = static_cast<const T*>(t.raw_data());
    if (plan.out_numel == 1 && t.is_contiguous()) {
        const int64_t n = plan.reduced_numel;
        const int64_t blocks = (n + kFullReductionBlock - 1) / kFullReductionBlock;
        std::vector<A> partial(size_t(blocks), A(0));
        for_each_block(n, kFullReductionBlock, [&](int64_t b, int64_t lo, int64_t hi) {
            partial[size_t(b)] = sum_contiguous(base + lo, hi - lo);
        });
        A total = 0;
        for (A p : partial) total += p;
        out[0] = R(total);
        return;
    }
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, plan.reduced_numel));
    const bool inner_contiguous = plan.reduced_sizes.size() == 1 && plan.reduced_strides[0] == 1;
    parallel_for(0, plan.out_numel, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) {
            const T* p = base + offset_of(o, plan.kept_sizes, plan.kept_strides);
            if (inner_contiguous) {
                out[o] = R(sum_contiguous(p, plan.reduced_numel));
            } else {
                A acc = 0;
                walk_reduced(p, plan, [&](T v) { acc += A(v); });
                out[o] = R(acc);
            }
        }
    });
}

}  // namespace

// d sum(x) = g broadcast back over the reduced dims
Tensor sum(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
    check(t.device().is_cpu(), "sum", "not supported on ", t.device().str(), " yet");
    const ReducePlan plan = plan_reduction(t, dims, keepdim, "sum");
    const DType out_dtype = is_floating(t.dtype()) ? t.dtype() : DType::Int64;  // as torch.sum
    const Tensor in = t.dtype() == DType::Bool ? t.to(DType::Int64) : t;
    Tensor out = Tensor::empty(plan.out_shape, out_dtype);
    visit_compute_dtype(in.dtype(), "sum", [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_floating_point_v<T>) sum_into<T>(in, plan, out.data<T>());
        else sum_into<T>(in, plan, out.data<int64_t>());
    });
    if (autograd::should_record({&t}))
        autograd::record("sum", {t}, out, [in_shape = t.shape(), kd = plan.keepdim_shape](const Tensor& g, const Needs&) {
            return Grads{g.reshape(kd).expand(in_shape)};
        });
    return out;
}

// d mean(x) = g / n broadcast back
Tensor mean(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
    check(is_floating(t.dtype()), "mean", "expected a floating-point tensor, got ", describe(t),
          "; convert with .to(DType::Float32)");
    const ReducePlan plan = plan_reduction(t, dims, keepdim, "mean");
    return div(sum(t, dims, keepdim), double(std::max<int64_t>(plan.reduced_numel, 0)));
}

}  // namespace graft

// Placeholders until the rest of the reductions land: each throws.
namespace graft {
Tensor max(const Tensor&) { throw Error("max: not implemented yet"); }
Tensor min(const Tensor&) { throw Error("min: not implemented yet"); }
ValuesIndices max(const Tensor&, int64_t, bool) { throw Error("max: not implemented yet"); }
ValuesIndices min(const Tensor&, int64_t, bool) { throw Error("min: not implemented yet"); }
Tensor argmax(const Tensor&, int64_t, bool) { throw Error("argmax: not implemented yet"); }
Tensor argmin(const Tensor&, int64_t, bool) { throw Error("argmin: not implemented yet"); }
Tensor var(const Tensor&, const std::vector<int64_t>&, int64_t, bool) { throw Error("var: not implemented yet"); }
Tensor std(const Tensor&, const std::vector<int64_t>&, int64_t, bool) { throw Error("std: not implemented yet"); }
Tensor logsumexp(const Tensor&, const std::vector<int64_t>&, bool) { throw Error("logsumexp: not implemented yet"); }
}  // namespace graft
