// Pooling ops over [N, C, H, W] (or [C, H, W]) with PyTorch's output-size,
// padding and ceil_mode rules; kernels in kernels/cpu/pool/, each backward
// beside its forward. Non-contiguous inputs are made contiguous first.
#include "core/ops/pool.h"

#include "core/autograd/record.h"
#include "core/ops/creation.h"
#include "kernels/cpu/pool/pool.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;
using kernels::cpu::PoolGeometry;

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// torch's pooling_output_shape: with ceil_mode the last window must start
// inside the image or its left padding.
int64_t pool_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil_mode) {
    int64_t out = floor_div(in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0), stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) --out;
    return out;
}

// [N, C, H, W] or [C, H, W], a float dtype, on the CPU.
void check_input(const char* op, const Tensor& x) {
    check(x.dim() == 3 || x.dim() == 4, op, "expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, got ", describe(x));
    check(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, op, "expected float32 or float64, got ",
          describe(x));
    check(x.device().is_cpu(), op, "only CPU tensors are supported, got ", describe(x));
    check(x.size(-1) > 0 && x.size(-2) > 0, op, "the spatial size must be non-empty, got ", describe(x));
}

PoolGeometry pool_geometry(const char* op, const Tensor& x, const Pool2dParams& p) {
    check_input(op, x);
    check(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 &&
              p.dilation_w > 0,
          op, "kernel (", p.kernel_h, ", ", p.kernel_w, "), stride (", p.stride_h, ", ", p.stride_w,
          ") and dilation (", p.dilation_h, ", ", p.dilation_w, ") must be positive");
    check(p.pad_h >= 0 && p.pad_w >= 0 && p.pad_h <= p.kernel_h / 2 && p.pad_w <= p.kernel_w / 2, op, "padding (",
          p.pad_h, ", ", p.pad_w, ") must be non-negative and at most half the kernel (", p.kernel_h, ", ",
          p.kernel_w, ")");
    PoolGeometry g;
    g.h = x.size(-2), g.w = x.size(-1);
    g.planes = x.numel() / (g.h * g.w);
    g.kh = p.kernel_h, g.kw = p.kernel_w, g.stride_h = p.stride_h, g.stride_w = p.stride_w;
    g.pad_h = p.pad_h, g.pad_w = p.pad_w, g.dil_h = p.dilation_h, g.dil_w = p.dilation_w;
    g.count_include_pad = p.count_include_pad;
    g.ho = pool_out_size(g.h, g.kh, g.pad_h, g.stride_h, g.dil_h, p.ceil_mode);
    g.wo = pool_out_size(g.w, g.kw, g.pad_w, g.stride_w, g.dil_w, p.ceil_mode);
    check(g.ho >= 1 && g.wo >= 1, op, "the output would be empty: input ", describe(x), ", kernel (", g.kh, ", ",
          g.kw, "), stride (", g.stride_h, ", ", g.stride_w, "), padding (", g.pad_h, ", ", g.pad_w,
          "), dilation (", g.dil_h, ", ", g.dil_w, ") give ", g.ho, "x", g.wo);
    return g;
}

Shape out_shape(const Tensor& x, int64_t ho, int64_t wo) {
    Shape s = x.shape();
    s[s.size() - 2] = ho;
    s[s.size() - 1] = wo;
    return s;
}

}  // namespace

// y = max over the window; dx[idx] += dy (the winner takes the gradient).
Tensor max_pool2d(const Tensor& input, const Pool2dParams& params) {
    const PoolGeometry g = pool_geometry("max_pool2d", input, params);
    const Tensor x = input.contiguous();
    Tensor out = empty(out_shape(x, g.ho, g.wo), x.dtype());
    Tensor idx = empty(out.shape(), DType::Int64);
    visit_float_dtype(x.dtype(), "max_pool2d", [&](auto tag) {
        using T = typename decltype(tag)::type;
        kernels::cpu::max_pool2d_forward<T>(g, x.data<T>(), out.data<T>(), idx.data<int64_t>());
    });
    if (autograd::should_record({&input})) {
        autograd::record("max_pool2d", {input}, out, [g, idx, in_shape = x.shape()](const Tensor& grad, const Needs&) {
            const Tensor dy = grad.contiguous();
            Tensor dx = empty(in_shape, dy.dtype());
            visit_float_dtype(dy.dtype(), "max_pool2d backward", [&](auto tag) {
                using T = typename decltype(tag)::type;
                kernels::cpu::max_pool2d_backward<T>(g, dy.data<T>(), idx.data<int64_t>(), dx.data<T>());
            });
            return Grads{dx};
        });
    }
    return out;
}

// y = sum over the window / divisor; dx gets dy / divisor at each in-image element.
Tensor avg_pool2d(const Tensor& input, const Pool2dParams& params) {
    check(params.dilation_h == 1 && params.dilation_w == 1, "avg_pool2d", "dilation is not supported (as in PyTorch), got (",
          params.dilation_h, ", ", params.dilation_w, ")");
    const PoolGeometry g = pool_geometry("avg_pool2d", input, params);
    const Tensor x = input.contiguous();
    Tensor out = empty(out_shape(x, g.ho, g.wo), x.dtype());
    visit_float_dtype(x.dtype(), "avg_pool2d", [&](auto tag) {
        using T = typename decltype(tag)::type;
        kernels::cpu::avg_pool2d_forward<T>(g, x.data<T>(), out.data<T>());
    });
    if (autograd::should_record({&input})) {
        autograd::record("avg_pool2d", {input}, out, [g, in_shape = x.shape()](const Tensor& grad, const Needs&) {
            const Tensor dy = grad.contiguous();
            Tensor dx = empty(in_shape, dy.dtype());
            visit_float_dtype(dy.dtype(), "avg_pool2d backward", [&](auto tag) {
                using T = typename decltype(tag)::type;
                kernels::cpu::avg_pool2d_backward<T>(g, dy.data<T>(), dx.data<T>());
            });
            return Grads{dx};
        });
    }
    return out;
}

// y = mean over each adaptive bin; dx gets dy / bin area over the bin.
Tensor adaptive_avg_pool2d(const Tensor& input, int64_t out_h, int64_t out_w) {
    check_input("adaptive_avg_pool2d", input);
    check(out_h >= 1 && out_w >= 1, "adaptive_avg_pool2d", "the output size must be positive, got (", out_h, ", ",
          out_w, ") for input ", describe(input));
    const Tensor x = input.contiguous();
    PoolGeometry g;
    g.h = x.size(-2), g.w = x.size(-1), g.planes = x.numel() / (g.h * g.w), g.ho = out_h, g.wo = out_w;
    Tensor out = empty(out_shape(x, out_h, out_w), x.dtype());
    visit_float_dtype(x.dtype(), "adaptive_avg_pool2d", [&](auto tag) {
        using T = typename decltype(tag)::type;
        kernels::cpu::adaptive_avg_pool2d_forward<T>(g, x.data<T>(), out.data<T>());
    });
    if (autograd::should_record({&input})) {
        autograd::record("adaptive_avg_pool2d", {input}, out, [g, in_shape = x.shape()](const Tensor& grad,
                                                                                         const Needs&) {
            const Tensor dy = grad.contiguous();
            Tensor dx = empty(in_shape, dy.dtype());
            visit_float_dtype(dy.dtype(), "adaptive_avg_pool2d backward", [&](auto tag) {
                using T = typename decltype(tag)::type;
                kernels::cpu::adaptive_avg_pool2d_backward<T>(g, dy.data<T>(), dx.data<T>());
            });
            return Grads{dx};
        });
    }
    return out;
}

}  // namespace graft
