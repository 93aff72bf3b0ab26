// FeatureCache (feature_cache.h): the key, the file's checks, the extraction
// loop and the batch source.
#include "transfer/feature_cache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/creation.h"
#include "core/ops/join.h"
#include "io/datasets/tensor_dataset.h"
#include "io/formats/atomic_file.h"
#include "io/formats/safetensors.h"
#include "nn/module.h"
#include "transfer/tensor_hash.h"

namespace graft::transfer {
namespace {

double seconds_now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::vector<Tensor> state_tensors(const nn::Module& module) {
    std::vector<Tensor> out;
    for (const auto& [name, t] : module.state_dict()) out.push_back(t);
    return out;
}

// Restores a module's train/eval mode on scope exit (also on error).
struct ModeGuard {
    nn::Module& module;
    bool was_training;
    ~ModeGuard() { module.train(was_training); }
};

// Everything but the trunk that goes into the key (see the header).
uint64_t data_hash(const io::Dataset& data, const FeatureCacheOptions& o, uint64_t seed) {
    uint64_t h = xxh64(kFeatureCacheFormat, seed);
    h = xxh64("preprocessing=" + o.preprocessing, h);
    h = xxh64("dataset_id=" + o.dataset_id, h);
    if (o.augmented_copies > 0)
        h = xxh64(cat_str("augmented_copies=", o.augmented_copies, ",augment_seed=", o.augment_seed), h);
    h = xxh64("size=" + std::to_string(data.size()), h);
    for (const std::string& name : data.class_names()) h = xxh64("class=" + name, h);
    for (int64_t i = 0; i < data.size(); ++i) h = xxh64("source=" + data.source(i), h);
    return h;
}

// Random augmentation makes two loads of an item with different generators
// differ (a flip may agree by chance, so a few items are tried).
void check_deterministic(const io::Dataset& data, const io::SampleTransform& transform) {
    const int64_t tries = std::min<int64_t>(data.size(), 4);
    for (int64_t i = 0; i < tries; ++i) {
        Generator a(0x5eed0001ull + uint64_t(i)), b(0x5eed1002ull + uint64_t(i) * 7919);
        Tensor x = data.get(i, a).input, y = data.get(i, b).input;
        if (transform) {
            x = transform(x, a);
            y = transform(y, b);
        }
        const bool same = x.dtype() == y.dtype() && x.shape() == y.shape() && hash_values(x) == hash_values(y);
        check(same, "FeatureCache::build", "item ", i, " (", data.source(i),
              ") comes out differently from two loads with different random generators: the input pipeline is "
              "random (augmentation). Cached features would freeze one random view per item; build the cache "
              "with the deterministic (evaluation) transforms, or train end to end to keep augmentation "
              "(FeatureCacheOptions::check_deterministic = false skips this check)");
    }
}

// The file's tensors if it holds what `key` promises; else nullopt and `why`.
std::optional<std::pair<Tensor, Tensor>> read_cache_file(const std::string& path, const std::string& key, int64_t items,
                                                         int64_t views, std::string& why) {
    NamedTensors file;
    try {
        file = io::read_safetensors(path);
    } catch (const Error& e) {
        why = e.what();
        return std::nullopt;
    }
    auto meta = [&](const std::string& k) {
        auto it = file.metadata.find(k);
        return it == file.metadata.end() ? std::string("(none)") : it->second;
    };
    const Tensor* features = file.find("features");
    const Tensor* targets = file.find("targets");
    if (meta("format") != kFeatureCacheFormat) why = "format is " + meta("format") + ", expected " + kFeatureCacheFormat;
    else if (meta("key") != key) why = "its key is " + meta("key") + ", the file name says " + key;
    else if (!features || !targets || file.size() != 2) why = "expected exactly the tensors 'features' and 'targets'";
    else if (features->dtype() != DType::Float32 || features->dim() < 1 || features->size(0) != views * items)
        why = cat_str("features are ", describe(*features), ", expected float32 [", views * items, ", ...]");
    else if (targets->dim() < 1 || targets->size(0) != items)
        why = cat_str("targets are ", describe(*targets), ", expected [", items, ", ...]");
    else if (meta("features_xxh64") != hash_hex(hash_values(*features)) ||
             meta("targets_xxh64") != hash_hex(hash_values(*targets)))
        why = "the checksum of its features or targets does not match (the file was damaged)";
    if (!why.empty()) return std::nullopt;
    return std::make_pair(*features, *targets);
}

bool same_item_shape(const Tensor& a, const Tensor& b) {
    return a.dim() == b.dim() && std::equal(a.shape().begin() + 1, a.shape().end(), b.shape().begin() + 1);
}

struct Extracted {
    Tensor features, targets;
};

Extracted extract(const Trunk& trunk, const io::Dataset& data, const FeatureCacheOptions& o,
                  const io::SampleTransform& transform) {
    // The loader wants shared ownership; `data` outlives this call, so a
    // non-owning pointer is enough.
    io::DatasetPtr ds(&data, [](const io::Dataset*) {});
    if (transform) ds = io::with_transform(ds, transform);
    io::DataLoader loader(ds, {.batch_size = o.batch_size,
                               .shuffle = false,
                               .seed = o.augment_seed,
                               .num_workers = int(o.num_workers),
                               .collate = o.collate});
    const int64_t n = data.size(), views = std::max<int64_t>(1, o.augmented_copies);
    NoGradGuard no_grad;
    Tensor features;
    std::vector<Tensor> targets;
    int64_t filled = 0, next_report = std::max<int64_t>(1, n * views / 10);
    const double started = seconds_now();
    for (int64_t view = 0; view < views; ++view) {
        loader.set_epoch(view);  // view k is the loader's pass k: its per-item generators
        for (const io::Batch& batch : loader) {
            const int64_t rows = int64_t(batch.indices.size());
            Tensor out = trunk(batch.inputs);
            check(out.defined() && out.dim() >= 1 && out.size(0) == rows, "FeatureCache::build",
                  "the trunk must return [batch, ...] features; for a batch of ", rows, " items (from ",
                  data.source(batch.indices.front()), ") it returned ",
                  out.defined() ? std::string(describe(out)) : "nothing");
            check(is_floating(out.dtype()), "FeatureCache::build", "the trunk returned ", describe(out),
                  ", expected floating-point features");
            check(batch.targets.defined() && batch.targets.dim() >= 1 && batch.targets.size(0) == rows,
                  "FeatureCache::build", "the batch from ", data.source(batch.indices.front()),
                  " has no [batch, ...] targets (a collate that leaves them out?)");
            out = out.detach().to(Device::cpu()).to(DType::Float32);
            if (!features.defined()) {
                Shape shape = out.shape();
                shape[0] = n * views;
                features = Tensor::empty(shape, DType::Float32);
            }
            check(same_item_shape(out, features), "FeatureCache::build", "the trunk's features changed shape: ",
                  describe(out), " after ", describe(features.narrow(0, 0, 1)), " per item (from ",
                  data.source(batch.indices.front()), ")");
            features.narrow(0, filled, rows).copy_(out);
            if (view == 0) targets.push_back(batch.targets);
            filled += rows;
            if (o.show_progress && (filled >= next_report || filled == n * views)) {
                std::printf("FeatureCache: %lld/%lld items, %.0f items/s\n", (long long)filled, (long long)(n * views),
                            double(filled) / std::max(1e-9, seconds_now() - started));
                std::fflush(stdout);
                next_report = filled + std::max<int64_t>(1, n * views / 10);
            }
        }
    }
    check(filled == n * views, "FeatureCache::build", "the loader gave ", filled, " items of ", n * views);
    return {features, cat(targets, 0)};
}

}  // namespace

FeatureCache FeatureCache::build(const Trunk& trunk, const std::vector<Tensor>& trunk_params, const io::Dataset& data,
                                 const FeatureCacheOptions& o, const io::SampleTransform& transform) {
    check(bool(trunk), "FeatureCache::build", "the trunk is empty");
    check(o.batch_size >= 1, "FeatureCache::build", "batch_size must be >= 1, got ", o.batch_size);
    check(o.num_workers >= 0, "FeatureCache::build", "num_workers must be >= 0, got ", o.num_workers);
    check(data.size() > 0, "FeatureCache::build", "the dataset is empty");
    check(o.dir.empty() || !transform || !o.preprocessing.empty(), "FeatureCache::build",
          "a transform is given but options.preprocessing is empty: the key cannot see what a transform does, so "
          "describe it there (else a changed transform would reuse features saved for the old one)");

    check(o.augmented_copies >= 0, "FeatureCache::build", "augmented_copies must be >= 0, got ", o.augmented_copies);
    const int64_t views = std::max<int64_t>(1, o.augmented_copies);

    FeatureCache cache;
    cache.trunk_hash_ = hash_tensors(trunk_params);
    cache.key_ = hash_hex(data_hash(data, o, cache.trunk_hash_));
    if (!o.dir.empty()) cache.path_ = (std::filesystem::path(o.dir) / (cache.key_ + ".safetensors")).string();

    if (!cache.path_.empty() && std::filesystem::exists(cache.path_)) {
        std::string why;
        if (auto found = read_cache_file(cache.path_, cache.key_, data.size(), views, why)) {
            cache.features_ = found->first;
            cache.targets_ = found->second;
            cache.loaded_ = true;
            if (o.show_progress)
                std::printf("FeatureCache: loaded %s features from %s\n", std::string(describe(cache.features_)).c_str(),
                            cache.path_.c_str());
            return cache;
        }
        cache.disk_note_ = cat_str(cache.path_, " was not used: ", why);
        if (o.show_progress) std::printf("FeatureCache: %s; recomputing\n", cache.disk_note_.c_str());
    }

    if (o.check_deterministic && o.augmented_copies == 0) check_deterministic(data, transform);
    if (o.show_progress)
        std::printf("FeatureCache: computing features of %lld items (key %s)\n", (long long)data.size(),
                    cache.key_.c_str());
    const double started = seconds_now();
    Extracted got = extract(trunk, data, o, transform);
    cache.seconds_ = seconds_now() - started;
    cache.features_ = got.features;
    cache.targets_ = got.targets;

    if (!cache.path_.empty()) {
        std::filesystem::create_directories(o.dir);
        NamedTensors out;
        out.set("features", cache.features_);
        out.set("targets", cache.targets_);
        const std::map<std::string, std::string> meta{
            {"format", kFeatureCacheFormat},
            {"key", cache.key_},
            {"trunk_xxh64", hash_hex(cache.trunk_hash_)},
            {"preprocessing", o.preprocessing},
            {"dataset_id", o.dataset_id},
            {"items", std::to_string(data.size())},
            {"views", std::to_string(views)},
            {"features_xxh64", hash_hex(hash_values(cache.features_))},
            {"targets_xxh64", hash_hex(hash_values(cache.targets_))},
        };
        io::write_safetensors(cache.path_, out, meta);
        io::remove_stale_temp_files(cache.path_);
    }
    if (o.show_progress)
        std::printf("FeatureCache: %s features in %.2f s%s%s\n", std::string(describe(cache.features_)).c_str(),
                    cache.seconds_, cache.path_.empty() ? "" : ", saved to ", cache.path_.c_str());
    return cache;
}

FeatureCache FeatureCache::build(nn::Module& trunk, const io::Dataset& data, const FeatureCacheOptions& options,
                                 const io::SampleTransform& transform) {
    ModeGuard mode{trunk, trunk.is_training()};
    trunk.eval();
    return build([&trunk](const Tensor& x) { return trunk(x); }, state_tensors(trunk), data, options, transform);
}

bool FeatureCache::stale(const std::vector<Tensor>& trunk_params) const {
    return hash_tensors(trunk_params) != trunk_hash_;
}

bool FeatureCache::stale(const nn::Module& trunk) const { return stale(state_tensors(trunk)); }

BatchSource FeatureCache::batches(int64_t batch_size, bool shuffle, uint64_t seed) const {
    check(batch_size >= 1, "FeatureCache::batches", "batch_size must be >= 1, got ", batch_size);
    check(features_.defined(), "FeatureCache::batches", "the cache is empty");
    const Tensor features = features_, targets = targets_;
    const int64_t n = targets.size(0), views = features.size(0) / n;
    // The DataLoader's own order, so shuffled runs match a loader over the raw data.
    auto order = std::make_shared<io::DataLoader>(
        std::make_shared<io::TensorDataset>(Tensor::empty({n, 0}), targets),
        io::DataLoaderOptions{.batch_size = batch_size, .shuffle = true, .seed = seed});
    return [=](int64_t epoch, const BatchVisitor& visit) {
        const int64_t view = ((epoch - 1) % views + views) % views;
        const Tensor rows = features.narrow(0, view * n, n);
        if (!shuffle) {
            for (int64_t start = 0; start < n; start += batch_size) {
                const int64_t len = std::min(batch_size, n - start);
                visit(rows.narrow(0, start, len), targets.narrow(0, start, len));
            }
            return;
        }
        const std::vector<int64_t> items = order->order(epoch - 1);
        for (int64_t start = 0; start < n; start += batch_size) {
            const int64_t len = std::min(batch_size, n - start);
            const Tensor index = from_vector(std::vector<int64_t>(items.begin() + start, items.begin() + start + len));
            visit(rows.index_select(0, index), targets.index_select(0, index));
        }
    };
}

}  // namespace graft::transfer
