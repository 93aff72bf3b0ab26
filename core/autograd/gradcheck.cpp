#include "core/autograd/gradcheck.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/reduction.h"

namespace graft::autograd {

namespace {

// A fixed, non-uniform weighting of the output's elements: 0.3, 0.7, 1.1, ...
Tensor projection_for(const Tensor& out) {
    std::vector<double> w(size_t(out.numel()));
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3 + 0.4 * double(i % 7) - 0.05 * double(i % 3);
    return from_vector(w, out.shape()).to(out.dtype());
}

double projected(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                 const Tensor& proj) {
    NoGradGuard no_grad;
    Tensor out = fn(inputs);
    if (out.numel() == 0) return 0.0;
    return sum(mul(out.to(DType::Float64), proj.to(DType::Float64))).item<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
    GradcheckResult result;
    // Analytical: backward of <proj, out>.
    std::vector<Tensor> leaves;
    for (const Tensor& in : inputs) {
        if (!in.defined() || !in.requires_grad()) {
            leaves.push_back(in);
            continue;
        }
        Tensor leaf = in.detach().clone();  // a private leaf, contiguous or not as given
        if (!in.is_contiguous()) leaf = in.detach();
        leaf.requires_grad_(true);
        leaves.push_back(leaf);
    }
    Tensor out = fn(leaves);
    const Tensor proj = projection_for(out);
    if (out.requires_grad()) sum(mul(out, proj)).backward();

    for (size_t k = 0; k < leaves.size(); ++k) {
        const Tensor& leaf = leaves[k];
        if (!leaf.defined() || !leaf.requires_grad()) continue;
        const Tensor analytical = leaf.grad().defined() ? leaf.grad().to(DType::Float64).contiguous()
                                                        : zeros(leaf.shape(), DType::Float64);
        const std::vector<double> ana = analytical.to_vector<double>();
        // Numerical: perturb each element of the leaf in place (its storage may be strided).
        Tensor probe = leaf.detach();
        const int64_t n = probe.numel();
        const Tensor flat_index_view = probe;  // indexed through contiguous_strides below
        const Strides cs = contiguous_strides(probe.shape());
        for (int64_t i = 0; i < n; ++i) {
            int64_t rem = i, off = probe.offset();
            for (size_t d = 0; d < cs.size(); ++d) {
                off += (rem / cs[d]) * probe.strides()[d];
                rem %= cs[d];
            }
            auto nudge = [&](double delta) {
                visit_float_dtype(probe.dtype(), "gradcheck", [&](auto tag) {
                    using T = typename decltype(tag)::type;
                    static_cast<T*>(probe.storage()->data())[off] += T(delta);
                });
            };
            std::vector<Tensor> args = leaves;
            for (Tensor& a : args) if (a.defined()) a = a.detach();
            nudge(options.eps);
            const double plus = projected(fn, args, proj);
            nudge(-2 * options.eps);
            const double minus = projected(fn, args, proj);
            nudge(options.eps);
            const double numerical = (plus - minus) / (2 * options.eps);
            const double analytic = ana[size_t(i)];
            if (!(std::fabs(numerical - analytic) <= options.atol + options.rtol * std::fabs(numerical))) {
                result.ok = false;
                result.message = cat_str("input ", k, " (", describe(leaf), ") element ", i, ": numerical ",
                                         numerical, " vs analytical ", analytic);
                return result;
            }
        }
    }
    return result;
}

}  // namespace graft::autograd
