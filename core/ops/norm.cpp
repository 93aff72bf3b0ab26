// batch_norm, layer_norm and group_norm: argument checks, the [A, C, S] or
// [M, D] view of the input, the split among threads, the running-statistics
// update, and each backward beside its forward. The arithmetic runs in the
// kernels of kernels/cpu/norm/ (layouts and formulas in norm.h); the work is
// split by whole channels, rows or columns, so no sum depends on the thread
// count. Statistics are kept in double for the backward.
#include "core/ops/norm.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "kernels/cpu/norm/norm.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

constexpr int64_t kWorkPerTask = 16384;  // elements below which a task is not worth a thread

// Per-channel (or per-row) statistics saved for the backward.
struct Stats {
    std::vector<double> mean, rstd;
};
using StatsPtr = std::shared_ptr<const Stats>;

// Runs fn(lo, hi) over [0, count) items of `per_item` elements each.
template <typename Fn>
void for_items(int64_t count, int64_t per_item, Fn&& fn) {
    parallel_for(0, count, std::max<int64_t>(1, kWorkPerTask / std::max<int64_t>(per_item, 1)), fn);
}

void check_input(const Tensor& x, int64_t min_dim, const char* op) {
    check(x.device().is_cpu(), op, "only CPU tensors are supported so far, got ", describe(x));
    check(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, op,
          "expected a float32 or float64 input, got ", describe(x));
    check(x.dim() >= min_dim, op, "expected an input with at least ", min_dim, " dims, got ", describe(x));
}

// An optional parameter (weight, bias, running statistic) must have `shape` and
// live on the CPU; weight and bias must also share the input's dtype.
void check_param(const Tensor& p, const char* what, const Shape& shape, const Tensor& x, bool same_dtype,
                 const char* op) {
    if (!p.defined()) return;
    check(p.shape() == shape, op, what, " must have shape ", shape_str(shape), " for input ", describe(x), ", got ",
          describe(p));
    check(p.device().is_cpu(), op, what, " must be a CPU tensor, got ", describe(p));
    check(!same_dtype || p.dtype() == x.dtype(), op, what, " must have the input's dtype, got ", describe(p),
          " for input ", describe(x));
}

// The gradient of an output, as a contiguous tensor of dtype `dtype`.
Tensor dense_grad(const Tensor& g, DType dtype) { return (g.dtype() == dtype ? g : g.to(dtype)).contiguous(); }

template <typename T>
std::vector<T> values_or(const Tensor& t, int64_t n, T fallback) {
    if (!t.defined()) return std::vector<T>(size_t(n), fallback);
    return t.contiguous().to_vector<T>();
}

// n default-initialised values (written before they are read).
template <typename T>
std::vector<T> buffer(int64_t n) {
    return std::vector<T>(static_cast<size_t>(n));
}

// ---- batch norm -------------------------------------------------------------------

struct BnShape {
    int64_t N, C, S;
    int64_t count() const { return N * S; }  // values per channel
};

BnShape bn_shape(const Tensor& x) {
    const int64_t N = x.size(0), C = x.size(1);
    return {N, C, N * C == 0 ? 0 : x.numel() / (N * C)};
}

// running = (1 - momentum) running + momentum batch, with the unbiased variance.
void update_running(const Tensor& running_mean, const Tensor& running_var, const std::vector<double>& mean,
                    const std::vector<double>& var, double count, double momentum) {
    NoGradGuard no_grad;
    const double unbias = count / (count - 1.0);
    if (running_mean.defined()) {
        std::vector<double> rm = running_mean.to_vector<double>();
        for (size_t c = 0; c < rm.size(); ++c) rm[c] = (1.0 - momentum) * rm[c] + momentum * mean[c];
        running_mean.copy_(from_vector(rm, running_mean.shape()));  // copy_ bumps the version
    }
    if (running_var.defined()) {
        std::vector<double> rv = running_var.to_vector<double>();
        for (size_t c = 0; c < rv.size(); ++c) rv[c] = (1.0 - momentum) * rv[c] + momentum * var[c] * unbias;
        running_var.copy_(from_vector(rv, running_var.shape()));
    }
}

