// nn::models stages: for ResNet-18, MobileNetV2, EfficientNet-Lite0 and
// small_cnn the stage chain equals forward bitwise (eval, and train with the
// random draws replayed), the stages own every parameter exactly once, the
// names are the documented ones, and the errors name what is wrong.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "nn/layers/activation.h"
#include "nn/layers/linear.h"
#include "nn/models/efficientnet_lite.h"
#include "nn/models/mobilenet_v2.h"
#include "nn/models/resnet.h"
#include "nn/models/small_cnn.h"
#include "nn/models/stages.h"

using namespace graft;
using namespace graft::nn::models;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> names_of(const std::vector<Stage>& stages) {
    std::vector<std::string> out;
    for (const Stage& s : stages) out.push_back(s.name);
    return out;
}

// forward(x) and the whole stage chain give the same bits. `gen` (the model's
// generator, for dropout and drop connect) is rewound before each run so both
// see the same random draws in train mode.
void expect_chain_equals_forward(nn::Module& model, const Tensor& x, Generator* gen = nullptr) {
    NoGradGuard no_grad;
    const std::vector<Stage> st = stages_of(model);
    const uint64_t seed = gen ? gen->seed() : 0, offset = gen ? gen->offset() : 0;
    Tensor want = model(x);
    if (gen) gen->set_state(seed, offset);
    Tensor got = run_stages(st, 0, st.size(), x);
    REQUIRE(got.shape() == want.shape());
    CHECK(got.to_vector<float>() == want.to_vector<float>());
    // Any split point composes to the same thing.
    if (gen) gen->set_state(seed, offset);
    const size_t mid = st.size() / 2;
    Tensor split = run_stages(st, mid, st.size(), run_stages(st, 0, mid, x));
    CHECK(split.to_vector<float>() == want.to_vector<float>());
}

// The stages' parameters are the model's, each once, in model order.
void expect_stages_own_every_parameter(nn::Module& model) {
    std::vector<std::string> owned;
    for (const Stage& s : stages_of(model))
        for (auto& [name, t] : stage_parameters(model, s)) owned.push_back(name);
    std::vector<std::string> all;
    for (auto& [name, t] : model.named_parameters()) all.push_back(name);
    CHECK(owned == all);
}

}  // namespace

TEST_CASE("ResNet-18 stages: names, ownership, chain == forward", "[stages]") {
    Generator gen(3);
    auto model = resnet18({.num_classes = 7, .gen = &gen});
    const auto st = stages_of(*model);
    CHECK(names_of(st) == std::vector<std::string>{"stem", "layer1", "layer2", "layer3", "layer4", "pool", "fc"});
    CHECK(st[0].modules == std::vector<std::string>{"conv1", "bn1", "relu", "maxpool"});
    CHECK(st[5].modules == std::vector<std::string>{"avgpool"});
    expect_stages_own_every_parameter(*model);
    Tensor x = randn({2, 3, 32, 32}, DType::Float32, &gen);
    model->eval();
    expect_chain_equals_forward(*model, x);
    model->train();
    expect_chain_equals_forward(*model, x);
    // features() is the chain up to fc.
    model->eval();
    NoGradGuard no_grad;
    CHECK(run_stages(st, 0, stage_index(st, "fc"), x).to_vector<float>() == model->features(x).to_vector<float>());
}

TEST_CASE("MobileNetV2 stages: features.0..18, pool, classifier; chain == forward", "[stages]") {
    Generator gen(4);
    auto model = mobilenet_v2({.num_classes = 5, .gen = &gen});
    const auto st = stages_of(*model);
    REQUIRE(st.size() == 21);
    CHECK(st.front().name == "features.0");
    CHECK(st[18].name == "features.18");
    CHECK(st[19].name == "pool");
    CHECK(st[19].modules.empty());
    CHECK(st[20].name == "classifier");
    expect_stages_own_every_parameter(*model);
    Tensor x = randn({2, 3, 32, 32}, DType::Float32, &gen);
    model->eval();
    expect_chain_equals_forward(*model, x);
    model->train();  // dropout draws from the default generator: replay it
    Generator& g = default_generator();
    expect_chain_equals_forward(*model, x, &g);
    CHECK_THROWS_WITH(run_stages(st, 0, 1, randn({1, 1, 8, 8})), Contains("MobileNetV2") && Contains("[N, 3, H, W]"));
}

