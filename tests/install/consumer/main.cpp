// A two-layer network on a tiny batch: forward, cross-entropy, backward, gradients.
#include <graft/graft.h>

#include <iostream>

int main() {
    using namespace graft;
    manual_seed(0);
    Tensor x = randn({4, 5});                                // a batch of 4 inputs
    Tensor target = from_vector<float>({1, 0, 0, 0, 1, 0,    // one-hot labels
                                        0, 0, 1, 1, 0, 0}, {4, 3});
    Tensor w1 = randn({5, 8}).requires_grad_();              // leaves that want gradients
    Tensor w2 = randn({8, 3}).requires_grad_();

    Tensor logits = matmul(relu(matmul(x, w1)), w2);         // [4, 3]
    Tensor loss = -(log_softmax(logits, 1) * target).sum({1}).mean();
    loss.backward();                                         // reverse-mode autograd

    std::cout << "loss " << loss.item<float>() << "\n";
    std::cout << "d loss / d w2 = " << w2.grad() << "\n";
    return w1.grad().shape() == w1.shape() ? 0 : 1;
}
