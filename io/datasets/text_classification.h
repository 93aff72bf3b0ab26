// TextClassification: labelled texts from TSV, CSV, JSON Lines or Weka ARFF
// files (SST-2, AG News, IMDB exports, Weka's Reuters sets).
//
//   TSV/CSV  a header row naming the columns (or header = false and indices);
//            TSV rows are split on tabs without quote handling (SST-2's texts
//            hold bare quotes), CSV rows follow RFC 4180 (io/datasets/csv.h)
//   JSONL    one JSON object per line: {"text": "...", "label": 3 or "sports"}
//   ARFF     @attribute declarations and dense @data rows ('quoted', \-escapes);
//            the text is the named (or first) string attribute, the label the
//            named (or last) nominal attribute, ids in declaration order
//
//   auto ds = std::make_shared<TextClassification>("train.tsv",
//       TextOptions{.text_column = "sentence", .encode = [&](const std::string& s) { return tok.ids(s); }});
//
// Label ids (not ARFF): integers >= 0 are taken as ids; otherwise the distinct
// names in sorted order. get(i).input is encode(text) when `encode` is set,
// else the text's UTF-8 bytes as a uint8 [len] tensor; text(i) gives the string.
// Errors name file:line: a missing column, a row with the wrong field count, a
// line that is not a JSON object, an empty text or label.
#pragma once

#include <string_view>

#include "io/datasets/dataset.h"

namespace graft::io {

enum class TextFormat { Auto, Tsv, Csv, Jsonl, Arff };  // Auto: from the extension

struct TextOptions {
    TextFormat format = TextFormat::Auto;
    std::string text_column = "text";    // name (header, JSON key, ARFF attribute)
    std::string label_column = "label";
    bool header = true;                  // TSV/CSV: false selects columns by index below
    int64_t text_index = 0;
    int64_t label_index = 1;
    std::function<Tensor(const std::string& text)> encode = {};
};

class TextClassification final : public Dataset {
public:
    explicit TextClassification(const std::string& path, TextOptions options = {});
    // Parses `text` as a file called `name`; format Auto is decided from `name`.
    static std::shared_ptr<TextClassification> from_text(std::string_view text, const std::string& name,
                                                         TextOptions options = {});

    int64_t size() const override { return int64_t(texts_.size()); }
    std::vector<std::string> class_names() const override { return class_names_; }
    std::string source(int64_t index) const override;
    int64_t label(int64_t index) const override;
    const std::string& text(int64_t index) const;

protected:
    Example load(int64_t index, Generator& gen) const override;

private:
    TextClassification() = default;
    void parse(std::string_view text, const std::string& name, TextOptions options);
    void parse_table(std::string_view text, char delimiter, bool quotes);
    void parse_jsonl(std::string_view text);
    void parse_arff(std::string_view text);
    void add(int64_t line, std::string text, std::string label);
    void number_labels();

    std::string name_;
    TextOptions options_;
    std::vector<std::string> texts_;
    std::vector<std::string> raw_labels_;
    std::vector<int64_t> labels_;
    std::vector<int64_t> lines_;
    std::vector<std::string> class_names_;
};

}  // namespace graft::io
