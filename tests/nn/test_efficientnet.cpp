// EfficientNet-Lite0: the port's names, shapes, counts and static SAME padding
// (parity with torch's logits is in tests/transfer/test_zoo_parity.cpp).
#include <catch2/catch.hpp>

#include "graft.h"
#include "nn/models/efficientnet_lite.h"

using namespace graft;
using nn::models::tf_same_padding;

TEST_CASE("efficientnet_lite0: the port's state_dict layout", "[efficientnet]") {
    auto model = nn::models::efficientnet_lite0();
    const NamedTensors sd = model->state_dict();
    CHECK(sd.size() == 296);
    int64_t floats = 0;
    for (const auto& [name, t] : sd)
        if (t.dtype() == DType::Float32) floats += t.numel();
    CHECK(floats == 4694024);
    CHECK(sd.at("_conv_stem.weight").shape() == Shape{32, 3, 3, 3});
    CHECK_FALSE(sd.contains("_blocks.0._expand_conv.weight"));
    CHECK(sd.at("_blocks.0._depthwise_conv.weight").shape() == Shape{32, 1, 3, 3});
    CHECK(sd.at("_blocks.0._project_conv.weight").shape() == Shape{16, 32, 1, 1});
    CHECK(sd.at("_blocks.1._expand_conv.weight").shape() == Shape{96, 16, 1, 1});
    CHECK(sd.at("_blocks.3._depthwise_conv.weight").shape() == Shape{144, 1, 5, 5});
    CHECK(sd.at("_blocks.15._project_conv.weight").shape() == Shape{320, 1152, 1, 1});
    CHECK(sd.at("_conv_head.weight").shape() == Shape{1280, 320, 1, 1});
    CHECK(sd.at("_fc.weight").shape() == Shape{1000, 1280});
    CHECK(sd.names().back() == "_fc.bias");
    auto bn = std::dynamic_pointer_cast<nn::BatchNorm2d>(model->submodule("_blocks.4._bn1"));
    REQUIRE(bn);
    CHECK(bn->eps == Approx(1e-3));
}

TEST_CASE("efficientnet_lite0: static TF SAME padding as the port computes it", "[efficientnet]") {
    // pad = max((ceil(i/s) - 1) * s + k - i, 0); top/left get the smaller half.
    auto p = tf_same_padding(224, 3, 2);
    CHECK((p.top == 0 && p.bottom == 1 && p.left == 0 && p.right == 1));
    p = tf_same_padding(112, 3, 1);
    CHECK((p.top == 1 && p.bottom == 1));
    p = tf_same_padding(56, 5, 2);
    CHECK((p.top == 1 && p.bottom == 2));
    p = tf_same_padding(14, 5, 1);
    CHECK((p.top == 2 && p.bottom == 2));
    p = tf_same_padding(7, 1, 1);
    CHECK(p.zero());

    auto model = nn::models::efficientnet_lite0();
    CHECK(model->_conv_stem->options.padding.bottom == 1);
    CHECK(model->_conv_stem->options.padding.top == 0);
    auto block = [&](int i) { return model->_blocks->at<nn::models::MBConvBlock>(i); };
    // blocks 3 (k5, s2 at 56) and 5 (k3, s2 at 28)
    CHECK((block(3)->_depthwise_conv->options.padding.top == 1 && block(3)->_depthwise_conv->options.padding.bottom == 2));
    CHECK((block(5)->_depthwise_conv->options.padding.top == 0 && block(5)->_depthwise_conv->options.padding.bottom == 1));
    CHECK(block(2)->has_skip);
    CHECK_FALSE(block(3)->has_skip);
    CHECK(block(0)->drop_connect_rate == 0.0);
    CHECK(block(15)->drop_connect_rate == Approx(0.2 * 15 / 16));
}

TEST_CASE("efficientnet_lite0: forward shapes, training drop connect, errors", "[efficientnet]") {
    Generator gen(3);
    auto model = nn::models::efficientnet_lite0({.num_classes = 7, .gen = &gen});
    const Tensor x = randn({2, 3, 64, 64}, DType::Float32, &gen);
    model->eval();
    {
        NoGradGuard no_grad;
        CHECK((*model)(x).shape() == Shape{2, 7});
        CHECK(model->extract_features(x).shape() == Shape{2, 1280, 2, 2});
    }
    model->train();
    const Tensor y = (*model)(x);  // drop connect and dropout active; backward runs
    y.sum().backward();
    CHECK(model->_conv_stem->weight.grad().defined());
    CHECK_THROWS_WITH((*model)(randn({3, 64, 64})), Catch::Contains("EfficientNetLite"));
    const auto pre = nn::models::efficientnet_lite_preprocessing();
    CHECK(pre.mean[0] == Approx(127.0 / 255));
    CHECK(pre.std[2] == Approx(128.0 / 255));
}
