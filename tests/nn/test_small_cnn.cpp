// nn::models::small_cnn: the Sequential's names and shapes (as the
// torch.nn.Sequential in benchmarks/train/torch_train.py names them), forward
// shapes, options, and that a few Adam steps fit a tiny batch.
#include <catch2/catch.hpp>

#include "core/autograd/grad_mode.h"
#include "nn/models/small_cnn.h"
#include "nn/optim/adam.h"
#include "graft.h"

using namespace graft;

TEST_CASE("small_cnn has torch.nn.Sequential's names and shapes", "[nn][small_cnn]") {
    auto net = nn::models::small_cnn();
    const auto params = net->named_parameters();
    const std::vector<std::pair<std::string, Shape>> want = {
        {"0.weight", {32, 1, 3, 3}}, {"1.weight", {32}},     {"1.bias", {32}},          {"4.weight", {64, 32, 3, 3}},
        {"5.weight", {64}},          {"5.bias", {64}},       {"9.weight", {128, 3136}}, {"9.bias", {128}},
        {"12.weight", {10, 128}},    {"12.bias", {10}}};
    REQUIRE(params.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        CHECK(params[i].first == want[i].first);
        CHECK(params[i].second.shape() == want[i].second);
    }
    CHECK(net->num_parameters() == 421738);
    CHECK(net->state_dict().size() == 16);  // + running_mean, running_var, num_batches_tracked for 2 BNs

    auto plain = nn::models::small_cnn({.batch_norm = false, .dropout = 0});
    CHECK(plain->size() == 10);
    CHECK(plain->named_parameters()[0].first == "0.weight");
    CHECK(plain->named_parameters()[1].first == "0.bias");
    CHECK(plain->named_parameters()[2].first == "3.weight");
}

TEST_CASE("small_cnn forward shapes and argument errors", "[nn][small_cnn]") {
    NoGradGuard no_grad;
    Generator gen(1);
    auto net = nn::models::small_cnn({.in_channels = 3, .num_classes = 5, .image_size = 32, .gen = &gen});
    net->eval();
    CHECK((*net)(randn({2, 3, 32, 32}, DType::Float32, &gen)).shape() == Shape{2, 5});
    CHECK_THROWS_AS(nn::models::small_cnn({.image_size = 30}), Error);
    CHECK_THROWS_AS(nn::models::small_cnn({.dropout = 1.0}), Error);
    CHECK_THROWS_AS(nn::models::small_cnn({.num_classes = 0}), Error);
}

TEST_CASE("small_cnn fits a tiny batch with Adam", "[nn][small_cnn]") {
    Generator gen(7);
    auto net = nn::models::small_cnn({.dropout = 0, .gen = &gen});
    const Tensor x = randn({16, 1, 28, 28}, DType::Float32, &gen);
    std::vector<int64_t> labels(16);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int64_t(i % 10);
    const Tensor y = from_vector(labels);
    optim::Adam adam(net->parameters(), {.lr = 1e-3});
    double first = 0, last = 0;
    for (int step = 0; step < 15; ++step) {
        const Tensor loss = cross_entropy((*net)(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
        (step == 0 ? first : last) = loss.item<double>();
    }
    CHECK(last < 0.5 * first);
}