TEST_CASE("EfficientNet-Lite0 stages: stem, 16 blocks, head, _dropout, _fc; chain == forward", "[stages]") {
    Generator gen(5);
    auto model = efficientnet_lite0({.num_classes = 4, .image_size = 32, .gen = &gen});
    const auto st = stages_of(*model);
    REQUIRE(st.size() == 20);
    CHECK(st[0].name == "stem");
    CHECK(st[0].modules == std::vector<std::string>{"_conv_stem", "_bn0"});
    CHECK(st[1].name == "_blocks.0");
    CHECK(st[16].name == "_blocks.15");
    CHECK(names_of(st).back() == "_fc");
    CHECK(st[17].name == "head");
    CHECK(st[18].name == "_dropout");
    expect_stages_own_every_parameter(*model);
    Tensor x = randn({2, 3, 32, 32}, DType::Float32, &gen);
    model->eval();
    expect_chain_equals_forward(*model, x);
    // Train mode: drop connect and dropout draw from the model's generator.
    model->train();
    expect_chain_equals_forward(*model, x, &gen);
    // extract_features is stem.._blocks.15 plus the head before its pooling.
    model->eval();
    NoGradGuard no_grad;
    Tensor blocks = run_stages(st, 0, stage_index(st, "head"), x);
    Tensor pooled = run_stages(st, stage_index(st, "head"), stage_index(st, "head") + 1, blocks);
    CHECK(pooled.to_vector<float>() == model->extract_features(x).mean({2, 3}).to_vector<float>());
}

TEST_CASE("small_cnn stages: conv1, conv2, fc1, fc2 over the Sequential's children", "[stages]") {
    Generator gen(6);
    auto model = small_cnn({.gen = &gen});
    const auto st = stages_of(*model);
    CHECK(names_of(st) == std::vector<std::string>{"conv1", "conv2", "fc1", "fc2"});
    CHECK(st[0].modules == std::vector<std::string>{"0", "1", "2", "3"});
    CHECK(st[2].modules == std::vector<std::string>{"8", "9", "10", "11"});
    CHECK(st[3].modules == std::vector<std::string>{"12"});
    CHECK(model->type_name() == "Sequential");
    expect_stages_own_every_parameter(*model);
    Tensor x = randn({3, 1, 28, 28}, DType::Float32, &gen);
    model->eval();
    expect_chain_equals_forward(*model, x);
    model->train();
    expect_chain_equals_forward(*model, x, &gen);

    auto plain = small_cnn({.batch_norm = false, .dropout = 0});
    const auto pst = stages_of(*plain);
    CHECK(pst[0].modules == std::vector<std::string>{"0", "1", "2"});
    CHECK(pst[3].modules == std::vector<std::string>{"9"});
    expect_stages_own_every_parameter(*plain);
}

TEST_CASE("stages see a child swapped by name", "[stages]") {
    Generator gen(7);
    auto model = resnet18({.num_classes = 3, .gen = &gen});
    const auto st = stages_of(*model);  // taken before the swap
    model->replace_module("fc", std::make_shared<nn::Identity>());
    model->children_replaced();
    CHECK(model->fc == nullptr);  // the typed handle no longer fits
    model->eval();
    NoGradGuard no_grad;
    Tensor x = randn({1, 3, 32, 32}, DType::Float32, &gen);
    CHECK((*model)(x).shape() == Shape{1, 512});
    CHECK(run_stages(st, 0, st.size(), x).shape() == Shape{1, 512});
}

TEST_CASE("stages errors name the model type, the stages and the range", "[stages]") {
    auto mlp = nn::sequential({std::make_shared<nn::Linear>(4, 2)});
    CHECK_THROWS_WITH(stages_of(*mlp), Contains("Sequential") && Contains("not a staged model"));
    auto model = small_cnn();
    const auto st = stages_of(*model);
    CHECK_THROWS_WITH(stage_index(st, "layer3"), Contains("layer3") && Contains("conv1, conv2, fc1, fc2"));
    CHECK_THROWS_WITH(run_stages(st, 2, 5, Tensor()), Contains("[2, 5)") && Contains("4 stages"));
    CHECK_THROWS_WITH(run_stages(st, 3, 2, Tensor()), Contains("run_stages"));
    // An empty range is the identity.
    Tensor x = randn({1, 1, 28, 28});
    CHECK(run_stages(st, 1, 1, x).impl() == x.impl());
}
