// The glue between the unary/activation ops and their kernels: dtype rules,
// kernel parameters in the element type, the iterator calls, and in-place.
#include "core/ops/unary_common.h"

#include <array>
#include <limits>

#include "core/autograd/record.h"
#include "core/ops/iter.h"
#include "kernels/cpu/isa.h"

namespace graft::detail {

using kernels::cpu::UnaryGradOp;
using kernels::cpu::UnaryOp;
using kernels::cpu::UnaryParams;

namespace {

// `v` as a T, saturated to T's range (an int clamp bound may lie outside it).
template <typename T>
T saturate(double v) {
    if constexpr (std::is_floating_point_v<T>) {
        return T(v);
    } else {
        // double(max) rounds up to 2^63 for int64, so every v below it converts without overflow; NaN gives lowest.
        if (!(v > double(std::numeric_limits<T>::lowest()))) return std::numeric_limits<T>::lowest();
        if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
        return T(v);
    }
}

template <typename T>
UnaryParams<T> params_for(const UnaryArgs& a) {
    UnaryParams<T> p;
    if constexpr (std::is_floating_point_v<T>) {
        p.lo = a.lo ? T(*a.lo) : -std::numeric_limits<T>::infinity();
        p.hi = a.hi ? T(*a.hi) : std::numeric_limits<T>::infinity();
    } else {
        p.lo = a.lo ? saturate<T>(*a.lo) : std::numeric_limits<T>::lowest();
        p.hi = a.hi ? saturate<T>(*a.hi) : std::numeric_limits<T>::max();
    }
    p.slope = T(a.slope);
    p.beta = T(a.beta);
    p.threshold = T(a.threshold);
    return p;
}

// out = op(x) on the CPU; out and x already of the compute dtype T.
template <typename T>
void run_unary(UnaryOp op, const Tensor& out, const Tensor& x, const UnaryParams<T>& p) {
    const std::array<IterOperand, 2> ops{{{out.raw_data(), out.strides(), sizeof(T)},
                                          {x.raw_data(), x.strides(), sizeof(T)}}};
    const auto loop = kernels::cpu::unary_loop<T>(kernels::active_isa());
    for_each_run<2>(out.shape(), ops, [&](int64_t n, char* const* ptr, const int64_t* s) {
        loop(op, n, reinterpret_cast<const T*>(ptr[1]), s[1], reinterpret_cast<T*>(ptr[0]), s[0], p);
    });
}

}  // namespace

DType unary_result_dtype(const char* name, const Tensor& t, IntInputs ints) {
    check(t.device().is_cpu(), name, "not supported on CUDA yet (", describe(t), ")");
    const DType d = t.dtype();
    check(d != DType::Bool, name, "not supported for dtype bool (", describe(t), "); convert with .to() first");
    check(d != DType::Float16 && d != DType::BFloat16, name, "not implemented for dtype ", dtype_name(d), " (",
          describe(t), "): 16-bit floats are storage types on the CPU; convert with .to(DType::Float32)");
    return is_integral(d) && ints == IntInputs::ToFloat ? DType::Float32 : d;
}

Tensor unary_forward(const char* name, UnaryOp op, const Tensor& t, IntInputs ints, const UnaryArgs& args) {
    const DType dtype = unary_result_dtype(name, t, ints);
    const Tensor x = t.dtype() == dtype ? t : t.to(dtype);
    Tensor out = Tensor::empty(x.shape(), dtype);
    visit_compute_dtype(dtype, name, [&](auto tag) {
        using T = typename decltype(tag)::type;
        run_unary<T>(op, out, x, params_for<T>(args));
    });
    return out;
}

Tensor unary_backward(const char* name, UnaryGradOp op, const Tensor& x, const Tensor& g, const UnaryArgs& args) {
    const Tensor gc = g.dtype() == x.dtype() ? g : g.to(x.dtype());
    Tensor dx = Tensor::empty(x.shape(), x.dtype());
    visit_float_dtype(x.dtype(), name, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const std::array<IterOperand, 3> ops{
            {{dx.raw_data(), dx.strides(), sizeof(T)},
             {x.raw_data(), x.strides(), sizeof(T)},
             {gc.raw_data(), broadcast_strides(gc.shape(), gc.strides(), x.shape()), sizeof(T)}}};
        const auto loop = kernels::cpu::unary_grad_loop<T>(kernels::active_isa());
        const UnaryParams<T> p = params_for<T>(args);
        for_each_run<3>(x.shape(), ops, [&](int64_t n, char* const* ptr, const int64_t* s) {
            loop(op, n, reinterpret_cast<const T*>(ptr[1]), s[1], reinterpret_cast<const T*>(ptr[2]), s[2],
                 reinterpret_cast<T*>(ptr[0]), s[0], p);
        });
    });
    return dx;
}

const Tensor& unary_inplace(const char* name, UnaryOp op, const Tensor& self, IntInputs ints, const UnaryArgs& args,
                            const std::function<Tensor(const Tensor&)>& out_of_place) {
    autograd::check_inplace(self, name);
    const DType dtype = unary_result_dtype(name, self, ints);
    check(dtype == self.dtype(), name, "the result type ", dtype_name(dtype), " cannot be stored in ",
          describe(self));
    if (autograd::should_record({&self})) {
        autograd::rebase_history(self, out_of_place(self.clone()));
        return self;
    }
    visit_compute_dtype(dtype, name, [&](auto tag) {
        using T = typename decltype(tag)::type;
        run_unary<T>(op, self, self, params_for<T>(args));
    });
    self.storage()->bump_version();
    return self;
}

}  // namespace graft::detail
