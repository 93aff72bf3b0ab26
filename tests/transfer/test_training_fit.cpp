// transfer/training/fit: a linear classifier on separable 2-d points learns;
// the log, the chart and the progress lines are written; early stopping and
// evaluate's mode handling.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "graft.h"
#include "nn/layers/linear.h"
#include "nn/optim/sgd.h"
#include "transfer/training/fit.h"

using namespace graft;
using namespace graft::transfer;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// Points in [-1, 1]^2, class 1 when x0 > x1: linearly separable.
std::vector<Batch> make_batches(int64_t batches, int64_t size, uint64_t seed) {
    Generator gen(seed);
    std::vector<Batch> out;
    for (int64_t b = 0; b < batches; ++b) {
        Tensor x = rand({size, 2}, DType::Float32, &gen) * 2.0 - 1.0;
        std::vector<float> v = x.to_vector<float>();
        std::vector<int64_t> y(size_t(size), 0);
        for (int64_t i = 0; i < size; ++i) y[size_t(i)] = v[size_t(2 * i)] > v[size_t(2 * i + 1)];
        out.push_back({x, from_vector(y)});
    }
    return out;
}

struct Capture {
    char* buffer = nullptr;
    size_t size = 0;
    std::FILE* file = open_memstream(&buffer, &size);
    ~Capture() {
        if (file) std::fclose(file);
        std::free(buffer);
    }
    std::string text() {
        std::fflush(file);
        return std::string(buffer, size);
    }
};

}  // namespace

