// Conv2d: 2-d convolution over NCHW input, as torch.nn.Conv2d (zeros padding).
//
//   auto conv = std::make_shared<nn::Conv2d>(3, 64, 7, nn::Conv2dOptions{.stride = 2, .padding = 3, .bias = false});
//   Tensor y = (*conv)(x);   // x [N, 3, H, W] -> [N, 64, H/2, W/2]
//
// Parameters "weight" [out, in/groups, kH, kW] and "bias" [out] (absent without
// bias, as torch leaves it out of the state_dict). Padding is symmetric
// (`padding = 1`, or {ph, pw}) or explicit per side (Padding2d{top, bottom,
// left, right}), the latter for TF "SAME" padding as EfficientNet's ports use.
// Default init as torch: kaiming_uniform_(a = sqrt(5)) on the weight, which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in/groups * kH * kW, and the
// bias from the same range.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops/conv.h"
#include "core/ops/random.h"
#include "nn/module.h"

namespace graft::nn {

// A (height, width) pair; a single value means both. `pair` remembers whether
// two values were given, so printing can echo the way PyTorch was called.
struct Size2d {
    int64_t h = 1, w = 1;
    bool pair = false;
    Size2d(int64_t v) : h(v), w(v) {}  // NOLINT: implicit, as torch takes an int or a tuple
    Size2d(int64_t h_, int64_t w_) : h(h_), w(w_), pair(true) {}
    std::string str() const;  // "(h, w)"
};

struct Padding2d {
    int64_t top = 0, bottom = 0, left = 0, right = 0;
    Padding2d(int64_t p = 0) : top(p), bottom(p), left(p), right(p) {}  // NOLINT: implicit, as torch's int
    Padding2d(int64_t ph, int64_t pw) : top(ph), bottom(ph), left(pw), right(pw) {}
    Padding2d(int64_t top_, int64_t bottom_, int64_t left_, int64_t right_)
        : top(top_), bottom(bottom_), left(left_), right(right_) {}
    bool symmetric() const { return top == bottom && left == right; }
    bool zero() const { return top == 0 && bottom == 0 && left == 0 && right == 0; }
};

struct Conv2dOptions {
    Size2d stride = 1;
    Padding2d padding = 0;
    Size2d dilation = 1;
    int64_t groups = 1;
    bool bias = true;
};

class Conv2d : public Module {
public:
    Conv2d(int64_t in_channels, int64_t out_channels, Size2d kernel_size, Conv2dOptions options = {},
           Generator* gen = nullptr);

    // x [N, in, H, W] -> [N, out, Ho, Wo]
    Tensor forward(const Tensor& x) override;
    // "3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False"; explicit
    // asymmetric padding prints as padding=(top, bottom, left, right).
    std::string extra_repr() const override;
    // Draws fresh values with torch's default rule (from `gen`, or the default generator).
    void reset_parameters(Generator* gen = nullptr);
    // The op's parameters for these options.
    Conv2dParams params() const;

    const int64_t in_channels;
    const int64_t out_channels;
    const Size2d kernel_size;
    const Conv2dOptions options;
    Tensor weight;  // [out, in/groups, kH, kW]
    Tensor bias;    // [out], undefined without bias
};

}  // namespace graft::nn
