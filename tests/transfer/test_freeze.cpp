// transfer::freeze on ResNet-18 and a small model with Dropout: requires_grad
// flags and counts, trainable_parameters for the optimizer, frozen BatchNorm
// statistics and Dropout through train()/eval(), unfreezing, BatchNorm
// policies, the no-match error and the trainable summary.
#include <catch2/catch.hpp>

#include <vector>

#include "graft.h"
#include "nn/layers/container.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"
#include "nn/models/resnet.h"
#include "nn/optim/sgd.h"
#include "transfer/freeze.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<nn::models::ResNet> small_resnet18() {
    Generator gen(7);
    return nn::models::resnet18({.num_classes = 10, .cifar_stem = true, .gen = &gen});
}

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
    std::vector<std::string> out;
    for (const auto& [name, t] : named) out.push_back(name);
    return out;
}

bool in_trunk(const std::string& name) {
    return name.rfind("conv1.", 0) == 0 || name.rfind("bn1.", 0) == 0 || name.rfind("layer1.", 0) == 0 ||
           name.rfind("layer2.", 0) == 0 || name.rfind("layer3.", 0) == 0;
}

std::vector<float> values(const Tensor& t) { return t.contiguous().to_vector<float>(); }

}  // namespace

TEST_CASE("freeze by pattern sets requires_grad and returns how many changed", "[freeze]") {
    auto model = small_resnet18();
    REQUIRE(model->named_parameters().size() == 62);
    CHECK(transfer::freeze(*model, "layer[1-3]*") == 42);  // 12 + 15 + 15 tensors
    CHECK(transfer::freeze(*model, "layer[1-3]*") == 0);   // already frozen
    CHECK(transfer::freeze(*model, "conv1") == 1);         // the module name: conv1.weight only
    CHECK(transfer::freeze(*model, "bn1") == 2);           // not layer1.0.bn1.*: names match from the start
    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK(p.requires_grad() == !in_trunk(name));
    }
    const auto trainable = transfer::named_trainable_parameters(*model);
    REQUIRE(trainable.size() == 17);  // layer4 (15) and fc (2)
    CHECK(trainable.front().first == "layer4.0.conv1.weight");
    CHECK(trainable.back().first == "fc.bias");
    CHECK(transfer::trainable_parameters(*model).size() == 17);
    CHECK(model->num_parameters(/*trainable_only=*/true) == 8393728 + 5130);

    // The optimizer gets only what learns: frozen tensors are in no group.
    optim::SGD sgd(transfer::trainable_parameters(*model), {.lr = 0.1});
    CHECK(sgd.param_groups().at(0).params.size() == 17);

    // A regex, and unfreeze by module name.
    CHECK(transfer::unfreeze(*model, "re:layer3\\.1\\..*") == 6);
    CHECK(model->layer3->submodule("1")->named_parameters().at(0).second.requires_grad());
    CHECK(transfer::unfreeze(*model, "*") == 39);  // 45 frozen, 6 unfrozen above
    CHECK(transfer::trainable_parameters(*model).size() == 62);
}

TEST_CASE("freeze of a whole module, and a frozen parameter drops its old gradient", "[freeze]") {
    auto model = small_resnet18();
    model->fc->weight.set_grad(ones(model->fc->weight.shape()));
    transfer::freeze(*model->fc);
    CHECK_FALSE(model->fc->weight.requires_grad());
    CHECK_FALSE(model->fc->weight.grad().defined());
    CHECK(names_of(transfer::named_trainable_parameters(*model->fc)).empty());
    transfer::unfreeze(*model->fc);
    CHECK(model->fc->weight.requires_grad());
    CHECK(model->fc->bias.requires_grad());
}

TEST_CASE("a pattern matching nothing is an error listing existing names", "[freeze]") {
    auto model = small_resnet18();
    CHECK_THROWS_WITH(transfer::freeze(*model, "layr1*"),
                      Contains("freeze") && Contains("\"layr1*\"") && Contains("ResNet") && Contains("layer1") &&
                          Contains("conv1.weight") && Contains("fc.bias"));
    CHECK_THROWS_WITH(transfer::unfreeze(*model, "re:head\\..*"), Contains("unfreeze") && Contains("head"));
    CHECK(transfer::trainable_parameters(*model).size() == 62);  // nothing changed
    auto empty = nn::sequential({std::make_shared<nn::ReLU>()});
    CHECK_NOTHROW(transfer::freeze(*empty));  // the whole-module form: nothing to do is fine
}

