// TextClassification: format detection, the four readers, label numbering.
#include "io/datasets/text_classification.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "core/ops/creation.h"
#include "io/datasets/arff.h"
#include "io/datasets/csv.h"

namespace graft::io {

namespace {

TextFormat format_from_name(const std::string& name) {
    const auto ends = [&](const char* ext) {
        const std::string e(ext);
        if (name.size() < e.size()) return false;
        for (size_t i = 0; i < e.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(name[name.size() - e.size() + i])) != e[i]) return false;
        return true;
    };
    if (ends(".tsv") || ends(".tab")) return TextFormat::Tsv;
    if (ends(".csv")) return TextFormat::Csv;
    if (ends(".jsonl") || ends(".ndjson")) return TextFormat::Jsonl;
    if (ends(".arff")) return TextFormat::Arff;
    throw Error(cat_str("TextClassification: ", name,
                        ": cannot tell the format from the extension (.tsv, .csv, .jsonl, .arff); set options.format"));
}

}  // namespace

TextClassification::TextClassification(const std::string& path, TextOptions options) {
    parse(read_text_file(path, "TextClassification"), path, std::move(options));
}

std::shared_ptr<TextClassification> TextClassification::from_text(std::string_view text, const std::string& name,
                                                                  TextOptions options) {
    std::shared_ptr<TextClassification> ds(new TextClassification());
    ds->parse(text, name, std::move(options));
    return ds;
}

void TextClassification::parse(std::string_view text, const std::string& name, TextOptions options) {
    name_ = name;
    options_ = std::move(options);
    const TextFormat format = options_.format == TextFormat::Auto ? format_from_name(name) : options_.format;
    switch (format) {
        case TextFormat::Tsv: parse_table(text, '\t', false); break;
        case TextFormat::Csv: parse_table(text, ',', true); break;
        case TextFormat::Jsonl: parse_jsonl(text); break;
        case TextFormat::Arff: parse_arff(text); return;  // ids from the declaration
        case TextFormat::Auto: break;
    }
    number_labels();
}

void TextClassification::add(int64_t line, std::string text, std::string label) {
    check(!trim(label).empty(), "TextClassification", name_, ":", line, ": the label is empty");
    lines_.push_back(line);
    texts_.push_back(std::move(text));
    raw_labels_.emplace_back(trim(label));
}

void TextClassification::parse_table(std::string_view text, char delimiter, bool quotes) {
    const std::vector<CsvRow> rows = parse_delimited(text, name_, delimiter, quotes);
    check(!rows.empty(), "TextClassification", name_, ": no rows (the file is empty)");
    int64_t text_col = options_.text_index, label_col = options_.label_index;
    const size_t width = rows[0].fields.size();
    if (options_.header) {
        const auto find = [&](const std::string& column) {
            const auto& head = rows[0].fields;
            const auto it = std::find_if(head.begin(), head.end(), [&](const std::string& f) { return trim(f) == column; });
            check(it != head.end(), "TextClassification", name_, ":", rows[0].line, ": no column named '", column,
                  "' in the header");
            return int64_t(it - head.begin());
        };
        text_col = find(options_.text_column);
        label_col = find(options_.label_column);
    }
    check(text_col >= 0 && size_t(text_col) < width && label_col >= 0 && size_t(label_col) < width,
          "TextClassification", name_, ": text column ", text_col, " or label column ", label_col,
          " is out of range for ", width, " columns");
    for (size_t r = options_.header ? 1 : 0; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        check(row.fields.size() == width, "TextClassification", name_, ":", row.line, ": row has ",
              row.fields.size(), " fields, expected ", width, " (as in line ", rows[0].line, ")");
        add(row.line, row.fields[size_t(text_col)], row.fields[size_t(label_col)]);
    }
}

