// transfer/lr_finder: the suggestion rule on known curves; sweeps on convex
// toy problems (linear regression with SGD + momentum, logistic regression with
// Adam) suggest a rate in the decade the problem's curvature predicts, stop
// early when the loss diverges, write the chart, and leave the model and the
// optimizer bit-identical (a later run equals one without the finder). Also:
// OneCycleLR driven per step from fit().
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "graft.h"
#include "nn/layers/linear.h"
#include "nn/optim/adam.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "transfer/lr_finder.h"
#include "transfer/tensor_hash.h"

using namespace graft;
using namespace graft::transfer;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// y = x w* + small noise, x ~ N(0, I_8): the MSE's Hessian is about 2 I, so
// plain gradient descent diverges above lr = 1 (heavy ball with momentum 0.9
// above 1.9) and progress per step is about 2 lr / (1 - momentum).
std::vector<Batch> regression_batches(int64_t batches, int64_t size, uint64_t seed) {
    Generator gen(seed);
    const Tensor w = randn({8, 1}, DType::Float32, &gen);
    std::vector<Batch> out;
    for (int64_t b = 0; b < batches; ++b) {
        Tensor x = randn({size, 8}, DType::Float32, &gen);
        out.push_back({x, matmul(x, w) + randn({size, 1}, DType::Float32, &gen) * 0.01});
    }
    return out;
}

// Two Gaussian blobs (3 classes) in 4-d, for cross-entropy.
std::vector<Batch> classification_batches(int64_t batches, int64_t size, uint64_t seed) {
    Generator gen(seed);
    const Tensor centres = randn({3, 4}, DType::Float32, &gen) * 2.0;
    std::vector<Batch> out;
    for (int64_t b = 0; b < batches; ++b) {
        std::vector<int64_t> y;
        for (int64_t i = 0; i < size; ++i) y.push_back((i * 7 + b) % 3);
        const Tensor target = from_vector(y);
        out.push_back({centres.index_select(0, target) + randn({size, 4}, DType::Float32, &gen), target});
    }
    return out;
}

bool same_tensors(const NamedTensors& a, const NamedTensors& b) {
    if (a.size() != b.size() || a.metadata != b.metadata) return false;
    for (const auto& [name, t] : a) {
        const Tensor* other = b.find(name);
        if (!other || other->shape() != t.shape() || hash_tensors({*other}) != hash_tensors({t})) return false;
    }
    return true;
}

// state_dict() shares the parameters' storage; the tests need a snapshot.
NamedTensors copy_of(const NamedTensors& state) {
    NamedTensors out;
    for (const auto& [name, t] : state) out.set(name, t.clone());
    out.metadata = state.metadata;
    return out;
}

Tensor mse(const Tensor& out, const Tensor& target) { return mse_loss(out, target); }

}  // namespace

TEST_CASE("suggest_lr finds the steepest descent of a known curve", "[transfer][lr_finder]") {
    LrFinderResult r;
    // A logistic step in log10(lr) centred at 1e-3, then a rise after 1e-1.
    for (int i = 0; i < 121; ++i) {
        const double lr = std::pow(10.0, -6.0 + 6.0 * i / 120.0);
        const double u = std::log10(lr);
        r.lrs.push_back(lr);
        r.smoothed.push_back(1.0 / (1.0 + std::exp(3.0 * (u + 3.0))) + 0.1 + (u > -1 ? (u + 1) * (u + 1) : 0.0));
    }
    r.losses = r.smoothed;
    suggest_lr(r);
    CHECK(std::log10(r.suggested_lr) == Approx(-3.0).margin(0.1));
    CHECK(std::log10(r.min_loss_lr) == Approx(-1.0).margin(0.15));
    CHECK_THAT(r.reason, Contains("steepest descent") && Contains("lowest"));

    // A loss that only rises: no suggestion, and the reason says why.
    LrFinderResult up;
    for (int i = 0; i < 50; ++i) {
        up.lrs.push_back(std::pow(10.0, -5.0 + 0.1 * i));
        up.smoothed.push_back(1.0 + 0.01 * i);
    }
    suggest_lr(up);
    CHECK(std::isnan(up.suggested_lr));
    CHECK_THAT(up.reason, Contains("never falls"));
}

