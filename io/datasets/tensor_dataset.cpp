// TensorDataset: argument checks and item views.
#include "io/datasets/tensor_dataset.h"

#include "core/ops/creation.h"

namespace graft::io {

TensorDataset::TensorDataset(Tensor inputs, Tensor targets, std::vector<std::string> class_names)
    : inputs_(std::move(inputs)), targets_(std::move(targets)), class_names_(std::move(class_names)) {
    check(inputs_.defined() && targets_.defined(), "TensorDataset", "inputs and targets must both be defined");
    check(inputs_.dim() >= 1 && targets_.dim() >= 1, "TensorDataset",
          "inputs and targets need a first (item) dimension, got ", describe(inputs_), " and ",
          describe(targets_));
    check(inputs_.size(0) == targets_.size(0), "TensorDataset", "inputs ", describe(inputs_), " and targets ",
          describe(targets_), " disagree on the number of items");
    if (targets_.dim() == 1 && !is_floating(targets_.dtype()) && targets_.dtype() != DType::Bool) {
        labels_ = targets_.to_vector<int64_t>();
        for (size_t i = 0; i < labels_.size(); ++i)
            check(labels_[i] >= 0 && (class_names_.empty() || labels_[i] < int64_t(class_names_.size())),
                  "TensorDataset", "target ", i, " is ", labels_[i], ", not a class id in [0, ",
                  class_names_.empty() ? std::string("inf") : std::to_string(class_names_.size()), ")");
    }
}

int64_t TensorDataset::label(int64_t index) const {
    check(!labels_.empty() || size() == 0, "TensorDataset::label", "targets ", describe(targets_),
          " are not integer class ids [N]");
    check(index >= 0 && index < size(), "TensorDataset::label", "index ", index, " is out of range for ",
          size(), " items");
    return labels_[size_t(index)];
}

Example TensorDataset::load(int64_t index, Generator&) const {
    Tensor target = targets_.select(0, index);
    if (!labels_.empty()) target = scalar_tensor(labels_[size_t(index)], DType::Int64);
    return {inputs_.select(0, index), target, source(index)};
}

}  // namespace graft::io
