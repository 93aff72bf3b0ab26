// IdxDataset: an images file and a labels file in IDX format (MNIST,
// Fashion-MNIST, KMNIST, EMNIST; gzipped or raw), read whole into memory.
//
//   auto ds = std::make_shared<IdxDataset>(dir + "/train-images-idx3-ubyte.gz",
//                                          dir + "/train-labels-idx1-ubyte.gz");
//   ds->get(0).input   // [28, 28] uint8;  .target  int64 scalar
//
// The labels file must hold N integer labels, one per image, each >= 0.
#pragma once

#include "io/datasets/dataset.h"

namespace graft::io {

class IdxDataset final : public Dataset {
public:
    IdxDataset(const std::string& images_path, const std::string& labels_path,
               std::vector<std::string> class_names = {});

    int64_t size() const override { return images_.size(0); }
    std::vector<std::string> class_names() const override { return class_names_; }
    std::string source(int64_t index) const override;
    int64_t label(int64_t index) const override;

    const Tensor& images() const { return images_; }  // [N, ...] as stored
    const std::vector<int64_t>& labels() const { return labels_; }

protected:
    Example load(int64_t index, Generator& gen) const override;

private:
    std::string images_path_;
    Tensor images_;
    std::vector<int64_t> labels_;
    std::vector<std::string> class_names_;
};

}  // namespace graft::io
