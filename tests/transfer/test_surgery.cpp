// transfer::replace_head, attach_head, head_info and cut_at on the zoo models:
// names stay published ("fc.weight"), shapes, dtype and init of the new head,
// typed handles that follow, a cut whose trunk equals a Taps capture and
// whose halves compose to forward bitwise, and the errors.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/autograd/grad_mode.h"
#include "nn/layers/activation.h"
#include "nn/layers/container.h"
#include "nn/layers/linear.h"
#include "nn/models/efficientnet_lite.h"
#include "nn/models/mobilenet_v2.h"
#include "nn/models/resnet.h"
#include "nn/models/small_cnn.h"
#include "transfer/surgery.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> keys(const nn::Module& m) {
    std::vector<std::string> out;
    for (const auto& [name, t] : m.state_dict()) out.push_back(name);
    return out;
}

}  // namespace

TEST_CASE("replace_head on ResNet-18: fc keeps its name, gets the new size and torch's init from gen", "[surgery]") {
    Generator gen(11);
    auto model = nn::models::resnet18({.gen = &gen});
    const std::vector<std::string> before = keys(*model);
    auto old_fc = model->fc;

    Generator head_gen(42);
    CHECK(transfer::replace_head(*model, 10, &head_gen) == "fc");
    CHECK(keys(*model) == before);  // same names, same order
    REQUIRE(model->fc != nullptr);
    CHECK(model->fc != old_fc);
    CHECK(model->fc == model->submodule("fc"));
    CHECK(model->fc->in_features == 512);
    CHECK(model->fc->out_features == 10);
    CHECK(model->state_dict().at("fc.weight").shape() == Shape{10, 512});
    CHECK(model->state_dict().at("fc.bias").shape() == Shape{10});
    CHECK(model->fc->weight.requires_grad());

    // The same draws as a Linear(512, 10) reset from the same seed.
    nn::Linear expected(512, 10);
    Generator same(42);
    expected.reset_parameters(&same);
    CHECK(model->fc->weight.to_vector<float>() == expected.weight.to_vector<float>());
    CHECK(model->fc->bias.to_vector<float>() == expected.bias.to_vector<float>());

    model->eval();
    NoGradGuard no_grad;
    CHECK((*model)(randn({2, 3, 32, 32})).shape() == Shape{2, 10});
}

TEST_CASE("replace_head names the classifier of each zoo model", "[surgery]") {
    Generator gen(12);
    NoGradGuard no_grad;
    SECTION("MobileNetV2: classifier.1") {
        auto model = nn::models::mobilenet_v2({.gen = &gen});
        CHECK(transfer::replace_head(*model, 3, &gen) == "classifier.1");
        CHECK(model->classifier->at<nn::Linear>(1)->out_features == 3);
        model->eval();
        CHECK((*model)(randn({1, 3, 32, 32})).shape() == Shape{1, 3});
        const auto info = transfer::head_info(*model);
        CHECK(info.path == "classifier");
        CHECK(info.stage == "classifier");
        CHECK(info.linear == "classifier.1");
        CHECK(info.in_features == 1280);
    }
    SECTION("EfficientNet-Lite0: _fc") {
        auto model = nn::models::efficientnet_lite0({.image_size = 32, .gen = &gen});
        CHECK(transfer::replace_head(*model, 5, &gen) == "_fc");
        CHECK(model->_fc->out_features == 5);
        CHECK(model->state_dict().at("_fc.weight").shape() == Shape{5, 1280});
        model->eval();
        CHECK((*model)(randn({1, 3, 32, 32})).shape() == Shape{1, 5});
    }
    SECTION("small_cnn: its last Linear") {
        auto model = nn::models::small_cnn({.gen = &gen});
        CHECK(transfer::replace_head(*model, 4, &gen) == "12");
        CHECK(model->at<nn::Linear>(12)->out_features == 4);
        const auto info = transfer::head_info(*model);
        CHECK(info.path == "12");
        CHECK(info.stage == "fc2");
        CHECK(info.in_features == 128);
        model->eval();
        CHECK((*model)(randn({2, 1, 28, 28})).shape() == Shape{2, 4});
    }
    SECTION("the new head takes the old one's dtype") {
        auto model = nn::models::small_cnn({.gen = &gen});
        model->to(DType::Float64);
        transfer::replace_head(*model, 2, &gen);
        CHECK(model->at<nn::Linear>(-1)->weight.dtype() == DType::Float64);
    }
}

