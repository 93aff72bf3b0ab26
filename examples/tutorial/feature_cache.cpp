// Why feature caching is exact for a frozen trunk: a frozen trunk in eval mode
// is a fixed function, so its output for an image is the same in every epoch.
// Computing it once and training the head on the stored outputs gives the
// same head, to the last bit, as running the trunk in every step -- provided
// the inputs are not randomly augmented (an augmented image is a new input
// each epoch; a cache would freeze one view of it).
#include <cstdio>

#include "graft.h"
#include "nn/nn.h"
#include "io/datasets/tensor_dataset.h"
#include "io/loader/data_loader.h"
#include "nn/optim/adamw.h"
#include "transfer/feature_cache.h"
#include "transfer/freeze.h"
#include "transfer/training/fit.h"

using namespace graft;

int main() {
    manual_seed(0);
    auto data = std::make_shared<io::TensorDataset>(randn({96, 8}), (rand({96}) * 3.0).to(DType::Int64));
    auto trunk = nn::sequential({std::make_shared<nn::Linear>(8, 32), std::make_shared<nn::ReLU>()});
    transfer::freeze(*trunk);
    auto make_head = [] {
        Generator g(42);  // both heads start from the same weights
        auto head = std::make_shared<nn::Linear>(32, 3);
        head->reset_parameters(&g);
        return head;
    };
    transfer::FitOptions fit_options;
    fit_options.epochs = 3;
    fit_options.show_progress = false;

    // 1. The plain loop: the trunk runs in every step of every epoch.
    auto head_a = make_head();
    auto model = nn::sequential({trunk, head_a});
    io::DataLoader loader(data, {.batch_size = 16, .shuffle = true, .seed = 1});
    transfer::BatchSource images = [&](int64_t, const transfer::BatchVisitor& visit) {
        for (const io::Batch& b : loader) visit(b.inputs, b.targets);
    };
    optim::AdamW opt_a(transfer::trainable_parameters(*model), {.lr = 1e-2});
    transfer::fit(*model, opt_a, images, {}, fit_options);

    // 2. The trunk runs once; the head trains on its stored outputs, same order.
    transfer::FeatureCacheOptions cache_options;
    cache_options.batch_size = 16;
    cache_options.dataset_id = "toy";
    cache_options.show_progress = false;
    auto cache = transfer::FeatureCache::build(*trunk, *data, cache_options);
    auto head_b = make_head();
    optim::AdamW opt_b(head_b->parameters(), {.lr = 1e-2});
    transfer::fit(*head_b, opt_b, cache.batches(16, /*shuffle=*/true, /*seed=*/1), {}, fit_options);

    const float diff = max(abs(head_a->weight - head_b->weight)).item<float>();
    std::printf("cached %lld feature vectors of size %lld; head weights differ by %g\n", (long long)cache.size(),
                (long long)cache.features().size(1), diff);
    return diff == 0 ? 0 : 1;
}
