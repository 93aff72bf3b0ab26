// Dataset: an indexable collection of labelled examples, the one interface the
// DataLoader reads. Implementations in this folder:
//   TensorDataset       in-memory tensors           (tensor_dataset.h)
//   IdxDataset          MNIST-family IDX pairs      (idx_dataset.h)
//   ImageFolder         root/<class>/<image files>  (image_folder.h)
//   CsvDataset          numeric features + a label  (csv_dataset.h)
//   TextClassification  TSV/CSV/JSONL/ARFF text     (text_classification.h)
//   Subset              an index view of another    (splits.h: random_split, few_shot)
//
// Contract:
//   - get(i) is const and must be safe to call from several threads at once
//     (loader workers do). Lazy datasets open the file in get(); nothing mutable
//     is shared without a lock.
//   - get(i, gen) passes a Generator for random per-sample work (augmentation).
//     The DataLoader derives it from (seed, epoch, sample index), so the sample
//     comes out the same whichever worker thread loads it.
//   - source(i) names where item i comes from ("cats/01.jpg", "train.csv:17"),
//     cheaply and without loading it: the loader puts it into error messages.
//   - label(i) is item i's class id without decoding the input where the
//     dataset can (splits and few-shot sampling read every label).
//   - Errors are graft::Error naming the file and the problem.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/random.h"
#include "core/tensor.h"

namespace graft::io {

struct Example {
    Tensor input;        // e.g. an image [H, W, C] uint8 or features [F] float32
    Tensor target;       // an int64 scalar class id, or a tensor (regression, masks)
    std::string source;  // file (and line) it came from, for messages
};

// A per-sample transform: the input in, the transformed input out, with the
// sample's own Generator for random choices (crops, flips).
using SampleTransform = std::function<Tensor(Tensor, Generator&)>;

class Dataset {
public:
    virtual ~Dataset() = default;

    virtual int64_t size() const = 0;
    // Item `index` (0 <= index < size(), checked). The first form uses a
    // Generator seeded with the index, so it is reproducible on its own.
    Example get(int64_t index) const;
    Example get(int64_t index, Generator& gen) const;

    // Class id -> name; empty when the dataset does not know names.
    virtual std::vector<std::string> class_names() const { return {}; }
    // Where item `index` comes from; "item <index>" unless the dataset knows better.
    virtual std::string source(int64_t index) const;
    // Item `index`'s class id. The default loads the item and reads its target,
    // which must be an integer scalar.
    virtual int64_t label(int64_t index) const;

protected:
    // Implementations: `index` is already checked against size().
    virtual Example load(int64_t index, Generator& gen) const = 0;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// All labels, in index order (one label() call per item).
std::vector<int64_t> labels_of(const Dataset& dataset);

// `dataset` with `transform` applied to each input; labels, names and sources
// pass through unchanged.
DatasetPtr with_transform(DatasetPtr dataset, SampleTransform transform);

}  // namespace graft::io