TEST_CASE("head_info and attach_head: an MLP head under fc", "[surgery]") {
    Generator gen(13);
    auto model = nn::models::resnet18({.num_classes = 10, .gen = &gen});
    const transfer::HeadInfo info = transfer::head_info(*model);
    CHECK(info.path == "fc");
    CHECK(info.stage == "fc");
    CHECK(info.linear == "fc");
    CHECK(info.in_features == 512);

    model->eval();
    auto head = nn::sequential({std::make_shared<nn::Linear>(info.in_features, 32), std::make_shared<nn::ReLU>(),
                                std::make_shared<nn::Linear>(32, 6)});
    transfer::attach_head(*model, info.path, head);
    CHECK(model->fc == nullptr);  // the typed handle cannot hold a Sequential
    CHECK(model->submodule("fc") == head);
    CHECK_FALSE(head->is_training());  // takes the parent's mode
    const auto names = keys(*model);
    CHECK(names.back() == "fc.2.bias");
    CHECK(std::find(names.begin(), names.end(), "fc.0.weight") != names.end());
    NoGradGuard no_grad;
    CHECK((*model)(randn({2, 3, 32, 32})).shape() == Shape{2, 6});
    // The stages follow too.
    CHECK(transfer::head_info(*model).linear == "fc.2");
    CHECK(transfer::head_info(*model).in_features == 512);
}

TEST_CASE("attach_head inside a container and its errors", "[surgery]") {
    Generator gen(14);
    auto model = nn::models::resnet18({.num_classes = 10, .gen = &gen});
    // layer4 is a Sequential: its blocks run by name, so a block can be swapped.
    transfer::attach_head(*model, "layer4.1", std::make_shared<nn::Identity>());
    model->eval();
    {
        NoGradGuard no_grad;
        CHECK((*model)(randn({1, 3, 32, 32})).shape() == Shape{1, 10});
    }
    CHECK_THROWS_WITH(transfer::attach_head(*model, "layer1.0.conv1", std::make_shared<nn::Identity>()),
                      Contains("BasicBlock") && Contains("layer1.0"));
    CHECK_THROWS_WITH(transfer::attach_head(*model, "head", std::make_shared<nn::Identity>()), Contains("head"));
    CHECK_THROWS_WITH(transfer::attach_head(*model, "fc", nullptr), Contains("null"));
    CHECK_THROWS_WITH(transfer::replace_head(*model, 0), Contains("num_classes"));
    auto mlp = nn::sequential({std::make_shared<nn::Linear>(4, 2)});
    CHECK_THROWS_WITH(transfer::replace_head(*mlp, 3), Contains("Sequential") && Contains("not a staged model"));
    CHECK_THROWS_WITH(transfer::cut_at(*model, "layer5"), Contains("layer5") && Contains("stem, layer1"));
}

TEST_CASE("cut_at: the trunk equals a Taps capture, trunk then top equals forward", "[surgery]") {
    Generator gen(15);
    auto model = nn::models::resnet18({.num_classes = 4, .gen = &gen});
    model->eval();
    Tensor x = randn({2, 3, 32, 32}, DType::Float32, &gen);
    const transfer::Cut cut = transfer::cut_at(*model, "layer3");
    CHECK(cut.split == 4);  // stem, layer1, layer2, layer3
    CHECK(cut.trunk_modules == std::vector<std::string>{"conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"});
    CHECK(cut.top_modules == std::vector<std::string>{"layer4", "avgpool", "fc"});
    {
        NoGradGuard no_grad;
        nn::Taps taps(*model, {"layer3"});
        Tensor logits = (*model)(x);
        Tensor features = cut.trunk(x);
        CHECK(features.to_vector<float>() == taps["layer3"].to_vector<float>());
        CHECK(cut.top(features).to_vector<float>() == logits.to_vector<float>());
    }
    // The cut shares the model's parameters: gradients through it land on them.
    cut.top(cut.trunk(x)).sum().backward();
    CHECK(model->conv1->weight.grad().defined());
    CHECK(model->fc->weight.grad().defined());
}

TEST_CASE("cut_at keeps a shared model alive", "[surgery]") {
    transfer::Cut cut;
    Tensor want;
    Tensor x = randn({1, 1, 28, 28});
    {
        Generator gen(16);
        auto model = nn::models::small_cnn({.dropout = 0, .gen = &gen});
        model->eval();
        cut = transfer::cut_at(*model, "conv2");
        NoGradGuard no_grad;
        want = (*model)(x);
    }
    NoGradGuard no_grad;
    CHECK(cut.top(cut.trunk(x)).to_vector<float>() == want.to_vector<float>());
}
