// Subsets of a dataset by index: random train/validation splits and seeded
// few-shot samples (k items per class), the ways transfer learning usually cuts
// a labelled set.
//
//   auto parts = random_split(ds, {0.8, 0.2}, /*seed=*/42);   // train, validation
//   auto five  = few_shot(ds, /*k=*/5, /*seed=*/1);            // 5 per class
//
// Both are pure functions of (dataset labels/size, arguments, seed): the same
// call gives the same indices on every machine and thread count. A Subset keeps
// its parent alive and forwards class names, sources and labels.
#pragma once

#include "io/datasets/dataset.h"

namespace graft::io {

class Subset final : public Dataset {
public:
    // Indices into `parent`, in this order; each is checked against its size.
    Subset(DatasetPtr parent, std::vector<int64_t> indices);

    int64_t size() const override { return int64_t(indices_.size()); }
    std::vector<std::string> class_names() const override { return parent_->class_names(); }
    std::string source(int64_t index) const override;
    int64_t label(int64_t index) const override;

    const std::vector<int64_t>& indices() const { return indices_; }
    const DatasetPtr& parent() const { return parent_; }

protected:
    Example load(int64_t index, Generator& gen) const override;

private:
    int64_t parent_index(int64_t index) const;
    DatasetPtr parent_;
    std::vector<int64_t> indices_;
};

using SubsetPtr = std::shared_ptr<const Subset>;

// Splits a random permutation of the items into consecutive parts. `fractions`
// are non-negative and sum to 1 (within 1e-6): part i gets floor(f_i * n)
// items and the remainder goes one each to the first parts, as
// torch.utils.data.random_split does (the permutation itself differs from
// torch's: Graft's generator is Philox, not mt19937).
std::vector<SubsetPtr> random_split(DatasetPtr dataset, const std::vector<double>& fractions, uint64_t seed);
// The same with explicit part lengths, which must sum to size().
std::vector<SubsetPtr> random_split(DatasetPtr dataset, const std::vector<int64_t>& lengths, uint64_t seed);

// k items of every class, chosen at random per class with `seed`, returned in
// ascending index order. Classes are the distinct labels present (or
// 0..class_names().size()-1 when the dataset names its classes: a named class
// with no items is then an error, as is a class with fewer than k items,
// named in the message with its count).
SubsetPtr few_shot(DatasetPtr dataset, int64_t k, uint64_t seed);

// The items of `dataset` not in `subset` (same parent), in ascending order:
// with few_shot, the evaluation set of the remaining items.
SubsetPtr complement(const Subset& subset);

}  // namespace graft::io
