// MobileNetV2: torchvision's names, shapes, counts and init (parity with torch's
// logits is in tests/transfer/test_zoo_parity.cpp).
#include <catch2/catch.hpp>

#include "graft.h"
#include "nn/models/mobilenet_v2.h"

using namespace graft;

TEST_CASE("mobilenet_v2: torchvision's state_dict layout", "[mobilenet]") {
    auto model = nn::models::mobilenet_v2();
    const NamedTensors sd = model->state_dict();
    CHECK(sd.size() == 314);
    CHECK(model->num_parameters() == 3504872);
    CHECK(sd.at("features.0.0.weight").shape() == Shape{32, 3, 3, 3});
    CHECK(sd.at("features.1.conv.0.0.weight").shape() == Shape{32, 1, 3, 3});
    CHECK(sd.at("features.1.conv.1.weight").shape() == Shape{16, 32, 1, 1});
    CHECK(sd.contains("features.1.conv.2.running_var"));
    CHECK(sd.at("features.2.conv.0.0.weight").shape() == Shape{96, 16, 1, 1});
    CHECK(sd.at("features.2.conv.1.0.weight").shape() == Shape{96, 1, 3, 3});
    CHECK(sd.at("features.2.conv.2.weight").shape() == Shape{24, 96, 1, 1});
    CHECK(sd.at("features.17.conv.2.weight").shape() == Shape{320, 960, 1, 1});
    CHECK(sd.at("features.18.0.weight").shape() == Shape{1280, 320, 1, 1});
    CHECK(sd.at("classifier.1.weight").shape() == Shape{1000, 1280});
    CHECK(sd.names().front() == "features.0.0.weight");
    CHECK(sd.names().back() == "classifier.1.bias");
}

TEST_CASE("mobilenet_v2: strides, residuals, head and init", "[mobilenet]") {
    Generator gen(7);
    auto model = nn::models::mobilenet_v2({.num_classes = 5, .gen = &gen});
    auto block = [&](int i) { return model->features->at<nn::models::InvertedResidual>(i); };
    CHECK(block(2)->stride == 2);
    CHECK(block(4)->stride == 2);
    CHECK(block(7)->stride == 2);
    CHECK(block(14)->stride == 2);
    CHECK(block(11)->stride == 1);
    CHECK_FALSE(block(1)->use_res_connect);
    CHECK(block(3)->use_res_connect);
    CHECK_FALSE(block(11)->use_res_connect);  // 64 -> 96
    CHECK(block(12)->use_res_connect);
    // Linear N(0, 0.01), bias 0; BatchNorm 1 / 0.
    const Tensor w = model->state_dict().at("classifier.1.weight");
    CHECK(w.shape() == Shape{5, 1280});
    CHECK(w.abs().max().item<float>() < 0.07f);
    CHECK(model->state_dict().at("classifier.1.bias").abs().max().item<float>() == 0.0f);
    CHECK(model->state_dict().at("features.3.conv.3.weight").min().item<float>() == 1.0f);

    model->eval();
    NoGradGuard no_grad;
    const Tensor y = (*model)(randn({2, 3, 32, 32}, DType::Float32, &gen));
    CHECK(y.shape() == Shape{2, 5});
    CHECK(model->features_pooled(randn({1, 3, 32, 32}, DType::Float32, &gen)).shape() == Shape{1, 1280});
    CHECK_THROWS_WITH((*model)(randn({2, 1, 32, 32})), Catch::Contains("MobileNetV2") && Catch::Contains("[2, 1, 32, 32]"));
    CHECK_THROWS_WITH(nn::models::mobilenet_v2({.num_classes = 0}), Catch::Contains("num_classes"));
}

TEST_CASE("mobilenet_v2: width_mult rounds channels as torchvision", "[mobilenet]") {
    auto half = nn::models::mobilenet_v2({.width_mult = 0.5});
    const NamedTensors sd = half->state_dict();
    CHECK(sd.at("features.0.0.weight").shape() == Shape{16, 3, 3, 3});
    CHECK(sd.at("features.1.conv.1.weight").shape() == Shape{8, 16, 1, 1});
    CHECK(sd.at("features.18.0.weight").shape() == Shape{1280, 160, 1, 1});  // last channel never shrinks
    CHECK(half->preprocessing().crop == 224);
}

TEST_CASE("mobilenet_v2: a training step runs backward through the in-place residual adds", "[mobilenet]") {
    Generator gen(11);
    auto model = nn::models::mobilenet_v2({.num_classes = 3, .width_mult = 0.35, .gen = &gen});
    model->train();
    const Tensor y = (*model)(randn({2, 3, 32, 32}, DType::Float32, &gen));
    y.sum().backward();
    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        REQUIRE(p.grad().defined());
    }
    // BatchNorm in training updated its running statistics.
    CHECK(model->state_dict().at("features.0.1.num_batches_tracked").item<int64_t>() == 1);
}
