// What parameter groups change in the optimizer step: each group carries its
// own learning rate, so layers near the input move less than the new head
// (discriminative learning rates). Adam's first step moves every weight by
// about lr * sign(gradient), which makes the effect easy to see.
#include <cstdio>

#include "graft.h"
#include "nn/nn.h"
#include "nn/optim/adamw.h"

using namespace graft;

int main() {
    manual_seed(0);
    auto trunk = std::make_shared<nn::Linear>(16, 16);
    auto head = std::make_shared<nn::Linear>(16, 4);
    optim::AdamW opt({{.params = trunk->parameters(), .options = {.lr = 1e-4}, .name = "trunk"},
                      {.params = head->parameters(), .options = {.lr = 1e-2}, .name = "head"}},
                     {.weight_decay = 0.0});

    const Tensor trunk_before = trunk->weight.clone(), head_before = head->weight.clone();
    Tensor y = (*head)(relu((*trunk)(randn({8, 16}))));
    (y * y).mean().backward();
    opt.step();

    const float trunk_step = max(abs(trunk->weight - trunk_before)).item<float>();
    const float head_step = max(abs(head->weight - head_before)).item<float>();
    for (size_t g = 0; g < opt.num_groups(); ++g)
        std::printf("group %-5s lr %.0e\n", opt.param_groups()[g].name.c_str(), opt.lr(g));
    std::printf("largest change: trunk %.2e, head %.2e (ratio %.0f)\n", trunk_step, head_step, head_step / trunk_step);
    return head_step / trunk_step > 50 ? 0 : 1;
}
