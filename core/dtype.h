// DType: the element types a Tensor can hold, their sizes and names, the 16-bit
// float formats (storage and conversion), and visit_dtype, which turns a runtime
// dtype into a compile-time type once so that each kernel body is written once.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.h"

namespace graft {

enum class DType : uint8_t { Float32, Float64, Float16, BFloat16, Int64, Int32, UInt8, Bool };
inline constexpr int kNumDTypes = 8;

// IEEE 754 binary16, stored as its bit pattern. Converts to and from float.
struct Half {
    uint16_t bits = 0;
    Half() = default;
    Half(float value);  // round to nearest even
    operator float() const;
};

// bfloat16: the top 16 bits of a float32. Converts to and from float.
struct BFloat16 {
    uint16_t bits = 0;
    BFloat16() = default;
    BFloat16(float value) {  // round to nearest even; NaN stays NaN
        uint32_t u;
        std::memcpy(&u, &value, 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) { bits = uint16_t((u >> 16) | 0x40); return; }
        u += 0x7fffu + ((u >> 16) & 1u);
        bits = uint16_t(u >> 16);
    }
    operator float() const {
        uint32_t u = uint32_t(bits) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
};

size_t element_size(DType dtype);
const char* dtype_name(DType dtype);  // "float32", ... as PyTorch prints them
bool is_floating(DType dtype);         // float32/64/16, bfloat16
bool is_integral(DType dtype);         // int64/32, uint8 (not bool)

// The dtype of a binary op's result: PyTorch's promotion among the categories
// bool < integral < floating, and within a category the wider type.
DType promote_types(DType a, DType b);

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<Half> { static constexpr DType value = DType::Float16; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::BFloat16; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

template <typename T> struct TypeTag { using type = T; };

// Calls fn(TypeTag<T>{}) with T the C++ type of `dtype`:
//   visit_dtype(t.dtype(), [&](auto tag) { using T = typename decltype(tag)::type; ... });
template <typename Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
    switch (dtype) {
        case DType::Float32: return fn(TypeTag<float>{});
        case DType::Float64: return fn(TypeTag<double>{});
        case DType::Float16: return fn(TypeTag<Half>{});
        case DType::BFloat16: return fn(TypeTag<BFloat16>{});
        case DType::Int64: return fn(TypeTag<int64_t>{});
        case DType::Int32: return fn(TypeTag<int32_t>{});
        case DType::UInt8: return fn(TypeTag<uint8_t>{});
        case DType::Bool: return fn(TypeTag<bool>{});
    }
    throw Error("visit_dtype: invalid dtype");
}

// As visit_dtype, restricted to the dtypes arithmetic kernels compute in
// (float32, float64, int64, int32, uint8). 16-bit floats are storage formats on
// the CPU: convert them with to(DType::Float32) first. Throws naming `op`.
template <typename Fn>
decltype(auto) visit_compute_dtype(DType dtype, const char* op, Fn&& fn) {
    switch (dtype) {
        case DType::Float32: return fn(TypeTag<float>{});
        case DType::Float64: return fn(TypeTag<double>{});
        case DType::Int64: return fn(TypeTag<int64_t>{});
        case DType::Int32: return fn(TypeTag<int32_t>{});
        case DType::UInt8: return fn(TypeTag<uint8_t>{});
        default: break;
    }
    throw Error(cat_str(op, ": not implemented for dtype ", dtype_name(dtype),
                        " (16-bit floats and bool are storage types on the CPU; convert with .to())"));
}

// As visit_dtype, restricted to float32 and float64.
template <typename Fn>
decltype(auto) visit_float_dtype(DType dtype, const char* op, Fn&& fn) {
    if (dtype == DType::Float32) return fn(TypeTag<float>{});
    if (dtype == DType::Float64) return fn(TypeTag<double>{});
    throw Error(cat_str(op, ": expected a float32 or float64 tensor, got ", dtype_name(dtype)));
}

}  // namespace graft
