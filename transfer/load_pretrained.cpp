// load_pretrained: name mapping, matching, checks, then the copy (see load_pretrained.h).
#include "transfer/load_pretrained.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <regex>
#include <sstream>

#include "core/autograd/grad_mode.h"
#include "io/formats/read_weights.h"
#include "transfer/name_pattern.h"

namespace graft::transfer {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_num_batches_tracked(const std::string& name) {
    return name == "num_batches_tracked" || ends_with(name, ".num_batches_tracked");
}

std::string map_name(const std::string& source_name, const LoadOptions& options,
                     const std::vector<std::regex>& rules) {
    std::string name = source_name;
    for (bool again = true; again;) {  // "module.bert.x": every listed prefix, repeatedly
        again = false;
        for (const std::string& prefix : options.strip_prefixes)
            if (!prefix.empty() && name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
                name.erase(0, prefix.size());
                again = true;
            }
    }
    if (options.rename_gamma_beta) {
        const size_t dot = name.rfind('.');
        const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
        const std::string head = dot == std::string::npos ? "" : name.substr(0, dot + 1);
        if (last == "gamma") name = head + "weight";
        else if (last == "beta") name = head + "bias";
    }
    for (size_t i = 0; i < rules.size(); ++i) name = std::regex_replace(name, rules[i], options.rename[i].replacement);
    return name;
}

bool any_glob(const std::vector<std::string>& patterns, const std::string& name) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return glob_match(p, name); });
}

}  // namespace

// The skip globs read as every pattern in transfer/ does (name_pattern.h): '*',
// '?', [classes] and "re:" regexes.
bool glob_match(const std::string& pattern, const std::string& name) { return NamePattern(pattern).matches(name); }

int64_t LoadReport::loaded_elements() const {
    int64_t n = 0;
    for (const Loaded& l : loaded) {
        int64_t e = 1;
        for (int64_t d : l.shape) e *= d;
        n += e;
    }
    return n;
}

std::string LoadReport::table(bool all_entries) const {
    struct Row { std::string status, name, shape, note; };
    std::vector<Row> rows;
    auto shape_text = [](const Shape& s) { return cat_str(shape_str(s)); };
    for (const Loaded& l : loaded) {
        std::string note;
        if (l.source_name != l.name) note = "from " + l.source_name;
        if (l.source_dtype != l.dtype)
            note += cat_str(note.empty() ? "" : "; ", dtype_name(l.source_dtype), " -> ", dtype_name(l.dtype));
        if (all_entries || !note.empty()) rows.push_back({"loaded", l.name, shape_text(l.shape), note});
    }
    for (const Entry& e : missing) rows.push_back({"MISSING", e.name, shape_text(e.shape), "not in the source"});
    for (const Entry& e : unexpected) rows.push_back({"UNEXPECTED", e.name, shape_text(e.shape), "not in the model"});
    for (const Mismatch& m : mismatched)
        rows.push_back({"MISMATCHED", m.name, shape_text(m.model_shape),
                        cat_str("source ", m.source_name, " has ", shape_str(m.source_shape))});
    for (const Entry& e : skipped) rows.push_back({"skipped", e.name, shape_text(e.shape), "source entry ignored"});
    for (const Entry& e : kept) rows.push_back({"kept", e.name, shape_text(e.shape), "model keeps its own value"});
    for (const std::string& n : optional_absent) rows.push_back({"absent", n, "[]", "optional, left as it was"});

    std::ostringstream os;
    os << "loaded " << loaded.size() << " (" << loaded_elements() << " elements), missing " << missing.size()
       << ", unexpected " << unexpected.size() << ", mismatched " << mismatched.size() << ", skipped "
       << skipped.size() << ", kept " << kept.size() << ", renamed " << renamed << "\n";
    size_t w_status = 6, w_name = 4, w_shape = 5;
    for (const Row& r : rows) {
        w_status = std::max(w_status, r.status.size());
        w_name = std::max(w_name, r.name.size());
        w_shape = std::max(w_shape, r.shape.size());
    }
    if (!rows.empty()) {
        os << "  " << std::left << std::setw(int(w_status)) << "status" << "  " << std::setw(int(w_name)) << "name"
           << "  " << std::setw(int(w_shape)) << "shape" << "  note\n";
        for (const Row& r : rows)
            os << "  " << std::left << std::setw(int(w_status)) << r.status << "  " << std::setw(int(w_name)) << r.name
               << "  " << std::setw(int(w_shape)) << r.shape << "  " << r.note << "\n";
    }
    return os.str();
}

