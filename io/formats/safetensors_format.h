// Internal to io/formats: the pieces of the safetensors format shared by its
// reader, writer and sharded reader (see safetensors.h for the format itself).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/dtype.h"

namespace graft::io::safetensors {

// The reference implementation's MAX_HEADER_SIZE.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// One dtype name of the format. `rank` is its position in the reference's
// Dtype enum (ordered by alignment), which its writer sorts by.
struct DTypeInfo {
    const char* name;
    int bits;
    int rank;
    std::optional<DType> graft;  // empty: valid safetensors, but Graft has no such type
};

// The entry named `name` ("F32", ...), or null when the format has none.
const DTypeInfo* find_dtype(std::string_view name);
// The entry for a Graft dtype (every Graft dtype has one).
const DTypeInfo& dtype_info(DType dtype);

// Parses JSON keeping key order, and refuses duplicate keys at any depth (the
// safetensors README forbids them; JSON libraries silently keep one). Throws
// Error("<where>: ...") on any problem.
nlohmann::ordered_json parse_json_strict(std::string_view text, const std::string& where);

}  // namespace graft::io::safetensors
