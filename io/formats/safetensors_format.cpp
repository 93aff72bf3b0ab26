// The safetensors dtype table and the strict JSON parse (safetensors_format.h).
#include "io/formats/safetensors_format.h"

#include <array>
#include <set>
#include <vector>

#include "core/error.h"

namespace graft::io::safetensors {

namespace {

// In the order of the reference's Dtype enum (safetensors/src/tensor.rs).
const std::array<DTypeInfo, 22> kDTypes = {{
    {"BOOL", 8, 0, DType::Bool},
    {"F4", 4, 1, std::nullopt},
    {"F6_E2M3", 6, 2, std::nullopt},
    {"F6_E3M2", 6, 3, std::nullopt},
    {"U8", 8, 4, DType::UInt8},
    {"I8", 8, 5, std::nullopt},
    {"F8_E5M2", 8, 6, std::nullopt},
    {"F8_E4M3", 8, 7, std::nullopt},
    {"F8_E8M0", 8, 8, std::nullopt},
    {"F8_E4M3FNUZ", 8, 9, std::nullopt},
    {"F8_E5M2FNUZ", 8, 10, std::nullopt},
    {"I16", 16, 11, std::nullopt},
    {"U16", 16, 12, std::nullopt},
    {"F16", 16, 13, DType::Float16},
    {"BF16", 16, 14, DType::BFloat16},
    {"I32", 32, 15, DType::Int32},
    {"U32", 32, 16, std::nullopt},
    {"F32", 32, 17, DType::Float32},
    {"C64", 64, 18, std::nullopt},
    {"F64", 64, 19, DType::Float64},
    {"I64", 64, 20, DType::Int64},
    {"U64", 64, 21, std::nullopt},
}};

}  // namespace

const DTypeInfo* find_dtype(std::string_view name) {
    for (const auto& d : kDTypes)
        if (name == d.name) return &d;
    return nullptr;
}

const DTypeInfo& dtype_info(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.graft == dtype) return d;
    throw Error(cat_str("safetensors: no safetensors name for dtype ", dtype_name(dtype)));
}

nlohmann::ordered_json parse_json_strict(std::string_view text, const std::string& where) {
    using Json = nlohmann::ordered_json;
    // One set of seen keys per open object; a duplicate is remembered, not
    // thrown from inside the parser.
    std::vector<std::set<std::string>> open;
    std::string duplicate;
    auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
        switch (event) {
            case Json::parse_event_t::object_start: open.emplace_back(); break;
            case Json::parse_event_t::object_end:
                if (!open.empty()) open.pop_back();
                break;
            case Json::parse_event_t::key:
                if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second && duplicate.empty())
                    duplicate = parsed.get<std::string>();
                break;
            default: break;
        }
        return true;
    };
    Json out;
    try {
        out = Json::parse(text.begin(), text.end(), callback);
    } catch (const Json::exception& e) {
        throw Error(cat_str(where, ": not valid JSON (", e.what(), ")"));
    }
    check(duplicate.empty(), where.c_str(), "duplicate key \"", duplicate, "\"");
    return out;
}

}  // namespace graft::io::safetensors