LoadReport load_pretrained(nn::Module& model, const NamedTensors& source, const LoadOptions& options) {
    const std::string op = cat_str("load_pretrained (", model.type_name(), ")");
    std::vector<std::regex> rules;
    for (const RenameRule& r : options.rename) {
        try {
            rules.emplace_back(r.pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            throw Error(cat_str(op, ": rename pattern '", r.pattern, "' is not a valid regex: ", e.what()));
        }
    }

    LoadReport report;
    // Source names mapped to the model's naming; name -> (source name, tensor).
    std::map<std::string, std::pair<std::string, Tensor>> mapped;
    std::vector<std::string> mapped_order;
    for (const auto& [source_name, t] : source) {
        const std::string name = map_name(source_name, options, rules);
        check(!name.empty(), op.c_str(), "source entry '", source_name, "' is renamed to an empty name");
        if (name != source_name) ++report.renamed;
        auto [it, fresh] = mapped.emplace(name, std::make_pair(source_name, t));
        check(fresh, op.c_str(), "source entries '", it->second.first, "' and '", source_name,
              "' both map to '", name, "' after renames");
        if (any_glob(options.skip, name)) report.skipped.push_back({source_name, t.shape()});
        else mapped_order.push_back(name);
    }

    const NamedTensors own = model.state_dict();
    std::vector<std::pair<Tensor, const Tensor*>> copies;  // (model tensor, source tensor)
    for (const auto& [name, t] : own) {
        if (any_glob(options.skip, name)) {
            report.kept.push_back({name, t.shape()});
            continue;
        }
        auto it = mapped.find(name);
        if (it == mapped.end() || any_glob(options.skip, it->first)) {
            if (is_num_batches_tracked(name) && !options.require_num_batches_tracked)
                report.optional_absent.push_back(name);
            else
                report.missing.push_back({name, t.shape()});
            continue;
        }
        const auto& [source_name, src] = it->second;
        if (src.shape() != t.shape()) {
            report.mismatched.push_back({name, source_name, t.shape(), src.shape()});
            continue;
        }
        report.loaded.push_back({name, source_name, t.shape(), src.dtype(), t.dtype()});
        copies.emplace_back(t, &src);
    }
    for (const std::string& name : mapped_order)
        if (!own.contains(name)) {
            const auto& [source_name, src] = mapped.at(name);
            report.unexpected.push_back({source_name, src.shape()});
        }

    const bool bad_keys = options.strict && (!report.missing.empty() || !report.unexpected.empty());
    const bool bad_shapes = options.on_shape_mismatch == ShapeMismatch::Error && !report.mismatched.empty();
    if (bad_keys || bad_shapes) {
        std::string table = report.table();
        table.replace(0, 6, "would load");  // nothing was: the counts say what matched
        throw Error(cat_str(op, ": the source does not match the model (",
                            bad_shapes ? "shape mismatches; on_shape_mismatch = Skip leaves them out" :
                                         "strict; strict = false loads what matches",
                            "), nothing was loaded\n", table));
    }

    NoGradGuard no_grad;
    for (auto& [t, src] : copies) t.copy_(src->device() == t.device() ? *src : src->to(t.device()));
    return report;
}

LoadOptions bert_load_options() {
    return {.strip_prefixes = {"bert."}, .skip = {"cls.*", "embeddings.position_ids"}};
}

LoadReport load_pretrained(nn::Module& model, const std::string& path, const LoadOptions& options) {
    const NamedTensors source = io::read_weights(path);
    try {
        return load_pretrained(model, source, options);
    } catch (const Error& e) {
        throw Error(cat_str(e.what(), "(file '", path, "')"));
    }
}

}  // namespace graft::transfer
