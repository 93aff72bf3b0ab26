// Pooling layers over NCHW (or CHW) input, as torch.nn.MaxPool2d, AvgPool2d and
// AdaptiveAvgPool2d; no parameters. The work is in core/ops/pool.h.
//
//   auto pool = std::make_shared<nn::MaxPool2d>(3, nn::MaxPool2dOptions{.stride = 2, .padding = 1});
//   auto gap = std::make_shared<nn::AdaptiveAvgPool2d>(nn::Size2d{1, 1});
//
// The stride defaults to the kernel size, as in torch. Printing echoes sizes the
// way they were given (an int or a pair), as torch's repr does.
#pragma once

#include <optional>
#include <string>

#include "core/ops/pool.h"
#include "nn/layers/conv.h"
#include "nn/module.h"

namespace graft::nn {

struct MaxPool2dOptions {
    std::optional<Size2d> stride;  // default: the kernel size
    Size2d padding = 0;
    Size2d dilation = 1;
    bool ceil_mode = false;
};

struct AvgPool2dOptions {
    std::optional<Size2d> stride;  // default: the kernel size
    Size2d padding = 0;
    bool ceil_mode = false;
    bool count_include_pad = true;
};

class MaxPool2d : public Module {
public:
    explicit MaxPool2d(Size2d kernel_size, MaxPool2dOptions options = {});
    Tensor forward(const Tensor& x) override;
    // "kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False"
    std::string extra_repr() const override;
    const Size2d kernel_size;
    const MaxPool2dOptions options;
};

class AvgPool2d : public Module {
public:
    explicit AvgPool2d(Size2d kernel_size, AvgPool2dOptions options = {});
    Tensor forward(const Tensor& x) override;
    // "kernel_size=2, stride=2, padding=0"
    std::string extra_repr() const override;
    const Size2d kernel_size;
    const AvgPool2dOptions options;
};

class AdaptiveAvgPool2d : public Module {
public:
    explicit AdaptiveAvgPool2d(Size2d output_size);
    Tensor forward(const Tensor& x) override;
    // "output_size=(1, 1)"
    std::string extra_repr() const override;
    const Size2d output_size;
};

}  // namespace graft::nn
