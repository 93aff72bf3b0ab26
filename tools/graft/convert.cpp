// graft convert IN OUT: any weights file Graft reads to safetensors. The output
// carries {"format": "pt"} (what Hugging Face's loaders look for) plus where it
// came from, and is written atomically: an existing OUT survives a failed run.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/formats/read_weights.h"
#include "io/formats/safetensors.h"
#include "tools/graft/commands.h"

namespace graft::cli {

namespace {

struct ConvertArgs {
    std::string in, out, key;
    bool to_float32 = false;
    std::vector<std::string> metadata;  // KEY=VALUE
};

void run_convert(const ConvertArgs& a) {
    io::WeightsReadOptions options;
    options.key = a.key;
    options.to_float32 = a.to_float32;
    const NamedTensors weights = io::read_weights(a.in, options);
    std::map<std::string, std::string> metadata{{"format", "pt"},
                                                {"graft.converted_from", std::filesystem::path(a.in).filename()},
                                                {"graft.source_format", weights.metadata.count("format")
                                                                            ? weights.metadata.at("format")
                                                                            : std::string("?")}};
    for (const std::string& kv : a.metadata) {
        const size_t eq = kv.find('=');
        check(eq != std::string::npos && eq > 0, "convert", "--metadata expects KEY=VALUE, got '", kv, "'");
        metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    io::write_safetensors(a.out, weights, metadata);
    int64_t elements = 0;
    for (const auto& [name, t] : weights) elements += t.numel();
    std::printf("wrote %s: %zu tensors, %lld elements (from %s)\n", a.out.c_str(), weights.size(),
                (long long)elements, metadata["graft.source_format"].c_str());
}

}  // namespace

void add_convert(CLI::App& app) {
    auto args = std::make_shared<ConvertArgs>();
    CLI::App* cmd = app.add_subcommand("convert", "Any weights file Graft reads to safetensors");
    cmd->add_option("in", args->in, "a .safetensors, .pth/.pt/.bin, .onnx or *.index.json file")->required();
    cmd->add_option("out", args->out, "the .safetensors file to write")->required();
    cmd->add_option("--key", args->key, "PyTorch checkpoints: the dict holding the state_dict (default: automatic)");
    cmd->add_flag("--to-float32", args->to_float32, "convert float16, bfloat16 and float64 tensors to float32");
    cmd->add_option("--metadata", args->metadata, "KEY=VALUE strings stored in the file's metadata (repeatable)");
    cmd->callback([args] { run_convert(*args); });
}

}  // namespace graft::cli
