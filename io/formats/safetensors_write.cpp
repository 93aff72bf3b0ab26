// write_safetensors and serialize_safetensors (safetensors.h): lay the tensors
// out as the reference writer does, then stream header and bytes.
#include <algorithm>
#include <vector>

#include "io/formats/atomic_file.h"
#include "io/formats/safetensors.h"
#include "io/formats/safetensors_format.h"

namespace graft::io {

namespace {

struct Layout {
    std::string header;  // length prefix + JSON + padding
    std::vector<std::pair<std::string, Tensor>> tensors;  // contiguous CPU, in data order
};

Layout plan(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata, const char* op) {
    Layout layout;
    for (const auto& [name, t] : tensors) {
        check(t.defined(), op, "tensor '", name, "' is undefined");
        check(name != "__metadata__", op, "a tensor may not be called \"__metadata__\" (the format reserves it)");
        Tensor c = t.device().is_cpu() ? t : t.to(Device::cpu());
        layout.tensors.emplace_back(name, c.contiguous());
    }
    // The reference writer's order: dtype (by its enum, i.e. alignment) descending, then name.
    std::stable_sort(layout.tensors.begin(), layout.tensors.end(), [](const auto& a, const auto& b) {
        const int ra = safetensors::dtype_info(a.second.dtype()).rank;
        const int rb = safetensors::dtype_info(b.second.dtype()).rank;
        return ra != rb ? ra > rb : a.first < b.first;
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [name, t] : layout.tensors) {
        const uint64_t nbytes = uint64_t(t.numel()) * t.element_size();
        header[name] = {{"dtype", safetensors::dtype_info(t.dtype()).name},
                        {"shape", t.shape()},
                        {"data_offsets", {offset, offset + nbytes}}};
        offset += nbytes;
    }
    std::string json = header.dump();
    // Spaces up to a multiple of 8 put the data 8-aligned in the file, as the reference does.
    json.append((8 - (8 + json.size()) % 8) % 8, ' ');
    check(json.size() <= safetensors::kMaxHeaderBytes, op, "the header would be ", json.size(),
          " bytes, over the format's limit of ", safetensors::kMaxHeaderBytes);
    const uint64_t n = json.size();
    layout.header.resize(8);
    for (int i = 0; i < 8; ++i) layout.header[size_t(i)] = char((n >> (8 * i)) & 0xff);
    layout.header += json;
    return layout;
}

size_t nbytes_of(const Tensor& t) { return size_t(t.numel()) * t.element_size(); }

}  // namespace

std::string serialize_safetensors(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata) {
    Layout layout = plan(tensors, metadata, "serialize_safetensors");
    std::string out = std::move(layout.header);
    for (const auto& [name, t] : layout.tensors)
        if (t.numel()) out.append(static_cast<const char*>(t.raw_data()), nbytes_of(t));
    return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const std::string op = "write_safetensors: " + path;
    Layout layout = plan(tensors, metadata, op.c_str());
    AtomicFile file(path);
    file.write(layout.header);
    for (const auto& [name, t] : layout.tensors)
        if (t.numel()) file.write(t.raw_data(), nbytes_of(t));
    file.commit();
}

void write_safetensors(const std::string& path, const NamedTensors& tensors) {
    write_safetensors(path, tensors, tensors.metadata);
}

}  // namespace graft::io
