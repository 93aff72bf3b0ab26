// DataLoader: the epoch order, batch assembly, and the worker threads with
// their bounded, reordering hand-off. The contract is in data_loader.h.
#include "io/loader/data_loader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "core/ops/join.h"
#include "core/ops/random.h"
#include "io/transforms/transform.h"

namespace graft::io {

namespace {

// splitmix64's finaliser: a bijection with good avalanche, so nearby
// (seed, epoch, index) triples give unrelated generator seeds.
uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Seed of the generator that shuffles `epoch`: a key apart from the items' one.
uint64_t order_seed(uint64_t seed, int64_t epoch) { return mix64(epoch_seed(seed, epoch) ^ 0x5348554646ull); }

std::string source_of(const Dataset& dataset, int64_t index) {
    try {
        return dataset.source(index);
    } catch (...) {
        return cat_str("item ", index);
    }
}

}  // namespace

uint64_t epoch_seed(uint64_t seed, int64_t epoch) { return mix64(mix64(seed) ^ uint64_t(epoch)); }

Generator item_generator(uint64_t seed, int64_t epoch, int64_t index) {
    return transforms::sample_generator(epoch_seed(seed, epoch), uint64_t(index));
}

// ---- one pass ------------------------------------------------------------------

class EpochRun {
public:
    EpochRun(DatasetPtr dataset, const DataLoaderOptions& options, int64_t epoch,
             std::vector<std::vector<int64_t>> batches, std::shared_ptr<std::atomic<int64_t>> skipped)
        : dataset_(std::move(dataset)), options_(options), epoch_(epoch), batches_(std::move(batches)),
          skipped_(std::move(skipped)), window_(int64_t(options.num_workers) * options.prefetch) {
        for (int w = 0; w < options_.num_workers; ++w) workers_.emplace_back([this] { work(); });
    }

    ~EpochRun() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        claimable_.notify_all();
        for (std::thread& t : workers_) t.join();
    }

    EpochRun(const EpochRun&) = delete;
    EpochRun& operator=(const EpochRun&) = delete;

    int64_t epoch() const { return epoch_; }

    std::optional<Batch> next() {
        while (next_out_ < int64_t(batches_.size())) {
            Result r = workers_.empty() ? build(next_out_) : take(next_out_);
            ++next_out_;
            if (r.error) std::rethrow_exception(r.error);
            if (r.batch) return std::move(r.batch);
            // every item of that batch was skipped: go on to the next
        }
        return std::nullopt;
    }

private:
    struct Result {
        std::optional<Batch> batch;  // empty when every item was skipped
        std::exception_ptr error;
    };

    // Waits for batch b from the workers and lets them claim one more.
    Result take(int64_t b) {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_cv_.wait(lock, [&] { return ready_.count(b) != 0; });
        auto it = ready_.find(b);
        Result r = std::move(it->second);
        ready_.erase(it);
        consumed_ = b + 1;
        lock.unlock();
        claimable_.notify_all();
        return r;
    }