TEST_CASE("frozen BatchNorm keeps its running statistics in a training model, across train()/eval()",
          "[freeze]") {
    auto model = small_resnet18();
    transfer::freeze(*model, "conv1");
    transfer::freeze(*model, "bn1");
    transfer::freeze(*model, "layer[1-3]*");
    const auto frozen_bn = model->layer2->submodule("0.bn1");
    const auto trainable_bn = model->layer4->submodule("0.bn1");
    auto* frozen = dynamic_cast<nn::BatchNorm2d*>(frozen_bn.get());
    auto* trainable = dynamic_cast<nn::BatchNorm2d*>(trainable_bn.get());
    REQUIRE(frozen);
    REQUIRE(trainable);

    // The user's eval()/train() calls do not undo the pins.
    model->eval();
    model->train();
    CHECK(model->is_training());
    CHECK_FALSE(frozen->is_training());
    CHECK(frozen->pinned_mode() == std::optional<bool>(false));
    CHECK_FALSE(model->bn1->is_training());
    CHECK_FALSE(model->layer1->is_training());  // the frozen stage itself is pinned too
    CHECK(trainable->is_training());
    CHECK_FALSE(trainable->pinned_mode().has_value());

    const std::vector<float> frozen_mean = values(frozen->running_mean);
    const std::vector<float> trainable_mean = values(trainable->running_mean);
    Generator gen(3);
    (void)(*model)(randn({4, 3, 16, 16}, DType::Float32, &gen));
    CHECK(values(frozen->running_mean) == frozen_mean);
    CHECK(frozen->num_batches_tracked.item<int64_t>() == 0);
    CHECK(values(trainable->running_mean) != trainable_mean);
    CHECK(trainable->num_batches_tracked.item<int64_t>() == 1);

    // eval() reaches the trainable part; the frozen part stays in eval either way.
    model->eval();
    CHECK_FALSE(trainable->is_training());
    CHECK_FALSE(frozen->is_training());

    // Unfreezing unpins: the layer trains again with the model.
    transfer::unfreeze(*model, "layer2");
    model->train();
    CHECK(frozen->is_training());
    CHECK_FALSE(frozen->pinned_mode().has_value());
    CHECK_FALSE(model->layer1->is_training());  // still frozen
    transfer::unfreeze(*model);
    CHECK(model->layer1->is_training());
    CHECK(model->bn1->is_training());
}

TEST_CASE("Dropout in a frozen part is off in a training model, and unfreezing turns it back on", "[freeze]") {
    Generator gen(11);
    auto body = nn::sequential({std::make_shared<nn::Linear>(8, 8), std::make_shared<nn::Dropout>(0.5)});
    auto model = nn::sequential({body, std::make_shared<nn::Linear>(8, 2)});
    const Tensor x = randn({16, 8}, DType::Float32, &gen);
    const auto linear = body->submodule("0");
    const std::vector<float> plain = values((*linear)(x));

    CHECK(transfer::freeze(*model, "0") == 2);
    model->train();
    CHECK_FALSE(body->submodule("1")->is_training());
    CHECK(values((*body)(x)) == plain);  // no element dropped or rescaled
    CHECK(model->submodule("1")->is_training());

    transfer::unfreeze(*model, "0");
    model->train();
    CHECK(body->submodule("1")->is_training());
    CHECK(values((*body)(x)) != plain);

    // A whole frozen model is a feature extractor: pinned to eval, root included.
    transfer::freeze(*model);
    model->train();
    CHECK_FALSE(model->is_training());
    CHECK(values((*body)(x)) == plain);
}

TEST_CASE("BatchNorm policies: always eval, always train, follow freeze", "[freeze]") {
    auto model = small_resnet18();
    transfer::freeze(*model, "layer1");
    const auto frozen = model->layer1->submodule("0.bn1");
    const auto trainable = model->layer4->submodule("1.bn2");

    transfer::set_batchnorm_policy(*model, transfer::BatchNormPolicy::AlwaysEval);
    model->train();
    CHECK_FALSE(frozen->is_training());
    CHECK_FALSE(trainable->is_training());
    CHECK(model->layer4->is_training());  // only the BatchNorms are pinned
    transfer::freeze(*model, "layer2");    // the policy is remembered by later calls
    CHECK_FALSE(trainable->is_training());

    transfer::set_batchnorm_policy(*model, transfer::BatchNormPolicy::AlwaysTrain);
    model->train();
    CHECK(frozen->is_training());  // PyTorch's behaviour: statistics update
    CHECK(trainable->is_training());
    model->eval();
    CHECK_FALSE(frozen->is_training());  // eval() still reaches it

    transfer::set_batchnorm_policy(*model, transfer::BatchNormPolicy::FollowFreeze);
    model->train();
    CHECK_FALSE(frozen->is_training());
    CHECK(trainable->is_training());
}

TEST_CASE("trainable_summary shows what will learn", "[freeze]") {
    auto model = small_resnet18();
    transfer::freeze(*model, "*");
    transfer::unfreeze(*model, "layer4");
    transfer::unfreeze(*model, "fc");
    model->train();
    const std::string table = transfer::trainable_summary(*model);
    INFO(table);
    CHECK(table ==
          "ResNet, mode train: 8,398,858 of 11,173,962 parameters trainable (75.2%)\n"
          "module   type               trainable     frozen  state      BatchNorm\n"
          "conv1    Conv2d                     0      1,728  frozen     -\n"
          "bn1      BatchNorm2d                0        128  frozen     eval (pinned)\n"
          "relu     ReLU                       0          0  -          -\n"
          "maxpool  Identity                   0          0  -          -\n"
          "layer1   Sequential                 0    147,968  frozen     eval (pinned)\n"
          "layer2   Sequential                 0    525,568  frozen     eval (pinned)\n"
          "layer3   Sequential                 0  2,099,712  frozen     eval (pinned)\n"
          "layer4   Sequential         8,393,728          0  trainable  train\n"
          "avgpool  AdaptiveAvgPool2d          0          0  -          -\n"
          "fc       Linear                 5,130          0  trainable  -\n"
          "total                       8,398,858  2,775,104\n");
    // One row per block at depth 2; the root's leaves stay single rows.
    const std::string deep = transfer::trainable_summary(*model, 2);
    CHECK_THAT(deep, Contains("layer4.1 ") && Contains("layer1.0 ") && Contains("fc "));
    CHECK_THROWS_WITH(transfer::trainable_summary(*model, 0), Contains("depth"));
}
