// LoRA layers against PyTorch 1.13 (tests/fixtures/lora_parity.json, made by
// make_lora_fixtures.py): the output of base + B·A·scaling for Linear and Conv2d,
// the gradients of A, B and the input, the merged weight (PEFT's delta formula),
// and merged forward equal to unmerged forward. Float32, errors relative to the
// largest |ref| (testing::rel_err), at most 1e-5.
#include <catch2/catch.hpp>

#include "core/autograd/grad_mode.h"
#include "tests/support/fixtures.h"
#include "transfer/lora_layers.h"

using namespace graft;
using nlohmann::json;
using testing::rel_err;
using testing::tensor_from_json;

namespace {

constexpr double kTol = 1e-5;

const json& fixture() {
    static const json j = testing::load_fixture("lora_parity.json", "lora-parity-1");
    return j;
}

nn::Size2d pair(const json& j) { return nn::Size2d{j[0].get<int64_t>(), j[1].get<int64_t>()}; }

// The case's layer, wrapped, with the fixture's base, A and B values.
std::shared_ptr<transfer::LoraLayer> build(const json& c) {
    const transfer::LoraConfig config{c["rank"].get<int64_t>(), c["alpha"].get<double>(), 0.0};
    std::shared_ptr<transfer::LoraLayer> layer;
    Tensor weight, bias;
    if (c["kind"] == "linear") {
        auto base = std::make_shared<nn::Linear>(c["in"].get<int64_t>(), c["out"].get<int64_t>());
        weight = base->weight, bias = base->bias;
        layer = transfer::make_lora_linear(base, config);
    } else {
        nn::Conv2dOptions o{pair(c["stride"]), nn::Padding2d(c["padding"][0].get<int64_t>(), c["padding"][1].get<int64_t>()),
                            pair(c["dilation"]), 1, c.contains("bias")};
        auto base = std::make_shared<nn::Conv2d>(c["in"].get<int64_t>(), c["out"].get<int64_t>(), pair(c["kernel"]), o);
        weight = base->weight, bias = base->bias;
        layer = transfer::make_lora_conv2d(base, config);
    }
    NoGradGuard no_grad;
    weight.copy_(tensor_from_json(c["weight"]));
    if (c.contains("bias")) bias.copy_(tensor_from_json(c["bias"]));
    layer->weight_A().copy_(tensor_from_json(c["lora_A"]));
    layer->weight_B().copy_(tensor_from_json(c["lora_B"]));
    return layer;
}

void expect_close(const Tensor& got, const json& want, const char* what) {
    const double e = rel_err(got, tensor_from_json(want));
    INFO(what << ": relative error " << e);
    CHECK(e <= kTol);
}

}  // namespace

TEST_CASE("LoRA Linear and Conv2d match PyTorch: output, gradients of A, B and x", "[lora][parity]") {
    for (const json& c : fixture()["cases"]) {
        INFO("case " << c["name"].get<std::string>());
        auto layer = build(c);
        const Tensor x = tensor_from_json(c["x"]).requires_grad_();
        const Tensor y = (*layer)(x);
        expect_close(y, c["y"], "y");
        y.backward(tensor_from_json(c["grad_out"]));
        expect_close(layer->weight_A().grad(), c["grad_A"], "grad A");
        expect_close(layer->weight_B().grad(), c["grad_B"], "grad B");
        expect_close(x.grad(), c["grad_x"], "grad x");
        CHECK_FALSE(layer->base_weight().grad().defined());  // frozen

        // The parent's old pointer (the base layer itself) gives the same output.
        const Tensor via_base = (*layer->base_layer)(x.detach());
        CHECK(rel_err(via_base, y.detach()) == 0.0);
    }
}

TEST_CASE("LoRA merge: weight equals PyTorch's W + delta, forward unchanged, unmerge restores", "[lora][parity]") {
    for (const json& c : fixture()["cases"]) {
        INFO("case " << c["name"].get<std::string>());
        auto layer = build(c);
        const Tensor x = tensor_from_json(c["x"]);
        const Tensor original = layer->base_weight().detach().clone();
        const Tensor before = (*layer)(x).detach();
        layer->merge();
        CHECK(layer->merged());
        expect_close(layer->base_weight(), c["merged_weight"], "merged weight");
        const Tensor after = (*layer)(x).detach();
        INFO("merged vs unmerged forward: " << rel_err(after, before));
        CHECK(rel_err(after, before) <= kTol);
        CHECK_THROWS_WITH(layer->merge(), Catch::Contains("merged already"));
        layer->unmerge();
        INFO("weight after merge + unmerge: " << rel_err(layer->base_weight(), original));
        CHECK(rel_err(layer->base_weight(), original) <= 1e-6);
        CHECK_THROWS_WITH(layer->unmerge(), Catch::Contains("not merged"));
        CHECK(rel_err((*layer)(x).detach(), before) <= kTol);
    }
}
