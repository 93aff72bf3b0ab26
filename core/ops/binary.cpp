// Binary elementwise ops: broadcasting, dtype promotion, the kernel call through
// the ISA dispatch, and each backward formula beside its forward.
#include "core/ops/binary.h"

#include <cmath>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/indexing.h"
#include "core/ops/iter.h"
#include "core/ops/unary.h"
#include "kernels/cpu/elementwise/binary.h"
#include "kernels/cuda/runtime.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;
using kernels::cpu::BinaryOp;
using kernels::cpu::CompareOp;

namespace {

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
    check(a.device() == b.device(), op, "operands are on different devices: ", describe(a), " and ", describe(b));
}

// The gradient for an input of the given shape and dtype from one of the output's.
Tensor grad_for(const Tensor& g, const Shape& shape, DType dtype) {
    Tensor r = autograd::sum_to(g, shape);
    return r.dtype() == dtype ? r : r.to(dtype);
}
Tensor grad_for(const Tensor& g, const Tensor& input) { return grad_for(g, input.shape(), input.dtype()); }

// Where the base is 0 and the exponent >= 0, d(a^b)/db is taken as 0, not NaN (as PyTorch).
Tensor zero_base_mask(const Tensor& a, const Tensor& b) {
    return eq(add(eq(a, 0.0).to(DType::Int32), ge(b, 0.0).to(DType::Int32)), 2);
}

// out = op(a, b) on the CPU; a, b, out already of the compute dtype T.
template <typename T>
void run_binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, T alpha) {
    const Shape& shape = out.shape();
    std::array<IterOperand, 3> ops{{{out.raw_data(), out.strides(), sizeof(T)},
                                    {a.raw_data(), broadcast_strides(a.shape(), a.strides(), shape), sizeof(T)},
                                    {b.raw_data(), broadcast_strides(b.shape(), b.strides(), shape), sizeof(T)}}};
    const auto loop = kernels::cpu::binary_loop<T>(kernels::active_isa());
    for_each_run<3>(shape, ops, [&](int64_t n, char* const* p, const int64_t* s) {
        loop(op, n, reinterpret_cast<const T*>(p[1]), s[1], reinterpret_cast<const T*>(p[2]), s[2],
             reinterpret_cast<T*>(p[0]), s[0], alpha);
    });
}

Tensor run_cuda_add(const Tensor& a, const Tensor& b, const char* op) {
    check(a.dtype() == DType::Float32 && b.dtype() == DType::Float32 && a.shape() == b.shape() &&
              a.is_contiguous() && b.is_contiguous(),
          op, "the CUDA backend so far supports only float32 add of contiguous tensors of equal shape, got ",
          describe(a), " and ", describe(b));
    Tensor out = Tensor::empty(a.shape(), DType::Float32, a.device());
    if (const char* err = kernels::cuda::add_f32(a.numel(), a.data<float>(), b.data<float>(), out.data<float>()))
        throw Error(cat_str(op, ": CUDA kernel failed: ", err));
    return out;
}

// The forward of every arithmetic binary op. `result_dtype` is the promoted
// dtype (or float32 for true division of integers).
Tensor binary_forward(const char* name, BinaryOp op, const Tensor& a, const Tensor& b, DType result_dtype,
                      double alpha = 1.0) {
    check_same_device(a, b, name);
    if (a.device().is_cuda()) {
        check(op == BinaryOp::Add && alpha == 1.0, name, "not supported on CUDA yet (", describe(a), ")");
        return run_cuda_add(a, b, name);
    }
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
    Tensor out = Tensor::empty(shape, result_dtype);
    const Tensor ac = a.dtype() == result_dtype ? a : a.to(result_dtype);
    const Tensor bc = b.dtype() == result_dtype ? b : b.to(result_dtype);
    visit_compute_dtype(result_dtype, name, [&](auto tag) {
        using T = typename decltype(tag)::type;
        run_binary<T>(op, out, ac, bc, T(alpha));
    });
    return out;
}

