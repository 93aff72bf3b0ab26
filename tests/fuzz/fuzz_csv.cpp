// libFuzzer target for the delimited-text readers: the first byte picks the
// reader, the rest is the file's text.
//   0: parse_delimited (CSV with quotes)      1: CsvDataset, header auto, last column label
//   2: CsvDataset, ';', label column "y"      3: TextClassification TSV
//   4: TextClassification CSV                  5: TextClassification JSONL
//   6: TextClassification ARFF
// Accepted input must give a consistent dataset (every item loads, labels in
// range of the class names when there are names); refused input must be a
// graft::Error. Seeds: tests/fuzz/corpus/csv.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "io/datasets/csv.h"
#include "io/datasets/csv_dataset.h"
#include "io/datasets/text_classification.h"

namespace {

void check_dataset(const graft::io::Dataset& ds) {
    const auto names = ds.class_names();
    for (int64_t i = 0; i < ds.size(); ++i) {
        const graft::io::Example e = ds.get(i);
        const int64_t label = ds.label(i);
        if (label < 0 || (!names.empty() && label >= int64_t(names.size()))) std::abort();
        if (e.target.item<int64_t>() != label) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    using namespace graft::io;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 7) {
            case 0: {
                for (const CsvRow& row : parse_delimited(text, "fuzz.csv"))
                    if (row.line < 1 || row.fields.empty()) std::abort();
                break;
            }
            case 1: check_dataset(*CsvDataset::from_text(text, "fuzz.csv")); break;
            case 2: check_dataset(*CsvDataset::from_text(text, "fuzz.csv", {.delimiter = ';', .label_column = "y"})); break;
            case 3: check_dataset(*TextClassification::from_text(text, "fuzz.tsv")); break;
            case 4: check_dataset(*TextClassification::from_text(text, "fuzz.csv")); break;
            case 5: check_dataset(*TextClassification::from_text(text, "fuzz.jsonl")); break;
            case 6: check_dataset(*TextClassification::from_text(text, "fuzz.arff")); break;
        }
    } catch (const graft::Error&) {
    }
    return 0;
}
