// save_checkpoint / load_checkpoint (checkpoint.h): one safetensors file with
// prefixed tensors and the rest of the training state as metadata strings.
#include "transfer/checkpoint.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "io/formats/atomic_file.h"
#include "io/formats/safetensors.h"

namespace graft::transfer {

namespace {

using nlohmann::json;

const std::string kModel = "model.";
const std::string kOptim = "optim.";
const std::string kFormatPrefix = "graft.checkpoint/";

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

int64_t parse_int(const NamedTensors& file, const std::string& key, const std::string& where) {
    auto it = file.metadata.find(key);
    check(it != file.metadata.end(), where.c_str(), "no \"", key, "\" metadata");
    int64_t value = 0;
    const char* end = it->second.data() + it->second.size();
    auto [ptr, ec] = std::from_chars(it->second.data(), end, value);
    check(ec == std::errc() && ptr == end, where.c_str(), "\"", key, "\" metadata is \"", it->second,
          "\", expected an integer");
    return value;
}

json parse_json(const std::string& text, const std::string& what, const std::string& where) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(cat_str(where, ": ", what, " is not valid JSON (", e.what(), ")"));
    }
}

// The saved schedule's type, to refuse a different schedule before loading anything.
std::string saved_type(const std::string& state_json, const std::string& what, const std::string& where) {
    const json j = parse_json(state_json, what, where);
    check(j.is_object() && j.contains("type") && j["type"].is_string(), where.c_str(), what,
          " has no \"type\"");
    return j["type"].get<std::string>();
}

// What Module::load_state_dict would report, without loading.
nn::LoadReport compare_model(const nn::Module& model, const NamedTensors& source) {
    nn::LoadReport report;
    const NamedTensors own = model.state_dict();
    for (const auto& [name, t] : own) {
        const Tensor* src = source.find(name);
        if (!src) report.missing.push_back(name);
        else if (src->shape() != t.shape()) report.mismatched.push_back({name, t.shape(), src->shape()});
        else report.loaded.push_back(name);
    }
    for (const auto& [name, t] : source)
        if (!own.contains(name)) report.unexpected.push_back(name);
    return report;
}

}  // namespace

void save_checkpoint(const std::string& path, const TrainingObjects& objects, const TrainingState& state) {
    const std::string where = "save_checkpoint: " + path;
    check(objects.model != nullptr, where.c_str(), "no model given");
    check(state.extra_json.empty() || json::accept(state.extra_json), where.c_str(),
          "extra_json is not valid JSON: ", state.extra_json);
    NamedTensors out;
    for (const auto& [name, t] : objects.model->state_dict()) out.set(kModel + name, t);
    if (objects.optimizer) {
        const NamedTensors optim = objects.optimizer->state_dict();
        for (const auto& [name, t] : optim) out.set(kOptim + name, t);
        for (const auto& [key, value] : optim.metadata) out.metadata[kOptim + key] = value;
    }
    if (objects.scheduler) out.metadata["scheduler"] = objects.scheduler->state_dict();
    if (objects.plateau) out.metadata["plateau"] = objects.plateau->state_dict();
    if (objects.rng) out.metadata["rng"] = json{{"seed", objects.rng->seed()}, {"offset", objects.rng->offset()}}.dump();
    out.metadata["format"] = kCheckpointFormat;
    out.metadata["epoch"] = std::to_string(state.epoch);
    out.metadata["step"] = std::to_string(state.step);
    if (!state.extra_json.empty()) out.metadata["extra"] = state.extra_json;
    io::write_safetensors(path, out);
    io::remove_stale_temp_files(path);
}

