// Scalar: a number passed where a tensor operand may stand (x + 1, x * 0.5).
// It remembers whether it was written as an integer, a float or a bool, because
// that decides the result dtype the way PyTorch does: an int tensor plus 0.5 is
// float32, a float32 tensor times 2 stays float32.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/dtype.h"

namespace graft {

class Scalar {
public:
    enum class Kind : uint8_t { Bool, Integral, Floating };

    Scalar(bool v) : value_(v ? 1.0 : 0.0), kind_(Kind::Bool) {}
    template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    Scalar(T v) : value_(double(v)), ivalue_(int64_t(v)), kind_(Kind::Integral) {}
    template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
    Scalar(T v) : value_(double(v)), kind_(Kind::Floating) {}

    double to_double() const { return value_; }
    int64_t to_int() const { return kind_ == Kind::Integral ? ivalue_ : int64_t(value_); }
    Kind kind() const { return kind_; }

    // The dtype of `tensor_dtype op this scalar`: the tensor's dtype wins unless the
    // scalar belongs to a higher category (float beats int beats bool).
    DType result_dtype(DType tensor_dtype) const {
        if (kind_ == Kind::Floating && !is_floating(tensor_dtype)) return DType::Float32;
        if (kind_ == Kind::Integral && tensor_dtype == DType::Bool) return DType::Int64;
        return tensor_dtype;
    }

private:
    double value_ = 0;
    int64_t ivalue_ = 0;
    Kind kind_ = Kind::Floating;
};

}  // namespace graft
