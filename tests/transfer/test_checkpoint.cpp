// Checkpoints: a resumed run is bit-identical to an uninterrupted one; a writer
// killed (SIGKILL) at random-ish moments leaves the previous or the new
// checkpoint, complete; and each refusal names the file and the problem.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "graft.h"
#include "io/formats/safetensors.h"
#include "nn/nn.h"
#include "nn/optim/adamw.h"
#include "nn/optim/sgd.h"
#include "nn/optim/schedule.h"
#include "transfer/checkpoint.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using namespace graft;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

size_t count_temp_files(const TempDir& dir) {
    size_t n = 0;
    for (const std::string& name : dir.names()) n += name.find(".tmp.") != std::string::npos;
    return n;
}

// Linear + ReLU + Dropout + Linear, its optimizer and schedule. The default
// generator is seeded first, so `seed` decides the initial weights and the
// dropout masks that follow.
struct Run {
    std::shared_ptr<nn::Sequential> model;
    std::unique_ptr<optim::Optimizer> optimizer;
    std::unique_ptr<optim::LRScheduler> schedule;

    Run(uint64_t seed, bool adamw, int64_t hidden = 16) {
        manual_seed(seed);
        model = nn::sequential({std::make_shared<nn::Linear>(8, hidden), std::make_shared<nn::ReLU>(),
                                std::make_shared<nn::Dropout>(0.3), std::make_shared<nn::Linear>(hidden, 3)});
        if (adamw) {
            optimizer = std::make_unique<optim::AdamW>(model->parameters(), optim::Options{.lr = 0.01, .weight_decay = 0.05});
            schedule = std::make_unique<optim::CosineAnnealingLR>(*optimizer, 10);
        } else {
            optimizer = std::make_unique<optim::SGD>(
                model->parameters(), optim::Options{.lr = 0.1, .momentum = 0.9, .nesterov = true});
            schedule = std::make_unique<optim::StepLR>(*optimizer, 3, 0.5);
        }
    }
    transfer::TrainingObjects objects() {
        return {.model = model.get(), .optimizer = optimizer.get(), .scheduler = schedule.get()};
    }
};

struct Data {
    Tensor x, y;
    Data() {
        Generator gen(42);
        x = randn({64, 8}, DType::Float32, &gen);
        y = argmax(x.slice(1, 0, 3), 1);
    }
};

float train_step(Run& run, const Data& data, int64_t step) {
    const int64_t b = step % 4;
    run.optimizer->zero_grad();
    Tensor loss = cross_entropy((*run.model)(data.x.slice(0, 16 * b, 16 * b + 16)), data.y.slice(0, 16 * b, 16 * b + 16));
    loss.backward();
    run.optimizer->step();
    run.schedule->step();
    return loss.item<float>();
}

