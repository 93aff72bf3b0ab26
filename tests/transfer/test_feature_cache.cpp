// transfer/feature_cache and tensor_hash: XXH64 known answers; the cached
// features equal the trunk's own output; the disk round trip; a changed trunk
// changes the key; damaged files are rebuilt, never used; random augmentation
// is refused; and a head trained on the cache ends bit-identical to the head
// of the whole model trained end to end with the trunk frozen in eval mode.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "graft.h"
#include "io/datasets/tensor_dataset.h"
#include "nn/layers/activation.h"
#include "nn/layers/container.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/optim/sgd.h"
#include "transfer/feature_cache.h"
#include "transfer/tensor_hash.h"

using namespace graft;
using namespace graft::transfer;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

bool bitwise_equal(const Tensor& a, const Tensor& b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() && hash_values(a) == hash_values(b) &&
           a.to_vector<double>() == b.to_vector<double>();
}

// Linear -> BatchNorm1d (non-trivial running statistics) -> ReLU -> Linear:
// train and eval mode give different features, so the tests see which ran.
std::shared_ptr<nn::Sequential> make_trunk(uint64_t seed) {
    manual_seed(seed);
    auto bn = std::make_shared<nn::BatchNorm1d>(16);
    auto trunk = nn::sequential({std::make_shared<nn::Linear>(8, 16), bn, std::make_shared<nn::ReLU>(),
                                 std::make_shared<nn::Linear>(16, 6)});
    bn->tensor("running_mean").copy_(randn({16}) * 0.3);
    bn->tensor("running_var").copy_(rand({16}) + 0.5);
    for (const Tensor& p : trunk->parameters()) p.requires_grad_(false);
    trunk->eval();
    return trunk;
}

std::shared_ptr<io::TensorDataset> make_data(int64_t n, uint64_t seed) {
    Generator gen(seed);
    Tensor x = randn({n, 8}, DType::Float32, &gen);
    std::vector<int64_t> y;
    for (float v : x.select(1, 0).to_vector<float>()) y.push_back(v > 0.3f ? 2 : v > -0.3f ? 1 : 0);
    return std::make_shared<io::TensorDataset>(x, from_vector(y));
}

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("graft_feature_cache_" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
};

FeatureCacheOptions quiet_options(const std::string& dir = "") {
    FeatureCacheOptions o;
    o.dir = dir;
    o.batch_size = 16;
    o.num_workers = 2;
    o.show_progress = false;
    o.dataset_id = "toy";
    return o;
}

// The trunk stays in eval mode whatever fit() asks of the whole model (a test
// stand-in for freeze's BatchNorm policy).
class FrozenTrunkModel : public nn::Module {
public:
    FrozenTrunkModel(std::shared_ptr<nn::Sequential> trunk, std::shared_ptr<nn::Linear> head) : Module("Model") {
        this->trunk = register_module("trunk", std::move(trunk));
        this->head = register_module("head", std::move(head));
    }
    Tensor forward(const Tensor& x) override {
        trunk->eval();
        return (*head)((*trunk)(x));
    }
    std::shared_ptr<nn::Sequential> trunk;
    std::shared_ptr<nn::Linear> head;
};

}  // namespace

TEST_CASE("xxh64 gives the reference implementation's answers", "[transfer][feature_cache]") {
    // From xxhsum -H1 (xxHash 0.8.1): empty, 1 byte, 3 bytes, 39 (stripe + 4 + 3), 36, 51 and 71 bytes.
    CHECK(xxh64("") == 0xef46db3751d8e999ull);
    CHECK(xxh64("a") == 0xd24ec4f1a98c6e5bull);
    CHECK(xxh64("abc") == 0x44bc2cf5ad770999ull);
    CHECK(xxh64("Nobody inspects the spammish repetition") == 0xfbcea83c8a378bf1ull);
    CHECK(xxh64("0123456789abcdef0123456789abcdefWXYZ") == 0x8325aa383df1e17dull);
    CHECK(xxh64("0123456789abcdef0123456789abcdef0123456789abcdefXYZ") == 0x2068b5be32b6d8dcull);
    CHECK(xxh64("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456") == 0x7beb22c5056f27adull);
    CHECK(hash_hex(0xef46db3751d8e999ull) == "ef46db3751d8e999");

    // hash_tensors sees values, shapes and dtypes, not strides.
    Tensor a = arange(0, 12).reshape({3, 4}).to(DType::Float32);
    CHECK(hash_tensors({a}) == hash_tensors({a.t().contiguous().t()}));
    CHECK(hash_tensors({a}) != hash_tensors({a.reshape({4, 3})}));
    CHECK(hash_tensors({a}) != hash_tensors({a.to(DType::Float64)}));
    CHECK(hash_tensors({a, a}) != hash_tensors({a}));
}

