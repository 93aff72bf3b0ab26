// DataLoader: batches from a Dataset, in a seeded order, loaded by worker
// threads that prefetch a bounded number of batches ahead.
//
//   DataLoader loader(dataset, {.batch_size = 32, .shuffle = true, .seed = 7, .num_workers = 2});
//   for (int epoch = 0; epoch < 10; ++epoch)
//       for (const Batch& b : loader)        // each pass is the next epoch (0, 1, ...)
//           train_step(b.inputs, b.targets);
//
// Determinism: the batches - their items, order and contents - depend only on
// (dataset, options.seed, epoch), never on num_workers or thread timing:
//   - the order is the identity, or with shuffle a permutation drawn from a
//     Generator seeded by (seed, epoch);
//   - each item is loaded with its own Generator, item_generator(seed, epoch,
//     index): io/transforms' sample_generator(epoch_seed(seed, epoch), index),
//     the Philox stream of a per-epoch key at a per-item counter, so random
//     augmentation is the same whichever thread loads it;
//   - workers finish batches out of order; the loader hands them out in order.
//
// Threads: num_workers = 0 loads on the caller's thread when a batch is asked
// for. Otherwise each pass starts num_workers std::threads of its own; they
// claim whole batches and never run more than num_workers * prefetch batches
// ahead of the consumer (memory stays bounded). These are separate long-lived
// I/O threads on purpose, not core's parallel_for pool: that pool is for
// compute, and a decoder blocked on disk would hold a compute thread. Ops the
// workers call (stack, transforms) may still use the compute pool.
//
// Shutdown: leaving the loop early (break, exception) destroys the pass, which
// stops its workers after their current batch and joins them; nothing hangs.
//
// Errors: an exception while loading item i is rethrown on the caller's thread,
// when that batch's turn comes, as graft::Error "DataLoader: item i (<source>):
// <original message>", the source being the dataset's file name for the item.
// With skip_unreadable, items whose loading throws are left out of their batch
// instead and counted (skipped()); a batch left empty is skipped altogether.
//
// Batching: inputs and targets are stacked along a new first dimension, so
// every item of a batch must have the same shapes (the message names the
// sources of two disagreeing items). The last batch may be short unless
// drop_last is set. Items of varying shape (token ids of different lengths)
// need options.collate, which builds inputs and targets from the examples
// (padding them, say); it runs on the worker threads.
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "io/datasets/dataset.h"

namespace graft::io {

struct Batch;

// Fills batch.inputs and batch.targets from the batch's examples (in order).
using Collate = std::function<void(const std::vector<Example>& examples, Batch& batch)>;

struct DataLoaderOptions {
    int64_t batch_size = 1;
    bool shuffle = false;
    uint64_t seed = 0;
    bool drop_last = false;
    int num_workers = 0;
    int prefetch = 2;  // batches in flight per worker (>= 1)
    bool skip_unreadable = false;
    Collate collate = {};  // empty: stack inputs and targets
};

struct Batch {
    Tensor inputs;                 // [B, ...] stacked inputs
    Tensor targets;                // [B, ...] stacked targets ([B] int64 for class ids)
    std::vector<int64_t> indices;  // dataset index of each row
};

class EpochRun;  // one pass over the data: its order, workers and queue

class DataLoader {
public:
    DataLoader(DatasetPtr dataset, DataLoaderOptions options = {});

    // Number of batches in one pass (before any skipping).
    int64_t size() const;
    const DataLoaderOptions& options() const { return options_; }
    const DatasetPtr& dataset() const { return dataset_; }

    // The epoch the next pass uses; each pass advances it by one.
    void set_epoch(int64_t epoch) { epoch_ = epoch; }
    int64_t epoch() const { return epoch_; }
    // The item order of `epoch` (every item, before batching).
    std::vector<int64_t> order(int64_t epoch) const;
    // Items skipped as unreadable, over all passes so far (skip_unreadable only).
    int64_t skipped() const { return skipped_->load(); }

    // One pass, as a pull interface: next() returns batches until it returns
    // nothing. Destroying the Pass stops and joins its workers.
    class Pass {
    public:
        explicit Pass(std::shared_ptr<EpochRun> run);
        std::optional<Batch> next();
        int64_t epoch() const;

    private:
        std::shared_ptr<EpochRun> run_;
    };
    Pass pass();

    // Range-for support: begin() starts a pass; iterators share it.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = const Batch*;
        using reference = const Batch&;

        iterator() = default;
        const Batch& operator*() const { return *current_; }
        const Batch* operator->() const { return &*current_; }
        iterator& operator++();
        bool operator==(const iterator& other) const { return done() == other.done(); }
        bool operator!=(const iterator& other) const { return !(*this == other); }

    private:
        friend class DataLoader;
        explicit iterator(std::shared_ptr<Pass> pass);
        bool done() const { return !current_.has_value(); }
        std::shared_ptr<Pass> pass_;
        std::optional<Batch> current_;
    };
    iterator begin();
    iterator end() { return iterator(); }

private:
    DatasetPtr dataset_;
    DataLoaderOptions options_;
    int64_t epoch_ = 0;
    std::shared_ptr<std::atomic<int64_t>> skipped_ = std::make_shared<std::atomic<int64_t>>(0);
};

// The Philox key of `epoch` for a loader seeded with `seed` (a 64-bit mix of
// both), and the Generator the loader gives item `index` in that epoch: how to
// reproduce one item's augmentation outside the loader.
uint64_t epoch_seed(uint64_t seed, int64_t epoch);
Generator item_generator(uint64_t seed, int64_t epoch, int64_t index);

}  // namespace graft::io