DType promoted(const Tensor& a, const Tensor& b) { return promote_types(a.dtype(), b.dtype()); }

Tensor as_operand(Scalar s, const Tensor& like) {
    return scalar_tensor(s, s.result_dtype(like.dtype()), like.device());
}

Tensor compare(const char* name, CompareOp op, const Tensor& a, const Tensor& b) {
    check_same_device(a, b, name);
    check(a.device().is_cpu(), name, "not supported on CUDA yet (", describe(a), ")");
    const DType dtype = promoted(a, b);
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
    Tensor out = Tensor::empty(shape, DType::Bool);
    const Tensor ac = a.dtype() == dtype ? a : a.to(dtype);
    const Tensor bc = b.dtype() == dtype ? b : b.to(dtype);
    auto run = [&](auto tag) {
        using T = typename decltype(tag)::type;
        std::array<IterOperand, 3> ops{{{out.raw_data(), out.strides(), 1},
                                        {ac.raw_data(), broadcast_strides(ac.shape(), ac.strides(), shape), sizeof(T)},
                                        {bc.raw_data(), broadcast_strides(bc.shape(), bc.strides(), shape), sizeof(T)}}};
        const auto loop = kernels::cpu::compare_loop<T>(kernels::active_isa());
        for_each_run<3>(shape, ops, [&](int64_t n, char* const* p, const int64_t* s) {
            loop(op, n, reinterpret_cast<const T*>(p[1]), s[1], reinterpret_cast<const T*>(p[2]), s[2],
                 reinterpret_cast<bool*>(p[0]), s[0]);
        });
    };
    if (dtype == DType::Bool) run(TypeTag<bool>{});
    else visit_compute_dtype(dtype, name, run);
    return out;
}

}  // namespace

// d(a + alpha b) = (1, alpha)
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
    const double al = alpha.to_double();
    Tensor out = binary_forward("add", BinaryOp::Add, a, b, promoted(a, b), al);
    if (autograd::should_record({&a, &b})) {
        autograd::record("add", {a, b}, out,
                         [sa = a.shape(), da = a.dtype(), sb = b.shape(), db = b.dtype(), al](const Tensor& g,
                                                                                             const Needs& needs) {
                             return Grads{needs[0] ? grad_for(g, sa, da) : Tensor(),
                                          needs[1] ? grad_for(al == 1.0 ? g : mul(g, al), sb, db) : Tensor()};
                         });
    }
    return out;
}

// d(a - alpha b) = (1, -alpha)
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
    check(a.dtype() != DType::Bool || b.dtype() != DType::Bool, "sub", "subtracting bool tensors is not supported");
    const double al = alpha.to_double();
    Tensor out = binary_forward("sub", BinaryOp::Sub, a, b, promoted(a, b), al);
    if (autograd::should_record({&a, &b})) {
        autograd::record("sub", {a, b}, out,
                         [sa = a.shape(), da = a.dtype(), sb = b.shape(), db = b.dtype(), al](const Tensor& g,
                                                                                             const Needs& needs) {
                             return Grads{needs[0] ? grad_for(g, sa, da) : Tensor(),
                                          needs[1] ? grad_for(mul(g, -al), sb, db) : Tensor()};
                         });
    }
    return out;
}

// d(a b) = (b, a)
Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("mul", BinaryOp::Mul, a, b, promoted(a, b));
    if (autograd::should_record({&a, &b})) {
        autograd::record("mul", {a, b}, out,
                         [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g, const Needs& needs) {
                             return Grads{needs[0] ? grad_for(mul(g, sb.get("mul")), sa.get("mul")) : Tensor(),
                                          needs[1] ? grad_for(mul(g, sa.get("mul")), sb.get("mul")) : Tensor()};
                         });
    }
    return out;
}

