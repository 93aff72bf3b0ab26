// Sum-like reductions: sum, mean, var, std, logsumexp. (max, min and the
// arg- forms are in reduction_minmax.cpp.) Each output element is reduced by
// one thread in a fixed order, and long reductions split into blocks fixed by
// the shape whose partial results are combined in block order, so results do
// not depend on the thread count.
#include "core/ops/reduction.h"

#include <cmath>
#include <limits>
#include <optional>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/iter.h"
#include "core/ops/reduce_plan.h"
#include "core/ops/views.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

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
constexpr int64_t kRowChunk = 1024;  // rows summed in sequence before partial sums are combined
constexpr int64_t kColTile = 512;    // kept columns per task in the row-sum path

// When the reduced dims of a contiguous tensor are one run of dims with kept
// dims after it, the input is [outer, n, inner] (n reduced) and the output
// [outer, inner]: e.g. a bias gradient, [N, C] summed over dim 0.
std::optional<AxisShape> rows_layout(const Tensor& t, const std::vector<int64_t>& dims) {
    if (dims.empty() || !t.is_contiguous()) return std::nullopt;
    const int64_t nd = t.dim();
    std::vector<bool> reduced(size_t(nd), false);
    for (int64_t d : dims) reduced[size_t(wrap_dim(d, nd, "sum"))] = true;
    int64_t first = nd, last = -1;
    for (int64_t d = 0; d < nd; ++d) {
        if (!reduced[size_t(d)]) continue;
        first = std::min(first, d);
        last = d;
    }
    for (int64_t d = first; d <= last; ++d)
        if (!reduced[size_t(d)]) return std::nullopt;
    AxisShape s;
    for (int64_t d = 0; d < nd; ++d) {
        const int64_t size = t.size(d);
        if (d < first) s.outer *= size;
        else if (d <= last) s.n *= size;
        else s.inner *= size;
    }
    if (s.inner == 1 || s.n == 0) return std::nullopt;
    return s;
}

// out[o, k] = sum_j in[o, j, k]: whole rows are added into a vector of column
// sums (vectorised over k) instead of walking each column with a stride. Rows
// go in chunks of kRowChunk summed in order, whose partial sums are then added
// in chunk order: fixed by the shape, never by the thread count.
template <typename T, typename R>
void sum_rows(const T* in, const AxisShape& s, R* out) {
    using A = AccType<T>;
    const int64_t chunks = (s.n + kRowChunk - 1) / kRowChunk, tiles = (s.inner + kColTile - 1) / kColTile;
    std::vector<A> partial(chunks > 1 ? size_t(s.outer * chunks * s.inner) : 0);
    const int64_t work = std::min(s.n, kRowChunk) * std::min(s.inner, kColTile);
    parallel_for(0, s.outer * tiles * chunks, std::max<int64_t>(1, 32768 / work), [&](int64_t lo, int64_t hi) {
        A acc[kColTile];
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t o = t / (tiles * chunks), k0 = t / chunks % tiles * kColTile, c = t % chunks;
            const int64_t w = std::min(kColTile, s.inner - k0), r1 = std::min(s.n, (c + 1) * kRowChunk);
            std::fill(acc, acc + w, A(0));
            for (int64_t r = c * kRowChunk; r < r1; ++r) {
                const T* row = in + (o * s.n + r) * s.inner + k0;
                for (int64_t k = 0; k < w; ++k) acc[k] += A(row[k]);
            }
            if (chunks == 1)
                for (int64_t k = 0; k < w; ++k) out[o * s.inner + k0 + k] = R(acc[k]);
            else
                std::copy(acc, acc + w, partial.begin() + (o * chunks + c) * s.inner + k0);
        }
    });
    if (chunks == 1) return;
    parallel_for(0, s.outer * s.inner, 32768 / chunks + 1, [&](int64_t lo, int64_t hi) {
        for (int64_t e = lo; e < hi; ++e) {
            const int64_t o = e / s.inner, k = e % s.inner;
            A total = 0;
            for (int64_t c = 0; c < chunks; ++c) total += partial[size_t((o * chunks + c) * s.inner + k)];
            out[e] = R(total);
        }
    });
}

template <typename T, typename R>
void sum_into(const Tensor& t, const ReducePlan& plan, const std::optional<AxisShape>& rows, R* out) {
    using A = AccType<T>;
    const T* base = static_cast<const T*>(t.raw_data());
    if (rows) return sum_rows(base, *rows, out);
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

// Calls fn(p, o) for each output element o, p pointing at its first reduced
// element; parallel over outputs, each reduced by one thread.
template <typename T, typename Fn>
void for_each_output(const Tensor& t, const ReducePlan& plan, Fn&& fn) {
    const T* base = static_cast<const T*>(t.raw_data());
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, plan.reduced_numel));
    parallel_for(0, plan.out_numel, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) fn(base + offset_of(o, plan.kept_sizes, plan.kept_strides), o);
    });
}

