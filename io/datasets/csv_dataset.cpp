// CsvDataset: header and label-column resolution, feature parsing, label ids.
#include "io/datasets/csv_dataset.h"

#include <algorithm>
#include <map>

#include "core/ops/creation.h"
#include "io/datasets/csv.h"

namespace graft::io {

CsvDataset::CsvDataset(const std::string& path, CsvOptions options) {
    parse(read_text_file(path, "CsvDataset"), path, options);
}

std::shared_ptr<CsvDataset> CsvDataset::from_text(std::string_view text, const std::string& name,
                                                  CsvOptions options) {
    std::shared_ptr<CsvDataset> ds(new CsvDataset());
    ds->parse(text, name, options);
    return ds;
}

namespace {

bool is_number(const std::string& s) {
    double unused;
    return parse_double(s, unused);
}

}  // namespace

void CsvDataset::parse(std::string_view text, const std::string& name, const CsvOptions& options) {
    name_ = name;
    const std::vector<CsvRow> rows = parse_delimited(text, name, options.delimiter);
    check(!rows.empty(), "CsvDataset", name, ": no rows (the file is empty)");
    const int64_t width = int64_t(rows[0].fields.size());
    check(width >= 2, "CsvDataset", name, ":", rows[0].line, ": ", width,
          " column; need at least one feature and a label");

    // Header and label column.
    bool header = options.header == CsvHeader::Yes || !options.label_column.empty();
    check(!(options.header == CsvHeader::No && !options.label_column.empty()), "CsvDataset", name,
          ": label column '", options.label_column, "' is named but the options say there is no header");
    int64_t label_col = options.label_index < 0 ? width + options.label_index : options.label_index;
    if (!options.label_column.empty()) {
        const auto& head = rows[0].fields;
        const auto it = std::find_if(head.begin(), head.end(),
                                     [&](const std::string& f) { return trim(f) == options.label_column; });
        check(it != head.end(), "CsvDataset", name, ":", rows[0].line, ": no column named '",
              options.label_column, "' in the header");
        label_col = int64_t(it - head.begin());
    }
    check(label_col >= 0 && label_col < width, "CsvDataset", name, ": label index ", options.label_index,
          " is out of range for ", width, " columns");
    if (options.header == CsvHeader::Auto && !header)
        for (int64_t c = 0; c < width; ++c)
            if (c != label_col && !is_number(rows[0].fields[size_t(c)])) header = true;

    for (int64_t c = 0; c < width; ++c)
        if (c != label_col)
            feature_names_.push_back(header ? std::string(trim(rows[0].fields[size_t(c)])) : cat_str("column ", c));

    // Features and raw labels.
    const size_t first = header ? 1 : 0;
    const int64_t n = int64_t(rows.size() - first), f = width - 1;
    check(n > 0, "CsvDataset", name, ": a header but no data rows");
    features_ = Tensor::empty({n, f}, DType::Float32);
    float* out = features_.data<float>();
    std::vector<std::string> raw_labels;
    for (size_t r = first; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        check(int64_t(row.fields.size()) == width, "CsvDataset", name, ":", row.line, ": row has ",
              row.fields.size(), " fields, expected ", width, " (as in line ", rows[0].line, ")");
        int64_t j = 0;
        for (int64_t c = 0; c < width; ++c) {
            const std::string& field = row.fields[size_t(c)];
            if (c == label_col) {
                check(!trim(field).empty(), "CsvDataset", name, ":", row.line, ": the label (column ", c,
                      ") is empty");
                raw_labels.emplace_back(trim(field));
                continue;
            }
            double v;
            check(parse_double(field, v), "CsvDataset", name, ":", row.line, ": field ", c + 1, " (",
                  feature_names_[size_t(j)], ") is '", field, "', ",
                  trim(field).empty() ? "empty (a missing value)" : "not a number");
            *out++ = float(v);
            ++j;
        }
        lines_.push_back(row.line);
    }

    // Label ids: the integers themselves, or sorted distinct names.
    bool integral = true;
    for (const std::string& s : raw_labels) {
        int64_t v;
        integral = integral && parse_int64(s, v) && v >= 0;
    }
    if (integral) {
        for (const std::string& s : raw_labels) parse_int64(s, labels_.emplace_back());
    } else {
        std::map<std::string, int64_t> ids;
        for (const std::string& s : raw_labels) ids.emplace(s, 0);
        for (auto& [label, id] : ids) {
            id = int64_t(class_names_.size());
            class_names_.push_back(label);
        }
        for (const std::string& s : raw_labels) labels_.push_back(ids.at(s));
    }
}

std::string CsvDataset::source(int64_t index) const {
    if (index >= 0 && index < int64_t(lines_.size())) return cat_str(name_, ":", lines_[size_t(index)]);
    return Dataset::source(index);
}

int64_t CsvDataset::label(int64_t index) const {
    check(index >= 0 && index < size(), "CsvDataset::label", "index ", index, " is out of range for ", size(),
          " items");
    return labels_[size_t(index)];
}

Example CsvDataset::load(int64_t index, Generator&) const {
    return {features_.select(0, index), scalar_tensor(labels_[size_t(index)], DType::Int64), source(index)};
}

}  // namespace graft::io
