// Changing dtype or device, making layouts contiguous, copying.
#pragma once

#include "core/tensor.h"

namespace graft {

Tensor to_dtype(const Tensor& t, DType dtype);    // differentiable between float dtypes
Tensor to_device(const Tensor& t, Device device);
Tensor contiguous(const Tensor& t);                // self when already contiguous
Tensor clone(const Tensor& t);                     // differentiable
// Writes src (broadcast to dst's shape, converted to dst's dtype) into dst.
const Tensor& copy_(const Tensor& dst, const Tensor& src);

}  // namespace graft
