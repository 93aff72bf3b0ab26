// Module: PyTorch names, state_dict round trips, load reports, modes, hooks, taps.
#include <catch2/catch.hpp>

#include "graft.h"
#include "nn/module.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

class Affine : public nn::Module {
public:
    explicit Affine(int64_t n) : Module("Affine") {
        weight = register_parameter("weight", ones({n}));
        bias = register_parameter("bias", zeros({n}));
        register_buffer("calls", zeros({}, DType::Int64));
        register_buffer("scratch", zeros({n}), /*persistent=*/false);
    }
    Tensor forward(const Tensor& x) override { return add(mul(x, weight), bias); }
    std::string extra_repr() const override { return cat_str(weight.numel()); }
    Tensor weight, bias;
};

class Block : public nn::Module {
public:
    Block() : Module("Block") {
        first = register_module("first", std::make_shared<Affine>(3));
        second = register_module("second", std::make_shared<Affine>(3));
    }
    Tensor forward(const Tensor& x) override { return (*second)((*first)(x)); }
    std::shared_ptr<Affine> first, second;
};

class Net : public nn::Module {
public:
    Net() : Module("Net") {
        layer1 = register_module("layer1", std::make_shared<Block>());
        head = register_module("head", std::make_shared<Affine>(3));
    }
    Tensor forward(const Tensor& x) override { return (*head)((*layer1)(x)); }
    std::shared_ptr<Block> layer1;
    std::shared_ptr<Affine> head;
};

}  // namespace

TEST_CASE("named_parameters and state_dict use PyTorch's dotted names in order", "[module]") {
    auto net = std::make_shared<Net>();
    std::vector<std::string> names;
    for (auto& [name, p] : net->named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"layer1.first.weight", "layer1.first.bias", "layer1.second.weight",
                                            "layer1.second.bias", "head.weight", "head.bias"});
    const NamedTensors sd = net->state_dict();
    CHECK(sd.names() == std::vector<std::string>{"layer1.first.weight", "layer1.first.bias", "layer1.first.calls",
                                                 "layer1.second.weight", "layer1.second.bias", "layer1.second.calls",
                                                 "head.weight", "head.bias", "head.calls"});
    CHECK(net->num_parameters() == 18);
}

TEST_CASE("load_state_dict copies by name and reports every problem", "[module]") {
    auto net = std::make_shared<Net>();
    NamedTensors src = net->state_dict();
    src.set("head.weight", full({3}, 2.0));
    REQUIRE(net->load_state_dict(src).ok());
    CHECK(net->head->weight.to_vector<float>() == std::vector<float>{2, 2, 2});
    CHECK(net->head->weight.requires_grad());

    NamedTensors bad = src;
    bad.erase("layer1.first.bias");
    bad.set("head.bias", zeros({5}));
    bad.set("fc.weight", zeros({2}));
    CHECK_THROWS_WITH(net->load_state_dict(bad), Contains("missing     layer1.first.bias") &&
                                                     Contains("unexpected  fc.weight") &&
                                                     Contains("head.bias: model [3], source [5]"));
    const nn::LoadReport report = net->load_state_dict(bad, /*strict=*/false);
    CHECK(report.missing == std::vector<std::string>{"layer1.first.bias"});
    CHECK(report.unexpected == std::vector<std::string>{"fc.weight"});
    REQUIRE(report.mismatched.size() == 1);
    CHECK(report.mismatched[0].name == "head.bias");
    CHECK(report.loaded.size() == 7);
}

TEST_CASE("train and eval reach every module", "[module]") {
    auto net = std::make_shared<Net>();
    net->eval();
    for (auto& [name, m] : net->named_modules()) CHECK_FALSE(m->is_training());
    net->train();
    CHECK(net->layer1->second->is_training());
}

TEST_CASE("to(dtype) rewrites parameters in place so members stay valid", "[module]") {
    auto net = std::make_shared<Net>();
    Tensor member = net->head->weight;
    net->to(DType::Float64);
    CHECK(member.dtype() == DType::Float64);
    CHECK(net->head->weight.dtype() == DType::Float64);
    CHECK(net->state_dict().at("head.calls").dtype() == DType::Int64);
    CHECK(member.requires_grad());
}

TEST_CASE("forward hooks and taps read intermediate features", "[module]") {
    auto net = std::make_shared<Net>();
    Tensor x = from_vector<float>({1, 2, 3});
    nn::Taps taps(*net, {"layer1.first", "layer1"});
    const size_t h = net->head->register_forward_hook([](nn::Module&, const Tensor&, const Tensor& out) {
        return mul(out, 10.0);
    });
    Tensor y = (*net)(x);
    CHECK(y.to_vector<float>() == std::vector<float>{10, 20, 30});
    CHECK(taps["layer1"].to_vector<float>() == std::vector<float>{1, 2, 3});
    net->head->remove_hook(h);
    CHECK((*net)(x).to_vector<float>() == std::vector<float>{1, 2, 3});
    CHECK_THROWS_WITH(nn::Taps(*net, {"layer9"}), Contains("layer9") && Contains("layer1, head"));
}

TEST_CASE("replace_module swaps a head in place", "[module]") {
    auto net = std::make_shared<Net>();
    net->replace_module("head", std::make_shared<Affine>(3));
    CHECK(net->submodule("head")->type_name() == "Affine");
    CHECK_THROWS_WITH(net->replace_module("tail", std::make_shared<Affine>(1)), Contains("tail"));
    CHECK_THROWS_WITH(net->register_module("head", std::make_shared<Affine>(1)), Contains("already registered"));
}

TEST_CASE("str prints a tree with parameter counts and frozen parts", "[module]") {
    auto net = std::make_shared<Net>();
    for (auto& p : net->layer1->parameters()) p.requires_grad_(false);
    const std::string s = net->str();
    CHECK_THAT(s, Contains("Net(  # 18 params, partly frozen"));
    CHECK_THAT(s, Contains("(layer1): Block(  # 12 params, frozen"));
    CHECK_THAT(s, Contains("(head): Affine(3)  # 6 params"));
}