void check_float(const Tensor& t, const char* op) {
    check(t.device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(t));
    check(t.dtype() == DType::Float32 || t.dtype() == DType::Float64, op,
          "expected a float32 or float64 tensor, got ", describe(t), "; convert with .to(DType::Float32)");
}

}  // namespace

// d sum(x) = g broadcast back over the reduced dims
Tensor sum(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
    check(t.device().is_cpu(), "sum", "not supported on ", t.device().str(), " yet");
    const ReducePlan plan = plan_reduction(t, dims, keepdim, "sum");
    const DType out_dtype = is_floating(t.dtype()) ? t.dtype() : DType::Int64;  // as torch.sum
    const Tensor in = t.dtype() == DType::Bool ? t.to(DType::Int64) : t;
    Tensor out = Tensor::empty(plan.out_shape, out_dtype);
    if (plan.out_numel > 0) {
        const auto rows = rows_layout(in, dims);
        visit_compute_dtype(in.dtype(), "sum", [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_floating_point_v<T>) sum_into<T>(in, plan, rows, out.data<T>());
            else sum_into<T>(in, plan, rows, out.data<int64_t>());
        });
    }
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

namespace {

// Variance by the corrected two-pass algorithm: the mean first, then the
// squared deviations minus the rounding error of the mean, (sum d)^2 / n
// (Chan, Golub & LeVeque 1983). Accumulates in double. sqrt for std.
double finish_var(double ss, double sd, double n, double divisor, bool take_sqrt) {
    const double var = (ss - sd * sd / n) / divisor;
    return take_sqrt ? std::sqrt(var) : var;
}

// The same over leading rows, x [outer, n, inner] -> out [outer, inner]:
// each pass adds whole rows into per-column accumulators, one tile of
// columns per task, instead of walking each column with a stride.
template <typename T>
void var_rows(const T* x, const AxisShape& s, double divisor, bool take_sqrt, T* out) {
    constexpr int64_t kTileW = 256;
    const int64_t tiles = (s.inner + kTileW - 1) / kTileW;
    const double n = double(s.n);
    parallel_for(0, s.outer * tiles, std::max<int64_t>(1, 16384 / (s.n * kTileW)), [&](int64_t lo, int64_t hi) {
        double mu[kTileW], ss[kTileW], sd[kTileW];
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t o = t / tiles, k0 = t % tiles * kTileW, w = std::min(kTileW, s.inner - k0);
            const T* base = x + o * s.n * s.inner + k0;
            std::fill(mu, mu + w, 0.0);
            for (int64_t r = 0; r < s.n; ++r)
                for (int64_t k = 0; k < w; ++k) mu[k] += double(base[r * s.inner + k]);
            for (int64_t k = 0; k < w; ++k) mu[k] /= n;
            std::fill(ss, ss + w, 0.0);
            std::fill(sd, sd + w, 0.0);
            for (int64_t r = 0; r < s.n; ++r)
                for (int64_t k = 0; k < w; ++k) {
                    const double d = double(base[r * s.inner + k]) - mu[k];
                    ss[k] += d * d;
                    sd[k] += d;
                }
            for (int64_t k = 0; k < w; ++k) out[o * s.inner + k0 + k] = T(finish_var(ss[k], sd[k], n, divisor, take_sqrt));
        }
    });
}

Tensor var_forward(const char* op, const Tensor& t, const std::vector<int64_t>& dims, const ReducePlan& plan,
                   int64_t correction, bool take_sqrt) {
    Tensor out = Tensor::empty(plan.out_shape, t.dtype());
    const double n = double(plan.reduced_numel), divisor = std::max(0.0, n - double(correction));
    const auto rows = rows_layout(t, dims);
    visit_float_dtype(t.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* po = out.data<T>();
        if (rows) return var_rows(t.data<T>(), *rows, divisor, take_sqrt, po);
        for_each_output<T>(t, plan, [&](const T* p, int64_t o) {
            double sum = 0, ss = 0, sd = 0;
            walk_reduced(p, plan, [&](T v) { sum += double(v); });
            const double mu = sum / n;
            walk_reduced(p, plan, [&](T v) {
                const double d = double(v) - mu;
                ss += d * d;
                sd += d;
            });
            po[o] = T(finish_var(ss, sd, n, divisor, take_sqrt));
        });
    });
    return out;
}

// d var(x) = g * 2 (x - mean(x)) / (n - correction)
Tensor var_backward(const Tensor& x, const Tensor& g_var, const std::vector<int64_t>& dims, const ReducePlan& plan,
                    int64_t correction) {
    const double divisor = std::max(0.0, double(plan.reduced_numel) - double(correction));
    const Tensor centred = sub(x, mean(x, dims, /*keepdim=*/true));
    return mul(mul(centred, g_var.reshape(plan.keepdim_shape)), 2.0 / divisor);
}

}  // namespace

