// A small CNN for 28x28 grey images (Fashion-MNIST, MNIST): the model of
// examples/fmnist_cnn.cpp and of benchmarks/train (whose PyTorch script builds
// the same torch.nn.Sequential, so the state_dict names agree):
//
//   [N, 1, 28, 28] -> conv3x3 32 (pad 1) -> BN -> ReLU -> maxpool 2   [N, 32, 14, 14]
//                  -> conv3x3 64 (pad 1) -> BN -> ReLU -> maxpool 2   [N, 64, 7, 7]
//                  -> flatten -> fc 3136->128 -> ReLU -> Dropout -> fc 128->10
//
// With batch_norm the convs have no bias (BatchNorm's shift makes it redundant)
// and the children are 0 conv, 1 bn, 2 relu, 3 pool, 4 conv, 5 bn, 6 relu,
// 7 pool, 8 flatten, 9 fc, 10 relu, 11 dropout, 12 fc; without batch_norm the
// BN entries are left out (and the dropout too when dropout is 0), numbering
// the rest in order, as torch.nn.Sequential would.
//
// SmallCnn is that Sequential (its type name stays "Sequential") plus stages
// (nn/models/stages.h): "conv1" (conv, [bn,] relu, pool), "conv2", "fc1"
// (flatten, fc, relu[, dropout]) and "fc2" (the last Linear, the classifier).
#pragma once

#include <cstdint>
#include <memory>

#include "core/ops/random.h"
#include "nn/layers/container.h"
#include "nn/models/stages.h"

namespace graft::nn::models {

struct SmallCnnOptions {
    int64_t in_channels = 1;
    int64_t num_classes = 10;
    int64_t image_size = 28;   // H = W; must be divisible by 4
    bool batch_norm = true;
    double dropout = 0.25;     // before the last fc; 0 leaves the layer out
    Generator* gen = nullptr;  // init (torch's default rules) and dropout masks; must outlive the model
};

class SmallCnn : public Sequential, public Staged {
public:
    explicit SmallCnn(const SmallCnnOptions& options = {});
    // conv1, conv2, fc1, fc2: consecutive runs of the children, which run by
    // position, so the chain equals the Sequential's forward.
    std::vector<Stage> stages() override;

    const SmallCnnOptions options;

private:
    std::vector<std::pair<std::string, size_t>> stage_ends_;  // stage name, one past its last child
};

std::shared_ptr<SmallCnn> small_cnn(const SmallCnnOptions& options = {});

}  // namespace graft::nn::models
