// transfer::layer_groups, lr_range, layer_decay, param_groups, freeze_to and
// GradualUnfreezing: fastai's grouping of ResNet, the numbers, frozen params
// kept out of optimizer groups, the unfreezing sequence growing the
// optimizer, and one AdamW step with discriminative groups checked by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "nn/layers/linear.h"
#include "nn/models/efficientnet_lite.h"
#include "nn/models/resnet.h"
#include "nn/models/small_cnn.h"
#include "nn/optim/adamw.h"
#include "nn/optim/sgd.h"
#include "transfer/layer_groups.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> group_names(const std::vector<transfer::LayerGroup>& groups) {
    std::vector<std::string> out;
    for (const auto& g : groups) out.push_back(g.name);
    return out;
}

std::vector<std::string> param_names(const std::vector<transfer::LayerGroup>& groups) {
    std::vector<std::string> out;
    for (const auto& g : groups)
        for (const auto& [name, t] : g.params) out.push_back(name);
    return out;
}

std::vector<std::string> model_names(const nn::Module& m) {
    std::vector<std::string> out;
    for (const auto& [name, t] : m.named_parameters()) out.push_back(name);
    return out;
}

nn::models::ResNet& shared_resnet18() {
    static auto model = [] {
        Generator gen(21);
        return nn::models::resnet18({.num_classes = 10, .gen = &gen});
    }();
    return *model;
}

}  // namespace

TEST_CASE("layer_groups: fastai's ResNet split, one group per stage, everything", "[layer_groups]") {
    nn::models::ResNet& model = shared_resnet18();
    const auto three = transfer::layer_groups(model, 3);
    CHECK(group_names(three) == std::vector<std::string>{"stem..layer2", "layer3..pool", "fc"});
    CHECK(param_names(three) == model_names(model));  // every parameter once, in order
    CHECK(three[2].params.size() == 2);
    CHECK(three[0].params.front().first == "conv1.weight");
    CHECK(three[1].params.front().first == "layer3.0.conv1.weight");

    const auto each = transfer::layer_groups(model);
    CHECK(group_names(each) == std::vector<std::string>{"stem", "layer1", "layer2", "layer3", "layer4", "fc"});
    CHECK(param_names(each) == model_names(model));

    const auto one = transfer::layer_groups(model, 1);
    CHECK(group_names(one) == std::vector<std::string>{"stem..fc"});
    CHECK(one[0].params.size() == model.named_parameters().size());

    CHECK(group_names(transfer::layer_groups(model, 2)) == std::vector<std::string>{"stem..pool", "fc"});
    // Six groups: the same runs as one per stage, the body's runs taking the stages without parameters.
    CHECK(group_names(transfer::layer_groups(model, 6)) ==
          std::vector<std::string>{"stem", "layer1", "layer2", "layer3", "layer4..pool", "fc"});
    CHECK_THROWS_WITH(transfer::layer_groups(model, 7), Contains("7 groups") && Contains("only 6"));
}

TEST_CASE("layer_groups of EfficientNet-Lite0 and small_cnn", "[layer_groups]") {
    Generator gen(22);
    auto lite = nn::models::efficientnet_lite0({.image_size = 32, .gen = &gen});
    const auto each = transfer::layer_groups(*lite);
    REQUIRE(each.size() == 19);  // stem, 16 blocks, head, _fc (_dropout has no parameters)
    CHECK(each.front().name == "stem");
    CHECK(each[17].name == "head");
    CHECK(each.back().name == "_fc");
    // 18 body units in 2 runs of 9; _dropout goes with the run before the head.
    CHECK(group_names(transfer::layer_groups(*lite, 3)) ==
          std::vector<std::string>{"stem.._blocks.7", "_blocks.8.._dropout", "_fc"});
    CHECK(param_names(transfer::layer_groups(*lite, 3)) == model_names(*lite));

    auto cnn = nn::models::small_cnn({.gen = &gen});
    CHECK(group_names(transfer::layer_groups(*cnn)) == std::vector<std::string>{"conv1", "conv2", "fc1", "fc2"});
    CHECK(group_names(transfer::layer_groups(*cnn, 3)) == std::vector<std::string>{"conv1..conv2", "fc1", "fc2"});
}