template <typename T>
void bn_affine(const BnShape& s, const Tensor& x, const Stats& st, const Tensor& weight, const Tensor& bias,
               const Tensor& y) {
    const std::vector<T> w = values_or<T>(weight, s.C, T(1)), b = values_or<T>(bias, s.C, T(0));
    std::vector<T> center(size_t(s.C)), scale(size_t(s.C));
    for (size_t c = 0; c < center.size(); ++c) {
        center[c] = T(st.mean[c]);
        scale[c] = T(double(w[c]) * st.rstd[c]);
    }
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for_items(s.C, s.count(), [&](int64_t c0, int64_t c1) {
        k.affine(s.N, c1 - c0, s.S, s.C * s.S, px + c0 * s.S, center.data() + c0, scale.data() + c0, b.data() + c0,
                 py + c0 * s.S);
    });
}

// The batch statistics of x, or the running ones, as mean and 1/sqrt(var + eps).
template <typename T>
Stats bn_stats(const BnShape& s, const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
               bool training, double momentum, double eps) {
    Stats st;
    std::vector<double> var(size_t(s.C));
    if (training) {
        st.mean.resize(size_t(s.C));
        const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
        const T* px = x.data<T>();
        for_items(s.C, s.count(), [&](int64_t c0, int64_t c1) {
            k.moments(s.N, c1 - c0, s.S, s.C * s.S, px + c0 * s.S, st.mean.data() + c0, var.data() + c0);
        });
        update_running(running_mean, running_var, st.mean, var, double(s.count()), momentum);
    } else {
        st.mean = running_mean.to_vector<double>();
        var = running_var.to_vector<double>();
    }
    st.rstd.resize(size_t(s.C));
    for (size_t c = 0; c < var.size(); ++c) st.rstd[c] = 1.0 / std::sqrt(var[c] + eps);
    return st;
}

// Training:  dx = w r (g - Σg/n - (x - μ) r² Σg(x - μ)/n)     (μ, r depend on x)
// Eval:      dx = w r g                                        (running statistics are constants)
//            dw = Σ g (x - μ) r,   db = Σ g                    (both modes)
template <typename T>
Grads bn_backward(const BnShape& s, const Tensor& g_in, const Tensor& x, const Tensor& weight, const Stats& st,
                  bool training, const Needs& needs) {
    const Tensor g = dense_grad(g_in, x.dtype());
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    std::vector<double> sg(size_t(s.C)), sgx(size_t(s.C));
    if (training || needs[1] || needs[2])
        for_items(s.C, s.count(), [&](int64_t c0, int64_t c1) {
            k.grad_sums(s.N, c1 - c0, s.S, s.C * s.S, pg + c0 * s.S, px + c0 * s.S, st.mean.data() + c0,
                        sg.data() + c0, sgx.data() + c0);
        });
    Grads out(3);
    if (needs[1]) {
        std::vector<T> dw(size_t(s.C));
        for (size_t c = 0; c < dw.size(); ++c) dw[c] = T(sgx[c] * st.rstd[c]);
        out[1] = from_vector(dw, {s.C});
    }
    if (needs[2]) {
        std::vector<T> db(sg.begin(), sg.end());
        out[2] = from_vector(db, {s.C});
    }
    if (needs[0]) {
        const std::vector<T> w = values_or<T>(weight, s.C, T(1));
        std::vector<T> center(size_t(s.C)), a(size_t(s.C)), b(size_t(s.C)), kk(size_t(s.C));
        const double n = double(s.count());
        for (size_t c = 0; c < a.size(); ++c) {
            const double wr = double(w[c]) * st.rstd[c];
            center[c] = T(st.mean[c]);
            a[c] = T(wr);
            b[c] = training ? T(-wr * st.rstd[c] * st.rstd[c] * sgx[c] / n) : T(0);
            kk[c] = training ? T(-wr * sg[c] / n) : T(0);
        }
        Tensor dx = Tensor::empty(x.shape(), x.dtype());
        T* pdx = dx.data<T>();
        for_items(s.C, s.count(), [&](int64_t c0, int64_t c1) {
            k.grad_apply(s.N, c1 - c0, s.S, s.C * s.S, pg + c0 * s.S, px + c0 * s.S, center.data() + c0,
                         a.data() + c0, b.data() + c0, kk.data() + c0, pdx + c0 * s.S);
        });
        out[0] = dx;
    }
    return out;
}

// ---- group norm -------------------------------------------------------------------

// x [N, C, S] in G groups: statistics per (n, g) row of D = C/G*S values.
struct GnShape {
    int64_t N, C, S, G;
    int64_t Cg() const { return C / G; }
    int64_t D() const { return C / G * S; }
};

