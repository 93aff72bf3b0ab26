// transfer::Finetuner on a small CNN and random data: what each phase trains,
// that caching the fixed trunk changes nothing but the time, the recipe in the
// saved file, the baseline and its comparison, and the errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"
#include "io/datasets/tensor_dataset.h"
#include "io/formats/read_weights.h"
#include "nn/models/small_cnn.h"
#include "tests/support/temp_dir.h"
#include "transfer/finetune/finetuner.h"

using namespace graft;

namespace {

std::shared_ptr<nn::models::SmallCnn> tiny_cnn(uint64_t seed) {
    static Generator gens[4];  // must outlive the models (SmallCnnOptions::gen)
    Generator& gen = gens[seed % 4];
    gen.manual_seed(seed);
    return nn::models::small_cnn({.in_channels = 1, .num_classes = 3, .image_size = 8, .dropout = 0, .gen = &gen});
}

io::DatasetPtr random_images(int64_t n, uint64_t seed) {
    Generator gen(seed);
    Tensor labels = empty({n}, DType::Int64);
    for (int64_t i = 0; i < n; ++i) labels.data<int64_t>()[i] = i % 3;
    return std::make_shared<io::TensorDataset>(randn({n, 1, 8, 8}, DType::Float32, &gen), labels,
                                               std::vector<std::string>{"a", "b", "c"});
}

transfer::FinetuneOptions recipe(bool cache) {
    transfer::FinetuneOptions o;
    o.phases = {{.name = "probe", .epochs = 2, .trainable = {"fc2"}, .lr = 1e-2},
                {.name = "top", .epochs = 1, .trainable = {"fc1", "fc2"}, .lr = 1e-2, .lr_lo = 1e-3}};
    o.num_classes = 3;
    o.class_names = {"a", "b", "c"};
    o.model_name = "small_cnn";
    o.batch_size = 8;
    o.eval_batch_size = 5;  // other batches than training: the trunk's output must not care
    o.num_workers = 0;
    o.cache_features = cache;
    o.show_progress = false;
    o.verbose = false;
    o.seed = 3;
    return o;
}

float max_diff(const Tensor& a, const Tensor& b) { return max(abs(a - b)).item<float>(); }

}  // namespace

TEST_CASE("Finetuner: caching the fixed trunk trains the same weights as running it every step", "[finetuner]") {
    auto train = random_images(24, 1), eval = random_images(10, 2);
    auto cached_model = tiny_cnn(7), plain_model = tiny_cnn(7);
    transfer::Finetuner cached(cached_model, recipe(true));
    transfer::Finetuner plain(plain_model, recipe(false));
    auto rc = cached.run(train, eval);
    auto rp = plain.run(train, eval);

    CHECK(rc.cache_stage == "conv2");  // conv1 and conv2 are frozen in both phases
    CHECK(rp.cache_stage.empty());
    CHECK(rc.cache_speedup > 1);
    REQUIRE(rc.phases.size() == 2);
    CHECK(rc.phases[0].epochs.size() == 2);
    CHECK(rc.phases[1].epochs.size() == 1);
    const auto a = cached_model->state_dict(), b = plain_model->state_dict();
    REQUIRE(a.size() == b.size());
    for (const auto& [name, t] : a) {
        INFO(name);
        CHECK(max_diff(t.to(DType::Float32), b.at(name).to(DType::Float32)) == 0);
    }
    CHECK(rc.val_acc == rp.val_acc);
}

TEST_CASE("Finetuner: each phase trains its stages only; the trunk and its BatchNorm stay as loaded", "[finetuner]") {
    auto model = tiny_cnn(11);
    const auto before = model->state_dict();
    NamedTensors copy;
    for (const auto& [n, t] : before) copy.set(n, t.clone());
    transfer::Finetuner tuner(model, recipe(false));
    tuner.run(random_images(24, 1), random_images(6, 2));
    for (const auto& [name, t] : model->state_dict()) {
        INFO(name);
        const bool conv_part = name.rfind("0.", 0) == 0 || name.rfind("1.", 0) == 0 || name.rfind("4.", 0) == 0 ||
                               name.rfind("5.", 0) == 0;
        if (conv_part) CHECK(max_diff(t.to(DType::Float32), copy.at(name).to(DType::Float32)) == 0);  // incl. running stats
    }
    // After the last phase, what trains is exactly fc1 and fc2.
    for (const auto& [name, t] : model->named_parameters()) {
        INFO(name);
        const bool top = name.rfind("9.", 0) == 0 || name.rfind("11.", 0) == 0;
        CHECK(t.requires_grad() == top);
    }
}