TEST_CASE("lr_range and layer_decay numbers", "[layer_groups]") {
    const auto r = transfer::lr_range(3, 1e-5, 1e-3);
    REQUIRE(r.size() == 3);
    CHECK(r[0] == 1e-5);
    CHECK(r[1] == Approx(1e-4).epsilon(1e-12));
    CHECK(r[2] == 1e-3);
    const auto r5 = transfer::lr_range(5, 1e-4, 1e-2);
    for (size_t i = 0; i < 5; ++i) CHECK(r5[i] == Approx(1e-4 * std::pow(10.0, 0.5 * double(i))).epsilon(1e-12));
    CHECK(transfer::lr_range(1, 1e-5, 1e-3) == std::vector<double>{1e-3});

    const auto d = transfer::layer_decay(4, 1e-3, 0.5);
    REQUIRE(d.size() == 4);
    CHECK(d[0] == Approx(1.25e-4).epsilon(1e-12));
    CHECK(d[1] == Approx(2.5e-4).epsilon(1e-12));
    CHECK(d[2] == Approx(5e-4).epsilon(1e-12));
    CHECK(d[3] == 1e-3);
    CHECK(transfer::layer_decay(3, 0.1, 1.0) == std::vector<double>{0.1, 0.1, 0.1});

    CHECK_THROWS_WITH(transfer::lr_range(0, 1e-5, 1e-3), Contains("lr_range"));
    CHECK_THROWS_WITH(transfer::lr_range(3, 0, 1e-3), Contains("positive"));
    CHECK_THROWS_WITH(transfer::layer_decay(3, 1e-3, 1.5), Contains("decay"));
}

TEST_CASE("freeze_to and param_groups: frozen parameters are in no group", "[layer_groups]") {
    Generator gen(23);
    auto model = nn::models::small_cnn({.gen = &gen});
    const auto groups = transfer::layer_groups(*model);  // conv1, conv2, fc1, fc2
    const auto lrs = transfer::lr_range(groups.size(), 1e-4, 1e-2);

    transfer::freeze_to(*model, groups, -1);
    for (size_t g = 0; g < groups.size(); ++g)
        for (const auto& [name, t] : groups[g].params) CHECK(t.requires_grad() == (g == 3));
    // Frozen through transfer::freeze: the frozen BatchNorm stays in eval in model.train().
    model->train();
    CHECK_FALSE(model->at<nn::Module>(1)->is_training());  // conv1's BatchNorm
    CHECK(model->at<nn::Module>(12)->is_training());
    auto pg = transfer::param_groups(groups, lrs);
    REQUIRE(pg.size() == 1);
    CHECK(pg[0].name == "fc2");
    CHECK(pg[0].params.size() == 2);
    CHECK(*pg[0].options.lr == 1e-2);

    transfer::freeze_to(*model, groups, -3);
    pg = transfer::param_groups(groups, lrs);
    REQUIRE(pg.size() == 3);
    CHECK(pg[0].name == "conv2");
    CHECK(*pg[0].options.lr == Approx(lrs[1]));
    CHECK(pg[0].params.size() == 3);  // conv weight, bn weight, bn bias

    // One frozen tensor inside a trainable group is left out too.
    groups[3].params[1].second.requires_grad_(false);
    pg = transfer::param_groups(groups, lrs);
    CHECK(pg.back().params.size() == 1);

    transfer::freeze_to(*model, groups, 4);  // all trainable (n or -n)
    CHECK(transfer::param_groups(groups, lrs).size() == 4);
    CHECK(model->at<nn::Module>(1)->is_training());  // unpinned again

    CHECK_THROWS_WITH(transfer::freeze_to(*model, groups, 0), Contains("freeze_to"));
    CHECK_THROWS_WITH(transfer::freeze_to(*model, groups, -5), Contains("-5"));
    CHECK_THROWS_WITH(transfer::param_groups(groups, {1e-3}), Contains("4 layer groups but 1"));
    auto other = nn::models::small_cnn({.gen = &gen});
    CHECK_THROWS_WITH(transfer::freeze_to(*other, groups, -1), Contains("not a parameter of this"));
}

