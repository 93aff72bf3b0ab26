// Unary elementwise math. Each is differentiable (sign's gradient is zero) and
// has an in-place form that writes into self.
#pragma once

#include <optional>

#include "core/tensor.h"

namespace graft {

Tensor neg(const Tensor& t);
Tensor exp(const Tensor& t);
Tensor log(const Tensor& t);
Tensor log1p(const Tensor& t);
Tensor sqrt(const Tensor& t);
Tensor rsqrt(const Tensor& t);
Tensor abs(const Tensor& t);
Tensor sign(const Tensor& t);
// Limits to [min, max]; either bound may be absent. Gradient 1 inside, 0 outside.
Tensor clamp(const Tensor& t, std::optional<double> min, std::optional<double> max);

const Tensor& neg_(const Tensor& t);
const Tensor& exp_(const Tensor& t);
const Tensor& log_(const Tensor& t);
const Tensor& log1p_(const Tensor& t);
const Tensor& sqrt_(const Tensor& t);
const Tensor& rsqrt_(const Tensor& t);
const Tensor& abs_(const Tensor& t);
const Tensor& sign_(const Tensor& t);
const Tensor& clamp_(const Tensor& t, std::optional<double> min, std::optional<double> max);

}  // namespace graft