template <typename T>
Stats gn_forward(const GnShape& s, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                 const Tensor& y) {
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    const int64_t rows = s.N * s.G, total = x.numel();
    Stats st{buffer<double>(rows), buffer<double>(rows)};
    std::vector<double> var = buffer<double>(rows);
    const T* px = x.data<T>();
    for_items(rows, s.D(), [&](int64_t r0, int64_t r1) {
        k.moments(1, r1 - r0, s.D(), total, px + r0 * s.D(), st.mean.data() + r0, var.data() + r0);
    });
    for (size_t r = 0; r < var.size(); ++r) st.rstd[r] = 1.0 / std::sqrt(var[r] + eps);
    // Scale and shift per (n, c) row of S values: w[c] r[n, g], b[c].
    const std::vector<T> w = values_or<T>(weight, s.C, T(1)), b = values_or<T>(bias, s.C, T(0));
    const int64_t nc = s.N * s.C;
    std::vector<T> center = buffer<T>(nc), scale = buffer<T>(nc), shift = buffer<T>(nc);
    for (int64_t i = 0; i < nc; ++i) {
        const int64_t c = i % s.C, r = i / s.C * s.G + c / s.Cg();
        center[size_t(i)] = T(st.mean[size_t(r)]);
        scale[size_t(i)] = T(double(w[size_t(c)]) * st.rstd[size_t(r)]);
        shift[size_t(i)] = b[size_t(c)];
    }
    T* py = y.data<T>();
    for_items(nc, s.S, [&](int64_t i0, int64_t i1) {
        k.affine(1, i1 - i0, s.S, total, px + i0 * s.S, center.data() + i0, scale.data() + i0, shift.data() + i0,
                 py + i0 * s.S);
    });
    return st;
}

// (n, c) -> its (n, g) statistics row.
size_t gn_row(const GnShape& s, int64_t i) { return size_t(i / s.C * s.G + i % s.C / s.Cg()); }

// dw[c] = Σ_n r Σ_s g (x - μ),  db[c] = Σ_n Σ_s g, from the per-(n, c) sums.
template <typename T>
void gn_param_grads(const GnShape& s, const std::vector<double>& sg, const std::vector<double>& sgx,
                    const Stats& st, const Needs& needs, Grads& out) {
    std::vector<T> dw(size_t(s.C), T(0)), db(size_t(s.C), T(0));
    for (int64_t c = 0; c < s.C; ++c) {
        double aw = 0, ab = 0;
        for (int64_t n = 0; n < s.N; ++n) {
            aw += sgx[size_t(n * s.C + c)] * st.rstd[gn_row(s, n * s.C + c)];
            ab += sg[size_t(n * s.C + c)];
        }
        dw[size_t(c)] = T(aw);
        db[size_t(c)] = T(ab);
    }
    if (needs[1]) out[1] = from_vector(dw, {s.C});
    if (needs[2]) out[2] = from_vector(db, {s.C});
}

// Per (n, g) with r, μ, D as above and A1 = Σ_c w[c] Σ_s g, A2 = Σ_c w[c] Σ_s g (x - μ):
//   dx = r w[c] g - r A1 / D - (x - μ) r³ A2 / D
template <typename T>
Tensor gn_input_grad(const GnShape& s, const Tensor& g, const Tensor& x, const Tensor& weight, const Stats& st,
                     const std::vector<double>& sg, const std::vector<double>& sgx) {
    const int64_t nc = s.N * s.C;
    const std::vector<T> w = values_or<T>(weight, s.C, T(1));
    std::vector<double> a1(size_t(s.N * s.G), 0.0), a2(size_t(s.N * s.G), 0.0);
    for (int64_t i = 0; i < nc; ++i) {
        a1[gn_row(s, i)] += double(w[size_t(i % s.C)]) * sg[size_t(i)];
        a2[gn_row(s, i)] += double(w[size_t(i % s.C)]) * sgx[size_t(i)];
    }
    std::vector<T> center = buffer<T>(nc), a = buffer<T>(nc), b = buffer<T>(nc), kk = buffer<T>(nc);
    const double D = double(s.D());
    for (int64_t i = 0; i < nc; ++i) {
        const size_t r = gn_row(s, i);
        const double rs = st.rstd[r];
        center[size_t(i)] = T(st.mean[r]);
        a[size_t(i)] = T(rs * double(w[size_t(i % s.C)]));
        b[size_t(i)] = T(-rs * rs * rs * a2[r] / D);
        kk[size_t(i)] = T(-rs * a1[r] / D);
    }
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    Tensor dx = Tensor::empty(x.shape(), x.dtype());
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    T* pdx = dx.data<T>();
    for_items(nc, s.S, [&](int64_t i0, int64_t i1) {
        k.grad_apply(1, i1 - i0, s.S, x.numel(), pg + i0 * s.S, px + i0 * s.S, center.data() + i0, a.data() + i0,
                     b.data() + i0, kk.data() + i0, pdx + i0 * s.S);
    });
    return dx;
}

