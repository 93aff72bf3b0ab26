// Module::pin_mode: a pinned module keeps its mode through train()/eval() on
// itself or an ancestor, its children still follow, and unpinning returns it to
// the mode last asked for.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <vector>

#include "graft.h"
#include "nn/layers/container.h"
#include "nn/layers/dropout.h"
#include "nn/layers/norm.h"
#include "nn/module.h"

using namespace graft;

namespace {

// Counts on_train_mode calls, to check that pinning reports the mode it sets.
class ModeProbe : public nn::Module {
public:
    ModeProbe() : Module("ModeProbe") {}
    Tensor forward(const Tensor& x) override { return x; }
    int calls = 0;
    bool last = true;

protected:
    void on_train_mode(bool training) override {
        ++calls;
        last = training;
    }
};

}  // namespace

TEST_CASE("pin_mode keeps a module's mode across train() and eval()", "[module][pin]") {
    auto inner = std::make_shared<nn::BatchNorm2d>(2);
    auto block = nn::sequential({inner, std::make_shared<nn::Dropout>(0.5)});
    auto root = nn::sequential({block, std::make_shared<nn::Dropout>(0.5)});
    CHECK_FALSE(inner->pinned_mode().has_value());

    inner->pin_mode(false);
    REQUIRE(inner->pinned_mode() == std::optional<bool>(false));
    CHECK_FALSE(inner->is_training());  // takes effect at once
    root->train();
    CHECK(root->is_training());
    CHECK(block->is_training());
    CHECK_FALSE(inner->is_training());
    root->eval();
    CHECK_FALSE(inner->is_training());
    root->train(true);
    CHECK_FALSE(inner->is_training());

    // A pinned parent does not pin its children: they follow the call.
    block->pin_mode(false);
    root->train();
    CHECK_FALSE(block->is_training());
    CHECK(block->submodule("1")->is_training());

    // Unpinning returns to the mode last asked for.
    inner->pin_mode(std::nullopt);
    CHECK(inner->is_training());
    root->eval();
    block->pin_mode(std::nullopt);
    CHECK_FALSE(block->is_training());
    root->train();
    CHECK(block->is_training());
    CHECK(inner->is_training());

    // Pinned to train: eval() leaves it training.
    inner->pin_mode(true);
    root->eval();
    CHECK(inner->is_training());
    CHECK_FALSE(block->is_training());
}

TEST_CASE("pin_mode tells the module its new mode, once", "[module][pin]") {
    auto probe = std::make_shared<ModeProbe>();
    probe->pin_mode(false);
    CHECK(probe->calls == 1);
    CHECK_FALSE(probe->last);
    probe->pin_mode(false);  // no change, no call
    CHECK(probe->calls == 1);
    probe->train();
    CHECK(probe->calls == 2);  // train() still calls, with the pinned mode
    CHECK_FALSE(probe->last);
    probe->pin_mode(std::nullopt);
    CHECK(probe->calls == 3);
    CHECK(probe->last);
}

TEST_CASE("a pinned BatchNorm normalises with its running statistics in a training model", "[module][pin]") {
    auto bn = std::make_shared<nn::BatchNorm2d>(3);
    auto model = nn::sequential({bn});
    bn->pin_mode(false);
    model->train();
    const std::vector<float> before = bn->running_mean.to_vector<float>();
    const Tensor x = arange(0, 2 * 3 * 2 * 2, 1, DType::Float32).reshape({2, 3, 2, 2});
    const Tensor y = (*model)(x);
    CHECK(bn->running_mean.to_vector<float>() == before);
    CHECK(bn->num_batches_tracked.item<int64_t>() == 0);
    // Running mean 0, var 1, weight 1, bias 0: y = x / sqrt(1 + eps).
    CHECK(max(abs(sub(y, x / std::sqrt(1.0 + 1e-5)))).item<double>() < 1e-5);
}
