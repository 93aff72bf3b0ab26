// Conv2d: parameters, torch's default init and printing; the work is conv2d (core/ops/conv.h).
#include "nn/layers/conv.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/ops/creation.h"

namespace graft::nn {

std::string Size2d::str() const { return cat_str("(", h, ", ", w, ")"); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2d kernel_size, Conv2dOptions options, Generator* gen)
    : Module("Conv2d"),
      in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      options(options) {
    check(in_channels > 0 && out_channels > 0 && options.groups > 0, "Conv2d",
          "channel counts and groups must be positive, got in=", in_channels, ", out=", out_channels,
          ", groups=", options.groups);
    check(in_channels % options.groups == 0 && out_channels % options.groups == 0, "Conv2d", "groups=",
          options.groups, " must divide in_channels=", in_channels, " and out_channels=", out_channels);
    check(kernel_size.h > 0 && kernel_size.w > 0, "Conv2d", "kernel_size must be positive, got ", kernel_size.str());
    weight = register_parameter(
        "weight", empty({out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}));  // OIHW
    if (options.bias) bias = register_parameter("bias", empty({out_channels}));
    reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator* gen) {
    // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in);
    // torch draws the bias from the same range.
    const int64_t fan_in = in_channels / options.groups * kernel_size.h * kernel_size.w;
    const double bound = 1.0 / std::sqrt(double(fan_in));
    NoGradGuard no_grad;  // parameters are leaves that require grad
    uniform_(weight, -bound, bound, gen);
    if (bias.defined()) uniform_(bias, -bound, bound, gen);
}

Conv2dParams Conv2d::params() const {
    const Padding2d& p = options.padding;
    return {options.stride.h, options.stride.w, p.top,  p.bottom, p.left, p.right, options.dilation.h,
            options.dilation.w, options.groups};
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, params()); }

std::string Conv2d::extra_repr() const {
    std::string s = cat_str(in_channels, ", ", out_channels, ", kernel_size=", kernel_size.str(),
                            ", stride=", options.stride.str());
    const Padding2d& p = options.padding;
    if (!p.zero())
        s += p.symmetric() ? cat_str(", padding=(", p.top, ", ", p.left, ")")
                           : cat_str(", padding=(", p.top, ", ", p.bottom, ", ", p.left, ", ", p.right, ")");
    if (options.dilation.h != 1 || options.dilation.w != 1) s += ", dilation=" + options.dilation.str();
    if (options.groups != 1) s += cat_str(", groups=", options.groups);
    if (!bias.defined()) s += ", bias=False";
    return s;
}

}  // namespace graft::nn
