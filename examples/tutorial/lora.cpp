// The LoRA update and its merge. A frozen weight W [out, in] gets a trainable
// low-rank correction: y = W x + (alpha / r) * B (A x), A [r, in], B [out, r].
// B starts at zero, so training starts from the pretrained function; only
// r * (in + out) numbers train instead of in * out. Merging folds the
// correction into W (W += alpha / r * B A): the merged layer costs nothing
// extra at inference, and unmerging subtracts it again.
#include <cstdio>

#include "graft.h"
#include "nn/nn.h"
#include "nn/optim/adamw.h"
#include "transfer/freeze.h"
#include "transfer/lora.h"

using namespace graft;

static float max_diff(const Tensor& a, const Tensor& b) { return max(abs(a - b)).item<float>(); }

int main() {
    manual_seed(0);
    auto model = nn::sequential({std::make_shared<nn::Linear>(64, 64)});
    Tensor x = randn({8, 64}), target = randn({8, 64});
    Tensor before;
    {
        NoGradGuard no_grad;
        before = (*model)(x);
    }

    transfer::apply_lora(*model, {.rank = 4, .alpha = 8, .target_modules = {"0"}});
    Tensor start;
    {
        NoGradGuard no_grad;
        start = (*model)(x);
    }
    std::printf("trainable %lld of %lld parameters; output at start differs by %g\n",
                (long long)model->num_parameters(true), (long long)model->num_parameters(), max_diff(start, before));

    optim::AdamW opt(transfer::trainable_parameters(*model), {.lr = 1e-2});
    for (int step = 0; step < 20; ++step) {
        Tensor err = (*model)(x) - target;
        (err * err).mean().backward();
        opt.step();
        opt.zero_grad();
    }
    NoGradGuard no_grad;
    Tensor adapted = (*model)(x);
    transfer::merge_lora(*model);   // W += alpha / r * B A
    Tensor merged = (*model)(x);
    transfer::unmerge_lora(*model);
    Tensor unmerged = (*model)(x);
    std::printf("after 20 steps: merged vs adapted %g, unmerged vs adapted %g\n", max_diff(merged, adapted),
                max_diff(unmerged, adapted));
    return max_diff(start, before) == 0 && max_diff(merged, adapted) < 1e-4 ? 0 : 1;
}