template <typename T>
Grads gn_backward(const GnShape& s, const Tensor& g_in, const Tensor& x, const Tensor& weight, const Stats& st,
                  const Needs& needs) {
    const Tensor g = dense_grad(g_in, x.dtype());
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    const int64_t nc = s.N * s.C;
    // Σ_s g and Σ_s g (x - μ) per (n, c): both gradients are built from these.
    std::vector<double> mean = buffer<double>(nc), sg = buffer<double>(nc), sgx = buffer<double>(nc);
    for (int64_t i = 0; i < nc; ++i) mean[size_t(i)] = st.mean[gn_row(s, i)];
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    for_items(nc, s.S, [&](int64_t i0, int64_t i1) {
        k.grad_sums(1, i1 - i0, s.S, x.numel(), pg + i0 * s.S, px + i0 * s.S, mean.data() + i0, sg.data() + i0,
                    sgx.data() + i0);
    });
    Grads out(3);
    if (needs[1] || needs[2]) gn_param_grads<T>(s, sg, sgx, st, needs, out);
    if (needs[0]) out[0] = gn_input_grad<T>(s, g, x, weight, st, sg, sgx);
    return out;
}

// ---- layer norm -------------------------------------------------------------------

template <typename T>
Stats ln_forward(int64_t M, int64_t D, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                 const Tensor& y) {
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    Stats st{buffer<double>(M), buffer<double>(M)};
    const Tensor w = weight.defined() ? weight.contiguous() : Tensor();
    const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
    const T* pw = w.defined() ? w.data<T>() : nullptr;
    const T* pb = b.defined() ? b.data<T>() : nullptr;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for_items(M, D, [&](int64_t m0, int64_t m1) {
        k.layer_forward(m1 - m0, D, px + m0 * D, pw, pb, eps, py + m0 * D, st.mean.data() + m0, st.rstd.data() + m0);
    });
    return st;
}

// dx = r (wg - Σwg / D - x̂ Σ(wg x̂) / D),  wg = w g, x̂ = (x - μ) r;  dw = Σ_rows g x̂,  db = Σ_rows g
template <typename T>
Grads ln_backward(int64_t M, int64_t D, const Shape& normalized_shape, const Tensor& g_in, const Tensor& x,
                  const Tensor& weight, const Stats& st, const Needs& needs) {
    const Tensor g = dense_grad(g_in, x.dtype());
    const auto k = kernels::cpu::norm_kernels<T>(kernels::active_isa());
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    Grads out(3);
    if (needs[0]) {
        const Tensor w = weight.defined() ? weight.contiguous() : Tensor();
        const T* pw = w.defined() ? w.data<T>() : nullptr;
        Tensor dx = Tensor::empty(x.shape(), x.dtype());
        T* pdx = dx.data<T>();
        for_items(M, D, [&](int64_t m0, int64_t m1) {
            k.layer_backward(m1 - m0, D, pg + m0 * D, px + m0 * D, pw, st.mean.data() + m0, st.rstd.data() + m0,
                             pdx + m0 * D);
        });
        out[0] = dx;
    }
    if (needs[1] || needs[2]) {
        Tensor dw = needs[1] ? Tensor::empty(normalized_shape, x.dtype()) : Tensor();
        Tensor db = needs[2] ? Tensor::empty(normalized_shape, x.dtype()) : Tensor();
        T* pdw = dw.defined() ? dw.data<T>() : nullptr;
        T* pdb = db.defined() ? db.data<T>() : nullptr;
        // Columns split among tasks; each column sums its rows in order.
        for_items(D, M, [&](int64_t d0, int64_t d1) {
            k.layer_param_grads(M, d1 - d0, D, pg + d0, px + d0, st.mean.data(), st.rstd.data(),
                                pdw ? pdw + d0 : nullptr, pdb ? pdb + d0 : nullptr);
        });
        out[1] = dw;
        out[2] = db;
    }
    return out;
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
    const char* op = "batch_norm";
    check_input(input, 2, op);
    const BnShape s = bn_shape(input);
    check_param(weight, "weight", {s.C}, input, true, op);
    check_param(bias, "bias", {s.C}, input, true, op);
    check_param(running_mean, "running_mean", {s.C}, input, false, op);
    check_param(running_var, "running_var", {s.C}, input, false, op);
    check(training || (running_mean.defined() && running_var.defined()), op,
          "running_mean and running_var are needed outside training, for input ", describe(input));
    check(!training || s.count() > 1, op, "expected more than 1 value per channel when training, got input ",
          describe(input));
    const Tensor x = input.contiguous();
    Tensor y = Tensor::empty(input.shape(), input.dtype());
    if (input.numel() == 0) return y;
    auto stats = std::make_shared<Stats>();
    visit_float_dtype(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        *stats = bn_stats<T>(s, x, running_mean, running_var, training, momentum, eps);
        bn_affine<T>(s, x, *stats, weight, bias, y);
    });
    if (autograd::should_record({&input, &weight, &bias})) {
        autograd::record(op, {input, weight, bias}, y,
                         [s, sx = SavedTensor(x), sw = SavedTensor(weight), st = StatsPtr(stats), training](
                             const Tensor& g, const Needs& needs) {
                             const Tensor xv = sx.get("batch_norm");
                             const Tensor wv = sw.get("batch_norm");
                             return visit_float_dtype(xv.dtype(), "batch_norm", [&](auto tag) {
                                 using T = typename decltype(tag)::type;
                                 return bn_backward<T>(s, g, xv, wv, *st, training, needs);
                             });
                         });
    }
    return y;
}

