// DataLoader: identical batches for 0/1/2/4 workers (bit-equal, with random
// per-item augmentation), drop_last, shuffle determinism per seed and epoch, an
// error in a worker rethrown on this thread naming the item's file, skip mode
// and its count, early destruction with workers still busy, and bounded
// prefetch.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "graft.h"
#include "io/datasets/tensor_dataset.h"
#include "io/loader/data_loader.h"

using namespace graft;
using namespace graft::io;
using Catch::Matchers::Contains;

namespace {

// Items i = 0..n-1: input [3] float32 (i, i+0.5, i+random), target int64 i % 3.
// The random part comes from the item's generator, as augmentation would.
// Items listed in `bad` throw; `delay_us` slows each get so workers overlap.
class Probe final : public Dataset {
public:
    explicit Probe(int64_t n, std::set<int64_t> bad = {}, int delay_us = 0)
        : n_(n), bad_(std::move(bad)), delay_us_(delay_us) {}
    int64_t size() const override { return n_; }
    std::string source(int64_t i) const override { return "dir/file_" + std::to_string(i) + ".png"; }
    int64_t label(int64_t i) const override { return i % 3; }
    mutable std::atomic<int> in_flight{0}, max_in_flight{0}, loads{0};

protected:
    Example load(int64_t i, Generator& gen) const override {
        const int now = ++in_flight;
        int seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {}
        ++loads;
        if (delay_us_) std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
        --in_flight;
        if (bad_.count(i)) throw Error(source(i) + ": not a PNG file");
        const float r = rand({1}, DType::Float32, &gen).item<float>();
        Tensor input = from_vector(std::vector<float>{float(i), float(i) + 0.5f, float(i) + r});
        return {input, scalar_tensor(i % 3, DType::Int64), source(i)};
    }

private:
    int64_t n_;
    std::set<int64_t> bad_;
    int delay_us_;
};

std::vector<Batch> all_batches(DataLoader& loader) {
    std::vector<Batch> out;
    for (const Batch& b : loader) out.push_back(b);
    return out;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
    const Tensor ca = a.contiguous(), cb = b.contiguous();
    return std::memcmp(ca.raw_data(), cb.raw_data(), size_t(a.numel()) * a.element_size()) == 0;
}

}  // namespace

TEST_CASE("DataLoader: the same batches in the same order for 0, 1, 2 and 4 workers", "[loader]") {
    auto ds = std::make_shared<Probe>(53);
    for (bool shuffle : {false, true}) {
        DataLoaderOptions opt{.batch_size = 4, .shuffle = shuffle, .seed = 11};
        DataLoader ref_loader(ds, opt);
        const auto ref0 = all_batches(ref_loader);  // epoch 0
        const auto ref1 = all_batches(ref_loader);  // epoch 1
        REQUIRE(ref0.size() == 14);
        CHECK(ref0.back().inputs.size(0) == 1);
        for (int workers : {1, 2, 4}) {
            opt.num_workers = workers;
            DataLoader loader(ds, opt);
            for (const auto* ref : {&ref0, &ref1}) {
                const auto got = all_batches(loader);
                REQUIRE(got.size() == ref->size());
                for (size_t b = 0; b < got.size(); ++b) {
                    CHECK(got[b].indices == (*ref)[b].indices);
                    CHECK(bit_equal(got[b].inputs, (*ref)[b].inputs));
                    CHECK(bit_equal(got[b].targets, (*ref)[b].targets));
                }
            }
        }
    }
}

TEST_CASE("DataLoader: batches stack inputs and class-id targets", "[loader]") {
    auto ds = std::make_shared<TensorDataset>(arange(0, 12, 1, DType::Float32).reshape({6, 2}),
                                              from_vector(std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
    DataLoader loader(ds, {.batch_size = 4});
    const auto batches = all_batches(loader);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].inputs.shape() == Shape{4, 2});
    CHECK(batches[0].targets.shape() == Shape{4});
    CHECK(batches[0].targets.dtype() == DType::Int64);
    CHECK(batches[0].targets.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 0});
    CHECK(batches[1].inputs.to_vector<float>() == std::vector<float>{8, 9, 10, 11});
    CHECK(batches[1].indices == std::vector<int64_t>{4, 5});
}

