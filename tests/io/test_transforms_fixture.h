// Reading tests/fixtures/transforms/transform_parity.json (written by
// tests/fixtures/make_transform_fixtures.py): raw tensors stored as base64.
#pragma once

#include <cstring>
#include <string>

#include "graft.h"
#include "tests/support/fixtures.h"

namespace graft::testing {

inline const nlohmann::json& transform_fixture() {
    static const nlohmann::json j = [] {
        nlohmann::json f = load_fixture("transforms/transform_parity.json");
        check(f.value("format", "") == "graft-transform-fixture/1", "transform fixture",
              "unexpected format; regenerate with ", f.value("command", "tests/fixtures/make_transform_fixtures.py"));
        return f;
    }();
    return j;
}

inline std::string base64_decode(const std::string& text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    uint32_t bits = 0;
    int nbits = 0;
    for (char c : text) {
        int v = value(c);
        if (v < 0) continue;  // '=' padding
        bits = (bits << 6) | uint32_t(v);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out.push_back(char((bits >> nbits) & 0xFF));
        }
    }
    return out;
}

// {"shape", "data"} plus a dtype ("uint8" unless given) -> a contiguous tensor.
inline Tensor fixture_tensor(const nlohmann::json& j, const std::string& dtype = "uint8") {
    Shape shape = j.at("shape").get<Shape>();
    const std::string bytes = base64_decode(j.at("data").get<std::string>());
    Tensor t = Tensor::empty(shape, dtype == "float32" ? DType::Float32 : DType::UInt8);
    check(bytes.size() == size_t(t.numel()) * t.element_size(), "fixture_tensor", "byte count ", bytes.size(),
          " does not fit ", describe(t));
    std::memcpy(t.raw_data(), bytes.data(), bytes.size());
    return t;
}

inline std::string fixture_path(const std::string& relative) {
    return std::string(GRAFT_FIXTURES_DIR) + "/" + relative;
}

}  // namespace graft::testing
