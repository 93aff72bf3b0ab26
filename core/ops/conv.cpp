// conv2d: argument checks, the kernel call (kernels/cpu/conv/conv.h) and its
// backward right below. Input [N, C, H, W], weight [O, C/groups, kH, kW], bias [O].
// Non-contiguous inputs are made contiguous first; the kernels take NCHW as it lies.
// The backward uses dedicated kernels and is not itself differentiable.
#include "core/ops/conv.h"

#include "core/autograd/record.h"
#include "core/ops/creation.h"
#include "kernels/cpu/conv/conv.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;
using kernels::cpu::ConvGeometry;

namespace {

// One output size: (in + pads - dil*(k-1) - 1) / stride + 1.
int64_t conv_out_size(int64_t in, int64_t pad_a, int64_t pad_b, int64_t k, int64_t stride, int64_t dil) {
    return (in + pad_a + pad_b - dil * (k - 1) - 1) / stride + 1;
}

void check_params(const Conv2dParams& p) {
    check(p.stride_h >= 1 && p.stride_w >= 1, "conv2d", "stride must be positive, got (", p.stride_h, ", ",
          p.stride_w, ")");
    check(p.dilation_h >= 1 && p.dilation_w >= 1, "conv2d", "dilation must be positive, got (", p.dilation_h, ", ",
          p.dilation_w, ")");
    check(p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0, "conv2d",
          "padding must be non-negative, got top/bottom/left/right ", p.pad_top, "/", p.pad_bottom, "/", p.pad_left,
          "/", p.pad_right);
    check(p.groups >= 1, "conv2d", "groups must be positive, got ", p.groups);
}

// Checks the operands and returns the kernel geometry.
ConvGeometry geometry(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
    check_params(p);
    check(x.dim() == 4, "conv2d", "expected a 4-d input [N, C, H, W], got ", describe(x));
    check(w.dim() == 4, "conv2d", "expected a 4-d weight [O, C/groups, kH, kW], got ", describe(w));
    check(x.dtype() == w.dtype() && (x.dtype() == DType::Float32 || x.dtype() == DType::Float64), "conv2d",
          "input and weight must both be float32 or both float64, got input ", describe(x), " and weight ",
          describe(w));
    check(x.device().is_cpu() && w.device().is_cpu(), "conv2d", "only CPU tensors are supported, got input ",
          describe(x), " and weight ", describe(w));
    ConvGeometry g;
    g.n = x.size(0), g.c = x.size(1), g.h = x.size(2), g.w = x.size(3);
    g.o = w.size(0), g.kh = w.size(2), g.kw = w.size(3);
    g.groups = p.groups;
    check(g.c % p.groups == 0 && g.o % p.groups == 0, "conv2d", "groups=", p.groups,
          " must divide the input channels and the output channels: input ", describe(x), ", weight ", describe(w));
    check(w.size(1) * p.groups == g.c, "conv2d", "channel mismatch: input ", describe(x), " has ", g.c,
          " channels but weight ", describe(w), " with groups=", p.groups, " expects ", w.size(1) * p.groups);
    if (b.defined())
        check(b.dim() == 1 && b.size(0) == g.o && b.dtype() == x.dtype() && b.device().is_cpu(), "conv2d",
              "expected a bias of shape [", g.o, "] and dtype ", dtype_name(x.dtype()), ", got ", describe(b));
    g.stride_h = p.stride_h, g.stride_w = p.stride_w;
    g.pad_top = p.pad_top, g.pad_left = p.pad_left;
    g.dil_h = p.dilation_h, g.dil_w = p.dilation_w;
    g.ho = conv_out_size(g.h, p.pad_top, p.pad_bottom, g.kh, p.stride_h, p.dilation_h);
    g.wo = conv_out_size(g.w, p.pad_left, p.pad_right, g.kw, p.stride_w, p.dilation_w);
    check(g.h + p.pad_top + p.pad_bottom >= p.dilation_h * (g.kh - 1) + 1 &&
              g.w + p.pad_left + p.pad_right >= p.dilation_w * (g.kw - 1) + 1 && g.ho >= 1 && g.wo >= 1,
          "conv2d", "the output would be empty: input ", describe(x), " padded by top/bottom/left/right ", p.pad_top,
          "/", p.pad_bottom, "/", p.pad_left, "/", p.pad_right, " is smaller than the dilated kernel of weight ",
          describe(w), " (dilation ", p.dilation_h, "x", p.dilation_w, ")");
    return g;
}

bool empty_problem(const ConvGeometry& g) { return g.n == 0 || g.c == 0 || g.o == 0; }

// A gradient buffer: the kernels overwrite every element, so it needs zeros only
// when there is no work for them.
Tensor fresh(const Shape& shape, DType dtype, const ConvGeometry& g) {
    return empty_problem(g) ? zeros(shape, dtype) : empty(shape, dtype);
}

}  // namespace

// y = conv(x, w) + b.
//   dx = conv_transpose(dy, w)             (col2im of Wᵀ·dy)
//   dw = sum_n dy_n · im2col(x_n)ᵀ         (correlation of x with dy)
//   db = sum over n, ho, wo of dy
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
    const ConvGeometry g = geometry(input, weight, bias, params);
    const Tensor x = input.contiguous(), w = weight.contiguous();
    const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
    Tensor out = empty({g.n, g.o, g.ho, g.wo}, x.dtype());
    visit_float_dtype(x.dtype(), "conv2d", [&](auto tag) {
        using T = typename decltype(tag)::type;
        if (empty_problem(g)) {
            out.zero_();
            if (b.defined() && g.n > 0) out.add_(b.view({1, g.o, 1, 1}));
            return;
        }
        kernels::cpu::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                                        out.data<T>());
    });
    if (autograd::should_record({&input, &weight, &bias})) {
        // dx reads only w and dw only x: save each only when the other gradient is wanted.
        const bool want_dx = autograd::should_record({&input}), want_dw = autograd::should_record({&weight});
        autograd::record("conv2d", {input, weight, bias}, out,
                         [g, sx = SavedTensor(want_dw ? x : Tensor()), sw = SavedTensor(want_dx ? w : Tensor())](
                             const Tensor& grad, const Needs& needs) {
                             const Tensor dy = grad.contiguous();
                             Tensor dx, dw, db;
                             visit_float_dtype(dy.dtype(), "conv2d backward", [&](auto tag) {
                                 using T = typename decltype(tag)::type;
                                 if (needs[0]) {
                                     dx = fresh({g.n, g.c, g.h, g.w}, dy.dtype(), g);
                                     if (!empty_problem(g))
                                         kernels::cpu::conv2d_backward_input<T>(g, dy.data<T>(),
                                                                                sw.get("conv2d").data<T>(), dx.data<T>());
                                 }
                                 if (needs[1]) {
                                     dw = fresh({g.o, g.c / g.groups, g.kh, g.kw}, dy.dtype(), g);
                                     if (!empty_problem(g))
                                         kernels::cpu::conv2d_backward_weight<T>(g, sx.get("conv2d").data<T>(),
                                                                                 dy.data<T>(), dw.data<T>());
                                 }
                                 if (needs[2]) {
                                     db = fresh({g.o}, dy.dtype(), g);
                                     if (!empty_problem(g))
                                         kernels::cpu::conv2d_backward_bias<T>(g, dy.data<T>(), db.data<T>());
                                 }
                             });
                             return Grads{dx, dw, db};
                         });
    }
    return out;
}

}  // namespace graft
