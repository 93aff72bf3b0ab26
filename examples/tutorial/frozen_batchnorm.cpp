// Why a frozen BatchNorm must use its running statistics.
//
// "Pretraining" gives a BatchNorm running statistics of its data (mean 5,
// std 2). A fine-tuning batch is small and differently distributed. In train
// mode BatchNorm would normalise by that batch's own mean and variance (and
// move the running statistics towards them): the trunk's features would change
// with every batch, though none of its weights train. Frozen, it stays in eval
// mode, even through model.train().
#include <cmath>
#include <cstdio>

#include "graft.h"
#include "nn/nn.h"
#include "transfer/freeze.h"

using namespace graft;

static float max_diff(const Tensor& a, const Tensor& b) { return max(abs(a - b)).item<float>(); }

int main() {
    manual_seed(0);
    auto bn = std::make_shared<nn::BatchNorm2d>(3);
    auto net = nn::sequential({bn});
    net->train();
    for (int step = 0; step < 200; ++step) (*net)(randn({16, 3, 4, 4}) * 2.0 + 5.0);  // "pretraining"
    const Tensor running_mean = bn->tensor("running_mean").clone();
    std::printf("running mean after pretraining: %.3f\n", running_mean.mean().item<float>());

    Tensor batch = randn({2, 3, 4, 4}) + 1.0;  // a small fine-tuning batch, mean ~1
    net->eval();
    Tensor reference = (*net)(batch);          // normalised with the running statistics

    transfer::freeze(*net);
    net->train();                              // a training loop calls this every epoch
    Tensor frozen = (*net)(batch);
    std::printf("frozen, after train(): BatchNorm training %d; output equals eval mode: %s\n", bn->is_training(),
                max_diff(frozen, reference) == 0 ? "yes" : "no");
    std::printf("running mean unchanged: %s\n", max_diff(bn->tensor("running_mean"), running_mean) == 0 ? "yes" : "no");

    transfer::unfreeze(*net);
    net->train();
    Tensor unfrozen = (*net)(batch);           // batch statistics: the mean ~1 is subtracted away
    std::printf("unfrozen, train mode: output mean %.3f (eval mode gives %.3f)\n", unfrozen.mean().item<float>(),
                reference.mean().item<float>());
    return max_diff(frozen, reference) == 0 ? 0 : 1;
}