// d(a / b) = (1/b, -a/b^2)
Tensor div(const Tensor& a, const Tensor& b) {
    const DType dtype = is_floating(promoted(a, b)) ? promoted(a, b) : DType::Float32;
    Tensor out = binary_forward("div", BinaryOp::Div, a, b, dtype);
    if (autograd::should_record({&a, &b})) {
        autograd::record("div", {a, b}, out,
                         [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g, const Needs& needs) {
                             const Tensor av = sa.get("div"), bv = sb.get("div");
                             return Grads{needs[0] ? grad_for(div(g, bv), av) : Tensor(),
                                          needs[1] ? grad_for(neg(div(mul(g, av), mul(bv, bv))), bv) : Tensor()};
                         });
    }
    return out;
}

// d(a^b) = (b a^(b-1), a^b log a)
Tensor pow(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("pow", BinaryOp::Pow, a, b, promoted(a, b));
    if (autograd::should_record({&a, &b})) {
        autograd::record("pow", {a, b}, out,
                         [sa = SavedTensor(a), sb = SavedTensor(b), so = SavedTensor(out)](const Tensor& g,
                                                                                          const Needs& needs) {
                             const Tensor av = sa.get("pow"), bv = sb.get("pow");
                             Tensor ga, gb;
                             if (needs[0]) ga = grad_for(mul(g, mul(bv, pow(av, sub(bv, 1)))), av);
                             if (needs[1]) {
                                 // a^b log a, taken as 0 where a == 0 and b >= 0 (as PyTorch).
                                 Tensor term = mul(so.get("pow"), log(av));
                                 term = masked_fill(term, zero_base_mask(av, bv), 0.0);
                                 gb = grad_for(mul(g, term), bv);
                             }
                             return Grads{ga, gb};
                         });
    }
    return out;
}

// d max(a, b): the gradient goes to the larger input, split evenly on ties.
Tensor maximum(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("maximum", BinaryOp::Maximum, a, b, promoted(a, b));
    if (autograd::should_record({&a, &b})) {
        autograd::record("maximum", {a, b}, out,
                         [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g, const Needs& needs) {
                             const Tensor av = sa.get("maximum"), bv = sb.get("maximum");
                             const Tensor wa = add(gt(av, bv).to(g.dtype()), mul(eq(av, bv).to(g.dtype()), 0.5));
                             return Grads{needs[0] ? grad_for(mul(g, wa), av) : Tensor(),
                                          needs[1] ? grad_for(mul(g, rsub(wa, 1)), bv) : Tensor()};
                         });
    }
    return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("minimum", BinaryOp::Minimum, a, b, promoted(a, b));
    if (autograd::should_record({&a, &b})) {
        autograd::record("minimum", {a, b}, out,
                         [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g, const Needs& needs) {
                             const Tensor av = sa.get("minimum"), bv = sb.get("minimum");
                             const Tensor wa = add(lt(av, bv).to(g.dtype()), mul(eq(av, bv).to(g.dtype()), 0.5));
                             return Grads{needs[0] ? grad_for(mul(g, wa), av) : Tensor(),
                                          needs[1] ? grad_for(mul(g, rsub(wa, 1)), bv) : Tensor()};
                         });
    }
    return out;
}

Tensor add(const Tensor& a, Scalar b) { return add(a, as_operand(b, a)); }
Tensor sub(const Tensor& a, Scalar b) { return sub(a, as_operand(b, a)); }
Tensor rsub(const Tensor& a, Scalar b) { return sub(as_operand(b, a), a); }
Tensor mul(const Tensor& a, Scalar b) { return mul(a, as_operand(b, a)); }
Tensor div(const Tensor& a, Scalar b) { return div(a, as_operand(b, a)); }
Tensor rdiv(const Tensor& a, Scalar b) { return div(as_operand(b, a), a); }

