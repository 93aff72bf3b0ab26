// Creating tensors: filled, ranges, identity, and from host data.
#include "core/ops/creation.h"

#include <cmath>
#include <cstring>

#include "core/ops/convert.h"

namespace graft {

namespace {

// Fills a fresh contiguous CPU tensor with `value` converted to its dtype.
void fill_cpu(const Tensor& t, double value) {
    visit_dtype(t.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T v;
        if constexpr (std::is_same_v<T, bool>) v = value != 0.0;
        else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) v = T(float(value));
        else v = T(value);
        T* p = static_cast<T*>(t.raw_data());
        const int64_t n = t.numel();
        for (int64_t i = 0; i < n; ++i) p[i] = v;
    });
}

Tensor filled(const Shape& shape, double value, DType dtype, Device device) {
    if (device.is_cpu()) {
        Tensor t = Tensor::empty(shape, dtype);
        fill_cpu(t, value);
        return t;
    }
    return filled(shape, value, dtype, Device::cpu()).to(device);
}

}  // namespace

Tensor empty(const Shape& shape, DType dtype, Device device) { return Tensor::empty(shape, dtype, device); }
Tensor zeros(const Shape& shape, DType dtype, Device device) {
    if (device.is_cpu()) {
        Tensor t = Tensor::empty(shape, dtype);
        std::memset(t.raw_data(), 0, size_t(t.numel()) * t.element_size());  // all-zero bits is 0 in every dtype
        return t;
    }
    return filled(shape, 0.0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) { return filled(shape, 1.0, dtype, device); }
Tensor full(const Shape& shape, Scalar value, DType dtype, Device device) {
    return filled(shape, value.to_double(), dtype, device);
}
Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, Scalar value) { return full(t.shape(), value, t.dtype(), t.device()); }

Tensor scalar_tensor(Scalar value, DType dtype, Device device) {
    if (dtype == DType::Int64 && value.kind() == Scalar::Kind::Integral && device.is_cpu()) {
        Tensor t = Tensor::empty({}, dtype);
        *t.data<int64_t>() = value.to_int();  // exact beyond 2^53
        return t;
    }
    return filled({}, value.to_double(), dtype, device);
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    check(int64_t(values.size()) == shape_numel(shape), "from_vector", "got ", values.size(),
          " values for shape ", shape_str(shape), " (", shape_numel(shape), " elements)");
    Tensor t = Tensor::empty(shape, dtype_of<T>::value);
    if constexpr (std::is_same_v<T, bool>) {
        bool* p = t.data<bool>();
        for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
    } else {
        std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
    }
    return t;
}

template Tensor from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&);
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&);
template Tensor from_vector<Half>(const std::vector<Half>&, const Shape&);
template Tensor from_vector<BFloat16>(const std::vector<BFloat16>&, const Shape&);

Tensor from_blob(void* data, const Shape& shape, DType dtype, bool copy) {
    check(data != nullptr || shape_numel(shape) == 0, "from_blob", "null data pointer for shape ", shape_str(shape));
    const size_t nbytes = size_t(shape_numel(shape)) * element_size(dtype);
    if (copy) {
        Tensor t = Tensor::empty(shape, dtype);
        if (nbytes) std::memcpy(t.raw_data(), data, nbytes);
        return t;
    }
    auto storage = Storage::wrap(data, nbytes, Device::cpu(), nullptr, nullptr);
    return Tensor::from_storage(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

}  // namespace graft

// Placeholders until ranges land: each throws.
namespace graft {
Tensor arange(Scalar) { throw Error("arange: not implemented yet"); }
Tensor arange(Scalar, Scalar, Scalar) { throw Error("arange: not implemented yet"); }
Tensor arange(Scalar, Scalar, Scalar, DType) { throw Error("arange: not implemented yet"); }
Tensor linspace(double, double, int64_t, DType) { throw Error("linspace: not implemented yet"); }
Tensor eye(int64_t, int64_t, DType) { throw Error("eye: not implemented yet"); }
}  // namespace graft
