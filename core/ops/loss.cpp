// cross_entropy and nll_loss: the class-index losses. Both see their input as
// [N, C, S] (S = the product of any trailing dims, 1 for [N, C]) with targets
// [N, S], check every target, and reduce as torch does: mean divides by the
// summed class weights of the targets that are not ignored. cross_entropy is
// fused (kernels/cpu/loss/cross_entropy.h): classes are moved last so each
// (n, s) is one contiguous row, and its backward recomputes softmax from the
// saved logits instead of keeping a log-softmax copy.
// The elementwise losses are in loss_elementwise.cpp.
#include "core/ops/loss.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/reduction.h"
#include "kernels/cpu/loss/cross_entropy.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

constexpr int64_t kWorkPerTask = 16384;

// Rows of C classes per task.
int64_t row_grain(int64_t C) { return std::max<int64_t>(1, kWorkPerTask / std::max<int64_t>(C, 1)); }

// The class layout of an input [N, C, d...] (or [C], one row) and its targets.
struct ClassLayout {
    int64_t N = 1, C = 1, S = 1;
    Shape out_shape;  // per-element loss shape: the target's
    int64_t rows() const { return N * S; }
};

ClassLayout class_layout(const Tensor& input, const Tensor& target, const char* op) {
    check(input.device().is_cpu() && target.device().is_cpu(), op, "only CPU tensors are supported so far, got ",
          describe(input), " and ", describe(target));
    check(input.dtype() == DType::Float32 || input.dtype() == DType::Float64, op,
          "expected float32 or float64 input, got ", describe(input));
    check(target.dtype() == DType::Int64 || target.dtype() == DType::Int32, op,
          "expected int64 class indices as target, got ", describe(target));
    check(input.dim() >= 1, op, "expected input [N, C] or [N, C, d...], got ", describe(input));
    ClassLayout l;
    if (input.dim() == 1) {
        l.C = input.size(0);
        check(target.dim() == 0, op, "a 1-d input ", describe(input), " needs a 0-d target, got ", describe(target));
        return l;
    }
    l.N = input.size(0);
    l.C = input.size(1);
    Shape expected{l.N};
    for (int64_t d = 2; d < input.dim(); ++d) {
        expected.push_back(input.size(d));
        l.S *= input.size(d);
    }
    check(target.shape() == expected, op, "target ", describe(target), " does not match input ", describe(input),
          " (expected target shape ", shape_str(expected), ")");
    l.out_shape = expected;
    return l;
}

// Targets as int64, each in [0, C) or equal to ignore_index.
std::shared_ptr<const std::vector<int64_t>> checked_targets(const Tensor& target, int64_t C, int64_t ignore_index,
                                                            const char* op) {
    auto t = std::make_shared<std::vector<int64_t>>(target.to(DType::Int64).contiguous().to_vector<int64_t>());
    for (size_t i = 0; i < t->size(); ++i) {
        const int64_t v = (*t)[i];
        check((v >= 0 && v < C) || v == ignore_index, op, "target ", v, " at flat index ", i,
              " is out of range for C = ", C, " classes (valid: 0..", C - 1, ", or ignore_index ", ignore_index, ")");
    }
    return t;
}

void check_class_weight(const Tensor& weight, const Tensor& input, int64_t C, const char* op) {
    if (!weight.defined()) return;
    check(weight.shape() == Shape{C} && weight.dtype() == input.dtype() && weight.device().is_cpu(), op,
          "class weight must be a CPU tensor of shape [", C, "] and the input's dtype, got ", describe(weight),
          " for input ", describe(input));
}

// [N, C, S] -> rows [N*S, C], classes last and contiguous.
Tensor classes_last(const Tensor& x, const ClassLayout& l) {
    if (l.S == 1) return x.contiguous().reshape({l.rows(), l.C});
    return x.reshape({l.N, l.C, l.S}).permute({0, 2, 1}).contiguous().reshape({l.rows(), l.C});
}

