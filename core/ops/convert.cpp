// dtype and device conversion, contiguous copies, and copy_ (the one strided
// copy-with-conversion loop that every layout change ends up in).
#include "core/ops/convert.h"

#include <cstring>

#include "core/autograd/record.h"
#include "core/ops/iter.h"
#include "core/ops/views.h"
#include "kernels/cuda/runtime.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;

namespace {

template <typename To, typename From>
To convert_value(From v) {
    if constexpr (std::is_same_v<To, bool>) return float(v) != 0.0f;
    else if constexpr (std::is_same_v<From, Half> || std::is_same_v<From, BFloat16>) return To(float(v));
    else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) return To(float(v));
    else return To(v);
}

// dst[...] = src[...] (src broadcast to dst's shape), converting dtype. CPU only.
void strided_copy(const Tensor& dst, const Tensor& src) {
    const Shape& shape = dst.shape();
    std::array<IterOperand, 2> ops{{{dst.raw_data(), dst.strides(), dst.element_size()},
                                    {src.raw_data(), broadcast_strides(src.shape(), src.strides(), shape),
                                     src.element_size()}}};
    visit_dtype(dst.dtype(), [&](auto dtag) {
        using To = typename decltype(dtag)::type;
        visit_dtype(src.dtype(), [&](auto stag) {
            using From = typename decltype(stag)::type;
            for_each_run<2>(shape, ops, [&](int64_t n, char* const* p, const int64_t* s) {
                To* out = reinterpret_cast<To*>(p[0]);
                const From* in = reinterpret_cast<const From*>(p[1]);
                if constexpr (std::is_same_v<To, From>) {
                    if (s[0] == 1 && s[1] == 1) {
                        std::memcpy(out, in, size_t(n) * sizeof(To));
                        return;
                    }
                }
                for (int64_t i = 0; i < n; ++i) out[i * s[0]] = convert_value<To>(in[i * s[1]]);
            });
        });
    });
}

const char* cuda_copy(const Tensor& dst, const Tensor& src) {
    using kernels::cuda::CopyKind;
    const CopyKind kind = src.device().is_cpu()   ? CopyKind::HostToDevice
                          : dst.device().is_cpu() ? CopyKind::DeviceToHost
                                                  : CopyKind::DeviceToDevice;
    return kernels::cuda::copy(dst.raw_data(), src.raw_data(), size_t(src.numel()) * src.element_size(), kind);
}

}  // namespace

namespace {

// copy_ without autograd: what conversions use internally.
const Tensor& copy_data(const Tensor& dst, const Tensor& src) {
    // Empty tensors too must broadcast: an empty src laid over a non-empty dst
    // would be read out of bounds.
    check(src.dim() <= dst.dim() && broadcast_shapes(dst.shape(), src.shape(), "copy_") == dst.shape(), "copy_",
          "cannot copy ", describe(src), " into ", describe(dst));
    if (dst.device().is_cpu() && src.device().is_cpu()) {
        if (dst.numel() > 0) strided_copy(dst, src);
    } else {
        check(dst.shape() == src.shape() && dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous(),
              "copy_", "copies involving CUDA need equal shapes and dtypes and contiguous tensors, got ",
              describe(src), " into ", describe(dst));
        if (const char* err = cuda_copy(dst, src)) throw Error(cat_str("copy_: ", err));
    }
    dst.storage()->bump_version();
    return dst;
}

}  // namespace

// d copy_(dst, src) = (0 for dst's old value, sum_to(g) for src). With autograd
// the new value is made out of place (expand, convert, clone) and dst takes over
// its history, as every in-place op does.
const Tensor& copy_(const Tensor& dst, const Tensor& src) {
    if (autograd::should_record({&dst, &src})) {
        autograd::check_inplace(dst, "copy_");
        check(src.dim() <= dst.dim(), "copy_", "cannot copy ", describe(src), " into ", describe(dst));
        autograd::rebase_history(dst, clone(to_dtype(expand(src, dst.shape()), dst.dtype())));
        return dst;
    }
    return copy_data(dst, src);
}

// d to(x) = to_back(g)
Tensor to_dtype(const Tensor& t, DType dtype) {
    if (t.dtype() == dtype) return t;
    check(t.device().is_cpu(), "to_dtype", "dtype conversion on CUDA is not supported yet (", describe(t), ")");
    Tensor out = Tensor::empty(t.shape(), dtype, t.device());
    copy_data(out, t);
    if (is_floating(dtype) && autograd::should_record({&t})) {
        autograd::record("to_dtype", {t}, out, [from = t.dtype()](const Tensor& g, const Needs&) {
            return Grads{g.to(from)};
        });
    }
    return out;
}

Tensor to_device(const Tensor& t, Device device) {
    if (t.device() == device) return t;
    Tensor src = t.contiguous();
    Tensor out = Tensor::empty(t.shape(), t.dtype(), device);
    copy_data(out, src);
    return out;
}

Tensor contiguous(const Tensor& t) {
    if (t.is_contiguous()) return t;
    return clone(t);
}

// d clone(x) = g
Tensor clone(const Tensor& t) {
    Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
    if (t.device().is_cpu()) {
        if (t.numel() > 0) strided_copy(out, t);
    } else {
        copy_data(out, t.contiguous());
    }
    if (autograd::should_record({&t}))
        autograd::record("clone", {t}, out, [](const Tensor& g, const Needs&) { return Grads{g}; });
    return out;
}

}  // namespace graft