void TextClassification::parse_jsonl(std::string_view text) {
    int64_t line = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view row = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line;
        if (row.empty() || row == "\r") continue;
        nlohmann::json j = nlohmann::json::parse(row, nullptr, /*allow_exceptions=*/false);
        check(j.is_object(), "TextClassification", name_, ":", line, ": not a JSON object");
        const auto field = [&](const std::string& key) {
            const auto it = j.find(key);
            check(it != j.end(), "TextClassification", name_, ":", line, ": no key \"", key, "\"");
            check(it->is_string() || it->is_number_integer(), "TextClassification", name_, ":", line, ": \"", key,
                  "\" is ", it->type_name(), ", expected a string or an integer");
            return it->is_string() ? it->get<std::string>() : std::to_string(it->get<int64_t>());
        };
        add(line, field(options_.text_column), field(options_.label_column));
    }
}

void TextClassification::parse_arff(std::string_view text) {
    const ArffTable table = io::parse_arff(text, name_);
    const auto& attrs = table.attributes;
    int64_t text_col = -1, label_col = -1;
    for (size_t a = 0; a < attrs.size(); ++a) {
        if (attrs[a].name == options_.text_column) text_col = int64_t(a);
        if (attrs[a].name == options_.label_column) label_col = int64_t(a);
    }
    for (size_t a = 0; a < attrs.size() && text_col < 0; ++a)
        if (attrs[a].type == "string") text_col = int64_t(a);
    for (size_t a = attrs.size(); a-- > 0 && label_col < 0;)
        if (attrs[a].type == "nominal") label_col = int64_t(a);
    check(text_col >= 0, "TextClassification", name_, ": no string attribute for the text");
    check(label_col >= 0 && attrs[size_t(label_col)].type == "nominal", "TextClassification", name_,
          ": no nominal attribute for the label");
    class_names_ = attrs[size_t(label_col)].values;
    for (const CsvRow& row : table.rows) {
        const std::string& value = row.fields[size_t(label_col)];
        const auto it = std::find(class_names_.begin(), class_names_.end(), value);
        check(it != class_names_.end(), "TextClassification", name_, ":", row.line, ": label '", value,
              "' is not one of the values declared for ", attrs[size_t(label_col)].name);
        add(row.line, row.fields[size_t(text_col)], value);
        labels_.push_back(int64_t(it - class_names_.begin()));
    }
}

void TextClassification::number_labels() {
    bool integral = true;
    for (const std::string& s : raw_labels_) {
        int64_t v;
        integral = integral && parse_int64(s, v) && v >= 0;
    }
    if (integral) {
        for (const std::string& s : raw_labels_) parse_int64(s, labels_.emplace_back());
        return;
    }
    std::map<std::string, int64_t> ids;
    for (const std::string& s : raw_labels_) ids.emplace(s, 0);
    for (auto& [label, id] : ids) {
        id = int64_t(class_names_.size());
        class_names_.push_back(label);
    }
    for (const std::string& s : raw_labels_) labels_.push_back(ids.at(s));
}

std::string TextClassification::source(int64_t index) const {
    if (index >= 0 && index < size()) return cat_str(name_, ":", lines_[size_t(index)]);
    return Dataset::source(index);
}

int64_t TextClassification::label(int64_t index) const {
    check(index >= 0 && index < size(), "TextClassification::label", "index ", index, " is out of range for ",
          size(), " items");
    return labels_[size_t(index)];
}

const std::string& TextClassification::text(int64_t index) const {
    check(index >= 0 && index < size(), "TextClassification::text", "index ", index, " is out of range for ",
          size(), " items");
    return texts_[size_t(index)];
}

Example TextClassification::load(int64_t index, Generator&) const {
    const std::string& t = texts_[size_t(index)];
    Tensor input = options_.encode ? options_.encode(t)
                                   : from_blob(const_cast<char*>(t.data()), {int64_t(t.size())}, DType::UInt8, true);
    return {input, scalar_tensor(labels_[size_t(index)], DType::Int64), source(index)};
}

}  // namespace graft::io
