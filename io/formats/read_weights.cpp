#include "io/formats/read_weights.h"

#include <cstdint>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "io/formats/onnx.h"
#include "io/formats/pytorch.h"
#include "io/formats/safetensors.h"

namespace graft::io {

namespace {

std::string first_bytes(const std::string& path, size_t n) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "read_weights", path, ": cannot open the file");
    std::string bytes(n, '\0');
    in.read(bytes.data(), std::streamsize(n));
    bytes.resize(size_t(in.gcount()));
    return bytes;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A printable sketch of the first bytes, for the "not a weights file" message.
std::string sketch(const std::string& bytes) {
    std::string out;
    for (size_t i = 0; i < bytes.size() && i < 12; ++i) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        static const char* hex = "0123456789abcdef";
        out += (i ? " " : "");
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out.empty() ? "(empty file)" : out;
}

}  // namespace

std::string detect_weights_format(const std::string& path) {
    const std::string head = first_bytes(path, 16);
    if (head.size() >= 9 && head[8] == '{') return "safetensors";
    if (ends_with(path, ".index.json") && !head.empty() && head.find('{') != std::string::npos)
        return "safetensors-sharded";
    if (head.size() >= 2 && (head.compare(0, 2, "PK") == 0 || static_cast<unsigned char>(head[0]) == 0x80))
        return "pytorch";
    // tar (torch <= 0.3): "ustar" at offset 257
    const std::string tar = first_bytes(path, 262);
    if (tar.size() >= 262 && tar.compare(257, 5, "ustar") == 0) return "pytorch";
    // ONNX is a protobuf ModelProto: no magic. Exporters write field 1 (ir_version,
    // tag 0x08) first, a small varint, then another field's tag (producer_name 0x12,
    // ..., graph 0x3a, opset_import 0x42); or the name says .onnx.
    if (ends_with(path, ".onnx")) return "onnx";
    if (head.size() >= 3 && head[0] == 0x08 && head[1] >= 1 && head[1] <= 20) {
        const unsigned char next = static_cast<unsigned char>(head[2]);
        if ((next & 7) == 2 && (next >> 3) >= 2 && (next >> 3) <= 8) return "onnx";
    }
    return "";
}

NamedTensors read_weights(const std::string& path, const WeightsReadOptions& options) {
    const std::string format = detect_weights_format(path);
    if (format == "safetensors") {
        NamedTensors t = read_safetensors(path, {.copy = options.copy});
        t.metadata["format"] = "safetensors";
        return t;
    }
    if (format == "safetensors-sharded") {
        NamedTensors t = read_safetensors_sharded(path, {.copy = options.copy});
        t.metadata["format"] = "safetensors-sharded";
        return t;
    }
    if (format == "pytorch") {
        PytorchReadOptions o;
        if (!options.key.empty()) o.key = options.key;
        o.to_float32 = options.to_float32;
        o.copy = options.copy;
        return read_pytorch(path, o);
    }
    if (format == "onnx") return read_onnx(path, {.convert_to_float32 = options.to_float32});
    const std::string head = first_bytes(path, 16);
    throw Error(cat_str("read_weights: ", path, ": not a weights file Graft reads (safetensors, PyTorch .pth/.pt/.bin, ",
                        "a sharded *.index.json, ONNX .onnx)",
                        "; first bytes: ", sketch(head)));
}

}  // namespace graft::io
