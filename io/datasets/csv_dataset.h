// CsvDataset: a table of numeric features and one label column, read whole
// into memory (iris, wine, tabular benchmarks).
//
//   auto ds = std::make_shared<CsvDataset>("iris.csv", CsvOptions{.label_column = "species"});
//   ds->get(0).input   // [F] float32 features;  .target int64 class id
//
// Labels: when every label is an integer >= 0 the ids are those integers;
// otherwise labels are names, and ids number the distinct names in sorted
// order (class_names() lists them), as ImageFolder numbers its folders.
//
// Header: `header` Yes/No, or Auto: the first row is a header when one of its
// feature fields is not a number. Naming the label column implies a header.
//
// Errors (graft::Error, naming file:line): a row whose field count differs from
// the first row's, a feature that is not a number or is empty, a label column
// name or index that does not exist, an empty table.
#pragma once

#include <string_view>

#include "io/datasets/dataset.h"

namespace graft::io {

enum class CsvHeader { Auto, Yes, No };

struct CsvOptions {
    char delimiter = ',';
    CsvHeader header = CsvHeader::Auto;
    std::string label_column = {};  // by name (needs a header); empty: use label_index
    int64_t label_index = -1;   // by position; negative counts from the end (-1 = last)
};

class CsvDataset final : public Dataset {
public:
    explicit CsvDataset(const std::string& path, CsvOptions options = {});
    // Parses `text` as if read from a file called `name` (tests, fuzzing).
    static std::shared_ptr<CsvDataset> from_text(std::string_view text, const std::string& name,
                                                 CsvOptions options = {});

    int64_t size() const override { return features_.size(0); }
    std::vector<std::string> class_names() const override { return class_names_; }
    std::string source(int64_t index) const override;
    int64_t label(int64_t index) const override;

    const Tensor& features() const { return features_; }      // [N, F] float32
    const std::vector<int64_t>& labels() const { return labels_; }
    const std::vector<std::string>& feature_names() const { return feature_names_; }  // header or "column <i>"

protected:
    Example load(int64_t index, Generator& gen) const override;

private:
    CsvDataset() = default;
    void parse(std::string_view text, const std::string& name, const CsvOptions& options);

    std::string name_;
    Tensor features_;
    std::vector<int64_t> labels_;
    std::vector<int64_t> lines_;
    std::vector<std::string> class_names_;
    std::vector<std::string> feature_names_;
};

}  // namespace graft::io
