// FeatureCache: run a frozen trunk once over a dataset and train the head on
// the stored features instead of pushing every image through the trunk every
// epoch. With the trunk frozen and in eval mode its output for an item never
// changes, so this is exact, not an approximation: a head trained on
// cache.batches() ends with the same weights, to the last bit, as the head of
// the whole model trained end to end on the same batches (a test checks it).
// That rests on the trunk computing each item independently of the others in
// its batch, as Graft's CPU ops do in eval mode (the cache runs batches of
// options.batch_size, the end-to-end run its own batches).
//
//   auto trunk = ...;                               // e.g. a ResNet up to its pooling
//   transfer::FeatureCacheOptions o;
//   o.dir = "runs/cache";                           // reuse across runs; "" keeps it in memory
//   o.preprocessing = "resize 256, center crop 224, imagenet normalize";
//   o.dataset_id = "flowers/train";
//   auto cache = transfer::FeatureCache::build(*trunk, *train_data, o, eval_transform);
//   transfer::fit(*head, adamw, cache.batches(64, true, 7), val_cache.batches(256, false, 0), fit_options);
//   ...
//   if (cache.stale(*trunk)) ...                    // the trunk was unfrozen and trained: rebuild
//
// The key. Files are <dir>/<key>.safetensors, the key being 16 hex digits of a
// hash (transfer/tensor_hash.h) of:
//   - the trunk's tensors (trunk_params; the Module form takes its state_dict(),
//     parameters AND buffers, since BatchNorm's running statistics change the
//     features as much as its weights do): dtype, shape and every byte;
//   - options.preprocessing and options.dataset_id, verbatim;
//   - the dataset: its size, class names and every item's source() (file names
//     for ImageFolder; only "item <i>" for in-memory datasets, hence dataset_id).
// What the key cannot see: the trunk's code (architecture, the layer it is cut
// at, when two cuts share parameter tensors) and what the transform does. Put
// both into `preprocessing`; with a `dir` and a transform, an empty
// preprocessing is refused for that reason.
//
// Invalidation: stale(params) says whether the trunk's tensors still hash to
// the key's trunk part; build() with changed tensors computes a new key, so an
// old file is never read for a new trunk (old files are left for the caller to
// delete). A file that does not hold what its key promises (wrong format,
// item count or shapes, or a checksum of features and targets that does not
// match: bit rot, truncation, a stray write) is never used: build() says why
// (disk_note()) and recomputes and rewrites it. Writes are atomic (AtomicFile).
//
// Augmentation. By default the cache stores one feature vector per item: the
// features of the deterministic pipeline (the evaluation transforms). Random
// augmentation cannot be cached exactly, since each epoch should see a fresh
// random view; caching one random draw would show the head the same fixed view
// every epoch, which is worse than no augmentation. So build() takes
// deterministic transforms only, and checks it: the first few items are
// loaded twice with different random generators and must come out identical,
// else build() throws, naming the item (options.check_deterministic).
// The middle way is options.augmented_copies = K: K random views per item,
// view k drawn as a DataLoader {.seed = augment_seed} draws its pass k, and
// epoch e of batches() trains on view (e - 1) mod K. For the first K epochs
// that is exactly end-to-end training on a loader {.shuffle = true, .seed = S}
// with the same random transform, when augment_seed and batches()' seed are
// both S (a test checks it); later epochs repeat the views, a finite sample of
// the augmentations, for K times the extraction cost and memory. Train end to
// end when fresh views every epoch matter.
//
// Features are float32 [N, ...] in dataset order (the trunk's output shape per
// item), or [K * N, ...] with K augmented copies (view k in rows k*N .. k*N+N-1);
// targets are what the loader stacked ([N] int64 for class ids).
// Threads: a DataLoader with options.num_workers threads decodes and
// transforms; the trunk runs on the caller's thread under NoGradGuard, its ops
// using the compute pool.
//
// Leaves out: features larger than
// memory (the file is memory-mapped when loaded, but building holds the whole
// [N, ...] tensor), eviction of old files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/datasets/dataset.h"
#include "io/loader/data_loader.h"
#include "transfer/training/fit.h"

namespace graft::nn {
class Module;
}