    void work() {
        const int64_t count = int64_t(batches_.size());
        for (;;) {
            int64_t b;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                claimable_.wait(lock, [&] { return stop_ || claimed_ >= count || claimed_ < consumed_ + window_; });
                if (stop_ || claimed_ >= count) return;
                b = claimed_++;
            }
            Result r = build(b);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ready_.emplace(b, std::move(r));
            }
            ready_cv_.notify_all();
        }
    }

    // Loads and stacks batch b; never throws (errors travel in the Result).
    Result build(int64_t b) const {
        Result r;
        try {
            r.batch = assemble(batches_[size_t(b)]);
        } catch (...) {
            r.error = std::current_exception();
        }
        return r;
    }

    std::optional<Batch> assemble(const std::vector<int64_t>& items) const {
        std::vector<Example> examples;
        Batch batch;
        for (int64_t index : items) {
            Generator gen = item_generator(options_.seed, epoch_, index);
            try {
                examples.push_back(dataset_->get(index, gen));
                batch.indices.push_back(index);
            } catch (const std::exception& e) {
                if (!options_.skip_unreadable)
                    throw Error(cat_str("DataLoader: item ", index, " (", source_of(*dataset_, index), "): ", e.what()));
                skipped_->fetch_add(1);
            } catch (...) {
                if (!options_.skip_unreadable)
                    throw Error(cat_str("DataLoader: item ", index, " (", source_of(*dataset_, index),
                                        "): an exception that is not a std::exception"));
                skipped_->fetch_add(1);
            }
        }
        if (examples.empty()) return std::nullopt;
        if (options_.collate) {
            options_.collate(examples, batch);
            return batch;
        }
        batch.inputs = collate(examples, batch.indices, &Example::input, "input");
        batch.targets = collate(examples, batch.indices, &Example::target, "target");
        return batch;
    }

    Tensor collate(const std::vector<Example>& examples, const std::vector<int64_t>& indices,
                   Tensor Example::*field, const char* what) const {
        std::vector<Tensor> parts;
        for (size_t i = 0; i < examples.size(); ++i) {
            const Tensor& t = examples[i].*field;
            check(t.defined() == (examples[0].*field).defined(), "DataLoader", "item ", indices[i], " (",
                  examples[i].source, ") has ", t.defined() ? "an" : "no", " ", what, " but item ", indices[0],
                  " (", examples[0].source, ") ", t.defined() ? "has none" : "has one");
            if (!t.defined()) continue;
            if (!parts.empty())
                check(t.shape() == parts[0].shape() && t.dtype() == parts[0].dtype(), "DataLoader",
                      "cannot batch ", what, "s of different shapes or dtypes: item ", indices[0], " (",
                      examples[0].source, ") is ", describe(parts[0]), ", item ", indices[i], " (",
                      examples[i].source, ") is ", describe(t));
            parts.push_back(t);
        }
        return parts.empty() ? Tensor() : stack(parts, 0);
    }

    const DatasetPtr dataset_;
    const DataLoaderOptions options_;
    const int64_t epoch_;
    const std::vector<std::vector<int64_t>> batches_;
    const std::shared_ptr<std::atomic<int64_t>> skipped_;
    const int64_t window_;  // batches claimed but not yet consumed, at most

    int64_t next_out_ = 0;  // consumer side only

    std::mutex mutex_;
    std::condition_variable claimable_;  // workers wait here for room or stop
    std::condition_variable ready_cv_;   // the consumer waits here for its batch
    int64_t claimed_ = 0;                // next batch a worker will take
    int64_t consumed_ = 0;               // batches handed to the consumer
    bool stop_ = false;
    std::map<int64_t, Result> ready_;    // finished, not yet consumed
    std::vector<std::thread> workers_;   // last member: started after the rest exists
};

// ---- DataLoader ---------------------------------------------------------------------

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
    check(dataset_ != nullptr, "DataLoader", "the dataset is null");
    check(options_.batch_size >= 1, "DataLoader", "batch_size must be at least 1, got ", options_.batch_size);
    check(options_.num_workers >= 0, "DataLoader", "num_workers must be >= 0, got ", options_.num_workers);
    check(options_.prefetch >= 1, "DataLoader", "prefetch must be at least 1, got ", options_.prefetch);
}

int64_t DataLoader::size() const {
    const int64_t n = dataset_->size();
    return options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
    const int64_t n = dataset_->size();
    if (!options_.shuffle) {
        std::vector<int64_t> identity(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) identity[size_t(i)] = i;
        return identity;
    }
    Generator gen{order_seed(options_.seed, epoch)};
    return randperm(n, &gen).to_vector<int64_t>();
}

DataLoader::Pass DataLoader::pass() {
    const int64_t epoch = epoch_++;
    const std::vector<int64_t> items = order(epoch);
    std::vector<std::vector<int64_t>> batches;
    const int64_t count = size();
    for (int64_t b = 0; b < count; ++b) {
        const auto first = items.begin() + b * options_.batch_size;
        const auto last = items.begin() + std::min<int64_t>(int64_t(items.size()), (b + 1) * options_.batch_size);
        batches.emplace_back(first, last);
    }
    return Pass(std::make_shared<EpochRun>(dataset_, options_, epoch, std::move(batches), skipped_));
}

DataLoader::Pass::Pass(std::shared_ptr<EpochRun> run) : run_(std::move(run)) {}
std::optional<Batch> DataLoader::Pass::next() { return run_->next(); }
int64_t DataLoader::Pass::epoch() const { return run_->epoch(); }

DataLoader::iterator::iterator(std::shared_ptr<Pass> pass) : pass_(std::move(pass)) { ++*this; }

DataLoader::iterator& DataLoader::iterator::operator++() {
    current_.reset();
    if (pass_) current_ = pass_->next();
    if (!current_) pass_.reset();  // the pass is over: stop and join its workers now
    return *this;
}

DataLoader::iterator DataLoader::begin() { return iterator(std::make_shared<Pass>(pass())); }

}  // namespace graft::io