Tensor group_norm(const Tensor& input, int64_t groups, const Tensor& weight, const Tensor& bias, double eps) {
    const char* op = "group_norm";
    check_input(input, 2, op);
    const int64_t N = input.size(0), C = input.size(1);
    check(groups > 0 && C % groups == 0, op, "the channel count ", C, " of input ", describe(input),
          " must be divisible by the number of groups ", groups);
    const GnShape s{N, C, N * C == 0 ? 0 : input.numel() / (N * C), groups};
    check_param(weight, "weight", {C}, input, true, op);
    check_param(bias, "bias", {C}, input, true, op);
    const Tensor x = input.contiguous();
    Tensor y = Tensor::empty(input.shape(), input.dtype());
    if (input.numel() == 0) return y;
    auto stats = std::make_shared<Stats>();
    visit_float_dtype(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        *stats = gn_forward<T>(s, x, weight, bias, eps, y);
    });
    if (autograd::should_record({&input, &weight, &bias})) {
        autograd::record(op, {input, weight, bias}, y,
                         [s, sx = SavedTensor(x), sw = SavedTensor(weight), st = StatsPtr(stats)](
                             const Tensor& g, const Needs& needs) {
                             const Tensor xv = sx.get("group_norm"), wv = sw.get("group_norm");
                             return visit_float_dtype(xv.dtype(), "group_norm", [&](auto tag) {
                                 return gn_backward<typename decltype(tag)::type>(s, g, xv, wv, *st, needs);
                             });
                         });
    }
    return y;
}

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
    const char* op = "layer_norm";
    const int64_t k = int64_t(normalized_shape.size());
    check_input(input, std::max<int64_t>(k, 1), op);
    check(k > 0 && Shape(input.shape().end() - k, input.shape().end()) == normalized_shape, op,
          "normalized_shape ", shape_str(normalized_shape), " must be the trailing dims of input ", describe(input));
    check_param(weight, "weight", normalized_shape, input, true, op);
    check_param(bias, "bias", normalized_shape, input, true, op);
    const int64_t D = shape_numel(normalized_shape), M = D == 0 ? 0 : input.numel() / D;
    const Tensor x = input.contiguous();
    Tensor y = Tensor::empty(input.shape(), input.dtype());
    if (input.numel() == 0) return y;
    auto stats = std::make_shared<Stats>();
    visit_float_dtype(x.dtype(), op, [&](auto tag) {
        *stats = ln_forward<typename decltype(tag)::type>(M, D, x, weight, bias, eps, y);
    });
    if (autograd::should_record({&input, &weight, &bias})) {
        autograd::record(op, {input, weight, bias}, y,
                         [M, D, normalized_shape, sx = SavedTensor(x), sw = SavedTensor(weight),
                          st = StatsPtr(stats)](
                             const Tensor& g, const Needs& needs) {
                             const Tensor xv = sx.get("layer_norm"), wv = sw.get("layer_norm");
                             return visit_float_dtype(xv.dtype(), "layer_norm", [&](auto tag) {
                                 using T = typename decltype(tag)::type;
                                 return ln_backward<T>(M, D, normalized_shape, g, xv, wv, *st, needs);
                             });
                         });
    }
    return y;
}

}  // namespace graft