Tensor var(const Tensor& t, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
    check_float(t, "var");
    const ReducePlan plan = plan_reduction(t, dims, keepdim, "var");
    Tensor out = var_forward("var", t, dims, plan, correction, false);
    if (autograd::should_record({&t}))
        autograd::record("var", {t}, out, [sx = SavedTensor(t), dims, plan, correction](const Tensor& g, const Needs&) {
            return Grads{var_backward(sx.get("var"), g, dims, plan, correction)};
        });
    return out;
}

// d std(x) = d var(x) / (2 std(x))
Tensor std(const Tensor& t, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
    check_float(t, "std");
    const ReducePlan plan = plan_reduction(t, dims, keepdim, "std");
    Tensor out = var_forward("std", t, dims, plan, correction, true);
    if (autograd::should_record({&t}))
        autograd::record("std", {t}, out,
                         [sx = SavedTensor(t), so = SavedTensor(out), dims, plan, correction](const Tensor& g,
                                                                                          const Needs&) {
                             const Tensor g_var = div(g, mul(so.get("std"), 2.0));
                             return Grads{var_backward(sx.get("std"), g_var, dims, plan, correction)};
                         });
    return out;
}

namespace {

// max + log(sum(exp(x - max))), in double. A slice of -inf (or an empty one)
// gives -inf and one holding +inf gives +inf, where the shifted form would be NaN.
Tensor logsumexp_forward(const Tensor& t, const ReducePlan& plan) {
    Tensor out = Tensor::empty(plan.out_shape, t.dtype());
    visit_float_dtype(t.dtype(), "logsumexp", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* po = out.data<T>();
        for_each_output<T>(t, plan, [&](const T* p, int64_t o) {
            double mx = -std::numeric_limits<double>::infinity();
            walk_reduced(p, plan, [&](T v) { mx = double(v) > mx ? double(v) : mx; });
            if (std::isinf(mx)) {
                double nan_check = 0;  // a NaN still wins over an infinite max
                walk_reduced(p, plan, [&](T v) { nan_check += std::isnan(v) ? double(v) : 0.0; });
                po[o] = T(mx + nan_check);
                return;
            }
            double s = 0;
            walk_reduced(p, plan, [&](T v) { s += std::exp(double(v) - mx); });
            po[o] = T(mx + std::log(s));
        });
    });
    return out;
}

// dx = g * exp(x - out), with g and out broadcast back over the reduced dims.
// Where x is -inf the weight is 0, also when the whole slice is -inf.
Tensor logsumexp_backward(const Tensor& x, const Tensor& out, const Tensor& g, const Shape& keepdim_shape) {
    Tensor dx = Tensor::empty(x.shape(), x.dtype());
    if (x.numel() == 0) return dx;
    const Tensor lse = out.reshape(keepdim_shape);
    const Tensor gk = (g.dtype() == x.dtype() ? g : g.to(x.dtype())).reshape(keepdim_shape);
    const Shape& shape = x.shape();
    const size_t es = x.element_size();
    std::array<IterOperand, 4> ops{{{dx.raw_data(), dx.strides(), es},
                                    {x.raw_data(), x.strides(), es},
                                    {lse.raw_data(), broadcast_strides(lse.shape(), lse.strides(), shape), es},
                                    {gk.raw_data(), broadcast_strides(gk.shape(), gk.strides(), shape), es}}};
    visit_float_dtype(x.dtype(), "logsumexp", [&](auto tag) {
        using T = typename decltype(tag)::type;
        for_each_run<4>(shape, ops, [&](int64_t n, char* const* p, const int64_t* s) {
            T* d = reinterpret_cast<T*>(p[0]);
            const T* xv = reinterpret_cast<const T*>(p[1]);
            const T* lv = reinterpret_cast<const T*>(p[2]);
            const T* gv = reinterpret_cast<const T*>(p[3]);
            for (int64_t i = 0; i < n; ++i) {
                const T v = xv[i * s[1]];
                d[i * s[0]] = std::isinf(v) && v < 0 ? T(0) : gv[i * s[3]] * std::exp(v - lv[i * s[2]]);
            }
        });
    });
    return dx;
}

}  // namespace

// d logsumexp(x) = g * softmax(x) over the reduced dims = g * exp(x - logsumexp(x))
Tensor logsumexp(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
    check_float(t, "logsumexp");
    const ReducePlan plan = plan_reduction(t, dims, keepdim, "logsumexp");
    Tensor out = logsumexp_forward(t, plan);
    if (autograd::should_record({&t}))
        autograd::record("logsumexp", {t}, out,
                         [sx = SavedTensor(t), so = SavedTensor(out), kd = plan.keepdim_shape](const Tensor& g,
                                                                                            const Needs&) {
                             return Grads{logsumexp_backward(sx.get("logsumexp"), so.get("logsumexp"), g, kd)};
                         });
    return out;
}

}  // namespace graft