TEST_CASE("FeatureCache features equal the trunk run directly, in item order", "[transfer][feature_cache]") {
    auto trunk = make_trunk(1);
    auto data = make_data(50, 2);  // 3 full batches of 16 and a short one
    FeatureCache cache =
        FeatureCache::build([&](const Tensor& x) { return (*trunk)(x); }, trunk->parameters(), *data, quiet_options());
    Tensor direct;
    {
        NoGradGuard no_grad;
        direct = (*trunk)(data->inputs());
    }
    REQUIRE(cache.features().shape() == Shape{50, 6});
    CHECK(bitwise_equal(cache.features(), direct));
    CHECK(bitwise_equal(cache.targets(), data->targets()));
    CHECK(!cache.loaded_from_disk());
    CHECK(cache.seconds() > 0);
    CHECK(cache.key().size() == 16);
    CHECK(cache.path().empty());
    CHECK(!cache.features().requires_grad());

    // The Module form runs in eval mode and gives the mode back.
    trunk->train();
    FeatureCache from_module = FeatureCache::build(*trunk, *data, quiet_options());
    CHECK(trunk->is_training());
    CHECK(bitwise_equal(from_module.features(), direct));
}

TEST_CASE("FeatureCache saves to disk, reloads the same bytes, and a changed trunk changes the key",
          "[transfer][feature_cache]") {
    TempDir dir;
    auto trunk = make_trunk(3);
    auto data = make_data(40, 4);
    const FeatureCacheOptions o = quiet_options(dir.path.string());
    FeatureCache first = FeatureCache::build(*trunk, *data, o);
    CHECK(!first.loaded_from_disk());
    CHECK(first.path() == (dir.path / (first.key() + ".safetensors")).string());
    CHECK(fs::exists(first.path()));

    FeatureCache again = FeatureCache::build(*trunk, *data, o);
    CHECK(again.loaded_from_disk());
    CHECK(again.seconds() == 0);
    CHECK(again.key() == first.key());
    CHECK(again.disk_note().empty());
    CHECK(bitwise_equal(again.features(), first.features()));
    CHECK(bitwise_equal(again.targets(), first.targets()));
    CHECK(!again.stale(*trunk));

    // Another description or dataset id: another key.
    FeatureCacheOptions other = o;
    other.preprocessing = "scaled";
    CHECK(FeatureCache::build(*trunk, *data, other).key() != first.key());
    other = o;
    other.dataset_id = "toy/val";
    CHECK(FeatureCache::build(*trunk, *data, other).key() != first.key());

    // One weight changes (the trunk was trained): stale, a new key, no reuse.
    auto linear = std::dynamic_pointer_cast<nn::Linear>(trunk->submodule("3"));
    {
        NoGradGuard no_grad;
        linear->weight.narrow(0, 0, 1).narrow(1, 0, 1).add_(1e-3);
    }
    CHECK(first.stale(*trunk));
    FeatureCache changed = FeatureCache::build(*trunk, *data, o);
    CHECK(changed.key() != first.key());
    CHECK(!changed.loaded_from_disk());
    CHECK(!bitwise_equal(changed.features(), first.features()));
    // A buffer counts as much as a weight.
    trunk->submodule("1")->tensor("running_var").mul_(2.0);
    CHECK(changed.stale(*trunk));
}

