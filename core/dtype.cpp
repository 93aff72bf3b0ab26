#include "core/dtype.h"

namespace graft {

Half::Half(float value) {
    uint32_t u;
    std::memcpy(&u, &value, 4);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) { bits = uint16_t(sign | 0x7e00u); return; }        // NaN
    if (abs >= 0x477ff000u) { bits = uint16_t(sign | 0x7c00u); return; }       // overflow -> inf
    if (abs < 0x38800000u) {                                                   // subnormal or zero
        // Adding 0.5f aligns the half subnormal grid with float's mantissa LSB,
        // so the float adder does the round-to-nearest-even for us.
        float f;
        std::memcpy(&f, &abs, 4);
        f += 0.5f;
        uint32_t r;
        std::memcpy(&r, &f, 4);
        bits = uint16_t(sign | (r - 0x3f000000u));
        return;
    }
    const uint32_t mant_odd = (abs >> 13) & 1u;
    const uint32_t rounded = abs + 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round
    bits = uint16_t(sign | (rounded >> 13));
}

Half::operator float() const {
    const uint32_t sign = uint32_t(bits & 0x8000u) << 16;
    const uint32_t exp = (bits >> 10) & 0x1fu;
    const uint32_t mant = bits & 0x3ffu;
    uint32_t u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
        // subnormal: value = mant * 2^-24, exact in float
        float f = float(mant) * 5.9604644775390625e-08f;
        std::memcpy(&u, &f, 4);
        u |= sign;
    } else {
        u = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

size_t element_size(DType dtype) {
    switch (dtype) {
        case DType::Float32: return 4;
        case DType::Float64: return 8;
        case DType::Float16: return 2;
        case DType::BFloat16: return 2;
        case DType::Int64: return 8;
        case DType::Int32: return 4;
        case DType::UInt8: return 1;
        case DType::Bool: return 1;
    }
    return 0;
}

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::Float32: return "float32";
        case DType::Float64: return "float64";
        case DType::Float16: return "float16";
        case DType::BFloat16: return "bfloat16";
        case DType::Int64: return "int64";
        case DType::Int32: return "int32";
        case DType::UInt8: return "uint8";
        case DType::Bool: return "bool";
    }
    return "invalid";
}

bool is_floating(DType dtype) {
    return dtype == DType::Float32 || dtype == DType::Float64 || dtype == DType::Float16 ||
           dtype == DType::BFloat16;
}

bool is_integral(DType dtype) {
    return dtype == DType::Int64 || dtype == DType::Int32 || dtype == DType::UInt8;
}

namespace {
int category(DType d) { return d == DType::Bool ? 0 : is_integral(d) ? 1 : 2; }
int rank_within(DType d) {
    switch (d) {
        case DType::UInt8: return 0;
        case DType::Int32: return 1;
        case DType::Int64: return 2;
        case DType::Float16: return 0;
        case DType::BFloat16: return 0;
        case DType::Float32: return 1;
        case DType::Float64: return 2;
        default: return 0;
    }
}
}  // namespace

DType promote_types(DType a, DType b) {
    if (a == b) return a;
    if (category(a) != category(b)) return category(a) > category(b) ? a : b;
    // float16 with bfloat16 has no exact common 16-bit type: PyTorch picks float32.
    if ((a == DType::Float16 && b == DType::BFloat16) || (a == DType::BFloat16 && b == DType::Float16))
        return DType::Float32;
    return rank_within(a) >= rank_within(b) ? a : b;
}

}  // namespace graft