TrainingState load_checkpoint(const std::string& path, const TrainingObjects& objects, bool strict,
                              nn::LoadReport* report) {
    const std::string where = "load_checkpoint: " + path;
    NamedTensors file;
    try {
        file = io::read_safetensors(path);
    } catch (const Error& e) {
        throw Error(cat_str("load_checkpoint: ", e.what()));
    }
    auto meta = [&](const std::string& key) -> const std::string* {
        auto it = file.metadata.find(key);
        return it == file.metadata.end() ? nullptr : &it->second;
    };

    // ---- checks (nothing changes until all pass) ---------------------------------
    const std::string* format = meta("format");
    check(format && starts_with(*format, kFormatPrefix), where.c_str(),
          "not a Graft checkpoint (its metadata has no \"format\": \"", kCheckpointFormat, "\"",
          format ? cat_str("; it has \"", *format, "\"") : std::string(), ")");
    check(*format == kCheckpointFormat, where.c_str(), "format \"", *format, "\" is not one this build reads (\"",
          kCheckpointFormat, "\"): written by a newer Graft?");
    TrainingState state;
    state.epoch = parse_int(file, "epoch", where);
    state.step = parse_int(file, "step", where);
    if (const std::string* extra = meta("extra")) state.extra_json = *extra;

    NamedTensors model_part, optim_part;
    for (const auto& [name, t] : file) {
        if (starts_with(name, kModel)) model_part.set(name.substr(kModel.size()), t);
        else if (starts_with(name, kOptim)) optim_part.set(name.substr(kOptim.size()), t);
        else throw Error(cat_str(where, ": unexpected tensor '", name, "' (expected model.* or optim.*)"));
    }
    for (const auto& [key, value] : file.metadata)
        if (starts_with(key, kOptim)) optim_part.metadata[key.substr(kOptim.size())] = value;

    if (objects.model) {
        const nn::LoadReport found = compare_model(*objects.model, model_part);
        check(!strict || found.ok(), where.c_str(), "the model does not match the checkpoint (",
              objects.model->type_name(), ")\n", found.table());
    }
    const bool has_optim = meta("optim.optimizer") != nullptr;
    if (objects.optimizer) {
        check(has_optim || !strict, where.c_str(), "the checkpoint holds no optimizer state, but an optimizer (",
              objects.optimizer->type_name(), ") was given");
        if (has_optim)
            check(*meta("optim.optimizer") == objects.optimizer->type_name(), where.c_str(),
                  "optimizer type mismatch: the checkpoint holds ", *meta("optim.optimizer"),
                  " state, the given optimizer is ", objects.optimizer->type_name());
    }
    if (objects.scheduler) {
        const std::string* saved = meta("scheduler");
        check(saved || !strict, where.c_str(), "the checkpoint holds no schedule state, but a schedule (",
              objects.scheduler->type_name(), ") was given");
        if (saved) {
            const std::string type = saved_type(*saved, "the schedule state", where);
            check(type == objects.scheduler->type_name(), where.c_str(), "schedule type mismatch: the checkpoint holds ",
                  type, " state, the given schedule is ", objects.scheduler->type_name());
        }
    }
    if (objects.plateau) check(meta("plateau") || !strict, where.c_str(), "the checkpoint holds no ReduceLROnPlateau state");
    uint64_t seed = 0, offset = 0;
    const std::string* rng = meta("rng");
    if (objects.rng) {
        check(rng || !strict, where.c_str(), "the checkpoint holds no random generator state");
        if (rng) {
            const json j = parse_json(*rng, "the \"rng\" metadata", where);
            check(j.is_object() && j.contains("seed") && j["seed"].is_number_unsigned() && j.contains("offset") &&
                      j["offset"].is_number_unsigned(),
                  where.c_str(), "the \"rng\" metadata is ", *rng, ", expected {\"seed\": n, \"offset\": n}");
            seed = j["seed"].get<uint64_t>();
            offset = j["offset"].get<uint64_t>();
        }
    }

    // ---- restore: the optimizer and schedules check their own state before changing ----
    try {
        if (objects.optimizer && has_optim) objects.optimizer->load_state_dict(optim_part);
        if (objects.scheduler && meta("scheduler")) objects.scheduler->load_state_dict(*meta("scheduler"));
        if (objects.plateau && meta("plateau")) objects.plateau->load_state_dict(*meta("plateau"));
    } catch (const Error& e) {
        throw Error(cat_str(where, ": ", e.what()));
    }
    if (objects.model) {
        nn::LoadReport done = objects.model->load_state_dict(model_part, strict);
        if (report) *report = std::move(done);
    }
    if (objects.rng && rng) objects.rng->set_state(seed, offset);
    return state;
}

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const optim::LRScheduler* scheduler, const TrainingState& state, const Generator* rng) {
    // The objects are only read when saving; TrainingObjects holds mutable
    // pointers because loading writes through the same struct.
    TrainingObjects objects{.model = const_cast<nn::Module*>(&model),
                            .optimizer = const_cast<optim::Optimizer*>(optimizer),
                            .scheduler = const_cast<optim::LRScheduler*>(scheduler),
                            .plateau = nullptr,
                            .rng = const_cast<Generator*>(rng)};
    save_checkpoint(path, objects, state);
}

TrainingState load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                              optim::LRScheduler* scheduler, Generator* rng, bool strict) {
    return load_checkpoint(path, {.model = &model, .optimizer = optimizer, .scheduler = scheduler, .rng = rng},
                           strict);
}

}  // namespace graft::transfer
