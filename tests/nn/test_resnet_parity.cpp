// ResNet blocks against torchvision's BasicBlock and Bottleneck (torch 1.13,
// torchvision 0.14): tests/fixtures/resnet_block_parity.json, made by
// make_resnet_block_fixtures.py, holds each block's state_dict (random weights,
// non-trivial BatchNorm statistics), an input, the eval output, and after one
// train-mode forward the output, the gradients of sum(out * r) for the input and
// every parameter, and the updated running statistics. float32 throughout;
// errors relative to the largest |ref| must stay below 1e-4.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "nn/models/resnet.h"
#include "tests/support/fixtures.h"

using namespace graft;
using nlohmann::json;

using graft::testing::rel_err;

namespace {

const json& fixture() {
    static const json j = testing::load_fixture("resnet_block_parity.json", "graft-resnet-block-fixture/1");
    return j;
}


void expect_match(const Tensor& got, const json& want, const std::string& what) {
    const double e = rel_err(got, testing::tensor_from_json(want));
    INFO(what << ": relative error " << e);
    CHECK(e <= 1e-4);
}

std::shared_ptr<nn::Module> make_block(const json& c) {
    const int64_t inplanes = c["inplanes"], planes = c["planes"], stride = c["stride"];
    const bool basic = c["kind"] == "basic";
    const int64_t out = planes * (basic ? nn::models::BasicBlock::expansion : nn::models::Bottleneck::expansion);
    std::shared_ptr<nn::Sequential> down;
    if (c["downsample"].get<bool>())
        down = nn::sequential({std::make_shared<nn::Conv2d>(inplanes, out, 1, nn::Conv2dOptions{.stride = stride, .bias = false}),
                               std::make_shared<nn::BatchNorm2d>(out)});
    if (basic) return std::make_shared<nn::models::BasicBlock>(inplanes, planes, stride, down);
    return std::make_shared<nn::models::Bottleneck>(inplanes, planes, stride, down);
}

std::shared_ptr<nn::Module> loaded_block(const json& c) {
    auto block = make_block(c);
    NamedTensors sd;
    for (const auto& name : c["state_order"]) sd.set(name, testing::tensor_from_json(c["state_dict"][name.get<std::string>()]));
    const nn::LoadReport report = block->load_state_dict(sd);
    REQUIRE(report.ok());
    // Same order as torchvision's state_dict.
    const auto names = block->state_dict().names();
    REQUIRE(names.size() == c["state_order"].size());
    for (size_t i = 0; i < names.size(); ++i) CHECK(names[i] == c["state_order"][i].get<std::string>());
    return block;
}

}  // namespace

TEST_CASE("ResNet blocks match torchvision in eval mode", "[nn][resnet][parity]") {
    for (const json& c : fixture()["cases"]) {
        INFO("case " << c["name"].get<std::string>());
        auto block = loaded_block(c);
        block->eval();
        NoGradGuard no_grad;
        expect_match((*block)(testing::tensor_from_json(c["x"])), c["eval_out"], "eval output");
    }
}

TEST_CASE("ResNet blocks match torchvision in train mode: output, gradients, running stats", "[nn][resnet][parity]") {
    for (const json& c : fixture()["cases"]) {
        INFO("case " << c["name"].get<std::string>());
        auto block = loaded_block(c);
        block->train();
        const Tensor x = testing::tensor_from_json(c["x"]).requires_grad_();
        const Tensor out = (*block)(x);
        expect_match(out, c["train_out"], "train output");
        (out * testing::tensor_from_json(c["r"])).sum().backward();
        expect_match(x.grad(), c["dx"], "input gradient");
        for (const auto& [name, p] : block->named_parameters()) {
            REQUIRE(c["param_grads"].contains(name));
            REQUIRE(p.grad().defined());
            expect_match(p.grad(), c["param_grads"][name], name + " gradient");
        }
        const NamedTensors sd = block->state_dict();
        for (const auto& [name, want] : c["running_after"].items()) expect_match(sd.at(name), want, name);
    }
}