TEST_CASE("FeatureCache never uses a damaged file: it says why and rebuilds it", "[transfer][feature_cache]") {
    TempDir dir;
    auto trunk = make_trunk(5);
    auto data = make_data(24, 6);
    const FeatureCacheOptions o = quiet_options(dir.path.string());
    const FeatureCache good = FeatureCache::build(*trunk, *data, o);
    const std::string path = good.path();
    const auto size = fs::file_size(path);

    auto damage = [&](const std::function<void()>& how, const char* expected) {
        how();
        FeatureCache rebuilt = FeatureCache::build(*trunk, *data, o);
        CHECK(!rebuilt.loaded_from_disk());
        CHECK_THAT(rebuilt.disk_note(), Contains(expected));
        CHECK(bitwise_equal(rebuilt.features(), good.features()));
        FeatureCache reloaded = FeatureCache::build(*trunk, *data, o);  // the rewritten file is good
        CHECK(reloaded.loaded_from_disk());
        CHECK(bitwise_equal(reloaded.features(), good.features()));
    };
    SECTION("a flipped bit in the features") {
        damage(
            [&] {
                std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
                f.seekg(std::streamoff(size) - 7);
                char c = 0;
                f.read(&c, 1);
                c = char(c ^ 0x10);
                f.seekp(std::streamoff(size) - 7);
                f.write(&c, 1);
            },
            "checksum");
    }
    SECTION("a truncated file") {
        damage([&] { fs::resize_file(path, size - 100); }, "was not used");
    }
    SECTION("not a safetensors file at all") {
        damage([&] { std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage"; }, "was not used");
    }
}

TEST_CASE("FeatureCache refuses random augmentation and an undescribed transform", "[transfer][feature_cache]") {
    auto trunk = make_trunk(7);
    auto data = make_data(8, 8);
    const io::SampleTransform noisy = [](Tensor x, Generator& gen) { return x + rand(x.shape(), DType::Float32, &gen); };
    CHECK_THROWS_WITH(FeatureCache::build(*trunk, *data, quiet_options(), noisy),
                      Contains("random (augmentation)") && Contains("item 0"));
    FeatureCacheOptions unchecked = quiet_options();
    unchecked.check_deterministic = false;
    CHECK_NOTHROW(FeatureCache::build(*trunk, *data, unchecked, noisy));

    const io::SampleTransform scale = [](Tensor x, Generator&) { return x * 2.0; };
    TempDir dir;
    CHECK_THROWS_WITH(FeatureCache::build(*trunk, *data, quiet_options(dir.path.string()), scale),
                      Contains("preprocessing is empty"));
    FeatureCacheOptions described = quiet_options(dir.path.string());
    described.preprocessing = "x * 2";
    FeatureCache scaled = FeatureCache::build(*trunk, *data, described, scale);
    NoGradGuard no_grad;
    CHECK(bitwise_equal(scaled.features(), (*trunk)(data->inputs() * 2.0)));

    CHECK_THROWS_WITH(FeatureCache::build([](const Tensor& x) { return x.sum({1}).unsqueeze(0); }, {}, *data,
                                          quiet_options()),
                      Contains("[batch, ...]"));
    CHECK_THROWS_WITH(FeatureCache::build(*trunk, io::TensorDataset(zeros({0, 8}), zeros({0}, DType::Int64)),
                                          quiet_options()),
                      Contains("empty"));
}

TEST_CASE("A head trained on cached features equals the end-to-end head with a frozen eval-mode trunk",
          "[transfer][feature_cache]") {
    auto data = make_data(70, 9);
    const int64_t batch = 8;
    const uint64_t seed = 5;
    FitOptions fo;
    fo.epochs = 3;
    fo.num_classes = 3;
    fo.show_progress = false;

    // End to end: the whole model, batches from a shuffling DataLoader over the raw inputs.
    auto trunk = make_trunk(10);
    manual_seed(11);
    auto head_a = std::make_shared<nn::Linear>(6, 3);
    FrozenTrunkModel model(trunk, head_a);
    optim::SGD sgd_a(model.parameters(), {.lr = 0.2, .momentum = 0.9});
    io::DataLoader loader(data, {.batch_size = batch, .shuffle = true, .seed = seed, .num_workers = 2});
    const BatchSource end_to_end = [&](int64_t epoch, const BatchVisitor& visit) {
        loader.set_epoch(epoch - 1);
        for (const io::Batch& b : loader) visit(b.inputs, b.targets);
    };
    fit(model, sgd_a, end_to_end, {}, fo);

    // On the cache: only the head, on cache.batches with the same seed.
    FeatureCache cache = FeatureCache::build(*trunk, *data, quiet_options());
    manual_seed(11);
    auto head_b = std::make_shared<nn::Linear>(6, 3);
    optim::SGD sgd_b(head_b->parameters(), {.lr = 0.2, .momentum = 0.9});
    FitResult r = fit(*head_b, sgd_b, cache.batches(batch, true, seed), {}, fo);

    CHECK(r.epochs.back().train_loss < r.epochs.front().train_loss);
    CHECK(bitwise_equal(head_b->weight, head_a->weight));
    CHECK(bitwise_equal(head_b->bias, head_a->bias));

    // Unshuffled batches come in item order; the last one is short.
    std::vector<int64_t> sizes;
    cache.batches(32, false, 0)(1, [&](const Tensor& x, const Tensor&) { sizes.push_back(x.size(0)); });
    CHECK(sizes == std::vector<int64_t>{32, 32, 6});
}

TEST_CASE("FeatureCache with augmented copies: K random views, exact for the first K epochs",
          "[transfer][feature_cache]") {
    auto data = make_data(40, 12);
    const io::SampleTransform noisy = [](Tensor x, Generator& gen) {
        return x + randn(x.shape(), DType::Float32, &gen) * 0.5;
    };
    const int64_t batch = 8, views = 3;
    const uint64_t seed = 13;
    FitOptions fo;
    fo.epochs = views;
    fo.num_classes = 3;
    fo.show_progress = false;

    // End to end with a fresh random view of every item each epoch.
    auto trunk = make_trunk(14);
    manual_seed(15);
    auto head_a = std::make_shared<nn::Linear>(6, 3);
    FrozenTrunkModel model(trunk, head_a);
    optim::SGD sgd_a(model.parameters(), {.lr = 0.1, .momentum = 0.9});
    io::DataLoader loader(io::with_transform(data, noisy), {.batch_size = batch, .shuffle = true, .seed = seed});
    const BatchSource end_to_end = [&](int64_t epoch, const BatchVisitor& visit) {
        loader.set_epoch(epoch - 1);
        for (const io::Batch& b : loader) visit(b.inputs, b.targets);
    };
    fit(model, sgd_a, end_to_end, {}, fo);

    TempDir dir;
    FeatureCacheOptions o = quiet_options(dir.path.string());
    o.preprocessing = "x + N(0, 0.25)";
    o.augmented_copies = views;
    o.augment_seed = seed;
    FeatureCache cache = FeatureCache::build(*trunk, *data, o, noisy);
    REQUIRE(cache.features().shape() == Shape{views * 40, 6});
    CHECK(cache.views() == views);
    CHECK(cache.size() == 40);
    {
        // View 1 of item 5 is the trunk on the loader's pass-1 draw for item 5.
        Generator gen = io::item_generator(seed, 1, 5);
        NoGradGuard no_grad;
        const Tensor expected = (*trunk)(noisy(data->inputs().narrow(0, 5, 1).squeeze(0), gen).unsqueeze(0));
        CHECK(bitwise_equal(cache.features().narrow(0, 40 + 5, 1), expected));
    }
    manual_seed(15);
    auto head_b = std::make_shared<nn::Linear>(6, 3);
    optim::SGD sgd_b(head_b->parameters(), {.lr = 0.1, .momentum = 0.9});
    fit(*head_b, sgd_b, cache.batches(batch, true, seed), {}, fo);
    CHECK(bitwise_equal(head_b->weight, head_a->weight));
    CHECK(bitwise_equal(head_b->bias, head_a->bias));

    // Reloaded with its views; epoch 4 comes back to view 0; another K is another key.
    FeatureCache again = FeatureCache::build(*trunk, *data, o, noisy);
    CHECK(again.loaded_from_disk());
    CHECK(again.views() == views);
    std::vector<Tensor> first_rows;
    const BatchSource in_order = again.batches(40, false, 0);
    for (int64_t epoch : {1, 2, 4}) in_order(epoch, [&](const Tensor& x, const Tensor&) { first_rows.push_back(x); });
    CHECK(bitwise_equal(first_rows[2], first_rows[0]));
    CHECK(!bitwise_equal(first_rows[1], first_rows[0]));
    o.augmented_copies = 2;
    CHECK(FeatureCache::build(*trunk, *data, o, noisy).key() != cache.key());
}
