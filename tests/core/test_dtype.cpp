// DType: the 16-bit float conversions (exhaustive round trips, round-to-nearest-
// even on hand-picked ties, subnormals, overflow, NaN), PyTorch's promotion
// table, and the size/name/category helpers.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "graft.h"

using namespace graft;

namespace {

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

Half half_from_bits(uint16_t bits) {
    Half h;
    h.bits = bits;
    return h;
}

BFloat16 bf16_from_bits(uint16_t bits) {
    BFloat16 b;
    b.bits = bits;
    return b;
}

bool half_is_nan(uint16_t bits) { return (bits & 0x7c00u) == 0x7c00u && (bits & 0x03ffu) != 0; }
bool bf16_is_nan(uint16_t bits) { return (bits & 0x7f80u) == 0x7f80u && (bits & 0x007fu) != 0; }

}  // namespace

TEST_CASE("every half bit pattern round-trips through float exactly", "[dtype]") {
    int mismatches = 0;
    for (uint32_t b = 0; b < 65536; ++b) {
        const float f = float(half_from_bits(uint16_t(b)));
        if (half_is_nan(uint16_t(b))) {
            if (!std::isnan(f) || !half_is_nan(Half(f).bits)) ++mismatches;
            continue;
        }
        if (Half(f).bits != b) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("half decodes known values", "[dtype]") {
    CHECK(float(half_from_bits(0x3c00)) == 1.0f);
    CHECK(float(half_from_bits(0xc000)) == -2.0f);
    CHECK(float(half_from_bits(0x7bff)) == 65504.0f);            // largest finite
    CHECK(float(half_from_bits(0x0400)) == std::ldexp(1.0f, -14));  // smallest normal
    CHECK(float(half_from_bits(0x0001)) == std::ldexp(1.0f, -24));  // smallest subnormal
    CHECK(float(half_from_bits(0x03ff)) == 1023 * std::ldexp(1.0f, -24));
    CHECK(std::isinf(float(half_from_bits(0x7c00))));
    CHECK(std::signbit(float(half_from_bits(0x8000))));
}

TEST_CASE("float to half rounds to nearest even", "[dtype]") {
    const float ulp1 = std::ldexp(1.0f, -10);  // half's spacing at 1
    struct Case {
        float in;
        uint16_t want;
    };
    const Case cases[] = {
        {1.0f + ulp1 / 2, 0x3c00},                                     // tie -> even (down)
        {1.0f + 3 * ulp1 / 2, 0x3c02},                                 // tie -> even (up)
        {std::nextafter(1.0f + ulp1 / 2, 2.0f), 0x3c01},               // just above a tie
        {std::nextafter(1.0f + ulp1 / 2, 0.0f), 0x3c00},               // just below a tie
        {-(1.0f + 3 * ulp1 / 2), 0xbc02},
        {65504.0f, 0x7bff},
        {65519.0f, 0x7bff},                                            // below the tie with 65536
        {65520.0f, 0x7c00},                                            // tie -> even = 2^16 = inf
        {1e6f, 0x7c00},
        {-1e6f, 0xfc00},
        {std::numeric_limits<float>::infinity(), 0x7c00},
        {std::ldexp(1.0f, -14), 0x0400},
        {std::ldexp(1.0f, -24), 0x0001},                               // smallest subnormal
        {std::ldexp(1.0f, -25), 0x0000},                               // tie with 0 -> even (0)
        {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001},
        {3 * std::ldexp(1.0f, -25), 0x0002},                           // tie between 1 and 2 -> 2
        {5 * std::ldexp(1.0f, -25), 0x0002},                           // tie between 2 and 3 -> 2
        {1023.5f * std::ldexp(1.0f, -24), 0x0400},                     // tie into the normals
        {1e-8f, 0x0000},
        {-1e-8f, 0x8000},
        {-0.0f, 0x8000},
        {from_bits(0x00000001), 0x0000},                               // float subnormal
    };
    for (const Case& c : cases) {
        INFO("input " << c.in);
        CHECK(Half(c.in).bits == c.want);
    }
    CHECK(half_is_nan(Half(std::numeric_limits<float>::quiet_NaN()).bits));
    CHECK(half_is_nan(Half(from_bits(0x7f800001)).bits));  // signalling NaN with only low bits set
    CHECK(half_is_nan(Half(from_bits(0xffc00000)).bits));
}

TEST_CASE("every bfloat16 bit pattern round-trips through float exactly", "[dtype]") {
    int mismatches = 0;
    for (uint32_t b = 0; b < 65536; ++b) {
        const float f = float(bf16_from_bits(uint16_t(b)));
        if (bf16_is_nan(uint16_t(b))) {
            if (!std::isnan(f) || !bf16_is_nan(BFloat16(f).bits)) ++mismatches;
            continue;
        }
        if (BFloat16(f).bits != b) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("float to bfloat16 rounds to nearest even", "[dtype]") {
    const float ulp1 = std::ldexp(1.0f, -7);  // bfloat16's spacing at 1 (epsilon 2^-7)
    struct Case {
        float in;
        uint16_t want;
    };
    const Case cases[] = {
        {1.0f, 0x3f80},
        {1.0f + ulp1 / 2, 0x3f80},                        // tie -> even (down)
        {1.0f + 3 * ulp1 / 2, 0x3f82},                    // tie -> even (up)
        {std::nextafter(1.0f + ulp1 / 2, 2.0f), 0x3f81},  // just above a tie
        {-2.0f, 0xc000},
        {std::numeric_limits<float>::max(), 0x7f80},      // rounds past the largest bfloat16
        {from_bits(0x7f7f7fff), 0x7f7f},                  // just below that tie
        {std::numeric_limits<float>::infinity(), 0x7f80},
        {-std::numeric_limits<float>::infinity(), 0xff80},
        {from_bits(0x00008000), 0x0000},                  // subnormal tie -> even (0)
        {from_bits(0x00018000), 0x0002},                  // subnormal tie -> even (2)
        {from_bits(0x00010001), 0x0001},
        {-0.0f, 0x8000},
    };
    for (const Case& c : cases) {
        INFO("input " << c.in);
        CHECK(BFloat16(c.in).bits == c.want);
    }
    CHECK(bf16_is_nan(BFloat16(std::numeric_limits<float>::quiet_NaN()).bits));
    CHECK(bf16_is_nan(BFloat16(from_bits(0x7f800001)).bits));  // low payload bits only: must not become inf
    CHECK(bf16_is_nan(BFloat16(from_bits(0xff800001)).bits));
}

TEST_CASE("tensor conversions use the same rounding", "[dtype]") {
    const float tie = 1.0f + std::ldexp(1.0f, -11);
    Tensor h = from_vector<float>({tie, 65520.0f}).to(DType::Float16);
    CHECK(h.to_vector<float>() == std::vector<float>{1.0f, std::numeric_limits<float>::infinity()});
    Tensor b = from_vector<float>({1.0f + std::ldexp(1.0f, -8)}).to(DType::BFloat16);
    CHECK(b.to_vector<float>() == std::vector<float>{1.0f});
}

TEST_CASE("promote_types follows PyTorch's table", "[dtype]") {
    using D = DType;
    const D order[] = {D::Float32, D::Float64, D::Float16, D::BFloat16, D::Int64, D::Int32, D::UInt8, D::Bool};
    // torch.promote_types for these dtypes, rows and columns in `order`.
    const D table[8][8] = {
        {D::Float32, D::Float64, D::Float32, D::Float32, D::Float32, D::Float32, D::Float32, D::Float32},
        {D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64},
        {D::Float32, D::Float64, D::Float16, D::Float32, D::Float16, D::Float16, D::Float16, D::Float16},
        {D::Float32, D::Float64, D::Float32, D::BFloat16, D::BFloat16, D::BFloat16, D::BFloat16, D::BFloat16},
        {D::Float32, D::Float64, D::Float16, D::BFloat16, D::Int64, D::Int64, D::Int64, D::Int64},
        {D::Float32, D::Float64, D::Float16, D::BFloat16, D::Int64, D::Int32, D::Int32, D::Int32},
        {D::Float32, D::Float64, D::Float16, D::BFloat16, D::Int64, D::Int32, D::UInt8, D::UInt8},
        {D::Float32, D::Float64, D::Float16, D::BFloat16, D::Int64, D::Int32, D::UInt8, D::Bool},
    };
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) {
            INFO(dtype_name(order[i]) << " with " << dtype_name(order[j]));
            CHECK(promote_types(order[i], order[j]) == table[i][j]);
        }
}

TEST_CASE("element sizes, names and categories", "[dtype]") {
    using D = DType;
    struct Row {
        D dtype;
        size_t size;
        const char* name;
        bool floating, integral;
    };
    const Row rows[] = {
        {D::Float32, 4, "float32", true, false}, {D::Float64, 8, "float64", true, false},
        {D::Float16, 2, "float16", true, false}, {D::BFloat16, 2, "bfloat16", true, false},
        {D::Int64, 8, "int64", false, true},     {D::Int32, 4, "int32", false, true},
        {D::UInt8, 1, "uint8", false, true},     {D::Bool, 1, "bool", false, false},
    };
    STATIC_REQUIRE(sizeof(rows) / sizeof(rows[0]) == kNumDTypes);
    for (const Row& r : rows) {
        INFO(r.name);
        CHECK(element_size(r.dtype) == r.size);
        CHECK(std::string(dtype_name(r.dtype)) == r.name);
        CHECK(is_floating(r.dtype) == r.floating);
        CHECK(is_integral(r.dtype) == r.integral);
    }
    CHECK(sizeof(Half) == 2);
    CHECK(sizeof(BFloat16) == 2);
}
