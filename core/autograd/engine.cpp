#include "core/autograd/engine.h"

#include <queue>
#include <unordered_map>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/ops/binary.h"
#include "core/ops/creation.h"

namespace graft::autograd {

namespace {

struct Pending {
    int dependencies = 0;
    std::vector<Tensor> grads;  // one slot per node output, summed as they arrive
};

struct LaterFirst {
    bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

void accumulate(Tensor& slot, const Tensor& grad) {
    if (!grad.defined()) return;
    slot = slot.defined() ? add(slot, grad) : grad;
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph) {
    std::vector<Edge> root_edges;
    for (size_t i = 0; i < roots.size(); ++i) {
        const Tensor& root = roots[i];
        Edge edge = gradient_edge(root);
        check(edge.valid(), "backward", "element ", i, " of the tensors (", describe(root),
              ") does not require grad and has no grad_fn");
        root_edges.push_back(edge);
    }

    // Count, for every node reachable from the roots, how many edges lead into it.
    std::unordered_map<Node*, Pending> pending;
    std::vector<Node*> stack;
    for (const Edge& e : root_edges) {
        if (pending.emplace(e.node.get(), Pending{}).second) stack.push_back(e.node.get());
    }
    std::vector<Node*> visited = stack;
    while (!stack.empty()) {
        Node* node = stack.back();
        stack.pop_back();
        for (const Edge& next : node->next_edges) {
            if (!next.valid()) continue;
            auto [it, inserted] = pending.emplace(next.node.get(), Pending{});
            it->second.dependencies++;
            if (inserted) {
                stack.push_back(next.node.get());
                visited.push_back(next.node.get());
            }
        }
    }
    for (auto& [node, p] : pending) p.grads.resize(node->num_outputs());
    for (size_t i = 0; i < roots.size(); ++i) {
        Tensor g = grads.size() > i ? grads[i] : Tensor();
        if (!g.defined()) {
            check(roots[i].numel() == 1, "backward", "a gradient must be given for a non-scalar output (",
                  describe(roots[i]), "); backward() without arguments only works on one-element tensors");
            g = ones_like(roots[i]);
        } else {
            check(g.shape() == roots[i].shape(), "backward", "gradient ", describe(g),
                  " does not match the shape of the output ", describe(roots[i]));
        }
        accumulate(pending[root_edges[i].node.get()].grads[root_edges[i].input_nr], g);
    }

    NoGradGuard no_grad;  // backward formulas build no graph of their own
    std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
    for (const Edge& e : root_edges)
        if (pending[e.node.get()].dependencies == 0) ready.push(e.node.get());
    std::unordered_map<Node*, bool> queued;
    while (!ready.empty()) {
        Node* node = ready.top();
        ready.pop();
        if (queued[node]) continue;
        queued[node] = true;
        std::vector<Tensor> in_grads = std::move(pending[node].grads);
        for (size_t out = 0; out < in_grads.size(); ++out) {
            for (auto& [handle, hook] : node->pre_hooks[out]) {
                if (!in_grads[out].defined()) break;
                Tensor replaced = hook(in_grads[out]);
                if (replaced.defined()) in_grads[out] = replaced;
            }
        }
        std::vector<Tensor> out_grads = node->apply(std::move(in_grads));
        for (size_t i = 0; i < node->next_edges.size(); ++i) {
            const Edge& next = node->next_edges[i];
            if (!next.valid()) continue;
            Pending& p = pending[next.node.get()];
            if (i < out_grads.size()) accumulate(p.grads[next.input_nr], out_grads[i]);
            if (--p.dependencies == 0) ready.push(next.node.get());
        }
    }
    if (!retain_graph)
        for (Node* node : visited) node->release_saved();
}

}  // namespace graft::autograd
