// Dataset's checked entry points and the transform wrapper.
#include "io/datasets/dataset.h"

namespace graft::io {

Example Dataset::get(int64_t index) const {
    Generator gen{uint64_t(index)};
    return get(index, gen);
}

Example Dataset::get(int64_t index, Generator& gen) const {
    const int64_t n = size();
    check(index >= 0 && index < n, "Dataset::get", "index ", index, " is out of range for a dataset of ", n,
          " items");
    return load(index, gen);
}

std::string Dataset::source(int64_t index) const { return cat_str("item ", index); }

int64_t Dataset::label(int64_t index) const {
    const Example ex = get(index);
    check(ex.target.defined() && ex.target.numel() == 1 && !is_floating(ex.target.dtype()), "Dataset::label",
          source(index), ": the target is not an integer class id (",
          ex.target.defined() ? std::string(describe(ex.target)) : std::string("undefined"), ")");
    return ex.target.item<int64_t>();
}

std::vector<int64_t> labels_of(const Dataset& dataset) {
    const int64_t n = dataset.size();
    std::vector<int64_t> labels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) labels[size_t(i)] = dataset.label(i);
    return labels;
}

namespace {

class TransformedDataset final : public Dataset {
public:
    TransformedDataset(DatasetPtr base, SampleTransform transform)
        : base_(std::move(base)), transform_(std::move(transform)) {}
    int64_t size() const override { return base_->size(); }
    std::vector<std::string> class_names() const override { return base_->class_names(); }
    std::string source(int64_t index) const override { return base_->source(index); }
    int64_t label(int64_t index) const override { return base_->label(index); }

protected:
    Example load(int64_t index, Generator& gen) const override {
        Example ex = base_->get(index, gen);
        ex.input = transform_(std::move(ex.input), gen);
        return ex;
    }

private:
    DatasetPtr base_;
    SampleTransform transform_;
};

}  // namespace

DatasetPtr with_transform(DatasetPtr dataset, SampleTransform transform) {
    check(dataset != nullptr, "with_transform", "the dataset is null");
    check(bool(transform), "with_transform", "the transform is empty");
    return std::make_shared<TransformedDataset>(std::move(dataset), std::move(transform));
}

}  // namespace graft::io