TEST_CASE("DataLoader: drop_last drops the short batch only", "[loader]") {
    auto ds = std::make_shared<Probe>(10);
    for (int workers : {0, 2}) {
        DataLoader keep(ds, {.batch_size = 4, .num_workers = workers});
        DataLoader drop(ds, {.batch_size = 4, .drop_last = true, .num_workers = workers});
        CHECK(keep.size() == 3);
        CHECK(drop.size() == 2);
        const auto kept = all_batches(keep), dropped = all_batches(drop);
        REQUIRE(kept.size() == 3);
        REQUIRE(dropped.size() == 2);
        CHECK(kept[2].indices == std::vector<int64_t>{8, 9});
        for (const Batch& b : dropped) CHECK(b.inputs.size(0) == 4);
    }
    DataLoader exact(std::make_shared<Probe>(8), {.batch_size = 4, .drop_last = true});
    CHECK(all_batches(exact).size() == 2);
    DataLoader too_small(std::make_shared<Probe>(3), {.batch_size = 4, .drop_last = true});
    CHECK(all_batches(too_small).empty());
}

TEST_CASE("DataLoader: shuffling is a permutation fixed by seed and epoch", "[loader]") {
    auto ds = std::make_shared<Probe>(100);
    DataLoader a(ds, {.batch_size = 10, .shuffle = true, .seed = 5});
    DataLoader b(ds, {.batch_size = 10, .shuffle = true, .seed = 5});
    DataLoader c(ds, {.batch_size = 10, .shuffle = true, .seed = 6});
    const auto e0 = a.order(0), e1 = a.order(1);
    CHECK(e0 == b.order(0));
    CHECK(e0 != e1);
    CHECK(e0 != c.order(0));
    std::vector<int64_t> sorted = e0;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 100; ++i) CHECK(sorted[size_t(i)] == i);

    // Passes walk the epochs 0, 1, ...; set_epoch goes back.
    std::vector<int64_t> seen;
    for (const Batch& batch : a) seen.insert(seen.end(), batch.indices.begin(), batch.indices.end());
    CHECK(seen == e0);
    CHECK(a.epoch() == 1);
    a.set_epoch(0);
    auto p = a.pass();
    CHECK(p.epoch() == 0);
    CHECK(p.next()->indices == std::vector<int64_t>(e0.begin(), e0.begin() + 10));

    // The item's generator depends on the epoch: augmentation differs per epoch.
    DataLoader plain(ds, {.batch_size = 100});
    const Tensor x0 = plain.pass().next()->inputs, x1 = plain.pass().next()->inputs;
    CHECK(!bit_equal(x0, x1));
    CHECK(bit_equal(x0.slice(1, 0, 2), x1.slice(1, 0, 2)));
}

TEST_CASE("DataLoader: a worker's error is rethrown here, naming the file", "[loader]") {
    auto ds = std::make_shared<Probe>(20, std::set<int64_t>{13});
    for (int workers : {0, 1, 3}) {
        DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
        auto pass = loader.pass();
        for (int b = 0; b < 3; ++b) CHECK(pass.next().has_value());  // batches before the bad one arrive
        try {
            (void)pass.next();
            FAIL("expected an error");
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Contains("DataLoader: item 13 (dir/file_13.png)"));
            CHECK_THAT(e.what(), Contains("not a PNG file"));
        }
        // Leaving a range-for through the exception joins the workers.
        DataLoader again(ds, {.batch_size = 4, .num_workers = workers});
        CHECK_THROWS_WITH([&] { for (const Batch& b : again) (void)b; }(), Contains("file_13.png"));
    }
}

TEST_CASE("DataLoader: skip_unreadable leaves bad items out and counts them", "[loader]") {
    auto ds = std::make_shared<Probe>(12, std::set<int64_t>{1, 4, 5, 6, 7, 11});
    for (int workers : {0, 2}) {
        DataLoader loader(ds, {.batch_size = 4, .num_workers = workers, .skip_unreadable = true});
        std::vector<std::vector<int64_t>> seen;
        for (const Batch& b : loader) {
            seen.push_back(b.indices);
            CHECK(b.inputs.size(0) == int64_t(b.indices.size()));
        }
        // Batch 1 (items 4..7) was all bad and is skipped altogether.
        CHECK(seen == std::vector<std::vector<int64_t>>{{0, 2, 3}, {8, 9, 10}});
        CHECK(loader.skipped() == 6);
        for (const Batch& b : loader) (void)b;
        CHECK(loader.skipped() == 12);  // counted over all passes
    }
}