namespace graft::transfer {

struct FeatureCacheOptions {
    // Empty: memory only. Else features are saved as <dir>/<key>.safetensors
    // (atomically; the folder is created) and reused when the key matches.
    std::string dir;
    int64_t batch_size = 64;
    int64_t num_workers = 1;  // DataLoader worker threads for decoding/transforms (0: on the caller's thread)
    // A description of everything between the files and the features that is
    // not a trunk tensor: transforms (resize, crop, normalisation), the model
    // and the layer the trunk stops at. It goes into the key verbatim.
    std::string preprocessing;
    // Names the data ("flowers/train"); goes into the key. Needed for in-memory
    // datasets, whose sources ("item 3") do not tell two datasets apart.
    std::string dataset_id;
    bool show_progress = true;  // progress lines on stdout
    // Load the first few items twice with different generators and refuse a
    // pipeline whose output differs (random augmentation; see above).
    bool check_deterministic = true;
    // K > 0: cache K random views per item (the transform may be random; see
    // above) drawn with augment_seed. Both go into the key.
    int64_t augmented_copies = 0;
    uint64_t augment_seed = 0;
    io::Collate collate = {};  // empty: stack inputs and targets (the DataLoader's default)
};

// A trunk: input batch -> features batch. build() runs it under NoGradGuard;
// the Trunk form leaves the model's mode to the caller (put it in eval mode),
// the Module form sets eval mode itself and restores the mode afterwards.
using Trunk = std::function<Tensor(const Tensor&)>;

class FeatureCache {
public:
    // Runs `trunk` over every item of `data` in order (a DataLoader without
    // shuffling, `transform` applied to each input, batches collated by
    // options.collate or stacked), or loads the features from options.dir when
    // a file with the key exists and checks out. `trunk_params` are the tensors
    // whose values define the trunk (parameters and buffers).
    static FeatureCache build(const Trunk& trunk, const std::vector<Tensor>& trunk_params, const io::Dataset& data,
                              const FeatureCacheOptions& options, const io::SampleTransform& transform = {});
    // The same for a Module trunk: its state_dict() tensors define it, and it
    // runs in eval mode (its mode is restored afterwards, also on error).
    static FeatureCache build(nn::Module& trunk, const io::Dataset& data, const FeatureCacheOptions& options,
                              const io::SampleTransform& transform = {});

    const Tensor& features() const { return features_; }  // [N, ...] float32, item order ([K * N, ...]: K views)
    const Tensor& targets() const { return targets_; }    // [N] int64 (class ids) or as stacked
    int64_t size() const { return targets_.size(0); }     // N, the items
    int64_t views() const { return features_.size(0) / targets_.size(0); }  // K, or 1 without augmented copies
    const std::string& key() const { return key_; }        // 16 hex digits
    const std::string& path() const { return path_; }      // the file, or "" (memory only)
    bool loaded_from_disk() const { return loaded_; }
    double seconds() const { return seconds_; }            // time spent computing (0 when loaded)
    // Why an existing file with this key was not used (then it was rebuilt); "" otherwise.
    const std::string& disk_note() const { return disk_note_; }

    // True when `trunk_params` no longer hash to the trunk part of key(): the
    // trunk was trained or replaced, and callers should rebuild.
    bool stale(const std::vector<Tensor>& trunk_params) const;
    bool stale(const nn::Module& trunk) const;

    // Batches over the cached features for fit(). Without shuffle: in item
    // order. With shuffle: fit's epoch e (1-based) gets the order a DataLoader
    // {.batch_size, .shuffle = true, .seed = seed} gives its pass e - 1, so a run
    // on the cache sees exactly the batches an end-to-end run on that loader
    // sees. With K augmented copies, epoch e uses view (e - 1) mod K (an
    // evaluation pass, which fit() numbers like the epoch it follows, too). The
    // last batch may be short. The source shares the tensors (cheap
    // to copy) and stays valid after the cache object is gone.
    BatchSource batches(int64_t batch_size, bool shuffle, uint64_t seed) const;

private:
    FeatureCache() = default;
    Tensor features_, targets_;
    std::string key_, path_, disk_note_;
    uint64_t trunk_hash_ = 0;
    bool loaded_ = false;
    double seconds_ = 0;
};

// The file format tag written into each cache file's metadata.
inline constexpr const char* kFeatureCacheFormat = "graft.feature_cache/1";

}  // namespace graft::transfer
