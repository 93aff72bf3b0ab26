// A frozen prefix costs nothing backward: with conv1 .. layer3 of ResNet-18
// frozen, the autograd graph starts at layer4 (no node for the trunk, no
// activation of the trunk kept alive by it), the first trainable convs take no
// edge towards their frozen input, and backward leaves the trunk's .grad
// undefined. The fully trainable model is the control: there the same
// activation is kept and the graph reaches conv1.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/autograd/node.h"
#include "graft.h"
#include "nn/models/resnet.h"
#include "transfer/freeze.h"

using namespace graft;

namespace {

struct GraphCount {
    std::map<std::string, int> nodes;  // by op name
    int total = 0;
    int conv_with_input_edge = 0;      // conv2d nodes that pass a gradient to their input
};

GraphCount walk(const Tensor& root) {
    GraphCount out;
    std::set<const autograd::Node*> seen;
    std::vector<std::shared_ptr<autograd::Node>> todo{root.grad_fn()};
    while (!todo.empty()) {
        const auto node = todo.back();
        todo.pop_back();
        if (!node || !seen.insert(node.get()).second) continue;
        ++out.total;
        ++out.nodes[node->name()];
        if (std::string(node->name()) == "conv2d" && node->next_edges.at(0).valid()) ++out.conv_with_input_edge;
        for (const auto& edge : node->next_edges) todo.push_back(edge.node);
    }
    return out;
}

struct Run {
    GraphCount graph;
    bool layer2_output_alive = false;  // kept by the graph after the forward
    bool layer3_output_has_grad_fn = false;
};

// One forward and backward of a CIFAR-stem ResNet-18 on [2, 3, 16, 16].
Run forward_backward(nn::models::ResNet& model) {
    Generator gen(5);
    const Tensor x = randn({2, 3, 16, 16}, DType::Float32, &gen);
    const Tensor y = from_vector(std::vector<int64_t>{1, 7});
    Run run;
    std::weak_ptr<Storage> layer2_out;
    Tensor loss;
    {
        nn::Taps taps(model, {"layer2", "layer3"});
        loss = cross_entropy(model(x), y);
        layer2_out = taps["layer2"].storage();
        run.layer3_output_has_grad_fn = taps["layer3"].grad_fn() != nullptr || taps["layer3"].requires_grad();
    }  // the taps let go of what they saw: only the graph can hold it now
    run.layer2_output_alive = !layer2_out.expired();
    run.graph = walk(loss);
    loss.backward();
    return run;
}

}  // namespace

TEST_CASE("a frozen trunk records no graph and keeps no activations, and its grads stay undefined",
          "[freeze][graph]") {
    Generator gen(7);
    auto model = nn::models::resnet18({.num_classes = 10, .cifar_stem = true, .gen = &gen});
    model->train();
    transfer::freeze(*model, "conv1");
    transfer::freeze(*model, "bn1");
    transfer::freeze(*model, "layer[1-3]*");
    const Run run = forward_backward(*model);

    CHECK_FALSE(run.layer3_output_has_grad_fn);  // the trunk's output is a plain tensor
    CHECK_FALSE(run.layer2_output_alive);        // nothing saved it
    CHECK(run.graph.nodes.at("conv2d") == 5);    // layer4: 2 blocks x 2 convs + downsample
    CHECK(run.graph.nodes.at("batch_norm") == 5);
    CHECK(run.graph.nodes.at("AccumulateGrad") == 17);  // layer4's 15 tensors and fc's 2
    // layer4.0.conv1 and layer4.0.downsample.0 read the frozen trunk's output:
    // they compute their weight gradient only, never one for their input.
    CHECK(run.graph.conv_with_input_edge == 3);
    CHECK(run.graph.total < 45);

    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        const bool trainable = name.rfind("layer4.", 0) == 0 || name.rfind("fc.", 0) == 0;
        CHECK(p.grad().defined() == trainable);
    }
}

TEST_CASE("control: the fully trainable model records the trunk and keeps its activations", "[freeze][graph]") {
    Generator gen(7);
    auto model = nn::models::resnet18({.num_classes = 10, .cifar_stem = true, .gen = &gen});
    model->train();
    const Run run = forward_backward(*model);
    CHECK(run.layer3_output_has_grad_fn);
    CHECK(run.layer2_output_alive);
    CHECK(run.graph.nodes.at("conv2d") == 20);
    CHECK(run.graph.nodes.at("AccumulateGrad") == 62);
    CHECK(run.graph.conv_with_input_edge == 19);  // all but conv1, whose input is the data
    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK(p.grad().defined());
    }
}

TEST_CASE("frozen layers between trainable ones pass gradients through without weight gradients",
          "[freeze][graph]") {
    Generator gen(7);
    auto model = nn::models::resnet18({.num_classes = 10, .cifar_stem = true, .gen = &gen});
    model->train();
    transfer::freeze(*model, "layer[2-3]*");  // the stem and layer1 still learn, so gradients cross layer2..3
    const Run run = forward_backward(*model);
    CHECK(run.layer3_output_has_grad_fn);
    CHECK(run.graph.nodes.at("conv2d") == 20);
    CHECK(run.graph.nodes.at("AccumulateGrad") == 62 - 30);  // layer2 and layer3: 15 tensors each
    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        const bool frozen = name.rfind("layer2.", 0) == 0 || name.rfind("layer3.", 0) == 0;
        CHECK(p.grad().defined() == !frozen);
    }
}