TEST_CASE("GradualUnfreezing: one more group per epoch after the warm-up, the optimizer grows", "[layer_groups]") {
    Generator gen(24);
    auto model = nn::models::small_cnn({.gen = &gen});
    const auto groups = transfer::layer_groups(*model);  // conv1, conv2, fc1, fc2
    const std::vector<double> lrs = {1e-4, 1e-3, 1e-2, 1e-1};
    transfer::GradualUnfreezing unfreezing(*model, groups, lrs, /*warm_epochs=*/1, /*every=*/1);
    CHECK(unfreezing.unfrozen_groups() == 1);
    optim::AdamW adamw(transfer::param_groups(groups, lrs), {.lr = 1e-3});
    REQUIRE(adamw.num_groups() == 1);

    CHECK(unfreezing.on_epoch_begin(1, adamw).empty());
    CHECK(adamw.num_groups() == 1);

    auto lines = unfreezing.on_epoch_begin(2, adamw);
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Contains("epoch 2: unfroze 'fc1'") && Contains("2 tensors, 401,536 parameters") &&
                             Contains("lr 0.01") && Contains("optimizer group 1"));
    CHECK(unfreezing.unfrozen_groups() == 2);
    REQUIRE(adamw.num_groups() == 2);
    CHECK(adamw.param_groups()[1].name == "fc1");
    CHECK(adamw.lr(1) == 1e-2);
    for (const auto& [name, t] : groups[2].params) CHECK(t.requires_grad());
    for (const auto& [name, t] : groups[1].params) CHECK_FALSE(t.requires_grad());
    // Backward reaches the unfrozen groups only.
    (*model)(randn({2, 1, 28, 28}, DType::Float32, &gen)).sum().backward();
    for (size_t g = 0; g < groups.size(); ++g)
        for (const auto& [name, t] : groups[g].params) CHECK(t.grad().defined() == (g >= 2));
    adamw.zero_grad();

    CHECK(unfreezing.on_epoch_begin(3, adamw).size() == 1);
    CHECK(adamw.param_groups()[2].name == "conv2");
    CHECK(unfreezing.on_epoch_begin(4, adamw).size() == 1);
    CHECK(adamw.param_groups()[3].name == "conv1");
    CHECK(adamw.lr(3) == 1e-4);
    CHECK(unfreezing.unfrozen_groups() == 4);
    CHECK(unfreezing.on_epoch_begin(5, adamw).empty());  // all unfrozen
    CHECK(adamw.num_groups() == 4);
    // Every trainable parameter is in the optimizer exactly once.
    size_t in_optimizer = 0;
    for (const auto& g : adamw.param_groups()) in_optimizer += g.params.size();
    CHECK(in_optimizer == model->named_parameters().size());
}

TEST_CASE("GradualUnfreezing: a resumed run rebuilds the optimizer's groups so its state loads", "[layer_groups]") {
    Generator gen(27);
    auto model = nn::models::small_cnn({.dropout = 0, .gen = &gen});
    const auto groups = transfer::layer_groups(*model);
    const auto lrs = transfer::layer_decay(groups.size(), 1e-2, 0.5);
    Tensor x = randn({2, 1, 28, 28}, DType::Float32, &gen);
    NamedTensors saved;
    {
        transfer::GradualUnfreezing u(*model, groups, lrs);
        optim::AdamW adamw(transfer::param_groups(groups, lrs), {.lr = 1e-3});
        for (int64_t epoch = 1; epoch <= 3; ++epoch) {
            u.on_epoch_begin(epoch, adamw);
            (*model)(x).sum().backward();
            adamw.step();
            adamw.zero_grad();
        }
        saved = adamw.state_dict();
    }
    transfer::GradualUnfreezing u(*model, groups, lrs);
    optim::AdamW adamw(transfer::param_groups(groups, lrs), {.lr = 1e-3});
    CHECK(u.on_epoch_begin(3, adamw).size() == 2);
    REQUIRE_NOTHROW(adamw.load_state_dict(saved));
    CHECK(adamw.state_dict().size() == saved.size());
}

TEST_CASE("GradualUnfreezing on ResNet-18: the header's example line", "[layer_groups]") {
    nn::models::ResNet& model = shared_resnet18();  // the other users only read names
    const auto groups = transfer::layer_groups(model, 3);
    transfer::GradualUnfreezing u(model, groups, transfer::lr_range(3, 1e-5, 1e-3));
    optim::AdamW adamw(transfer::param_groups(groups, transfer::lr_range(3, 1e-5, 1e-3)), {.lr = 1e-3});
    const auto lines = u.on_epoch_begin(2, adamw);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] ==
          "epoch 2: unfroze 'layer3..pool' (30 tensors, 10,493,440 parameters) at lr 0.0001 as optimizer group 1");
    transfer::freeze_to(model, groups, -3);
}

