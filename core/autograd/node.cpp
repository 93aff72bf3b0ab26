#include "core/autograd/node.h"

#include <atomic>

#include "core/autograd/grad_mode.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"

namespace graft::autograd {

namespace {
std::atomic<uint64_t> next_sequence_nr{0};
}

Node::Node(const char* name, size_t num_outputs)
    : pre_hooks(num_outputs), name_(name), num_outputs_(num_outputs),
      sequence_nr_(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
    : Node("AccumulateGrad", 1), leaf_(std::move(leaf)) {}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
    Tensor incoming = std::move(grads[0]);
    if (!incoming.defined()) return {};
    NoGradGuard no_grad;
    AutogradMeta& meta = *leaf_->autograd;
    for (auto& [handle, hook] : meta.leaf_hooks) {
        Tensor replaced = hook(incoming);
        if (replaced.defined()) incoming = replaced;
    }
    if (!meta.grad.defined()) {
        // The incoming gradient may alias a tensor the graph hands to other
        // inputs too (add's backward passes grad through); keep a private copy
        // unless we are its only owner.
        meta.grad = incoming.impl_ptr().use_count() == 1 && incoming.is_contiguous() ? incoming : incoming.clone();
    } else {
        meta.grad.add_(incoming);
    }
    return {};
}

AutogradMeta& meta_of(const Tensor& t) {
    TensorImpl* impl = t.impl();
    if (!impl->autograd) impl->autograd = std::make_unique<AutogradMeta>();
    return *impl->autograd;
}

Edge gradient_edge(const Tensor& t) {
    TensorImpl* impl = t.impl();
    if (!impl->autograd) return {};
    AutogradMeta& meta = *impl->autograd;
    if (meta.grad_fn) return {meta.grad_fn, meta.output_nr};
    if (!meta.requires_grad) return {};
    std::shared_ptr<Node> acc = meta.grad_accumulator.lock();
    if (!acc) {
        acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
        meta.grad_accumulator = acc;
    }
    return {acc, 0};
}

}  // namespace graft::autograd