TEST_CASE("Finetuner: the saved file carries the recipe that predict needs", "[finetuner]") {
    testing::TempDir dir("finetuner");
    auto o = recipe(true);
    o.out_path = dir.file("tuned.safetensors");
    o.preprocessing.resize = o.preprocessing.crop = 8;
    o.preprocessing_text = "fashion-mnist grey->rgb resize 8";
    transfer::Finetuner tuner(tiny_cnn(5), o);
    tuner.run(random_images(12, 1), random_images(6, 2));
    const NamedTensors saved = io::read_weights(o.out_path);
    CHECK(saved.contains("9.weight"));
    const auto r = transfer::read_recipe(saved.metadata);
    CHECK(r.model_name == "small_cnn");
    CHECK(r.num_classes == 3);
    CHECK(r.class_names == std::vector<std::string>{"a", "b", "c"});
    CHECK(r.preprocessing.crop == 8);
    CHECK(r.resize_direct);
    CHECK(r.json.find("\"probe\"") != std::string::npos);
    CHECK(transfer::read_recipe({}).model_name.empty());
    CHECK_THROWS_WITH(transfer::read_recipe({{"graft.recipe", "{\"model\": 3}"}}),
                      Catch::Contains("not a valid recipe"));
}

TEST_CASE("Finetuner: bad recipes are refused with the names that exist", "[finetuner]") {
    auto o = recipe(true);
    o.phases[1].trainable = {"fc3"};
    CHECK_THROWS_WITH(transfer::Finetuner(tiny_cnn(1), o), Catch::Contains("fc3") && Catch::Contains("conv1"));
    o = recipe(true);
    o.phases.clear();
    CHECK_THROWS_WITH(transfer::Finetuner(tiny_cnn(1), o), Catch::Contains("no phases"));
    o = recipe(true);
    o.num_classes = 0;
    CHECK_THROWS_WITH(transfer::Finetuner(tiny_cnn(1), o), Catch::Contains("num_classes"));
    o = recipe(true);
    o.phases[0].schedule = "sometimes";
    transfer::Finetuner tuner(tiny_cnn(1), o);
    CHECK_THROWS_WITH(tuner.run(random_images(6, 1), random_images(3, 2)), Catch::Contains("sometimes"));
}

TEST_CASE("Finetuner::find_lr sweeps one phase and leaves the model as it was", "[finetuner]") {
    auto model = tiny_cnn(9);
    NamedTensors before;
    for (const auto& [n, t] : model->state_dict()) before.set(n, t.clone());
    transfer::Finetuner tuner(model, recipe(true));
    transfer::LrFinderOptions lo;
    lo.num_steps = 12;
    auto r = tuner.find_lr(random_images(48, 1), 0, lo);
    CHECK(r.lrs.size() >= 2);
    CHECK(r.lrs.size() <= 12);
    for (const auto& [name, t] : model->state_dict()) {
        INFO(name);
        CHECK(max_diff(t.to(DType::Float32), before.at(name).to(DType::Float32)) == 0);
    }
}

TEST_CASE("train_baseline stops at its budget; the comparison warns of negative transfer", "[finetuner]") {
    auto model = tiny_cnn(2);
    auto b = transfer::train_baseline(*model, random_images(16, 1), random_images(6, 2),
                                      {.budget_seconds = 0, .batch_size = 4, .num_workers = 0, .num_classes = 3,
                                       .show_progress = false});
    CHECK(b.steps == 1);  // a zero budget still takes the first step, then stops
    CHECK(b.epochs_completed == 0);
    CHECK(b.val_acc >= 0);
    CHECK(b.val_acc <= 1);

    transfer::FinetuneResult p;
    p.val_acc = 0.40;
    b.val_acc = 0.55;
    CHECK_THAT(transfer::compare_to_baseline(p, b), Catch::Contains("negative transfer"));
    p.val_acc = 0.80;
    const std::string good = transfer::compare_to_baseline(p, b);
    CHECK_THAT(good, Catch::Contains("+25.00 points"));
    CHECK(good.find("WARNING") == std::string::npos);
}