std::vector<float> flat_weights(const nn::Module& model) {
    std::vector<float> out;
    for (const auto& [name, t] : model.state_dict()) {
        auto v = t.to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

}  // namespace

TEST_CASE("checkpoint: a resumed run is bit-identical to the uninterrupted one", "[transfer][checkpoint]") {
    const bool adamw = GENERATE(true, false);
    INFO((adamw ? "AdamW + cosine" : "SGD nesterov + StepLR"));
    const Data data;
    const int64_t total = 12, cut = 5;

    Run straight(1, adamw);
    std::vector<float> expected;
    for (int64_t s = 0; s < total; ++s) expected.push_back(train_step(straight, data, s));

    TempDir dir("ckpt");
    const std::string path = dir.file("run.safetensors");
    std::vector<float> losses;
    {
        Run first(1, adamw);
        for (int64_t s = 0; s < cut; ++s) losses.push_back(train_step(first, data, s));
        transfer::save_checkpoint(path, first.objects(), {.epoch = 0, .step = cut, .extra_json = R"({"batch": 1})"});
    }
    // Another seed: other initial weights and another generator state, which
    // the checkpoint must overwrite for the losses to agree.
    Run resumed(777, adamw);
    REQUIRE(flat_weights(*resumed.model) != flat_weights(*straight.model));
    const transfer::TrainingState at = transfer::load_checkpoint(path, resumed.objects());
    REQUIRE(at.step == cut);
    REQUIRE(at.extra_json == R"({"batch": 1})");
    for (int64_t s = at.step; s < total; ++s) losses.push_back(train_step(resumed, data, s));

    REQUIRE(losses == expected);  // exact, not approximate
    REQUIRE(flat_weights(*resumed.model) == flat_weights(*straight.model));
    REQUIRE(resumed.optimizer->lr(0) == straight.optimizer->lr(0));
    REQUIRE(default_generator().offset() != 0);
}

TEST_CASE("checkpoint: the file is safetensors with prefixed names and graft metadata", "[transfer][checkpoint]") {
    TempDir dir("ckpt");
    const std::string path = dir.file("c.safetensors");
    Run run(3, true);
    const Data data;
    train_step(run, data, 0);
    Generator gen(99);
    gen.advance(10);
    auto objects = run.objects();
    objects.rng = &gen;
    transfer::save_checkpoint(path, objects, {.epoch = 2, .step = 7});
    const NamedTensors file = io::read_safetensors(path);
    REQUIRE(file.metadata.at("format") == transfer::kCheckpointFormat);
    REQUIRE(file.metadata.at("epoch") == "2");
    REQUIRE(file.metadata.at("step") == "7");
    REQUIRE(file.metadata.at("optim.optimizer") == "AdamW");
    REQUIRE(file.metadata.at("rng") == R"({"offset":12,"seed":99})");
    REQUIRE_THAT(file.metadata.at("scheduler"), Contains("CosineAnnealingLR"));
    REQUIRE(file.contains("model.0.weight"));
    REQUIRE(file.contains("model.3.bias"));
    REQUIRE(file.contains("optim.state.0.exp_avg"));
    REQUIRE(file.contains("optim.state.3.step"));

    Generator restored(1);
    objects.rng = &restored;
    const auto at = transfer::load_checkpoint(path, objects);
    REQUIRE(at.epoch == 2);
    REQUIRE(restored.seed() == 99);
    REQUIRE(restored.offset() == 12);
}

TEST_CASE("checkpoint: the positional forms save and load the same parts", "[transfer][checkpoint]") {
    TempDir dir("ckpt");
    const std::string path = dir.file("p.safetensors");
    Run run(6, false);
    const Data data;
    train_step(run, data, 0);
    Generator gen(11);
    gen.advance(4);
    transfer::save_checkpoint(path, *run.model, run.optimizer.get(), run.schedule.get(), {.epoch = 4}, &gen);

    Run other(7, false);
    Generator into(0);
    const auto at = transfer::load_checkpoint(path, *other.model, other.optimizer.get(), other.schedule.get(), &into);
    REQUIRE(at.epoch == 4);
    REQUIRE(into.seed() == 11);
    REQUIRE(into.offset() == 4);
    REQUIRE(flat_weights(*other.model) == flat_weights(*run.model));
    REQUIRE(other.schedule->last_epoch() == run.schedule->last_epoch());
    REQUIRE(other.optimizer->state_dict().size() == run.optimizer->state_dict().size());
}

TEST_CASE("checkpoint: ReduceLROnPlateau state is saved and restored", "[transfer][checkpoint]") {
    TempDir dir("ckpt");
    const std::string path = dir.file("p.safetensors");
    Run run(4, false);
    optim::ReduceLROnPlateau plateau(*run.optimizer, {.patience = 1});
    for (double metric : {1.0, 0.5, 0.6, 0.7}) plateau.step(metric);
    auto objects = run.objects();
    objects.plateau = &plateau;
    transfer::save_checkpoint(path, objects);

    Run other(5, false);
    optim::ReduceLROnPlateau fresh(*other.optimizer, {.patience = 1});
    auto into = other.objects();
    into.plateau = &fresh;
    transfer::load_checkpoint(path, into);
    REQUIRE(fresh.best() == plateau.best());
    REQUIRE(fresh.num_bad_epochs() == plateau.num_bad_epochs());
    REQUIRE(fresh.last_epoch() == plateau.last_epoch());
    REQUIRE(other.optimizer->lr(0) == run.optimizer->lr(0));
}

TEST_CASE("checkpoint: refusals name the file and the problem, and change nothing", "[transfer][checkpoint]") {
    TempDir dir("ckpt");
    const std::string path = dir.file("c.safetensors");
    Run saved(1, true);
    transfer::save_checkpoint(path, saved.objects(), {.step = 3});

    SECTION("missing file") {
        const std::string missing = dir.file("nope.safetensors");
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(missing, saved.objects()),
                            Contains("load_checkpoint") && Contains(missing) && Contains("cannot open"));
    }
    SECTION("a safetensors file that is not a checkpoint") {
        const std::string plain = dir.file("plain.safetensors");
        io::write_safetensors(plain, saved.model->state_dict(), {{"format", "pt"}});
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(plain, saved.objects()),
                            Contains(plain) && Contains("not a Graft checkpoint") && Contains("\"pt\""));
    }
    SECTION("model shapes and keys that differ are listed") {
        Run wider(2, true, 17);
        const auto before = flat_weights(*wider.model);
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(path, wider.objects()),
                            Contains(path) && Contains("mismatched  0.weight: model [17, 8], source [16, 8]") &&
                                Contains("mismatched  3.weight"));
        REQUIRE(flat_weights(*wider.model) == before);

        auto deeper = nn::sequential({std::make_shared<nn::Linear>(8, 16), std::make_shared<nn::ReLU>(),
                                      std::make_shared<nn::Dropout>(0.3), std::make_shared<nn::Linear>(16, 3),
                                      std::make_shared<nn::Linear>(3, 2)});
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(path, {.model = deeper.get()}),
                            Contains("missing     4.weight") && Contains("missing     4.bias"));
        // Not strict: what matches loads, the report says the rest.
        nn::LoadReport report;
        transfer::load_checkpoint(path, {.model = deeper.get()}, false, &report);
        REQUIRE(report.loaded.size() == 4);
        REQUIRE(report.missing == std::vector<std::string>{"4.weight", "4.bias"});
    }
    SECTION("optimizer type mismatch, before anything is loaded") {
        Run sgd(2, false);
        const auto before = flat_weights(*sgd.model);
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(path, sgd.objects()),
                            Contains(path) &&
                                Contains("optimizer type mismatch: the checkpoint holds AdamW state, the given optimizer is SGD"));
        REQUIRE(flat_weights(*sgd.model) == before);
    }
    SECTION("optimizer groups that differ: the optimizer refuses, the model stays as it was") {
        Run other(2, true);
        auto params = other.model->parameters();
        optim::AdamW split({{.params = {params[0], params[1]}, .name = "first"}, {.params = {params[2], params[3]}}},
                           {.lr = 0.01});
        const auto before = flat_weights(*other.model);
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(path, {.model = other.model.get(), .optimizer = &split}),
                            Contains(path) && Contains("the state has 1 parameter groups, the optimizer has 2"));
        REQUIRE(flat_weights(*other.model) == before);
    }
    SECTION("schedule type mismatch") {
        Run other(2, true);
        optim::StepLR step(*other.optimizer, 2);
        auto objects = other.objects();
        objects.scheduler = &step;
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(path, objects),
                            Contains("schedule type mismatch: the checkpoint holds CosineAnnealingLR state"));
    }
    SECTION("a checkpoint without optimizer state, when one is given") {
        const std::string weights_only = dir.file("w.safetensors");
        transfer::save_checkpoint(weights_only, {.model = saved.model.get()});
        Run other(2, true);
        REQUIRE_THROWS_WITH(transfer::load_checkpoint(weights_only, other.objects()),
                            Contains("holds no optimizer state, but an optimizer (AdamW) was given"));
        // The weights alone load.
        transfer::load_checkpoint(weights_only, {.model = other.model.get()});
        REQUIRE(flat_weights(*other.model) == flat_weights(*saved.model));
    }
    SECTION("extra_json must be JSON") {
        REQUIRE_THROWS_WITH(transfer::save_checkpoint(dir.file("x.safetensors"), saved.objects(), {.extra_json = "{oops"}),
                            Contains("extra_json is not valid JSON"));
    }
}

