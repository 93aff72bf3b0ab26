// transfer/early_stopping: stops after `patience` epochs without improvement
// (min_delta, minimised losses, maximised accuracies); the best file holds the
// best epoch's weights and metadata; restore() brings them back; inside fit()
// a diverging run stops and ends on its best epoch's weights.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "graft.h"
#include "io/formats/safetensors.h"
#include "nn/layers/linear.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "transfer/early_stopping.h"

using namespace graft;
using namespace graft::transfer;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

EpochResult epoch_with(int64_t epoch, double val_loss, double val_acc = NAN) {
    EpochResult e;
    e.epoch = epoch;
    e.train_loss = 1.0 / double(epoch);
    e.val_loss = val_loss;
    e.val_acc = val_acc;
    return e;
}

// The model's weights say which epoch they come from.
void set_weights(nn::Linear& model, double value) {
    NoGradGuard no_grad;
    model.weight.fill_(value);
    model.bias.fill_(-value);
}

}  // namespace

TEST_CASE("EarlyStopping stops after patience epochs without improvement and keeps the best weights",
          "[transfer][early_stopping]") {
    const fs::path dir = fs::temp_directory_path() / ("graft_early_stopping_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    nn::Linear model(3, 2);
    const std::string best_path = (dir / "best.safetensors").string();
    const bool in_file = GENERATE(false, true);
    EarlyStopping stopper(model, {.monitor = "val_loss", .patience = 3, .best_path = in_file ? best_path : ""});

    const std::vector<double> losses{1.0, 0.8, 0.9, 0.85, 0.81, 0.5};
    std::vector<bool> go;
    for (size_t i = 0; i < losses.size() && (go.empty() || go.back()); ++i) {
        set_weights(model, double(i + 1));
        go.push_back(stopper(epoch_with(int64_t(i + 1), losses[i])));
    }
    CHECK(go == std::vector<bool>{true, true, true, true, false});
    CHECK(stopper.stopped());
    CHECK(stopper.best() == 0.8);
    CHECK(stopper.best_epoch() == 2);
    CHECK(stopper.bad_epochs() == 3);
    // restore_best: the call that stopped put epoch 2's weights back.
    CHECK(model.weight.to_vector<float>() == std::vector<float>(6, 2.0f));
    CHECK(model.bias.to_vector<float>() == std::vector<float>(2, -2.0f));
    set_weights(model, 9);
    stopper.restore();
    CHECK(model.weight.to_vector<float>() == std::vector<float>(6, 2.0f));

    CHECK(fs::exists(best_path) == in_file);
    if (in_file) {
        const NamedTensors file = io::read_safetensors(best_path);
        CHECK(file.find("model.weight")->to_vector<float>() == std::vector<float>(6, 2.0f));
        CHECK(file.metadata.at("epoch") == "2");
        CHECK_THAT(file.metadata.at("extra"), Contains("\"monitor\":\"val_loss\"") && Contains("\"value\":0.8"));
    }
    fs::remove_all(dir);
}

TEST_CASE("EarlyStopping: min_delta, maximised accuracy, NaN and option errors", "[transfer][early_stopping]") {
    nn::Linear model(2, 2);
    // Gains below min_delta do not count.
    EarlyStopping loss_stop(model, {.monitor = "val_loss", .patience = 2, .min_delta = 0.05, .restore_best = false});
    CHECK(loss_stop(epoch_with(1, 1.0)));
    CHECK(loss_stop(epoch_with(2, 0.97)));   // 0.03 better: not enough
    CHECK(!loss_stop(epoch_with(3, 0.96)));  // second epoch without improvement
    CHECK(loss_stop.best_epoch() == 1);

    EarlyStopping acc_stop(model, {.monitor = "val_acc", .patience = 1});
    CHECK(acc_stop(epoch_with(1, 1.0, 0.5)));
    CHECK(acc_stop(epoch_with(2, 2.0, 0.7)));  // loss worse, accuracy better: improvement
    CHECK(!acc_stop(epoch_with(3, 0.1, 0.7)));
    CHECK(acc_stop.best() == 0.7);
    CHECK(acc_stop.best_epoch() == 2);

    EarlyStopping train_stop(model, {.monitor = "train_loss", .patience = 5});
    for (int64_t e = 1; e <= 6; ++e) CHECK(train_stop(epoch_with(e, NAN)));  // train_loss = 1/e keeps falling
    CHECK(train_stop.best_epoch() == 6);

    EarlyStopping nan_stop(model, {.monitor = "val_acc"});
    CHECK_THROWS_WITH(nan_stop(epoch_with(1, 0.5)), Contains("val_acc is NaN") && Contains("num_classes"));
    CHECK_THROWS_WITH(nan_stop.restore(), Contains("no epoch"));
    CHECK_THROWS_WITH(EarlyStopping(model, {.monitor = "accuracy"}), Contains("monitor must be"));
    CHECK_THROWS_WITH(EarlyStopping(model, {.patience = 0}), Contains("patience"));
}

TEST_CASE("EarlyStopping inside fit() ends a diverging run on its best epoch's weights", "[transfer][early_stopping][fit]") {
    // SGD on a least-squares problem whose curvature allows lr up to about 0.6,
    // with lr growing 3x per epoch from 0.01: the loss falls, then diverges.
    Generator gen(1);
    std::vector<Batch> data;
    for (int b = 0; b < 4; ++b) {
        Tensor x = randn({16, 2}, DType::Float32, &gen);
        data.push_back({x, x.sum({1}, true)});
    }
    manual_seed(2);
    auto model = std::make_shared<nn::Linear>(2, 1);
    optim::SGD sgd(model->parameters(), {.lr = 0.01});
    optim::ExponentialLR growing(sgd, 3.0);
    EarlyStopping stopper(*model, {.monitor = "val_loss", .patience = 2});
    std::vector<std::vector<float>> weights;  // after each epoch, before the callback
    FitOptions fo;
    fo.epochs = 20;
    fo.show_progress = false;
    fo.loss = [](const Tensor& out, const Tensor& target) { return mse_loss(out, target); };
    fo.scheduler = &growing;
    const std::function<bool(const EpochResult&)> callback = stopper;  // a copy shares the state
    fo.on_epoch_end = [&](const EpochResult& e) {
        weights.push_back(model->weight.to_vector<float>());
        return callback(e);
    };
    const FitResult r = fit(*model, sgd, batches_of(data), batches_of(data), fo);
    std::string history;
    for (const EpochResult& e : r.epochs) history += " " + std::to_string(e.val_loss);
    INFO("val_loss by epoch:" << history);
    CHECK(r.stopped_early);
    CHECK(stopper.best_epoch() >= 3);
    CHECK(stopper.stopped());
    CHECK(r.epochs.size() == size_t(stopper.best_epoch() + 2));
    for (const EpochResult& e : r.epochs) CHECK(e.val_loss >= stopper.best());
    CHECK(model->weight.to_vector<float>() == weights[size_t(stopper.best_epoch() - 1)]);
}