TEST_CASE("fit trains a linear classifier and writes log, chart and progress", "[transfer][fit]") {
    manual_seed(3);
    auto model = std::make_shared<nn::Linear>(2, 2);
    optim::SGD sgd(model->parameters(), {.lr = 0.5});
    const fs::path dir = fs::temp_directory_path() / ("graft_fit_" + std::to_string(::getpid()));
    Capture cap;
    FitOptions o;
    o.epochs = 4;
    o.num_classes = 2;
    o.class_names = {"below", "above"};
    o.progress.out = cap.file;
    o.progress.terminal = false;
    o.log_path = (dir / "metrics.csv").string();
    o.chart_path = (dir / "curves.png").string();
    FitResult r = fit(*model, sgd, batches_of(make_batches(16, 32, 1)), batches_of(make_batches(4, 64, 2)), o);

    REQUIRE(r.epochs.size() == 4);
    CHECK(!r.stopped_early);
    CHECK(r.epochs[0].steps == 16);
    CHECK(r.epochs.back().train_loss < r.epochs.front().train_loss);
    CHECK(r.epochs.back().val_acc > 0.9);
    CHECK(r.last_val_metrics.count() == 256);
    CHECK(r.last_val_metrics.class_names()[1] == "above");
    CHECK(r.history.step_x.size() == 64);
    CHECK(r.history.step_x[15] == Approx(1.0));  // the first epoch's last step ends at x = 1
    CHECK(model->is_training());

    // 64 step rows + 4 epoch rows + the header.
    std::ifstream log(o.log_path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    REQUIRE(lines.size() == 69);
    CHECK(lines[0] == "epoch,step,loss,lr,train_loss,train_acc,val_loss,val_acc,seconds");
    CHECK_THAT(lines[1], Contains("1,1,") && Contains(",0.5,,,,,"));
    CHECK_THAT(lines[17], Contains("1,16,,,"));  // the epoch row after 16 steps
    CHECK(fs::file_size(o.chart_path) > 1000);
    const std::string out = cap.text();
    CHECK_THAT(out, Contains("epoch 4/4 done in"));
    CHECK_THAT(out, Contains("val_acc"));
    fs::remove_all(dir);
}

TEST_CASE("fit stops early when on_epoch_end says so, and trains a regression without classes", "[transfer][fit]") {
    manual_seed(4);
    auto model = std::make_shared<nn::Linear>(2, 1);
    optim::SGD sgd(model->parameters(), {.lr = 0.1});
    std::vector<Batch> data;
    for (const Batch& b : make_batches(4, 16, 5)) data.push_back({b.input, b.input.sum({1}, true)});
    FitOptions o;
    o.epochs = 10;
    o.show_progress = false;
    o.loss = [](const Tensor& out, const Tensor& target) { return mse_loss(out, target); };
    o.on_epoch_end = [](const EpochResult& e) { return e.epoch < 3; };
    FitResult r = fit(*model, sgd, batches_of(data), {}, o);
    CHECK(r.epochs.size() == 3);
    CHECK(r.stopped_early);
    CHECK(std::isnan(r.epochs[0].val_loss));
    CHECK(std::isnan(r.epochs[0].train_acc));
    CHECK(r.epochs[2].train_loss < r.epochs[0].train_loss);
}

TEST_CASE("evaluate restores the mode and fit checks its options", "[transfer][fit]") {
    auto model = std::make_shared<nn::Linear>(2, 2);
    ClassificationMetrics m(2);
    model->train();
    const double loss = evaluate(*model, batches_of(make_batches(2, 8, 9)), {}, &m);
    CHECK(std::isfinite(loss));
    CHECK(m.count() == 16);
    CHECK(m.mean_loss() == Approx(loss));
    CHECK(model->is_training());
    optim::SGD sgd(model->parameters(), {.lr = 0.1});
    FitOptions o;
    o.epochs = 0;
    CHECK_THROWS_WITH(fit(*model, sgd, batches_of({}), {}, o), Contains("epochs"));
    o.epochs = 1;
    CHECK_THROWS_WITH(fit(*model, sgd, {}, {}, o), Contains("no training data"));
}

TEST_CASE("fit resumes from its checkpoint to the same weights as an uninterrupted run", "[transfer][fit]") {
    const fs::path dir = fs::temp_directory_path() / ("graft_fit_resume_" + std::to_string(::getpid()));
    const std::vector<Batch> train = make_batches(6, 16, 11), val = make_batches(2, 16, 12);
    FitOptions o;
    o.num_classes = 2;
    o.show_progress = false;

    manual_seed(21);
    auto straight = std::make_shared<nn::Linear>(2, 2);
    optim::SGD sgd_a(straight->parameters(), {.lr = 0.3, .momentum = 0.9});
    o.epochs = 4;
    fit(*straight, sgd_a, batches_of(train), batches_of(val), o);

    o.checkpoint_path = (dir / "last.safetensors").string();
    o.log_path = (dir / "log.csv").string();
    o.resume = true;
    fs::create_directories(dir);
    manual_seed(21);
    auto first = std::make_shared<nn::Linear>(2, 2);
    optim::SGD sgd_b(first->parameters(), {.lr = 0.3, .momentum = 0.9});
    o.epochs = 2;  // "killed" after epoch 2
    fit(*first, sgd_b, batches_of(train), batches_of(val), o);

    manual_seed(999);  // a different start: the checkpoint must overwrite it
    auto second = std::make_shared<nn::Linear>(2, 2);
    optim::SGD sgd_c(second->parameters(), {.lr = 0.3, .momentum = 0.9});
    o.epochs = 4;
    FitResult r = fit(*second, sgd_c, batches_of(train), batches_of(val), o);
    CHECK(r.resumed_after == 2);
    REQUIRE(r.epochs.size() == 2);
    CHECK(r.epochs[0].epoch == 3);
    CHECK(r.history.epoch == std::vector<double>{1, 2, 3, 4});
    CHECK(r.history.step_x.size() == 24);
    CHECK(second->weight.to_vector<float>() == straight->weight.to_vector<float>());
    CHECK(second->bias.to_vector<float>() == straight->bias.to_vector<float>());

    TrainingHistory h = history_from_log(o.log_path);
    CHECK(h.epoch.size() == 4);
    CHECK(h.step_x.size() == 24);
    CHECK(h.step_x[5] == Approx(1.0));
    CHECK(h.val_acc[3] == Approx(r.epochs[1].val_acc));
    fs::remove_all(dir);
}