// rows [N*S, C] -> the input's layout.
Tensor classes_back(const Tensor& rows, const ClassLayout& l, const Shape& shape) {
    if (l.S == 1) return rows.reshape(shape);
    return rows.reshape({l.N, l.S, l.C}).permute({0, 2, 1}).contiguous().reshape(shape);
}

// `t` is contiguous or undefined.
template <typename T>
const T* data_or_null(const Tensor& t) {
    return t.defined() ? t.data<T>() : nullptr;
}

// Per-row losses [rows] and the weight each row's target carries (0 when ignored).
struct RowLosses {
    Tensor loss;
    std::vector<double> target_weight;
    // The mean reduction's divisor: Σ w_t over targets not ignored (torch's weighted mean).
    double denominator() const {
        double d = 0;
        for (double w : target_weight) d += w;
        return d;
    }
};

// none: the per-element losses in the target's shape; sum and mean: a 0-d
// tensor, summed in row order in double. An all-ignored mean is 0/0 = NaN, as torch.
Tensor reduce_row_losses(const RowLosses& l, Reduction reduction, const Shape& out_shape) {
    if (reduction == Reduction::None) return l.loss.reshape(out_shape);
    double total = 0;
    for (double v : l.loss.to_vector<double>()) total += v;
    if (reduction == Reduction::Mean) total /= l.denominator();
    return full({}, total, l.loss.dtype());
}

// The factor each row's gradient carries: g[r] (none), g (sum) or g / denominator
// (mean); stride 0 when one value serves every row.
struct RowCoeffs {
    Tensor values;  // contiguous, of the requested dtype
    int64_t stride = 0;
};

RowCoeffs row_coeffs(const Tensor& g, Reduction reduction, double denominator, DType dtype) {
    if (reduction == Reduction::None) return {g.to(dtype).contiguous().reshape({-1}), 1};
    const double v = g.item_double() / (reduction == Reduction::Mean ? denominator : 1.0);
    return {full({1}, v, dtype), 0};
}

// d loss / d rows for the output gradient g, rows [R, C] as saved by the forward.
Tensor ce_backward(const Tensor& rows, const Tensor& g, const ClassLayout& l, const std::vector<int64_t>& targets,
                   const Tensor& weight, const CrossEntropyOptions& o, double denominator) {
    const RowCoeffs coeff = row_coeffs(g, o.reduction, denominator, rows.dtype());
    Tensor dx = Tensor::empty(rows.shape(), rows.dtype());
    visit_float_dtype(rows.dtype(), "cross_entropy", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const kernels::cpu::CrossEntropyRows<T> p{l.C, targets.data(), data_or_null<T>(weight), o.ignore_index,
                                                  o.label_smoothing};
        const T* px = rows.data<T>();
        const T* pc = coeff.values.data<T>();
        T* pd = dx.data<T>();
        parallel_for(0, l.rows(), row_grain(l.C), [&](int64_t r0, int64_t r1) {
            kernels::cpu::cross_entropy_backward(kernels::active_isa(), p, r1 - r0, px + r0 * l.C,
                                                 pc + r0 * coeff.stride, coeff.stride, pd + r0 * l.C);
        });
    });
    return dx;
}

}  // namespace

