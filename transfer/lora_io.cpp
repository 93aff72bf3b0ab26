// Adapter files (see lora.h): save_lora, lora_state_dict and load_lora, with
// PEFT's key names and adapter_config fields.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/autograd/grad_mode.h"
#include "io/formats/safetensors.h"
#include "transfer/lora.h"

namespace graft::transfer {

namespace {

// PeftModel wraps the user's model as base_model (LoraModel) .model (the user's).
const std::string kPeftPrefix = "base_model.model.";

nlohmann::json adapter_config(const std::vector<std::pair<std::string, std::shared_ptr<LoraLayer>>>& layers) {
    const LoraLayer& first = *layers.front().second;
    nlohmann::json targets = nlohmann::json::array();
    nlohmann::json rank_pattern = nlohmann::json::object(), alpha_pattern = nlohmann::json::object();
    for (const auto& [path, layer] : layers) {
        targets.push_back(path);
        if (layer->rank() != first.rank()) rank_pattern[path] = layer->rank();
        if (layer->alpha() != first.alpha()) alpha_pattern[path] = layer->alpha();
    }
    return {{"peft_type", "LORA"},
            {"r", first.rank()},
            {"lora_alpha", first.alpha()},
            {"lora_dropout", first.lora_dropout->p},
            {"target_modules", targets},
            {"rank_pattern", rank_pattern},
            {"alpha_pattern", alpha_pattern},
            {"bias", "none"},
            {"fan_in_fan_out", false},
            {"init_lora_weights", true},
            {"use_rslora", false},
            {"use_dora", false},
            {"inference_mode", true},
            {"task_type", nullptr},
            {"base_model_name_or_path", nullptr}};
}

// The adapter_config of a file: its metadata, else adapter_config.json beside it
// (where PEFT keeps it), else null.
nlohmann::json read_adapter_config(const NamedTensors& file, const std::string& path) {
    std::string text;
    std::string source = path + " (metadata adapter_config)";
    if (auto it = file.metadata.find("adapter_config"); it != file.metadata.end()) {
        text = it->second;
    } else {
        const auto sidecar = std::filesystem::path(path).parent_path() / "adapter_config.json";
        std::ifstream in(sidecar);
        if (!in) return nullptr;
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
        source = sidecar.string();
    }
    try {
        nlohmann::json j = nlohmann::json::parse(text);
        check(j.is_object(), "load_lora", source, ": adapter_config is not a JSON object");
        return j;
    } catch (const nlohmann::json::exception& e) {
        throw Error(cat_str("load_lora: ", source, ": adapter_config is not valid JSON: ", e.what()));
    }
}

// lora_alpha for `path` from an adapter_config: alpha_pattern keys are matched as
// PEFT does, as the whole path or a suffix after a '.'; null when absent.
std::optional<double> config_alpha(const nlohmann::json& config, const std::string& path) {
    if (!config.is_object()) return std::nullopt;
    if (auto it = config.find("alpha_pattern"); it != config.end() && it->is_object())
        for (const auto& [key, value] : it->items()) {
            const bool suffix = path.size() > key.size() && path.compare(path.size() - key.size(), key.size(), key) == 0 &&
                                path[path.size() - key.size() - 1] == '.';
            if ((key == path || suffix) && value.is_number()) return value.get<double>();
        }
    if (auto it = config.find("lora_alpha"); it != config.end() && it->is_number()) return it->get<double>();
    return std::nullopt;
}

// Whether tensor `name` ("head.0.weight") lies in a module the config lists in
// modules_to_save, matched as PEFT matches module names: some ancestor path
// ("head", "head.0") equals the entry or ends with "." + entry.
bool in_modules_to_save(const nlohmann::json& config, const std::string& name) {
    if (!config.is_object()) return false;
    auto it = config.find("modules_to_save");
    if (it == config.end() || !it->is_array()) return false;
    auto names_module = [](const std::string& module, const std::string& m) {
        return module == m || (module.size() > m.size() && module.compare(module.size() - m.size(), m.size(), m) == 0 &&
                               module[module.size() - m.size() - 1] == '.');
    };
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
        for (const auto& entry : *it)
            if (entry.is_string() && names_module(name.substr(0, dot), entry.get<std::string>())) return true;
    return false;
}

}  // namespace

NamedTensors lora_state_dict(const nn::Module& model) {
    const auto layers = lora_layers(model);
    check(!layers.empty(), "save_lora", "the model has no LoRA layers (call apply_lora first)");
    NamedTensors out;
    for (const auto& [path, layer] : layers) {
        out.set(kPeftPrefix + path + ".lora_A.weight", layer->weight_A().detach());
        out.set(kPeftPrefix + path + ".lora_B.weight", layer->weight_B().detach());
    }
    out.metadata["format"] = "pt";
    out.metadata["adapter_config"] = adapter_config(layers).dump();
    return out;
}

void save_lora(const nn::Module& model, const std::string& path) {
    NamedTensors tensors = lora_state_dict(model);
    io::write_safetensors(path, tensors);
}

void load_lora(nn::Module& model, const std::string& path) {
    const auto layers = lora_layers(model);
    check(!layers.empty(), "load_lora", path, ": the model has no LoRA layers (call apply_lora with the adapter's "
                                              "targets first)");
    for (const auto& [p, layer] : layers)
        check(!layer->merged(), "load_lora", path, ": '", p, "' is merged; unmerge_lora first");
    const NamedTensors file = io::read_safetensors(path);
    std::map<std::string, std::string> by_model_name;  // model-side key -> file key
    for (const auto& [key, t] : file) {
        const std::string name = key.rfind(kPeftPrefix, 0) == 0 ? key.substr(kPeftPrefix.size()) : key;
        by_model_name[name] = key;
    }
    const nlohmann::json config = read_adapter_config(file, path);

    std::vector<std::string> missing, mismatched;
    std::set<std::string> used;
    struct Copy {
        Tensor dst;
        const Tensor* src;
    };
    std::vector<Copy> copies;
    for (const auto& [p, layer] : layers) {
        for (const auto& [suffix, dst] : {std::pair{".lora_A.weight", layer->weight_A()},
                                          std::pair{".lora_B.weight", layer->weight_B()}}) {
            auto it = by_model_name.find(p + suffix);
            if (it == by_model_name.end()) {
                missing.push_back(kPeftPrefix + p + suffix + " " + shape_str(dst.shape()));
                continue;
            }
            used.insert(it->second);
            const Tensor& src = file.at(it->second);
            if (src.shape() != dst.shape())
                mismatched.push_back(cat_str(it->second, ": model ", shape_str(dst.shape()), ", file ",
                                             shape_str(src.shape())));
            else
                copies.push_back({dst, &src});
        }
    }
    // Entries outside the adapters: PEFT's modules_to_save (a new head saved whole) load
    // into the model's tensor of that name; anything else is unexpected.
    const NamedTensors own = model.state_dict();
    std::vector<std::string> unexpected;
    for (const auto& [name, key] : by_model_name) {
        if (used.count(key)) continue;
        const Tensor& src = file.at(key);
        const Tensor* dst = in_modules_to_save(config, name) ? own.find(name) : nullptr;
        if (dst == nullptr)
            unexpected.push_back(key + " " + shape_str(src.shape()));
        else if (dst->shape() != src.shape())
            mismatched.push_back(cat_str(key, ": model ", shape_str(dst->shape()), ", file ", shape_str(src.shape())));
        else
            copies.push_back({*dst, &src});
    }
    if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
        std::ostringstream os;
        os << "load_lora: " << path << " does not match the model's LoRA layers (missing " << missing.size()
           << ", unexpected " << unexpected.size() << ", mismatched " << mismatched.size()
           << "); nothing was loaded\n";
        for (const auto& m : missing) os << "  missing     " << m << "\n";
        for (const auto& u : unexpected) os << "  unexpected  " << u << "\n";
        for (const auto& m : mismatched) os << "  mismatched  " << m << "\n";
        throw Error(os.str());
    }
    // Checked before anything changes, so an Error leaves the model as it was.
    for (const auto& [p, layer] : layers)
        if (auto alpha = config_alpha(config, p))
            check(std::isfinite(*alpha), "load_lora", path, ": lora_alpha for '", p, "' is not finite");
    NoGradGuard no_grad;
    for (const Copy& c : copies) c.dst.copy_(*c.src);
    for (const auto& [p, layer] : layers)
        if (auto alpha = config_alpha(config, p)) layer->set_alpha(*alpha);
}

}  // namespace graft::transfer
