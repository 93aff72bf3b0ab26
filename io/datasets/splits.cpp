// Subset, random_split and few_shot. Permutations come from core's randperm
// with a Generator seeded by the caller, so they are thread-count independent.
#include "io/datasets/splits.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/ops/random.h"

namespace graft::io {

Subset::Subset(DatasetPtr parent, std::vector<int64_t> indices)
    : parent_(std::move(parent)), indices_(std::move(indices)) {
    check(parent_ != nullptr, "Subset", "the parent dataset is null");
    const int64_t n = parent_->size();
    for (size_t i = 0; i < indices_.size(); ++i)
        check(indices_[i] >= 0 && indices_[i] < n, "Subset", "index ", i, " is ", indices_[i],
              ", out of range for a parent of ", n, " items");
}

int64_t Subset::parent_index(int64_t index) const {
    check(index >= 0 && index < size(), "Subset", "index ", index, " is out of range for a subset of ", size(),
          " items");
    return indices_[size_t(index)];
}

std::string Subset::source(int64_t index) const { return parent_->source(parent_index(index)); }
int64_t Subset::label(int64_t index) const { return parent_->label(parent_index(index)); }
Example Subset::load(int64_t index, Generator& gen) const { return parent_->get(parent_index(index), gen); }

namespace {

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
    Generator gen(seed);
    return randperm(n, &gen).to_vector<int64_t>();
}

}  // namespace

std::vector<SubsetPtr> random_split(DatasetPtr dataset, const std::vector<int64_t>& lengths, uint64_t seed) {
    check(dataset != nullptr, "random_split", "the dataset is null");
    int64_t total = 0;
    for (int64_t len : lengths) {
        check(len >= 0, "random_split", "a part length is negative (", len, ")");
        total += len;
    }
    check(total == dataset->size(), "random_split", "part lengths sum to ", total, " but the dataset has ",
          dataset->size(), " items");
    const std::vector<int64_t> order = permutation(total, seed);
    std::vector<SubsetPtr> parts;
    auto at = order.begin();
    for (int64_t len : lengths) {
        parts.push_back(std::make_shared<Subset>(dataset, std::vector<int64_t>(at, at + len)));
        at += len;
    }
    return parts;
}

std::vector<SubsetPtr> random_split(DatasetPtr dataset, const std::vector<double>& fractions, uint64_t seed) {
    check(dataset != nullptr, "random_split", "the dataset is null");
    check(!fractions.empty(), "random_split", "no fractions given");
    double sum = 0;
    for (double f : fractions) {
        check(f >= 0 && std::isfinite(f), "random_split", "fraction ", f, " is not in [0, 1]");
        sum += f;
    }
    check(std::abs(sum - 1.0) <= 1e-6, "random_split", "fractions sum to ", sum, ", not 1");
    const int64_t n = dataset->size();
    std::vector<int64_t> lengths;
    int64_t assigned = 0;
    for (double f : fractions) {
        lengths.push_back(int64_t(std::floor(f * double(n))));
        assigned += lengths.back();
    }
    for (size_t i = 0; assigned < n; i = (i + 1) % lengths.size(), ++assigned) ++lengths[i];
    return random_split(std::move(dataset), lengths, seed);
}

SubsetPtr few_shot(DatasetPtr dataset, int64_t k, uint64_t seed) {
    check(dataset != nullptr, "few_shot", "the dataset is null");
    check(k >= 1, "few_shot", "k must be at least 1, got ", k);
    const std::vector<int64_t> labels = labels_of(*dataset);
    const std::vector<std::string> names = dataset->class_names();
    std::map<int64_t, std::vector<int64_t>> by_class;  // ascending label
    for (int64_t c = 0; c < int64_t(names.size()); ++c) by_class[c];  // named classes must appear
    for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(int64_t(i));

    std::vector<int64_t> chosen;
    for (auto& [label, items] : by_class) {
        const std::string name = label >= 0 && label < int64_t(names.size())
                                     ? cat_str(label, " (", names[size_t(label)], ")")
                                     : cat_str(label);
        check(int64_t(items.size()) >= k, "few_shot", "class ", name, " has ", items.size(),
              " items, fewer than k = ", k);
        // One generator per class, keyed by its label: adding or removing a class
        // leaves the other classes' picks unchanged.
        const std::vector<int64_t> order = permutation(int64_t(items.size()), seed ^ (uint64_t(label) * 0x9e3779b97f4a7c15ull));
        for (int64_t j = 0; j < k; ++j) chosen.push_back(items[size_t(order[size_t(j)])]);
    }
    std::sort(chosen.begin(), chosen.end());
    return std::make_shared<Subset>(std::move(dataset), std::move(chosen));
}

SubsetPtr complement(const Subset& subset) {
    std::vector<bool> taken(size_t(subset.parent()->size()), false);
    for (int64_t i : subset.indices()) taken[size_t(i)] = true;
    std::vector<int64_t> rest;
    for (size_t i = 0; i < taken.size(); ++i)
        if (!taken[i]) rest.push_back(int64_t(i));
    return std::make_shared<Subset>(subset.parent(), std::move(rest));
}

}  // namespace graft::io