TEST_CASE("Finetuner: early stopping ends a phase that stops improving and keeps its best weights", "[finetuner]") {
    auto o = recipe(true);
    o.phases = {{.name = "probe", .epochs = 6, .trainable = {"fc2"}, .lr = 0.0, .weight_decay = 0}};
    o.early_stopping_patience = 1;
    transfer::Finetuner tuner(tiny_cnn(4), o);
    auto r = tuner.run(random_images(12, 1), random_images(6, 2));
    REQUIRE(r.phases.size() == 1);
    CHECK(r.phases[0].epochs.size() == 2);  // lr 0: epoch 2 is no better than epoch 1, patience 1
    CHECK(r.phases[0].best_epoch == 1);
}

TEST_CASE("Finetuner: eval_every 0 evaluates once per phase, at its end", "[finetuner]") {
    auto o = recipe(true);
    o.eval_every = 0;
    transfer::Finetuner tuner(tiny_cnn(6), o);
    auto r = tuner.run(random_images(12, 1), random_images(6, 2));
    REQUIRE(r.phases[0].epochs.size() == 2);
    CHECK(std::isnan(r.phases[0].epochs[0].val_acc));
    CHECK_FALSE(std::isnan(r.phases[0].epochs[1].val_acc));
    CHECK(r.val_acc == r.phases[1].epochs.back().val_acc);
    o.early_stopping_patience = 2;
    CHECK_THROWS_WITH(transfer::Finetuner(tiny_cnn(6), o), Catch::Contains("eval_every 1"));
}

TEST_CASE("Finetuner: resume continues from the phase checkpoints and refuses another recipe's", "[finetuner]") {
    testing::TempDir dir("finetuner_resume");
    auto o = recipe(true);
    o.checkpoint_dir = dir.file("ckpt");
    auto first_model = tiny_cnn(8);
    transfer::Finetuner first(first_model, o);
    auto r1 = first.run(random_images(12, 1), random_images(6, 2));

    // The whole run is in the checkpoints: resuming runs no epoch and ends with the same weights.
    o.resume = true;
    auto again_model = tiny_cnn(8);
    transfer::Finetuner again(again_model, o);
    auto r2 = again.run(random_images(12, 1), random_images(6, 2));
    CHECK(r2.phases[0].epochs.empty());
    CHECK(r2.phases[1].epochs.empty());
    for (const auto& [name, t] : first_model->state_dict()) {
        INFO(name);
        CHECK(max_diff(t.to(DType::Float32), again_model->state_dict().at(name).to(DType::Float32)) == 0);
    }

    o.phases[1].lr = 5e-2;
    transfer::Finetuner other(tiny_cnn(8), o);
    CHECK_THROWS_WITH(other.run(random_images(12, 1), random_images(6, 2)),
                      Catch::Contains("another recipe") && Catch::Contains("phases"));
}

TEST_CASE("Finetuner with LoRA: adapters train instead of the top stage's weights, and the file is a plain merged model",
          "[finetuner]") {
    testing::TempDir dir("finetuner_lora");
    auto o = recipe(true);
    o.lora_rank = 2;
    o.out_path = dir.file("lora.safetensors");
    auto model = tiny_cnn(12);
    const Tensor fc1_before = model->submodule("9")->tensor("weight").clone();
    transfer::Finetuner tuner(model, o);
    auto r = tuner.run(random_images(12, 1), random_images(6, 2));
    CHECK(r.val_acc >= 0);
    // The base weight of fc1 stayed frozen; the saved file folds the adapter into it.
    CHECK(max_diff(model->submodule("9.base_layer")->tensor("weight"), fc1_before) > 0);  // merged at save
    auto plain = tiny_cnn(0);
    const NamedTensors saved = io::read_weights(o.out_path);
    CHECK_FALSE(saved.contains("9.lora_A.weight"));
    plain->load_state_dict(saved);  // strict: plain names only
    {
        NoGradGuard no_grad;
        model->eval();
        plain->eval();
        Tensor x = randn({3, 1, 8, 8});
        CHECK(max_diff((*model)(x), (*plain)(x)) < 1e-5);
    }
}