TEST_CASE("DataLoader: early destruction with busy workers joins cleanly", "[loader]") {
    auto ds = std::make_shared<Probe>(400, std::set<int64_t>{}, 200);
    for (int workers : {1, 4}) {
        DataLoader loader(ds, {.batch_size = 2, .num_workers = workers});
        int taken = 0;
        for (const Batch& b : loader) {
            (void)b;
            if (++taken == 3) break;
        }
        CHECK(taken == 3);
        // A pass never consumed at all, and one abandoned mid-way.
        { auto unused = loader.pass(); }
        {
            auto p = loader.pass();
            (void)p.next();
        }
    }
    // Nothing leaked: each pass loaded far fewer than the 400 items.
    CHECK(ds->loads.load() < 400);
}

TEST_CASE("DataLoader: prefetch stays bounded", "[loader]") {
    auto ds = std::make_shared<Probe>(64);
    DataLoader loader(ds, {.batch_size = 1, .num_workers = 2, .prefetch = 2});
    auto pass = loader.pass();
    (void)pass.next();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // One batch consumed, and at most 2 workers x 2 batches claimed beyond it.
    CHECK(ds->loads.load() <= 1 + 4);
}

TEST_CASE("DataLoader: refuses bad options and unbatchable items", "[loader]") {
    auto ds = std::make_shared<Probe>(4);
    CHECK_THROWS_WITH(DataLoader(ds, {.batch_size = 0}), Contains("batch_size"));
    CHECK_THROWS_WITH(DataLoader(ds, {.num_workers = -1}), Contains("num_workers"));
    CHECK_THROWS_WITH(DataLoader(ds, {.prefetch = 0}), Contains("prefetch"));
    CHECK_THROWS_WITH(DataLoader(nullptr), Contains("null"));

    class Ragged final : public Dataset {
    public:
        int64_t size() const override { return 2; }
        std::string source(int64_t i) const override { return "img" + std::to_string(i) + ".jpg"; }

    protected:
        Example load(int64_t i, Generator&) const override {
            return {zeros({2 + i, 3}), scalar_tensor(0, DType::Int64), source(i)};
        }
    };
    DataLoader loader(std::make_shared<Ragged>(), {.batch_size = 2, .num_workers = 1});
    CHECK_THROWS_WITH(loader.pass().next(), Contains("img0.jpg") && Contains("img1.jpg") && Contains("[3, 3]"));
}

TEST_CASE("DataLoader: item_generator reproduces an item's draws outside the loader", "[loader]") {
    auto ds = std::make_shared<Probe>(10);
    DataLoader loader(ds, {.batch_size = 10, .shuffle = true, .seed = 3});
    loader.set_epoch(2);
    const Batch b = *loader.pass().next();
    for (int64_t row = 0; row < 10; ++row) {
        const int64_t index = b.indices[size_t(row)];
        Generator gen = item_generator(3, 2, index);
        CHECK(bit_equal(ds->get(index, gen).input, b.inputs.select(0, row)));
    }
}

TEST_CASE("DataLoader: a custom collate pads items of different lengths", "[loader]") {
    class Lengths final : public Dataset {
    public:
        int64_t size() const override { return 5; }

    protected:
        Example load(int64_t i, Generator&) const override {
            return {full({i + 1}, i, DType::Int64), scalar_tensor(i % 2, DType::Int64), source(i)};
        }
    };
    const Collate pad = [](const std::vector<Example>& examples, Batch& batch) {
        int64_t longest = 0;
        for (const Example& e : examples) longest = std::max(longest, e.input.size(0));
        batch.inputs = full({int64_t(examples.size()), longest}, -1, DType::Int64);
        std::vector<Tensor> targets;
        for (size_t r = 0; r < examples.size(); ++r) {
            batch.inputs.select(0, int64_t(r)).narrow(0, 0, examples[r].input.size(0)).copy_(examples[r].input);
            targets.push_back(examples[r].target);
        }
        batch.targets = stack(targets);
    };
    for (int workers : {0, 2}) {
        DataLoader loader(std::make_shared<Lengths>(), {.batch_size = 3, .num_workers = workers, .collate = pad});
        const auto batches = all_batches(loader);
        REQUIRE(batches.size() == 2);
        CHECK(batches[0].inputs.to_vector<int64_t>() == std::vector<int64_t>{0, -1, -1, 1, 1, -1, 2, 2, 2});
        CHECK(batches[1].inputs.shape() == Shape{2, 5});
        CHECK(batches[1].targets.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
        CHECK(batches[1].indices == std::vector<int64_t>{3, 4});
    }
}
