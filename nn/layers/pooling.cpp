// MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: options to Pool2dParams, and torch's repr.
#include "nn/layers/pooling.h"

namespace graft::nn {

namespace {

// An int when given as one, else "(h, w)", as torch prints what it was passed.
std::string size_str(const Size2d& s) { return s.pair ? s.str() : cat_str(s.h); }

Pool2dParams pool_params(const Size2d& k, const std::optional<Size2d>& stride, const Size2d& pad, bool ceil_mode) {
    Pool2dParams p;
    p.kernel_h = k.h, p.kernel_w = k.w;
    p.stride_h = stride ? stride->h : k.h, p.stride_w = stride ? stride->w : k.w;
    p.pad_h = pad.h, p.pad_w = pad.w;
    p.ceil_mode = ceil_mode;
    return p;
}

}  // namespace

MaxPool2d::MaxPool2d(Size2d kernel_size, MaxPool2dOptions options)
    : Module("MaxPool2d"), kernel_size(kernel_size), options(options) {}

Tensor MaxPool2d::forward(const Tensor& x) {
    Pool2dParams p = pool_params(kernel_size, options.stride, options.padding, options.ceil_mode);
    p.dilation_h = options.dilation.h, p.dilation_w = options.dilation.w;
    return max_pool2d(x, p);
}

std::string MaxPool2d::extra_repr() const {
    return cat_str("kernel_size=", size_str(kernel_size), ", stride=", size_str(options.stride.value_or(kernel_size)),
                   ", padding=", size_str(options.padding), ", dilation=", size_str(options.dilation),
                   ", ceil_mode=", options.ceil_mode ? "True" : "False");
}

AvgPool2d::AvgPool2d(Size2d kernel_size, AvgPool2dOptions options)
    : Module("AvgPool2d"), kernel_size(kernel_size), options(options) {}

Tensor AvgPool2d::forward(const Tensor& x) {
    Pool2dParams p = pool_params(kernel_size, options.stride, options.padding, options.ceil_mode);
    p.count_include_pad = options.count_include_pad;
    return avg_pool2d(x, p);
}

std::string AvgPool2d::extra_repr() const {
    return cat_str("kernel_size=", size_str(kernel_size), ", stride=", size_str(options.stride.value_or(kernel_size)),
                   ", padding=", size_str(options.padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2d output_size) : Module("AdaptiveAvgPool2d"), output_size(output_size) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size.h, output_size.w); }

std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + size_str(output_size); }

}  // namespace graft::nn
