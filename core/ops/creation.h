// Creating tensors: filled, ranges, identity, and from host data.
// Every creation function takes the dtype (float32 unless given) and device.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace graft {

Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor full(const Shape& shape, Scalar value, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, Scalar value);
// A 0-d tensor holding `value`.
Tensor scalar_tensor(Scalar value, DType dtype = DType::Float32, Device device = Device::cpu());

// [start, end) in steps of `step`; the dtype is int64 when all three are integral
// Scalars and float32 otherwise, unless given.
Tensor arange(Scalar end);
Tensor arange(Scalar start, Scalar end, Scalar step = 1);
Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype);
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::Float32);
Tensor eye(int64_t n, int64_t m = -1, DType dtype = DType::Float32);

// Copies host values into a new tensor of `shape` (numel must match).
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape);
template <typename T>
Tensor from_vector(const std::vector<T>& values) { return from_vector(values, Shape{int64_t(values.size())}); }
// A tensor over a raw host buffer: copied when `copy` is true, otherwise the
// buffer is borrowed and must outlive the tensor and all its views.
Tensor from_blob(void* data, const Shape& shape, DType dtype, bool copy = true);

}  // namespace graft