TEST_CASE("find_lr on linear regression: a sensible decade, early stop, chart, bitwise restore",
          "[transfer][lr_finder]") {
    const fs::path dir = fs::temp_directory_path() / ("graft_lr_finder_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::vector<Batch> data = regression_batches(20, 32, 1);

    manual_seed(2);
    auto model = std::make_shared<nn::Linear>(8, 1);
    optim::SGD sgd(model->parameters(), {.lr = 0.01, .momentum = 0.9});
    // One real step first, so the optimizer has momentum state to restore.
    mse((*model)(data[0].input), data[0].target).backward();
    sgd.step();
    sgd.zero_grad();
    const NamedTensors model_before = copy_of(model->state_dict());
    const NamedTensors optim_before = sgd.state_dict();
    const uint64_t rng_offset = default_generator().offset();

    LrFinderOptions o;
    o.loss = mse;
    o.chart_path = (dir / "lr.png").string();
    const LrFinderResult r = find_lr(*model, sgd, batches_of(data), o);
    INFO(r.reason);

    // Momentum 0.9 diverges above lr ~1.9, so a sweep to 10 must stop early.
    CHECK(r.diverged);
    CHECK(r.lrs.size() < 100);
    CHECK(r.lrs.size() > 50);  // it ran through 20-batch passes more than twice
    CHECK(r.lrs.size() == r.losses.size());
    CHECK(r.smoothed.size() == r.losses.size());
    CHECK(r.lrs.front() == Approx(1e-7));
    CHECK(r.lrs.back() < 1.9 * 10);
    // Progress ~ 20 lr per step, and a geometric sweep's past ~ 7 steps: the loss
    // falls fastest around lr ~ 1e-2; the smoothing delays it a little.
    CHECK(r.suggested_lr > 1e-3);
    CHECK(r.suggested_lr < 3e-1);
    CHECK(r.min_loss_lr > r.suggested_lr);
    CHECK(r.min_loss_lr < 2.0);
    CHECK_THAT(r.reason, Contains("suggested lr") && Contains("stopped after"));

    // The chart is a PNG.
    std::ifstream png(o.chart_path, std::ios::binary);
    char magic[8] = {};
    png.read(magic, 8);
    CHECK(std::string(magic + 1, 3) == "PNG");
    CHECK(fs::file_size(o.chart_path) > 2000);

    // Everything as it was: weights, optimizer state and lr, mode, generator.
    CHECK(same_tensors(model->state_dict(), model_before));
    CHECK(same_tensors(sgd.state_dict(), optim_before));
    CHECK(sgd.lr(0) == 0.01);
    CHECK(model->is_training());
    CHECK(!model->weight.grad().defined());
    CHECK(default_generator().offset() == rng_offset);
    fs::remove_all(dir);
}

TEST_CASE("after find_lr, training gives the same weights as without it", "[transfer][lr_finder]") {
    const std::vector<Batch> data = classification_batches(10, 16, 3);
    FitOptions fo;
    fo.epochs = 2;
    fo.show_progress = false;

    manual_seed(4);
    auto plain = std::make_shared<nn::Linear>(4, 3);
    optim::Adam adam_a(plain->parameters(), {.lr = 0.01});
    fit(*plain, adam_a, batches_of(data), {}, fo);

    manual_seed(4);
    auto probed = std::make_shared<nn::Linear>(4, 3);
    optim::Adam adam_b(probed->parameters(), {.lr = 0.01});
    LrFinderOptions o;
    o.num_steps = 60;
    o.start_lr = 1e-6;
    const LrFinderResult r = find_lr(*probed, adam_b, batches_of(data), o);  // cross-entropy by default
    INFO(r.reason);
    // Adam moves each weight by about lr per step and the blobs sit a few units
    // apart, so the loss falls fastest for lr between 1e-3 and 1.
    CHECK(r.suggested_lr > 1e-3);
    CHECK(r.suggested_lr < 1.0);
    fit(*probed, adam_b, batches_of(data), {}, fo);

    CHECK(same_tensors(probed->state_dict(), plain->state_dict()));
    CHECK(same_tensors(adam_b.state_dict(), adam_a.state_dict()));
}

TEST_CASE("find_lr stops on a non-finite loss and checks its options", "[transfer][lr_finder]") {
    const std::vector<Batch> data = regression_batches(4, 16, 5);
    auto model = std::make_shared<nn::Linear>(8, 1);
    optim::SGD sgd(model->parameters(), {.lr = 0.1});
    const NamedTensors before = copy_of(model->state_dict());
    LrFinderOptions o;
    o.loss = mse;
    o.start_lr = 1e3;  // diverges from the first steps: the loss overflows to inf
    o.end_lr = 1e30;
    o.diverge_factor = 1e300;
    const LrFinderResult r = find_lr(*model, sgd, batches_of(data), o);
    CHECK(r.diverged);
    CHECK(r.lrs.size() < 100);
    CHECK_THAT(r.reason, Contains("the loss was inf") || Contains("the loss was nan"));
    CHECK(same_tensors(model->state_dict(), before));

    LrFinderOptions bad;
    bad.loss = mse;
    bad.end_lr = 1e-8;
    CHECK_THROWS_WITH(find_lr(*model, sgd, batches_of(data), bad), Contains("end_lr"));
    bad = LrFinderOptions{};
    bad.smoothing = 1.0;
    CHECK_THROWS_WITH(find_lr(*model, sgd, batches_of(data), bad), Contains("smoothing"));
    bad = LrFinderOptions{};
    bad.num_steps = 1;
    CHECK_THROWS_WITH(find_lr(*model, sgd, batches_of(data), bad), Contains("num_steps"));
    CHECK_THROWS_WITH(find_lr(*model, sgd, batches_of({}), o), Contains("gave no batches"));
    CHECK(same_tensors(model->state_dict(), before));
}

TEST_CASE("OneCycleLR steps per batch from fit()", "[transfer][lr_finder][fit]") {
    const std::vector<Batch> data = classification_batches(5, 16, 6);
    manual_seed(7);
    auto model = std::make_shared<nn::Linear>(4, 3);
    optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9});
    const int64_t epochs = 3, steps = 5;
    optim::OneCycleLR one_cycle(sgd, 0.5, epochs * steps);
    FitOptions fo;
    fo.epochs = epochs;
    fo.show_progress = false;
    fo.scheduler = &one_cycle;
    fo.scheduler_per_step = true;
    const fs::path log = fs::temp_directory_path() / ("graft_one_cycle_" + std::to_string(::getpid()) + ".csv");
    fo.log_path = log.string();
    const FitResult r = fit(*model, sgd, batches_of(data), {}, fo);
    REQUIRE(r.epochs.size() == 3);
    // The rate each step used, from the log's step rows (epoch,step,loss,lr,...).
    std::vector<double> lrs;
    std::ifstream in(log);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        for (size_t start = 0, comma;; start = comma + 1) {
            comma = line.find(',', start);
            cells.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos) break;
        }
        if (!cells[3].empty()) lrs.push_back(std::stod(cells[3]));
    }
    fs::remove(log);
    // torch's schedule for 15 steps: max_lr / 25 at the first, the peak 0.5
    // near 30% (step index 3.5), cosine down to max_lr / 25 / 1e4 at the last.
    REQUIRE(lrs.size() == 15);
    CHECK(lrs.front() == Approx(0.5 / 25));
    CHECK(*std::max_element(lrs.begin(), lrs.end()) > 0.45);
    CHECK(std::max_element(lrs.begin(), lrs.end()) - lrs.begin() == 4);
    CHECK(lrs.back() == Approx(0.5 / 25 / 1e4));
    CHECK(r.epochs.back().train_loss < r.epochs.front().train_loss);
}
