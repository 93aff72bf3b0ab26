#include "core/autograd/record.h"

#include "core/ops/convert.h"
#include "core/ops/reduction.h"
#include "core/ops/views.h"

namespace graft::autograd {

namespace {

// A node whose backward is a closure written beside the op's forward.
class FunctionNode final : public Node {
public:
    FunctionNode(const char* op, size_t num_outputs, MultiBackwardFn fn)
        : Node(op, num_outputs), fn_(std::move(fn)) {}

    std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
        if (!fn_)
            throw Error(cat_str(name(), " backward: trying to backward through the graph a second time "
                                        "(its saved tensors were freed); pass retain_graph=true to the first backward"));
        Needs needs(next_edges.size());
        for (size_t i = 0; i < needs.size(); ++i) needs[i] = next_edges[i].valid();
        return fn_(grads, needs);
    }
    void release_saved() override { fn_ = nullptr; }

private:
    MultiBackwardFn fn_;
};

bool requires_grad_of(const Tensor& t) {
    const TensorImpl* impl = t.impl();
    return impl && impl->autograd && (impl->autograd->requires_grad || impl->autograd->grad_fn);
}

std::shared_ptr<Node> make_node(const char* op, const std::vector<Tensor>& inputs, size_t num_outputs,
                                MultiBackwardFn fn) {
    auto node = std::make_shared<FunctionNode>(op, num_outputs, std::move(fn));
    node->next_edges.reserve(inputs.size());
    for (const Tensor& in : inputs) node->next_edges.push_back(in.defined() ? gradient_edge(in) : Edge{});
    return node;
}

void set_history(const Tensor& output, const std::shared_ptr<Node>& node, uint32_t output_nr) {
    AutogradMeta& meta = meta_of(output);
    meta.grad_fn = node;
    meta.output_nr = output_nr;
    meta.requires_grad = false;
}

}  // namespace

SavedTensor::SavedTensor(const Tensor& t) {
    if (!t.defined()) return;
    // A detached alias: shares storage (and so the version counter) without
    // holding the graph, so saving an op's own output makes no reference cycle.
    tensor_ = Tensor::from_storage(t.storage(), t.shape(), t.strides(), t.offset(), t.dtype());
    version_ = t.version();
}

Tensor SavedTensor::get(const char* op) const {
    if (tensor_.defined() && tensor_.version() != version_)
        throw Error(cat_str(op, " backward: a tensor saved for the gradient (", describe(tensor_),
                            ") was modified by an in-place operation after it was saved (version ", version_,
                            ", now ", tensor_.version(), "); use the out-of-place op or clone() before modifying"));
    return tensor_;
}

bool should_record(std::initializer_list<const Tensor*> inputs) {
    if (!GradMode::enabled()) return false;
    for (const Tensor* t : inputs)
        if (requires_grad_of(*t)) return true;
    return false;
}

bool should_record(const std::vector<Tensor>& inputs) {
    if (!GradMode::enabled()) return false;
    for (const Tensor& t : inputs)
        if (requires_grad_of(t)) return true;
    return false;
}

void record(const char* op, const std::vector<Tensor>& inputs, const Tensor& output, BackwardFn fn) {
    if (!should_record(inputs)) return;
    auto node = make_node(op, inputs, 1,
                          [fn = std::move(fn)](const std::vector<Tensor>& grads, const Needs& needs) {
                              return fn(grads[0], needs);
                          });
    set_history(output, node, 0);
}

void record_multi(const char* op, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                  MultiBackwardFn fn) {
    if (!should_record(inputs)) return;
    auto node = make_node(op, inputs, outputs.size(), std::move(fn));
    for (size_t i = 0; i < outputs.size(); ++i) set_history(outputs[i], node, uint32_t(i));
}

void mark_view(const Tensor& base, const Tensor& view) {
    if (requires_grad_of(base) && GradMode::enabled()) meta_of(view).is_view = true;
}

void check_inplace(const Tensor& self, const char* op) {
    if (!GradMode::enabled() || !self.impl()->autograd) return;
    const AutogradMeta& meta = *self.impl()->autograd;
    check(!(meta.requires_grad && !meta.grad_fn), op,
          "a leaf tensor that requires grad (", describe(self),
          ") cannot be modified in place while gradients are tracked; use NoGradGuard or an out-of-place op");
    check(!(meta.is_view && meta.grad_fn), op, "in-place modification of a view (", describe(self),
          ") of a tensor that requires grad is not supported; use the out-of-place op");
}

void rebase_history(const Tensor& self, const Tensor& result) {
    {
        NoGradGuard no_grad;
        self.copy_(result);
    }
    if (result.impl()->autograd && result.impl()->autograd->grad_fn)
        set_history(self, result.impl()->autograd->grad_fn, result.impl()->autograd->output_nr);
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
    if (grad.shape() == shape) return grad;
    const int64_t lead = grad.dim() - int64_t(shape.size());
    std::vector<int64_t> dims;
    for (int64_t i = 0; i < grad.dim(); ++i)
        if (i < lead || (shape[size_t(i - lead)] == 1 && grad.size(i) != 1)) dims.push_back(i);
    Tensor summed = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
    return summed.reshape(shape);
}

}  // namespace graft::autograd
