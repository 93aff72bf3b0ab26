// read_safetensors_sharded (safetensors.h): a Hugging Face index file and the
// shards it names, each read once and cross-checked against the index.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "io/formats/safetensors.h"
#include "io/formats/safetensors_format.h"

namespace graft::io {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A shard name must stay inside the index's folder: relative, no "..", no
// NUL, no backslash (a Windows separator that could hide a "..").
void check_shard_name(const std::string& shard, const std::string& tensor, const std::string& where) {
    check(!shard.empty(), where.c_str(), "tensor '", tensor, "': empty shard file name");
    check(shard.find('\0') == std::string::npos && shard.find('\\') == std::string::npos, where.c_str(), "tensor '",
          tensor, "': shard file name \"", shard, "\" has a NUL or backslash");
    const fs::path p(shard);
    check(p.is_relative() && !p.has_root_path(), where.c_str(), "tensor '", tensor, "': shard file name \"", shard,
          "\" is absolute; shards must be in the index's folder");
    for (const auto& part : p)
        check(part != "..", where.c_str(), "tensor '", tensor, "': shard file name \"", shard,
              "\" leaves the index's folder");
}

std::string read_text(const std::string& path, const std::string& where) {
    std::ifstream in(path, std::ios::binary);
    check(in.good(), where.c_str(), "cannot open the index file");
    std::ostringstream text;
    text << in.rdbuf();
    check(!in.bad(), where.c_str(), "cannot read the index file");
    return text.str();
}

}  // namespace

NamedTensors read_safetensors_sharded(const std::string& index_path, const SafetensorsReadOptions& options) {
    const std::string where = "read_safetensors_sharded: " + index_path;
    const std::string text = read_text(index_path, where);
    check(text.size() <= safetensors::kMaxHeaderBytes, where.c_str(), "the index is ", text.size(),
          " bytes, over the ", safetensors::kMaxHeaderBytes, "-byte limit");
    const Json index = safetensors::parse_json_strict(text, where);
    check(index.is_object(), where.c_str(), "the index is not a JSON object");
    check(index.contains("weight_map") && index["weight_map"].is_object(), where.c_str(),
          "the index has no \"weight_map\" object");

    // Shards in order of first mention; names in weight_map order.
    std::vector<std::string> shards;
    std::unordered_map<std::string, std::vector<std::string>> names_of;
    std::unordered_map<std::string, std::string> shard_of;
    for (const auto& item : index["weight_map"].items()) {
        check(item.value().is_string(), where.c_str(), "tensor '", item.key(), "': the shard is ", item.value().dump(),
              ", expected a file name");
        const std::string shard = item.value().get<std::string>();
        check_shard_name(shard, item.key(), where);
        if (!names_of.count(shard)) shards.push_back(shard);
        names_of[shard].push_back(item.key());
        shard_of[item.key()] = shard;
    }

    const fs::path folder = fs::path(index_path).parent_path();
    std::unordered_map<std::string, NamedTensors> loaded;
    for (const std::string& shard : shards) {
        NamedTensors part = read_safetensors((folder / shard).string(), options);
        for (const std::string& name : names_of[shard])
            check(part.contains(name), where.c_str(), "tensor '", name, "': the index puts it in shard \"", shard,
                  "\", which does not hold it");
        for (const auto& [name, t] : part) {
            auto it = shard_of.find(name);
            check(it != shard_of.end(), where.c_str(), "shard \"", shard, "\" holds tensor '", name,
                  "', which the index does not list");
            check(it->second == shard, where.c_str(), "shard \"", shard, "\" holds tensor '", name,
                  "', which the index puts in shard \"", it->second, "\"");
        }
        loaded.emplace(shard, std::move(part));
    }

    NamedTensors out;
    if (!shards.empty()) out.metadata = loaded.at(shards.front()).metadata;
    if (index.contains("metadata")) {
        check(index["metadata"].is_object(), where.c_str(), "\"metadata\" is not an object");
        for (const auto& item : index["metadata"].items())
            out.metadata[item.key()] =
                item.value().is_string() ? item.value().get<std::string>() : item.value().dump();
    }
    for (const auto& item : index["weight_map"].items())
        out.set(item.key(), loaded.at(shard_of.at(item.key())).at(item.key()));
    return out;
}

}  // namespace graft::io
