// TensorDataset: examples held in memory as two tensors whose first dimension
// is the item index, like torch.utils.data.TensorDataset with (inputs, targets).
//
//   auto ds = std::make_shared<TensorDataset>(features /*[N, F]*/, labels /*[N] int64*/);
//   ds->get(3).input   // features[3], a view (no copy)
//
// Items are views into the tensors (the loader's stack copies them into a batch),
// so the tensors must not be written while a loader reads them.
#pragma once

#include "io/datasets/dataset.h"

namespace graft::io {

class TensorDataset final : public Dataset {
public:
    // inputs [N, ...], targets [N, ...] (often [N] int64 class ids). Any dtypes;
    // the first sizes must agree. `class_names` is optional.
    TensorDataset(Tensor inputs, Tensor targets, std::vector<std::string> class_names = {});

    int64_t size() const override { return inputs_.size(0); }
    std::vector<std::string> class_names() const override { return class_names_; }
    int64_t label(int64_t index) const override;

    const Tensor& inputs() const { return inputs_; }
    const Tensor& targets() const { return targets_; }

protected:
    Example load(int64_t index, Generator& gen) const override;

private:
    Tensor inputs_;
    Tensor targets_;
    std::vector<int64_t> labels_;  // filled when targets are integer class ids [N]
    std::vector<std::string> class_names_;
};

}  // namespace graft::io