// d(a^e) = e a^(e-1), with the common exponents computed without pow().
Tensor pow(const Tensor& a, Scalar exponent) {
    const double e = exponent.to_double();
    Tensor out = binary_forward("pow", BinaryOp::Pow, a, as_operand(exponent, a), exponent.result_dtype(a.dtype()));
    if (autograd::should_record({&a})) {
        autograd::record("pow_scalar", {a}, out, [sa = SavedTensor(a), e](const Tensor& g, const Needs&) {
            const Tensor av = sa.get("pow_scalar");
            if (e == 0.0) return Grads{zeros_like(av)};
            if (e == 1.0) return Grads{g};
            if (e == 2.0) return Grads{mul(g, mul(av, 2.0))};
            return Grads{mul(g, mul(pow(av, e - 1.0), e))};
        });
    }
    return out;
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare("eq", CompareOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare("ne", CompareOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare("lt", CompareOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare("le", CompareOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare("gt", CompareOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare("ge", CompareOp::Ge, a, b); }
Tensor eq(const Tensor& a, Scalar b) { return eq(a, as_operand(b, a)); }
Tensor ne(const Tensor& a, Scalar b) { return ne(a, as_operand(b, a)); }
Tensor lt(const Tensor& a, Scalar b) { return lt(a, as_operand(b, a)); }
Tensor le(const Tensor& a, Scalar b) { return le(a, as_operand(b, a)); }
Tensor gt(const Tensor& a, Scalar b) { return gt(a, as_operand(b, a)); }
Tensor ge(const Tensor& a, Scalar b) { return ge(a, as_operand(b, a)); }

namespace {

// Writes op(self, other) into self. Without autograd this is one kernel pass
// over self's storage; with it, the result is computed out of place from a
// clone and self takes over its history (autograd/record.h).
template <typename OutOfPlace>
const Tensor& inplace(const char* name, BinaryOp op, const Tensor& self, const Tensor& other, double alpha,
                      OutOfPlace out_of_place) {
    autograd::check_inplace(self, name);
    check_same_device(self, other, name);
    const Shape result_shape = broadcast_shapes(self.shape(), other.shape(), name);
    check(result_shape == self.shape(), name, "the result of shape ", shape_str(result_shape),
          " does not fit in self ", describe(self));
    check(is_floating(self.dtype()) || !is_floating(other.dtype()), name, "the result type ",
          dtype_name(promoted(self, other)), " cannot be stored in ", describe(self));
    if (autograd::should_record({&self, &other})) {
        autograd::rebase_history(self, out_of_place(self.clone(), other));
        return self;
    }
    if (self.device().is_cuda()) {
        self.copy_(binary_forward(name, op, self, other, self.dtype(), alpha));
    } else {
        const Tensor oc = other.dtype() == self.dtype() ? other : other.to(self.dtype());
        visit_compute_dtype(self.dtype(), name, [&](auto tag) {
            using T = typename decltype(tag)::type;
            run_binary<T>(op, self, self, oc, T(alpha));
        });
    }
    self.storage()->bump_version();
    return self;
}

}  // namespace

const Tensor& add_(const Tensor& self, const Tensor& other, Scalar alpha) {
    return inplace("add_", BinaryOp::Add, self, other, alpha.to_double(),
                   [alpha](const Tensor& s, const Tensor& o) { return add(s, o, alpha); });
}
const Tensor& sub_(const Tensor& self, const Tensor& other, Scalar alpha) {
    return inplace("sub_", BinaryOp::Sub, self, other, alpha.to_double(),
                   [alpha](const Tensor& s, const Tensor& o) { return sub(s, o, alpha); });
}
const Tensor& mul_(const Tensor& self, const Tensor& other) {
    return inplace("mul_", BinaryOp::Mul, self, other, 1.0,
                   [](const Tensor& s, const Tensor& o) { return mul(s, o); });
}
const Tensor& div_(const Tensor& self, const Tensor& other) {
    check(is_floating(self.dtype()), "div_", "true division cannot write into integer ", describe(self));
    return inplace("div_", BinaryOp::Div, self, other, 1.0,
                   [](const Tensor& s, const Tensor& o) { return div(s, o); });
}
const Tensor& add_(const Tensor& self, Scalar other) { return add_(self, as_operand(other, self)); }
const Tensor& mul_(const Tensor& self, Scalar other) { return mul_(self, as_operand(other, self)); }

}  // namespace graft
