// The normalisation, dropout, embedding and loss modules: PyTorch's parameter
// and buffer names, state_dict order and printing; BatchNorm's modes
// (training, eval, cumulative momentum, no running statistics) and the frozen
// mode use_running_stats_in_train; Dropout in eval; Embedding's init and
// padding row. Numerical parity with torch is in test_norm_loss_parity.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "graft.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/loss.h"
#include "nn/layers/norm.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> names(const std::vector<std::pair<std::string, Tensor>>& items) {
    std::vector<std::string> out;
    for (const auto& [name, t] : items) out.push_back(name);
    return out;
}

Tensor batch(uint64_t seed, const Shape& shape = {4, 3, 2, 2}) {
    Generator gen(seed);
    return add(mul(randn(shape, DType::Float32, &gen), 2.0), 1.0);
}

}  // namespace

TEST_CASE("BatchNorm2d names its state as torch and prints as torch", "[nn][norm]") {
    nn::BatchNorm2d bn(3);
    CHECK(names(bn.named_parameters()) == std::vector<std::string>{"weight", "bias"});
    CHECK(names(bn.named_buffers()) ==
          std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
    CHECK(bn.state_dict().names() ==
          std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
    CHECK(bn.num_batches_tracked.dtype() == DType::Int64);
    CHECK(bn.num_batches_tracked.dim() == 0);
    CHECK(bn.extra_repr() == "3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True");
    nn::BatchNorm1d plain(4, {.eps = 1e-3, .momentum = std::nullopt, .affine = false, .track_running_stats = false});
    CHECK(plain.named_parameters().empty());
    CHECK(plain.named_buffers().empty());
    CHECK(plain.extra_repr() == "4, eps=0.001, momentum=None, affine=False, track_running_stats=False");
}

TEST_CASE("BatchNorm2d updates running statistics in training only", "[nn][norm]") {
    nn::BatchNorm2d bn(3);
    const Tensor x = batch(1);
    bn(x);
    CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
    const auto rm = bn.running_mean.to_vector<float>();
    const auto want = mul(mean(x, {0, 2, 3}), 0.1).to_vector<float>();
    for (size_t c = 0; c < 3; ++c) CHECK(rm[c] == Approx(want[c]).epsilon(1e-5));
    bn.eval();
    const Tensor y = bn(batch(2));
    CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
    CHECK(bn.running_mean.to_vector<float>() == rm);
    const Tensor manual = batch_norm(batch(2), bn.weight, bn.bias, bn.running_mean, bn.running_var, false);
    CHECK(y.to_vector<float>() == manual.to_vector<float>());
}

TEST_CASE("BatchNorm with momentum None keeps the cumulative average", "[nn][norm]") {
    nn::BatchNorm1d bn(2, {.momentum = std::nullopt});
    std::vector<Tensor> means;
    for (uint64_t s = 0; s < 3; ++s) {
        const Tensor x = batch(10 + s, {5, 2});
        bn(x);
        means.push_back(mean(x, {0}));
    }
    const auto want = div(add(add(means[0], means[1]), means[2]), 3.0).to_vector<float>();
    const auto got = bn.running_mean.to_vector<float>();
    for (size_t c = 0; c < 2; ++c) CHECK(got[c] == Approx(want[c]).epsilon(1e-5));
}

TEST_CASE("frozen BatchNorm uses running statistics in train mode and still trains weight and bias",
          "[nn][norm][transfer]") {
    nn::BatchNorm2d bn(3);
    bn(batch(3));  // some running statistics to freeze
    bn.use_running_stats_in_train = true;
    bn.train();
    const auto rm = bn.running_mean.to_vector<float>(), rv = bn.running_var.to_vector<float>();
    const uint64_t version = bn.running_mean.version();
    const Tensor x = batch(4);
    x.requires_grad_(true);
    const Tensor y = bn(x);
    sum(mul(y, y)).backward();
    CHECK(bn.running_mean.to_vector<float>() == rm);
    CHECK(bn.running_var.to_vector<float>() == rv);
    CHECK(bn.running_mean.version() == version);
    CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
    CHECK(bn.weight.grad().defined());
    CHECK(bn.bias.grad().defined());
    // Same output as eval mode, and the eval-mode input gradient g w / sqrt(rv + eps).
    bn.eval();
    CHECK(bn(x.detach()).to_vector<float>() == y.to_vector<float>());
    const Tensor scale = div(bn.weight.detach(), sqrt(add(bn.running_var, 1e-5))).reshape({1, 3, 1, 1});
    const auto want = mul(mul(y.detach(), 2.0), scale).to_vector<float>();
    const auto got = x.grad().to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
    nn::BatchNorm2d untracked(3, {.track_running_stats = false});
    untracked.use_running_stats_in_train = true;
    CHECK_THROWS_WITH(untracked(batch(5)), Contains("BatchNorm2d") && Contains("use_running_stats_in_train"));
}

TEST_CASE("BatchNorm without running statistics uses batch statistics in eval too", "[nn][norm]") {
    nn::BatchNorm2d bn(3, {.track_running_stats = false});
    bn.eval();
    const Tensor x = batch(6);
    const Tensor want = batch_norm(x, bn.weight, bn.bias, Tensor(), Tensor(), true);
    CHECK(bn(x).to_vector<float>() == want.to_vector<float>());
    CHECK_THROWS_WITH(bn(zeros({2, 3})), Contains("BatchNorm2d") && Contains("4D"));
}

TEST_CASE("LayerNorm and GroupNorm register torch's parameters", "[nn][norm]") {
    nn::LayerNorm ln({4, 5});
    CHECK(names(ln.named_parameters()) == std::vector<std::string>{"weight", "bias"});
    CHECK(ln.weight.shape() == Shape{4, 5});
    CHECK(ln.extra_repr() == "(4, 5), eps=1e-05, elementwise_affine=True");
    CHECK(nn::LayerNorm({8}, 1e-6, false).extra_repr() == "(8,), eps=1e-06, elementwise_affine=False");
    nn::GroupNorm gn(2, 6);
    CHECK(gn.weight.shape() == Shape{6});
    CHECK(gn.extra_repr() == "2, 6, eps=1e-05, affine=True");
    CHECK(ln(ones({3, 4, 5})).shape() == Shape{3, 4, 5});
    CHECK_THROWS_WITH(nn::GroupNorm(4, 6), Contains("GroupNorm") && Contains("divisible"));
}

TEST_CASE("Dropout is the identity in eval", "[nn][dropout]") {
    nn::Dropout drop(0.5);
    CHECK(drop.extra_repr() == "p=0.5, inplace=False");
    const Tensor x = ones({10, 10});
    Generator gen(1);
    drop.generator = &gen;
    const auto trained = drop(x).to_vector<float>();
    CHECK(std::count(trained.begin(), trained.end(), 0.0f) > 20);
    drop.eval();
    CHECK(drop(x).is_same(x));
    CHECK_THROWS_WITH(nn::Dropout(-0.1), Contains("Dropout"));
}

TEST_CASE("Embedding draws N(0, 1) and zeroes the padding row", "[nn][embedding]") {
    manual_seed(5);
    nn::Embedding emb(200, 50, -1);
    CHECK(emb.padding_idx == 199);
    CHECK(emb.extra_repr() == "200, 50, padding_idx=199");
    const auto w = emb.weight.to_vector<float>();
    double s = 0, s2 = 0;
    for (size_t i = 0; i < 199 * 50; ++i) {
        s += w[i];
        s2 += double(w[i]) * w[i];
    }
    const double n = 199 * 50;
    CHECK(s / n == Approx(0.0).margin(0.05));
    CHECK(s2 / n == Approx(1.0).margin(0.05));
    for (size_t i = 199 * 50; i < w.size(); ++i) CHECK(w[i] == 0.0f);
    const Tensor out = emb(from_vector<int64_t>({199, 3}, {2}));
    CHECK(out.shape() == Shape{2, 50});
    sum(out).backward();
    CHECK(emb.weight.grad().select(0, 199).abs().max().item<float>() == 0.0f);
    CHECK(emb.weight.grad().select(0, 3).min().item<float>() == 1.0f);
}

TEST_CASE("loss modules forward to their ops", "[nn][loss]") {
    const Tensor logits = from_vector<float>({1.0f, 2.0f, 0.5f, -1.0f}, {2, 2});
    const Tensor labels = from_vector<int64_t>({1, 0}, {2});
    CHECK(nn::CrossEntropyLoss()(logits, labels).item<float>() == cross_entropy(logits, labels).item<float>());
    CrossEntropyOptions smoothing;
    smoothing.label_smoothing = 0.1;
    CHECK(nn::CrossEntropyLoss(smoothing)(logits, labels).item<float>() ==
          cross_entropy(logits, labels, smoothing).item<float>());
    CHECK(nn::NLLLoss()(log_softmax(logits, 1), labels).item<float>() ==
          Approx(cross_entropy(logits, labels).item<float>()));
    const Tensor a = from_vector<float>({0.0f, 3.0f}), b = from_vector<float>({1.0f, 1.0f});
    CHECK(nn::MSELoss()(a, b).item<float>() == Approx(2.5));
    CHECK(nn::L1Loss(Reduction::Sum)(a, b).item<float>() == Approx(3.0));
    CHECK(nn::SmoothL1Loss(Reduction::Sum, 1.0)(a, b).item<float>() == Approx(0.5 + 1.5));
    CHECK(nn::BCEWithLogitsLoss()(zeros({3}), ones({3})).item<float>() == Approx(std::log(2.0)));
}
