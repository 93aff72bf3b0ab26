// Gradient checks through modules: central differences on every element of
// each leaf (the inputs and the module's own parameters, all float64 and
// contiguous) against the gradients backward() leaves in them. Unlike
// autograd::gradcheck, the module's parameters are perturbed in place, so
// `f` just runs the module.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "graft.h"

namespace nn_test {

inline void check_module_grads(const std::function<graft::Tensor()>& f, const std::vector<graft::Tensor>& leaves,
                               double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3) {
    using namespace graft;
    for (const Tensor& leaf : leaves) {
        REQUIRE((leaf.dtype() == DType::Float64 && leaf.is_contiguous() && leaf.requires_grad()));
        leaf.set_grad(Tensor());
    }
    const Tensor out = f();
    std::vector<double> w(size_t(out.numel()));  // a fixed, uneven projection of the output
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3 + 0.4 * double(i % 7) - 0.05 * double(i % 3);
    const Tensor proj = from_vector(w, out.shape());
    sum(mul(out, proj)).backward();
    auto projected = [&] {
        NoGradGuard no_grad;
        return sum(mul(f(), proj)).item<double>();
    };
    for (size_t k = 0; k < leaves.size(); ++k) {
        const Tensor& leaf = leaves[k];
        const std::vector<double> ana =
            leaf.grad().defined() ? leaf.grad().to_vector<double>() : std::vector<double>(size_t(leaf.numel()), 0.0);
        double* p = leaf.data<double>();
        for (int64_t i = 0; i < leaf.numel(); ++i) {
            const double saved = p[i];
            p[i] = saved + eps;
            const double plus = projected();
            p[i] = saved - eps;
            const double minus = projected();
            p[i] = saved;
            const double num = (plus - minus) / (2 * eps);
            INFO("leaf " << k << " " << shape_str(leaf.shape()) << " element " << i << ": numerical " << num
                         << " vs analytical " << ana[size_t(i)]);
            REQUIRE(std::fabs(num - ana[size_t(i)]) <= atol + rtol * std::fabs(num));
        }
    }
}

}  // namespace nn_test
