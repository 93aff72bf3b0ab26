// IdxDataset: both files read through read_idx, then checked against each other.
#include "io/datasets/idx_dataset.h"

#include "core/ops/creation.h"
#include "io/datasets/idx.h"

namespace graft::io {

IdxDataset::IdxDataset(const std::string& images_path, const std::string& labels_path,
                       std::vector<std::string> class_names)
    : images_path_(images_path), class_names_(std::move(class_names)) {
    images_ = read_idx(images_path);
    const Tensor labels = read_idx(labels_path);
    check(labels.dim() == 1 && !is_floating(labels.dtype()), "IdxDataset",
          labels_path, ": labels must be a 1-d integer IDX file, found ", describe(labels));
    check(labels.size(0) == images_.size(0), "IdxDataset", images_path, " holds ", images_.size(0),
          " images but ", labels_path, " holds ", labels.size(0), " labels");
    labels_ = labels.to_vector<int64_t>();
    for (size_t i = 0; i < labels_.size(); ++i) {
        const bool known = class_names_.empty() || labels_[i] < int64_t(class_names_.size());
        check(labels_[i] >= 0 && known, "IdxDataset", labels_path, ": label ", i, " is ", labels_[i],
              known ? ", a class id cannot be negative" : cat_str(", but only ", class_names_.size(), " class names were given"));
    }
}

std::string IdxDataset::source(int64_t index) const { return cat_str(images_path_, "[", index, "]"); }

int64_t IdxDataset::label(int64_t index) const {
    check(index >= 0 && index < size(), "IdxDataset::label", "index ", index, " is out of range for ", size(),
          " items");
    return labels_[size_t(index)];
}

Example IdxDataset::load(int64_t index, Generator&) const {
    return {images_.select(0, index), scalar_tensor(labels_[size_t(index)], DType::Int64), source(index)};
}

}  // namespace graft::io
