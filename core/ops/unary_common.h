// Shared by core/ops/unary.cpp and core/ops/activation.cpp (not a public
// header): dtype rules, the calls into the unary kernels through the ISA
// dispatch, and the in-place pattern of binary.cpp for one operand.
#pragma once

#include <functional>
#include <optional>

#include "core/tensor.h"
#include "kernels/cpu/elementwise/unary.h"

namespace graft::detail {

// What an op does with an integer input: compute in its own type (neg, abs,
// sign, clamp, relu, relu6), or promote to float32 first (exp, log, sigmoid...,
// whose results are not integers), as PyTorch does. Bool and 16-bit float
// inputs are refused by every op, naming it and the dtype.
enum class IntInputs { Keep, ToFloat };

// The scalar arguments of an op as the caller gave them; converted to the
// kernel's UnaryParams<T> once the element type is known.
struct UnaryArgs {
    std::optional<double> lo{}, hi{};  // clamp; absent means unbounded
    double slope = 0.0;            // leaky_relu
    double beta = 1.0, threshold = 20.0;  // softplus
};

// The dtype `name` computes and returns for `t`; throws for bool, 16-bit
// floats and CUDA tensors.
DType unary_result_dtype(const char* name, const Tensor& t, IntInputs ints);

// op(t) into a new contiguous tensor of dtype unary_result_dtype(...).
Tensor unary_forward(const char* name, kernels::cpu::UnaryOp op, const Tensor& t, IntInputs ints,
                     const UnaryArgs& args = {});

// The input gradient from the forward input (or output, see UnaryGradOp) `x`
// and the output gradient `g`, in one pass of a backward kernel.
Tensor unary_backward(const char* name, kernels::cpu::UnaryGradOp op, const Tensor& x, const Tensor& g,
                      const UnaryArgs& args = {});

// Writes op(self) into self, as binary.cpp's inplace: when autograd must
// record, the result is computed out of place from a clone and self takes over
// its history; otherwise one kernel pass over self's storage, and the version
// counter is bumped. The result dtype must be self's.
const Tensor& unary_inplace(const char* name, kernels::cpu::UnaryOp op, const Tensor& self, IntInputs ints,
                            const UnaryArgs& args, const std::function<Tensor(const Tensor&)>& out_of_place);

}  // namespace graft::detail
