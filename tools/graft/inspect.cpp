// graft inspect FILE: the format, tensors (name, dtype, shape), dtype counts,
// element and byte totals and metadata of a weights file; --json for scripts.
// The file is memory-mapped, so inspecting a large checkpoint reads little.
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/formats/read_weights.h"
#include "tools/graft/commands.h"

namespace graft::cli {

namespace {

struct InspectArgs {
    std::string file, key;
    bool json = false, all = false;
};

std::string with_commas(int64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string human_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

void run_inspect(const InspectArgs& a) {
    io::WeightsReadOptions options;
    options.key = a.key;
    const NamedTensors weights = io::read_weights(a.file, options);
    int64_t elements = 0, bytes = 0;
    std::map<std::string, int64_t> dtypes;
    for (const auto& [name, t] : weights) {
        elements += t.numel();
        bytes += t.numel() * int64_t(element_size(t.dtype()));
        ++dtypes[dtype_name(t.dtype())];
    }
    const auto format = weights.metadata.count("format") ? weights.metadata.at("format") : std::string("?");
    if (a.json) {
        nlohmann::ordered_json j;
        j["file"] = a.file;
        j["format"] = format;
        j["num_tensors"] = weights.size();
        j["num_elements"] = elements;
        j["bytes"] = bytes;
        j["dtypes"] = dtypes;
        j["metadata"] = weights.metadata;
        j["tensors"] = nlohmann::json::array();
        for (const auto& [name, t] : weights)
            j["tensors"].push_back({{"name", name}, {"dtype", dtype_name(t.dtype())}, {"shape", t.shape()}});
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::printf("file      %s\nformat    %s\ntensors   %zu\nelements  %s (all tensors; buffers such as BatchNorm "
                "statistics included)\nbytes     %s\ndtypes   ",
                a.file.c_str(), format.c_str(), weights.size(), with_commas(elements).c_str(),
                human_bytes(double(bytes)).c_str());
    for (const auto& [dtype, count] : dtypes) std::printf(" %s x%lld", dtype.c_str(), (long long)count);
    std::printf("\n");
    for (const auto& [k, v] : weights.metadata)
        if (k != "format") std::printf("meta      %s = %s\n", k.c_str(), v.size() > 120 ? (v.substr(0, 117) + "...").c_str() : v.c_str());
    size_t width = 4;
    for (const auto& [name, t] : weights) width = std::max(width, name.size());
    const size_t limit = a.all ? weights.size() : 40;
    std::printf("\n%-*s  %-9s %s\n", int(width), "name", "dtype", "shape");
    size_t shown = 0;
    for (const auto& [name, t] : weights) {
        if (shown++ == limit) break;
        std::printf("%-*s  %-9s %s\n", int(width), name.c_str(), dtype_name(t.dtype()),
                    std::string(shape_str(t.shape())).c_str());
    }
    if (weights.size() > limit) std::printf("... %zu more (--all lists every tensor)\n", weights.size() - limit);
}

}  // namespace

void add_inspect(CLI::App& app) {
    auto args = std::make_shared<InspectArgs>();
    CLI::App* cmd = app.add_subcommand("inspect", "What a weights file holds: format, tensors, dtypes, sizes");
    cmd->add_option("file", args->file, "a .safetensors, .pth/.pt/.bin, .onnx or *.index.json file")->required();
    cmd->add_flag("--json", args->json, "print JSON instead of a table");
    cmd->add_flag("--all", args->all, "list every tensor (default: the first 40)");
    cmd->add_option("--key", args->key, "PyTorch checkpoints: the dict holding the state_dict (default: automatic)");
    cmd->callback([args] { run_inspect(*args); });
}

}  // namespace graft::cli
