// The autograd graph. Each differentiable op that sees an input requiring grad
// creates one Node: it knows how to turn the gradients of the op's outputs into
// gradients of its inputs, and holds one Edge per input pointing at the node that
// produced that input (or at the AccumulateGrad node of a leaf). An input that
// needs no gradient gets an empty Edge, and its gradient is never computed: this
// is what makes a frozen trunk cost no backward work for its weights.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace graft::autograd {

class Node;

struct Edge {
    std::shared_ptr<Node> node;  // null: this input needs no gradient
    uint32_t input_nr = 0;       // which of node's outputs this edge feeds
    bool valid() const { return node != nullptr; }
};

class Node {
public:
    Node(const char* name, size_t num_outputs);
    virtual ~Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // grads[i] is the gradient of output i (undefined if none flowed there).
    // Returns one gradient per entry of next_edges (undefined where not needed).
    virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
    // Drops saved tensors once backward has run without retain_graph.
    virtual void release_saved() {}

    const char* name() const { return name_; }
    size_t num_outputs() const { return num_outputs_; }
    uint64_t sequence_nr() const { return sequence_nr_; }
    bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].valid(); }

    std::vector<Edge> next_edges;
    // Hooks run on the gradient of output i before apply (tensor hooks, retain_grad).
    std::vector<std::vector<std::pair<size_t, TensorHook>>> pre_hooks;

private:
    const char* name_;
    size_t num_outputs_;
    uint64_t sequence_nr_;
};

// The per-tensor autograd state (allocated lazily, so plain tensors pay nothing).
struct AutogradMeta {
    bool requires_grad = false;          // set on leaves by requires_grad_()
    bool retains_grad = false;
    bool is_view = false;                // a view recorded while tracking gradients
    Tensor grad;                         // leaves (and retained non-leaves)
    std::shared_ptr<Node> grad_fn;       // non-leaves: the node that made this tensor
    uint32_t output_nr = 0;              // which output of grad_fn
    std::weak_ptr<Node> grad_accumulator;  // leaves: shared by all uses in a graph
    std::vector<std::pair<size_t, TensorHook>> leaf_hooks;  // run by AccumulateGrad
};

// The node at the end of every path to a leaf: adds the gradient into leaf.grad.
class AccumulateGrad final : public Node {
public:
    explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
    std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;

private:
    std::shared_ptr<TensorImpl> leaf_;
};

// The edge through which a gradient for `t` should flow: its grad_fn, or its
// leaf accumulator (created on first use), or an empty edge.
Edge gradient_edge(const Tensor& t);
// The meta of `t`, created if absent.
AutogradMeta& meta_of(const Tensor& t);

}  // namespace graft::autograd
