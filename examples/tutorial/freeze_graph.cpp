// Freezing and the autograd graph: a frozen prefix records nothing.
#include <cstdio>

#include "graft.h"
#include "nn/nn.h"
#include "transfer/freeze.h"

using namespace graft;

int main() {
    manual_seed(0);
    auto net = nn::sequential({std::make_shared<nn::Linear>(8, 32), std::make_shared<nn::ReLU>(),   // "0", "1"
                               std::make_shared<nn::Linear>(32, 32), std::make_shared<nn::ReLU>(),  // "2", "3"
                               std::make_shared<nn::Linear>(32, 3)});                               // "4"
    transfer::freeze(*net, "0");  // the "pretrained trunk": layers 0 and 2
    transfer::freeze(*net, "2");
    std::printf("%s", transfer::trainable_summary(*net).c_str());

    Tensor x = randn({4, 8});
    Tensor features = (*(*net)[3])((*(*net)[2])((*(*net)[1])((*(*net)[0])(x))));
    // No input of the trunk requires grad, so no op in it recorded a node:
    // no saved activations, no backward work there.
    std::printf("trunk output: requires_grad %d, grad_fn %s\n", features.requires_grad(),
                features.grad_fn() ? "recorded" : "none");

    Tensor logits = (*(*net)[4])(features);
    Tensor loss = (logits * logits).mean();
    loss.backward();  // reaches layer 4 only
    const bool trunk_untouched = !net->submodule("0")->tensor("weight").grad().defined() &&
                                 !net->submodule("2")->tensor("weight").grad().defined();
    const bool head_has_grad = net->submodule("4")->tensor("weight").grad().defined();
    std::printf("grads: 0.weight %s, 2.weight %s, 4.weight %s\n", trunk_untouched ? "none" : "SET",
                trunk_untouched ? "none" : "SET", head_has_grad ? "set" : "NONE");
    return features.grad_fn() == nullptr && trunk_untouched && head_has_grad ? 0 : 1;
}
