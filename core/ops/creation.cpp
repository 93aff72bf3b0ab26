// Creating tensors: filled, ranges, identity, and from host data.
#include "core/ops/creation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>

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

// Names the creation function the user called (Tensor::empty would name "empty").
void check_sizes(const Shape& shape, const char* op) {
    for (int64_t s : shape)
        check(s >= 0, op, "negative size ", s, " in shape ", shape_str(shape));
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
    check_sizes(shape, "zeros");
    if (device.is_cpu()) {
        Tensor t = Tensor::empty(shape, dtype);
        std::memset(t.raw_data(), 0, size_t(t.numel()) * t.element_size());  // all-zero bits is 0 in every dtype
        return t;
    }
    return filled(shape, 0.0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
    check_sizes(shape, "ones");
    return filled(shape, 1.0, dtype, device);
}
Tensor full(const Shape& shape, Scalar value, DType dtype, Device device) {
    check_sizes(shape, "full");
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
        if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));  // data() may be null when empty
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

// ---- ranges and identity ------------------------------------------------------

namespace {

bool all_integral(std::initializer_list<Scalar> values) {
    for (const Scalar& v : values)
        if (v.kind() == Scalar::Kind::Floating) return false;
    return true;
}

// PyTorch's length rule: ceil((end - start) / step), computed in double, or
// exactly when all three are integers (double would miscount beyond 2^53).
int64_t arange_length(Scalar start, Scalar end, Scalar step) {
    const double s = start.to_double(), e = end.to_double(), st = step.to_double();
    check(std::isfinite(s) && std::isfinite(e), "arange", "start ", s, " and end ", e, " must be finite");
    check(st != 0.0, "arange", "step must be nonzero, got start ", s, ", end ", e, ", step ", st);
    check((st > 0 && e >= s) || (st < 0 && e <= s), "arange", "step ", st, " has the wrong sign for the range from ",
          s, " to ", e);
    if (all_integral({start, end, step})) {
        const __int128 span = __int128(end.to_int()) - start.to_int(), by = step.to_int();
        check((by > 0 && span >= 0) || (by < 0 && span <= 0), "arange", "step ", step.to_int(),
              " has the wrong sign for the range from ", start.to_int(), " to ", end.to_int());
        const __int128 n = (span + by - (by > 0 ? 1 : -1)) / by;  // ceil for same-signed span and step
        check(n < __int128(INT64_MAX), "arange", "the range from ", s, " to ", e, " in steps of ", st, " is too long");
        return int64_t(n);
    }
    const double length = std::ceil((e - s) / st);
    check(length < 9.2e18, "arange", "the range from ", s, " to ", e, " in steps of ", st, " is too long");
    return int64_t(length);
}

}  // namespace

Tensor arange(Scalar end) { return arange(0, end, 1); }

Tensor arange(Scalar start, Scalar end, Scalar step) {
    const DType dtype = all_integral({start, end, step}) ? DType::Int64 : DType::Float32;
    return arange(start, end, step, dtype);
}

Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype) {
    const int64_t n = arange_length(start, end, step);
    if (dtype == DType::Int64 && all_integral({start, end, step})) {
        // Integer arithmetic keeps values beyond 2^53 exact.
        Tensor out = Tensor::empty({n}, DType::Int64);
        int64_t* p = out.data<int64_t>();
        const int64_t s = start.to_int(), st = step.to_int();
        for (int64_t i = 0; i < n; ++i) p[i] = s + i * st;
        return out;
    }
    // As PyTorch's CPU kernel: start + i * step in double, then rounded to dtype.
    Tensor out = Tensor::empty({n}, DType::Float64);
    double* p = out.data<double>();
    const double s = start.to_double(), st = step.to_double();
    for (int64_t i = 0; i < n; ++i) p[i] = s + double(i) * st;
    return dtype == DType::Float64 ? out : out.to(dtype);
}

namespace {

// PyTorch's linspace kernel: the first half counts up from start, the second
// half down from end, so both ends are exact and rounding error stays small.
// T is the dtype's own type for float32/float64 (as PyTorch), double otherwise.
template <typename T>
void linspace_fill(T* p, T start, T end, int64_t steps) {
    const T step = (end - start) / T(steps - 1);
    const int64_t halfway = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
        p[i] = i < halfway ? start + step * T(i) : end - step * T(steps - i - 1);
}

}  // namespace

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
    check(steps >= 0, "linspace", "number of steps must be non-negative, got ", steps);
    check(std::isfinite(start) && std::isfinite(end), "linspace", "start ", start, " and end ", end,
          " must be finite");
    if (steps == 0) return Tensor::empty({0}, dtype);
    if (steps == 1) return full({1}, start, dtype);
    if (dtype == DType::Float32) {
        Tensor out = Tensor::empty({steps}, DType::Float32);
        linspace_fill<float>(out.data<float>(), float(start), float(end), steps);
        return out;
    }
    Tensor out = Tensor::empty({steps}, DType::Float64);
    linspace_fill<double>(out.data<double>(), start, end, steps);
    return dtype == DType::Float64 ? out : out.to(dtype);
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
    check(n >= 0, "eye", "n must be non-negative, got ", n);
    check(m >= -1, "eye", "m must be non-negative (or -1 for m = n), got ", m);
    if (m == -1) m = n;
    Tensor out = zeros({n, m}, dtype);
    visit_dtype(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T one;
        if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) one = T(1.0f);
        else one = T(1);
        T* p = static_cast<T*>(out.raw_data());
        for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = one;
    });
    return out;
}

}  // namespace graft
