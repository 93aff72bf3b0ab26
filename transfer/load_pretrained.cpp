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

// Why `src` cannot become `dst`'s data as it is, or "" when it can (the overlap
// with other shared sources is checked by the caller).
std::string copy_reason(const Tensor& dst, const Tensor& src) {
    if (src.dtype() != dst.dtype()) return cat_str("dtype ", dtype_name(src.dtype()), " differs");
    if (src.device() != dst.device()) return cat_str("on ", src.device().str());
    if (!src.is_contiguous()) return "not contiguous";
    // Kernels need no more than element alignment (views at any offset are
    // normal tensors), but no less: a float read from an odd address is UB.
    if (reinterpret_cast<uintptr_t>(src.raw_data()) % element_size(src.dtype()) != 0) return "misaligned";
    return "";
}

// Sharing two sources whose bytes overlap (tied weights in a file, views of one
// storage) would tie the model's tensors together where the copy keeps them
// apart: the first of them in the model's order is shared, the rest copied.
void copy_overlapping(std::vector<std::pair<const Tensor*, std::string*>>& candidates) {
    struct Span { uintptr_t begin, end; size_t order; };
    std::vector<Span> spans;
    for (size_t i = 0; i < candidates.size(); ++i) {
        const Tensor& t = *candidates[i].first;
        const auto begin = reinterpret_cast<uintptr_t>(t.raw_data());
        spans.push_back({begin, begin + size_t(t.numel()) * element_size(t.dtype()), i});
    }
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.order < b.order;
    });
    // Walk in address order; within a cluster of overlapping spans keep the
    // earliest in the model's order.
    for (size_t i = 0; i < spans.size();) {
        size_t j = i + 1;
        uintptr_t end = spans[i].end;
        while (j < spans.size() && spans[j].begin < end && spans[j].end > spans[j].begin) end = std::max(end, spans[j++].end);
        if (j - i > 1) {
            size_t keep = i;
            for (size_t k = i; k < j; ++k) keep = spans[k].order < spans[keep].order ? k : keep;
            for (size_t k = i; k < j; ++k)
                if (k != keep) *candidates[spans[k].order].second = "overlaps another shared source";
        }
        i = j;
    }
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

int64_t LoadReport::shared_count() const {
    return int64_t(std::count_if(loaded.begin(), loaded.end(), [](const Loaded& l) { return l.shared; }));
}

int64_t LoadReport::copied_count() const { return int64_t(loaded.size()) - shared_count(); }

std::string LoadReport::table(bool all_entries) const {
    struct Row { std::string status, name, shape, note; };
    std::vector<Row> rows;
    auto shape_text = [](const Shape& s) { return cat_str(shape_str(s)); };
    for (const Loaded& l : loaded) {
        std::string note;
        if (l.source_name != l.name) note = "from " + l.source_name;
        if (l.source_dtype != l.dtype)
            note += cat_str(note.empty() ? "" : "; ", dtype_name(l.source_dtype), " -> ", dtype_name(l.dtype));
        if (!l.copy_reason.empty()) note += cat_str(note.empty() ? "" : "; ", "copied, not shared: ", l.copy_reason);
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
       << skipped.size() << ", kept " << kept.size() << ", renamed " << renamed;
    if (const int64_t shared = shared_count(); shared > 0 || std::any_of(loaded.begin(), loaded.end(), [](const Loaded& l) {
            return !l.copy_reason.empty();
        }))
        os << "; shared " << shared << ", copied " << copied_count();
    os << "\n";
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

    // copies[i] is report.loaded[i]. With share_memory, decide which share
    // before touching anything.
    if (options.share_memory) {
        std::vector<std::pair<const Tensor*, std::string*>> candidates;
        for (size_t i = 0; i < copies.size(); ++i) {
            LoadReport::Loaded& l = report.loaded[i];
            l.copy_reason = copy_reason(copies[i].first, *copies[i].second);
            if (l.copy_reason.empty() && copies[i].second->numel() > 0) candidates.emplace_back(copies[i].second, &l.copy_reason);
        }
        copy_overlapping(candidates);
        for (size_t i = 0; i < copies.size(); ++i) report.loaded[i].shared = report.loaded[i].copy_reason.empty();
    }

    // state_dict() holds detached handles: a copy into one reaches the model's
    // storage, but set_data must go to the model's own handle (the TensorImpl
    // its layer member and the registry share). Once one is set, copies go
    // through those handles too, so that a tensor registered under two names
    // ends as the copy-only load leaves it (the last entry wins).
    std::map<std::string, Tensor> handles;
    if (report.shared_count() > 0) {
        for (auto& [name, t] : model.named_parameters()) handles.emplace(name, t);
        for (auto& [name, t] : model.named_buffers()) handles.emplace(name, t);
    }
    NoGradGuard no_grad;
    for (size_t i = 0; i < copies.size(); ++i) {
        const Tensor& t = handles.empty() ? copies[i].first : handles.at(report.loaded[i].name);
        const Tensor& src = *copies[i].second;
        if (report.loaded[i].shared) t.set_data(src);
        else t.copy_(src.device() == t.device() ? src : src.to(t.device()));
    }
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