// d loss / d x_c = coeff (softmax_c (B + D W) - B [c == t] - D w_c)   (cross_entropy.h)
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
    const char* op = "cross_entropy";
    const ClassLayout l = class_layout(logits, target, op);
    check(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0, op, "label_smoothing must be in [0, 1], got ",
          o.label_smoothing);
    check_class_weight(o.weight, logits, l.C, op);
    const auto targets = checked_targets(target, l.C, o.ignore_index, op);
    const Tensor rows = classes_last(logits, l);
    const Tensor weight = o.weight.defined() ? o.weight.detach().contiguous() : Tensor();
    RowLosses losses;
    visit_float_dtype(logits.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const kernels::cpu::CrossEntropyRows<T> p{l.C, targets->data(), data_or_null<T>(weight), o.ignore_index,
                                                  o.label_smoothing};
        Tensor loss = Tensor::empty({l.rows()}, logits.dtype());
        losses.target_weight.resize(size_t(l.rows()));
        const T* px = rows.data<T>();
        T* pl = loss.data<T>();
        parallel_for(0, l.rows(), row_grain(l.C), [&](int64_t r0, int64_t r1) {
            kernels::cpu::cross_entropy_forward(kernels::active_isa(), p, r1 - r0, px + r0 * l.C, pl + r0,
                                                losses.target_weight.data() + r0);
        });
        losses.loss = loss;
    });
    Tensor out = reduce_row_losses(losses, o.reduction, l.out_shape);
    if (autograd::should_record({&logits})) {
        autograd::record(op, {logits}, out,
                         [l, o, shape = logits.shape(), sr = SavedTensor(rows), weight, targets,
                          denom = losses.denominator()](const Tensor& g, const Needs&) {
                             const Tensor dx = ce_backward(sr.get("cross_entropy"), g, l, *targets, weight, o, denom);
                             return Grads{classes_back(dx, l, shape)};
                         });
    }
    return out;
}

// loss = -w_t lp[t]  =>  d loss / d lp = -coeff w_t at the target class, 0 elsewhere.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& o) {
    const char* op = "nll_loss";
    const ClassLayout l = class_layout(log_probs, target, op);
    check(o.label_smoothing == 0.0, op, "label_smoothing applies to cross_entropy only, got ", o.label_smoothing);
    check_class_weight(o.weight, log_probs, l.C, op);
    const auto targets = checked_targets(target, l.C, o.ignore_index, op);
    const Tensor x = log_probs.contiguous();
    const std::vector<double> w = o.weight.defined() ? o.weight.to_vector<double>() : std::vector<double>();
    RowLosses losses;
    visit_float_dtype(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        std::vector<T> loss(size_t(l.rows()));
        losses.target_weight.resize(loss.size());
        const T* px = x.data<T>();
        for (int64_t n = 0; n < l.N; ++n)
            for (int64_t s = 0; s < l.S; ++s) {
                const int64_t r = n * l.S + s, t = (*targets)[size_t(r)];
                const double wt = t == o.ignore_index ? 0.0 : w.empty() ? 1.0 : w[size_t(t)];
                loss[size_t(r)] = wt == 0.0 ? T(0) : T(-wt * double(px[(n * l.C + t) * l.S + s]));
                losses.target_weight[size_t(r)] = wt;
            }
        losses.loss = from_vector(loss, {l.rows()});
    });
    Tensor out = reduce_row_losses(losses, o.reduction, l.out_shape);
    if (autograd::should_record({&log_probs})) {
        autograd::record(op, {log_probs}, out,
                         [l, o, shape = log_probs.shape(), dtype = x.dtype(), targets, tw = losses.target_weight,
                          denom = losses.denominator()](const Tensor& g, const Needs&) {
                             const RowCoeffs coeff = row_coeffs(g, o.reduction, denom, DType::Float64);
                             const double* pc = coeff.values.data<double>();
                             Tensor dx = zeros({l.N, l.C, l.S}, DType::Float64);
                             double* pd = dx.data<double>();
                             for (int64_t r = 0; r < l.rows(); ++r) {
                                 if (tw[size_t(r)] == 0.0) continue;
                                 const int64_t n = r / l.S, s = r % l.S, t = (*targets)[size_t(r)];
                                 pd[(n * l.C + t) * l.S + s] = -tw[size_t(r)] * pc[r * coeff.stride];
                             }
                             return Grads{dx.to(dtype).reshape(shape)};
                         });
    }
    return out;
}

}  // namespace graft