TEST_CASE("checkpoint: a writer killed at any moment leaves the old or the new checkpoint", "[transfer][checkpoint]") {
    // fork() copies only the calling thread: the pool must have no workers, or
    // the child's parallel_for would wait for threads that do not exist.
    const int threads = get_num_threads();
    set_num_threads(1);

    TempDir dir("ckpt");
    const std::string path = dir.file("big.safetensors");
    // About 25 MB: an 8 MB weight plus AdamW's two moments.
    manual_seed(5);
    auto model = nn::sequential({std::make_shared<nn::Linear>(1024, 2048)});
    optim::AdamW adamw(model->parameters(), {.lr = 1e-3});
    for (const auto& p : model->parameters()) p.set_grad(ones_like(p));
    adamw.step();
    auto set_all = [&](float value) {
        NoGradGuard no_grad;
        for (const auto& p : model->parameters()) p.fill_(value);
    };
    const transfer::TrainingObjects objects{.model = model.get(), .optimizer = &adamw};
    set_all(1.0f);
    transfer::save_checkpoint(path, objects, {.step = 1});

    // Delays in ms: from before the first write is done to several saves in.
    const std::vector<int> delays = {1, 7, 23, 61, 130, 270};
    int saw_old = 0, saw_new = 0, left_temp = 0;
    for (size_t round = 0; round < delays.size(); ++round) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // Alternate the new (2) and old (1) states over the same path until killed.
            try {
                for (int i = 0;; ++i) {
                    const int value = i % 2 == 0 ? 2 : 1;
                    set_all(float(value));
                    transfer::save_checkpoint(path, objects, {.step = value});
                }
            } catch (...) {
                ::_exit(3);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delays[round]));
        ::kill(child, SIGKILL);
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        INFO("round " << round << ", delay " << delays[round] << " ms");
        REQUIRE(WIFSIGNALED(status));  // not an early exit from an error in the child
        REQUIRE(WTERMSIG(status) == SIGKILL);
        left_temp += count_temp_files(dir) > 0;

        // Whatever is there is complete and consistent: step and every weight agree.
        auto fresh = nn::sequential({std::make_shared<nn::Linear>(1024, 2048)});
        optim::AdamW fresh_opt(fresh->parameters(), {.lr = 1e-3});
        const auto at = transfer::load_checkpoint(path, {.model = fresh.get(), .optimizer = &fresh_opt});
        REQUIRE((at.step == 1 || at.step == 2));
        (at.step == 1 ? saw_old : saw_new) += 1;
        for (const auto& [name, t] : fresh->state_dict()) {
            const auto v = t.to_vector<float>();
            REQUIRE(std::all_of(v.begin(), v.end(), [&](float x) { return x == float(at.step); }));
        }
        REQUIRE(fresh_opt.state_dict().size() == adamw.state_dict().size());
    }
    // The next save sweeps what the killed writers left behind.
    set_all(1.0f);
    transfer::save_checkpoint(path, objects, {.step = 1});
    REQUIRE(count_temp_files(dir) == 0);
    WARN("kills: " << saw_old << " left the old checkpoint, " << saw_new << " the new one; " << left_temp
                   << " interrupted a write (temporary file left)");
    set_num_threads(threads);
}
