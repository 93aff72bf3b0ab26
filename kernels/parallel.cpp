#include "kernels/parallel.h"

#include "core/error.h"  // header-only leaf: the one exception type, usable from every room

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace graft {

namespace {

thread_local bool inside_region = false;

int default_thread_count() {
    if (const char* env = std::getenv("GRAFT_NUM_THREADS")) {
        const int n = std::atoi(env);
        if (n >= 1) return n;
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : int(hw);
}

// Workers sleep on a condition variable between jobs; a job is a shared
// function over chunk indices, handed out by an atomic-free counter under the
// mutex (jobs are coarse, so the lock is not the bottleneck). Before sleeping a
// worker watches for the next job a little (kSpinChecks checks, each yielding
// the core to any other runnable thread; well under a millisecond on an idle
// core): a training step runs ops back to back, and waking a sleeping worker
// costs about as much as a small GEMM's whole share. Yielding rather than busy-
// waiting keeps an oversubscribed machine (OpenMP's PASSIVE case) fair.
class ThreadPool {
public:
    explicit ThreadPool(int threads) { start(threads); }
    ~ThreadPool() { stop(); }

    int size() const { return int(workers_.size()) + 1; }

    void resize(int threads) {
        stop();
        start(threads);
    }

    // Runs task(i) for i in [0, chunks), the caller taking part.
    void run(int64_t chunks, const std::function<void(int64_t)>& task) {
        std::unique_lock<std::mutex> lock(run_mutex_);  // one job at a time
        {
            std::lock_guard<std::mutex> guard(mutex_);
            task_ = &task;
            next_chunk_ = 0;
            chunks_ = chunks;
            pending_ = chunks;
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        work_until_done();
        std::unique_lock<std::mutex> guard(mutex_);
        done_.wait(guard, [&] { return pending_ == 0; });
        task_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

private:
    void start(int threads) {
        quit_ = false;
        for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
    }

    void stop() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            quit_ = true;
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
    }

    void worker_loop() {
        uint64_t seen = 0;
        for (;;) {
            for (int i = 0; i < kSpinChecks && generation_.load(std::memory_order_acquire) == seen; ++i)
                std::this_thread::yield();
            {
                std::unique_lock<std::mutex> guard(mutex_);
                wake_.wait(guard, [&] { return quit_ || generation_ != seen; });
                if (quit_) return;
                seen = generation_;
            }
            work_until_done();
        }
    }

    void work_until_done() {
        inside_region = true;
        for (;;) {
            int64_t chunk;
            const std::function<void(int64_t)>* task;
            {
                std::lock_guard<std::mutex> guard(mutex_);
                if (!task_ || next_chunk_ >= chunks_) break;
                chunk = next_chunk_++;
                task = task_;
            }
            try {
                (*task)(chunk);
            } catch (...) {
                std::lock_guard<std::mutex> guard(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            std::lock_guard<std::mutex> guard(mutex_);
            if (--pending_ == 0) done_.notify_all();
        }
        inside_region = false;
    }

    std::vector<std::thread> workers_;
    std::mutex run_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(int64_t)>* task_ = nullptr;
    int64_t next_chunk_ = 0, chunks_ = 0, pending_ = 0;
    std::atomic<uint64_t> generation_{0};  // written under mutex_, also read without it while spinning
    static constexpr int kSpinChecks = 2000;
    bool quit_ = false;
    std::exception_ptr error_;
};

ThreadPool& pool() {
    static ThreadPool instance(default_thread_count());
    return instance;
}

}  // namespace

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t range = end - begin;
    if (range <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    const int threads = inside_region ? 1 : pool().size();
    if (threads == 1 || range < 2 * grain) {
        fn(begin, end);
        return;
    }
    const int64_t chunks = std::min<int64_t>(threads, range / grain);
    const int64_t per_chunk = (range + chunks - 1) / chunks;
    pool().run(chunks, [&](int64_t c) {
        const int64_t lo = begin + c * per_chunk, hi = std::min(end, lo + per_chunk);
        if (lo < hi) fn(lo, hi);
    });
}

void for_each_block(int64_t n, int64_t block, const std::function<void(int64_t, int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    const int64_t blocks = (n + block - 1) / block;
    parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b) fn(b, b * block, std::min(n, (b + 1) * block));
    });
}

int get_num_threads() { return pool().size(); }

void set_num_threads(int n) {
    check(n >= 1, "set_num_threads", "expected n >= 1, got ", n);
    check(!inside_region, "set_num_threads", "cannot resize the pool from inside a parallel region");
    if (n != pool().size()) pool().resize(n);
}

bool in_parallel_region() { return inside_region; }

}  // namespace graft