TEST_CASE("GradualUnfreezing: every, no warm-up, catching up after a jump, errors", "[layer_groups]") {
    Generator gen(25);
    auto model = nn::models::small_cnn({.gen = &gen});
    const auto groups = transfer::layer_groups(*model);
    const std::vector<double> lrs(4, 1e-3);
    {
        transfer::GradualUnfreezing u(*model, groups, lrs, /*warm_epochs=*/0, /*every=*/2);
        optim::SGD sgd(transfer::param_groups(groups, lrs), {.lr = 1e-3});
        std::vector<int> seen;
        for (int64_t epoch = 1; epoch <= 7; ++epoch) {
            u.on_epoch_begin(epoch, sgd);
            seen.push_back(u.unfrozen_groups());
        }
        CHECK(seen == std::vector<int>{2, 2, 3, 3, 4, 4, 4});
        CHECK(sgd.num_groups() == 4);
    }
    {
        transfer::GradualUnfreezing u(*model, groups, lrs, 2, 1);  // refreezes all but the head
        optim::SGD sgd(transfer::param_groups(groups, lrs), {.lr = 1e-3});
        CHECK(sgd.num_groups() == 1);
        const auto lines = u.on_epoch_begin(4, sgd);  // a resumed run: epochs 3 and 4 at once
        CHECK(lines.size() == 2);
        CHECK(u.unfrozen_groups() == 3);
        CHECK(u.on_epoch_begin(2, sgd).empty());  // going back changes nothing
        CHECK(u.unfrozen_groups() == 3);
        CHECK(sgd.num_groups() == 3);
    }
    {
        // Parameters already in the optimizer are not added twice.
        transfer::GradualUnfreezing u(*model, groups, lrs, 1, 1);
        optim::SGD sgd(model->parameters(), {.lr = 1e-3});
        const auto lines = u.on_epoch_begin(2, sgd);
        REQUIRE(lines.size() == 1);
        CHECK_THAT(lines[0], Contains("already all in the optimizer"));
        CHECK(sgd.num_groups() == 1);
    }
    CHECK_THROWS_WITH(transfer::GradualUnfreezing(*model, groups, {1e-3}), Contains("4 layer groups but 1"));
    CHECK_THROWS_WITH(transfer::GradualUnfreezing(*model, groups, lrs, 1, 0), Contains("every"));
    transfer::GradualUnfreezing u(*model, groups, lrs);
    optim::SGD sgd(transfer::param_groups(groups, lrs), {.lr = 1e-3});
    CHECK_THROWS_WITH(u.on_epoch_begin(0, sgd), Contains("from 1"));
}

TEST_CASE("an AdamW step with discriminative groups moves each group by its own lr", "[layer_groups]") {
    Generator gen(26);
    auto model = nn::models::small_cnn({.dropout = 0, .gen = &gen});
    model->eval();  // BatchNorm with running statistics: the loss is a plain function of the weights
    const auto groups = transfer::layer_groups(*model);
    const std::vector<double> lrs = transfer::lr_range(groups.size(), 1e-4, 1e-1);
    const double wd = 0.05, eps = 1e-8;
    optim::AdamW adamw(transfer::param_groups(groups, lrs), {.lr = 1.0, .eps = eps, .weight_decay = wd});
    REQUIRE(adamw.num_groups() == 4);

    std::vector<std::vector<std::vector<double>>> before(groups.size());
    for (size_t g = 0; g < groups.size(); ++g)
        for (const auto& [name, t] : groups[g].params) before[g].push_back(t.to_vector<double>());
    Tensor x = randn({4, 1, 28, 28}, DType::Float32, &gen);
    Tensor out = (*model)(x);
    (out * out).mean().backward();
    adamw.step();

    // First AdamW step (torch 1.13): p *= 1 - lr * wd; m = (1 - b1) g, v = (1 - b2) g^2;
    // p -= lr / (1 - b1) * m / (sqrt(v) / sqrt(1 - b2) + eps), i.e. lr * g / (|g| + eps).
    for (size_t g = 0; g < groups.size(); ++g) {
        const double lr = lrs[g];
        double largest_step = 0, worst = 0;
        for (size_t p = 0; p < groups[g].params.size(); ++p) {
            const Tensor& param = groups[g].params[p].second;
            const std::vector<double> now = param.to_vector<double>();
            const std::vector<double> grad = param.grad().to_vector<double>();
            for (size_t i = 0; i < now.size(); ++i) {
                const double b1 = 0.9, b2 = 0.999;
                const double m = (1 - b1) * grad[i], v = (1 - b2) * grad[i] * grad[i];
                const double decayed = before[g][p][i] * (1 - lr * wd);
                const double want = decayed - lr / (1 - b1) * m / (std::sqrt(v) / std::sqrt(1 - b2) + eps);
                worst = std::max(worst, std::fabs(now[i] - want));
                largest_step = std::max(largest_step, std::fabs(now[i] - before[g][p][i]));
            }
        }
        CHECK(worst < 1e-6 + 1e-5 * lr);  // float32 parameters
        // Adam's first step moves every weight with a real gradient by about lr.
        CHECK(largest_step == Approx(lr).epsilon(0.2));
    }
}
