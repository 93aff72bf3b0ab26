// Optimizer checkpoints: state_dict() and load_state_dict(), and the JSON form
// of the groups' options. The layout mirrors torch's optimizer state_dict:
//   tensors   "state.<index>.step" (int64 scalar), "state.<index>.<buffer>"
//   metadata  "optimizer": "AdamW", "format": "graft.optim/1",
//             "param_groups": [{"name": "head", "lr": 0.001, "betas": [0.9, 0.999],
//                               ..., "params": [0, 1]}, ...]
// where <index> counts the parameters of all groups in order, as torch does.
#include <algorithm>
#include <map>

#include "core/ops/creation.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/options_json.h"

namespace graft::optim {

using nlohmann::json;

json options_to_json(const Options& options) {
    json out = json::object();
    for_each_option([&](const char* name, auto member) {
        if (options.*member) out[name] = *(options.*member);
    });
    if (options.initial_lr) out["initial_lr"] = *options.initial_lr;
    return out;
}

Options options_from_json(const json& object, const char* op, const std::string& where) {
    check(object.is_object(), op, "the options of ", where, " are not a JSON object");
    Options out;
    for (const auto& item : object.items()) {
        // Named references, not structured bindings: clang 14 cannot capture those in a lambda.
        const std::string& key = item.key();
        const json& value = item.value();
        if (key == "name" || key == "params") continue;
        bool known = false;
        try {
            if (key == "initial_lr") {
                out.initial_lr = value.get<double>();
                known = true;
            }
            for_each_option([&](const char* name, auto member) {
                if (key != name) return;
                using Value = typename std::remove_reference_t<decltype(out.*member)>::value_type;
                out.*member = value.get<Value>();
                known = true;
            });
        } catch (const json::exception&) {
            throw Error(cat_str(op, ": option '", key, "' in ", where, " has a value of the wrong type: ", value.dump()));
        }
        check(known, op, "unknown option '", key, "' in ", where);
    }
    return out;
}

NamedTensors Optimizer::state_dict() const {
    NamedTensors out;
    json groups = json::array();
    int64_t index = 0;
    for (const auto& group : groups_) {
        json g = options_to_json(group.options);
        g["name"] = group.name;
        g["params"] = json::array();
        for (const auto& p : group.params) {
            g["params"].push_back(index);
            auto it = state_.find(p.impl());
            if (it != state_.end()) {
                const std::string prefix = cat_str("state.", index, ".");
                out.set(prefix + "step", scalar_tensor(it->second.step, DType::Int64));
                for (const auto& [name, buffer] : it->second.buffers) out.set(prefix + name, buffer.clone());
            }
            ++index;
        }
        groups.push_back(std::move(g));
    }
    out.metadata["format"] = "graft.optim/1";
    out.metadata["optimizer"] = type_name_;
    out.metadata["param_groups"] = groups.dump();
    return out;
}

namespace {

// "state.12.exp_avg" -> {12, "exp_avg"}; nullopt if the key has another form.
std::optional<std::pair<int64_t, std::string>> parse_state_key(const std::string& key) {
    const std::string prefix = "state.";
    if (key.rfind(prefix, 0) != 0) return std::nullopt;
    const size_t dot = key.find('.', prefix.size());
    if (dot == std::string::npos || dot == prefix.size() || dot + 1 == key.size()) return std::nullopt;
    const std::string digits = key.substr(prefix.size(), dot - prefix.size());
    if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::make_pair(std::stoll(digits), key.substr(dot + 1));
}

json parse_groups(const NamedTensors& state, const std::string& op) {
    auto text = state.metadata.find("param_groups");
    check(text != state.metadata.end(), op.c_str(), "the state has no 'param_groups' metadata");
    try {
        json groups = json::parse(text->second);
        check(groups.is_array(), op.c_str(), "'param_groups' metadata is not a JSON array");
        return groups;
    } catch (const json::exception& e) {
        throw Error(cat_str(op, ": 'param_groups' metadata is not valid JSON (", e.what(), ")"));
    }
}

}  // namespace

void Optimizer::load_state_dict(const NamedTensors& state) {
    const std::string op = type_name_ + ".load_state_dict";
    auto type = state.metadata.find("optimizer");
    check(type != state.metadata.end(), op.c_str(), "the state has no 'optimizer' metadata");
    check(type->second == type_name_, op.c_str(), "the state was saved by ", type->second, ", not ", type_name_);
    const json saved = parse_groups(state, op);
    check(saved.size() == groups_.size(), op.c_str(), "the state has ", saved.size(),
          " parameter groups, the optimizer has ", groups_.size());

    // Saved parameter index -> (group, position), as torch's id_map.
    std::map<int64_t, std::pair<size_t, size_t>> where;
    std::vector<Options> options(groups_.size());
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
        const json& g = saved[gi];
        const std::string label = group_label(gi);
        check(g.is_object() && g.contains("params") && g["params"].is_array(), op.c_str(), label,
              " in the state has no 'params' list");
        check(g["params"].size() == groups_[gi].params.size(), op.c_str(), label, " has ", g["params"].size(),
              " parameters in the state and ", groups_[gi].params.size(), " in the optimizer");
        for (size_t j = 0; j < g["params"].size(); ++j) {
            check(g["params"][j].is_number_integer(), op.c_str(), label, " has a non-integer parameter index");
            where[g["params"][j].get<int64_t>()] = {gi, j};
        }
        options[gi] = merge(options_from_json(g, op.c_str(), label), label);
        check_options(options[gi], label);
    }

    const std::vector<std::string> names = state_names();
    std::map<int64_t, ParamState> loaded;
    for (const auto& [key, t] : state) {
        const auto parsed = parse_state_key(key);
        check(parsed.has_value(), op.c_str(), "unexpected key '", key, "' (expected state.<index>.<buffer>)");
        const auto& [index, name] = *parsed;
        auto found = where.find(index);
        check(found != where.end(), op.c_str(), "key '", key, "' names parameter ", index,
              ", which no group of the state lists");
        const auto [gi, j] = found->second;
        const Tensor& p = groups_[gi].params[j];
        if (name == "step") {
            check(t.numel() == 1, op.c_str(), "'", key, "' should hold one number, got ", describe(t));
            loaded[index].step = int64_t(t.item_double());
            continue;
        }
        check(std::find(names.begin(), names.end(), name) != names.end(), op.c_str(), "unexpected buffer '", name,
              "' in key '", key, "' (", type_name_, " keeps ", json(names).dump(), ")");
        check(t.shape() == p.shape(), op.c_str(), "'", key, "' has shape ", shape_str(t.shape()), " but parameter ",
              j, " of ", group_label(gi), " has shape ", shape_str(p.shape()));
        check(is_floating(t.dtype()), op.c_str(), "'", key, "' is ", describe(t), "; buffers are floating point");
        loaded[index].buffers.set(name, t.to(p.dtype()).clone());
    }

    // Everything checked: replace.
    state_.clear();
    for (auto& [index, s] : loaded) {
        const auto [gi, j] = where.at(index);
        state_[groups_[gi].params[j].impl()] = std::move(s);
    }
    for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = options[gi];
}

}  // namespace graft::optim
